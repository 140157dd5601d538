#include "tools/pki/pki_dir.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "tools/pki/pki.h"

namespace sluice::pki {
namespace {

namespace fs = std::filesystem;

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(Errc::kNotFound, path + ": " + std::strerror(errno), errno);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `content` to `path` with `mode` (never wider), refusing to replace an existing file
// unless `force`. Written to a temporary file first, so a crash leaves no half file.
Result<void> WriteFile(const std::string& path, const std::string& content, mode_t mode,
                       bool force) {
  if (!force && ::access(path.c_str(), F_OK) == 0) {
    return MakeError(Errc::kExists, path + " already exists (use --force to replace it)");
  }
  std::string tmp = path + ".tmp" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return MakeError(Errc::kIo, tmp + ": " + std::strerror(errno), errno);
  ::fchmod(fd, mode);
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return MakeError(Errc::kIo, tmp + ": " + std::strerror(e), e);
    }
    off += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return MakeError(Errc::kIo, path + ": " + std::strerror(e), e);
  }
  return {};
}

Result<void> MakeDir(const std::string& path, mode_t mode) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return MakeError(Errc::kIo, path + ": " + ec.message());
  ::chmod(path.c_str(), mode);
  return {};
}

std::string Now(const char* format) {
  std::time_t t = std::time(nullptr);
  struct tm tmv;
  gmtime_r(&t, &tmv);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tmv);
  return buf;
}

std::string RandomUuid() {
  std::random_device rd;
  std::uniform_int_distribution<int> d(0, 15);
  std::string out;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out += '-';
    int v = d(rd);
    if (i == 12) v = 4;            // version 4
    if (i == 16) v = 8 | (v & 3);  // variant 10xx
    out += "0123456789abcdef"[v];
  }
  return out;
}

// What `openssl ca -config ca.cnf` needs to use this CA directory (ovs-pki signs that way).
std::string CaConfig(const std::string& ca) {
  return fmt::format(
      "# {} certificate authority created by sluice-pki; usable with openssl ca.\n"
      "[ req ]\n"
      "prompt = no\n"
      "distinguished_name = req_distinguished_name\n"
      "\n"
      "[ req_distinguished_name ]\n"
      "C = US\n"
      "ST = CA\n"
      "O = Sluice\n"
      "OU = {}\n"
      "CN = Sluice {} CA Certificate\n"
      "\n"
      "[ ca ]\n"
      "default_ca = the_ca\n"
      "\n"
      "[ the_ca ]\n"
      "dir = .\n"
      "database = $dir/index.txt\n"
      "new_certs_dir = $dir/newcerts\n"
      "certificate = $dir/cacert.pem\n"
      "serial = $dir/serial\n"
      "private_key = $dir/private/cakey.pem\n"
      "default_days = 3650\n"
      "default_crl_days = 30\n"
      "default_md = sha512\n"
      "policy = policy\n"
      "email_in_dn = no\n"
      "copy_extensions = copy\n"
      "unique_subject = no\n"
      "\n"
      "[ policy ]\n"
      "countryName = optional\n"
      "stateOrProvinceName = optional\n"
      "organizationName = optional\n"
      "organizationalUnitName = optional\n"
      "commonName = supplied\n"
      "emailAddress = optional\n"
      "\n"
      "[ ca_cert ]\n"
      "basicConstraints = CA:true\n"
      "\n"
      "[ usr_cert ]\n"
      "basicConstraints = CA:false\n",
      ca, ca, ca);
}

// The CA database line `openssl ca` writes for an issued certificate.
Result<void> RecordIssued(const std::string& ca_dir, const std::string& cert_pem) {
  auto info = Inspect(cert_pem);
  if (!info) return std::unexpected(info.error());
  std::ofstream idx(ca_dir + "/index.txt", std::ios::app);
  idx << "V\t" << info->not_after << "\t\t" << info->serial_hex << "\tunknown\t" << info->subject
      << "\n";
  if (!idx) return MakeError(Errc::kIo, ca_dir + "/index.txt: cannot append");
  return WriteFile(ca_dir + "/newcerts/" + info->serial_hex + ".pem", cert_pem, 0644, true);
}

}  // namespace

void PkiDir::Log(const std::string& line) const {
  if (opts_.log_file.empty()) return;
  std::ofstream(opts_.log_file, std::ios::app) << Now("%Y-%m-%dT%H:%M:%SZ") << " " << line << "\n";
}

