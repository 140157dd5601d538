#include "bridge/bridge_config.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace sluice::bridge {

std::map<std::string, std::vector<std::string>> ReplicatedColumns() {
  return {
      {"Open_vSwitch",
       {"bridges", "manager_options", "next_cfg", "cur_cfg", "ovs_version", "db_version",
        "datapath_types", "iface_types", "dpdk_initialized", "dpdk_version", "other_config",
        "ssl"}},
      {"Bridge", {"name", "ports", "controller", "fail_mode", "other_config", "datapath_id"}},
      {"Port", {"name", "interfaces", "tag", "trunks", "vlan_mode", "cvlans", "other_config"}},
      {"Interface",
       {"name", "type", "options", "ofport", "ofport_request", "mac", "mtu_request", "error",
        "admin_state", "link_state", "mac_in_use", "mtu", "ifindex", "statistics"}},
      {"Controller",
       {"target", "type", "max_backoff", "inactivity_probe", "controller_rate_limit",
        "controller_burst_limit", "controller_queue_size", "enable_async_messages", "other_config",
        "is_connected", "role", "status"}},
      {"Manager", {"target", "max_backoff", "inactivity_probe", "is_connected", "status"}},
      {"SSL", {"private_key", "certificate", "ca_cert", "bootstrap_ca_cert"}},
  };
}

std::vector<std::string> SupportedIfaceTypes() {
  return {"dpdk", "dummy", "internal", "patch", "system", "tap"};
}

Result<IfaceKind> ClassifyIfaceType(const std::string& type) {
  if (type.empty() || type == "system") return IfaceKind::kSystem;
  if (type == "dpdk") return IfaceKind::kDpdk;
  if (type == "internal") return IfaceKind::kInternal;
  if (type == "tap") return IfaceKind::kTap;
  if (type == "patch") return IfaceKind::kPatch;
  if (type == "dummy") return IfaceKind::kDummy;
  std::string supported;
  for (const auto& t : SupportedIfaceTypes()) supported += (supported.empty() ? "" : ", ") + t;
  return MakeError(Errc::kUnsupported,
                   "unsupported interface type '" + type + "' (supported: " + supported + ")");
}

bool IsKernelKind(IfaceKind kind) {
  return kind == IfaceKind::kSystem || kind == IfaceKind::kInternal || kind == IfaceKind::kTap;
}

bool SameDatapathConfig(const IfaceConfig& a, const IfaceConfig& b) {
  return a.type == b.type && a.options == b.options && a.mac == b.mac &&
         a.mtu_request == b.mtu_request && a.config_error == b.config_error;
}

std::optional<ofp::Mac> ParseMac(const std::string& text) {
  ofp::Mac mac{};
  if (text.size() != 17) return std::nullopt;
  for (size_t i = 0; i < 6; ++i) {
    if (i > 0 && text[i * 3 - 1] != ':') return std::nullopt;
    unsigned v = 0;
    for (size_t j = 0; j < 2; ++j) {
      char c = text[i * 3 + j];
      unsigned d;
      if (c >= '0' && c <= '9')
        d = c - '0';
      else if (c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
      else
        return std::nullopt;
      v = v * 16 + d;
    }
    mac[i] = static_cast<uint8_t>(v);
  }
  return mac;
}

std::string FormatMac(const ofp::Mac& mac) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                mac[4], mac[5]);
  return buf;
}

ofp::Mac DefaultBridgeMac(const std::string& bridge) {
  // FNV-1a of the name: stable across restarts, so the datapath id is too.
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bridge) h = (h ^ c) * 0x100000001b3ULL;
  ofp::Mac mac;
  for (int i = 0; i < 6; ++i) mac[i] = static_cast<uint8_t>(h >> (8 * i));
  mac[0] = static_cast<uint8_t>((mac[0] & 0xfe) | 0x02);  // unicast, locally administered
  return mac;
}

std::optional<uint64_t> ParseDatapathId(const std::string& text) {
  std::string_view s = text;
  if (s.starts_with("0x") || s.starts_with("0X")) s.remove_prefix(2);
  if (s.size() != 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    unsigned d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return std::nullopt;
    v = v << 4 | d;
  }
  return v;
}

uint64_t DatapathIdFromMac(const ofp::Mac& mac) {
  uint64_t v = 0;
  for (uint8_t b : mac) v = v << 8 | b;
  return v;
}

std::string FormatDatapathId(uint64_t dpid) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(dpid));
  return buf;
}

