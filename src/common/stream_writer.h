// Ordered asynchronous output on a Stream: a queue of buffers with one write in flight, a byte
// count for back-pressure, per-tag counts (e.g. how many packet-ins are still queued), a stall
// timeout (output pending but none written for that long: the peer stopped reading), and a close
// that lets what is queued go out for a bounded time. Shared by the JSON-RPC and OpenFlow
// connections.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include <asio.hpp>

#include "common/stream/stream.h"

namespace sluice {

class StreamWriter {
 public:
  static constexpr int kMaxTags = 4;

  // `stream` must outlive the writer; `on_error` runs once per failed write and on a stall
  // (std::errc::timed_out); the owner closes.
  StreamWriter(Stream& stream, std::function<void(std::error_code)> on_error)
      : stream_(stream), on_error_(std::move(on_error)), stall_timer_(stream.executor()) {}
  ~StreamWriter();

  // Queues `data`. `keepalive` (the owner's shared_ptr) is held by the write in flight.
  void Write(std::string data, std::shared_ptr<void> keepalive, int tag = 0);
  size_t backlog() const { return backlog_; }
  size_t queued(int tag) const { return tagged_[tag]; }  // buffers of `tag` not fully written
  // Output the peer has not taken: our queue plus what sits unacknowledged in the socket.
  size_t unsent() const { return backlog_ + stream_.KernelUnsent(); }
  // Runs after each completed write (owners resume reading once the backlog shrinks).
  void OnProgress(std::function<void()> fn) { on_progress_ = std::move(fn); }
  // Output pending and nothing written for `timeout`: on_error(timed_out). 0 disables.
  void SetStallTimeout(std::chrono::milliseconds timeout) { stall_timeout_ = timeout; }
  // Stops taking writes. What is queued goes out for at most `linger` (0: dropped at once), then
  // the stream is closed.
  void Close(std::shared_ptr<void> keepalive, std::chrono::milliseconds linger);
  bool closing() const { return closing_; }

 private:
  struct Buf {
    std::string data;
    size_t off = 0;
    int tag = 0;
  };
  void Next(std::shared_ptr<void> keepalive);
  void ArmStallTimer();
  void Finish();

  Stream& stream_;
  std::function<void(std::error_code)> on_error_;
  std::function<void()> on_progress_;
  std::deque<Buf> out_;
  size_t backlog_ = 0;
  size_t tagged_[kMaxTags] = {};
  bool writing_ = false;
  bool closing_ = false;
  bool finished_ = false;
  std::chrono::milliseconds stall_timeout_{0};
  std::chrono::steady_clock::time_point last_progress_;
  asio::steady_timer stall_timer_;
  bool stall_armed_ = false;
  std::unique_ptr<asio::steady_timer> linger_timer_;
};

}  // namespace sluice