Result<std::string> PkiDir::CaDir(const std::string& type) const {
  if (type != "switch" && type != "controller") {
    return MakeError(Errc::kInvalid,
                     "type argument must be \"switch\" or \"controller\", not \"" + type + "\"");
  }
  std::string dir = opts_.dir + "/" + type + "ca";
  if (::access((dir + "/cacert.pem").c_str(), R_OK) != 0) {
    return MakeError(Errc::kNotFound,
                     dir + "/cacert.pem: no such CA (run \"sluice-pki init\" first)");
  }
  return dir;
}

Result<uint64_t> PkiDir::NextSerial(const std::string& ca_dir) {
  auto text = ReadFile(ca_dir + "/serial");
  if (!text) return std::unexpected(text.error());
  uint64_t serial = std::strtoull(text->c_str(), nullptr, 16);
  if (serial == 0) return MakeError(Errc::kInvalid, ca_dir + "/serial: bad serial number");
  std::string next = fmt::format("{:02X}", serial + 1);
  if (next.size() % 2) next = "0" + next;
  if (auto w = WriteFile(ca_dir + "/serial", next + "\n", 0644, true); !w) {
    return std::unexpected(w.error());
  }
  return serial;
}

Result<std::string> PkiDir::InitCa(const std::string& ca) {
  std::string dir = opts_.dir + "/" + ca;
  if (!opts_.force && ::access((dir + "/cacert.pem").c_str(), F_OK) == 0) {
    return MakeError(Errc::kExists, dir + " already exists (use --force to replace it)");
  }
  for (const char* sub : {"", "/certs", "/crl", "/newcerts"}) {
    if (auto r = MakeDir(dir + sub, 0755); !r) return std::unexpected(r.error());
  }
  if (auto r = MakeDir(dir + "/private", 0700); !r) return std::unexpected(r.error());
  auto key = GenerateKey(opts_.bits);
  if (!key) return std::unexpected(key.error());
  Subject s;
  s.unit = ca;
  s.common_name = "Sluice " + ca + " CA Certificate (" + Now("%Y %b %d %H:%M:%S") + ")";
  auto req = MakeRequest(*key, s);
  if (!req) return std::unexpected(req.error());
  auto cert = pki::SelfSign(*req, *key, 1, true);
  if (!cert) return std::unexpected(cert.error());
  struct Out {
    const char* file;
    const std::string* content;
    mode_t mode;
  };
  for (const Out& o : {Out{"/private/cakey.pem", &*key, 0600}, Out{"/careq.pem", &*req, 0644},
                       Out{"/cacert.pem", &*cert, 0644}}) {
    if (auto r = WriteFile(dir + o.file, *o.content, o.mode, true); !r) {
      return std::unexpected(r.error());
    }
  }
  std::string cnf = CaConfig(ca);
  for (auto [file, content] : {std::pair{"/ca.cnf", cnf}, std::pair{"/serial", std::string("02\n")},
                               std::pair{"/index.txt", std::string()},
                               std::pair{"/index.txt.attr", std::string("unique_subject = no\n")},
                               std::pair{"/crlnumber", std::string("01\n")}}) {
    if (auto r = WriteFile(dir + file, content, 0644, true); !r) return std::unexpected(r.error());
  }
  if (auto r = RecordIssued(dir, *cert); !r) return std::unexpected(r.error());
  Log("init " + dir);
  return dir + "/cacert.pem\n";
}

Result<std::string> PkiDir::Init() {
  if (auto r = MakeDir(opts_.dir, 0755); !r) return std::unexpected(r.error());
  std::string out;
  for (const char* ca : {"controllerca", "switchca"}) {
    auto r = InitCa(ca);
    if (!r) return r;
    out += "Created " + *r;
  }
  return out;
}

Result<std::string> PkiDir::FingerprintText(const std::string& file) {
  auto content = ReadFile(file);
  if (!content) return std::unexpected(content.error());
  struct stat st;
  std::string date;
  if (::stat(file.c_str(), &st) == 0) {
    struct tm tmv;
    gmtime_r(&st.st_mtime, &tmv);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a %b %e %H:%M:%S UTC %Y", &tmv);
    date = buf;
  }
  return file + "\t" + date + "\n\tfingerprint " + Fingerprint(*content) + "\n";
}