ofp::PortVlan VlanFromPortRow(const db::IdlRow& port, std::string* warning, std::string* error) {
  using Mode = ofp::PortVlan::Mode;
  ofp::PortVlan v;
  const db::Datum* tag = port.Get("tag");
  bool has_tag = tag && !tag->empty();
  int tag_value = has_tag ? static_cast<int>(port.GetInt("tag")) : -1;
  if (const db::Datum* t = port.Get("trunks")) {
    for (const auto& a : t->keys) {
      if (auto* n = std::get_if<int64_t>(&a)) v.trunks.push_back(static_cast<uint16_t>(*n));
    }
  }
  std::string mode = port.GetString("vlan_mode");
  if (mode.empty()) mode = has_tag ? "access" : "trunk";
  if (mode == "trunk") {
    v.mode = Mode::kTrunk;
    if (has_tag && warning) *warning = "tag is ignored in vlan_mode trunk";
  } else if (mode == "access") {
    v.mode = Mode::kAccess;
    v.tag = has_tag ? tag_value : 0;
    if (!v.trunks.empty() && warning) *warning = "trunks are ignored in vlan_mode access";
    v.trunks.clear();
  } else if (mode == "native-tagged" || mode == "native-untagged") {
    v.mode = mode == "native-tagged" ? Mode::kNativeTagged : Mode::kNativeUntagged;
    v.tag = has_tag ? tag_value : 0;
  } else if (mode == "dot1q-tunnel") {
    // 802.1ad: an outer tag (other_config:qinq-ethtype, 802.1ad by default) with the port's
    // tag on every frame entering; removed on the way out. cvlans limits the inner VLANs.
    v.mode = Mode::kDot1qTunnel;
    v.tag = has_tag ? tag_value : 0;
    v.trunks.clear();
    if (const db::Datum* c = port.Get("cvlans")) {
      for (const auto& a : c->keys) {
        if (auto* n = std::get_if<int64_t>(&a)) v.cvlans.push_back(static_cast<uint16_t>(*n));
      }
    }
    auto oc = port.GetStringMap("other_config");
    if (auto it = oc.find("qinq-ethtype"); it != oc.end()) {
      if (it->second == "802.1q") {
        v.qinq_tpid = 0x8100;
      } else if (it->second != "802.1ad" && warning) {
        *warning = "ignoring bad other_config:qinq-ethtype " + it->second;
      }
    }
  } else {
    std::string why = "vlan_mode " + mode + " is not supported";
    v.mode = Mode::kAccess;
    v.tag = has_tag ? tag_value : 0;
    v.trunks.clear();
    if (error) {
      *error = why;
    } else if (warning) {
      *warning = why;
    }
  }
  return v;
}

Result<dp::PortSpec> DatapathPortSpec(const IfaceConfig& iface, IfaceKind kind) {
  dp::PortSpec spec;
  spec.name = iface.name;
  switch (kind) {
    case IfaceKind::kSystem:
      spec.type = "system";
      break;
    case IfaceKind::kDpdk: {
      spec.type = "dpdk";
      auto it = iface.options.find("dpdk-devargs");
      if (it == iface.options.end() || it->second.empty()) {
        return MakeError(Errc::kInvalid, "type dpdk requires options:dpdk-devargs");
      }
      spec.options["dpdk-devargs"] = it->second;
      if (auto q = iface.options.find("n_rxq"); q != iface.options.end()) {
        spec.options["n_rxq"] = q->second;
      }
      break;
    }
    case IfaceKind::kInternal:
    case IfaceKind::kTap:
      // Both are kernel taps the datapath creates (net_tap) and configures through netlink.
      spec.type = "internal";
      if (!iface.mac.empty()) {
        if (!ParseMac(iface.mac)) return MakeError(Errc::kInvalid, "bad mac '" + iface.mac + "'");
        spec.options["mac"] = iface.mac;
      }
      if (iface.mtu_request > 0) spec.options["mtu"] = std::to_string(iface.mtu_request);
      break;
    case IfaceKind::kDummy:
      spec.type = "dummy";
      if (auto it = iface.options.find("pcap"); it != iface.options.end()) {
        spec.options["pcap"] = it->second;
      }
      break;
    case IfaceKind::kPatch:
      return MakeError(Errc::kInvalid, "patch ports have no datapath port");
  }
  return spec;
}

namespace {

const db::IdlRow* Row(const TableRows& rows, const std::string& table, const db::Uuid& u) {
  const auto& t = rows(table);
  auto it = t.find(u);
  return it == t.end() ? nullptr : &it->second;
}

int IntOr(const db::IdlRow& row, const std::string& col, int dflt) {
  const db::Datum* d = row.Get(col);
  if (!d || d->empty()) return dflt;
  return static_cast<int>(row.GetInt(col, dflt));
}

}  // namespace

