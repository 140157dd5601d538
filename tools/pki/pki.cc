#include "tools/pki/pki.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "common/stream/tls_config.h"

namespace sluice::pki {
namespace {

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Req = std::unique_ptr<X509_REQ, Deleter<X509_REQ, X509_REQ_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
void FreeExts(STACK_OF(X509_EXTENSION) * s) { sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free); }
using Exts = std::unique_ptr<STACK_OF(X509_EXTENSION), Deleter<STACK_OF(X509_EXTENSION), FreeExts>>;

std::unexpected<Error> Fail(const std::string& what) {
  std::string ssl = TakeOpenSslErrors();
  return MakeError(Errc::kInvalid, ssl.empty() ? what : what + ": " + ssl);
}

Bio MemIn(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

std::string MemOut(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<Key> ReadKey(const std::string& pem) {
  Bio b = MemIn(pem);
  Key k(PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr));
  if (!k) return Fail("not a PEM private key");
  return k;
}

Result<Cert> ReadCert(const std::string& pem) {
  Bio b = MemIn(pem);
  Cert c(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
  if (!c) return Fail("not a PEM certificate");
  return c;
}

Result<Req> ReadReq(const std::string& pem) {
  Bio b = MemIn(pem);
  Req r(PEM_read_bio_X509_REQ(b.get(), nullptr, nullptr, nullptr));
  if (!r) return Fail("not a PEM certificate request");
  return r;
}

bool AddExt(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);
  if (!ext) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

std::string NameLine(const X509_NAME* n) {
  char buf[1024] = "";
  X509_NAME_oneline(n, buf, sizeof buf);
  return buf;
}

// Builds and signs a certificate for `req` issued by `issuer` (null: self-issued) with `key`.
Result<std::string> Issue(X509_REQ* req, X509* issuer, EVP_PKEY* key, uint64_t serial, bool ca,
                          Validity v) {
  Key pub(X509_REQ_get_pubkey(req));
  if (!pub) return Fail("certificate request without a public key");
  if (X509_REQ_verify(req, pub.get()) != 1) return Fail("certificate request signature is bad");
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), serial);
  X509_set_subject_name(cert.get(), X509_REQ_get_subject_name(req));
  X509_set_issuer_name(cert.get(),
                       issuer ? X509_get_subject_name(issuer) : X509_REQ_get_subject_name(req));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(v.not_before_offset_s));
  X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                  static_cast<long>(v.not_before_offset_s + v.days * 86400));
  X509_set_pubkey(cert.get(), pub.get());
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  if (!AddExt(cert.get(), &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE") ||
      !AddExt(cert.get(), &ctx, NID_subject_key_identifier, "hash") ||
      !AddExt(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always")) {
    return Fail("cannot add certificate extensions");
  }
  if (ca &&
      !AddExt(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature")) {
    return Fail("cannot add key usage");
  }
  // The request's subjectAltName goes into the certificate.
  if (STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req)) {
    Exts holder(exts);
    for (int i = 0; i < sk_X509_EXTENSION_num(exts); ++i) {
      X509_EXTENSION* e = sk_X509_EXTENSION_value(exts, i);
      if (OBJ_obj2nid(X509_EXTENSION_get_object(e)) == NID_subject_alt_name) {
        X509_add_ext(cert.get(), e, -1);
      }
    }
  }
  if (X509_sign(cert.get(), key, EVP_sha512()) <= 0) return Fail("signing failed");
  Bio out(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(out.get(), cert.get());
  return MemOut(out.get());
}

}  // namespace

Result<std::string> GenerateKey(int bits) {
  if (bits < 1024) return MakeError(Errc::kInvalid, "key length must be at least 1024 bits");
  Key k(EVP_RSA_gen(static_cast<unsigned>(bits)));
  if (!k) return Fail("RSA key generation failed");
  Bio out(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(out.get(), k.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Fail("cannot write private key");
  }
  return MemOut(out.get());
}

Result<std::string> MakeRequest(const std::string& key_pem, const Subject& s,
                                const std::vector<std::string>& dns_names) {
  auto key = ReadKey(key_pem);
  if (!key) return std::unexpected(key.error());
  if (s.common_name.empty()) return MakeError(Errc::kInvalid, "a common name is required");
  Req req(X509_REQ_new());
  X509_REQ_set_version(req.get(), 0);
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  auto add = [&](const char* field, const std::string& v) {
    if (v.empty()) return true;
    return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(v.c_str()), -1, -1,
                                      0) == 1;
  };
  if (!add("C", s.country) || !add("ST", s.state) || !add("L", s.locality) ||
      !add("O", s.organization) || !add("OU", s.unit) || !add("CN", s.common_name)) {
    return Fail("bad subject");
  }
  X509_REQ_set_pubkey(req.get(), key->get());
  if (!dns_names.empty()) {
    std::string san;
    for (const auto& d : dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + d;
    Exts exts(sk_X509_EXTENSION_new_null());
    X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str());
    if (!e) return Fail("bad subjectAltName");
    sk_X509_EXTENSION_push(exts.get(), e);
    X509_REQ_add_extensions(req.get(), exts.get());
  }
  if (X509_REQ_sign(req.get(), key->get(), EVP_sha256()) <= 0)
    return Fail("signing the request failed");
  Bio out(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(out.get(), req.get());
  return MemOut(out.get());
}

Result<std::string> SignRequest(const std::string& req_pem, const std::string& ca_cert_pem,
                                const std::string& ca_key_pem, uint64_t serial, bool ca,
                                Validity validity) {
  auto req = ReadReq(req_pem);
  if (!req) return std::unexpected(req.error());
  auto ca_cert = ReadCert(ca_cert_pem);
  if (!ca_cert) return std::unexpected(ca_cert.error());
  auto ca_key = ReadKey(ca_key_pem);
  if (!ca_key) return std::unexpected(ca_key.error());
  if (X509_check_private_key(ca_cert->get(), ca_key->get()) != 1) {
    return Fail("the CA key does not match the CA certificate");
  }
  return Issue(req->get(), ca_cert->get(), ca_key->get(), serial, ca, validity);
}

Result<std::string> SelfSign(const std::string& req_pem, const std::string& key_pem,
                             uint64_t serial, bool ca, Validity validity) {
  auto req = ReadReq(req_pem);
  if (!req) return std::unexpected(req.error());
  auto key = ReadKey(key_pem);
  if (!key) return std::unexpected(key.error());
  if (X509_REQ_check_private_key(req->get(), key->get()) != 1) {
    return Fail("the private key does not belong to the request");
  }
  return Issue(req->get(), nullptr, key->get(), serial, ca, validity);
}

Result<void> Verify(const std::string& cert_pem, const std::string& ca_pem) {
  auto cert = ReadCert(cert_pem);
  if (!cert) return std::unexpected(cert.error());
  std::unique_ptr<X509_STORE, Deleter<X509_STORE, X509_STORE_free>> store(X509_STORE_new());
  Bio b = MemIn(ca_pem);
  int n = 0;
  while (X509* ca = PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store.get(), ca);
    X509_free(ca);
    ++n;
  }
  ERR_clear_error();
  if (n == 0) return MakeError(Errc::kInvalid, "no CA certificate");
  std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>> ctx(
      X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), cert->get(), nullptr);
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return MakeError(Errc::kInvalid, X509_verify_cert_error_string(err));
  }
  return {};
}

