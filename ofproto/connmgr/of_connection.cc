#include "ofproto/connmgr/of_connection.h"

#include "sluice/log.h"

namespace sluice::ofp {
namespace {

auto Log() {
  static auto l = log::Get("connmgr");
  return l;
}

}  // namespace

std::shared_ptr<OfMonitor> OfMonitor::Create(StreamSocket sock, std::string peer) {
  return std::shared_ptr<OfMonitor>(new OfMonitor(std::move(sock), std::move(peer)));
}

OfMonitor::OfMonitor(StreamSocket sock, std::string peer)
    : sock_(std::move(sock)),
      peer_(std::move(peer)),
      writer_(sock_, [this](std::error_code ec) { Close(ec.message()); }) {}

void OfMonitor::Start(uint8_t version) {
  auto hello = EncodeMessages(Message{version, 0, Hello{VersionBit(version)}});
  if (hello) {
    for (const Bytes& b : *hello)
      writer_.Write(std::string(b.begin(), b.end()), shared_from_this());
  }
  Read();
}

void OfMonitor::Read() {
  auto self = shared_from_this();
  sock_.async_read_some(asio::buffer(buf_), [this, self](std::error_code ec, size_t) {
    if (closed_) return;
    if (ec) {
      Close(ec == asio::error::eof ? "connection closed by peer" : ec.message());
      return;
    }
    Read();  // the snooper's HELLO and anything else it sends: ignored
  });
}

void OfMonitor::Copy(ByteSpan msg) {
  if (closed_) return;
  if (writer_.backlog() > (1u << 20)) {
    ++dropped;
    return;
  }
  writer_.Write(std::string(msg.begin(), msg.end()), shared_from_this());
}

void OfMonitor::Close(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  writer_.FlushAndClear();
  std::error_code ec;
  sock_.shutdown(asio::socket_base::shutdown_both, ec);
  sock_.close(ec);
  Log()->info("{}: snooper disconnected ({}{})", peer_, reason,
              dropped ? fmt::format(", {} copies dropped", dropped) : "");
}

AsyncConfig DefaultAsyncConfig() {
  AsyncConfig a;
  // [0] master/equal, [1] slave. Packet-in: no-match and action; port status: all reasons;
  // flow removed: all reasons. Slaves get port status only.
  a.packet_in_mask = {0x3, 0x0};
  a.port_status_mask = {0x7, 0x7};
  a.flow_removed_mask = {0xf, 0x0};
  return a;
}

std::shared_ptr<OfConnection> OfConnection::Create(asio::io_context& io, StreamSocket sock,
                                                   std::string peer, OfHandler* handler,
                                                   ConnOptions opts) {
  return std::shared_ptr<OfConnection>(
      new OfConnection(io, std::move(sock), std::move(peer), handler, opts));
}

OfConnection::OfConnection(asio::io_context& io, StreamSocket sock, std::string peer,
                           OfHandler* handler, ConnOptions opts)
    : io_(io),
      sock_(std::move(sock)),
      peer_(std::move(peer)),
      handler_(handler),
      opts_(opts),
      writer_(sock_, [this](std::error_code ec) { Close(ec.message()); }),
      probe_timer_(io) {
  async = DefaultAsyncConfig();
}

OfConnection::~OfConnection() = default;

void OfConnection::Start() {
  Message hello{kOfp13, NextXid(), Hello{opts_.versions}};
  // Announce the highest version we speak in the header, and all of them in the bitmap.
  for (uint8_t v = 31; v > 0; --v) {
    if (opts_.versions & VersionBit(v)) {
      hello.version = v;
      break;
    }
  }
  Send(hello);
  Read();
  ArmProbe();
}

void OfConnection::Read() {
  auto self = shared_from_this();
  sock_.async_read_some(asio::buffer(buf_), [this, self](std::error_code ec, size_t n) {
    if (closed_) return;
    if (ec) {
      Close(ec == asio::error::eof ? "connection closed by peer" : ec.message());
      return;
    }
    heard_since_probe_ = true;
    probe_outstanding_ = false;
    splitter_.Feed(ByteSpan(buf_.data(), n));
    while (!closed_) {
      auto next = splitter_.Next();
      if (!next) {
        // A length below 8 cannot be resynchronised: report and hang up.
        Message err = MakeErrorReply(next.error(), ByteSpan(), version_ ? version_ : kOfp13);
        Send(err);
        Close("framing error");
        return;
      }
      if (!*next) break;
      Handle(**next);
    }
    if (!closed_) Read();
  });
}

void OfConnection::Handle(ByteSpan raw) {
  ++rx_messages;
  auto msg = DecodeMessage(raw);
  if (!version_) {
    // The first message must be a HELLO (OpenFlow 1.3 §6.3.1).
    if (!msg || !std::holds_alternative<Hello>(msg->body)) {
      SendError(OfpError{OfpErr::kHelloIncompatible, "expected HELLO first"}, raw);
      Close("no HELLO");
      return;
    }
    const auto& h = std::get<Hello>(msg->body);
    auto common = HighestCommonVersion(opts_.versions, PeerVersions(msg->version, h.versions));
    if (!common) {
      version_ = kOfp13;  // for the error message itself
      SendError(OfpError{OfpErr::kHelloIncompatible,
                         "no common OpenFlow version (this switch speaks OpenFlow 1.0 and 1.3)"},
                raw);
      Log()->info("{}: version negotiation failed (peer offered 0x{:x})", peer_,
                  PeerVersions(msg->version, h.versions));
      Close("version negotiation failed");
      return;
    }
    version_ = *common;
    Log()->info("{}: negotiated OpenFlow version 0x{:02x}", peer_, version_);
    handler_->OnConnected(*this);
    return;
  }
  CopyToMonitors(raw);
  if (raw[0] != version_) {
    // Every message after the HELLOs must be in the negotiated version (OpenFlow 1.3 §6.3.1).
    SendError(OfpError{OfpErr::kBadRequestBadVersion, "version " + std::to_string(raw[0]) +
                                                          " on a connection negotiated at " +
                                                          std::to_string(version_)},
              raw);
    return;
  }
  if (!msg) {
    SendError(msg.error(), raw);
    return;
  }
  if (auto* echo = std::get_if<EchoRequest>(&msg->body)) {
    Send(Message{version_, msg->xid, EchoReply{echo->data}});
    return;
  }
  if (std::holds_alternative<EchoReply>(msg->body) || std::holds_alternative<Hello>(msg->body)) {
    return;
  }
  if (version_ == kOfp10 && std::holds_alternative<FeaturesRequest>(msg->body)) {
    // 1.0 has no PORT_DESC: ask the handler for both and answer with one features reply.
    features_capture_ = FeaturesCapture{msg->xid, {}};
    handler_->OnMessage(*this, Message{version_, msg->xid, MultipartRequest{0, PortDescRequest{}}},
                        raw);
    handler_->OnMessage(*this, std::move(*msg), raw);
    features_capture_.reset();
    return;
  }
  handler_->OnMessage(*this, std::move(*msg), raw);
}

void OfConnection::Send(const Message& msg) {
  if (closed_) return;
  if (features_capture_ && msg.xid == features_capture_->xid) {
    if (const auto* mp = std::get_if<MultipartReply>(&msg.body)) {
      if (const auto* pd = std::get_if<PortDescReply>(&mp->body)) {
        features_capture_->ports.insert(features_capture_->ports.end(), pd->entries.begin(),
                                        pd->entries.end());
        return;
      }
    }
    if (std::holds_alternative<FeaturesReply>(msg.body)) {
      Message m = msg;
      std::get<FeaturesReply>(m.body).ports = features_capture_->ports;
      Write(m);
      return;
    }
  }
  Write(msg);
}

void OfConnection::Write(const Message& msg) {
  auto parts = EncodeMessages(msg);
  if (!parts) {
    Log()->warn("{}: cannot encode message (type {}) for OpenFlow version 0x{:02x}: {}", peer_,
                static_cast<int>(TypeOf(msg.body)), msg.version, parts.error().message);
    return;
  }
  for (const Bytes& b : *parts) {
    ++tx_messages;
    if (version_ && !std::holds_alternative<Hello>(msg.body)) CopyToMonitors(b);
    writer_.Write(std::string(b.begin(), b.end()), shared_from_this());
  }
}

bool OfConnection::AddMonitor(std::shared_ptr<OfMonitor> m) {
  std::erase_if(monitors_, [](const auto& x) { return x->closed(); });
  if (closed_ || !version_ || monitors_.size() >= kMaxMonitors) return false;
  m->Start(version_);
  monitors_.push_back(std::move(m));
  return true;
}

void OfConnection::CopyToMonitors(ByteSpan msg) {
  for (const auto& m : monitors_) m->Copy(msg);
}

void OfConnection::SendError(const OfpError& err, ByteSpan offending) {
  ++errors_sent;
  Log()->debug("{}: sending error {}: {}", peer_, OfpErrName(err.err), err.detail);
  Send(MakeErrorReply(err, offending, version_ ? version_ : kOfp13));
}

void OfConnection::ArmProbe() {
  if (opts_.probe_interval_ms <= 0 || closed_) return;
  auto self = shared_from_this();
  probe_timer_.expires_after(std::chrono::milliseconds(opts_.probe_interval_ms));
  probe_timer_.async_wait([this, self](std::error_code ec) {
    if (ec || closed_) return;
    if (!heard_since_probe_) {
      if (probe_outstanding_) {
        Close("inactivity probe timed out");
        return;
      }
      if (version_) {
        Send(Message{version_, NextXid(), EchoRequest{}});
        probe_outstanding_ = true;
      }
    }
    heard_since_probe_ = false;
    ArmProbe();
  });
}

void OfConnection::Close(const std::string& reason) {
  if (closed_) return;
  // Flush queued output (best effort) so a final error reaches the peer.
  writer_.FlushAndClear();
  std::error_code ec;
  closed_ = true;
  probe_timer_.cancel();
  sock_.shutdown(asio::socket_base::shutdown_both, ec);
  sock_.close(ec);
  Log()->info("{}: disconnected ({})", peer_, reason);
  for (const auto& m : monitors_) m->Close("snooped connection closed");
  monitors_.clear();
  if (version_) handler_->OnDisconnected(*this);
  auto fn = std::move(on_closed_);
  on_closed_ = nullptr;
  if (fn) fn(*this);
}

}  // namespace sluice::ofp
