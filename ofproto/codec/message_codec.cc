// DecodeMessage()/EncodeMessage() dispatch and the small setup and symmetric messages.
#include <algorithm>
#include <string>
#include <tuple>
#include <type_traits>

#include "ofproto/codec/codec_internal.h"

namespace sluice::ofp {
namespace internal {
namespace {

constexpr uint16_t kHelloElemVersionBitmap = 1;
constexpr uint16_t kErrTypeExperimenter = 0xffff;

OfpResult<void> ExpectLen(ByteSpan body, size_t want) {
  if (body.size() != want) {
    return Fail(OfpErr::kBadRequestBadLen, "body is " + std::to_string(body.size()) +
                                               " bytes, expected " + std::to_string(want));
  }
  return {};
}

}  // namespace

std::string ReadFixedString(Reader& r, size_t n) {
  ByteSpan s = r.Take(n);
  // The last byte is the terminator even when the sender did not zero it (as Open vSwitch
  // reads these fields), so decode and encode agree on the longest possible name.
  auto end = std::find(s.begin(), s.empty() ? s.end() : s.end() - 1, uint8_t{0});
  return std::string(s.begin(), end);
}

void WriteFixedString(const std::string& s, size_t n, Writer& w) {
  size_t len = std::min(s.size(), n - 1);  // always leave room for the NUL
  w.Append(ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), len));
  w.Zeros(n - len);
}

OfpResult<Hello> DecodeHello(ByteSpan body) {
  Hello h;
  Reader r(body);
  while (r.remaining() > 0) {
    if (r.remaining() < 4) return Fail(OfpErr::kBadRequestBadLen, "truncated hello element");
    uint16_t type = r.U16();
    uint16_t len = r.U16();
    if (len < 4 || len - 4u > r.remaining()) {
      return Fail(OfpErr::kBadRequestBadLen, "hello element length " + std::to_string(len));
    }
    ByteSpan payload = r.Take(len - 4u);
    // Padding after the last element may be missing in what older peers send.
    r.Skip(std::min(RoundUp8(len) - len, r.remaining()));
    if (type != kHelloElemVersionBitmap) continue;  // unknown elements are to be ignored
    if (payload.empty() || payload.size() % 4 != 0) {
      return Fail(OfpErr::kBadRequestBadLen, "version bitmap length");
    }
    Reader b(payload);
    h.versions = b.U32();
  }
  return h;
}

void EncodeBody(const Hello& m, Writer& w) {
  if (!m.versions) return;
  w.U16(kHelloElemVersionBitmap);
  w.U16(8);
  w.U32(*m.versions);
}

OfpResult<ErrorMsg> DecodeErrorMsg(ByteSpan body) {
  Reader r(body);
  if (r.remaining() < 4) return Fail(OfpErr::kBadRequestBadLen, "short error message");
  ErrorMsg e;
  e.type = r.U16();
  e.code = r.U16();
  if (e.type == kErrTypeExperimenter) {
    if (r.remaining() < 4) return Fail(OfpErr::kBadRequestBadLen, "short experimenter error");
    e.experimenter = r.U32();
  }
  ByteSpan rest = r.Rest();
  e.data.assign(rest.begin(), rest.end());
  return e;
}

void EncodeBody(const ErrorMsg& m, Writer& w) {
  w.U16(m.type);
  w.U16(m.code);
  if (m.type == kErrTypeExperimenter) w.U32(m.experimenter);
  w.Append(m.data);
}

void EncodeBody(const EchoRequest& m, Writer& w) { w.Append(m.data); }
void EncodeBody(const EchoReply& m, Writer& w) { w.Append(m.data); }

OfpResult<ExperimenterMsg> DecodeExperimenterMsg(ByteSpan body) {
  Reader r(body);
  if (r.remaining() < 8) return Fail(OfpErr::kBadRequestBadLen, "short experimenter message");
  ExperimenterMsg m;
  m.experimenter = r.U32();
  m.exp_type = r.U32();
  ByteSpan rest = r.Rest();
  m.data.assign(rest.begin(), rest.end());
  return m;
}

void EncodeBody(const ExperimenterMsg& m, Writer& w) {
  w.U32(m.experimenter);
  w.U32(m.exp_type);
  w.Append(m.data);
}

void EncodeBody(const FeaturesRequest&, Writer&) {}

OfpResult<FeaturesReply> DecodeFeaturesReply(ByteSpan body) {
  if (auto ok = ExpectLen(body, 24); !ok) return std::unexpected(ok.error());
  Reader r(body);
  FeaturesReply f;
  f.datapath_id = r.U64();
  f.n_buffers = r.U32();
  f.n_tables = r.U8();
  f.auxiliary_id = r.U8();
  r.Skip(2);
  f.capabilities = r.U32();
  f.reserved = r.U32();
  return f;
}

