// sluice-vsctl commands: command-line parsing and every command, run against a WorkDb.
#include "tools/vsctl/vsctl.h"

#include <algorithm>
#include <climits>
#include <ctime>
#include <functional>
#include <iostream>
#include <memory>

namespace sluice::vsctl {

using db::Atom;
using db::Datum;
using db::Type;
using db::Uuid;

namespace {

// ---- command table ------------------------------------------------------------------------

struct Executor_Ctx;

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

void LogWarn(const std::string& module, const std::string& text) {
  char ts[32];
  std::time_t now = std::time(nullptr);
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::cerr << ts << "|00001|" << module << "|WARN|" << text << "\n";
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

// ---- the vsctl cache of bridges, ports and interfaces -------------------------------------

namespace {

struct VBridge {
  std::string name;
  Row* br = nullptr;  // the Bridge row (the parent's, for a fake bridge)
  VBridge* parent = nullptr;
  int64_t vlan = 0;
  Row* fake_port = nullptr;
};
struct VPort {
  Row* port = nullptr;
  VBridge* bridge = nullptr;
};
struct VIface {
  Row* iface = nullptr;
  VPort* port = nullptr;
};

struct Cache {
  Row* ovs = nullptr;
  std::map<std::string, std::unique_ptr<VBridge>> bridges;
  std::map<std::string, std::unique_ptr<VPort>> ports;
  std::map<std::string, std::unique_ptr<VIface>> ifaces;
};

bool PortIsFakeBridge(WorkDb& db, Row* port) {
  auto tag = db.Int(port, "tag");
  return db.Bool(port, "fake_bridge") && tag && *tag >= 0 && *tag <= 4095;
}

Cache BuildCache(WorkDb& db) {
  Cache c;
  auto ovs_rows = db.Rows("Open_vSwitch");
  c.ovs = ovs_rows.empty() ? nullptr : ovs_rows[0];
  if (!c.ovs) return c;
  db.Verify(c.ovs, "bridges");
  std::vector<VBridge*> real;
  for (const Uuid& bu : db.Uuids(c.ovs, "bridges")) {
    Row* br = db.Get("Bridge", bu);
    if (!br) continue;
    std::string name = db.Str(br, "name");
    if (c.bridges.count(name)) continue;
    auto vb = std::make_unique<VBridge>();
    vb->name = name;
    vb->br = br;
    real.push_back(vb.get());
    c.bridges[name] = std::move(vb);
    db.Verify(br, "ports");
  }
  for (VBridge* vb : real) {
    for (const Uuid& pu : db.Uuids(vb->br, "ports")) {
      Row* port = db.Get("Port", pu);
      if (!port || !PortIsFakeBridge(db, port)) continue;
      std::string name = db.Str(port, "name");
      if (c.bridges.count(name)) continue;
      auto fb = std::make_unique<VBridge>();
      fb->name = name;
      fb->br = vb->br;
      fb->parent = vb;
      fb->vlan = *db.Int(port, "tag");
      fb->fake_port = port;
      c.bridges[name] = std::move(fb);
    }
  }
  for (VBridge* vb : real) {
    for (const Uuid& pu : db.Uuids(vb->br, "ports")) {
      Row* port = db.Get("Port", pu);
      if (!port) continue;
      std::string name = db.Str(port, "name");
      if (c.ports.count(name)) continue;
      VBridge* owner = vb;
      if (PortIsFakeBridge(db, port)) {
        auto it = c.bridges.find(name);
        if (it != c.bridges.end() && it->second->parent == vb) owner = it->second.get();
      } else if (auto tag = db.Int(port, "tag"); tag && *tag >= 0 && *tag <= 4095) {
        for (auto& [n, b] : c.bridges) {
          if (b->parent == vb && b->vlan == *tag) {
            owner = b.get();
            break;
          }
        }
      }
      auto vp = std::make_unique<VPort>();
      vp->port = port;
      vp->bridge = owner;
      db.Verify(port, "interfaces");
      for (const Uuid& iu : db.Uuids(port, "interfaces")) {
        Row* iface = db.Get("Interface", iu);
        if (!iface) continue;
        std::string iname = db.Str(iface, "name");
        if (c.ifaces.count(iname)) continue;
        auto vi = std::make_unique<VIface>();
        vi->iface = iface;
        vi->port = vp.get();
        c.ifaces[iname] = std::move(vi);
      }
      c.ports[name] = std::move(vp);
    }
  }
  return c;
}

}  // namespace

// ---- executor -----------------------------------------------------------------------------

struct Executor::Ctx {
  Executor& ex;
  WorkDb& db;
  const Command& cmd;
  size_t index;
  std::string& out;
  bool Has(const std::string& opt) const { return cmd.options.count(opt) > 0; }
  std::string Opt(const std::string& opt) const {
    auto it = cmd.options.find(opt);
    return it == cmd.options.end() ? std::string() : it->second;
  }
  const std::string& Arg(size_t i) const { return cmd.args[i]; }
  size_t N() const { return cmd.args.size(); }
  void AddedIface(const std::string& name) { ex.added_ifaces_.push_back(name); }
  void Created(const Uuid& u) { ex.created_[index] = u; }
  void TryAgain() { ex.try_again_ = true; }
  void ExitCode(int code) { ex.exit_code_ = code; }
  const Options& opts() const { return ex.opts_; }
  // "@name" references: the uuid for the name, made up on first use.
  Uuid Symbol(const std::string& name) {
    auto [it, fresh] = ex.symbols_.try_emplace(name, Uuid::Random(), false);
    return it->second.first;
  }
  SymbolResolver Resolver() {
    return [this](const std::string& name) { return Symbol(name); };
  }
  // Defines "@name" (--id) as `uuid` (nullopt: keep the one made up by earlier references).
  Res<Uuid> DefineSymbol(const std::string& name, std::optional<Uuid> uuid) {
    if (name.empty() || name[0] != '@') {
      return Fail("row id \"" + name + "\" does not begin with \"@\"");
    }
    auto it = ex.symbols_.find(name);
    if (it != ex.symbols_.end()) {
      if (it->second.second) {
        return Fail("row id \"" + name + "\" may only be specified on one --id option");
      }
      if (uuid) {
        return Fail("row id \"" + name + "\" specified on \"" + cmd.name +
                    "\" command was used before it was defined");
      }
      it->second.second = true;
      return it->second.first;
    }
    Uuid u = uuid ? *uuid : Uuid::Random();
    ex.symbols_[name] = {u, true};
    return u;
  }
};

namespace {

using Ctx = Executor::Ctx;

Res<VBridge*> FindBridge(Cache& c, const std::string& name, bool must_exist) {
  auto it = c.bridges.find(name);
  if (it == c.bridges.end()) {
    if (must_exist) return Fail("no bridge named " + name);
    return static_cast<VBridge*>(nullptr);
  }
  return it->second.get();
}

Res<VBridge*> FindRealBridge(Cache& c, const std::string& name) {
  auto b = FindBridge(c, name, true);
  if (!b) return b;
  if ((*b)->parent) return Fail(name + " is a fake bridge");
  return b;
}

std::string CheckConflicts(Cache& c, const std::string& name, const std::string& msg) {
  if (auto it = c.bridges.find(name); it != c.bridges.end()) {
    return msg + " because a bridge named " + name + " already exists";
  }
  if (auto it = c.ports.find(name); it != c.ports.end()) {
    return msg + " because a port named " + name + " already exists on bridge " +
           it->second->bridge->name;
  }
  if (auto it = c.ifaces.find(name); it != c.ifaces.end()) {
    return msg + " because an interface named " + name + " already exists on bridge " +
           it->second->port->bridge->name;
  }
  return {};
}

void DeletePortRows(WorkDb& db, Row* port) {
  for (const Uuid& iu : db.Uuids(port, "interfaces")) {
    if (Row* i = db.Get("Interface", iu)) db.Delete(i);
  }
  db.Delete(port);
}

// Removes a port from its (real) bridge and deletes it with its interfaces.
void DelPort(WorkDb& db, VPort* vp) {
  Row* br = vp->bridge->br;
  db.RemoveUuid(br, "ports", vp->port->uuid);
  DeletePortRows(db, vp->port);
}

std::string SortedLines(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

// Parses "COLUMN[:KEY][OP VALUE]" (OP "=" unless `ops`), as ovs-vsctl's argument syntax.
struct ColumnArg {
  std::string column;
  std::optional<std::string> key;    // raw key token
  std::optional<std::string> value;  // raw text after the operator
  std::string op;
};

Res<ColumnArg> ParseColumnArg(const db::TableSchema& ts, const std::string& arg, bool want_value,
                              bool ops) {
  ColumnArg out;
  std::string_view s = arg;
  auto col = ParseToken(s);
  if (!col) return std::unexpected(col.error());
  auto cname = MatchColumn(ts, *col);
  if (!cname) return std::unexpected(cname.error());
  out.column = *cname;
  if (!s.empty() && s[0] == ':') {
    s.remove_prefix(1);
    auto key = ParseToken(s);
    if (!key) return std::unexpected(key.error());
    out.key = *key;
  }
  if (want_value) {
    static const std::vector<std::string> kOps = {"{!=}", "{<=}", "{>=}", "{=}", "{<}", "{>}",
                                                  "!=",   "<=",   ">=",   "=",   "<",   ">"};
    bool matched = false;
    if (ops) {
      for (const auto& op : kOps) {
        if (s.starts_with(op)) {
          out.op = op;
          s.remove_prefix(op.size());
          matched = true;
          break;
        }
      }
    } else if (!s.empty() && s[0] == '=') {
      out.op = "=";
      s.remove_prefix(1);
      matched = true;
    }
    if (!matched || s.empty()) {
      if (ops && !matched) {
        return Fail(
            arg +
            ": argument does not end in \"=\", \"!=\", \"<\", \">\", \"<=\", \">=\", "
            "\"{=}\", \"{!=}\", \"{<}\", \"{>}\", \"{<=}\", or \"{>=}\" followed by a value.");
      }
      return Fail(arg + ": argument does not end in \"=\" followed by a value.");
    }
    out.value = std::string(s);
  } else if (!s.empty()) {
    return Fail(arg + ": trailing garbage \"" + std::string(s) + "\" in argument");
  }
  return out;
}

Res<const db::TableSchema*> GetTable(WorkDb& db, const std::string& name) {
  auto t = MatchTable(db.schema(), name);
  if (!t) return std::unexpected(t.error());
  return db.schema().FindTable(*t);
}

Res<Row*> GetRecord(WorkDb& db, const db::TableSchema& ts, const std::string& id, bool must_exist) {
  auto r = FindRecord(db, ts.name, id);
  if (!r) return r;
  if (!*r && must_exist) return Fail("no row \"" + id + "\" in table " + ts.name);
  return r;
}

}  // namespace

Res<void> Executor::Run(const std::vector<Command>& commands) {
  outputs_.assign(commands.size(), "");
  created_.assign(commands.size(), std::nullopt);
  added_ifaces_.clear();
  symbols_.clear();
  try_again_ = false;
  exit_code_ = 1;
  if (db_.Rows("Open_vSwitch").empty()) db_.Insert("Open_vSwitch");
  for (size_t i = 0; i < commands.size(); ++i) {
    if (auto r = RunOne(commands[i], i); !r) return r;
    if (try_again_) return {};
  }
  for (const auto& [name, sym] : symbols_) {
    if (!sym.second) {
      return Fail("row id \"" + name + "\" is referenced but never created (e.g. with \"-- --id=" +
                  name + " create ...\")");
    }
  }
  return {};
}

std::string Executor::Output(const std::map<Uuid, Uuid>& real) const {
  std::string out;
  for (size_t i = 0; i < outputs_.size(); ++i) {
    std::string o = outputs_[i];
    if (created_[i]) {
      auto it = real.find(*created_[i]);
      o = (it == real.end() ? *created_[i] : it->second).ToString() + "\n";
    }
    if (opts_.oneline) {
      if (!o.empty() && o.back() == '\n') o.pop_back();
      std::string e;
      for (char c : o) {
        if (c == '\n')
          e += "\\n";
        else if (c == '\\')
          e += "\\\\";
        else
          e += c;
      }
      out += e + "\n";
    } else {
      out += o;
    }
  }
  return out;
}

namespace {

// ---- the commands -------------------------------------------------------------------------

Res<void> CmdAddBr(Ctx& c, Cache& cache) {
  WorkDb& db = c.db;
  const std::string& name = c.Arg(0);
  bool may_exist = c.Has("--may-exist");
  std::string parent_name;
  int64_t vlan = 0;
  if (c.N() == 2) return Fail("'add-br' command takes exactly 1 or 3 arguments");
  if (c.N() == 3) {
    parent_name = c.Arg(1);
    try {
      size_t pos = 0;
      vlan = std::stoll(c.Arg(2), &pos);
      if (pos != c.Arg(2).size()) throw 0;
    } catch (...) {
      vlan = -1;
    }
    if (vlan < 0 || vlan > 4095) return Fail("add-br: vlan must be between 0 and 4095");
  }
  if (may_exist) {
    if (auto it = cache.bridges.find(name); it != cache.bridges.end()) {
      VBridge* br = it->second.get();
      std::string cmdline = "\"--may-exist add-br " + name;
      if (!parent_name.empty()) cmdline += " " + parent_name + " " + std::to_string(vlan);
      cmdline += "\"";
      if (parent_name.empty()) {
        if (br->parent) {
          return Fail(cmdline + " but " + name + " is a VLAN bridge for VLAN " +
                      std::to_string(br->vlan));
        }
      } else {
        if (!br->parent) return Fail(cmdline + " but " + name + " is not a VLAN bridge");
        if (br->parent->name != parent_name) {
          return Fail(cmdline + " but " + name + " has the wrong parent " + br->parent->name);
        }
        if (br->vlan != vlan) {
          return Fail(cmdline + " but " + name + " is a VLAN bridge for the wrong VLAN " +
                      std::to_string(br->vlan));
        }
      }
      return {};
    }
  }
  if (auto e = CheckConflicts(cache, name, "cannot create a bridge named " + name); !e.empty()) {
    return Fail(e);
  }
  if (parent_name.empty()) {
    Row* iface = db.Insert("Interface");
    db.SetStr(iface, "name", name);
    db.SetStr(iface, "type", "internal");
    Row* port = db.Insert("Port");
    db.SetStr(port, "name", name);
    db.AddUuid(port, "interfaces", iface->uuid);
    Row* br = db.Insert("Bridge");
    db.SetStr(br, "name", name);
    db.AddUuid(br, "ports", port->uuid);
    db.AddUuid(cache.ovs, "bridges", br->uuid);
  } else {
    auto it = cache.bridges.find(parent_name);
    if (it == cache.bridges.end()) return Fail("parent bridge " + parent_name + " does not exist");
    if (it->second->parent) return Fail("cannot create bridge with fake bridge as parent");
    Row* iface = db.Insert("Interface");
    db.SetStr(iface, "name", name);
    db.SetStr(iface, "type", "internal");
    Row* port = db.Insert("Port");
    db.SetStr(port, "name", name);
    db.AddUuid(port, "interfaces", iface->uuid);
    db.SetBool(port, "fake_bridge", true);
    db.SetInt(port, "tag", vlan);
    db.AddUuid(it->second->br, "ports", port->uuid);
  }
  c.AddedIface(name);
  return {};
}

Res<void> CmdDelBr(Ctx& c, Cache& cache) {
  WorkDb& db = c.db;
  auto b = FindBridge(cache, c.Arg(0), !c.Has("--if-exists"));
  if (!b) return std::unexpected(b.error());
  VBridge* br = *b;
  if (!br) return {};
  // Ports of this bridge (and, for a real bridge, of its fake bridges).
  std::vector<VPort*> ports;
  for (auto& [n, vp] : cache.ports) {
    if (vp->bridge == br || (!br->parent && vp->bridge->parent == br)) ports.push_back(vp.get());
  }
  if (br->parent) {
    for (VPort* vp : ports) DelPort(db, vp);
  } else {
    for (const Uuid& pu : db.Uuids(br->br, "ports")) {
      if (Row* p = db.Get("Port", pu)) DeletePortRows(db, p);
    }
    db.RemoveUuid(cache.ovs, "bridges", br->br->uuid);
    db.Delete(br->br);
  }
  return {};
}

Res<void> CmdListBr(Ctx& c, Cache& cache) {
  bool real = c.Has("--real"), fake = c.Has("--fake");
  if (!real && !fake) real = fake = true;
  std::vector<std::string> names;
  for (auto& [n, b] : cache.bridges) {
    if ((b->parent && fake) || (!b->parent && real)) names.push_back(n);
  }
  c.out = SortedLines(names);
  return {};
}

Res<void> CmdBrExists(Ctx& c, Cache& cache) {
  if (!cache.bridges.count(c.Arg(0))) {
    c.ExitCode(2);
    return Fail("");
  }
  return {};
}

Res<void> CmdBrToVlan(Ctx& c, Cache& cache) {
  auto b = FindBridge(cache, c.Arg(0), true);
  if (!b) return std::unexpected(b.error());
  c.out = std::to_string((*b)->vlan) + "\n";
  return {};
}

Res<void> CmdBrToParent(Ctx& c, Cache& cache) {
  auto b = FindBridge(cache, c.Arg(0), true);
  if (!b) return std::unexpected(b.error());
  VBridge* p = (*b)->parent ? (*b)->parent : *b;
  c.out = p->name + "\n";
  return {};
}

Res<void> CmdBrSetExternalId(Ctx& c, Cache& cache) {
  auto b = FindBridge(cache, c.Arg(0), true);
  if (!b) return std::unexpected(b.error());
  Row* row = (*b)->parent ? (*b)->fake_port : (*b)->br;
  std::string key = ((*b)->parent ? "fake-bridge-" : "") + c.Arg(1);
  c.db.Verify(row, "external_ids");
  auto m = c.db.StrMap(row, "external_ids");
  if (c.N() == 3)
    m[key] = c.Arg(2);
  else
    m.erase(key);
  c.db.SetStrMap(row, "external_ids", m);
  return {};
}

Res<void> CmdBrGetExternalId(Ctx& c, Cache& cache) {
  auto b = FindBridge(cache, c.Arg(0), true);
  if (!b) return std::unexpected(b.error());
  Row* row = (*b)->parent ? (*b)->fake_port : (*b)->br;
  std::string prefix = (*b)->parent ? "fake-bridge-" : "";
  auto m = c.db.StrMap(row, "external_ids");
  if (c.N() == 2) {
    auto it = m.find(prefix + c.Arg(1));
    if (it != m.end()) c.out = it->second + "\n";
    return {};
  }
  for (const auto& [k, v] : m) {
    if (k.starts_with(prefix)) c.out += k.substr(prefix.size()) + "=" + v + "\n";
  }
  return {};
}

Res<void> CmdListPorts(Ctx& c, Cache& cache) {
  auto b = FindBridge(cache, c.Arg(0), true);
  if (!b) return std::unexpected(b.error());
  std::vector<std::string> names;
  for (auto& [n, vp] : cache.ports) {
    if (vp->bridge == *b && n != (*b)->name) names.push_back(n);
  }
  c.out = SortedLines(names);
  return {};
}

Res<void> CmdListIfaces(Ctx& c, Cache& cache) {
  auto b = FindBridge(cache, c.Arg(0), true);
  if (!b) return std::unexpected(b.error());
  std::vector<std::string> names;
  for (auto& [n, vi] : cache.ifaces) {
    if (vi->port->bridge == *b && n != (*b)->name) names.push_back(n);
  }
  c.out = SortedLines(names);
  return {};
}

Res<void> SetColumnArg(Ctx& c, Row* row, const std::string& arg, bool creating);

// add-port and add-bond.
Res<void> AddPort(Ctx& c, Cache& cache, const std::string& br_name, const std::string& port_name,
                  const std::vector<std::string>& ifaces, bool fake_iface,
                  const std::vector<std::string>& settings, const std::string& cmd_text) {
  WorkDb& db = c.db;
  if (c.Has("--may-exist")) {
    if (auto it = cache.ports.find(port_name); it != cache.ports.end()) {
      VPort* vp = it->second.get();
      auto b = FindBridge(cache, br_name, true);
      if (!b) return std::unexpected(b.error());
      if (vp->bridge != *b) {
        return Fail("\"--may-exist " + cmd_text + "\" but " + port_name +
                    " is actually attached to bridge " + vp->bridge->name);
      }
      std::vector<std::string> want = ifaces, have;
      for (const Uuid& iu : db.Uuids(vp->port, "interfaces")) {
        if (Row* i = db.Get("Interface", iu)) have.push_back(db.Str(i, "name"));
      }
      std::sort(want.begin(), want.end());
      std::sort(have.begin(), have.end());
      if (want != have) {
        std::string list;
        for (size_t k = 0; k < have.size(); ++k) list += (k ? ", " : "") + have[k];
        return Fail("\"--may-exist " + cmd_text + "\" but " + port_name +
                    " actually has interface(s) " + list);
      }
      return {};
    }
  }
  if (auto e = CheckConflicts(cache, port_name, "cannot create a port named " + port_name);
      !e.empty()) {
    return Fail(e);
  }
  for (const auto& i : ifaces) {
    if (auto e = CheckConflicts(cache, i, "cannot create an interface named " + i); !e.empty()) {
      return Fail(e);
    }
  }
  auto b = FindBridge(cache, br_name, true);
  if (!b) return std::unexpected(b.error());
  Row* port = db.Insert("Port");
  db.SetStr(port, "name", port_name);
  for (const auto& name : ifaces) {
    Row* iface = db.Insert("Interface");
    db.SetStr(iface, "name", name);
    db.AddUuid(port, "interfaces", iface->uuid);
    c.AddedIface(name);
  }
  if (fake_iface) db.SetBool(port, "bond_fake_iface", true);
  if ((*b)->parent) db.SetInt(port, "tag", (*b)->vlan);
  for (const auto& s : settings) {
    if (auto r = SetColumnArg(c, port, s, true); !r) return r;
  }
  db.AddUuid((*b)->br, "ports", port->uuid);
  return {};
}

Res<void> CmdAddPort(Ctx& c, Cache& cache) {
  std::vector<std::string> settings(c.cmd.args.begin() + 2, c.cmd.args.end());
  return AddPort(c, cache, c.Arg(0), c.Arg(1), {c.Arg(1)}, false, settings,
                 "add-port " + c.Arg(0) + " " + c.Arg(1));
}

Res<void> CmdAddBond(Ctx& c, Cache& cache) {
  std::vector<std::string> ifaces, settings;
  size_t i = 2;
  for (; i < c.N() && c.Arg(i).find('=') == std::string::npos; ++i) ifaces.push_back(c.Arg(i));
  for (; i < c.N(); ++i) settings.push_back(c.Arg(i));
  if (ifaces.size() < 2) {
    return Fail("add-bond requires at least 2 interfaces, but only " +
                std::to_string(ifaces.size()) + " were specified");
  }
  std::string text = "add-bond " + c.Arg(0) + " " + c.Arg(1);
  for (const auto& f : ifaces) text += " " + f;
  return AddPort(c, cache, c.Arg(0), c.Arg(1), ifaces, c.Has("--fake-iface"), settings, text);
}

Res<void> CmdDelPort(Ctx& c, Cache& cache) {
  const std::string& target = c.Arg(c.N() - 1);
  bool with_iface = c.Has("--with-iface");
  VPort* vp = nullptr;
  if (auto it = cache.ports.find(target); it != cache.ports.end()) {
    vp = it->second.get();
  } else if (with_iface) {
    if (auto ii = cache.ifaces.find(target); ii != cache.ifaces.end()) vp = ii->second->port;
  }
  if (!vp) {
    if (c.Has("--if-exists")) return {};
    return Fail(with_iface ? "no port or interface named " + target : "no port named " + target);
  }
  if (c.N() == 2) {
    auto b = FindBridge(cache, c.Arg(0), true);
    if (!b) return std::unexpected(b.error());
    VBridge* br = *b;
    if (vp->bridge != br) {
      if (vp->bridge->parent == br) {
        return Fail("bridge " + br->name + " does not have a port " + target +
                    " (although its child bridge " + vp->bridge->name + " does)");
      }
      return Fail("bridge " + br->name + " does not have a port " + target);
    }
  }
  DelPort(c.db, vp);
  return {};
}

Res<void> CmdPortToBr(Ctx& c, Cache& cache) {
  auto it = cache.ports.find(c.Arg(0));
  if (it == cache.ports.end()) return Fail("no port named " + c.Arg(0));
  c.out = it->second->bridge->name + "\n";
  return {};
}

Res<void> CmdIfaceToBr(Ctx& c, Cache& cache) {
  auto it = cache.ifaces.find(c.Arg(0));
  if (it == cache.ifaces.end()) return Fail("no interface named " + c.Arg(0));
  c.out = it->second->port->bridge->name + "\n";
  return {};
}

Res<void> CmdGetController(Ctx& c, Cache& cache) {
  auto b = FindBridge(cache, c.Arg(0), true);
  if (!b) return std::unexpected(b.error());
  Row* br = (*b)->br;
  std::vector<std::string> targets;
  for (const Uuid& u : c.db.Uuids(br, "controller")) {
    if (Row* r = c.db.Get("Controller", u)) targets.push_back(c.db.Str(r, "target"));
  }
  c.out = SortedLines(targets);
  return {};
}

void DeleteControllers(Ctx& c, Row* br) {
  for (const Uuid& u : c.db.Uuids(br, "controller")) {
    if (Row* r = c.db.Get("Controller", u)) c.db.Delete(r);
  }
  c.db.Clear(br, "controller");
}

Res<void> CmdDelController(Ctx& c, Cache& cache) {
  auto b = FindRealBridge(cache, c.Arg(0));
  if (!b) return std::unexpected(b.error());
  c.db.Verify((*b)->br, "controller");
  DeleteControllers(c, (*b)->br);
  return {};
}

Res<void> CmdSetController(Ctx& c, Cache& cache) {
  auto b = FindRealBridge(cache, c.Arg(0));
  if (!b) return std::unexpected(b.error());
  Row* br = (*b)->br;
  c.db.Verify(br, "controller");
  DeleteControllers(c, br);
  for (size_t i = 1; i < c.N(); ++i) {
    Row* ctl = c.db.Insert("Controller");
    c.db.SetStr(ctl, "target", c.Arg(i));
    c.db.AddUuid(br, "controller", ctl->uuid);
  }
  return {};
}

Res<void> CmdGetFailMode(Ctx& c, Cache& cache) {
  auto b = FindBridge(cache, c.Arg(0), true);
  if (!b) return std::unexpected(b.error());
  std::string mode = c.db.Str((*b)->br, "fail_mode");
  if (!mode.empty()) c.out = mode + "\n";
  return {};
}

Res<void> CmdDelFailMode(Ctx& c, Cache& cache) {
  auto b = FindRealBridge(cache, c.Arg(0));
  if (!b) return std::unexpected(b.error());
  c.db.Clear((*b)->br, "fail_mode");
  return {};
}

Res<void> CmdSetFailMode(Ctx& c, Cache& cache) {
  auto b = FindRealBridge(cache, c.Arg(0));
  if (!b) return std::unexpected(b.error());
  if (c.Arg(1) != "standalone" && c.Arg(1) != "secure") {
    return Fail("fail-mode must be \"standalone\" or \"secure\"");
  }
  c.db.SetStr((*b)->br, "fail_mode", c.Arg(1));
  return {};
}

Res<void> CmdGetManager(Ctx& c, Cache& cache) {
  std::vector<std::string> targets;
  for (const Uuid& u : c.db.Uuids(cache.ovs, "manager_options")) {
    if (Row* r = c.db.Get("Manager", u)) targets.push_back(c.db.Str(r, "target"));
  }
  c.out = SortedLines(targets);
  return {};
}

void DeleteManagers(Ctx& c, Cache& cache) {
  c.db.Verify(cache.ovs, "manager_options");
  for (const Uuid& u : c.db.Uuids(cache.ovs, "manager_options")) {
    if (Row* r = c.db.Get("Manager", u)) c.db.Delete(r);
  }
  c.db.Clear(cache.ovs, "manager_options");
}

Res<void> CmdDelManager(Ctx& c, Cache& cache) {
  DeleteManagers(c, cache);
  return {};
}

Res<void> CmdSetManager(Ctx& c, Cache& cache) {
  DeleteManagers(c, cache);
  for (size_t i = 0; i < c.N(); ++i) {
    Row* m = c.db.Insert("Manager");
    c.db.SetStr(m, "target", c.Arg(i));
    c.db.AddUuid(cache.ovs, "manager_options", m->uuid);
  }
  return {};
}

Res<void> CmdEmerReset(Ctx& c, Cache& cache) {
  WorkDb& db = c.db;
  db.Clear(cache.ovs, "manager_options");
  db.Clear(cache.ovs, "ssl");
  for (Row* br : db.Rows("Bridge")) {
    for (const char* col :
         {"controller", "fail_mode", "mirrors", "netflow", "sflow", "ipfix", "flood_vlans"}) {
      db.Clear(br, col);
    }
    auto oc = db.StrMap(br, "other_config");
    std::map<std::string, std::string> keep;
    if (auto it = oc.find("hwaddr"); it != oc.end()) keep[it->first] = it->second;
    db.SetStrMap(br, "other_config", keep);
  }
  for (Row* p : db.Rows("Port")) db.SetStrMap(p, "other_config", {});
  for (const char* t : {"Mirror", "Controller", "Manager", "NetFlow", "SSL", "sFlow", "IPFIX",
                        "Flow_Sample_Collector_Set"}) {
    for (Row* r : db.Rows(t)) db.Delete(r);
  }
  return {};
}

// ---- database commands --------------------------------------------------------------------

Res<void> SetColumnArg(Ctx& c, Row* row, const std::string& arg, bool creating) {
  WorkDb& db = c.db;
  const db::TableSchema* ts = db.schema().FindTable(row->table);
  auto ca = ParseColumnArg(*ts, arg, true, false);
  if (!ca) return std::unexpected(ca.error());
  const db::ColumnSchema* cs = ts->FindColumn(ca->column);
  if (cs->implicit)
    return Fail("cannot modify read-only column " + cs->name + " in table " + ts->name);
  if (!cs->is_mutable && !creating && !row->inserted) {
    return Fail("cannot modify read-only column " + cs->name + " in table " + ts->name);
  }
  auto resolver = c.Resolver();
  if (ca->key) {
    if (!cs->type.IsMap()) {
      return Fail("cannot specify key to set for non-map column " + cs->name);
    }
    auto k = AtomFromString(*ca->key, cs->type.key, &resolver);
    if (!k) return std::unexpected(k.error());
    auto v = AtomFromString(*ca->value, cs->type.value, &resolver);
    if (!v) return std::unexpected(v.error());
    Datum d = db.Col(row, cs->name);
    auto i = d.Find(*k);
    if (i >= 0) {
      d.values[i] = *v;
    } else {
      d.keys.push_back(*k);
      d.values.push_back(*v);
      d.Sort();
    }
    if (d.size() > cs->type.max) {
      return Fail("\"set\" operation would put " + std::to_string(d.size()) + " pairs in column " +
                  cs->name + " of table " + ts->name + " but the maximum number is " +
                  std::to_string(cs->type.max));
    }
    db.Verify(row, cs->name);
    db.Set(row, cs->name, std::move(d));
    return {};
  }
  auto d = DatumFromString(*ca->value, cs->type, &resolver);
  if (!d) return std::unexpected(d.error());
  db.Set(row, cs->name, std::move(*d));
  return {};
}

Res<void> CmdSet(Ctx& c, Cache&) {
  auto ts = GetTable(c.db, c.Arg(0));
  if (!ts) return std::unexpected(ts.error());
  auto row = GetRecord(c.db, **ts, c.Arg(1), !c.Has("--if-exists"));
  if (!row) return std::unexpected(row.error());
  if (!*row) return {};
  for (size_t i = 2; i < c.N(); ++i) {
    if (auto r = SetColumnArg(c, *row, c.Arg(i), false); !r) return r;
  }
  return {};
}

Res<void> CmdGet(Ctx& c, Cache&) {
  auto ts = GetTable(c.db, c.Arg(0));
  if (!ts) return std::unexpected(ts.error());
  bool if_exists = c.Has("--if-exists");
  auto row = GetRecord(c.db, **ts, c.Arg(1), !if_exists);
  if (!row) return std::unexpected(row.error());
  if (!*row) return {};
  if (c.Has("--id")) {
    auto s = c.DefineSymbol(c.Opt("--id"), (*row)->uuid);
    if (!s) return std::unexpected(s.error());
  }
  for (size_t i = 2; i < c.N(); ++i) {
    auto ca = ParseColumnArg(**ts, c.Arg(i), false, false);
    if (!ca) return std::unexpected(ca.error());
    const db::ColumnSchema* cs = (*ts)->FindColumn(ca->column);
    if (cs->name == "_uuid") {
      c.out += (*row)->uuid.ToString() + "\n";
      continue;
    }
    if (cs->implicit) {
      c.out += "\n";
      continue;
    }
    c.db.Verify(*row, cs->name);
    const Datum& d = c.db.Col(*row, cs->name);
    if (ca->key) {
      if (!cs->type.IsMap())
        return Fail("cannot specify key to get for non-map column " + cs->name);
      auto k = AtomFromString(*ca->key, cs->type.key, nullptr);
      if (!k) return std::unexpected(k.error());
      auto idx = d.Find(*k);
      if (idx < 0) {
        if (if_exists) {
          c.out += "\n";
          continue;
        }
        return Fail("no key \"" + *ca->key + "\" in " + (*ts)->name + " record \"" + c.Arg(1) +
                    "\" column " + cs->name);
      }
      c.out += AtomToText(d.values[idx]) + "\n";
    } else {
      c.out += DatumToText(d, cs->type) + "\n";
    }
  }
  return {};
}

Res<std::vector<std::string>> OutputColumns(Ctx& c, const db::TableSchema& ts) {
  std::vector<std::string> cols;
  if (c.Has("--columns")) {
    std::string spec = c.Opt("--columns");
    size_t pos = 0;
    while (pos <= spec.size()) {
      size_t comma = spec.find(',', pos);
      std::string name =
          spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      auto m = MatchColumn(ts, name);
      if (!m) return std::unexpected(m.error());
      cols.push_back(*m);
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
    return cols;
  }
  cols.push_back("_uuid");
  std::vector<std::string> rest;
  for (const auto& col : ts.columns) {
    if (!col.implicit) rest.push_back(col.name);
  }
  std::sort(rest.begin(), rest.end());
  cols.insert(cols.end(), rest.begin(), rest.end());
  return cols;
}

void AddOutputRow(WorkDb& db, OutputTable& t, Row* row, const std::vector<std::string>& cols) {
  std::vector<std::pair<Datum, Type>> cells;
  for (const auto& col : cols) {
    if (col == "_uuid") {
      cells.push_back(
          {Datum::Scalar(db::UuidAtom(row->uuid)), Type::Scalar(db::AtomicType::kUuid)});
    } else if (col == "_version") {
      cells.push_back({Datum{}, Type::Scalar(db::AtomicType::kUuid)});
    } else {
      cells.push_back({db.Col(row, col), db.TypeOf(row->table, col)});
    }
  }
  t.rows.push_back(std::move(cells));
}

Res<void> CmdList(Ctx& c, Cache&) {
  auto ts = GetTable(c.db, c.Arg(0));
  if (!ts) return std::unexpected(ts.error());
  auto cols = OutputColumns(c, **ts);
  if (!cols) return std::unexpected(cols.error());
  OutputTable t;
  t.headings = *cols;
  if (c.N() == 1) {
    for (Row* r : c.db.Rows((*ts)->name)) AddOutputRow(c.db, t, r, *cols);
  } else {
    for (size_t i = 1; i < c.N(); ++i) {
      auto row = GetRecord(c.db, **ts, c.Arg(i), !c.Has("--if-exists"));
      if (!row) return std::unexpected(row.error());
      if (*row) AddOutputRow(c.db, t, *row, *cols);
    }
  }
  c.out = FormatTable(t, c.opts());
  return {};
}

// One find / wait-until condition against a row.
Res<bool> ConditionHolds(Ctx& c, Row* row, const std::string& arg) {
  const db::TableSchema* ts = c.db.schema().FindTable(row->table);
  auto ca = ParseColumnArg(*ts, arg, true, true);
  if (!ca) return std::unexpected(ca.error());
  const db::ColumnSchema* cs = ts->FindColumn(ca->column);
  auto resolver = c.Resolver();
  Datum have;
  Type type = cs->type;
  if (cs->name == "_uuid") {
    have = Datum::Scalar(db::UuidAtom(row->uuid));
  } else {
    have = c.db.Col(row, cs->name);
  }
  if (ca->key) {
    if (!cs->type.IsMap())
      return Fail("cannot specify key to check for non-map column " + cs->name);
    auto k = AtomFromString(*ca->key, cs->type.key, &resolver);
    if (!k) return std::unexpected(k.error());
    Datum v;
    if (auto i = have.Find(*k); i >= 0) v.keys.push_back(have.values[i]);
    have = v;
    type = Type{};
    type.key = cs->type.value;
    type.min = 0;
    type.max = 1;
  }
  Type want_type = type;
  want_type.min = 0;
  if (ca->op.starts_with("{") || ca->op == "=" || ca->op == "!=") want_type.max = db::kUnlimited;
  auto want = DatumFromString(*ca->value, want_type, &resolver);
  if (!want) return std::unexpected(want.error());
  have.is_map = want->is_map;
  const std::string& op = ca->op;
  if (op == "=" || op == "{=}") return have == *want;
  if (op == "!=" || op == "{!=}") return !(have == *want);
  if (op == "<") return have < *want;
  if (op == ">") return have > *want;
  if (op == "<=") return have <= *want;
  if (op == ">=") return have >= *want;
  if (op == "{<}") return want->Includes(have) && !(have == *want);
  if (op == "{>}") return have.Includes(*want) && !(have == *want);
  if (op == "{<=}") return want->Includes(have);
  if (op == "{>=}") return have.Includes(*want);
  return Fail("unknown operator " + op);
}

Res<void> CmdFind(Ctx& c, Cache&) {
  auto ts = GetTable(c.db, c.Arg(0));
  if (!ts) return std::unexpected(ts.error());
  auto cols = OutputColumns(c, **ts);
  if (!cols) return std::unexpected(cols.error());
  OutputTable t;
  t.headings = *cols;
  for (Row* r : c.db.Rows((*ts)->name)) {
    bool all = true;
    for (size_t i = 1; i < c.N() && all; ++i) {
      auto ok = ConditionHolds(c, r, c.Arg(i));
      if (!ok) return std::unexpected(ok.error());
      all = *ok;
    }
    if (all) AddOutputRow(c.db, t, r, *cols);
  }
  c.out = FormatTable(t, c.opts());
  return {};
}

Res<void> CmdWaitUntil(Ctx& c, Cache&) {
  auto ts = GetTable(c.db, c.Arg(0));
  if (!ts) return std::unexpected(ts.error());
  auto row = FindRecord(c.db, (*ts)->name, c.Arg(1));
  if (!row) return std::unexpected(row.error());
  if (!*row) {
    c.TryAgain();
    return {};
  }
  for (size_t i = 2; i < c.N(); ++i) {
    auto ok = ConditionHolds(c, *row, c.Arg(i));
    if (!ok) return std::unexpected(ok.error());
    if (!*ok) {
      c.TryAgain();
      return {};
    }
  }
  return {};
}

Res<std::pair<const db::TableSchema*, Row*>> TableAndRecord(Ctx& c) {
  auto ts = GetTable(c.db, c.Arg(0));
  if (!ts) return std::unexpected(ts.error());
  auto row = GetRecord(c.db, **ts, c.Arg(1), !c.Has("--if-exists"));
  if (!row) return std::unexpected(row.error());
  return std::make_pair(*ts, *row);
}

std::string CountNoun(const Type& t) { return t.IsMap() ? "pairs" : "values"; }

Res<void> CmdAdd(Ctx& c, Cache&) {
  auto tr = TableAndRecord(c);
  if (!tr) return std::unexpected(tr.error());
  auto [ts, row] = *tr;
  if (!row) return {};
  auto col = MatchColumn(*ts, c.Arg(2));
  if (!col) return std::unexpected(col.error());
  const db::ColumnSchema* cs = ts->FindColumn(*col);
  if (!cs->is_mutable && !row->inserted) {
    return Fail("cannot modify read-only column " + cs->name + " in table " + ts->name);
  }
  Type any = cs->type;
  any.min = 0;
  any.max = db::kUnlimited;
  auto resolver = c.Resolver();
  Datum d = c.db.Col(row, cs->name);
  d.is_map = cs->type.IsMap();
  for (size_t i = 3; i < c.N(); ++i) {
    auto add = DatumFromString(c.Arg(i), any, &resolver);
    if (!add) return std::unexpected(add.error());
    for (size_t k = 0; k < add->size(); ++k) {
      auto at = d.Find(add->keys[k]);
      if (at >= 0) {
        if (d.is_map) d.values[at] = add->values[k];
        continue;
      }
      d.keys.push_back(add->keys[k]);
      if (d.is_map) d.values.push_back(add->values[k]);
      d.Sort();
    }
  }
  if (d.size() > cs->type.max) {
    return Fail("\"add\" operation would put " + std::to_string(d.size()) + " " +
                CountNoun(cs->type) + " in column " + cs->name + " of table " + ts->name +
                " but the maximum number is " + std::to_string(cs->type.max));
  }
  c.db.Verify(row, cs->name);
  c.db.Set(row, cs->name, std::move(d));
  return {};
}

Res<void> CmdRemove(Ctx& c, Cache&) {
  auto tr = TableAndRecord(c);
  if (!tr) return std::unexpected(tr.error());
  auto [ts, row] = *tr;
  if (!row) return {};
  auto col = MatchColumn(*ts, c.Arg(2));
  if (!col) return std::unexpected(col.error());
  const db::ColumnSchema* cs = ts->FindColumn(*col);
  if (!cs->is_mutable && !row->inserted) {
    return Fail("cannot modify read-only column " + cs->name + " in table " + ts->name);
  }
  Type any = cs->type;
  any.min = 0;
  any.max = db::kUnlimited;
  auto resolver = c.Resolver();
  Datum d = c.db.Col(row, cs->name);
  d.is_map = cs->type.IsMap();
  for (size_t i = 3; i < c.N(); ++i) {
    auto rm = DatumFromString(c.Arg(i), any, &resolver);
    if (rm && d.is_map) {
      for (size_t k = 0; k < rm->size(); ++k) {
        auto at = d.Find(rm->keys[k]);
        if (at >= 0 && d.values[at] == rm->values[k]) {
          d.keys.erase(d.keys.begin() + at);
          d.values.erase(d.values.begin() + at);
        }
      }
      continue;
    }
    if (d.is_map) {
      // A set of keys.
      Type keys;
      keys.key = cs->type.key;
      keys.min = 0;
      keys.max = db::kUnlimited;
      rm = DatumFromString(c.Arg(i), keys, &resolver);
      if (!rm) return std::unexpected(rm.error());
      for (const auto& k : rm->keys) {
        auto at = d.Find(k);
        if (at >= 0) {
          d.keys.erase(d.keys.begin() + at);
          d.values.erase(d.values.begin() + at);
        }
      }
      continue;
    }
    if (!rm) return std::unexpected(rm.error());
    for (const auto& k : rm->keys) {
      auto at = d.Find(k);
      if (at >= 0) d.keys.erase(d.keys.begin() + at);
    }
  }
  if (d.size() < cs->type.min) {
    return Fail("\"remove\" operation would put " + std::to_string(d.size()) + " " +
                CountNoun(cs->type) + " in column " + cs->name + " of table " + ts->name +
                " but the minimum number is " + std::to_string(cs->type.min));
  }
  c.db.Verify(row, cs->name);
  c.db.Set(row, cs->name, std::move(d));
  return {};
}

Res<void> CmdClear(Ctx& c, Cache&) {
  auto tr = TableAndRecord(c);
  if (!tr) return std::unexpected(tr.error());
  auto [ts, row] = *tr;
  if (!row) return {};
  for (size_t i = 2; i < c.N(); ++i) {
    auto col = MatchColumn(*ts, c.Arg(i));
    if (!col) return std::unexpected(col.error());
    const db::ColumnSchema* cs = ts->FindColumn(*col);
    if (!cs->is_mutable && !row->inserted) {
      return Fail("cannot modify read-only column " + cs->name + " in table " + ts->name);
    }
    if (cs->type.min > 0) {
      return Fail("\"clear\" operation cannot be applied to column " + cs->name + " of table " +
                  ts->name + ", which is not allowed to be empty");
    }
    c.db.Clear(row, cs->name);
  }
  return {};
}

Res<void> CmdCreate(Ctx& c, Cache&) {
  auto ts = GetTable(c.db, c.Arg(0));
  if (!ts) return std::unexpected(ts.error());
  std::optional<Uuid> uuid;
  if (c.Has("--id")) {
    auto s = c.DefineSymbol(c.Opt("--id"), std::nullopt);
    if (!s) return std::unexpected(s.error());
    uuid = *s;
  } else if (!(*ts)->is_root) {
    LogWarn("db_ctl_base", "applying \"create\" command to table " + (*ts)->name +
                               " without --id option will have no effect");
  }
  Row* row = c.db.Insert((*ts)->name, uuid);
  for (size_t i = 1; i < c.N(); ++i) {
    if (auto r = SetColumnArg(c, row, c.Arg(i), true); !r) return r;
  }
  c.Created(row->uuid);
  return {};
}

Res<void> CmdDestroy(Ctx& c, Cache&) {
  auto ts = GetTable(c.db, c.Arg(0));
  if (!ts) return std::unexpected(ts.error());
  bool all = c.Has("--all");
  if (all && c.N() > 1) return Fail("--all and records argument should not be specified together");
  if (!all && c.N() == 1) return Fail("either --all or records argument should be specified");
  if (all) {
    for (Row* r : c.db.Rows((*ts)->name)) c.db.Delete(r);
    return {};
  }
  for (size_t i = 1; i < c.N(); ++i) {
    auto row = GetRecord(c.db, **ts, c.Arg(i), !c.Has("--if-exists"));
    if (!row) return std::unexpected(row.error());
    if (*row) c.db.Delete(*row);
  }
  return {};
}

Res<void> CmdShow(Ctx& c, Cache&) {
  c.out = Show(c.db);
  return {};
}

Res<void> CmdNothing(Ctx&, Cache&) { return {}; }

using Handler = Res<void> (*)(Ctx&, Cache&);

const std::map<std::string, Handler>& Handlers() {
  static const std::map<std::string, Handler> kHandlers = {
      {"init", CmdNothing},
      {"comment", CmdNothing},
      {"show", CmdShow},
      {"emer-reset", CmdEmerReset},
      {"add-br", CmdAddBr},
      {"del-br", CmdDelBr},
      {"list-br", CmdListBr},
      {"br-exists", CmdBrExists},
      {"br-to-vlan", CmdBrToVlan},
      {"br-to-parent", CmdBrToParent},
      {"br-set-external-id", CmdBrSetExternalId},
      {"br-get-external-id", CmdBrGetExternalId},
      {"list-ports", CmdListPorts},
      {"add-port", CmdAddPort},
      {"add-bond", CmdAddBond},
      {"del-port", CmdDelPort},
      {"port-to-br", CmdPortToBr},
      {"list-ifaces", CmdListIfaces},
      {"iface-to-br", CmdIfaceToBr},
      {"get-controller", CmdGetController},
      {"del-controller", CmdDelController},
      {"set-controller", CmdSetController},
      {"get-fail-mode", CmdGetFailMode},
      {"del-fail-mode", CmdDelFailMode},
      {"set-fail-mode", CmdSetFailMode},
      {"get-manager", CmdGetManager},
      {"del-manager", CmdDelManager},
      {"set-manager", CmdSetManager},
      {"get", CmdGet},
      {"list", CmdList},
      {"find", CmdFind},
      {"set", CmdSet},
      {"add", CmdAdd},
      {"remove", CmdRemove},
      {"clear", CmdClear},
      {"create", CmdCreate},
      {"destroy", CmdDestroy},
      {"wait-until", CmdWaitUntil},
  };
  return kHandlers;
}

}  // namespace

Res<void> Executor::RunOne(const Command& cmd, size_t index) {
  auto h = Handlers().find(cmd.name);
  if (h == Handlers().end()) return Fail("unknown command '" + cmd.name + "'; use --help for help");
  Cache cache = BuildCache(db_);
  Ctx ctx{*this, db_, cmd, index, outputs_[index]};
  return h->second(ctx, cache);
}

}  // namespace sluice::vsctl
