// TLS configuration shared by every ssl:/pssl: connection of a process: private key,
// certificate, CA certificate(s), bootstrap, protocols and ciphers, as Open vSwitch's
// -p/-c/-C/--bootstrap-ca-cert/--peer-ca-cert/--ssl-protocols/--ssl-ciphers options and its SSL
// table set them. A TlsConfig builds an OpenSSL context on demand and rebuilds it whenever the
// options or any of the files change on disk (checked at every new connection), so a rotated
// key or certificate is picked up without a restart; connections already up keep the context
// they were made with. TLS 1.2 and 1.3 only unless protocols say otherwise; both sides verify
// the peer's certificate against the CA (mutual authentication) unless the CA is "none".
//
// Bootstrap: with bootstrap_ca_cert and no CA file yet, the first peer is accepted without
// verification, the self-signed CA certificate at the end of the chain it sent is saved as the
// CA file, and that connection is dropped; from the next connection on, peers are verified
// against it (as Open vSwitch does).
//
// A TlsConfig may be used from several threads at once (switchd's control thread makes
// controller connections while the embedded database server, on its own thread, accepts and
// dials managers with the same configuration): its methods lock.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sluice/result.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct x509_st X509;

namespace sluice {

struct TlsOptions {
  std::string private_key;  // PEM file: our private key
  std::string certificate;  // PEM file: our certificate (optionally followed by its chain)
  std::string ca_cert;      // PEM file: the CA certificate(s) peers must be signed by; "none":
                            // peers are not verified
  bool bootstrap_ca_cert = false;  // ca_cert missing: take it from the first peer
  std::string peer_ca_cert;        // PEM file: extra certificates sent to peers (our CA)
  std::string protocols;           // "TLSv1.2,TLSv1.3" (default), "TLSv1.2+", ...
  std::string ciphers;             // TLS <= 1.2, OpenSSL cipher list (default "HIGH:!aNULL:!MD5")
  std::string ciphersuites;        // TLS 1.3 cipher suites (default: OpenSSL's)
  bool operator==(const TlsOptions&) const = default;
};

inline constexpr const char* kDefaultTlsProtocols = "TLSv1.2,TLSv1.3";
inline constexpr const char* kDefaultTlsCiphers = "HIGH:!aNULL:!MD5";

// One built OpenSSL context. Shared (and kept alive) by the connections made with it.
class TlsContext {
 public:
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* get() const { return ctx_; }
  // No CA file yet and bootstrap_ca_cert: peers are accepted unverified and the first one's CA
  // certificate is saved to ca_file().
  bool bootstrapping() const { return bootstrapping_; }
  bool verifies_peer() const { return verify_; }
  const std::string& ca_file() const { return ca_file_; }

 private:
  friend class TlsConfig;
  TlsContext() = default;
  SSL_CTX* ctx_ = nullptr;
  bool bootstrapping_ = false;
  bool verify_ = true;
  std::string ca_file_;
};

class TlsConfig {
 public:
  TlsConfig() = default;
  explicit TlsConfig(TlsOptions opts) : opts_(std::move(opts)) {}

  // New options take effect for the next connection.
  void Set(TlsOptions opts);
  TlsOptions options() const;
  // Private key, certificate and CA (or bootstrap) are all named; the reason if not, in
  // Open vSwitch's words ("Private key must be configured to use SSL").
  Result<void> CheckComplete() const;
  // The context for a new connection, rebuilt if the options or files changed since the last
  // call. When files changed but do not load (a key rotated before its certificate, say), the
  // previous context stays in use and the problem is logged once.
  Result<std::shared_ptr<TlsContext>> Context();

 private:
  struct Stamp {
    bool exists = false;
    ino_t ino = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const Stamp&) const = default;
  };
  // These three with mu_ held.
  Result<void> CheckCompleteLocked() const;
  std::vector<Stamp> Stamps() const;
  Result<std::shared_ptr<TlsContext>> Build() const;

  mutable std::mutex mu_;
  TlsOptions opts_;
  std::shared_ptr<TlsContext> ctx_;
  TlsOptions built_opts_;
  std::vector<Stamp> built_stamps_;
  std::string last_warning_;
};

// The configuration used by ssl:/pssl: connections that are not given another one: a tool's or
// daemon's command-line options, switchd's SSL table.
std::shared_ptr<TlsConfig> DefaultTlsConfig();

// The protocol versions `spec` enables ("TLSv1,TLSv1.1,TLSv1.2,TLSv1.3", comma- or
// space-separated, or "TLSv1.2+" for a version and the ones above it) as OpenSSL version
// numbers (TLS1_2_VERSION ...). Empty: TLS 1.2 and 1.3.
Result<std::set<int>> ParseTlsProtocols(const std::string& spec);

// Open vSwitch's SSL command-line options, for the tools and daemons: -p/--private-key,
// -c/--certificate, -C/--ca-cert, --bootstrap-ca-cert, --peer-ca-cert, --ssl-protocols,
// --ssl-ciphers, --ssl-ciphersuites, as "--opt=VALUE", "--opt VALUE", "-pVALUE" or "-p VALUE".
// If args[*i] is one, stores it in `out`, advances *i past its value and returns true.
Result<bool> ParseTlsArg(const std::vector<std::string>& args, size_t* i, TlsOptions* out);
// The usage text of those options.
std::string TlsUsage();

// After a bootstrapping handshake on `ssl`: saves the peer's self-signed CA certificate (the
// last of the chain it sent) as `ca_file` (refusing to overwrite one). The message says what
// happened, for the log.
Result<std::string> SaveBootstrapCa(SSL* ssl, const std::string& ca_file);

// OpenSSL's pending error queue as text ("error:0A000086:SSL routines::certificate verify
// failed"), cleared; empty when there is none.
std::string TakeOpenSslErrors();

}  // namespace sluice
