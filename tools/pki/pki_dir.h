// sluice-pki's public key infrastructure on disk, in the layout Open vSwitch's ovs-pki uses so
// that operators, scripts and either tool can work on the same files:
//   DIR/controllerca/ and DIR/switchca/, each with cacert.pem, private/cakey.pem (0600 in a 0700
//   directory), serial, index.txt (as `openssl ca` keeps them), newcerts/SERIAL.pem, certs/,
//   crl/ and a ca.cnf with which `openssl ca` (and so ovs-pki sign) can use the CA;
//   NAME-privkey.pem, NAME-req.pem and NAME-cert.pem in the current directory.
// The controller CA signs controller certificates, the switch CA switch certificates.
#pragma once

#include <functional>
#include <string>

#include "sluice/result.h"

namespace sluice::pki {

struct PkiOptions {
  std::string dir = "/var/lib/sluice/pki";
  int bits = 2048;
  bool force = false;    // overwrite existing files
  bool unique = false;   // the common name is NAME, not "NAME id:UUID"
  std::string log_file;  // operations are appended here ("" = no log)
  // Asked to confirm a request's fingerprint before signing (sign without --batch); null: yes.
  std::function<bool(const std::string& fingerprint_text)> confirm;
};

class PkiDir {
 public:
  explicit PkiDir(PkiOptions opts) : opts_(std::move(opts)) {}

  // Creates both certificate authorities.
  Result<std::string> Init();
  // NAME-privkey.pem and NAME-req.pem; returns the request's fingerprint text.
  Result<std::string> Req(const std::string& name);
  // NAME-cert.pem from NAME-req.pem, signed by TYPE's CA ("switch" or "controller").
  Result<std::string> Sign(const std::string& name, const std::string& type);
  Result<std::string> ReqSign(const std::string& name, const std::string& type);
  // "NAME-cert.pem: OK" when NAME-cert.pem is valid for TYPE's CA.
  Result<std::string> Verify(const std::string& name, const std::string& type);
  // NAME-cert.pem signed with NAME-privkey.pem itself.
  Result<std::string> SelfSign(const std::string& name);
  // "FILE\tDATE\n\tfingerprint HEX\n" for any file.
  static Result<std::string> FingerprintText(const std::string& file);

 private:
  Result<std::string> CaDir(const std::string& type) const;
  Result<std::string> InitCa(const std::string& ca);
  Result<uint64_t> NextSerial(const std::string& ca_dir);
  void Log(const std::string& line) const;

  PkiOptions opts_;
};

}  // namespace sluice::pki