Result<std::string> PkiDir::Req(const std::string& name) {
  std::string key_file = name + "-privkey.pem", req_file = name + "-req.pem";
  if (!opts_.force) {
    for (const auto& f : {key_file, req_file}) {
      if (::access(f.c_str(), F_OK) == 0) {
        return MakeError(Errc::kExists, f + " already exists (use --force to replace it)");
      }
    }
  }
  auto key = GenerateKey(opts_.bits);
  if (!key) return std::unexpected(key.error());
  Subject s;
  s.unit = "Sluice certifier";
  s.common_name = opts_.unique ? name : name + " id:" + RandomUuid();
  auto req = MakeRequest(*key, s, {name});
  if (!req) return std::unexpected(req.error());
  if (auto r = WriteFile(key_file, *key, 0600, opts_.force); !r) return std::unexpected(r.error());
  if (auto r = WriteFile(req_file, *req, 0644, opts_.force); !r) return std::unexpected(r.error());
  Log("req " + name);
  return FingerprintText(req_file);
}

Result<std::string> PkiDir::Sign(const std::string& name, const std::string& type) {
  auto ca_dir = CaDir(type);
  if (!ca_dir) return std::unexpected(ca_dir.error());
  std::string req_file = name + "-req.pem", cert_file = name + "-cert.pem";
  auto req = ReadFile(req_file);
  if (!req) return std::unexpected(req.error());
  auto fp = FingerprintText(req_file);
  if (!fp) return fp;
  if (opts_.confirm && !opts_.confirm(*fp)) {
    return MakeError(Errc::kInvalid, "fingerprint not confirmed: " + req_file + " not signed");
  }
  if (!opts_.force && ::access(cert_file.c_str(), F_OK) == 0) {
    return MakeError(Errc::kExists, cert_file + " already exists (use --force to replace it)");
  }
  auto ca_cert = ReadFile(*ca_dir + "/cacert.pem");
  auto ca_key = ReadFile(*ca_dir + "/private/cakey.pem");
  if (!ca_cert) return std::unexpected(ca_cert.error());
  if (!ca_key) return std::unexpected(ca_key.error());
  auto serial = NextSerial(*ca_dir);
  if (!serial) return std::unexpected(serial.error());
  auto cert = SignRequest(*req, *ca_cert, *ca_key, *serial, false);
  if (!cert) return std::unexpected(cert.error());
  if (auto r = WriteFile(cert_file, *cert, 0644, true); !r) return std::unexpected(r.error());
  if (auto r = RecordIssued(*ca_dir, *cert); !r) return std::unexpected(r.error());
  Log("sign " + name + " " + type);
  return *fp;
}

Result<std::string> PkiDir::ReqSign(const std::string& name, const std::string& type) {
  if (auto ca = CaDir(type); !ca) return std::unexpected(ca.error());
  auto fp = Req(name);
  if (!fp) return fp;
  PkiDir signer(opts_);
  signer.opts_.confirm = nullptr;  // we made the request ourselves
  auto r = signer.Sign(name, type);
  if (!r) return r;
  return *fp;
}

Result<std::string> PkiDir::Verify(const std::string& name, const std::string& type) {
  auto ca_dir = CaDir(type);
  if (!ca_dir) return std::unexpected(ca_dir.error());
  std::string cert_file = name + "-cert.pem";
  auto cert = ReadFile(cert_file);
  if (!cert) return std::unexpected(cert.error());
  auto ca = ReadFile(*ca_dir + "/cacert.pem");
  if (!ca) return std::unexpected(ca.error());
  if (auto r = pki::Verify(*cert, *ca); !r) {
    return MakeError(Errc::kInvalid, cert_file + ": " + r.error().message);
  }
  return cert_file + ": OK\n";
}

Result<std::string> PkiDir::SelfSign(const std::string& name) {
  std::string req_file = name + "-req.pem", key_file = name + "-privkey.pem",
              cert_file = name + "-cert.pem";
  auto req = ReadFile(req_file);
  if (!req) return std::unexpected(req.error());
  auto key = ReadFile(key_file);
  if (!key) return std::unexpected(key.error());
  if (!opts_.force && ::access(cert_file.c_str(), F_OK) == 0) {
    return MakeError(Errc::kExists, cert_file + " already exists (use --force to replace it)");
  }
  // CA:TRUE, so that a peer can trust it directly as its CA file.
  auto cert = pki::SelfSign(*req, *key, 1, true);
  if (!cert) return std::unexpected(cert.error());
  if (auto r = WriteFile(cert_file, *cert, 0644, true); !r) return std::unexpected(r.error());
  Log("self-sign " + name);
  return FingerprintText(cert_file);
}

}  // namespace sluice::pki
