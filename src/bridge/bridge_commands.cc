// The bridge layer's unixctl commands: bridge/show (what is applied, with errors) and
// bridge/reconcile.
#include "bridge/bridge.h"

namespace sluice::bridge {

// ---- unixctl ------------------------------------------------------------------------------

std::string BridgeLayer::Show() const {
  std::string out = "database " + opts_.db_remote + (idl_.connected() ? "" : " (not connected)") +
                    ", " + std::to_string(reconciles_) + " reconciliations, cfg " +
                    std::to_string(applied_cfg_) + "\n";
  for (const auto& [bn, ab] : bridges_) {
    out += "bridge " + bn + " dpid " + FormatDatapathId(ab.dpid) +
           (ab.secure ? " secure" : " standalone") + "\n";
    for (const auto& [name, rec] : ifaces_) {
      if (rec.bridge != bn) continue;
      out += "  " + name + ": ";
      if (rec.attached) {
        out += "ofport " +
               (rec.ofport == ofp::kPortLocal ? std::string("LOCAL") : std::to_string(rec.ofport));
        if (rec.dp_port != kOdpPortNone) out += ", dp port " + std::to_string(rec.dp_port);
        if (!rec.patch_peer.empty()) out += ", peer " + rec.patch_peer;
        out += rec.link_up ? ", link up" : ", link down";
      } else {
        out += "error: " + rec.error;
      }
      out += "\n";
    }
  }
  for (const auto& [name, why] : rejected_) out += "rejected " + name + ": " + why + "\n";
  return out;
}

void BridgeLayer::RegisterCommands(UnixctlServer& unixctl) {
  using Args = UnixctlServer::Args;
  unixctl.Register("bridge/show", "", 0, 0,
                   [this](const Args&) -> Result<std::string> { return Show(); });
  unixctl.Register("bridge/reconcile", "", 0, 0, [this](const Args&) -> Result<std::string> {
    for (auto& [name, rec] : ifaces_) {
      if (!rec.error.empty()) rec.permanent = false;
    }
    Reconcile();
    return std::string();
  });
}

}  // namespace sluice::bridge