DesiredConfig BuildDesiredConfig(const TableRows& rows) {
  DesiredConfig out;
  const auto& roots = rows("Open_vSwitch");
  if (roots.empty()) return out;
  const db::IdlRow& root = roots.begin()->second;
  out.root = root.uuid;
  out.next_cfg = root.GetInt("next_cfg");
  auto oc = root.GetStringMap("other_config");
  // A non-negative decimal integer, or nullopt (with a warning) for anything else.
  auto number = [&](const char* key) -> std::optional<int64_t> {
    auto it = oc.find(key);
    if (it == oc.end()) return std::nullopt;
    const std::string& v = it->second;
    char* end = nullptr;
    errno = 0;
    long long n = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end || errno || n < 0) {
      out.warnings.push_back(std::string("ignoring bad other_config:") + key + " " + v);
      return std::nullopt;
    }
    return n;
  };
  if (auto ms = number("max-idle")) {
    if (*ms < 500) {
      out.warnings.push_back("ignoring other_config:max-idle " + std::to_string(*ms) +
                             " (below the minimum of 500 ms)");
    } else {
      out.tuning.max_idle_ms = *ms;
    }
  }
  if (auto n = number("flow-limit")) out.tuning.max_megaflows = static_cast<size_t>(*n);
  if (auto n = number("max-megaflows")) out.tuning.max_megaflows = static_cast<size_t>(*n);
  for (const auto& u : root.GetUuids("manager_options")) {
    if (const db::IdlRow* m = Row(rows, "Manager", u)) {
      std::string target = m->GetString("target");
      if (!target.empty()) out.managers.insert(target);
    }
  }

  // Interface name -> where it was first seen, to reject duplicates.
  std::map<std::string, std::string> seen_iface;
  std::set<std::string> bridge_names;
  for (const auto& u : root.GetUuids("bridges")) {
    if (const db::IdlRow* b = Row(rows, "Bridge", u)) bridge_names.insert(b->GetString("name"));
  }
  for (const auto& u : root.GetUuids("bridges")) {
    const db::IdlRow* b = Row(rows, "Bridge", u);
    if (!b) continue;
    BridgeConfig br;
    br.uuid = u;
    br.name = b->GetString("name");
    if (br.name.empty() || out.bridges.count(br.name)) continue;
    auto oc = b->GetStringMap("other_config");
    br.mac = DefaultBridgeMac(br.name);
    if (auto it = oc.find("hwaddr"); it != oc.end()) {
      if (auto m = ParseMac(it->second))
        br.mac = *m;
      else
        out.warnings.push_back(br.name + ": ignoring bad other_config:hwaddr " + it->second);
    }
    br.dpid = DatapathIdFromMac(br.mac);
    if (auto it = oc.find("datapath-id"); it != oc.end()) {
      if (auto d = ParseDatapathId(it->second))
        br.dpid = *d;
      else
        out.warnings.push_back(br.name + ": ignoring bad other_config:datapath-id " + it->second);
    }
    br.secure = b->GetString("fail_mode") == "secure";
    for (const auto& cu : b->GetUuids("controller")) {
      const db::IdlRow* c = Row(rows, "Controller", cu);
      if (!c) continue;
      ControllerConfig cc;
      cc.uuid = cu;
      cc.target = c->GetString("target");
      cc.max_backoff_ms = IntOr(*c, "max_backoff", 8000);
      cc.probe_interval_ms = IntOr(*c, "inactivity_probe", 5000);
      if (!cc.target.empty()) br.controllers.push_back(cc);
    }
    std::sort(
        br.controllers.begin(), br.controllers.end(),
        [](const ControllerConfig& a, const ControllerConfig& b) { return a.target < b.target; });
    for (const auto& pu : b->GetUuids("ports")) {
      const db::IdlRow* p = Row(rows, "Port", pu);
      if (!p) continue;
      PortConfig pc;
      pc.uuid = pu;
      pc.name = p->GetString("name");
      if (pc.name.empty() || br.ports.count(pc.name)) continue;
      std::string warning, vlan_error;
      pc.vlan = VlanFromPortRow(*p, &warning, &vlan_error);
      if (!warning.empty()) out.warnings.push_back(br.name + "/" + pc.name + ": " + warning);
      auto iface_uuids = p->GetUuids("interfaces");
      for (const auto& iu : iface_uuids) {
        const db::IdlRow* i = Row(rows, "Interface", iu);
        if (!i) continue;
        IfaceConfig ic;
        ic.uuid = iu;
        ic.name = i->GetString("name");
        if (ic.name.empty()) continue;
        std::string where = "bridge " + br.name + " port " + pc.name;
        if (auto it = seen_iface.find(ic.name); it != seen_iface.end()) {
          out.rejected[ic.name] = "interface is also in " + it->second;
          continue;
        }
        if (bridge_names.count(ic.name) && ic.name != br.name) {
          out.rejected[ic.name] = "interface has the name of bridge " + ic.name;
          continue;
        }
        seen_iface[ic.name] = where;
        ic.type = i->GetString("type");
        ic.options = i->GetStringMap("options");
        ic.ofport_request = i->GetInt("ofport_request", 0);
        ic.ofport_stored = i->GetInt("ofport", 0);
        ic.mac = i->GetString("mac");
        ic.mtu_request = i->GetInt("mtu_request", 0);
        if (iface_uuids.size() > 1) {
          ic.config_error = "port " + pc.name + " has " + std::to_string(iface_uuids.size()) +
                            " interfaces: bonds are not supported";
        } else if (!vlan_error.empty()) {
          ic.config_error = "port " + pc.name + ": " + vlan_error;
        }
        pc.ifaces.push_back(std::move(ic));
      }
      br.ports[pc.name] = std::move(pc);
    }
    out.bridges[br.name] = std::move(br);
  }
  return out;
}

}  // namespace sluice::bridge
