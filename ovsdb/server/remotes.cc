#include "ovsdb/server/remotes.h"

#include <algorithm>
#include <chrono>

#include "common/stream/connect.h"
#include "common/stream/listener.h"
#include "common/unixctl.h"
#include "ovsdb/server/server.h"
#include "sluice/log.h"

namespace sluice::db {
namespace {

auto Log_() {
  static auto l = log::Get("ovsdb_server");
  return l;
}

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct RemoteSet::Passive {
  RemoteOptions opts;
  std::unique_ptr<StreamListener> listener;
  std::vector<std::weak_ptr<JsonRpcConnection>> conns;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  int64_t last_connect_ms = -1, last_disconnect_ms = -1;
  std::string last_error;
  size_t Live() {
    std::erase_if(conns, [](const auto& w) {
      auto c = w.lock();
      return !c || c->closed();
    });
    return conns.size();
  }
};

struct RemoteSet::Active {
  Active(asio::io_context& io, RemoteSet* set) : reconnect(io, [this, set] { set->Dial(*this); }) {}
  std::string remote;
  RemoteOptions opts;
  Reconnect reconnect;
  std::unique_ptr<PendingConnect> pending;
  std::shared_ptr<JsonRpcConnection> conn;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  std::string peer_subject;
};

RemoteSet::RemoteSet(asio::io_context& io, ServeFn serve) : io_(io), serve_(std::move(serve)) {}

RemoteSet::~RemoteSet() {
  for (auto& [r, p] : passive_) *p->alive = false;
  for (auto& [r, a] : active_) {
    *a->alive = false;
    a->reconnect.Stop();
    a->pending.reset();
  }
}

std::chrono::milliseconds RemoteSet::ProbeFor(const std::string& remote, const RemoteOptions& o) {
  if (o.inactivity_probe_ms >= 0) return std::chrono::milliseconds(o.inactivity_probe_ms);
  // ovsdb-server probes tcp and ssl peers every 5 s by default, unix ones never.
  bool unix = remote.starts_with("unix:") || remote.starts_with("punix:");
  return std::chrono::milliseconds(unix ? 0 : 5000);
}

bool RemoteSet::Has(const std::string& remote) const {
  return passive_.count(remote) || active_.count(remote);
}

std::vector<std::string> RemoteSet::List() const {
  std::vector<std::string> out;
  for (const auto& [r, p] : passive_) out.push_back(r);
  for (const auto& [r, a] : active_) out.push_back(r);
  std::sort(out.begin(), out.end());
  return out;
}

Result<void> RemoteSet::Add(const std::string& remote, const RemoteOptions& opts) {
  if (auto it = passive_.find(remote); it != passive_.end()) {
    Passive& p = *it->second;
    if (p.opts != opts) {
      p.opts = opts;
      for (auto& w : p.conns) {
        if (auto c = w.lock()) c->SetProbeInterval(ProbeFor(remote, opts));
      }
    }
    return {};
  }
  if (auto it = active_.find(remote); it != active_.end()) {
    Active& a = *it->second;
    if (a.opts != opts) {
      a.opts = opts;
      a.reconnect.SetBackoff(1000, opts.max_backoff_ms);
      if (a.conn) a.conn->SetProbeInterval(ProbeFor(remote, opts));
    }
    return {};
  }
  auto addr = ParseStreamAddress(remote, kOvsdbPort);
  if (!addr) return std::unexpected(addr.error());
  if (addr->passive) {
    auto p = std::make_unique<Passive>();
    p->opts = opts;
    Passive* raw = p.get();
    ListenOptions lo;
    lo.default_port = kOvsdbPort;
    lo.tls = tls_;
    auto l =
        StreamListener::Listen(io_, remote, lo, [this, raw, remote, alive = p->alive](StreamPtr s) {
          if (!*alive) return;
          raw->last_connect_ms = SteadyMs();
          auto conn = serve_(std::move(s), remote, [raw, alive](const std::string&) {
            if (*alive) raw->last_disconnect_ms = SteadyMs();
          });
          conn->SetProbeInterval(ProbeFor(remote, raw->opts));
          raw->Live();
          raw->conns.push_back(conn);
        });
    if (!l) return std::unexpected(l.error());
    p->listener = std::move(*l);
    Log_()->info("listening on {}", remote);
    passive_[remote] = std::move(p);
    return {};
  }
  auto a = std::make_unique<Active>(io_, this);
  Active* raw = a.get();
  a->remote = remote;
  a->opts = opts;
  a->reconnect.SetBackoff(1000, opts.max_backoff_ms);
  active_[remote] = std::move(a);
  Log_()->info("{}: connecting (active remote)", remote);
  raw->reconnect.Start();
  return {};
}

void RemoteSet::Dial(Active& a) {
  ConnectOptions co;
  co.default_port = kOvsdbPort;
  co.tls = tls_;
  a.pending = AsyncConnect(io_, a.remote, co, [this, &a, alive = a.alive](Result<StreamPtr> s) {
    if (!*alive) return;
    a.pending.reset();
    if (!s) {
      if (a.reconnect.backoff_ms() == 0 || s.error().message != a.reconnect.last_error()) {
        Log_()->info("{}: {}", a.remote, s.error().message);
      }
      a.reconnect.Failed(s.error().message);
      return;
    }
    Connected(a, std::move(*s));
  });
}

void RemoteSet::Connected(Active& a, StreamPtr stream) {
  if (a.reconnect.last_error().size()) Log_()->info("{}: connected", a.remote);
  a.peer_subject = stream->peer_subject();
  a.reconnect.Connected();
  a.conn = serve_(std::move(stream), a.remote, [&a, alive = a.alive](const std::string& why) {
    if (!*alive) return;
    a.conn.reset();
    Log_()->info("{}: connection closed ({}), reconnecting", a.remote, why);
    a.reconnect.Failed(why);
  });
  a.conn->SetProbeInterval(ProbeFor(a.remote, a.opts));
}

Result<void> RemoteSet::Remove(const std::string& remote) {
  if (auto it = active_.find(remote); it != active_.end()) {
    std::unique_ptr<Active> a = std::move(it->second);
    active_.erase(it);
    *a->alive = false;
    a->reconnect.Stop();
    a->pending.reset();
    if (a->conn) a->conn->Close("remote removed");
    Log_()->info("{}: active remote removed", remote);
    return {};
  }
  auto it = passive_.find(remote);
  if (it == passive_.end()) return MakeError(Errc::kNotFound, "not listening on " + remote);
  *it->second->alive = false;
  passive_.erase(it);  // its sessions stay open
  Log_()->info("stopped listening on {}", remote);
  return {};
}

std::vector<RemoteStatus> RemoteSet::Statuses() const {
  std::vector<RemoteStatus> out;
  int64_t now = SteadyMs();
  for (const auto& [r, p] : passive_) {
    RemoteStatus st;
    st.remote = r;
    st.bound_port = p->listener->bound_port();
    st.n_connections = p->Live();
    st.connected = st.n_connections > 0;
    st.last_error = p->listener->last_error();
    if (p->last_connect_ms >= 0) st.sec_since_connect = (now - p->last_connect_ms) / 1000;
    if (p->last_disconnect_ms >= 0) st.sec_since_disconnect = (now - p->last_disconnect_ms) / 1000;
    out.push_back(std::move(st));
  }
  for (const auto& [r, a] : active_) {
    RemoteStatus st;
    st.remote = r;
    st.active = true;
    st.connected = a->conn != nullptr && !a->conn->closed();
    st.n_connections = st.connected ? 1 : 0;
    auto status = a->reconnect.Status();
    st.state = st.connected && a->conn->probing() ? "IDLE" : status["state"];
    st.last_error = a->reconnect.last_error();
    if (status.count("sec_since_connect"))
      st.sec_since_connect = std::stoll(status["sec_since_connect"]);
    if (status.count("sec_since_disconnect")) {
      st.sec_since_disconnect = std::stoll(status["sec_since_disconnect"]);
    }
    if (st.connected) st.peer_subject = a->peer_subject;
    out.push_back(std::move(st));
  }
  return out;
}

uint16_t RemoteSet::tcp_port(const std::string& remote) const {
  auto it = passive_.find(remote);
  return it == passive_.end() ? 0 : it->second->listener->bound_port();
}

void RegisterRemoteCommands(UnixctlServer& unixctl, OvsdbServer& server) {
  using Args = UnixctlServer::Args;
  unixctl.Register("ovsdb-server/add-remote", "REMOTE", 1, 1,
                   [&server](const Args& a) -> Result<std::string> {
                     if (auto r = server.AddRemote(a[0]); !r) return std::unexpected(r.error());
                     return std::string();
                   });
  unixctl.Register("ovsdb-server/remove-remote", "REMOTE", 1, 1,
                   [&server](const Args& a) -> Result<std::string> {
                     if (auto r = server.RemoveRemote(a[0]); !r) {
                       return MakeError(Errc::kNotFound, a[0] + ": no such remote");
                     }
                     return std::string();
                   });
  unixctl.Register("ovsdb-server/list-remotes", "", 0, 0,
                   [&server](const Args&) -> Result<std::string> {
                     std::string out;
                     for (const auto& r : server.Remotes()) out += r + "\n";
                     return out;
                   });
}

}  // namespace sluice::db
