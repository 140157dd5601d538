#include "common/jsonrpc.h"

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <charconv>

#include "sluice/log.h"

namespace sluice {
namespace {

auto Log() {
  static auto l = log::Get("jsonrpc");
  return l;
}

}  // namespace

std::shared_ptr<JsonRpcConnection> JsonRpcConnection::Create(StreamSocket sock,
                                                             JsonRpcLimits limits,
                                                             std::string peer) {
  return std::shared_ptr<JsonRpcConnection>(
      new JsonRpcConnection(std::move(sock), limits, std::move(peer)));
}

JsonRpcConnection::JsonRpcConnection(StreamSocket sock, JsonRpcLimits limits, std::string peer)
    : sock_(std::move(sock)),
      limits_(limits),
      peer_(std::move(peer)),
      splitter_(limits.max_message),
      writer_(sock_, [this](std::error_code ec) { Close(ec.message()); }) {}

JsonRpcConnection::~JsonRpcConnection() = default;

void JsonRpcConnection::Start() {
  if (started_) return;
  started_ = true;
  Read();
}

void JsonRpcConnection::Read() {
  auto self = shared_from_this();
  sock_.async_read_some(asio::buffer(buf_), [this, self](std::error_code ec, size_t n) {
    if (closed_) return;
    if (ec) {
      Close(ec == asio::error::eof ? "connection closed by peer" : ec.message());
      return;
    }
    if (!splitter_.Feed(std::string_view(buf_.data(), n))) {
      Log()->warn("{}: message exceeds {} bytes, closing", peer_, limits_.max_message);
      SendError(nullptr, Json{{"error", "message too long"},
                              {"details", "a single JSON-RPC message exceeded " +
                                              std::to_string(limits_.max_message) + " bytes"}});
      Close("message too long");
      return;
    }
    while (!closed_) {
      auto msg = splitter_.Next();
      if (!msg) break;
      Dispatch(std::move(*msg));
    }
    if (!closed_ && splitter_.garbage()) {
      SendError(nullptr, Json{{"error", "syntax error"}, {"details", "input is not JSON"}});
      Close("syntax error");
      return;
    }
    if (!closed_) Read();
  });
}

void JsonRpcConnection::Dispatch(std::string text) {
  if (on_raw_message_) {
    on_raw_message_(*this, std::move(text));
    return;
  }
  Json msg = Json::parse(text, nullptr, false);
  if (msg.is_discarded()) {
    // The framing was intact, so the stream stays usable: report and go on.
    SendError(nullptr, Json{{"error", "syntax error"}, {"details", "malformed JSON"}});
    return;
  }
  if (!msg.is_object()) {
    SendError(nullptr,
              Json{{"error", "syntax error"}, {"details", "JSON-RPC message is not an object"}});
    return;
  }
  // A reply to one of our requests?
  if (!msg.contains("method") && msg.contains("id") && msg["id"].is_number_unsigned()) {
    auto it = pending_.find(msg["id"].get<uint64_t>());
    if (it != pending_.end()) {
      auto fn = std::move(it->second);
      pending_.erase(it);
      fn(std::move(msg));
      return;
    }
  }
  if (on_message_) on_message_(*this, std::move(msg));
}

void JsonRpcConnection::Send(const Json& msg) {
  if (closed_) return;
  SendText(msg.dump(-1, ' ', false, Json::error_handler_t::replace));
}

void JsonRpcConnection::SendText(std::string text) {
  if (closed_) return;
  writer_.Write(std::move(text), shared_from_this());
  if (writer_.backlog() > limits_.max_backlog) {
    Log()->warn("{}: output backlog {} bytes exceeds {}, closing", peer_, writer_.backlog(),
                limits_.max_backlog);
    Close("output backlog exceeded");
  }
}

void JsonRpcConnection::SendReply(const Json& id, Json result) {
  Send(Json{{"id", id}, {"result", std::move(result)}, {"error", nullptr}});
}

void JsonRpcConnection::SendError(const Json& id, Json error) {
  Send(Json{{"id", id}, {"result", nullptr}, {"error", std::move(error)}});
}

void JsonRpcConnection::SendNotify(const std::string& method, Json params) {
  Send(Json{{"id", nullptr}, {"method", method}, {"params", std::move(params)}});
}

void JsonRpcConnection::Request(const std::string& method, Json params,
                                std::function<void(Json)> done) {
  uint64_t id = next_id_++;
  pending_[id] = std::move(done);
  Send(Json{{"id", id}, {"method", method}, {"params", std::move(params)}});
}

size_t JsonRpcConnection::unread_by_peer() const {
  int n = 0;
  if (closed_) return 0;
  if (::ioctl(const_cast<StreamSocket&>(sock_).native_handle(), SIOCOUTQ, &n) != 0) return 0;
  return n > 0 ? static_cast<size_t>(n) : 0;
}

void JsonRpcConnection::Close(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  // Flush what is queued (best effort, non-blocking) so a final error reply gets out.
  writer_.FlushAndClear();
  std::error_code ec;
  sock_.shutdown(asio::socket_base::shutdown_both, ec);
  sock_.close(ec);
  pending_.clear();
  auto fn = std::move(on_close_);
  on_close_ = nullptr;
  if (fn) fn(*this, reason);
}

Result<std::unique_ptr<JsonRpcListener>> JsonRpcListener::Listen(asio::io_context& io,
                                                                 const std::string& remote,
                                                                 AcceptFn fn) {
  std::unique_ptr<JsonRpcListener> l(new JsonRpcListener());
  l->remote_ = remote;
  l->fn_ = std::move(fn);
  std::error_code ec;
  if (remote.starts_with("punix:")) {
    l->unix_path_ = remote.substr(6);
    ::unlink(l->unix_path_.c_str());
    l->unix_ = std::make_unique<asio::local::stream_protocol::acceptor>(io);
    l->unix_->open(asio::local::stream_protocol(), ec);
    if (!ec) l->unix_->bind(asio::local::stream_protocol::endpoint(l->unix_path_), ec);
    if (!ec) l->unix_->listen(128, ec);
    if (ec) return MakeError(Errc::kIo, remote + ": " + ec.message());
    l->AcceptUnix();
    return l;
  }
  if (remote.starts_with("ptcp:")) {
    std::string rest = remote.substr(5);
    std::string port_s = rest.substr(0, rest.find(':'));
    std::string ip =
        rest.find(':') == std::string::npos ? "0.0.0.0" : rest.substr(rest.find(':') + 1);
    unsigned port = 0;
    auto [p, e] = std::from_chars(port_s.data(), port_s.data() + port_s.size(), port);
    if (e != std::errc() || p != port_s.data() + port_s.size() || port > 65535) {
      return MakeError(Errc::kInvalid, remote + ": bad port");
    }
    auto addr = asio::ip::make_address(ip, ec);
    if (ec) return MakeError(Errc::kInvalid, remote + ": bad address '" + ip + "'");
    asio::ip::tcp::endpoint ep(addr, static_cast<uint16_t>(port));
    l->tcp_ = std::make_unique<asio::ip::tcp::acceptor>(io);
    l->tcp_->open(ep.protocol(), ec);
    if (!ec) l->tcp_->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) l->tcp_->bind(ep, ec);
    if (!ec) l->tcp_->listen(128, ec);
    if (ec) return MakeError(Errc::kIo, remote + ": " + ec.message());
    l->bound_port_ = l->tcp_->local_endpoint().port();
    l->AcceptTcp();
    return l;
  }
  return MakeError(Errc::kInvalid, "unsupported passive remote '" + remote +
                                       "' (expected punix:PATH or ptcp:PORT[:IP])");
}

