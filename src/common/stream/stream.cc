#include "common/stream/stream.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <csignal>
#include <mutex>
#include <utility>

#include "sluice/log.h"

namespace sluice {
namespace {

auto Log() {
  static auto l = log::Get("stream_ssl");
  return l;
}

class TlsCategory : public std::error_category {
 public:
  const char* name() const noexcept override { return "tls"; }
  std::string message(int ev) const override {
    switch (static_cast<TlsErrc>(ev)) {
      case TlsErrc::kProtocol:
        return "TLS protocol error";
      case TlsErrc::kHandshakeTimeout:
        return "TLS handshake timed out";
      case TlsErrc::kBootstrapped:
        return "CA certificate bootstrapped, reconnecting";
    }
    return "TLS error";
  }
};

std::error_code TlsError(TlsErrc e) { return {static_cast<int>(e), TlsErrorCategory()}; }

class PlainStream final : public Stream {
 public:
  PlainStream(StreamSocket sock, std::string peer) : Stream(std::move(sock), std::move(peer)) {}
  ~PlainStream() override {
    std::error_code ec;
    sock_.close(ec);
  }
  void AsyncReadSome(void* data, size_t size, Handler h) override {
    sock_.async_read_some(asio::buffer(data, size), std::move(h));
  }
  void AsyncWriteSome(const void* data, size_t size, Handler h) override {
    sock_.async_write_some(asio::buffer(data, size), std::move(h));
  }
  void Close() override {
    std::error_code ec;
    sock_.shutdown(asio::socket_base::shutdown_both, ec);
    sock_.close(ec);
  }
};

// TLS with OpenSSL directly on the non-blocking socket: each operation calls SSL_read_ex /
// SSL_write_ex / SSL_do_handshake and, when OpenSSL wants the socket readable or writable,
// waits for that with async_wait and tries again (a read may need the socket writable and the
// other way round, e.g. for a TLS 1.3 key update).
class TlsStream final : public Stream {
 public:
  TlsStream(StreamSocket sock, std::string peer, std::shared_ptr<TlsContext> ctx, SSL* ssl)
      : Stream(std::move(sock), std::move(peer)), ctx_(std::move(ctx)), ssl_(ssl) {}
  ~TlsStream() override {
    SSL_free(ssl_);
    std::error_code ec;
    sock_.close(ec);
  }

  void AsyncReadSome(void* data, size_t size, Handler h) override {
    read_ = Pending{data, nullptr, size, std::move(h)};
    if (closed_) return Complete(Op::kRead, asio::error::operation_aborted, 0);
    Step(Op::kRead);
  }
  void AsyncWriteSome(const void* data, size_t size, Handler h) override {
    write_ = Pending{nullptr, data, size, std::move(h)};
    if (closed_) return Complete(Op::kWrite, asio::error::operation_aborted, 0);
    Step(Op::kWrite);
  }
  void Close() override {
    if (closed_) return;
    closed_ = true;
    if (established_) {
      // One non-blocking attempt to send close_notify; whatever the peer does is not awaited.
      SSL_shutdown(ssl_);
      ERR_clear_error();
    }
    std::error_code ec;
    sock_.close(ec);  // waits in flight complete with operation_aborted
  }
  bool tls() const override { return true; }
  std::string ErrorText(std::error_code ec) const override {
    if (ec.category() == TlsErrorCategory() && !last_error_.empty()) return last_error_;
    return Stream::ErrorText(ec);
  }

