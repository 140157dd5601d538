#include "ofproto/connmgr/of_connection.h"

#include <chrono>

#include "common/rate_limit.h"
#include "sluice/log.h"

namespace sluice::ofp {
namespace {

auto Log() {
  static auto l = log::Get("connmgr");
  return l;
}

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr int kTagPacketIn = 1;

}  // namespace

std::shared_ptr<OfMonitor> OfMonitor::Create(StreamPtr stream) {
  return std::shared_ptr<OfMonitor>(new OfMonitor(std::move(stream)));
}

OfMonitor::OfMonitor(StreamPtr stream)
    : stream_(std::move(stream)),
      writer_(*stream_, [this](std::error_code ec) { Close(stream_->ErrorText(ec)); }) {}

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
  stream_->AsyncReadSome(buf_.data(), buf_.size(), [this, self](std::error_code ec, size_t) {
    if (closed_) return;
    if (ec) {
      Close(stream_->ErrorText(ec));
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
  writer_.Close(shared_from_this(), std::chrono::milliseconds(1000));
  Log()->info("{}: snooper disconnected ({}{})", peer(), reason,
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

std::shared_ptr<OfConnection> OfConnection::Create(asio::io_context& io, StreamPtr stream,
                                                   OfHandler* handler, ConnOptions opts) {
  return std::shared_ptr<OfConnection>(new OfConnection(io, std::move(stream), handler, opts));
}

OfConnection::OfConnection(asio::io_context& io, StreamPtr stream, OfHandler* handler,
                           ConnOptions opts)
    : io_(io),
      stream_(std::move(stream)),
      handler_(handler),
      opts_(std::move(opts)),
      writer_(*stream_,
              [this](std::error_code ec) {
                if (ec == std::errc::timed_out) {
                  SLUICE_WARN_RL(Log(),
                              "{}: peer is not reading: no output written for {:.1f} s ({} bytes "
                              "waiting), closing",
                              peer(), opts_.stall_timeout_ms / 1000.0, writer_.backlog());
                  CloseNow("peer not reading");
                } else {
                  Close(stream_->ErrorText(ec));
                }
              }),
      probe_timer_(io) {
  async = DefaultAsyncConfig();
  writer_.SetStallTimeout(std::chrono::milliseconds(opts_.stall_timeout_ms));
  writer_.OnProgress([this] {
    Account();
    if (paused_ && writer_.backlog() <= opts_.pause_backlog / 2) {
      paused_ = false;
      Read();
    }
  });
  if (opts_.budget) {
    account_ = opts_.budget->Join([this](const std::string& why) {
      auto self = weak_from_this().lock();
      if (!self || closed_) return;
      SLUICE_WARN_RL(Log(), "{}: {}, closing", peer(), why);
      asio::post(io_, [self, why] { self->CloseNow(why); });
    });
  }
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
  if (closed_ || reading_) return;
  if (writer_.backlog() > opts_.pause_backlog) {
    paused_ = true;  // resumed by the writer once the peer has taken some output
    return;
  }
  reading_ = true;
  auto self = shared_from_this();
  stream_->AsyncReadSome(buf_.data(), buf_.size(), [this, self](std::error_code ec, size_t n) {
    reading_ = false;
    if (closed_) return;
    if (ec) {
      Close(stream_->ErrorText(ec));
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
    if (closed_) return;
    // A message trickled in for longer than partial_timeout_ms: the peer is holding us.
    if (splitter_.buffered() == 0) {
      partial_since_ms_ = -1;
    } else if (partial_since_ms_ < 0) {
      partial_since_ms_ = SteadyMs();
    } else if (SteadyMs() - partial_since_ms_ > opts_.partial_timeout_ms) {
      SLUICE_WARN_RL(Log(), "{}: message still incomplete after {} s ({} bytes), closing", peer(),
                     opts_.partial_timeout_ms / 1000, splitter_.buffered());
      CloseNow("message incomplete for too long");
      return;
    }
    Account();
    Read();
  });
}

void OfConnection::Account() {
  if (account_) account_->Set(splitter_.buffered() + writer_.backlog());
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
      Log()->info("{}: version negotiation failed (peer offered 0x{:x})", peer(),
                  PeerVersions(msg->version, h.versions));
      Close("version negotiation failed");
      return;
    }
    version_ = *common;
    Log()->info("{}: negotiated OpenFlow version 0x{:02x}", peer(), version_);
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

bool OfConnection::SendPacketIn(const Message& msg) {
  if (closed_) return false;
  if (writer_.queued(kTagPacketIn) >= opts_.packet_in_queue) {
    ++packet_ins_dropped;
    return false;
  }
  Write(msg, kTagPacketIn);
  return true;
}

void OfConnection::Write(const Message& msg, int tag) {
  auto parts = EncodeMessages(msg);
  if (!parts) {
    Log()->warn("{}: cannot encode message (type {}) for OpenFlow version 0x{:02x}: {}", peer(),
                static_cast<int>(TypeOf(msg.body)), msg.version, parts.error().message);
    return;
  }
  for (const Bytes& b : *parts) {
    ++tx_messages;
    if (version_ && !std::holds_alternative<Hello>(msg.body)) CopyToMonitors(b);
    writer_.Write(std::string(b.begin(), b.end()), shared_from_this(), tag);
  }
  Account();
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
  Log()->debug("{}: sending error {}: {}", peer(), OfpErrName(err.err), err.detail);
  Send(MakeErrorReply(err, offending, version_ ? version_ : kOfp13));
}

void OfConnection::SetProbeInterval(int ms) {
  bool was = opts_.probe_interval_ms > 0;
  opts_.probe_interval_ms = ms;
  if (!was && ms > 0 && !closed_) ArmProbe();
}

void OfConnection::ArmProbe() {
  if (opts_.probe_interval_ms <= 0 || closed_) return;
  auto self = shared_from_this();
  probe_timer_.expires_after(std::chrono::milliseconds(opts_.probe_interval_ms));
  probe_timer_.async_wait([this, self](std::error_code ec) {
    if (ec || closed_) return;
    if (!heard_since_probe_) {
      if (probe_outstanding_) {
        if (size_t unsent = writer_.unsent(); paused_ || unsent > 0) {
          SLUICE_WARN_RL(Log(), "{}: peer is not reading ({} bytes waiting), closing", peer(),
                         unsent);
          CloseNow("peer not reading");
        } else {
          SLUICE_WARN_RL(Log(),
                         "{}: no response to inactivity probe after {} seconds, disconnecting",
                         peer(), opts_.probe_interval_ms / 1000.0);
          Close("inactivity probe timed out");
        }
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

// Output already queued (a final error) may still go out for a moment.
void OfConnection::Close(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  close_reason_ = reason;
  writer_.Close(shared_from_this(), std::chrono::milliseconds(1000));
  probe_timer_.cancel();
  static LogRateLimiter disconnects(20);
  if (disconnects.Allow()) {
    Log()->info("{}: disconnected ({}){}", peer(), reason, disconnects.Suffix());
  }
  for (const auto& m : monitors_) m->Close("snooped connection closed");
  monitors_.clear();
  if (version_) handler_->OnDisconnected(*this);
  auto fn = std::move(on_closed_);
  on_closed_ = nullptr;
  if (fn) fn(*this);
}

// Dropped at once with whatever is queued (a peer that does not read, a budget eviction).
void OfConnection::CloseNow(const std::string& reason) {
  writer_.Close(shared_from_this(), std::chrono::milliseconds(0));
  Close(reason);
  if (account_) account_->Set(0);
}

}  // namespace sluice::ofp
