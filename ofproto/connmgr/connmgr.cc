#include "ofproto/connmgr/connmgr.h"

#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/ip.h>

#include <algorithm>

#include "common/clock.h"
#include "common/stream/connect.h"
#include "common/stream/reconnect.h"
#include "ofproto/connmgr/pinsched.h"
#include "sluice/log.h"

namespace sluice::ofp {
namespace {

auto Log() {
  static auto l = log::Get("connmgr");
  return l;
}

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// What all OpenFlow connections of one bridge may hold together (unsent output, partial input).
constexpr size_t kBridgeMemoryBudget = 256 << 20;

// The DSCP of a TCP connection's packets (IP_TOS / IPV6_TCLASS); unix sockets have none.
void SetDscp(Stream& s, int dscp) {
  auto& sock = s.socket();
  if (!sock.is_open()) return;
  std::error_code ec;
  auto local = sock.local_endpoint(ec);
  if (ec) return;
  int family = local.protocol().family();
  int tos = dscp << 2;
  if (family == AF_INET) {
    setsockopt(sock.native_handle(), IPPROTO_IP, IP_TOS, &tos, sizeof tos);
  } else if (family == AF_INET6) {
    setsockopt(sock.native_handle(), IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos);
  }
}

}  // namespace

struct ConnectionManager::Controller {
  ControllerOptions opts;
  bool passive = false;
  std::unique_ptr<Reconnect> reconnect;               // active
  std::unique_ptr<PendingConnect> pending;            // active: attempt in progress
  std::shared_ptr<OfConnection> conn;                 // active: the connection
  std::unique_ptr<StreamListener> listener;           // passive
  std::vector<std::weak_ptr<OfConnection>> accepted;  // passive: its connections
  std::string listen_error;                           // passive: why it does not listen
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  int64_t down_since_ms = 0;  // clock::NowMs: configured, or last connection lost
  int64_t last_connect_ms = -1, last_disconnect_ms = -1;  // passive (steady ms)

