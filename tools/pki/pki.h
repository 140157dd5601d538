// The certificate operations of sluice-pki (and of the TLS tests): RSA keys, certificate
// requests, signing by a CA, self-signing, verification and fingerprints, with OpenSSL's
// libcrypto. Everything is PEM text in and out; the files and directory layout are pki_dir.h's.
//
// Certificates are X.509 v3: CA certificates carry basicConstraints CA:TRUE, others CA:FALSE;
// all carry subject and authority key identifiers; a request's subjectAltName is copied into the
// certificate. Signatures use SHA-512, as Open vSwitch's ovs-pki does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sluice/result.h"

namespace sluice::pki {

struct Subject {
  std::string country = "US";
  std::string state = "CA";
  std::string locality;
  std::string organization = "Sluice";
  std::string unit;
  std::string common_name;
};

// A new RSA private key (PKCS#8 PEM, unencrypted).
Result<std::string> GenerateKey(int bits = 2048);

// A certificate request for `key_pem` with `subject` and, if not empty, subjectAltName DNS names.
Result<std::string> MakeRequest(const std::string& key_pem, const Subject& subject,
                                const std::vector<std::string>& dns_names = {});

struct Validity {
  int64_t not_before_offset_s = 0;  // relative to now (negative: in the past)
  int64_t days = 3650;              // from not_before
};

// Signs `req_pem` with the CA's certificate and key: serial `serial`, CA:TRUE if `ca`.
Result<std::string> SignRequest(const std::string& req_pem, const std::string& ca_cert_pem,
                                const std::string& ca_key_pem, uint64_t serial, bool ca,
                                Validity validity = {});
// Signs `req_pem` with its own key (`key_pem`): a self-signed certificate.
Result<std::string> SelfSign(const std::string& req_pem, const std::string& key_pem,
                             uint64_t serial, bool ca, Validity validity = {});

// Checks `cert_pem` against the CA certificate(s) in `ca_pem` (chain, validity, purpose).
Result<void> Verify(const std::string& cert_pem, const std::string& ca_pem);

// A certificate's SHA-1 fingerprint of its DER form, upper-case hex without separators; for any
// other content, the SHA-1 of the bytes, lower-case (as ovs-pki prints them).
std::string Fingerprint(const std::string& file_content);

// Fields of a certificate, for listings and the CA's index.
struct CertInfo {
  std::string subject;  // "/C=US/ST=CA/O=Sluice/CN=..." (OpenSSL's one-line form)
  std::string issuer;
  std::string serial_hex;  // upper-case, an even number of digits
  std::string not_after;   // "YYMMDDHHMMSSZ" (UTCTime), or "YYYYMMDDHHMMSSZ" past 2049
  bool ca = false;
};
Result<CertInfo> Inspect(const std::string& cert_pem);

}  // namespace sluice::pki
