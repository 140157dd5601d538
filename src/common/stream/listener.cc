#include "common/stream/listener.h"

#include <unistd.h>

#include "common/rate_limit.h"
#include "sluice/log.h"

namespace sluice {
namespace {

auto Log() {
  static auto l = log::Get("stream");
  return l;
}

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool OutOfResources(std::error_code ec) {
  return ec == std::errc::too_many_files_open || ec == std::errc::too_many_files_open_in_system ||
         ec == std::errc::no_buffer_space || ec == std::errc::not_enough_memory;
}

}  // namespace

Result<std::unique_ptr<StreamListener>> StreamListener::Listen(asio::io_context& io,
                                                               const std::string& target,
                                                               ListenOptions opts, AcceptFn fn) {
  auto addr = ParseStreamAddress(target, opts.default_port);
  if (!addr) return std::unexpected(addr.error());
  if (!addr->passive) {
    return MakeError(Errc::kInvalid, target +
                                         ": not a passive connection method (expected "
                                         "punix:PATH, ptcp:[PORT][:IP] or pssl:[PORT][:IP])");
  }
  if (addr->tls()) {
    if (!opts.tls) opts.tls = DefaultTlsConfig();
    if (auto ok = opts.tls->Context(); !ok) {
      return MakeError(ok.error().code, target + ": " + ok.error().message);
    }
  }
  std::unique_ptr<StreamListener> l(new StreamListener(io));
  l->target_ = target;
  l->addr_ = *addr;
  l->opts_ = std::move(opts);
  l->fn_ = std::move(fn);
  std::error_code ec;
  if (addr->unix_socket()) {
    ::unlink(addr->path.c_str());
    l->unix_ = std::make_unique<asio::local::stream_protocol::acceptor>(io);
    l->unix_->open(asio::local::stream_protocol(), ec);
    if (!ec) l->unix_->bind(asio::local::stream_protocol::endpoint(addr->path), ec);
    if (!ec) l->unix_->listen(l->opts_.backlog, ec);
    if (ec) return MakeError(Errc::kIo, target + ": " + ec.message(), ec.value());
  } else {
    auto ip = asio::ip::make_address(addr->host, ec);
    if (ec) return MakeError(Errc::kInvalid, target + ": bad address '" + addr->host + "'");
    asio::ip::tcp::endpoint ep(ip, addr->port);
    l->tcp_ = std::make_unique<asio::ip::tcp::acceptor>(io);
    l->tcp_->open(ep.protocol(), ec);
    if (!ec) l->tcp_->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && ip.is_v6()) l->tcp_->set_option(asio::ip::v6_only(true), ec);
    if (!ec) l->tcp_->bind(ep, ec);
    if (!ec) l->tcp_->listen(l->opts_.backlog, ec);
    if (ec) return MakeError(Errc::kIo, target + ": " + ec.message(), ec.value());
    l->bound_port_ = l->tcp_->local_endpoint().port();
  }
  l->Accept();
  return l;
}

StreamListener::~StreamListener() {
  *alive_ = false;
  std::error_code ec;
  retry_.cancel();
  if (unix_) {
    unix_->close(ec);
    ::unlink(addr_.path.c_str());
  }
  if (tcp_) tcp_->close(ec);
}

void StreamListener::Accept() {
  if (accepting_) return;
  if (handshakes_ >= opts_.max_handshakes) return;  // Resume() continues once one finishes
  accepting_ = true;
  auto on_error = [this](std::error_code ec) {
    accepting_ = false;
    if (ec == asio::error::operation_aborted) return false;
    if (OutOfResources(ec)) {
      // Out of descriptors or memory: try again shortly rather than spin on the error.
      int64_t now = SteadyMs();
      if (now - last_fd_log_ms_ >= 10000) {
        last_fd_log_ms_ = now;
        Log()->warn("{}: accept failed ({}); pausing accepts", target_, ec.message());
      }
      retry_.expires_after(std::chrono::milliseconds(100));
      retry_.async_wait([this, alive = alive_](std::error_code e) {
        if (!e && *alive) Accept();
      });
      return false;
    }
    return true;  // a connection that failed before we got it: go on
  };
  if (unix_) {
    unix_->async_accept([this, alive = alive_, on_error](std::error_code ec,
                                                         asio::local::stream_protocol::socket s) {
      if (!*alive) return;
      if (ec) {
        if (on_error(ec)) Accept();
        return;
      }
      accepting_ = false;
      OnAccepted(StreamSocket(std::move(s)), "unix:" + addr_.path);
      Accept();
    });
  } else {
    tcp_->async_accept(
        [this, alive = alive_, on_error](std::error_code ec, asio::ip::tcp::socket s) {
          if (!*alive) return;
          if (ec) {
            if (on_error(ec)) Accept();
            return;
          }
          accepting_ = false;
          std::error_code e2;
          s.set_option(asio::ip::tcp::no_delay(true), e2);
          std::string peer = PeerName(s, addr_.tls());
          OnAccepted(StreamSocket(std::move(s)), std::move(peer));
          Accept();
        });
  }
}

void StreamListener::OnAccepted(StreamSocket sock, std::string peer) {
  last_accept_ms_ = SteadyMs();
  if (!addr_.tls()) {
    fn_(MakePlainStream(std::move(sock), std::move(peer)));
    return;
  }
  auto ctx = opts_.tls->Context();
  if (!ctx) {
    std::error_code ec;
    sock.close(ec);
    Refused(peer, ctx.error().message);
    return;
  }
  ++handshakes_;
  TlsHandshake(*ctx, std::move(sock), peer, true, opts_.handshake_timeout,
               [this, alive = alive_, peer](Result<StreamPtr> s) {
                 if (!*alive) {
                   if (s) (*s)->Close();
                   return;
                 }
                 --handshakes_;
                 if (s) {
                   fn_(std::move(*s));
                 } else {
                   Refused(peer, s.error().message);
                 }
                 Resume();
               });
}

void StreamListener::Resume() {
  if (!accepting_) Accept();
}

void StreamListener::Refused(const std::string& peer, const std::string& why) {
  ++n_refused_;
  last_error_ = peer + ": " + why;
  WarnLimited(Log(), refusal_log_, "{}: refused {}", target_, last_error_);
}

}  // namespace sluice
