#include "ofproto/connmgr/connmgr.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/clock.h"
#include "sluice/log.h"

namespace sluice::ofp {
namespace {

auto Log() {
  static auto l = log::Get("connmgr");
  return l;
}

// tcp:IP[:PORT] (default 6653) and unix:PATH, resolved without blocking the event loop for
// unix sockets and with an asynchronous connect for TCP.
struct Target {
  bool tcp = false;
  std::string host, port, path;
};

std::optional<Target> ParseTarget(const std::string& t) {
  Target out;
  if (t.starts_with("unix:")) {
    out.path = t.substr(5);
    return out;
  }
  if (t.starts_with("tcp:")) {
    out.tcp = true;
    std::string rest = t.substr(4);
    size_t colon = rest.rfind(':');
    if (colon == std::string::npos || rest.front() == '[') {
      out.host = rest;
      out.port = "6653";
    } else {
      out.host = rest.substr(0, colon);
      out.port = rest.substr(colon + 1);
    }
    return out;
  }
  return std::nullopt;
}

}  // namespace

struct ConnectionManager::Active {
  std::string target;
  int backoff_ms = 0;
  int max_backoff_ms = 8000;
  int probe_interval_ms = 5000;
  std::shared_ptr<OfConnection> conn;
  std::unique_ptr<asio::steady_timer> timer;
  std::shared_ptr<asio::ip::tcp::socket> pending;
  std::string last_error;
  bool removed = false;
  int64_t down_since_ms = 0;  // configured, or last connection closed (clock::NowMs)
  bool Up() const { return conn && !conn->closed() && conn->negotiated(); }
};

ConnectionManager::ConnectionManager(asio::io_context& io, OfHandler* handler)
    : io_(io), handler_(handler) {}

ConnectionManager::~ConnectionManager() {
  for (auto& [t, a] : controllers_) {
    a->removed = true;
    if (a->timer) a->timer->cancel();
  }
  for (auto& [p, c] : conns_) {
    c->OnClosed(nullptr);
    c->Close("bridge destroyed");
  }
}

Result<void> ConnectionManager::AddListener(const std::string& remote) {
  auto l = JsonRpcListener::Listen(io_, remote, [this](StreamSocket s, std::string peer) {
    ConnOptions opts;
    opts.is_controller = false;
    opts.probe_interval_ms = 0;  // management clients (ovs-ofctl) may sit idle
    Adopt(OfConnection::Create(io_, std::move(s), peer, handler_, opts));
  });
  if (!l) return std::unexpected(l.error());
  listeners_.push_back(std::move(*l));
  return {};
}

Result<void> ConnectionManager::AddSnoopListener(const std::string& remote) {
  auto l = JsonRpcListener::Listen(io_, remote, [this](StreamSocket s, std::string peer) {
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
    auto monitor = OfMonitor::Create(std::move(s), peer);
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
    if (l->remote() == remote) return l->bound_port();
  }
  return 0;
}

void ConnectionManager::Adopt(std::shared_ptr<OfConnection> c) {
  OfConnection* raw = c.get();
  conns_[raw] = c;
  c->OnClosed([this](OfConnection& gone) {
    // Defer the release: we are inside the connection's own callback.
    asio::post(io_, [this, p = &gone] { conns_.erase(p); });
  });
  c->Start();
}

void ConnectionManager::SetControllers(const std::vector<std::string>& targets, int max_backoff_ms,
                                       int probe_interval_ms) {
  for (auto it = controllers_.begin(); it != controllers_.end();) {
    if (std::find(targets.begin(), targets.end(), it->first) == targets.end()) {
      Active& a = *it->second;
      a.removed = true;
      if (a.timer) a.timer->cancel();
      if (a.conn) a.conn->Close("controller removed");
      it = controllers_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& t : targets) {
    auto& slot = controllers_[t];
    if (!slot) {
      slot = std::make_unique<Active>();
      slot->target = t;
      slot->timer = std::make_unique<asio::steady_timer>(io_);
      slot->max_backoff_ms = max_backoff_ms;
      slot->probe_interval_ms = probe_interval_ms;
      slot->down_since_ms = clock::NowMs();
      Dial(*slot);
    }
  }
}

void ConnectionManager::Dial(Active& a) {
  if (a.removed) return;
  auto target = ParseTarget(a.target);
  auto retry = [this, &a](const std::string& err) {
    a.last_error = err;
    a.backoff_ms = a.backoff_ms == 0 ? 1000 : std::min(a.backoff_ms * 2, a.max_backoff_ms);
    a.timer->expires_after(std::chrono::milliseconds(a.backoff_ms));
    a.timer->async_wait([this, &a](std::error_code ec) {
      if (!ec) Dial(a);
    });
  };
  if (!target) {
    a.last_error = "unsupported controller target " + a.target;
    Log()->warn("{}", a.last_error);
    return;
  }
  auto connected = [this, &a](StreamSocket s) {
    a.backoff_ms = 0;
    a.last_error.clear();
    ConnOptions opts;
    opts.is_controller = true;
    opts.probe_interval_ms = a.probe_interval_ms;
    a.conn = OfConnection::Create(io_, std::move(s), a.target, handler_, opts);
    OfConnection* raw = a.conn.get();
    conns_[raw] = a.conn;
    a.conn->OnClosed([this, &a](OfConnection& gone) {
      asio::post(io_, [this, p = &gone] { conns_.erase(p); });
      if (!a.removed) {
        // Out of touch from now on (a connection that never negotiated changes nothing).
        if (gone.negotiated()) a.down_since_ms = clock::NowMs();
        a.conn.reset();
        a.backoff_ms = a.backoff_ms == 0 ? 1000 : std::min(a.backoff_ms * 2, a.max_backoff_ms);
        a.timer->expires_after(std::chrono::milliseconds(a.backoff_ms));
        a.timer->async_wait([this, &a](std::error_code ec) {
          if (!ec) Dial(a);
        });
      }
    });
    a.conn->Start();
  };
  if (!target->tcp) {
    auto s = ConnectStream(io_, "unix:" + target->path);
    if (!s) return retry(s.error().message);
    connected(std::move(*s));
    return;
  }
  std::error_code ec;
  auto addr = asio::ip::make_address(target->host, ec);
  if (ec) return retry("bad controller address " + target->host);
  unsigned port = std::atoi(target->port.c_str());
  a.pending = std::make_shared<asio::ip::tcp::socket>(io_);
  a.pending->async_connect(asio::ip::tcp::endpoint(addr, static_cast<uint16_t>(port)),
                           [&a, retry, connected, sock = a.pending](std::error_code ec) {
                             if (a.removed) return;
                             if (ec) return retry(ec.message());
                             std::error_code e2;
                             sock->set_option(asio::ip::tcp::no_delay(true), e2);
                             connected(StreamSocket(std::move(*sock)));
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
  for (const auto& [t, a] : controllers_) {
    ControllerStatus s;
    s.target = t;
    s.connected = a->Up();
    if (s.connected) s.role = a->conn->role;
    s.last_error = a->last_error;
    out.push_back(s);
  }
  return out;
}

bool ConnectionManager::HasController() const {
  for (const auto& [t, a] : controllers_) {
    if (a->Up()) return true;
  }
  return false;
}

int64_t ConnectionManager::FailureDurationMs() const {
  if (controllers_.empty()) return 0;
  int64_t now = clock::NowMs();
  int64_t shortest = INT64_MAX;
  for (const auto& [t, a] : controllers_) {
    shortest = std::min(shortest, a->Up() ? 0 : std::max<int64_t>(0, now - a->down_since_ms));
  }
  return shortest;
}

int ConnectionManager::MaxProbeIntervalMs() const {
  int m = 0;
  for (const auto& [t, a] : controllers_) m = std::max(m, a->probe_interval_ms);
  return m;
}

}  // namespace sluice::ofp
