#include "common/stream/tls_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "sluice/log.h"

namespace sluice {
namespace {

auto Log() {
  static auto l = log::Get("stream_ssl");
  return l;
}

// Accepts any peer certificate while bootstrapping (its CA is taken from the chain afterwards).
int AcceptAnyPeer(int, X509_STORE_CTX*) { return 1; }

std::string FileError(const std::string& what, const std::string& path) {
  std::string err = TakeOpenSslErrors();
  return what + " " + path + (err.empty() ? "" : ": " + err);
}

const std::map<std::string, int>& ProtocolNames() {
  static const std::map<std::string, int> names = {{"TLSv1", TLS1_VERSION},
                                                   {"TLSv1.1", TLS1_1_VERSION},
                                                   {"TLSv1.2", TLS1_2_VERSION},
                                                   {"TLSv1.3", TLS1_3_VERSION}};
  return names;
}

}  // namespace

std::string TakeOpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(e);
    std::string text;
    if (reason) {
      text = reason;
    } else {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof buf);
      text = buf;
    }
    if (out.find(text) != std::string::npos) continue;  // the same reason from several layers
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out;
}

TlsContext::~TlsContext() {
  if (ctx_) SSL_CTX_free(ctx_);
}

std::shared_ptr<TlsConfig> DefaultTlsConfig() {
  static std::shared_ptr<TlsConfig> config = std::make_shared<TlsConfig>();
  return config;
}

void TlsConfig::Set(TlsOptions opts) {
  std::lock_guard lock(mu_);
  if (opts == opts_) return;
  opts_ = std::move(opts);
  last_warning_.clear();
}

TlsOptions TlsConfig::options() const {
  std::lock_guard lock(mu_);
  return opts_;
}

Result<void> TlsConfig::CheckComplete() const {
  std::lock_guard lock(mu_);
  return CheckCompleteLocked();
}

Result<void> TlsConfig::CheckCompleteLocked() const {
  if (opts_.private_key.empty()) {
    return MakeError(Errc::kInvalid, "Private key must be configured to use SSL");
  }
  if (opts_.certificate.empty()) {
    return MakeError(Errc::kInvalid, "Certificate must be configured to use SSL");
  }
  if (opts_.ca_cert.empty()) {
    return MakeError(Errc::kInvalid, "CA certificate must be configured to use SSL");
  }
  return {};
}

std::vector<TlsConfig::Stamp> TlsConfig::Stamps() const {
  std::vector<Stamp> out;
  for (const std::string* f :
       {&opts_.private_key, &opts_.certificate, &opts_.ca_cert, &opts_.peer_ca_cert}) {
    Stamp s;
    struct stat st;
    if (!f->empty() && *f != "none" && ::stat(f->c_str(), &st) == 0) {
      s.exists = true;
      s.ino = st.st_ino;
      s.size = st.st_size;
      s.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
    }
    out.push_back(s);
  }
  return out;
}

Result<std::shared_ptr<TlsContext>> TlsConfig::Context() {
  std::lock_guard lock(mu_);
  std::vector<Stamp> stamps = Stamps();
  if (ctx_ && built_opts_ == opts_ && built_stamps_ == stamps) return ctx_;
  if (auto ok = CheckCompleteLocked(); !ok) return std::unexpected(ok.error());
  auto built = Build();
  if (!built) {
    if (ctx_ && built_opts_ == opts_) {
      // Files changed under the same options but do not load (yet): keep what works.
      if (built.error().message != last_warning_) {
        last_warning_ = built.error().message;
        Log()->warn("{} (keeping the previous key and certificates)", last_warning_);
      }
      return ctx_;
    }
    return std::unexpected(built.error());
  }
  if (ctx_) Log()->info("SSL configuration reloaded (key, certificate or CA changed)");
  last_warning_.clear();
  ctx_ = std::move(*built);
  built_opts_ = opts_;
  built_stamps_ = std::move(stamps);
  return ctx_;
}

Result<std::set<int>> ParseTlsProtocols(const std::string& spec) {
  std::set<int> out;
  std::string s = spec.empty() ? kDefaultTlsProtocols : spec;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = s.find_first_of(", ", pos);
    if (end == std::string::npos) end = s.size();
    std::string tok = s.substr(pos, end - pos);
    pos = end + 1;
    if (tok.empty()) continue;
    bool and_above = tok.ends_with('+');
    if (and_above) tok.pop_back();
    auto it = ProtocolNames().find(tok);
    if (it == ProtocolNames().end()) {
      return MakeError(Errc::kInvalid, "unknown SSL protocol \"" + tok +
                                           "\" (expected TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)");
    }
    for (const auto& [name, v] : ProtocolNames()) {
      if (v == it->second || (and_above && v > it->second)) out.insert(v);
    }
  }
  if (out.empty()) return MakeError(Errc::kInvalid, "no SSL protocol enabled in \"" + spec + "\"");
  return out;
}

