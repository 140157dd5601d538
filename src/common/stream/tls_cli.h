// Open vSwitch's SSL options for the daemons' CLI11 command lines (sluice-switchd,
// sluice-ovsdb-server): -p/--private-key, -c/--certificate, -C/--ca-cert, --bootstrap-ca-cert,
// --peer-ca-cert, --ssl-protocols, --ssl-ciphers, --ssl-ciphersuites. The tools with their own
// parsers use ParseTlsArg (tls_config.h).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "common/stream/tls_config.h"

namespace sluice {

struct TlsCli {
  TlsOptions opts;
  std::string bootstrap_ca;
  // The options as given; --bootstrap-ca-cert wins over -C.
  TlsOptions Options() const {
    TlsOptions o = opts;
    if (!bootstrap_ca.empty()) {
      o.ca_cert = bootstrap_ca;
      o.bootstrap_ca_cert = true;
    }
    return o;
  }
};

inline void AddTlsOptions(CLI::App& app, TlsCli* t) {
  app.add_option("-p,--private-key", t->opts.private_key, "PEM file with the private key (SSL)");
  app.add_option("-c,--certificate", t->opts.certificate, "PEM file with its certificate (SSL)");
  app.add_option("-C,--ca-cert", t->opts.ca_cert,
                 "PEM file with the CA certificate peers must be signed by (none: no check)");
  app.add_option("--bootstrap-ca-cert", t->bootstrap_ca,
                 "CA certificate file; taken from the first peer if it does not exist");
  app.add_option("--peer-ca-cert", t->opts.peer_ca_cert, "Certificate(s) sent to peers (our CA)");
  app.add_option("--ssl-protocols", t->opts.protocols,
                 "SSL/TLS protocols (default TLSv1.2,TLSv1.3)");
  app.add_option("--ssl-ciphers", t->opts.ciphers, "TLS 1.2 ciphers (default HIGH:!aNULL:!MD5)");
  app.add_option("--ssl-ciphersuites", t->opts.ciphersuites, "TLS 1.3 cipher suites");
}

}  // namespace sluice