std::string Fingerprint(const std::string& content) {
  Bio b = MemIn(content);
  Cert cert(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  static const char* kUpper = "0123456789ABCDEF";
  static const char* kLower = "0123456789abcdef";
  const char* digits = kLower;
  if (cert) {
    X509_digest(cert.get(), EVP_sha1(), md, &len);
    digits = kUpper;
  } else {
    EVP_Digest(content.data(), content.size(), md, &len, EVP_sha1(), nullptr);
  }
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += digits[md[i] >> 4];
    out += digits[md[i] & 15];
  }
  return out;
}

Result<CertInfo> Inspect(const std::string& cert_pem) {
  auto cert = ReadCert(cert_pem);
  if (!cert) return std::unexpected(cert.error());
  CertInfo info;
  info.subject = NameLine(X509_get_subject_name(cert->get()));
  info.issuer = NameLine(X509_get_issuer_name(cert->get()));
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(cert->get()), nullptr);
  char* hex = BN_bn2hex(bn);
  info.serial_hex = hex;
  OPENSSL_free(hex);
  BN_free(bn);
  if (info.serial_hex.size() % 2) info.serial_hex = "0" + info.serial_hex;
  const ASN1_TIME* t = X509_get0_notAfter(cert->get());
  info.not_after.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(t)),
                        static_cast<size_t>(ASN1_STRING_length(t)));
  info.ca = X509_check_ca(cert->get()) != 0;
  return info;
}

}  // namespace sluice::pki
