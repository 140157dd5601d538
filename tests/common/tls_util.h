// Certificates for TLS tests, made with sluice-pki's library in a private directory: two CAs
// (A and B), leaf certificates signed by each, an expired one and a not-yet-valid one signed by
// A. Keys are 2048-bit RSA; a TestPki is made once per test binary (it takes a moment).
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/stream/tls_config.h"
#include "tools/pki/pki.h"

namespace sluice::test {

class TestPki {
 public:
  // Files of one identity: key, certificate, and the CA file that verifies its peers.
  struct Id {
    std::string key, cert, ca;
    TlsOptions Options() const {
      TlsOptions o;
      o.private_key = key;
      o.certificate = cert;
      o.ca_cert = ca;
      return o;
    }
  };

  static const TestPki& Get() {
    static TestPki pki;
    return pki;
  }

  std::string dir;
  std::string ca_a, ca_b;  // CA certificates
  Id server, client;       // signed by A, trusting A
  Id other;                // signed by B, trusting A
  Id expired;              // signed by A, expired a day ago
  Id server2;              // another certificate signed by A (rotation)
  std::string ca_a_key;

  static void Write(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
  }
  static std::string Check(Result<std::string> r) {
    if (!r) {
      std::fprintf(stderr, "test PKI: %s\n", r.error().message.c_str());
      std::abort();
    }
    return *r;
  }

 private:
  ~TestPki() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  TestPki() {
    dir = "/tmp/sluice-test-pki-" + std::to_string(getpid());
    std::filesystem::create_directories(dir);
    auto make_ca = [&](const std::string& name, std::string* key_out) {
      std::string key = Check(pki::GenerateKey(2048));
      pki::Subject s;
      s.common_name = "test CA " + name;
      std::string cert = Check(pki::SelfSign(Check(pki::MakeRequest(key, s)), key, 1, true));
      Write(dir + "/ca-" + name + ".pem", cert);
      if (key_out) *key_out = key;
      return cert;
    };
    std::string key_a, key_b;
    std::string cert_a = make_ca("a", &key_a), cert_b = make_ca("b", &key_b);
    ca_a = dir + "/ca-a.pem";
    ca_b = dir + "/ca-b.pem";
    ca_a_key = key_a;
    uint64_t serial = 2;
    auto leaf = [&](const std::string& name, const std::string& ca_cert, const std::string& ca_key,
                    pki::Validity v = {}) {
      std::string key = Check(pki::GenerateKey(2048));
      pki::Subject s;
      s.common_name = name;
      std::string cert = Check(
          pki::SignRequest(Check(pki::MakeRequest(key, s)), ca_cert, ca_key, serial++, false, v));
      Id id{dir + "/" + name + "-privkey.pem", dir + "/" + name + "-cert.pem", ca_a};
      Write(id.key, key);
      Write(id.cert, cert);
      return id;
    };
    server = leaf("server", cert_a, key_a);
    client = leaf("client", cert_a, key_a);
    server2 = leaf("server2", cert_a, key_a);
    other = leaf("other", cert_b, key_b);
    expired = leaf("expired", cert_a, key_a, pki::Validity{-10 * 86400, 9});
  }
};

}  // namespace sluice::test
