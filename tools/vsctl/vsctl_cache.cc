// The vsctl cache of bridges, ports and interfaces.
#include "tools/vsctl/vsctl_cache.h"

namespace sluice::vsctl {

using db::Uuid;

namespace {

bool PortIsFakeBridge(WorkDb& db, Row* port) {
  auto tag = db.Int(port, "tag");
  return db.Bool(port, "fake_bridge") && tag && *tag >= 0 && *tag <= 4095;
}

}  // namespace

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

void DelPort(WorkDb& db, VPort* vp) {
  Row* br = vp->bridge->br;
  db.RemoveUuid(br, "ports", vp->port->uuid);
  DeletePortRows(db, vp->port);
}

}  // namespace sluice::vsctl
