// JSON-RPC 1.0 over stream sockets (unix and tcp), as OVSDB (RFC 7047) and Open vSwitch's
// tools use it: messages are JSON objects sent back to back, framed by their nesting.
// One JsonRpcConnection per peer, driven by the control thread's io_context.
#pragma once

#include <array>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <asio.hpp>
#include <nlohmann/json.hpp>

#include "common/json_stream.h"
#include "common/stream_writer.h"
#include "sluice/result.h"

namespace sluice {

using Json = nlohmann::json;
using StreamSocket = asio::generic::stream_protocol::socket;

struct JsonRpcLimits {
  size_t max_message = 64 << 20;  // a bigger single message is refused, connection closed
  size_t max_backlog = 64 << 20;  // unsent output beyond this closes the connection
};

class JsonRpcConnection : public std::enable_shared_from_this<JsonRpcConnection> {
 public:
  using MessageFn = std::function<void(JsonRpcConnection&, Json msg)>;
  using CloseFn = std::function<void(JsonRpcConnection&, const std::string& reason)>;

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
  // Bytes the peer has not read yet of what the kernel accepted (SIOCOUTQ), 0 if unknown.
  size_t unread_by_peer() const;
  const std::string& peer() const { return peer_; }

 private:
  JsonRpcConnection(StreamSocket sock, JsonRpcLimits limits, std::string peer);
  void Read();
  void Dispatch(std::string text);

  StreamSocket sock_;
  JsonRpcLimits limits_;
  std::string peer_;
  JsonStreamSplitter splitter_;
  std::array<char, 65536> buf_;
  StreamWriter writer_;
  bool closed_ = false;
  bool started_ = false;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::function<void(Json)>> pending_;
  MessageFn on_message_;
  RawMessageFn on_raw_message_;
  CloseFn on_close_;
};

// A passive remote: "punix:PATH" or "ptcp:PORT[:IP]".
class JsonRpcListener {
 public:
  using AcceptFn = std::function<void(StreamSocket, std::string peer)>;
  static Result<std::unique_ptr<JsonRpcListener>> Listen(asio::io_context& io,
                                                         const std::string& remote, AcceptFn fn);
  ~JsonRpcListener();
  const std::string& remote() const { return remote_; }
  // For ptcp:0, the port actually bound.
  uint16_t bound_port() const { return bound_port_; }

 private:
  JsonRpcListener() = default;
  void AcceptUnix();
  void AcceptTcp();

  std::string remote_;
  std::string unix_path_;
  uint16_t bound_port_ = 0;
  std::unique_ptr<asio::local::stream_protocol::acceptor> unix_;
  std::unique_ptr<asio::ip::tcp::acceptor> tcp_;
  AcceptFn fn_;
};

// Connects synchronously to an active remote: "unix:PATH" or "tcp:IP:PORT".
Result<StreamSocket> ConnectStream(asio::io_context& io, const std::string& remote);

}  // namespace sluice
