// sluice-pki: the public key infrastructure for Sluice's TLS connections, with the commands,
// options and directory layout of Open vSwitch's ovs-pki (see pki_dir.h):
//   sluice-pki [OPTIONS] init | req NAME | sign NAME [TYPE] | req+sign NAME [TYPE] |
//              verify NAME [TYPE] | fingerprint FILE | self-sign NAME
// TYPE is "switch" (the default) or "controller".
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "tools/pki/pki_dir.h"

namespace {

using namespace sluice;
using namespace sluice::pki;

[[noreturn]] void Fatal(const std::string& msg) {
  std::cerr << "sluice-pki: " << msg << "\n";
  std::exit(1);
}

void Usage() {
  std::cout
      << "sluice-pki, for managing the public key infrastructure of Sluice's SSL connections\n"
         "usage: sluice-pki [OPTIONS] COMMAND [ARG...]\n"
         "The valid commands are:\n"
         "  init                 Initialize the PKI hierarchy (controller and switch CAs)\n"
         "  req NAME             Create new private key and certificate request\n"
         "                       named NAME-privkey.pem, NAME-req.pem\n"
         "  sign NAME [TYPE]     Sign switch certificate request NAME-req.pem,\n"
         "                       producing certificate NAME-cert.pem\n"
         "  req+sign NAME [TYPE] Combine the above two steps, producing all three files\n"
         "  verify NAME [TYPE]   Checks that NAME-cert.pem is a valid TYPE certificate\n"
         "  fingerprint FILE     Prints the fingerprint for FILE\n"
         "  self-sign NAME       Sign NAME-req.pem with NAME-privkey.pem,\n"
         "                       producing self-signed certificate NAME-cert.pem\n"
         "Each TYPE above is a certificate type: 'switch' (default) or 'controller'.\n"
         "\nOptions:\n"
         "  -k, --key=rsa        Type of keys to use (only rsa)\n"
         "  -B, --bits=NBITS     Number of bits in each key (default 2048, at least 1024)\n"
         "  -b, --batch          Skip fingerprint verification\n"
         "  -d, --dir=DIR        Directory where the PKI is located\n"
         "                       (default: /var/lib/sluice/pki)\n"
         "  -f, --force          Continue even if file or directory already exists\n"
         "  -l, --log=FILE       Log the operations to FILE\n"
         "  -u, --unique         NAME is unique (don't append UUID/date)\n"
         "  -h, --help           Print this usage message\n"
         "  -V, --version        Display version information\n";
}

}  // namespace

int main(int argc, char** argv) {
  PkiOptions opts;
  bool batch = false;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    // --opt=V, --opt V, -xV, -x V
    auto value = [&](const std::string& lng, char shrt, std::string* out) {
      if (a == lng || (shrt && a == std::string("-") + shrt)) {
        if (i + 1 >= argc) Fatal("option '" + a + "' requires an argument");
        *out = argv[++i];
        return true;
      }
      if (a.starts_with(lng + "=")) {
        *out = a.substr(lng.size() + 1);
        return true;
      }
      if (shrt && a.size() > 2 && a[0] == '-' && a[1] == shrt) {
        *out = a.substr(2);
        return true;
      }
      return false;
    };
    std::string v;
    if (a == "--") {
      for (++i; i < argc; ++i) args.push_back(argv[i]);
    } else if (a.empty() || a[0] != '-' || a == "-") {
      args.push_back(a);
    } else if (value("--dir", 'd', &v)) {
      opts.dir = v;
    } else if (value("--bits", 'B', &v)) {
      opts.bits = std::atoi(v.c_str());
      if (opts.bits < 1024) Fatal("--bits must be at least 1024");
    } else if (value("--key", 'k', &v)) {
      if (v != "rsa") Fatal("--key: only rsa keys are supported (not \"" + v + "\")");
    } else if (value("--log", 'l', &v)) {
      opts.log_file = v;
    } else if (value("--dsaparam", 'D', &v)) {
      Fatal("--dsaparam: DSA keys are not supported");
    } else if (a == "-b" || a == "--batch") {
      batch = true;
    } else if (a == "-f" || a == "--force") {
      opts.force = true;
    } else if (a == "-u" || a == "--unique") {
      opts.unique = true;
    } else if (a == "-h" || a == "--help") {
      Usage();
      return 0;
    } else if (a == "-V" || a == "--version") {
      std::cout << "sluice-pki (Sluice) " << SLUICE_VERSION << "\n";
      return 0;
    } else {
      Fatal("unrecognized option '" + a + "' (use --help for help)");
    }
  }
  if (args.empty()) Fatal("missing command name (use --help for help)");
  if (!batch) {
    opts.confirm = [](const std::string& fp) {
      std::cout << fp << "Does fingerprint match? (yes/no) " << std::flush;
      std::string answer;
      std::getline(std::cin, answer);
      return answer == "yes";
    };
  }
  const std::string& cmd = args[0];
  auto arg = [&](size_t n, const char* what) -> std::string {
    if (args.size() <= n) Fatal(cmd + " requires " + what);
    return args[n];
  };
  auto type = [&] { return args.size() > 2 ? args[2] : std::string("switch"); };
  size_t max_args = cmd == "init"                                                  ? 1
                    : (cmd == "req" || cmd == "fingerprint" || cmd == "self-sign") ? 2
                                                                                   : 3;
  if (args.size() > max_args) Fatal("too many arguments for " + cmd);
  PkiDir pki(opts);
  Result<std::string> out =
      MakeError(Errc::kInvalid, "unknown command \"" + cmd + "\" (use --help for help)");
  if (cmd == "init") {
    out = pki.Init();
  } else if (cmd == "req") {
    out = pki.Req(arg(1, "NAME"));
  } else if (cmd == "sign") {
    out = pki.Sign(arg(1, "NAME"), type());
    if (out && batch) std::cout << *out;
    if (out) out = std::string();
  } else if (cmd == "req+sign") {
    out = pki.ReqSign(arg(1, "NAME"), type());
  } else if (cmd == "verify") {
    out = pki.Verify(arg(1, "NAME"), type());
  } else if (cmd == "fingerprint") {
    out = PkiDir::FingerprintText(arg(1, "FILE"));
  } else if (cmd == "self-sign") {
    out = pki.SelfSign(arg(1, "NAME"));
  }
  if (!out) Fatal(out.error().message);
  std::cout << *out;
  return 0;
}
