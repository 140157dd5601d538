// A passive connection method: punix:PATH, ptcp:[PORT][:HOST] or pssl:[PORT][:HOST]. Accepted
// connections are handed over as Streams; on pssl: only after the TLS handshake verified the
// peer. Peers that fail (a certificate from another CA, an expired one, none, plain TCP to a TLS
// port, a handshake that does not finish in time) are refused: closed, logged (rate-limited),
// counted, and the latest reason kept for status reports, while the listener keeps serving.
// At most max_handshakes handshakes run at once (accepting pauses meanwhile), and running out of
// file descriptors pauses accepting for a moment instead of spinning.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <asio.hpp>

#include "common/rate_limit.h"
#include "common/stream/address.h"
#include "common/stream/stream.h"
#include "common/stream/tls_config.h"
#include "sluice/result.h"

namespace sluice {

struct ListenOptions {
  uint16_t default_port = kOvsdbPort;
  std::shared_ptr<TlsConfig> tls;  // pssl: (null: DefaultTlsConfig())
  size_t max_handshakes = 64;
  std::chrono::milliseconds handshake_timeout{10000};
  int backlog = 1024;
};

class StreamListener {
 public:
  using AcceptFn = std::function<void(StreamPtr)>;
  // Listens on `target`; for pssl: the TLS configuration must be complete.
  static Result<std::unique_ptr<StreamListener>> Listen(asio::io_context& io,
                                                        const std::string& target,
                                                        ListenOptions opts, AcceptFn fn);
  ~StreamListener();
  StreamListener(const StreamListener&) = delete;
  StreamListener& operator=(const StreamListener&) = delete;

  const std::string& target() const { return target_; }
  const StreamAddress& address() const { return addr_; }
  uint16_t bound_port() const { return bound_port_; }  // tcp/ssl: the port bound (ptcp:0)
  // The most recent refusal ("ssl:10.0.0.9:5120: certificate verify failed: ..."), and how many.
  const std::string& last_error() const { return last_error_; }
  uint64_t n_refused() const { return n_refused_; }
  int64_t last_accept_ms() const { return last_accept_ms_; }  // steady ms, 0: never

 private:
  explicit StreamListener(asio::io_context& io) : retry_(io) {}
  void Accept();
  void OnAccepted(StreamSocket sock, std::string peer);
  void Refused(const std::string& peer, const std::string& why);
  void Resume();

  std::string target_;
  StreamAddress addr_;
  ListenOptions opts_;
  AcceptFn fn_;
  uint16_t bound_port_ = 0;
  std::unique_ptr<asio::local::stream_protocol::acceptor> unix_;
  std::unique_ptr<asio::ip::tcp::acceptor> tcp_;
  asio::steady_timer retry_;
  bool accepting_ = false;
  size_t handshakes_ = 0;
  std::string last_error_;
  uint64_t n_refused_ = 0;
  int64_t last_accept_ms_ = 0;
  LogRateLimiter refusal_log_{5};
  int64_t last_fd_log_ms_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sluice