void EncodeBody(const FeaturesReply& m, Writer& w) {
  w.U64(m.datapath_id);
  w.U32(m.n_buffers);
  w.U8(m.n_tables);
  w.U8(m.auxiliary_id);
  w.Zeros(2);
  w.U32(m.capabilities);
  w.U32(m.reserved);
}

void EncodeBody(const GetConfigRequest&, Writer&) {}

OfpResult<SwitchConfig> DecodeSwitchConfig(ByteSpan body, bool is_set) {
  if (auto ok = ExpectLen(body, 4); !ok) return std::unexpected(ok.error());
  Reader r(body);
  SwitchConfig c;
  c.flags = r.U16();
  c.miss_send_len = r.U16();
  if (is_set && (c.flags & ~kConfigFragMask)) {
    return Fail(OfpErr::kSwitchConfigBadFlags, "config flags " + std::to_string(c.flags));
  }
  return c;
}

void EncodeBody(const SwitchConfig& m, Writer& w) {
  w.U16(m.flags);
  w.U16(m.miss_send_len);
}

void EncodeBody(const BarrierRequest&, Writer&) {}
void EncodeBody(const BarrierReply&, Writer&) {}

OfpResult<RoleBody> DecodeRole(ByteSpan body, bool is_request) {
  if (auto ok = ExpectLen(body, 16); !ok) return std::unexpected(ok.error());
  Reader r(body);
  uint32_t role = r.U32();
  r.Skip(4);
  RoleBody b;
  b.role = static_cast<ControllerRole>(role);
  b.generation_id = r.U64();
  // NOCHANGE is a question, so only a request may carry it.
  if (role > 3 || (!is_request && role == 0)) {
    return Fail(OfpErr::kRoleRequestBadRole, "role " + std::to_string(role));
  }
  return b;
}

void EncodeBody(const RoleBody& m, Writer& w) {
  w.U32(static_cast<uint32_t>(m.role));
  w.Zeros(4);
  w.U64(m.generation_id);
}

void EncodeBody(const GetAsyncRequest&, Writer&) {}

OfpResult<AsyncConfig> DecodeAsync(ByteSpan body) {
  if (auto ok = ExpectLen(body, 24); !ok) return std::unexpected(ok.error());
  Reader r(body);
  AsyncConfig a;
  for (auto* arr : {&a.packet_in_mask, &a.port_status_mask, &a.flow_removed_mask}) {
    (*arr)[0] = r.U32();
    (*arr)[1] = r.U32();
  }
  return a;
}

void EncodeBody(const AsyncConfig& m, Writer& w) {
  for (const auto* arr : {&m.packet_in_mask, &m.port_status_mask, &m.flow_removed_mask}) {
    w.U32((*arr)[0]);
    w.U32((*arr)[1]);
  }
}

}  // namespace internal

namespace {

using namespace internal;  // NOLINT: the body codecs are this file's vocabulary

template <class T>
OfpResult<MessageBody> Wrap(OfpResult<T>&& r) {
  if (!r) return std::unexpected(std::move(r.error()));
  return MessageBody(std::move(*r));
}

template <class T, class B>
OfpResult<MessageBody> WrapAs(OfpResult<B>&& r) {
  if (!r) return std::unexpected(std::move(r.error()));
  T t;
  static_cast<B&>(t) = std::move(*r);
  return MessageBody(std::move(t));
}

OfpResult<MessageBody> HeaderOnly(ByteSpan body, MessageBody empty) {
  if (!body.empty()) return Fail(OfpErr::kBadRequestBadLen, "message takes no body");
  return empty;
}

OfpResult<MessageBody> DecodeBody(MsgType type, ByteSpan body) {
  switch (type) {
    case MsgType::kHello:
      return Wrap(DecodeHello(body));
    case MsgType::kError:
      return Wrap(DecodeErrorMsg(body));
    case MsgType::kEchoRequest:
      return EchoRequest{Bytes(body.begin(), body.end())};
    case MsgType::kEchoReply:
      return EchoReply{Bytes(body.begin(), body.end())};
    case MsgType::kExperimenter:
      return Wrap(DecodeExperimenterMsg(body));
    case MsgType::kFeaturesRequest:
      return HeaderOnly(body, FeaturesRequest{});
    case MsgType::kFeaturesReply:
      return Wrap(DecodeFeaturesReply(body));
    case MsgType::kGetConfigRequest:
      return HeaderOnly(body, GetConfigRequest{});
    case MsgType::kGetConfigReply:
      return WrapAs<GetConfigReply>(DecodeSwitchConfig(body, false));
    case MsgType::kSetConfig:
      return WrapAs<SetConfig>(DecodeSwitchConfig(body, true));
    case MsgType::kPacketIn:
      return Wrap(DecodePacketIn(body));
    case MsgType::kFlowRemoved:
      return Wrap(DecodeFlowRemoved(body));
    case MsgType::kPortStatus:
      return Wrap(DecodePortStatus(body));
    case MsgType::kPacketOut:
      return Wrap(DecodePacketOut(body));
    case MsgType::kFlowMod:
      return Wrap(DecodeFlowMod(body));
    case MsgType::kGroupMod:
      return Wrap(DecodeGroupMod(body));
    case MsgType::kPortMod:
      return Wrap(DecodePortMod(body));
    case MsgType::kTableMod:
      return Wrap(DecodeTableMod(body));
    case MsgType::kMultipartRequest:
      return Wrap(DecodeMultipartRequest(body));
    case MsgType::kMultipartReply:
      return Wrap(DecodeMultipartReply(body));
    case MsgType::kBarrierRequest:
      return HeaderOnly(body, BarrierRequest{});
    case MsgType::kBarrierReply:
      return HeaderOnly(body, BarrierReply{});
    case MsgType::kRoleRequest:
      return WrapAs<RoleRequest>(DecodeRole(body, true));
    case MsgType::kRoleReply:
      return WrapAs<RoleReply>(DecodeRole(body, false));
    case MsgType::kGetAsyncRequest:
      return HeaderOnly(body, GetAsyncRequest{});
    case MsgType::kGetAsyncReply:
      return WrapAs<GetAsyncReply>(DecodeAsync(body));
    case MsgType::kSetAsync:
      return WrapAs<SetAsync>(DecodeAsync(body));
    case MsgType::kMeterMod:
      return Wrap(DecodeMeterMod(body));
    case MsgType::kQueueGetConfigRequest:
      return Wrap(DecodeQueueGetConfigRequest(body));
    case MsgType::kQueueGetConfigReply:
      return Wrap(DecodeQueueGetConfigReply(body));
    default:
      break;
  }
  return Fail(OfpErr::kBadRequestBadType, "message type " + std::to_string(int(type)));
}

}  // namespace

