// A bridge's OpenFlow connections: management listeners (punix:<rundir>/<br>.mgmt, ptcp:), the
// snoop listener, and the controllers of the Controller table. Active controller targets
// (tcp:HOST[:PORT], ssl:HOST[:PORT], unix:PATH) are connected and reconnected with back-off up to
// max_backoff; passive ones (ptcp:[PORT][:IP], pssl:[PORT][:IP], punix:PATH) listen, and any
// number of controllers may connect there. Each controller has Open vSwitch's options: type
// (primary, or service: default for passive targets, never counted for fail mode), inactivity
// probe, packet-in rate and burst limits (PacketInScheduler), the packet-in queue size,
// enable_async_messages and DSCP; its status (is_connected, role, state, last_error, times,
// packet-in statistics) is what the bridge layer writes back to the Controller row.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <asio.hpp>

#include "common/stream/listener.h"
#include "common/stream/tls_config.h"
#include "ofproto/connmgr/of_connection.h"

namespace sluice::ofp {

struct ControllerOptions {
  enum class Type { kDefault, kPrimary, kService };  // kDefault: by target (passive = service)
  std::string target;
  Type type = Type::kDefault;
  int max_backoff_ms = 8000;
  int probe_interval_ms = 5000;  // 0: no inactivity probe
  int rate_limit = 0;            // packet-ins per second and kind; 0: unlimited
  int burst_limit = 0;           // 0: a quarter of rate_limit (at least 1)
  bool enable_async_messages = true;
  int queue_size = 100;  // packet-ins that may wait to be sent
  int dscp = 48;         // IP DSCP of the connection's packets
  bool operator==(const ControllerOptions&) const = default;
};

struct ControllerStatus {
  std::string target;
  bool connected = false;
  ControllerRole role = ControllerRole::kEqual;
  std::string last_error;
  // Controller.status: state, last_error, sec_since_connect, sec_since_disconnect,
  // packet-in-{miss,action}-{backlog,bypassed,queued,dropped}; passive targets: bound_port,
  // n_connections.
  std::map<std::string, std::string> status;
};

class ConnectionManager {
 public:
  ConnectionManager(asio::io_context& io, OfHandler* handler);
  ~ConnectionManager();

  Result<void> AddListener(const std::string& remote);  // punix:PATH | ptcp:PORT[:IP]
  // A snoop listener (punix:<rundir>/<br>.snoop): each connection gets a copy of the traffic
  // of one controller connection (the master's, else an equal's, else a slave's), or is closed
  // at once when no controller is connected, as Open vSwitch does. May be called for several
  // paths.
  Result<void> AddSnoopListener(const std::string& remote);
  // The TLS configuration of ssl:/pssl: controllers (null: DefaultTlsConfig()).
  void SetTls(std::shared_ptr<TlsConfig> tls) { tls_ = std::move(tls); }
  // Replaces the set of controllers: targets not listed are disconnected, new ones connected or
  // listened on, and changed options applied to the existing ones. A passive target that cannot
  // listen is kept (with the reason as its last_error) and retried by the next call.
  void SetControllerOptions(const std::vector<ControllerOptions>& controllers);
  // Active/passive targets with common options (tests, ofproto/set-controller).
  void SetControllers(const std::vector<std::string>& targets, int max_backoff_ms = 8000,
                      int probe_interval_ms = 5000);

  // Sends a packet-in to every connection whose role and async configuration ask for it,
  // through that controller's rate limiter and queue limit.
  void SendPacketIn(const PacketIn& pi);

  std::vector<std::shared_ptr<OfConnection>> Connections() const;
  std::vector<ControllerStatus> Controllers() const;
  bool HasController() const;   // a primary controller connection is up
  bool HasControllers() const;  // any primary controller configured
  // How long (ms, on clock::NowMs) every configured primary controller has been out of touch:
  // 0 when one is connected or none is configured, else the shortest time since one was last
  // connected (or, never connected, since it was configured). Drives fail-open.
  int64_t FailureDurationMs() const;
  int MaxProbeIntervalMs() const;  // the largest inactivity probe interval of the controllers
  uint16_t tcp_port(const std::string& remote) const;  // management or passive controller

 private:
  struct Controller;
  struct PinState;
  void Adopt(std::shared_ptr<OfConnection> c);
  void Dial(Controller& c);
  void Listen(Controller& c);
  std::shared_ptr<OfConnection> NewControllerConnection(Controller& c, StreamPtr stream);
  void Configure(Controller& c, const ControllerOptions& opts);
  void RunPins(OfConnection* conn);
  bool Primary(const Controller& c) const;

  asio::io_context& io_;
  OfHandler* handler_;
  std::shared_ptr<TlsConfig> tls_;
  std::shared_ptr<MemoryBudget> budget_;
  std::vector<std::unique_ptr<StreamListener>> listeners_;  // management listeners
  std::vector<std::unique_ptr<StreamListener>> snoop_listeners_;
  std::map<OfConnection*, std::shared_ptr<OfConnection>> conns_;
  std::map<std::string, std::unique_ptr<Controller>> controllers_;
  std::map<OfConnection*, std::unique_ptr<PinState>> pins_;
};

}  // namespace sluice::ofp
