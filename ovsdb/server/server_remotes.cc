// OvsdbServer's remotes: passive listeners (punix:, ptcp:) and active connections (unix:, tcp:)
// that reconnect with back-off, and their status for the Manager table.
#include <algorithm>
#include <cstdlib>

#include "ovsdb/server/server.h"
#include "ovsdb/server/server_internal.h"
#include "sluice/log.h"

namespace sluice::db {
namespace {

auto Log_() {
  static auto l = log::Get("ovsdb_server");
  return l;
}

}  // namespace

Result<void> OvsdbServer::AddRemote(const std::string& remote) {
  return OnThread([&]() -> Result<void> {
    if (remote.starts_with("ssl:") || remote.starts_with("pssl:")) {
      return MakeError(Errc::kUnsupported, "SSL remotes are not supported (this build has no TLS)");
    }
    if (remote.starts_with("tcp:") || remote.starts_with("unix:")) {
      if (actives_.contains(remote)) return MakeError(Errc::kExists, remote + ": already a remote");
      if (remote.starts_with("tcp:") && remote.rfind(':') < 4) {
        return MakeError(Errc::kInvalid, remote + ": missing port (tcp:IP:PORT)");
      }
      auto a = std::make_shared<Active>(io_, remote);
      actives_[remote] = a;
      Log_()->info("{}: connecting (active remote)", remote);
      Dial(a);
      return {};
    }
    auto l = JsonRpcListener::Listen(io_, remote, [this, remote](StreamSocket s, std::string peer) {
      Accept(std::move(s), std::move(peer), remote);
    });
    if (!l) return std::unexpected(l.error());
    Log_()->info("listening on {}", remote);
    listeners_.push_back(std::move(*l));
    return {};
  });
}

void OvsdbServer::Dial(const std::shared_ptr<Active>& a) {
  if (a->removed) return;
  a->state = "CONNECTING";
  auto connected = [this, a](StreamSocket sock) {
    if (a->backoff_ms) Log_()->info("{}: connected", a->remote);
    a->backoff_ms = 0;
    a->state = "ACTIVE";
    a->last_error.clear();
    Session* s = Accept(std::move(sock), a->remote, a->remote);
    a->session = s;
    s->on_closed = [this, a](const std::string& why) {
      a->session = nullptr;
      if (a->removed) return;
      Log_()->info("{}: connection closed ({}), reconnecting", a->remote, why);
      Redial(a, why);
    };
  };
  if (a->remote.starts_with("unix:")) {
    auto s = ConnectStream(io_, a->remote);
    if (!s) {
      std::string why = s.error().message;
      if (why.starts_with(a->remote + ": ")) why.erase(0, a->remote.size() + 2);
      return Redial(a, why);
    }
    return connected(std::move(*s));
  }
  // tcp:IP:PORT, connected without blocking the loop.
  std::string rest = a->remote.substr(4);
  size_t colon = rest.rfind(':');
  std::string host = rest.substr(0, colon), port = rest.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  std::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  unsigned long port_no = std::strtoul(port.c_str(), nullptr, 10);
  if (ec || port_no == 0 || port_no > 65535) {
    return Redial(a, "bad address " + rest + " (tcp:IP:PORT)");
  }
  a->pending = std::make_shared<asio::ip::tcp::socket>(io_);
  a->pending->async_connect(asio::ip::tcp::endpoint(addr, static_cast<uint16_t>(port_no)),
                            [this, a, sock = a->pending, connected](std::error_code ec) {
                              if (a->removed) return;
                              a->pending.reset();
                              if (ec) return Redial(a, ec.message());
                              std::error_code e2;
                              sock->set_option(asio::ip::tcp::no_delay(true), e2);
                              connected(StreamSocket(std::move(*sock)));
                            });
}

void OvsdbServer::Redial(const std::shared_ptr<Active>& a, const std::string& error) {
  if (a->removed) return;
  if (a->backoff_ms == 0) Log_()->info("{}: {}", a->remote, error);
  a->last_error = error;
  a->state = "BACKOFF";
  a->backoff_ms = a->backoff_ms == 0 ? 1000 : std::min(a->backoff_ms * 2, 8000);
  a->timer.expires_after(std::chrono::milliseconds(a->backoff_ms));
  a->timer.async_wait([this, a](std::error_code ec) {
    if (!ec && !a->removed) Dial(a);
  });
}

Result<void> OvsdbServer::RemoveRemote(const std::string& remote) {
  return OnThread([&]() -> Result<void> {
    if (auto act = actives_.find(remote); act != actives_.end()) {
      std::shared_ptr<Active> a = act->second;
      actives_.erase(act);
      a->removed = true;
      a->timer.cancel();
      if (a->pending) {
        std::error_code ec;
        a->pending->close(ec);
      }
      if (a->session) {
        a->session->on_closed = nullptr;
        a->session->conn->Close("remote removed");
      }
      Log_()->info("{}: active remote removed", remote);
      return {};
    }
    auto it = std::find_if(listeners_.begin(), listeners_.end(),
                           [&](const auto& l) { return l->remote() == remote; });
    if (it == listeners_.end()) return MakeError(Errc::kNotFound, "not listening on " + remote);
    listeners_.erase(it);
    Log_()->info("stopped listening on {}", remote);
    return {};
  });
}

std::vector<RemoteStatus> OvsdbServer::RemoteStatuses() const {
  return OnThread([&]() {
    std::vector<RemoteStatus> out;
    for (const auto& l : listeners_) {
      RemoteStatus st;
      st.remote = l->remote();
      st.bound_port = l->bound_port();
      for (const auto& [c, s] : sessions_) {
        if (s->remote == st.remote && !s->conn->closed()) ++st.n_connections;
      }
      st.connected = st.n_connections > 0;
      out.push_back(std::move(st));
    }
    for (const auto& [r, a] : actives_) {
      RemoteStatus st;
      st.remote = r;
      st.active = true;
      st.connected = a->session != nullptr;
      st.n_connections = st.connected ? 1 : 0;
      st.state = a->state;
      st.last_error = a->last_error;
      out.push_back(std::move(st));
    }
    return out;
  });
}

uint16_t OvsdbServer::tcp_port(const std::string& remote) const {
  return OnThread([&]() -> uint16_t {
    for (const auto& l : listeners_) {
      if (l->remote() == remote) return l->bound_port();
    }
    return 0;
  });
}

}  // namespace sluice::db