MsgType TypeOf(const MessageBody& body) {
  return std::visit([](const auto& m) { return std::decay_t<decltype(m)>::kType; }, body);
}

OfpResult<Message> DecodeMessage(ByteSpan data) {
  OfpResult<Header> h = DecodeHeader(data);
  if (!h) return std::unexpected(std::move(h.error()));
  if (h->length != data.size()) {
    return Fail(OfpErr::kBadRequestBadLen, "header length " + std::to_string(h->length) + " but " +
                                               std::to_string(data.size()) + " bytes");
  }
  if (h->version == kOfp10) return DecodeOf10(*h, data.subspan(kHeaderLen));
  auto type = static_cast<MsgType>(h->type);
  if (h->version != kOfp13 && type != MsgType::kHello && type != MsgType::kError) {
    return Fail(OfpErr::kBadRequestBadVersion, "version " + std::to_string(h->version));
  }
  OfpResult<MessageBody> body = DecodeBody(type, data.subspan(kHeaderLen));
  if (!body) return std::unexpected(std::move(body.error()));
  return Message{h->version, h->xid, std::move(*body)};
}

Result<Bytes> EncodeMessage(const Message& msg) {
  if (msg.version == kOfp10) return EncodeOf10(msg);
  Bytes out;
  Writer w(&out);
  EncodeHeader(Header{msg.version, static_cast<uint8_t>(TypeOf(msg.body)), 0, msg.xid}, w);
  std::visit([&w](const auto& m) { EncodeBody(m, w); }, msg.body);
  if (out.size() > kMaxMessageLen) {
    return MakeError(Errc::kNoSpace,
                     "OpenFlow message of " + std::to_string(out.size()) + " bytes");
  }
  w.PatchU16(2, static_cast<uint16_t>(out.size()));
  return out;
}

Result<std::vector<Bytes>> EncodeMessages(const Message& msg) {
  Result<Bytes> one = EncodeMessage(msg);
  const auto* mp = std::get_if<MultipartReply>(&msg.body);
  if (one || one.error().code != Errc::kNoSpace || !mp) {
    if (!one) return std::unexpected(one.error());
    return std::vector<Bytes>{std::move(*one)};
  }
  Result<std::vector<Message>> parts = SplitMultipartReply(msg.xid, *mp, msg.version);
  if (!parts) return std::unexpected(parts.error());
  std::get<MultipartReply>(parts->back().body).flags = mp->flags;
  std::vector<Bytes> out;
  for (const Message& part : *parts) {
    Result<Bytes> b = EncodeMessage(part);
    if (!b) return std::unexpected(b.error());
    out.push_back(std::move(*b));
  }
  return out;
}

Message MakeErrorReply(const OfpError& error, ByteSpan offending, uint8_t version) {
  Message m;
  m.version = version;
  if (offending.size() >= kHeaderLen) m.xid = Reader(offending.subspan(4, 4)).U32();
  ErrorMsg e;
  e.type = error.type();
  e.code = error.code();
  if (version == kOfp10) std::tie(e.type, e.code) = Of10ErrorCode(error.err);
  ByteSpan data = offending.first(std::min(offending.size(), kErrorDataMax));
  e.data.assign(data.begin(), data.end());
  m.body = std::move(e);
  return m;
}

}  // namespace sluice::ofp
