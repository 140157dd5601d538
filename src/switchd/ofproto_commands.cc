#include "switchd/ofproto_commands.h"

#include <functional>

namespace sluice {

std::vector<ofp::OfPort> OfprotoRegistry::DatapathPorts() const {
  std::vector<ofp::OfPort> out;
  for (const auto& p : dp_.Ports()) {
    ofp::OfPort op;
    op.desc.port_no = p.port_no;
    op.desc.name = p.name.substr(0, 15);
    op.desc.state = p.link_up ? 0 : 1;  // OFPPS_LINK_DOWN
    op.stats.rx_packets = p.stats.rx_packets;
    op.stats.tx_packets = p.stats.tx_packets;
    op.stats.rx_bytes = p.stats.rx_bytes;
    op.stats.tx_bytes = p.stats.tx_bytes;
    op.stats.rx_dropped = p.stats.rx_dropped;
    op.stats.tx_dropped = p.stats.tx_dropped;
    op.stats.rx_errors = p.stats.rx_errors;
    op.stats.tx_errors = p.stats.tx_errors;
    out.push_back(op);
  }
  return out;
}

void OfprotoRegistry::Register(UnixctlServer& server) {
  using Args = UnixctlServer::Args;
  server.Register(
      "ofproto/add-br", "BRIDGE [DPID]", 1, 2, [this](const Args& a) -> Result<std::string> {
        const std::string& name = a[0];
        if (bridges_.count(name))
          return MakeError(Errc::kExists, "bridge " + name + " already exists");
        uint64_t dpid = std::hash<std::string>{}(name)&0xffffffffffffULL;
        if (a.size() == 2) {
          try {
            dpid = std::stoull(a[1], nullptr, 16);
          } catch (...) {
            return MakeError(Errc::kInvalid, "bad datapath id '" + a[1] + "' (hex expected)");
          }
        }
        auto br = std::make_unique<ofp::Ofproto>(io_, name, dpid);
        if (auto r = br->connmgr().AddListener("punix:" + rundir_ + "/" + name + ".mgmt"); !r) {
          return std::unexpected(r.error());
        }
        br->SetPorts(DatapathPorts());
        br->OnPortStatsRequest([this](std::vector<ofp::OfPort>& ports) {
          auto fresh = DatapathPorts();
          for (auto& p : ports) {
            for (const auto& f : fresh) {
              if (f.desc.port_no == p.desc.port_no) p = f;
            }
          }
        });
        bridges_[name] = std::move(br);
        return std::string();
      });
  server.Register("ofproto/del-br", "BRIDGE", 1, 1, [this](const Args& a) -> Result<std::string> {
    if (!bridges_.erase(a[0])) return MakeError(Errc::kNotFound, "no bridge named " + a[0]);
    return std::string();
  });
  server.Register("ofproto/list", "", 0, 0, [this](const Args&) -> Result<std::string> {
    std::string out;
    for (const auto& [name, br] : bridges_) out += name + "\n";
    return out;
  });
  server.Register(
      "ofproto/set-controller", "BRIDGE [TARGET...]", 1, 16,
      [this](const Args& a) -> Result<std::string> {
        auto it = bridges_.find(a[0]);
        if (it == bridges_.end()) {
          return MakeError(Errc::kNotFound, "no bridge named " + a[0]);
        }
        it->second->connmgr().SetControllers(std::vector<std::string>(a.begin() + 1, a.end()));
        return std::string();
      });
  server.Register("ofproto/show-controllers", "BRIDGE", 1, 1,
                  [this](const Args& a) -> Result<std::string> {
                    auto it = bridges_.find(a[0]);
                    if (it == bridges_.end()) {
                      return MakeError(Errc::kNotFound, "no bridge named " + a[0]);
                    }
                    std::string out;
                    for (const auto& c : it->second->connmgr().Controllers()) {
                      out += c.target + (c.connected ? " connected" : " not connected");
                      if (!c.last_error.empty()) out += " (" + c.last_error + ")";
                      out += "\n";
                    }
                    return out;
                  });
}

}  // namespace sluice
