#include "tools/ofctl/vconn.h"

#include <fmt/format.h>

#include <cstring>
#include <memory>
#include <optional>

#include "common/stream/address.h"
#include "common/stream/connect.h"
#include "ofproto/text/ofp_text.h"

namespace sluice::ofctl {

using namespace sluice::ofp;

std::string ResolveTarget(const std::string& target, const std::string& rundir) {
  if (IsStreamTarget(target)) return target;
  if (target.find('/') != std::string::npos) return "unix:" + target;
  return "unix:" + rundir + "/" + target + ".mgmt";
}

Vconn::~Vconn() {
  if (stream_) stream_->Close();
  io_.restart();
  io_.poll();  // let the aborted operations finish while the buffers still exist
}

Result<std::unique_ptr<Vconn>> Vconn::Open(const std::string& name, uint8_t version, int timeout_s,
                                           VersionSet also) {
  std::unique_ptr<Vconn> vc(new Vconn(name, timeout_s));
  ConnectOptions co;
  co.default_port = kOpenFlowPort;
  if (timeout_s > 0) co.timeout = std::chrono::seconds(timeout_s);
  auto stream = Connect(vc->io_, name, co);
  if (!stream) {
    std::string why = stream.error().message;
    if (why.starts_with(name + ": ")) why.erase(0, name.size() + 2);
    return MakeError(stream.error().code,
                     fmt::format("{}: failed to connect{} ({})", name,
                                 name.starts_with("unix:") ? " to socket" : "", why));
  }
  vc->stream_ = std::move(*stream);
  vc->StartRead();
  vc->version_ = version;
  VersionSet ours = VersionBit(version) | also;
  for (uint8_t v = 31; v > 0; --v) {
    if (ours & VersionBit(v)) {
      version = v;  // the header carries the highest
      break;
    }
  }
  Message hello{version, vc->NextXid(), Hello{ours}};
  if (auto ok = vc->Send(hello); !ok) return std::unexpected(ok.error());
  // The first message must be the peer's HELLO.
  uint8_t hdr[kHeaderLen];
  if (auto ok = vc->ReadExact(hdr, kHeaderLen); !ok) return std::unexpected(ok.error());
  size_t len = size_t{hdr[2]} << 8 | hdr[3];
  if (len < kHeaderLen) return MakeError(Errc::kProtocol, name + ": bad message length");
  Bytes msg(hdr, hdr + kHeaderLen);
  msg.resize(len);
  if (auto ok = vc->ReadExact(msg.data() + kHeaderLen, len - kHeaderLen); !ok) {
    return std::unexpected(ok.error());
  }
  OfpResult<Message> m = DecodeMessage(msg);
  if (!m || !std::holds_alternative<Hello>(m->body)) {
    if (m && std::holds_alternative<ErrorMsg>(m->body)) {
      return MakeError(Errc::kProtocol, text::FormatMessage(*m));
    }
    return MakeError(Errc::kProtocol, name + ": peer did not start with HELLO");
  }
  VersionSet theirs = PeerVersions(hdr[0], std::get<Hello>(m->body).versions);
  auto common = HighestCommonVersion(ours, theirs);
  if (!common) {
    return MakeError(Errc::kProtocol,
                     fmt::format("{}: version negotiation failed (we support version {:#04x}, "
                                 "peer supports versions {:#x})",
                                 name, version, theirs));
  }
  vc->version_ = *common;
  return vc;
}

void Vconn::StartRead() {
  if (reading_ || !read_error_.empty()) return;
  reading_ = true;
  stream_->AsyncReadSome(rbuf_.data(), rbuf_.size(), [this](std::error_code ec, size_t n) {
    reading_ = false;
    if (ec) {
      if (ec != asio::error::operation_aborted) read_error_ = stream_->ErrorText(ec);
      return;
    }
    if (in_off_ == in_.size()) {
      in_.clear();
      in_off_ = 0;
    }
    in_.insert(in_.end(), rbuf_.begin(), rbuf_.begin() + n);
    StartRead();
  });
}

bool Vconn::RunOnce(std::chrono::steady_clock::time_point deadline) {
  if (io_.stopped()) io_.restart();
  if (timeout_s_ <= 0) {
    io_.run_one();
    return true;
  }
  auto now = std::chrono::steady_clock::now();
  if (now >= deadline) return false;
  io_.run_one_for(deadline - now);
  return std::chrono::steady_clock::now() < deadline;
}

bool Vconn::HasMessage() const {
  size_t have = in_.size() - in_off_;
  if (have < kHeaderLen) return false;
  size_t len = size_t{in_[in_off_ + 2]} << 8 | in_[in_off_ + 3];
  return have >= std::max(len, kHeaderLen);
}

Result<void> Vconn::SendRaw(const Bytes& bytes) {
  size_t off = 0;
  std::string error;
  bool writing = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s_);
  while (off < bytes.size() || writing) {
    if (!writing && error.empty()) {
      writing = true;
      stream_->AsyncWriteSome(bytes.data() + off, bytes.size() - off,
                              [&](std::error_code ec, size_t n) {
                                writing = false;
                                if (ec) {
                                  error = stream_->ErrorText(ec);
                                  return;
                                }
                                off += n;
                              });
    }
    if (!error.empty()) break;
    if (!RunOnce(deadline) && writing) {
      stream_->Close();  // aborts the write; the handler must run before `bytes` goes away
      while (writing) io_.run_one();
      return MakeError(Errc::kIo, name_ + ": timeout sending a request");
    }
  }
  if (!error.empty()) return MakeError(Errc::kIo, name_ + ": send failed (" + error + ")");
  return {};
}

