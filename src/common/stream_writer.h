// Ordered asynchronous output on a stream socket: a queue of buffers with one write in flight,
// a byte count for back-pressure, and a best-effort flush for the last words before a close.
// Shared by the JSON-RPC and OpenFlow connections.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include <asio.hpp>

namespace sluice {

class StreamWriter {
 public:
  using Socket = asio::generic::stream_protocol::socket;

  // `sock` must outlive the writer and the writes in flight; `on_error` runs once per failed
  // write (the owner closes).
  StreamWriter(Socket& sock, std::function<void(std::error_code)> on_error)
      : sock_(sock), on_error_(std::move(on_error)) {}

  // Queues `data`. `keepalive` (the owner's shared_ptr) is held by the write in flight.
  void Write(std::string data, std::shared_ptr<void> keepalive);
  size_t backlog() const { return backlog_; }
  // Writes what is queued without waiting for a slow peer, then drops the rest.
  void FlushAndClear();

 private:
  void Next(std::shared_ptr<void> keepalive);

  Socket& sock_;
  std::function<void(std::error_code)> on_error_;
  std::deque<std::string> out_;
  size_t backlog_ = 0;
  bool writing_ = false;
  bool cleared_ = false;
};

}  // namespace sluice
