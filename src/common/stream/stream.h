// One connected byte stream on one thread's io_context, whatever its transport: a plain
// socket (tcp:, unix:) or TLS over TCP (ssl:, OpenSSL on the non-blocking socket). OpenFlow and
// JSON-RPC connections, their listeners and connectors and the tools all use this one
// abstraction; a TLS stream is handed out only once its handshake (and the peer's verification)
// succeeded, so users never see the difference except in peer() and error texts.
//
// At most one read and one write may be in flight at a time; handlers never run inside the call
// that started the operation. Close() ends the stream at once (TLS: a close_notify is sent if the
// socket takes it); operations in flight complete with asio::error::operation_aborted.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include <asio.hpp>

#include "common/stream/tls_config.h"
#include "sluice/result.h"

namespace sluice {

using StreamSocket = asio::generic::stream_protocol::socket;

class Stream : public std::enable_shared_from_this<Stream> {
 public:
  using Handler = std::function<void(std::error_code, size_t)>;
  virtual ~Stream() = default;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  virtual void AsyncReadSome(void* data, size_t size, Handler h) = 0;
  virtual void AsyncWriteSome(const void* data, size_t size, Handler h) = 0;
  virtual void Close() = 0;
  virtual bool tls() const { return false; }
  // Why an operation failed with `ec`, in words (TLS failures carry OpenSSL's reasons).
  virtual std::string ErrorText(std::error_code ec) const;

  // "tcp:10.0.0.1:41234", "ssl:[::1]:6653", "unix:/run/sluice/db.sock".
  const std::string& peer() const { return peer_; }
  // TLS: the subject of the peer's certificate ("/C=US/.../CN=ctl"), else empty.
  const std::string& peer_subject() const { return peer_subject_; }
  StreamSocket& socket() { return sock_; }
  // Bytes written to the socket that the peer has not taken yet (SIOCOUTQ).
  size_t KernelUnsent() const;
  asio::any_io_executor executor() { return sock_.get_executor(); }

 protected:
  Stream(StreamSocket sock, std::string peer) : sock_(std::move(sock)), peer_(std::move(peer)) {}
  StreamSocket sock_;
  std::string peer_;
  std::string peer_subject_;
};

using StreamPtr = std::shared_ptr<Stream>;

// A plain stream over a connected tcp or unix socket.
StreamPtr MakePlainStream(StreamSocket sock, std::string peer);

// The category of TLS failures; the detail of the last one is in the stream's ErrorText().
const std::error_category& TlsErrorCategory();
enum class TlsErrc { kProtocol = 1, kHandshakeTimeout, kBootstrapped };

// Runs the TLS handshake on a connected TCP socket (`server`: we accepted it) with `ctx`,
// within `timeout`; `done` gets the established stream, or why it failed: the peer's
// certificate did not verify ("certificate verify failed: certificate has expired"), the peer
// does not speak TLS, the handshake timed out, or (bootstrapping) that the peer's CA was saved
// and the connection must be made again. `done` runs on the socket's executor, never inside
// this call.
void TlsHandshake(std::shared_ptr<TlsContext> ctx, StreamSocket sock, std::string peer, bool server,
                  std::chrono::milliseconds timeout, std::function<void(Result<StreamPtr>)> done);

// "tcp:IP:PORT" / "ssl:IP:PORT" for a connected TCP socket's remote end, "unix:PATH" otherwise.
std::string PeerName(const asio::ip::tcp::socket& s, bool tls);

}  // namespace sluice