  std::vector<std::shared_ptr<OfConnection>> Live() const {
    std::vector<std::shared_ptr<OfConnection>> out;
    if (conn && !conn->closed() && conn->negotiated()) out.push_back(conn);
    for (const auto& w : accepted) {
      auto c = w.lock();
      if (c && !c->closed() && c->negotiated()) out.push_back(c);
    }
    return out;
  }
  bool Up() const { return !Live().empty(); }
};

struct ConnectionManager::PinState {
  PinState(asio::io_context& io, int rate, int burst)
      : miss(rate, burst), action(rate, burst), timer(io) {}
  PacketInScheduler miss, action;
  asio::steady_timer timer;
  bool armed = false;
};

ConnectionManager::ConnectionManager(asio::io_context& io, OfHandler* handler)
    : io_(io), handler_(handler), budget_(MemoryBudget::Create(kBridgeMemoryBudget)) {}

ConnectionManager::~ConnectionManager() {
  for (auto& [t, c] : controllers_) {
    *c->alive = false;
    if (c->reconnect) c->reconnect->Stop();
    c->pending.reset();
  }
  pins_.clear();
  for (auto& [p, c] : conns_) {
    c->OnClosed(nullptr);
    c->Close("bridge destroyed");
  }
}

Result<void> ConnectionManager::AddListener(const std::string& remote) {
  ListenOptions lo;
  lo.default_port = kOpenFlowPort;
  lo.tls = tls_;
  auto l = StreamListener::Listen(io_, remote, lo, [this](StreamPtr s) {
    ConnOptions opts;
    opts.is_controller = false;
    opts.probe_interval_ms = 0;  // management clients (ovs-ofctl) may sit idle
    opts.budget = budget_;
    Adopt(OfConnection::Create(io_, std::move(s), handler_, opts));
  });
  if (!l) return std::unexpected(l.error());
  listeners_.push_back(std::move(*l));
  return {};
}

Result<void> ConnectionManager::AddSnoopListener(const std::string& remote) {
  auto l = StreamListener::Listen(io_, remote, {}, [this](StreamPtr s) {
    auto preference = [](const OfConnection& c) {
      switch (c.role) {
        case ControllerRole::kMaster:
          return 3;
        case ControllerRole::kEqual:
          return 2;
        case ControllerRole::kSlave:
          return 1;
        default:
          return 0;
      }
    };
    std::shared_ptr<OfConnection> best;
    for (const auto& [p, c] : conns_) {
      if (!c->is_controller() || c->closed() || !c->negotiated()) continue;
      if (!best || preference(*c) > preference(*best)) best = c;
    }
    auto monitor = OfMonitor::Create(std::move(s));
    std::string peer = monitor->peer();
    if (!best) {
      Log()->info("{}: no controller connection to snoop", peer);
      monitor->Close("no controller connection to snoop");
    } else if (!best->AddMonitor(monitor)) {
      monitor->Close(
          fmt::format("{} has {} snoopers already", best->peer(), OfConnection::kMaxMonitors));
    } else {
      Log()->info("{}: snooping on {}", peer, best->peer());
    }
  });
  if (!l) return std::unexpected(l.error());
  snoop_listeners_.push_back(std::move(*l));
  return {};
}

uint16_t ConnectionManager::tcp_port(const std::string& remote) const {
  for (const auto& l : listeners_) {
    if (l->target() == remote) return l->bound_port();
  }
  if (auto it = controllers_.find(remote); it != controllers_.end() && it->second->listener) {
    return it->second->listener->bound_port();
  }
  return 0;
}

void ConnectionManager::Adopt(std::shared_ptr<OfConnection> c) {
  OfConnection* raw = c.get();
  conns_[raw] = c;
  c->OnClosed([this](OfConnection& gone) {
    // Defer the release: we are inside the connection's own callback.
    asio::post(io_, [this, p = &gone] {
      conns_.erase(p);
      pins_.erase(p);
    });
  });
  c->Start();
}

bool ConnectionManager::Primary(const Controller& c) const {
  if (c.opts.type == ControllerOptions::Type::kDefault) return !c.passive;
  return c.opts.type == ControllerOptions::Type::kPrimary;
}

void ConnectionManager::SetControllers(const std::vector<std::string>& targets, int max_backoff_ms,
                                       int probe_interval_ms) {
  std::vector<ControllerOptions> v;
  for (const auto& t : targets) {
    ControllerOptions o;
    o.target = t;
    o.max_backoff_ms = max_backoff_ms;
    o.probe_interval_ms = probe_interval_ms;
    v.push_back(o);
  }
  SetControllerOptions(v);
}

void ConnectionManager::SetControllerOptions(const std::vector<ControllerOptions>& wanted) {
  auto listed = [&](const std::string& t) {
    return std::any_of(wanted.begin(), wanted.end(), [&](const auto& o) { return o.target == t; });
  };
  auto remove = [this](Controller& c) {
    *c.alive = false;
    if (c.reconnect) c.reconnect->Stop();
    c.pending.reset();
    c.listener.reset();
    if (c.conn) c.conn->Close("controller removed");
    for (auto& w : c.accepted) {
      if (auto a = w.lock()) a->Close("controller removed");
    }
  };
  for (auto it = controllers_.begin(); it != controllers_.end();) {
    if (!listed(it->first)) {
      remove(*it->second);
      it = controllers_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& o : wanted) {
    auto& slot = controllers_[o.target];
    if (slot && slot->opts.type != o.type) {
      remove(*slot);  // primary <-> service: start over
      slot.reset();
    }
    if (slot) {
      Configure(*slot, o);
      if (slot->passive && !slot->listener) Listen(*slot);  // retried until it listens
      continue;
    }
    slot = std::make_unique<Controller>();
    Controller& c = *slot;
    c.opts = o;
    c.passive = IsPassiveTarget(o.target);
    c.down_since_ms = clock::NowMs();
    if (c.passive) {
      Listen(c);
    } else {
      c.reconnect = std::make_unique<Reconnect>(io_, [this, &c] { Dial(c); });
      c.reconnect->SetBackoff(1000, o.max_backoff_ms);
      c.reconnect->Start();
    }
  }
}

// Options of a controller that stays: applied to its connections as they are.
void ConnectionManager::Configure(Controller& c, const ControllerOptions& o) {
  if (c.opts == o) return;
  bool rates = c.opts.rate_limit != o.rate_limit || c.opts.burst_limit != o.burst_limit;
  // enable_async_messages changed: the connections start over from what it says (whatever a
  // controller asked for with SET_ASYNC before is replaced).
  bool async = c.opts.enable_async_messages != o.enable_async_messages;
  c.opts = o;
  if (c.reconnect) c.reconnect->SetBackoff(1000, o.max_backoff_ms);
  std::vector<std::shared_ptr<OfConnection>> conns;
  if (c.conn) conns.push_back(c.conn);
  for (auto& w : c.accepted) {
    if (auto a = w.lock()) conns.push_back(a);
  }
  for (auto& conn : conns) {
    conn->SetProbeInterval(o.probe_interval_ms);
    conn->SetPacketInQueue(static_cast<size_t>(std::max(o.queue_size, 1)));
    SetDscp(conn->stream(), o.dscp);
    if (async) conn->async = o.enable_async_messages ? DefaultAsyncConfig() : AsyncConfig{};
    if (rates) {
      pins_.erase(conn.get());
      if (o.rate_limit > 0) {
        int burst = o.burst_limit > 0 ? o.burst_limit : std::max(o.rate_limit / 4, 1);
        pins_[conn.get()] = std::make_unique<PinState>(io_, o.rate_limit, burst);
      }
    }
  }
}

std::shared_ptr<OfConnection> ConnectionManager::NewControllerConnection(Controller& c,
                                                                         StreamPtr stream) {
  SetDscp(*stream, c.opts.dscp);
  ConnOptions opts;
  opts.is_controller = Primary(c);
  opts.probe_interval_ms = c.opts.probe_interval_ms;
  opts.packet_in_queue = static_cast<size_t>(std::max(c.opts.queue_size, 1));
  opts.budget = budget_;
  auto conn = OfConnection::Create(io_, std::move(stream), handler_, opts);
  // enable_async_messages=false: nothing asynchronous until the controller asks (SET_ASYNC).
  if (!c.opts.enable_async_messages) conn->async = AsyncConfig{};
  if (c.opts.rate_limit > 0) {
    int burst = c.opts.burst_limit > 0 ? c.opts.burst_limit : std::max(c.opts.rate_limit / 4, 1);
    pins_[conn.get()] = std::make_unique<PinState>(io_, c.opts.rate_limit, burst);
  }
  conns_[conn.get()] = conn;
  return conn;
}

void ConnectionManager::Dial(Controller& c) {
  ConnectOptions co;
  co.default_port = kOpenFlowPort;
  co.tls = tls_;
  co.timeout = std::chrono::milliseconds(std::max(c.opts.max_backoff_ms, 1000));
  c.pending =
      AsyncConnect(io_, c.opts.target, co, [this, &c, alive = c.alive](Result<StreamPtr> s) {
        if (!*alive) return;
        c.pending.reset();
        if (!s) {
          if (s.error().message != c.reconnect->last_error()) {
            Log()->warn("{}: connection failed ({})", c.opts.target, s.error().message);
          }
          c.reconnect->Failed(s.error().message);
          return;
        }
        c.reconnect->Connected();
        c.conn = NewControllerConnection(c, std::move(*s));
        c.conn->OnClosed([this, &c, alive](OfConnection& gone) {
          asio::post(io_, [this, p = &gone] {
            conns_.erase(p);
            pins_.erase(p);
          });
          if (!*alive) return;
          // Out of touch from now on (a connection that never negotiated changes nothing).
          if (gone.negotiated()) c.down_since_ms = clock::NowMs();
          c.conn.reset();
          c.reconnect->Failed(gone.close_reason());
        });
        c.conn->Start();
      });
}

void ConnectionManager::Listen(Controller& c) {
  ListenOptions lo;
  lo.default_port = kOpenFlowPort;
  lo.tls = tls_;
  auto l = StreamListener::Listen(io_, c.opts.target, lo, [this, &c, alive = c.alive](StreamPtr s) {
    if (!*alive) return;
    c.last_connect_ms = SteadyMs();
    auto conn = NewControllerConnection(c, std::move(s));
    std::erase_if(c.accepted, [](const auto& w) { return w.expired(); });
    c.accepted.push_back(conn);
    conn->OnClosed([this, &c, alive](OfConnection& gone) {
      asio::post(io_, [this, p = &gone] {
        conns_.erase(p);
        pins_.erase(p);
      });
      if (!*alive) return;
      c.last_disconnect_ms = SteadyMs();
      if (gone.negotiated() && !c.Up()) c.down_since_ms = clock::NowMs();
    });
    conn->Start();
  });
  if (!l) {
    if (c.listen_error != l.error().message) {
      Log()->warn("controller {}: cannot listen: {}", c.opts.target, l.error().message);
    }
    c.listen_error = l.error().message;
    return;
  }
  c.listen_error.clear();
  c.listener = std::move(*l);
  Log()->info("controller {}: listening (port {})", c.opts.target, c.listener->bound_port());
}

void ConnectionManager::SendPacketIn(const PacketIn& pi) {
  uint32_t bit = 1u << static_cast<uint8_t>(pi.reason);
  const OxmEntry* port = pi.match.Find(OxmField::kInPort);
  uint32_t in_port = port ? static_cast<uint32_t>(port->ValueU64()) : 0;
  for (auto& c : Connections()) {
    // Async masks: [0] applies to master/equal, [1] to slave (OpenFlow 1.3 §7.3.10).
    size_t i = c->role == ControllerRole::kSlave ? 1 : 0;
    if (!(c->async.packet_in_mask[i] & bit)) continue;
    Message msg{c->version(), c->NextXid(), pi};
    auto p = pins_.find(c.get());
    if (p == pins_.end()) {
      c->SendPacketIn(msg);
      continue;
    }
    PacketInScheduler& s =
        pi.reason == PacketInReason::kNoMatch ? p->second->miss : p->second->action;
    s.Submit(in_port, std::move(msg), [c](Message&& m) { c->SendPacketIn(m); });
    if (s.stats().backlog && !p->second->armed) RunPins(c.get());
  }
}

// Drains the connection's packet-in backlogs at their rate: runs now, then again when the next
// waiting packet may go.
void ConnectionManager::RunPins(OfConnection* conn) {
  auto p = pins_.find(conn);
  auto it = conns_.find(conn);
  if (p == pins_.end() || it == conns_.end()) return;
  std::shared_ptr<OfConnection> c = it->second;
  auto send = [c](Message&& m) { c->SendPacketIn(m); };
  int64_t a = p->second->miss.Run(send), b = p->second->action.Run(send);
  int64_t wait = a < 0 ? b : b < 0 ? a : std::min(a, b);
  PinState& ps = *p->second;
  ps.armed = wait >= 0;
  if (!ps.armed) return;
  ps.timer.expires_after(std::chrono::milliseconds(std::max<int64_t>(wait, 1)));
  ps.timer.async_wait([this, conn](std::error_code ec) {
    if (!ec) RunPins(conn);
  });
}

std::vector<std::shared_ptr<OfConnection>> ConnectionManager::Connections() const {
  std::vector<std::shared_ptr<OfConnection>> out;
  for (const auto& [p, c] : conns_) {
    if (!c->closed() && c->negotiated()) out.push_back(c);
  }
  return out;
}

std::vector<ControllerStatus> ConnectionManager::Controllers() const {
  std::vector<ControllerStatus> out;
  int64_t now = SteadyMs();
  for (const auto& [t, c] : controllers_) {
    ControllerStatus s;
    s.target = t;
    auto live = c->Live();
    s.connected = !live.empty();
    if (s.connected) {
      // The most authoritative role among its connections.
      s.role = live.front()->role;
      for (const auto& l : live) {
        if (l->role == ControllerRole::kMaster) s.role = l->role;
      }
    }
    if (c->passive) {
      s.status["state"] = c->listener ? (s.connected ? "ACTIVE" : "LISTENING") : "VOID";
      s.last_error =
          c->listen_error.empty() && c->listener ? c->listener->last_error() : c->listen_error;
      if (c->listener) s.status["bound_port"] = std::to_string(c->listener->bound_port());
      s.status["n_connections"] = std::to_string(live.size());
      if (c->last_connect_ms >= 0) {
        s.status["sec_since_connect"] = std::to_string((now - c->last_connect_ms) / 1000);
      }
      if (c->last_disconnect_ms >= 0) {
        s.status["sec_since_disconnect"] = std::to_string((now - c->last_disconnect_ms) / 1000);
      }
    } else {
      s.status = c->reconnect->Status();
      if (s.connected && c->conn->probing()) s.status["state"] = "IDLE";
      if (!s.connected && c->reconnect->connected()) s.status["state"] = "CONNECTING";
      s.last_error = c->reconnect->last_error();
    }
    if (!s.last_error.empty()) s.status["last_error"] = s.last_error;
    if (c->opts.rate_limit > 0) {
      PacketInStats miss, action;
      for (const auto& l : live) {
        auto p = pins_.find(l.get());
        if (p == pins_.end()) continue;
        for (auto [sum, one] : {std::pair{&miss, &p->second->miss.stats()},
                                std::pair{&action, &p->second->action.stats()}}) {
          sum->bypassed += one->bypassed;
          sum->queued += one->queued;
          sum->dropped += one->dropped;
          sum->backlog += one->backlog;
        }
      }
      for (auto [name, st] : {std::pair{"miss", &miss}, std::pair{"action", &action}}) {
        std::string k = std::string("packet-in-") + name;
        s.status[k + "-backlog"] = std::to_string(st->backlog);
        s.status[k + "-bypassed"] = std::to_string(st->bypassed);
        s.status[k + "-queued"] = std::to_string(st->queued);
        s.status[k + "-dropped"] = std::to_string(st->dropped);
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

bool ConnectionManager::HasController() const {
  for (const auto& [t, c] : controllers_) {
    if (Primary(*c) && c->Up()) return true;
  }
  return false;
}

bool ConnectionManager::HasControllers() const {
  return std::any_of(controllers_.begin(), controllers_.end(),
                     [this](const auto& e) { return Primary(*e.second); });
}

int64_t ConnectionManager::FailureDurationMs() const {
  if (!HasControllers()) return 0;
  int64_t now = clock::NowMs();
  int64_t shortest = INT64_MAX;
  for (const auto& [t, c] : controllers_) {
    if (!Primary(*c)) continue;
    shortest = std::min(shortest, c->Up() ? 0 : std::max<int64_t>(0, now - c->down_since_ms));
  }
  return shortest;
}

int ConnectionManager::MaxProbeIntervalMs() const {
  int m = 0;
  for (const auto& [t, c] : controllers_) {
    if (Primary(*c)) m = std::max(m, c->opts.probe_interval_ms);
  }
  return m;
}

}  // namespace sluice::ofp
