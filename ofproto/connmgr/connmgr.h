// A bridge's OpenFlow connections: passive management listeners (punix:<rundir>/<br>.mgmt,
// ptcp:PORT[:IP]) and active controller connections (tcp:IP[:PORT], unix:PATH) that reconnect
// with exponential back-off.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <asio.hpp>

#include "common/jsonrpc.h"
#include "ofproto/connmgr/of_connection.h"

namespace sluice::ofp {

struct ControllerStatus {
  std::string target;
  bool connected = false;
  ControllerRole role = ControllerRole::kEqual;
  std::string last_error;
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
  // Replaces the set of controllers (targets not listed are disconnected).
  void SetControllers(const std::vector<std::string>& targets, int max_backoff_ms = 8000,
                      int probe_interval_ms = 5000);

  std::vector<std::shared_ptr<OfConnection>> Connections() const;
  std::vector<ControllerStatus> Controllers() const;
  bool HasController() const;                                    // any controller connection is up
  bool HasControllers() const { return !controllers_.empty(); }  // any configured
  // How long (ms, on clock::NowMs) every configured controller has been out of touch: 0 when
  // one is connected or none is configured, else the shortest time since one was last
  // connected (or, never connected, since it was configured). Drives fail-open.
  int64_t FailureDurationMs() const;
  int MaxProbeIntervalMs() const;  // the largest inactivity probe interval of the controllers
  uint16_t tcp_port(const std::string& remote) const;

 private:
  struct Active;
  void Adopt(std::shared_ptr<OfConnection> c);
  void Dial(Active& a);

  asio::io_context& io_;
  OfHandler* handler_;
  std::vector<std::unique_ptr<JsonRpcListener>> listeners_;  // generic stream listeners
  std::vector<std::unique_ptr<JsonRpcListener>> snoop_listeners_;
  std::map<OfConnection*, std::shared_ptr<OfConnection>> conns_;
  std::map<std::string, std::unique_ptr<Active>> controllers_;
};

}  // namespace sluice::ofp