JsonRpcListener::~JsonRpcListener() {
  std::error_code ec;
  if (unix_) {
    unix_->close(ec);
    ::unlink(unix_path_.c_str());
  }
  if (tcp_) tcp_->close(ec);
}

void JsonRpcListener::AcceptUnix() {
  unix_->async_accept([this](std::error_code ec, asio::local::stream_protocol::socket s) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) fn_(StreamSocket(std::move(s)), "unix:" + unix_path_);
    AcceptUnix();
  });
}

void JsonRpcListener::AcceptTcp() {
  tcp_->async_accept([this](std::error_code ec, asio::ip::tcp::socket s) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      std::error_code e2;
      auto ep = s.remote_endpoint(e2);
      s.set_option(asio::ip::tcp::no_delay(true), e2);
      std::string peer = "tcp:" + ep.address().to_string() + ":" + std::to_string(ep.port());
      fn_(StreamSocket(std::move(s)), peer);
    }
    AcceptTcp();
  });
}

Result<StreamSocket> ConnectStream(asio::io_context& io, const std::string& remote) {
  std::error_code ec;
  if (remote.starts_with("unix:")) {
    asio::local::stream_protocol::socket s(io);
    s.connect(asio::local::stream_protocol::endpoint(remote.substr(5)), ec);
    if (ec) return MakeError(Errc::kIo, remote + ": " + ec.message());
    return StreamSocket(std::move(s));
  }
  if (remote.starts_with("tcp:")) {
    std::string rest = remote.substr(4);
    size_t colon = rest.rfind(':');
    if (colon == std::string::npos) return MakeError(Errc::kInvalid, remote + ": missing port");
    std::string host = rest.substr(0, colon), port = rest.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    asio::ip::tcp::resolver res(io);
    auto eps = res.resolve(host, port, ec);
    if (ec) return MakeError(Errc::kIo, remote + ": " + ec.message());
    asio::ip::tcp::socket s(io);
    asio::connect(s, eps, ec);
    if (ec) return MakeError(Errc::kIo, remote + ": " + ec.message());
    s.set_option(asio::ip::tcp::no_delay(true), ec);
    return StreamSocket(std::move(s));
  }
  return MakeError(Errc::kInvalid,
                   "unsupported remote '" + remote + "' (expected unix:PATH or tcp:IP:PORT)");
}

}  // namespace sluice
