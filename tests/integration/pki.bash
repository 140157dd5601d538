# Certificates for the TLS integration tests, made with Debian's ovs-pki (the reference tool) or
# with sluice-pki, in the same layout: PKIDIR/switchca and PKIDIR/controllerca, identities as
# CERTDIR/NAME-privkey.pem and CERTDIR/NAME-cert.pem.
# Usage (after lib.bash): pki_init TOOL PKIDIR; pki_id TOOL PKIDIR NAME switch|controller;
#                         pki_expired PKIDIR NAME TYPE (an ovs-pki request signed for 2020 only)
PKI_CERTS=$SL_TMP/certs
mkdir -p "$PKI_CERTS"

# The ovs-pki-compatible tool: "ovs" (Debian's ovs-pki) or "sluice" ($BIN/sluice-pki).
pki_tool() { if [ "$1" = ovs ]; then echo ovs-pki; else echo "$BIN/sluice-pki"; fi; }

pki_init() {
  local tool; tool=$(pki_tool "$1")
  (cd "$PKI_CERTS" && $tool -d "$2" -l "$SL_TMP/pki.log" init) >/dev/null 2>&1 ||
    fail "$1 pki init $2"
}

pki_id() {
  local tool; tool=$(pki_tool "$1")
  (cd "$PKI_CERTS" && $tool -d "$2" -l "$SL_TMP/pki.log" -b --force req+sign "$3" "$4") \
    >/dev/null 2>&1 || fail "$1 pki req+sign $3 $4"
}

# A certificate of TYPE's CA valid only in January 2020 (openssl ca with the CA's own ca.cnf).
pki_expired() {
  (cd "$PKI_CERTS" && ovs-pki -d "$1" -l "$SL_TMP/pki.log" --force req "$2") >/dev/null 2>&1 ||
    fail "req $2"
  (cd "$1/${3}ca" && openssl ca -config ca.cnf -batch -startdate 20200101000000Z \
    -enddate 20200201000000Z -in "$PKI_CERTS/$2-req.pem" -out "$PKI_CERTS/$2-cert.pem") \
    >/dev/null 2>&1 || fail "expired certificate $2"
}

# Options naming an identity and the CA its peers are checked against.
pki_opts() { echo "--private-key=$PKI_CERTS/$1-privkey.pem --certificate=$PKI_CERTS/$1-cert.pem --ca-cert=$2"; }

# The subject of the certificate a TLS server at HOST:PORT presents (client identity $2, CA $3).
pki_server_subject() {
  openssl s_client -connect "$1" -cert "$PKI_CERTS/$2-cert.pem" -key "$PKI_CERTS/$2-privkey.pem" \
    -CAfile "$3" </dev/null 2>/dev/null | sed -n 's/^subject=//p'
}