Result<std::shared_ptr<TlsContext>> TlsConfig::Build() const {
  ERR_clear_error();
  std::shared_ptr<TlsContext> c(new TlsContext());
  c->ctx_ = SSL_CTX_new(TLS_method());
  if (!c->ctx_) return MakeError(Errc::kIo, "SSL_CTX_new: " + TakeOpenSslErrors());
  SSL_CTX* ctx = c->ctx_;
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION |
                               SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Writes may return part of a buffer (the writer keeps the rest); idle connections give their
  // read and write buffers back, which matters with thousands of them. Only the chain that is
  // configured (the certificate file's, --peer-ca-cert) is sent, never one OpenSSL would build
  // from our own CA file: whether a peer can bootstrap is the operator's choice.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS | SSL_MODE_NO_AUTO_CHAIN);
  static const unsigned char kSessionContext[] = "sluice";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);

  auto protocols = ParseTlsProtocols(opts_.protocols);
  if (!protocols) return std::unexpected(protocols.error());
  int lo = *protocols->begin(), hi = *protocols->rbegin();
  SSL_CTX_set_min_proto_version(ctx, lo);
  SSL_CTX_set_max_proto_version(ctx, hi);
  // A gap in the list ("TLSv1,TLSv1.2") switches the versions in between off one by one.
  const std::pair<int, uint64_t> kNo[] = {{TLS1_VERSION, SSL_OP_NO_TLSv1},
                                          {TLS1_1_VERSION, SSL_OP_NO_TLSv1_1},
                                          {TLS1_2_VERSION, SSL_OP_NO_TLSv1_2},
                                          {TLS1_3_VERSION, SSL_OP_NO_TLSv1_3}};
  for (const auto& [v, op] : kNo) {
    if (v > lo && v < hi && !protocols->count(v)) SSL_CTX_set_options(ctx, op);
  }
  std::string ciphers = opts_.ciphers.empty() ? kDefaultTlsCiphers : opts_.ciphers;
  if (SSL_CTX_set_cipher_list(ctx, ciphers.c_str()) != 1) {
    return MakeError(Errc::kInvalid,
                     "SSL ciphers \"" + ciphers + "\" not usable: " + TakeOpenSslErrors());
  }
  if (!opts_.ciphersuites.empty() &&
      SSL_CTX_set_ciphersuites(ctx, opts_.ciphersuites.c_str()) != 1) {
    return MakeError(Errc::kInvalid, "SSL ciphersuites \"" + opts_.ciphersuites +
                                         "\" not usable: " + TakeOpenSslErrors());
  }

  if (SSL_CTX_use_certificate_chain_file(ctx, opts_.certificate.c_str()) != 1) {
    return MakeError(Errc::kInvalid, FileError("could not load certificate", opts_.certificate));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, opts_.private_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return MakeError(Errc::kInvalid, FileError("could not load private key", opts_.private_key));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return MakeError(Errc::kInvalid, "private key " + opts_.private_key +
                                         " does not match certificate " + opts_.certificate);
  }
  if (!opts_.peer_ca_cert.empty()) {
    // Sent with our certificate so that a peer without our CA can bootstrap it.
    FILE* f = std::fopen(opts_.peer_ca_cert.c_str(), "r");
    if (!f) {
      return MakeError(Errc::kInvalid, "could not open peer CA certificate " + opts_.peer_ca_cert +
                                           ": " + std::strerror(errno));
    }
    int n = 0;
    while (X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr)) {
      SSL_CTX_add1_chain_cert(ctx, x);
      X509_free(x);
      ++n;
    }
    std::fclose(f);
    ERR_clear_error();  // the end-of-file "no start line"
    if (n == 0) {
      return MakeError(Errc::kInvalid, "no certificate in peer CA file " + opts_.peer_ca_cert);
    }
  }

  c->ca_file_ = opts_.ca_cert;
  if (opts_.ca_cert == "none") {
    c->verify_ = false;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  } else if (opts_.bootstrap_ca_cert && ::access(opts_.ca_cert.c_str(), F_OK) != 0) {
    c->bootstrapping_ = true;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, AcceptAnyPeer);
  } else {
    if (SSL_CTX_load_verify_locations(ctx, opts_.ca_cert.c_str(), nullptr) != 1) {
      return MakeError(Errc::kInvalid, FileError("could not load CA certificate", opts_.ca_cert));
    }
    // Tell clients which CAs we accept; a failure here only loses that hint.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(opts_.ca_cert.c_str())) {
      SSL_CTX_set_client_CA_list(ctx, names);
    }
    ERR_clear_error();
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return c;
}

