// sluice-vsctl's bridge, port, interface, controller and manager commands (the ones that work
// on the vsctl cache), and emer-reset.
#include <algorithm>

#include "tools/vsctl/vsctl_commands.h"

namespace sluice::vsctl {

using db::Uuid;

namespace {

std::string SortedLines(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

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
  // The bridge's own port, with its internal interface of the same name.
  auto bridge_port = [&] {
    Row* iface = db.Insert("Interface");
    db.SetStr(iface, "name", name);
    db.SetStr(iface, "type", "internal");
    Row* port = db.Insert("Port");
    db.SetStr(port, "name", name);
    db.AddUuid(port, "interfaces", iface->uuid);
    return port;
  };
  if (parent_name.empty()) {
    Row* port = bridge_port();
    Row* br = db.Insert("Bridge");
    db.SetStr(br, "name", name);
    db.AddUuid(br, "ports", port->uuid);
    db.AddUuid(cache.ovs, "bridges", br->uuid);
  } else {
    auto it = cache.bridges.find(parent_name);
    if (it == cache.bridges.end()) return Fail("parent bridge " + parent_name + " does not exist");
    if (it->second->parent) return Fail("cannot create bridge with fake bridge as parent");
    Row* port = bridge_port();
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

// list-ports / list-ifaces: the names in `by_name` whose bridge (by `bridge_of`) is the
// argument's, but for the bridge's own port and interface.
template <class Map, class BridgeOf>
Res<void> ListNames(Ctx& c, Cache& cache, const Map& by_name, BridgeOf bridge_of) {
  auto b = FindBridge(cache, c.Arg(0), true);
  if (!b) return std::unexpected(b.error());
  std::vector<std::string> names;
  for (auto& [n, v] : by_name) {
    if (bridge_of(*v) == *b && n != (*b)->name) names.push_back(n);
  }
  c.out = SortedLines(names);
  return {};
}

Res<void> CmdListPorts(Ctx& c, Cache& cache) {
  return ListNames(c, cache, cache.ports, [](const VPort& p) { return p.bridge; });
}

Res<void> CmdListIfaces(Ctx& c, Cache& cache) {
  return ListNames(c, cache, cache.ifaces, [](const VIface& i) { return i.port->bridge; });
}

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

}  // namespace

void AddBridgeCommands(std::map<std::string, Handler>& out) {
  out.insert({
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
  });
}

}  // namespace sluice::vsctl
