// switchd's connections as the database configures them: each bridge's Controller rows applied
// to its connection manager, the Manager rows (Open_vSwitch.manager_options) to the embedded
// database server's remotes, and the SSL row (Open_vSwitch.ssl, with other_config ssl-*) to
// the TLS configuration of every ssl:/pssl: connection switchd makes or accepts, with the options
// operators set (remote_config.h reads the rows as Open vSwitch reads them). Only what changed is
// applied: a controller whose options change keeps its connections, which take the new options.
// Also the Controller and Manager status columns the bridge layer writes back.
//
// Without an SSL row switchd's command-line options (-p/-c/-C/--bootstrap-ca-cert ...) apply;
// with one, its files do, for new connections (including switchd's own to an ssl: --db, as
// ovs-vswitchd uses one configuration for everything).
//
// Control thread only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/stream/tls_config.h"
#include "ofproto/connmgr/connmgr.h"
#include "ovsdb/idl/idl.h"
#include "ovsdb/server/remotes.h"

namespace sluice::ofp {
class Ofproto;
}
namespace sluice::db {
class OvsdbServer;
}

namespace sluice::bridge {

// The is_connected, role and status columns of a Controller or Manager row.
struct RemoteRowStatus {
  bool connected = false;
  std::string role;  // Controller.role: "" when not connected
  std::map<std::string, std::string> status;
};

class BridgeRemotes {
 public:
  // `rundirs`: where the unix sockets of controllers and managers may be (switchd's run
  // directory, and Open vSwitch's in drop-in mode). `embedded`: the server whose remotes the
  // Manager rows are (null: switchd follows another server, which serves its own managers).
  // `tls_defaults`: switchd's command-line TLS options.
  BridgeRemotes(std::vector<std::string> rundirs, db::OvsdbServer* embedded,
                TlsOptions tls_defaults);

  void ApplySsl(const db::Idl& idl);
  // The Controller rows of the Bridge row `bridge_uuid` named `bridge` to its connection
  // manager. Targets outside the run directory are refused (their status says why).
  void ApplyControllers(const db::Idl& idl, const std::string& bridge, const db::Uuid& bridge_uuid,
                        ofp::Ofproto* ofproto);
  // The bridge was removed: a bridge of that name starts without controllers.
  void ForgetBridge(const std::string& bridge);
  void ApplyManagers(const db::Idl& idl);
  bool has_managers() const { return !managers_.empty() || !manager_errors_.empty(); }

  // Status columns; nullopt while the row has not been applied. The sec_since_* keys are
  // refreshed when anything else in the status changes and otherwise every kTimesRefreshMs, so
  // that an idle connection does not cost a transaction every second.
  std::optional<RemoteRowStatus> ControllerRow(const std::string& bridge, const std::string& target,
                                               const std::vector<ofp::ControllerStatus>& all);
  std::optional<RemoteRowStatus> ManagerRow(const std::string& target,
                                            const std::vector<db::RemoteStatus>& all);

  static constexpr int64_t kTimesRefreshMs = 5000;

 private:
  struct Written {
    std::map<std::string, std::string> status;
    int64_t at_ms = 0;
  };
  bool TargetAllowed(const std::string& target, const std::string& bridge, bool manager,
                     std::string* why) const;
  void WarnOnce(const std::string& msg);
  std::map<std::string, std::string> Settle(const std::string& key,
                                            std::map<std::string, std::string> now);

  std::vector<std::string> rundirs_;
  db::OvsdbServer* embedded_;
  TlsOptions tls_defaults_;
  std::map<std::string, std::vector<ofp::ControllerOptions>> controllers_;       // by bridge
  std::map<std::string, std::map<std::string, std::string>> controller_errors_;  // bridge, target
  std::map<std::string, db::RemoteOptions> managers_;  // applied to the embedded server
  std::map<std::string, std::string> manager_errors_;  // targets refused, and why
  std::map<std::string, Written> written_;             // status last returned, by row key
  std::set<std::string> warned_;
};

}  // namespace sluice::bridge
