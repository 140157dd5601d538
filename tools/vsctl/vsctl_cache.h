// The vsctl cache: bridges (real and fake), ports and interfaces by name, built from the working
// copy before each command as ovs-vsctl does, and the lookups and edits bridge commands share.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "tools/vsctl/vsctl.h"

namespace sluice::vsctl {

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

// Builds the cache, verifying the columns it read (Open_vSwitch bridges, Bridge ports, Port
// interfaces) so that a concurrent change makes the transaction retry.
Cache BuildCache(WorkDb& db);

// Bridge by name ("no bridge named X" if `must_exist`, else null when absent).
Res<VBridge*> FindBridge(Cache& c, const std::string& name, bool must_exist);
// As FindBridge(must_exist), refusing fake bridges.
Res<VBridge*> FindRealBridge(Cache& c, const std::string& name);
// The error ovs-vsctl gives when `name` is already a bridge, port or interface (empty if free).
std::string CheckConflicts(Cache& c, const std::string& name, const std::string& msg);
// Deletes a Port row and its Interface rows.
void DeletePortRows(WorkDb& db, Row* port);
// Removes a port from its (real) bridge and deletes it with its interfaces.
void DelPort(WorkDb& db, VPort* vp);

}  // namespace sluice::vsctl
