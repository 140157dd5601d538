#include "common/stream/connect.h"

#include <optional>

namespace sluice {
namespace {

class Connector final : public PendingConnect, public std::enable_shared_from_this<Connector> {
 public:
  Connector(asio::io_context& io, StreamAddress addr, ConnectOptions opts, ConnectDone done)
      : io_(io),
        addr_(std::move(addr)),
        opts_(std::move(opts)),
        done_(std::move(done)),
        timer_(io),
        resolver_(io),
        tcp_(io),
        unix_(io) {}

  void Start() {
    auto self = shared_from_this();
    if (addr_.tls()) {
      // Without a usable key and certificates there is no point connecting.
      if (auto ctx = opts_.tls->Context(); !ctx) {
        asio::post(io_, [self, why = ctx.error().message] { self->Fail(why); });
        return;
      }
    }
    timer_.expires_after(opts_.timeout);
    timer_.async_wait([self](std::error_code ec) {
      if (ec || self->finished_) return;
      self->Fail("connection attempt timed out");
    });
    if (addr_.unix_socket()) {
      unix_.async_connect(
          asio::local::stream_protocol::endpoint(addr_.path), [self](std::error_code ec) {
            if (self->finished_) return;
            if (ec) return self->Fail(ec.message());
            self->Succeed(
                MakePlainStream(StreamSocket(std::move(self->unix_)), self->addr_.ToString()));
          });
      return;
    }
    std::error_code ec;
    auto ip = asio::ip::make_address(addr_.host, ec);
    if (!ec) return ConnectTo({asio::ip::tcp::endpoint(ip, addr_.port)});
    resolver_.async_resolve(addr_.host, std::to_string(addr_.port),
                            [self](std::error_code ec, asio::ip::tcp::resolver::results_type r) {
                              if (self->finished_) return;
                              if (ec) return self->Fail(ec.message());
                              std::vector<asio::ip::tcp::endpoint> eps;
                              for (const auto& e : r) eps.push_back(e.endpoint());
                              self->ConnectTo(std::move(eps));
                            });
  }

  void Cancel() override {
    if (finished_) return;
    finished_ = true;
    done_ = nullptr;
    Stop();
  }
  ~Connector() override = default;

 private:
  void ConnectTo(std::vector<asio::ip::tcp::endpoint> eps) {
    auto self = shared_from_this();
    asio::async_connect(tcp_, eps, [self](std::error_code ec, const asio::ip::tcp::endpoint&) {
      if (self->finished_) return;
      if (ec) return self->Fail(ec.message());
      std::error_code e2;
      self->tcp_.set_option(asio::ip::tcp::no_delay(true), e2);
      std::string peer = self->addr_.ToString();
      if (!self->addr_.tls()) {
        return self->Succeed(MakePlainStream(StreamSocket(std::move(self->tcp_)), peer));
      }
      auto ctx = self->opts_.tls->Context();
      if (!ctx) return self->Fail(ctx.error().message);
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          self->timer_.expiry() - asio::steady_timer::clock_type::now());
      TlsHandshake(*ctx, StreamSocket(std::move(self->tcp_)), peer, false,
                   std::max(left, std::chrono::milliseconds(1)), [self](Result<StreamPtr> s) {
                     if (self->finished_) {
                       if (s) (*s)->Close();
                       return;
                     }
                     if (!s) return self->Fail(s.error().message, s.error().code);
                     self->Succeed(std::move(*s));
                   });
    });
  }

  void Stop() {
    std::error_code ec;
    timer_.cancel();
    resolver_.cancel();
    tcp_.close(ec);
    unix_.close(ec);
  }

  void Fail(std::string why, Errc code = Errc::kIo) {
    if (finished_) return;
    finished_ = true;
    Stop();
    auto done = std::move(done_);
    if (done) done(MakeError(code, std::move(why)));
  }

