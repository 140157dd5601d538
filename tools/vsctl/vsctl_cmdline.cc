// sluice-vsctl's command line: global options, commands separated by "--" with their own
// options, the command table (names, argument counts, options, whether they write) and --help.
#include <climits>
#include <map>
#include <set>

#include "tools/vsctl/vsctl.h"

namespace sluice::vsctl {

namespace {

// ---- command table ------------------------------------------------------------------------

struct Spec {
  const char* name;
  int min_args;
  int max_args;
  const char* options;  // comma-separated; "--id=" takes a value
  bool writes;
};

const std::vector<Spec>& Specs() {
  static const std::vector<Spec> kSpecs = {
      {"init", 0, 0, "", true},
      {"show", 0, 0, "", false},
      {"emer-reset", 0, 0, "", true},
      {"add-br", 1, 3, "--may-exist", true},
      {"del-br", 1, 1, "--if-exists", true},
      {"list-br", 0, 0, "--real,--fake", false},
      {"br-exists", 1, 1, "", false},
      {"br-to-vlan", 1, 1, "", false},
      {"br-to-parent", 1, 1, "", false},
      {"br-set-external-id", 2, 3, "", true},
      {"br-get-external-id", 1, 2, "", false},
      {"list-ports", 1, 1, "", false},
      {"add-port", 2, INT_MAX, "--may-exist", true},
      {"add-bond", 4, INT_MAX, "--may-exist,--fake-iface", true},
      {"del-port", 1, 2, "--if-exists,--with-iface", true},
      {"port-to-br", 1, 1, "", false},
      {"list-ifaces", 1, 1, "", false},
      {"iface-to-br", 1, 1, "", false},
      {"get-controller", 1, 1, "", false},
      {"del-controller", 1, 1, "", true},
      {"set-controller", 1, INT_MAX, "", true},
      {"get-fail-mode", 1, 1, "", false},
      {"del-fail-mode", 1, 1, "", true},
      {"set-fail-mode", 2, 2, "", true},
      {"get-manager", 0, 0, "", false},
      {"del-manager", 0, 0, "", true},
      {"set-manager", 1, INT_MAX, "", true},
      {"comment", 0, INT_MAX, "", false},
      {"get", 2, INT_MAX, "--if-exists,--id=", false},
      {"list", 1, INT_MAX, "--if-exists,--columns=", false},
      {"find", 1, INT_MAX, "--columns=", false},
      {"set", 3, INT_MAX, "--if-exists", true},
      {"add", 4, INT_MAX, "--if-exists", true},
      {"remove", 4, INT_MAX, "--if-exists", true},
      {"clear", 3, INT_MAX, "--if-exists", true},
      {"create", 2, INT_MAX, "--id=", true},
      {"destroy", 1, INT_MAX, "--if-exists,--all", true},
      {"wait-until", 2, INT_MAX, "", false},
  };
  return kSpecs;
}

const Spec* FindSpec(const std::string& name) {
  for (const auto& s : Specs()) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

// Options of `spec`: name -> takes a value.
std::map<std::string, bool> SpecOptions(const Spec& spec) {
  std::map<std::string, bool> out;
  std::string all = spec.options;
  size_t pos = 0;
  while (pos < all.size()) {
    size_t comma = all.find(',', pos);
    std::string o = all.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    bool value = !o.empty() && o.back() == '=';
    if (value) o.pop_back();
    if (!o.empty()) out[o] = value;
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

bool IsLocalOption(const std::string& name) {
  static const std::set<std::string> kLocal = {"--may-exist", "--if-exists",  "--id",
                                               "--columns",   "--all",        "--real",
                                               "--fake",      "--with-iface", "--fake-iface"};
  return kLocal.count(name) > 0;
}

}  // namespace

std::string UsageText() {
  return std::string(kProgram) +
         ": sluice switch configuration utility (ovs-vsctl command language)\n"
         "usage: " +
         kProgram +
         " [OPTIONS] COMMAND [ARG...] [-- [OPTIONS] COMMAND [ARG...]]...\n\n"
         "Open vSwitch commands:\n"
         "  init                        initialize database, if not yet initialized\n"
         "  show                        print overview of database contents\n"
         "  emer-reset                  reset configuration to clean state\n\n"
         "Bridge commands:\n"
         "  add-br BRIDGE               create a new bridge named BRIDGE\n"
         "  add-br BRIDGE PARENT VLAN   create new fake BRIDGE in PARENT on VLAN\n"
         "  del-br BRIDGE               delete BRIDGE and all of its ports\n"
         "  list-br                     print the names of all the bridges\n"
         "  br-exists BRIDGE            exit 2 if BRIDGE does not exist\n"
         "  br-to-vlan BRIDGE           print the VLAN which BRIDGE is on\n"
         "  br-to-parent BRIDGE         print the parent of BRIDGE\n"
         "  br-set-external-id BRIDGE KEY VALUE  set KEY on BRIDGE to VALUE\n"
         "  br-set-external-id BRIDGE KEY  unset KEY on BRIDGE\n"
         "  br-get-external-id BRIDGE KEY  print value of KEY on BRIDGE\n"
         "  br-get-external-id BRIDGE  list key-value pairs on BRIDGE\n\n"
         "Port commands (a bond is considered to be a single port):\n"
         "  list-ports BRIDGE           print the names of all the ports on BRIDGE\n"
         "  add-port BRIDGE PORT        add network device PORT to BRIDGE\n"
         "  add-bond BRIDGE PORT IFACE...  add bonded port PORT in BRIDGE from IFACES\n"
         "  del-port [BRIDGE] PORT      delete PORT (which may be bonded) from BRIDGE\n"
         "  port-to-br PORT             print name of bridge that contains PORT\n\n"
         "Interface commands (a bond consists of multiple interfaces):\n"
         "  list-ifaces BRIDGE          print the names of all interfaces on BRIDGE\n"
         "  iface-to-br IFACE           print name of bridge that contains IFACE\n\n"
         "Controller commands:\n"
         "  get-controller BRIDGE      print the controllers for BRIDGE\n"
         "  del-controller BRIDGE      delete the controllers for BRIDGE\n"
         "  set-controller BRIDGE TARGET...  set the controllers for BRIDGE\n"
         "  get-fail-mode BRIDGE       print the fail-mode for BRIDGE\n"
         "  del-fail-mode BRIDGE       delete the fail-mode for BRIDGE\n"
         "  set-fail-mode BRIDGE MODE  set the fail-mode for BRIDGE to MODE\n\n"
         "Manager commands:\n"
         "  get-manager                print the managers\n"
         "  del-manager                delete the managers\n"
         "  set-manager TARGET...      set the list of managers to TARGET...\n\n"
         "Database commands:\n"
         "  list TBL [REC]             list RECord (or all records) in TBL\n"
         "  find TBL CONDITION...      list records satisfying CONDITION in TBL\n"
         "  get TBL REC COL[:KEY]      print values of COLumns in RECord in TBL\n"
         "  set TBL REC COL[:KEY]=VALUE  set COLumn values in RECord in TBL\n"
         "  add TBL REC COL [KEY=]VALUE  add (KEY=)VALUE to COLumn in RECord in TBL\n"
         "  remove TBL REC COL [KEY=]VALUE  remove (KEY=)VALUE from COLumn\n"
         "  clear TBL REC COL          clear values from COLumn in RECord in TBL\n"
         "  create TBL COL[:KEY]=VALUE  create and initialize new record\n"
         "  destroy TBL REC            delete RECord from TBL\n"
         "  wait-until TBL REC [COL[:KEY]=VALUE]  wait until condition is true\n\n"
         "Options:\n"
         "  --db=DATABASE               connect to DATABASE (default: "
         "unix:/var/run/sluice/db.sock,\n"
         "                              or $SLUICE_DB)\n"
         "  --no-wait                   do not wait for sluice-switchd to reconfigure\n"
         "  -t, --timeout=SECS          wait at most SECS seconds\n"
         "  --dry-run                   do not commit changes to database\n"
         "  --oneline                   print exactly one line of output per command\n"
         "  -f, --format=FORMAT         list/find output: list (default), table, csv, json\n"
         "  -d, --data=FORMAT           cell format: string (default), bare, json\n"
         "  --no-headings               omit table headings\n"
         "  --bare                      equivalent to --format=list --data=bare --no-headings\n"
         "  --columns=COLUMNS           list/find: show only COLUMNS\n";
}

// ---- command line -------------------------------------------------------------------------

Res<CommandLine> ParseCommandLine(const std::vector<std::string>& argv, const std::string& env_db) {
  CommandLine cl;
  cl.options.db = env_db.empty() ? "unix:/var/run/sluice/db.sock" : env_db;
  std::map<std::string, std::string> first_local;
  size_t i = 0;
  auto value_of = [&](const std::string& arg, const std::string& name,
                      std::string* value) -> Res<bool> {
    // "--name=VALUE" or "--name VALUE" (or "-x VALUE").
    if (arg == name) {
      if (i + 1 >= argv.size()) return Fail("option '" + name + "' requires an argument");
      *value = argv[++i];
      return true;
    }
    if (arg.starts_with(name + "=")) {
      *value = arg.substr(name.size() + 1);
      return true;
    }
    return false;
  };
  for (; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--" || a.empty() || a[0] != '-' || a == "-") break;
    std::string v;
    std::string name = a.substr(0, a.find('='));
    if (auto r = value_of(a, "--db", &v); r && *r) {
      cl.options.db = v;
    } else if (!r) {
      return std::unexpected(r.error());
    } else if ((r = value_of(a, "--timeout", &v)) && *r) {
      try {
        cl.options.timeout = std::stoi(v);
      } catch (...) {
        return Fail("value " + v + " on -t or --timeout is invalid");
      }
      if (cl.options.timeout < 0) return Fail("value " + v + " on -t or --timeout is invalid");
    } else if ((r = value_of(a, "-t", &v)) && *r) {
      try {
        cl.options.timeout = std::stoi(v);
      } catch (...) {
        return Fail("value " + v + " on -t or --timeout is invalid");
      }
    } else if ((r = value_of(a, "--format", &v)) && *r) {
      if (v != "list" && v != "table" && v != "csv" && v != "json" && v != "html") {
        return Fail("unknown output format \"" + v + "\"");
      }
      if (v == "html")
        return Fail("output format \"html\" is not supported by " + std::string(kProgram));
      cl.options.format = v;
    } else if ((r = value_of(a, "-f", &v)) && *r) {
      if (v != "list" && v != "table" && v != "csv" && v != "json") {
        return Fail("unknown output format \"" + v + "\"");
      }
      cl.options.format = v;
    } else if ((r = value_of(a, "--data", &v)) && *r) {
      if (v != "string" && v != "bare" && v != "json")
        return Fail("unknown data format \"" + v + "\"");
      cl.options.data = v;
    } else if ((r = value_of(a, "-d", &v)) && *r) {
      if (v != "string" && v != "bare" && v != "json")
        return Fail("unknown data format \"" + v + "\"");
      cl.options.data = v;
    } else if (a == "--no-wait") {
      cl.options.no_wait = true;
    } else if (a == "--dry-run") {
      cl.options.dry_run = true;
    } else if (a == "--no-headings") {
      cl.options.headings = false;
    } else if (a == "--bare") {
      cl.options.format = "list";
      cl.options.data = "bare";
      cl.options.headings = false;
    } else if (a == "--oneline") {
      cl.options.oneline = true;
    } else if (a == "--pretty") {
      cl.options.pretty = true;
    } else if (a == "--help" || a == "-h") {
      cl.help = true;
    } else if (a == "--version" || a == "-V") {
      cl.version = true;
    } else if (a == "--no-syslog" || a == "--retry" || a == "-v" || a.starts_with("--verbose") ||
               a.starts_with("-v")) {
      // Logging and reconnection options of ovs-vsctl: accepted, nothing to do.
    } else if (IsLocalOption(name)) {
      if (first_local.count(name)) return Fail("'" + name + "' option specified multiple times");
      first_local[name] = a.find('=') == std::string::npos ? "" : a.substr(a.find('=') + 1);
    } else {
      return Fail("unrecognized option '" + a + "'");
    }
  }
  if (cl.help || cl.version) return cl;
  if (i < argv.size() && argv[i] == "--") ++i;
  // Split the rest into commands.
  bool first = true;
  while (i <= argv.size()) {
    Command cmd;
    if (first) cmd.options = first_local;
    // Command options.
    while (i < argv.size() && argv[i].starts_with("--") && argv[i] != "--") {
      std::string a = argv[i];
      std::string name = a.substr(0, a.find('='));
      if (cmd.options.count(name)) return Fail("'" + name + "' option specified multiple times");
      cmd.options[name] = a.find('=') == std::string::npos ? "" : a.substr(a.find('=') + 1);
      ++i;
    }
    if (i >= argv.size() || argv[i] == "--") {
      if (first && i >= argv.size() && cmd.options.empty()) {
        return Fail("missing command name (use --help for help)");
      }
      return Fail("missing command name (use --help for help)");
    }
    cmd.name = argv[i++];
    while (i < argv.size() && argv[i] != "--") cmd.args.push_back(argv[i++]);
    cl.commands.push_back(std::move(cmd));
    first = false;
    if (i >= argv.size()) break;
    ++i;  // "--"
  }
  return cl;
}

Res<void> ValidateCommands(const std::vector<Command>& commands) {
  for (const auto& c : commands) {
    const Spec* spec = FindSpec(c.name);
    if (!spec) return Fail("unknown command '" + c.name + "'; use --help for help");
    auto opts = SpecOptions(*spec);
    for (const auto& [name, value] : c.options) {
      auto it = opts.find(name);
      if (it == opts.end()) return Fail("'" + c.name + "' command has no '" + name + "' option");
      if (it->second && value.empty()) {
        return Fail("missing argument to '" + name + "' option on '" + c.name + "' command");
      }
      if (!it->second && !value.empty()) {
        return Fail("'" + name + "' option on '" + c.name + "' does not accept an argument");
      }
    }
    int n = static_cast<int>(c.args.size());
    if (n < spec->min_args) {
      return Fail("'" + c.name + "' command requires at least " + std::to_string(spec->min_args) +
                  " arguments");
    }
    if (n > spec->max_args) {
      std::string msg =
          "'" + c.name + "' command takes at most " + std::to_string(spec->max_args) + " arguments";
      for (const auto& a : c.args) {
        if (a.starts_with("-")) {
          msg += " (note that options must precede command names and follow a \"--\" argument)";
          break;
        }
      }
      return Fail(msg);
    }
  }
  return {};
}

bool AnyWrite(const std::vector<Command>& commands) {
  for (const auto& c : commands) {
    const Spec* s = FindSpec(c.name);
    if (s && s->writes) return true;
  }
  return false;
}

}  // namespace sluice::vsctl