Result<std::string> SaveBootstrapCa(SSL* ssl, const std::string& ca_file) {
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
  X509* ca = nullptr;
  if (chain && sk_X509_num(chain) > 0) ca = sk_X509_value(chain, sk_X509_num(chain) - 1);
  if (!ca || X509_check_issued(ca, ca) != X509_V_OK || X509_check_ca(ca) == 0) {
    return MakeError(Errc::kProtocol,
                     "cannot bootstrap the CA certificate: the peer did not send a self-signed CA "
                     "certificate at the end of its chain (the peer needs --peer-ca-cert)");
  }
  // Written to a temporary file and linked into place: never overwrites an existing CA file and
  // never leaves a half-written one.
  std::string tmp = ca_file + ".tmp" + std::to_string(::getpid());
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) return MakeError(Errc::kIo, "cannot create " + tmp + ": " + std::strerror(errno), errno);
  bool ok = PEM_write_X509(f, ca) == 1;
  ok = (std::fflush(f) == 0) && ok;
  ok = (::fsync(::fileno(f)) == 0) && ok;
  std::fclose(f);
  if (!ok) {
    ::unlink(tmp.c_str());
    return MakeError(Errc::kIo, "cannot write " + tmp);
  }
  int rc = ::link(tmp.c_str(), ca_file.c_str());
  int err = errno;
  ::unlink(tmp.c_str());
  if (rc != 0) {
    return MakeError(
        Errc::kIo,
        "cannot save bootstrapped CA certificate as " + ca_file + ": " + std::strerror(err), err);
  }
  char subject[256] = "";
  X509_NAME_oneline(X509_get_subject_name(ca), subject, sizeof subject);
  return "successfully bootstrapped CA certificate " + std::string(subject) + " into " + ca_file;
}

Result<bool> ParseTlsArg(const std::vector<std::string>& args, size_t* i, TlsOptions* out) {
  const std::string& a = args[*i];
  struct Opt {
    const char* long_name;
    char short_name;
    std::string TlsOptions::*field;
  };
  static const Opt kOpts[] = {{"--private-key", 'p', &TlsOptions::private_key},
                              {"--certificate", 'c', &TlsOptions::certificate},
                              {"--ca-cert", 'C', &TlsOptions::ca_cert},
                              {"--bootstrap-ca-cert", 0, &TlsOptions::ca_cert},
                              {"--peer-ca-cert", 0, &TlsOptions::peer_ca_cert},
                              {"--ssl-protocols", 0, &TlsOptions::protocols},
                              {"--ssl-ciphers", 0, &TlsOptions::ciphers},
                              {"--ssl-ciphersuites", 0, &TlsOptions::ciphersuites}};
  for (const Opt& o : kOpts) {
    std::string value;
    std::string name = o.long_name;
    bool matched = false;
    if (a == name || (o.short_name && a == std::string("-") + o.short_name)) {
      if (*i + 1 >= args.size())
        return MakeError(Errc::kInvalid, "option '" + a + "' requires an argument");
      value = args[++*i];
      matched = true;
    } else if (a.starts_with(name + "=")) {
      value = a.substr(name.size() + 1);
      matched = true;
    } else if (o.short_name && a.size() > 2 && a[0] == '-' && a[1] == o.short_name) {
      value = a.substr(2);
      matched = true;
    }
    if (!matched) continue;
    out->*o.field = value;
    if (name == "--bootstrap-ca-cert") out->bootstrap_ca_cert = true;
    if (name == "--ca-cert") out->bootstrap_ca_cert = false;
    return true;
  }
  return false;
}

std::string TlsUsage() {
  return "PKI configuration (required to use SSL):\n"
         "  -p, --private-key=FILE  file with private key\n"
         "  -c, --certificate=FILE  file with certificate for private key\n"
         "  -C, --ca-cert=FILE      file with peer CA certificate (\"none\": do not verify)\n"
         "  --bootstrap-ca-cert=FILE  file with peer CA certificate to read or create\n"
         "  --peer-ca-cert=FILE     CA certificate(s) to send to the peer\n"
         "  --ssl-protocols=PROTOS  SSL/TLS protocols to enable (default TLSv1.2,TLSv1.3)\n"
         "  --ssl-ciphers=CIPHERS   TLS 1.2 ciphers (default HIGH:!aNULL:!MD5)\n"
         "  --ssl-ciphersuites=SUITES  TLS 1.3 cipher suites\n";
}

}  // namespace sluice