  void Succeed(StreamPtr s) {
    if (finished_) return s->Close();
    finished_ = true;
    timer_.cancel();
    auto done = std::move(done_);
    if (done) done(std::move(s));
  }

  asio::io_context& io_;
  StreamAddress addr_;
  ConnectOptions opts_;
  ConnectDone done_;
  asio::steady_timer timer_;
  asio::ip::tcp::resolver resolver_;
  asio::ip::tcp::socket tcp_;
  asio::local::stream_protocol::socket unix_;
  bool finished_ = false;
};

// The handle the caller owns; the Connector lives on in its own handlers until they finish.
class ConnectHandle final : public PendingConnect {
 public:
  explicit ConnectHandle(std::shared_ptr<Connector> c) : c_(std::move(c)) {}
  ~ConnectHandle() override { c_->Cancel(); }
  void Cancel() override { c_->Cancel(); }

 private:
  std::shared_ptr<Connector> c_;
};

}  // namespace

std::unique_ptr<PendingConnect> AsyncConnect(asio::io_context& io, const std::string& target,
                                             ConnectOptions opts, ConnectDone done) {
  auto addr = ParseStreamAddress(target, opts.default_port);
  if (addr && addr->passive) {
    addr = MakeError(Errc::kInvalid, target +
                                         ": not an active connection method (expected "
                                         "tcp:HOST[:PORT], ssl:HOST[:PORT] or unix:PATH)");
  }
  if (!addr) {
    // Reported like any other failure: asynchronously.
    struct Failed final : PendingConnect {
      std::shared_ptr<bool> live = std::make_shared<bool>(true);
      void Cancel() override { *live = false; }
      ~Failed() override { *live = false; }
    };
    auto f = std::make_unique<Failed>();
    asio::post(io, [live = f->live, done = std::move(done), e = addr.error()] {
      if (*live) done(std::unexpected(e));
    });
    return f;
  }
  if (addr->tls() && !opts.tls) opts.tls = DefaultTlsConfig();
  auto c = std::make_shared<Connector>(io, std::move(*addr), std::move(opts), std::move(done));
  c->Start();
  return std::make_unique<ConnectHandle>(std::move(c));
}

Result<StreamPtr> Connect(asio::io_context& io, const std::string& target, ConnectOptions opts) {
  std::optional<Result<StreamPtr>> out;
  auto pending =
      AsyncConnect(io, target, std::move(opts), [&](Result<StreamPtr> r) { out = std::move(r); });
  while (!out) {
    if (io.stopped()) io.restart();
    io.run_one();
  }
  if (!*out) {
    return MakeError(out->error().code, target + ": " + out->error().message,
                     out->error().sys_errno);
  }
  return std::move(**out);
}

Result<StreamSocket> ConnectStream(asio::io_context& io, const std::string& remote) {
  auto addr = ParseStreamAddress(remote, kOvsdbPort);
  if (!addr) return std::unexpected(addr.error());
  std::error_code ec;
  if (addr->passive || addr->tls()) {
    return MakeError(Errc::kInvalid, remote + ": expected unix:PATH or tcp:IP:PORT");
  }
  if (addr->unix_socket()) {
    asio::local::stream_protocol::socket s(io);
    s.connect(asio::local::stream_protocol::endpoint(addr->path), ec);
    if (ec) return MakeError(Errc::kIo, remote + ": " + ec.message(), ec.value());
    return StreamSocket(std::move(s));
  }
  asio::ip::tcp::resolver res(io);
  auto eps = res.resolve(addr->host, std::to_string(addr->port), ec);
  if (ec) return MakeError(Errc::kIo, remote + ": " + ec.message(), ec.value());
  asio::ip::tcp::socket s(io);
  asio::connect(s, eps, ec);
  if (ec) return MakeError(Errc::kIo, remote + ": " + ec.message(), ec.value());
  s.set_option(asio::ip::tcp::no_delay(true), ec);
  return StreamSocket(std::move(s));
}

}  // namespace sluice