  void Handshake(bool server, std::chrono::milliseconds timeout,
                 std::function<void(std::error_code)> done) {
    server_ = server;
    std::error_code ec;
    sock_.non_blocking(true, ec);
    SSL_set_fd(ssl_, static_cast<int>(sock_.native_handle()));
    if (server)
      SSL_set_accept_state(ssl_);
    else
      SSL_set_connect_state(ssl_);
    handshaking_ = true;
    handshake_ = Pending{nullptr, nullptr, 0,
                         [done = std::move(done)](std::error_code e, size_t) { done(e); }};
    timer_ = std::make_unique<asio::steady_timer>(sock_.get_executor());
    timer_->expires_after(timeout);
    timer_->async_wait([weak = weak_from_this()](std::error_code e) {
      auto self = weak.lock();
      if (e || !self) return;
      auto* s = static_cast<TlsStream*>(self.get());
      if (s->established_ || !s->handshaking_) return;
      s->timed_out_ = true;
      std::error_code ignore;
      s->sock_.cancel(ignore);
    });
    Step(Op::kHandshake);
  }

 private:
  enum class Op { kRead, kWrite, kHandshake };
  struct Pending {
    void* rbuf = nullptr;
    const void* wbuf = nullptr;
    size_t size = 0;
    Handler h;
  };

  Pending& PendingOf(Op op) {
    return op == Op::kRead ? read_ : op == Op::kWrite ? write_ : handshake_;
  }

  void Step(Op op) {
    Pending& p = PendingOf(op);
    ERR_clear_error();
    errno = 0;
    size_t n = 0;
    int r = op == Op::kRead    ? SSL_read_ex(ssl_, p.rbuf, p.size, &n)
            : op == Op::kWrite ? SSL_write_ex(ssl_, p.wbuf, p.size, &n)
                               : SSL_do_handshake(ssl_);
    if (r == 1) {
      if (op == Op::kHandshake) return Established();
      return Complete(op, {}, n);
    }
    int sys_errno = errno;
    switch (SSL_get_error(ssl_, r)) {
      case SSL_ERROR_WANT_READ:
        return Wait(op, asio::socket_base::wait_read);
      case SSL_ERROR_WANT_WRITE:
        return Wait(op, asio::socket_base::wait_write);
      case SSL_ERROR_ZERO_RETURN:
        return Complete(op, asio::error::eof, 0);
      case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0) {
          if (sys_errno == 0) {
            if (op == Op::kHandshake)
              last_error_ = "connection closed by peer during TLS handshake";
            return Complete(
                op, op == Op::kHandshake ? TlsError(TlsErrc::kProtocol) : asio::error::eof, 0);
          }
          return Complete(op, std::error_code(sys_errno, std::system_category()), 0);
        }
        [[fallthrough]];
      default:
        last_error_ = DescribeFailure(op);
        return Complete(op, TlsError(TlsErrc::kProtocol), 0);
    }
  }

  // While waiting, the operation's handler lives in the wait's handler, as asio keeps a plain
  // socket's: destroying the io_context then releases it (and whatever it keeps alive, such as
  // the stream's owner), rather than the stream holding its owner in a cycle.
  void Wait(Op op, asio::socket_base::wait_type w) {
    sock_.async_wait(
        w, [self = shared_from_this(), op,
            pending = std::exchange(PendingOf(op), Pending{})](std::error_code ec) mutable {
          auto* s = static_cast<TlsStream*>(self.get());
          s->PendingOf(op) = std::move(pending);
          if (!ec && s->closed_) ec = asio::error::operation_aborted;
          if (ec) {
            if (op == Op::kHandshake && s->timed_out_) ec = TlsError(TlsErrc::kHandshakeTimeout);
            return s->Complete(op, ec, 0);
          }
          s->Step(op);
        });
  }

  std::string DescribeFailure(Op op) {
    int reason = ERR_GET_REASON(ERR_peek_error());
    std::string ssl_errors = TakeOpenSslErrors();
    if (op == Op::kHandshake) {
      long vr = SSL_get_verify_result(ssl_);
      if (vr != X509_V_OK && ctx_->verifies_peer() && !ctx_->bootstrapping()) {
        return std::string("certificate verify failed: ") + X509_verify_cert_error_string(vr);
      }
      if (server_ && (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_HTTP_REQUEST ||
                      reason == SSL_R_PACKET_LENGTH_TOO_LONG || reason == SSL_R_UNKNOWN_PROTOCOL)) {
        return "peer is not using TLS (" + ssl_errors + ")";
      }
      return "TLS handshake failed: " + ssl_errors;
    }
    return ssl_errors.empty() ? "TLS error" : ssl_errors;
  }

