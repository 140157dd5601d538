#include "switchd/ofproto_commands.h"

#include <functional>

#include <fmt/format.h>

namespace sluice {
namespace {

using Args = UnixctlServer::Args;

Result<uint64_t> ParseU64(const std::string& s, int base, const std::string& what) {
  try {
    size_t pos = 0;
    uint64_t v = std::stoull(s, &pos, base);
    if (pos == s.size()) return v;
  } catch (...) {
  }
  return MakeError(Errc::kInvalid, "bad " + what + " '" + s + "'");
}

Result<ofp::Mac> ParseMac(const std::string& s) {
  ofp::Mac m{};
  unsigned v[6];
  if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) {
    return MakeError(Errc::kInvalid, "bad MAC address '" + s + "'");
  }
  for (int i = 0; i < 6; ++i) m[i] = static_cast<uint8_t>(v[i]);
  return m;
}

// ofproto/add-port options: tag=N trunks=A,B vlan_mode=access|trunk|native-tagged|dot1q-tunnel|
// native-untagged peer=NAME (patch port, no datapath port).
Result<void> ApplyPortOption(const std::string& opt, ofp::BridgePortSpec* spec) {
  size_t eq = opt.find('=');
  if (eq == std::string::npos) return MakeError(Errc::kInvalid, "bad port option '" + opt + "'");
  std::string k = opt.substr(0, eq), v = opt.substr(eq + 1);
  if (k == "tag") {
    auto n = ParseU64(v, 10, "tag");
    if (!n || *n > 4095) return MakeError(Errc::kInvalid, "bad tag '" + v + "'");
    spec->vlan.tag = static_cast<int>(*n);
    if (spec->vlan.mode == ofp::PortVlan::Mode::kTrunk)
      spec->vlan.mode = ofp::PortVlan::Mode::kAccess;
  } else if (k == "trunks") {
    size_t pos = 0;
    while (pos <= v.size()) {
      size_t c = v.find(',', pos);
      auto n = ParseU64(v.substr(pos, c == std::string::npos ? std::string::npos : c - pos), 10,
                        "trunk");
      if (!n || *n > 4095) return MakeError(Errc::kInvalid, "bad trunks '" + v + "'");
      spec->vlan.trunks.push_back(static_cast<uint16_t>(*n));
      if (c == std::string::npos) break;
      pos = c + 1;
    }
  } else if (k == "vlan_mode") {
    using M = ofp::PortVlan::Mode;
    if (v == "access")
      spec->vlan.mode = M::kAccess;
    else if (v == "trunk")
      spec->vlan.mode = M::kTrunk;
    else if (v == "native-tagged")
      spec->vlan.mode = M::kNativeTagged;
    else if (v == "native-untagged")
      spec->vlan.mode = M::kNativeUntagged;
    else if (v == "dot1q-tunnel")
      spec->vlan.mode = M::kDot1qTunnel;
    else
      return MakeError(Errc::kInvalid, "bad vlan_mode '" + v + "'");
  } else if (k == "peer") {
    spec->patch_peer = v;
  } else {
    return MakeError(Errc::kInvalid, "unknown port option '" + k + "'");
  }
  return {};
}

}  // namespace

