#!/usr/bin/env bash
# sluice-pki's operations against Debian's ovs-pki: init makes the same directory layout; req
# and sign as separate steps, req+sign, verify and fingerprint agree with ovs-pki's; self-sign
# makes a certificate openssl verifies against itself; each tool signs and verifies requests and
# certificates of the other's PKI.
BIN=$(cd "$1" && pwd)
source "$(dirname "$0")/lib.bash"
sl_require ovs-pki openvswitch-common
sl_require openssl openssl
SP() { "$BIN/sluice-pki" -l "$SL_TMP/pki.log" "$@"; }
OP() { ovs-pki -l "$SL_TMP/pki.log" "$@"; }
cd "$SL_TMP"
SP -d sp init >/dev/null 2>&1 || fail "sluice-pki init"
OP -d op init >/dev/null 2>&1 || fail "ovs-pki init"
# The files ovs-pki and openssl ca use, in the same places.
for f in ca.cnf cacert.pem careq.pem crlnumber index.txt index.txt.attr newcerts/01.pem \
  private/cakey.pem serial; do
  for t in switchca controllerca; do
    [ -f "sp/$t/$f" ] || fail "sluice-pki init made no $t/$f"
    [ -f "op/$t/$f" ] || fail "ovs-pki init made no $t/$f (the reference changed?)"
  done
done

# req, then sign, as two steps; verify by both tools; the same fingerprint.
SP -d sp req a >/dev/null 2>&1 || fail "sluice-pki req"
[ -f a-privkey.pem ] && [ -f a-req.pem ] || fail "req made no key or request"
SP -d sp -b sign a controller >/dev/null 2>&1 || fail "sluice-pki sign"
SP -d sp verify a controller | grep -q "a-cert.pem: OK" || fail "sluice-pki verify"
OP -d sp verify a controller | grep -q "a-cert.pem: OK" || fail "ovs-pki verify of sluice-pki's"
if SP -d sp verify a switch 2>/dev/null | grep -q ": OK"; then fail "a controller cert verified as switch"; fi
fp() { "$@" | sed -n 's/.*fingerprint //p'; }
[ -n "$(fp SP fingerprint a-cert.pem)" ] || fail "no fingerprint"
[ "$(fp SP fingerprint a-cert.pem)" = "$(fp ovs-pki fingerprint a-cert.pem)" ] ||
  fail "fingerprints differ: $(SP fingerprint a-cert.pem) / $(ovs-pki fingerprint a-cert.pem)"
want=$(openssl x509 -in a-cert.pem -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
[ "$(fp SP fingerprint a-cert.pem)" = "$want" ] || fail "fingerprint is not the certificate's SHA-1"

# self-sign
SP -d sp req s >/dev/null 2>&1 || fail "req s"
SP -d sp self-sign s >/dev/null 2>&1 || fail "sluice-pki self-sign"
openssl verify -CAfile s-cert.pem s-cert.pem | grep -q OK || fail "self-signed certificate"
[ "$(openssl x509 -in s-cert.pem -noout -subject | sed 's/^subject=//')" = \
  "$(openssl x509 -in s-cert.pem -noout -issuer | sed 's/^issuer=//')" ] || fail "not self-signed"

# Across tools: sluice-pki signs ovs-pki's request with ovs-pki's CA, and the other way round.
OP req o >/dev/null 2>&1 || fail "ovs-pki req"
SP -d op -b sign o switch >/dev/null 2>&1 || fail "sluice-pki sign in ovs-pki's PKI"
OP -d op verify o switch | grep -q "o-cert.pem: OK" || fail "ovs-pki verify of sluice-pki's signature"
SP req p >/dev/null 2>&1 || fail "sluice-pki req (no PKI needed)"
OP -d sp -b sign p switch >/dev/null 2>&1 || fail "ovs-pki sign in sluice-pki's PKI"
SP -d sp verify p switch | grep -q "p-cert.pem: OK" || fail "sluice-pki verify of ovs-pki's signature"
# req+sign
SP -d sp -b req+sign r switch >/dev/null 2>&1 || fail "sluice-pki req+sign"
OP -d sp verify r switch | grep -q "r-cert.pem: OK" || fail "ovs-pki verify of req+sign"
sl_log "sluice-pki init/req/sign/req+sign/verify/fingerprint/self-sign agree with ovs-pki"
echo PASS