  void Established() {
    established_ = true;
    timer_.reset();
    if (X509* cert = SSL_get1_peer_certificate(ssl_)) {
      char subject[512] = "";
      X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
      peer_subject_ = subject;
      X509_free(cert);
    }
    if (ctx_->bootstrapping()) {
      auto saved = SaveBootstrapCa(ssl_, ctx_->ca_file());
      last_error_ = saved ? *saved : saved.error().message;
      if (saved) Log()->info("{}: {}", peer_, *saved);
      return Complete(Op::kHandshake, TlsError(saved ? TlsErrc::kBootstrapped : TlsErrc::kProtocol),
                      0);
    }
    Complete(Op::kHandshake, {}, 0);
  }

  void Complete(Op op, std::error_code ec, size_t n) {
    if (op == Op::kHandshake) handshaking_ = false;
    Handler h = std::move(PendingOf(op).h);
    PendingOf(op) = Pending{};
    if (!h) return;
    asio::post(sock_.get_executor(), [h = std::move(h), ec, n] { h(ec, n); });
  }

  std::shared_ptr<TlsContext> ctx_;
  SSL* ssl_;
  Pending read_, write_, handshake_;
  std::unique_ptr<asio::steady_timer> timer_;
  std::string last_error_;
  bool server_ = false;
  bool handshaking_ = false;
  bool established_ = false;
  bool timed_out_ = false;
  bool closed_ = false;
};

}  // namespace

const std::error_category& TlsErrorCategory() {
  static TlsCategory category;
  return category;
}

size_t Stream::KernelUnsent() const {
  int n = 0;
  if (!sock_.is_open() ||
      ::ioctl(const_cast<StreamSocket&>(sock_).native_handle(), SIOCOUTQ, &n) != 0) {
    return 0;
  }
  return n > 0 ? static_cast<size_t>(n) : 0;
}

std::string Stream::ErrorText(std::error_code ec) const {
  if (ec == asio::error::eof) return "connection closed by peer";
  return ec.message();
}

StreamPtr MakePlainStream(StreamSocket sock, std::string peer) {
  return std::make_shared<PlainStream>(std::move(sock), std::move(peer));
}

std::string PeerName(const asio::ip::tcp::socket& s, bool tls) {
  std::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return tls ? "ssl:?" : "tcp:?";
  std::string host = ep.address().to_string();
  if (ep.address().is_v6()) host = "[" + host + "]";
  return (tls ? "ssl:" : "tcp:") + host + ":" + std::to_string(ep.port());
}

void TlsHandshake(std::shared_ptr<TlsContext> ctx, StreamSocket sock, std::string peer, bool server,
                  std::chrono::milliseconds timeout, std::function<void(Result<StreamPtr>)> done) {
  // OpenSSL writes to the socket with write(2): a peer that went away must not kill us.
  static std::once_flag sigpipe;
  std::call_once(sigpipe, [] {
    struct sigaction old {};
    if (sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) {
      std::signal(SIGPIPE, SIG_IGN);
    }
  });
  SSL* ssl = SSL_new(ctx->get());
  auto executor = sock.get_executor();
  if (!ssl) {
    std::string why = "SSL_new: " + TakeOpenSslErrors();
    asio::post(executor, [done = std::move(done), why] { done(MakeError(Errc::kIo, why)); });
    return;
  }
  auto stream = std::make_shared<TlsStream>(std::move(sock), std::move(peer), std::move(ctx), ssl);
  stream->Handshake(server, timeout, [stream, done = std::move(done)](std::error_code ec) {
    if (!ec) return done(StreamPtr(stream));
    std::string why = stream->ErrorText(ec);
    stream->Close();
    done(MakeError(ec == TlsError(TlsErrc::kBootstrapped) ? Errc::kBusy : Errc::kProtocol, why));
  });
}

}  // namespace sluice