void RegisterOfprotoCommands(UnixctlServer& server, ofp::OfprotoDpif& sw, dp::Dpif& dp) {
  server.Register("ofproto/add-br", "BRIDGE [DPID] [standalone|secure]", 1, 3,
                  [&sw, &dp](const Args& a) -> Result<std::string> {
                    const std::string& name = a[0];
                    uint64_t dpid = std::hash<std::string>{}(name)&0xffffffffffffULL;
                    if (a.size() >= 2) {
                      auto v = ParseU64(a[1], 16, "datapath id (hex expected)");
                      if (!v) return std::unexpected(v.error());
                      dpid = *v;
                    }
                    bool secure = true;
                    if (a.size() == 3) {
                      if (a[2] != "secure" && a[2] != "standalone") {
                        return MakeError(Errc::kInvalid, "fail mode must be secure or standalone");
                      }
                      secure = a[2] == "secure";
                    }
                    auto br = sw.AddBridge(name, dpid, secure);
                    if (!br) return std::unexpected(br.error());
                    for (const auto& p : dp.PortDump()) {
                      if (sw.FindDpPort(p.port_no)) continue;
                      ofp::BridgePortSpec spec;
                      spec.name = p.name;
                      spec.ofport = p.port_no;
                      spec.dp_port = p.port_no;
                      (void)sw.AddPort(name, spec);
                    }
                    return std::string();
                  });
  server.Register("ofproto/add-port", "BRIDGE PORT [OFPORT] [OPTION=VALUE...]", 2, 12,
                  [&sw, &dp](const Args& a) -> Result<std::string> {
                    ofp::BridgePortSpec spec;
                    spec.name = a[1];
                    size_t i = 2;
                    if (a.size() > 2 && a[2].find('=') == std::string::npos) {
                      auto n = ParseU64(a[2], 10, "OpenFlow port");
                      if (!n) return std::unexpected(n.error());
                      spec.ofport = static_cast<uint32_t>(*n);
                      i = 3;
                    }
                    for (; i < a.size(); ++i) {
                      if (auto r = ApplyPortOption(a[i], &spec); !r) {
                        return std::unexpected(r.error());
                      }
                    }
                    if (spec.patch_peer.empty()) {
                      auto port = dp.PortQueryByName(spec.name);
                      if (!port) return std::unexpected(port.error());
                      spec.dp_port = port->port_no;
                    }
                    auto r = sw.AddPort(a[0], spec);
                    if (!r) return std::unexpected(r.error());
                    return std::to_string(*r) + "\n";
                  });
  server.Register("ofproto/del-port", "BRIDGE PORT", 2, 2,
                  [&sw](const Args& a) -> Result<std::string> {
                    if (auto r = sw.DelPort(a[0], a[1]); !r) return std::unexpected(r.error());
                    return std::string();
                  });
  server.Register("ofproto/del-br", "BRIDGE", 1, 1, [&sw](const Args& a) -> Result<std::string> {
    if (auto r = sw.DelBridge(a[0]); !r) return std::unexpected(r.error());
    return std::string();
  });
  server.Register("ofproto/list", "", 0, 0, [&sw](const Args&) -> Result<std::string> {
    std::string out;
    for (const auto& name : sw.BridgeNames()) out += name + "\n";
    return out;
  });
  server.Register("ofproto/set-controller", "BRIDGE [TARGET...]", 1, 16,
                  [&sw](const Args& a) -> Result<std::string> {
                    ofp::Ofproto* br = sw.FindBridge(a[0]);
                    if (!br) return MakeError(Errc::kNotFound, "no bridge named " + a[0]);
                    br->connmgr().SetControllers(std::vector<std::string>(a.begin() + 1, a.end()));
                    return std::string();
                  });
  server.Register("ofproto/show-controllers", "BRIDGE", 1, 1,
                  [&sw](const Args& a) -> Result<std::string> {
                    ofp::Ofproto* br = sw.FindBridge(a[0]);
                    if (!br) return MakeError(Errc::kNotFound, "no bridge named " + a[0]);
                    std::string out;
                    for (const auto& c : br->connmgr().Controllers()) {
                      out += c.target + (c.connected ? " connected" : " not connected");
                      if (!c.last_error.empty()) out += " (" + c.last_error + ")";
                      out += "\n";
                    }
                    return out;
                  });
  server.Register("ofproto/trace", "BRIDGE FLOW", 2, 2,
                  [&sw](const Args& a) { return sw.Trace(a[0], a[1]); });
  server.Register("fdb/show", "BRIDGE", 1, 1, [&sw](const Args& a) -> Result<std::string> {
    if (!sw.FindBridge(a[0])) return MakeError(Errc::kNotFound, "no such bridge");
    return sw.FdbShow(a[0]);
  });
  server.Register("fdb/flush", "[BRIDGE]", 0, 1, [&sw](const Args& a) -> Result<std::string> {
    if (auto r = sw.FdbFlush(a.empty() ? "" : a[0]); !r) return std::unexpected(r.error());
    return std::string("table successfully flushed\n");
  });
  server.Register("fdb/stats-show", "BRIDGE", 1, 1, [&sw](const Args& a) -> Result<std::string> {
    if (!sw.FindBridge(a[0])) return MakeError(Errc::kNotFound, "no such bridge");
    return sw.FdbStats(a[0]);
  });
  server.Register(
      "fdb/add", "BRIDGE PORT VLAN MAC", 4, 4, [&sw](const Args& a) -> Result<std::string> {
        auto vlan = ParseU64(a[2], 10, "VLAN");
        if (!vlan || *vlan > 4095) return MakeError(Errc::kInvalid, "bad VLAN");
        auto mac = ParseMac(a[3]);
        if (!mac) return std::unexpected(mac.error());
        if (auto r = sw.FdbAddStatic(a[0], a[1], static_cast<uint16_t>(*vlan), *mac); !r) {
          return std::unexpected(r.error());
        }
        return std::string();
      });
  server.Register("bridge/dump-flows", "BRIDGE", 1, 1,
                  [&sw](const Args& a) { return sw.DumpFlowsText(a[0]); });
  server.Register("memory/show", "", 0, 0,
                  [&sw](const Args&) -> Result<std::string> { return sw.MemoryText(); });
  server.Register("coverage/show", "", 0, 0,
                  [&sw](const Args&) -> Result<std::string> { return sw.CoverageText(); });
  server.Register("revalidator/check", "", 0, 0, [&sw](const Args&) -> Result<std::string> {
    std::string out;
    for (const auto& p : sw.VerifyMegaflows()) out += p + "\n";
    return out.empty() ? std::string("all megaflows agree with the tables\n") : out;
  });
  server.Register("revalidator/sync", "", 0, 0, [&sw](const Args&) -> Result<std::string> {
    sw.Sync();
    return std::string();
  });
}

}  // namespace sluice
