// The OVSDB server's remotes (--remote, Manager rows): passive ones (punix:, ptcp:, pssl:)
// listen and serve every connection they accept; active ones (unix:, tcp:, ssl:) connect out,
// serve the OVSDB protocol on that connection and reconnect with back-off whenever it fails or
// ends, as ovsdb-server does. Each remote has its options (max_backoff, inactivity_probe) and a
// status for the Manager table. The sessions themselves belong to the server: RemoteSet only
// hands it each established stream (TLS verified) through `serve`.
//
// Runs on the io_context it is given (the server's thread, in sluice-switchd not the control
// thread); OvsdbServer's remote methods are the way in from other threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <asio.hpp>

#include "common/jsonrpc.h"
#include "common/stream/reconnect.h"
#include "common/stream/tls_config.h"
#include "sluice/result.h"

namespace sluice {
class UnixctlServer;
}

namespace sluice::db {

class OvsdbServer;

struct RemoteOptions {
  int max_backoff_ms = 8000;     // active remotes: longest wait between attempts
  int inactivity_probe_ms = -1;  // -1: 5000 for tcp/ssl, none for unix (as ovsdb-server)
  bool operator==(const RemoteOptions&) const = default;
};

// One remote, for the Manager table's status columns.
struct RemoteStatus {
  std::string remote;
  bool active = false;      // tcp:/ssl:/unix: (the server connects out) vs passive (listens)
  bool connected = false;   // active: its session is up; passive: at least one session
  std::string state;        // active: ACTIVE, IDLE, BACKOFF or CONNECTING
  std::string last_error;   // why the last attempt or session ended; passive: last refusal
  uint16_t bound_port = 0;  // ptcp:/pssl:
  size_t n_connections = 0;
  int64_t sec_since_connect = -1;     // -1: never
  int64_t sec_since_disconnect = -1;  // -1: never
  std::string peer_subject;  // TLS: the connected peer's certificate subject (active remotes)
};

class RemoteSet {
 public:
  // Starts serving an established stream from `remote`; returns its connection (already
  // started). `on_closed(why)` must be called once when that session ends.
  using ServeFn = std::function<std::shared_ptr<JsonRpcConnection>(
      StreamPtr stream, const std::string& remote, std::function<void(const std::string&)>)>;

  RemoteSet(asio::io_context& io, ServeFn serve);
  ~RemoteSet();

  void SetTls(std::shared_ptr<TlsConfig> tls) { tls_ = std::move(tls); }
  const std::shared_ptr<TlsConfig>& tls() const { return tls_; }

  // Adds `remote`, or updates its options if it exists.
  Result<void> Add(const std::string& remote, const RemoteOptions& opts);
  Result<void> Remove(const std::string& remote);
  bool Has(const std::string& remote) const;
  std::vector<RemoteStatus> Statuses() const;
  uint16_t tcp_port(const std::string& remote) const;
  std::vector<std::string> List() const;

 private:
  struct Passive;
  struct Active;
  void Dial(Active& a);
  void Connected(Active& a, StreamPtr stream);
  static std::chrono::milliseconds ProbeFor(const std::string& remote, const RemoteOptions& o);

  asio::io_context& io_;
  ServeFn serve_;
  std::shared_ptr<TlsConfig> tls_;
  std::map<std::string, std::unique_ptr<Passive>> passive_;
  std::map<std::string, std::unique_ptr<Active>> active_;
};

// unixctl ovsdb-server/add-remote REMOTE, ovsdb-server/remove-remote REMOTE and
// ovsdb-server/list-remotes, as ovsdb-server has them (for a standalone server; switchd's
// remotes follow the Manager table).
void RegisterRemoteCommands(UnixctlServer& unixctl, OvsdbServer& server);

}  // namespace sluice::db
