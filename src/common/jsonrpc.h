// JSON-RPC 1.0 over streams (unix, tcp, ssl), as OVSDB (RFC 7047) and Open vSwitch's tools use
// it: messages are JSON objects sent back to back, framed by their nesting. One
// JsonRpcConnection per peer, driven by its stream's io_context (on one thread).
//
// Hostile or broken peers: input is checked as it arrives (malformed JSON gets a "syntax error"
// reply and the connection is closed at once); a message may not exceed max_message nor stay
// incomplete for partial_timeout; while more than pause_backlog bytes of output wait, no more
// input is read (a peer that sends requests but does not read replies stops being served);
// output that makes no progress for stall_timeout, or passes max_backlog, closes the connection;
// an optional MemoryBudget bounds all connections of a server together. With a probe interval,
// a peer silent for that long is sent an "echo" request, and dropped when it stays silent for
// another interval.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <asio.hpp>
#include <nlohmann/json.hpp>

#include "common/json_stream.h"
#include "common/stream/budget.h"
#include "common/stream/connect.h"
#include "common/stream/listener.h"
#include "common/stream/stream.h"
#include "common/stream_writer.h"
#include "sluice/result.h"

namespace sluice {

using Json = nlohmann::json;

struct JsonRpcLimits {
  size_t max_message = 64 << 20;   // a bigger single message is refused, connection closed
  size_t max_backlog = 64 << 20;   // unsent output beyond this closes the connection
  size_t pause_backlog = 1 << 20;  // no input is read while more output than this waits
  std::chrono::milliseconds partial_timeout{60000};  // a message must complete within this
  std::chrono::milliseconds stall_timeout{60000};    // output pending, none written: closed
  std::shared_ptr<MemoryBudget> budget;              // shared by a server's connections
};

class JsonRpcConnection : public std::enable_shared_from_this<JsonRpcConnection> {
 public:
  using MessageFn = std::function<void(JsonRpcConnection&, Json msg)>;
  using CloseFn = std::function<void(JsonRpcConnection&, const std::string& reason)>;

  static std::shared_ptr<JsonRpcConnection> Create(StreamPtr stream, JsonRpcLimits limits = {});
  // A plain socket (tests, unixctl).
  static std::shared_ptr<JsonRpcConnection> Create(StreamSocket sock, JsonRpcLimits limits,
                                                   std::string peer);
  ~JsonRpcConnection();

  // Handlers are called on the io_context's thread. Set them before Start().
  void OnMessage(MessageFn fn) { on_message_ = std::move(fn); }
  // Alternatively: every message as its JSON text, unparsed (for owners with their own parser;
  // replies to Request() are then not matched either).
  using RawMessageFn = std::function<void(JsonRpcConnection&, std::string text)>;
  void OnRawMessage(RawMessageFn fn) { on_raw_message_ = std::move(fn); }
  void OnClose(CloseFn fn) { on_close_ = std::move(fn); }
  void Start();
  // Inactivity probe interval (0: none); may be changed at any time.
  void SetProbeInterval(std::chrono::milliseconds interval);

  void Send(const Json& msg);
  // Sends a message already serialized as JSON text.
  void SendText(std::string text);
  void SendReply(const Json& id, Json result);
  void SendError(const Json& id, Json error);
  void SendNotify(const std::string& method, Json params);
  // Sends a request; the reply (result or error object) is passed to `done`.
  void Request(const std::string& method, Json params, std::function<void(Json reply)> done);

  void Close(const std::string& reason = "closed by local side");
  bool closed() const { return closed_; }
  size_t backlog_bytes() const { return writer_.backlog(); }
  const std::string& peer() const { return stream_->peer(); }
  const Stream& stream() const { return *stream_; }
  // An inactivity probe is outstanding (the peer has been silent for one interval).
  bool probing() const { return probe_sent_; }

 private:
  JsonRpcConnection(StreamPtr stream, JsonRpcLimits limits);
  void Read();
  void Dispatch(std::string text);
  void ArmProbe();
  void Account();
  void CloseNow(const std::string& reason);

  StreamPtr stream_;
  JsonRpcLimits limits_;
  JsonStreamSplitter splitter_;
  std::array<char, 16384> buf_;
  StreamWriter writer_;
  std::unique_ptr<BudgetAccount> account_;
  bool closed_ = false;
  bool started_ = false;
  bool reading_ = false;  // a read is in flight
  bool paused_ = false;   // reading stopped for back-pressure
  std::chrono::steady_clock::time_point partial_since_{};
  std::chrono::milliseconds probe_interval_{0};
  std::unique_ptr<asio::steady_timer> probe_timer_;
  bool heard_ = true;
  bool probe_sent_ = false;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::function<void(Json)>> pending_;
  MessageFn on_message_;
  RawMessageFn on_raw_message_;
  CloseFn on_close_;
};

// Passive remotes for JSON-RPC (punix:, ptcp:, pssl:) are StreamListeners.
using JsonRpcListener = StreamListener;

}  // namespace sluice