Result<void> Vconn::ReadExact(uint8_t* buf, size_t n) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s_);
  while (in_.size() - in_off_ < n) {
    if (!read_error_.empty()) {
      if (read_error_ == "connection closed by peer") {
        return MakeError(Errc::kIo, name_ + ": connection closed by peer");
      }
      return MakeError(Errc::kIo, name_ + ": receive failed (" + read_error_ + ")");
    }
    StartRead();
    if (!RunOnce(deadline)) return MakeError(Errc::kIo, name_ + ": timeout waiting for a reply");
  }
  std::memcpy(buf, in_.data() + in_off_, n);
  in_off_ += n;
  return {};
}

Result<void> Vconn::Send(const Message& msg) {
  Result<Bytes> b = EncodeMessage(msg);
  if (!b) return std::unexpected(b.error());
  return SendRaw(*b);
}

Result<Bytes> Vconn::RecvRaw() {
  uint8_t hdr[kHeaderLen];
  if (auto ok = ReadExact(hdr, kHeaderLen); !ok) return std::unexpected(ok.error());
  size_t len = size_t{hdr[2]} << 8 | hdr[3];
  if (len < kHeaderLen) return MakeError(Errc::kProtocol, name_ + ": bad message length");
  Bytes msg(hdr, hdr + kHeaderLen);
  msg.resize(len);
  if (auto ok = ReadExact(msg.data() + kHeaderLen, len - kHeaderLen); !ok) {
    return std::unexpected(ok.error());
  }
  return msg;
}

Result<Message> Vconn::Recv(Bytes* raw) {
  while (true) {
    Result<Bytes> msg = RecvRaw();
    if (!msg) return std::unexpected(msg.error());
    OfpResult<Message> m = DecodeMessage(*msg);
    if (!m) {
      return MakeError(Errc::kProtocol,
                       fmt::format("received a message that does not decode "
                                   "({}):\n{}",
                                   OfpErrName(m.error().err), text::FormatRawMessage(*msg)));
    }
    if (auto* echo = std::get_if<EchoRequest>(&m->body)) {
      Message reply{m->version, m->xid, EchoReply{echo->data}};
      if (auto ok = Send(reply); !ok) return std::unexpected(ok.error());
      continue;
    }
    if (raw) *raw = std::move(*msg);
    return *m;
  }
}

Result<std::vector<Message>> Vconn::Transact(MessageBody request) {
  uint32_t xid = NextXid();
  if (auto ok = Send(Message{version_, xid, std::move(request)}); !ok) {
    return std::unexpected(ok.error());
  }
  std::vector<Message> replies;
  while (true) {
    Result<Message> m = Recv();
    if (!m) return std::unexpected(m.error());
    if (m->xid != xid) continue;  // asynchronous or stale: not ours
    bool more = false;
    if (auto* mr = std::get_if<MultipartReply>(&m->body)) more = mr->flags & kMultipartMore;
    bool is_error = std::holds_alternative<ErrorMsg>(m->body);
    replies.push_back(std::move(*m));
    if (is_error) return std::vector<Message>{std::move(replies.back())};
    if (!more) return replies;
  }
}

Result<std::optional<Message>> Vconn::TransactNoReply(std::vector<MessageBody> requests) {
  // Pipelined: the requests go out back to back, then one barrier; the replies (errors) are
  // matched up afterwards.
  // Between chunks, replies that already arrived are read so that neither side can block on
  // a full socket buffer.
  std::optional<Message> first_error;
  auto drain = [&]() -> Result<void> {
    io_.poll();
    while (HasMessage()) {
      Result<Message> m = Recv();
      if (!m) return std::unexpected(m.error());
      if (std::holds_alternative<ErrorMsg>(m->body) && !first_error) first_error = std::move(*m);
    }
    return {};
  };
  Bytes out;
  for (MessageBody& body : requests) {
    Result<Bytes> b = EncodeMessage(Message{version_, NextXid(), std::move(body)});
    if (!b) return std::unexpected(b.error());
    out.insert(out.end(), b->begin(), b->end());
    if (out.size() >= 64 * 1024) {
      if (auto ok = SendRaw(out); !ok) return std::unexpected(ok.error());
      out.clear();
      if (auto ok = drain(); !ok) return std::unexpected(ok.error());
    }
  }
  uint32_t barrier_xid = NextXid();
  Result<Bytes> b = EncodeMessage(Message{version_, barrier_xid, BarrierRequest{}});
  if (!b) return std::unexpected(b.error());
  out.insert(out.end(), b->begin(), b->end());
  if (auto ok = SendRaw(out); !ok) return std::unexpected(ok.error());
  while (true) {
    Result<Message> m = Recv();
    if (!m) return std::unexpected(m.error());
    if (std::holds_alternative<ErrorMsg>(m->body) && !first_error) first_error = std::move(*m);
    if (m->xid == barrier_xid && std::holds_alternative<BarrierReply>(m->body)) break;
  }
  return first_error;
}

}  // namespace sluice::ofctl
