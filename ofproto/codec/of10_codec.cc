// The OpenFlow 1.0 wire codec. It decodes into, and encodes from, the same typed (OpenFlow 1.3)
// messages as the 1.3 codec, so the switch logic is written once:
//
//   - ofp_match <-> OXM Match (of10_match.cc): wildcard bits, 16-bit in_port, nw_src/nw_dst as
//     CIDR prefixes. Fields whose 1.0 prerequisites do not hold (nw_* without dl_type IPv4/ARP,
//     tp_* without an exact nw_proto of TCP, UDP, SCTP or ICMP) are ignored, as OpenFlow 1.0
//     §5.2.3 says; ARP's opcode and addresses travel in nw_proto/nw_src/nw_dst.
//   - 1.0 actions <-> one apply-actions instruction (of10_actions.cc). set_vlan_vid/pcp,
//     set_dl_*, set_nw_*, set_nw_tos and set_tp_* become set-field (tp_* on TCP unless the match
//     says UDP or SCTP), strip_vlan becomes pop_vlan, enqueue becomes set_queue + output.
//   - stats request/reply (desc, flow, aggregate, table, port, queue) <-> multipart
//     (of10_stats.cc).
//   - here: flow_mod, packet_in, packet_out, flow_removed, port_status, port_mod, features reply
//     (with the ports inline), queue_get_config and the rest <-> their 1.3 counterparts; 16-bit
//     <-> 32-bit port numbers (0xff00 and up are the reserved ports in both).
//
// Encoding what 1.0 cannot express (a masked Ethernet address, an IPv6 field, a goto-table, a
// group, a meter mod...) fails with kUnsupported, except in a flow stats reply, where flows
// that 1.0 cannot describe are left out (a 1.0 controller sees the flows it can understand).
#include <algorithm>
#include <string>

#include "ofproto/codec/of10_internal.h"

namespace sluice::ofp {

std::pair<uint16_t, uint16_t> Of10ErrorCode(OfpErr err) {
  constexpr uint16_t kHelloFailed = 0, kBadRequest = 1, kBadAction = 2, kFlowModFailed = 3,
                     kPortModFailed = 4, kQueueOpFailed = 5;
  constexpr std::pair<uint16_t, uint16_t> kRequestEperm{kBadRequest, 5};
  uint16_t type = ErrType(err), code = ErrCode(err);
  switch (static_cast<OfpErrType>(type)) {
    case OfpErrType::kHelloFailed:
      return {kHelloFailed, code};
    case OfpErrType::kBadRequest:
      // BAD_VERSION..BUFFER_UNKNOWN (0..8) are the same in 1.0 (BAD_STAT, BAD_VENDOR and
      // BAD_SUBTYPE are what 1.3 renamed).
      return code <= 8 ? std::pair<uint16_t, uint16_t>{kBadRequest, code} : kRequestEperm;
    case OfpErrType::kBadAction:
      // BAD_TYPE..BAD_QUEUE (0..8) are the same; the rest are argument problems.
      return {kBadAction, code <= 8 ? code : uint16_t{5}};
    case OfpErrType::kBadInstruction:
      return {kBadAction, 5};  // 1.0 has only actions: OFPBAC_BAD_ARGUMENT
    case OfpErrType::kFlowModFailed:
      switch (err) {
        case OfpErr::kFlowModTableFull:
          return {kFlowModFailed, 0};  // OFPFMFC_ALL_TABLES_FULL
        case OfpErr::kFlowModOverlap:
          return {kFlowModFailed, 1};
        case OfpErr::kFlowModBadCommand:
          return {kFlowModFailed, 4};
        default:
          return {kFlowModFailed, 2};  // OFPFMFC_EPERM
      }
    case OfpErrType::kPortModFailed:
      if (err == OfpErr::kPortModBadPort) return {kPortModFailed, 0};
      if (err == OfpErr::kPortModBadHwAddr) return {kPortModFailed, 1};
      return kRequestEperm;
    case OfpErrType::kQueueOpFailed:
      return {kQueueOpFailed, code};  // BAD_PORT, BAD_QUEUE, EPERM
    default:
      return kRequestEperm;
  }
}

namespace internal {
namespace {

using namespace of10;  // NOLINT: the 1.0 vocabulary is this file's

enum class T10 : uint8_t {
  kHello = 0,
  kError = 1,
  kEchoRequest = 2,
  kEchoReply = 3,
  kVendor = 4,
  kFeaturesRequest = 5,
  kFeaturesReply = 6,
  kGetConfigRequest = 7,
  kGetConfigReply = 8,
  kSetConfig = 9,
  kPacketIn = 10,
  kFlowRemoved = 11,
  kPortStatus = 12,
  kPacketOut = 13,
  kFlowMod = 14,
  kPortMod = 15,
  kStatsRequest = 16,
  kStatsReply = 17,
  kBarrierRequest = 18,
  kBarrierReply = 19,
  kQueueGetConfigRequest = 20,
  kQueueGetConfigReply = 21,
};

constexpr size_t kPhyPortLen = 48;

// Port config/state/feature bits that mean the same in both versions.
constexpr uint32_t kConfigCommon = 0x1 | 0x4 | 0x20 | 0x40;  // down, no_recv, no_fwd, no_pkt_in
constexpr uint32_t kStateCommon = 0x1;                       // link down
// OFPC_* in both: flow, table, port stats, ip reasm, queue stats.
constexpr uint32_t kCapsCommon = 0x1 | 0x2 | 0x4 | 0x20 | 0x40;
constexpr uint32_t kCapArpMatchIp = 0x80;
constexpr uint32_t kAllActions10 = 0xfff;  // OUTPUT .. ENQUEUE

uint32_t FeaturesFrom10(uint32_t f) { return (f & 0x7f) | (((f >> 7) & 0x1f) << 11); }
uint32_t FeaturesTo10(uint32_t f) { return (f & 0x7f) | (((f >> 11) & 0x1f) << 7); }

// ---- Ports -----------------------------------------------------------------------------

void DecodePhyPort(Reader& r, PortDesc* p) {
  *p = PortDesc{};
  p->port_no = PortFrom10(r.U16());
  for (uint8_t& b : p->hw_addr) b = r.U8();
  p->name = ReadFixedString(r, 16);
  p->config = r.U32() & kConfigCommon;
  p->state = r.U32() & kStateCommon;
  p->curr = FeaturesFrom10(r.U32());
  p->advertised = FeaturesFrom10(r.U32());
  p->supported = FeaturesFrom10(r.U32());
  p->peer = FeaturesFrom10(r.U32());
}

Result<void> EncodePhyPort(const PortDesc& p, Writer& w) {
  Result<uint16_t> port = Port10(p.port_no);
  if (!port) return std::unexpected(port.error());
  w.U16(*port);
  w.Append(p.hw_addr);
  WriteFixedString(p.name, 16, w);
  w.U32(p.config & kConfigCommon);
  w.U32(p.state & kStateCommon);
  for (uint32_t f : {p.curr, p.advertised, p.supported, p.peer}) w.U32(FeaturesTo10(f));
  return {};
}

// ---- Decoding --------------------------------------------------------------------------

template <class T>
OfpResult<Message> Lift(const Header& h, OfpResult<T>&& r) {
  if (!r) return std::unexpected(std::move(r.error()));
  return Message{h.version, h.xid, MessageBody(std::move(*r))};
}

OfpResult<FeaturesReply> DecodeFeatures10(ByteSpan body) {
  if (body.size() < 24 || (body.size() - 24) % kPhyPortLen != 0) {
    return Fail(BadLen(), "features reply length");
  }
  Reader r(body);
  FeaturesReply f;
  f.datapath_id = r.U64();
  f.n_buffers = r.U32();
  f.n_tables = r.U8();
  r.Skip(3);
  f.capabilities = r.U32() & kCapsCommon;
  r.Skip(4);  // supported actions
  while (r.remaining() > 0) {
    PortDesc p;
    DecodePhyPort(r, &p);
    f.ports.push_back(std::move(p));
  }
  return f;
}

OfpResult<FlowMod> DecodeFlowMod10(ByteSpan body) {
  if (body.size() < kMatch10Len + 24) return Fail(BadLen(), "short flow_mod");
  Reader r(body);
  FlowMod f;
  f.match = DecodeMatch10(r);
  f.cookie = r.U64();
  uint16_t command = r.U16();
  f.idle_timeout = r.U16();
  f.hard_timeout = r.U16();
  f.priority = r.U16();
  f.buffer_id = r.U32();
  f.out_port = PortFrom10(r.U16());
  f.flags = r.U16();
  if (command > static_cast<uint16_t>(FlowModCommand::kDeleteStrict)) {
    return Fail(OfpErr::kFlowModBadCommand, "command " + std::to_string(command));
  }
  f.command = static_cast<FlowModCommand>(command);
  // SEND_FLOW_REM and CHECK_OVERLAP; OFPFF_EMERG (emergency flows) is not supported.
  if (f.flags & ~(kFlowSendFlowRem | kFlowCheckOverlap)) {
    return Fail(OfpErr::kFlowModBadFlags, "flags " + std::to_string(f.flags));
  }
  // 1.0 has one table as far as the controller knows: adds and modifies go to table 0, deletes
  // apply to every table (as Open vSwitch does).
  bool deleting =
      f.command == FlowModCommand::kDelete || f.command == FlowModCommand::kDeleteStrict;
  f.table_id = deleting ? kTableAll : 0;
  OfpResult<ActionList> acts = DecodeActions10(r.Rest(), &f.match);
  if (!acts) return std::unexpected(std::move(acts.error()));
  f.instructions = InstructionsOf(std::move(*acts));
  return f;
}

OfpResult<PacketIn> DecodePacketIn10(ByteSpan body) {
  if (body.size() < 10) return Fail(BadLen(), "short packet_in");
  Reader r(body);
  PacketIn p;
  p.buffer_id = r.U32();
  p.total_len = r.U16();
  p.match.Set(OxmEntry::Exact(OxmField::kInPort, PortFrom10(r.U16())));
  uint8_t reason = r.U8();
  r.Skip(1);
  if (reason > static_cast<uint8_t>(PacketInReason::kAction)) {
    return Fail(OfpErr::kBadRequestBadType, "packet_in reason " + std::to_string(reason));
  }
  p.reason = static_cast<PacketInReason>(reason);
  ByteSpan data = r.Rest();
  p.data.assign(data.begin(), data.end());
  return p;
}

bool ValidInPort10(uint32_t port) {
  return (port != 0 && port < kPortMax) || port == kPortLocal || port == kPortController ||
         port == kPortAny;
}

OfpResult<PacketOut> DecodePacketOut10(ByteSpan body) {
  if (body.size() < 8) return Fail(BadLen(), "short packet_out");
  Reader r(body);
  PacketOut p;
  p.buffer_id = r.U32();
  // OFPP_NONE ("no input port") is what 1.3 calls OFPP_CONTROLLER for a packet-out.
  uint16_t in_port = r.U16();
  p.in_port = in_port == 0xffff ? kPortController : PortFrom10(in_port);
  uint16_t actions_len = r.U16();
  if (actions_len > r.remaining()) {
    return Fail(BadLen(), "actions_len " + std::to_string(actions_len));
  }
  if (!ValidInPort10(p.in_port)) {
    return Fail(OfpErr::kBadRequestBadPort, "in_port " + std::to_string(p.in_port));
  }
  OfpResult<ActionList> acts = DecodeActions10(r.Take(actions_len), nullptr);
  if (!acts) return std::unexpected(std::move(acts.error()));
  p.actions = std::move(*acts);
  ByteSpan data = r.Rest();
  p.data.assign(data.begin(), data.end());
  return p;
}

OfpResult<FlowRemoved> DecodeFlowRemoved10(ByteSpan body) {
  if (auto ok = ExpectLen(body, kMatch10Len + 40); !ok) return std::unexpected(ok.error());
  Reader r(body);
  FlowRemoved f;
  f.match = DecodeMatch10(r);
  f.cookie = r.U64();
  f.priority = r.U16();
  uint8_t reason = r.U8();
  r.Skip(1);
  f.duration_sec = r.U32();
  f.duration_nsec = r.U32();
  f.idle_timeout = r.U16();
  r.Skip(2);
  f.packet_count = r.U64();
  f.byte_count = r.U64();
  if (reason > static_cast<uint8_t>(FlowRemovedReason::kDelete)) {
    return Fail(OfpErr::kBadRequestBadType, "flow_removed reason " + std::to_string(reason));
  }
  f.reason = static_cast<FlowRemovedReason>(reason);
  return f;
}

OfpResult<PortStatus> DecodePortStatus10(ByteSpan body) {
  if (auto ok = ExpectLen(body, 8 + kPhyPortLen); !ok) return std::unexpected(ok.error());
  Reader r(body);
  PortStatus s;
  s.reason = static_cast<PortReason>(r.U8());
  r.Skip(7);
  DecodePhyPort(r, &s.desc);
  return s;
}

OfpResult<PortMod> DecodePortMod10(ByteSpan body) {
  if (auto ok = ExpectLen(body, 24); !ok) return std::unexpected(ok.error());
  Reader r(body);
  PortMod p;
  p.port_no = PortFrom10(r.U16());
  for (uint8_t& b : p.hw_addr) b = r.U8();
  p.config = r.U32();
  p.mask = r.U32();
  p.advertise = FeaturesFrom10(r.U32());
  if (p.port_no == 0 || (p.port_no >= kPortMax && p.port_no != kPortLocal)) {
    return Fail(OfpErr::kPortModBadPort, "port " + std::to_string(p.port_no));
  }
  // NO_STP, NO_RECV_STP and NO_FLOOD have no OpenFlow 1.3 meaning here.
  if ((p.config | p.mask) & ~kConfigCommon) {
    return Fail(OfpErr::kPortModBadConfig, "config bits without a 1.3 equivalent");
  }
  return p;
}

OfpResult<uint32_t> QueuePort10(uint16_t p) {
  uint32_t port = p == kPort10All ? kPortAny : PortFrom10(p);
  if (port == 0 || (port > kPortMax && port != kPortAny)) {
    return Fail(OfpErr::kQueueOpBadPort, "port " + std::to_string(port));
  }
  return port;
}

OfpResult<QueueGetConfigRequest> DecodeQueueRequest10(ByteSpan body) {
  if (auto ok = ExpectLen(body, 4); !ok) return std::unexpected(ok.error());
  OfpResult<uint32_t> port = QueuePort10(Reader(body).U16());
  if (!port) return std::unexpected(std::move(port.error()));
  return QueueGetConfigRequest{*port};
}

OfpResult<QueueGetConfigReply> DecodeQueueReply10(ByteSpan body) {
  if (body.size() < 8) return Fail(BadLen(), "short queue_get_config_reply");
  Reader r(body);
  QueueGetConfigReply q;
  q.port = PortFrom10(r.U16());
  r.Skip(6);
  while (r.remaining() > 0) {
    if (r.remaining() < 8) return Fail(BadLen(), "truncated queue");
    PacketQueue pq;
    pq.queue_id = r.U32();
    pq.port = q.port;
    uint16_t len = r.U16();
    r.Skip(2);
    if (len < 8 || len % 8 != 0 || len - 8u > r.remaining()) {
      return Fail(BadLen(), "queue length " + std::to_string(len));
    }
    auto props = DecodeQueueProps(r.Take(len - 8u));
    if (!props) return std::unexpected(std::move(props.error()));
    for (const QueueProp& p : *props) {
      if (p.type != QueuePropType::kMinRate) return Fail(BadLen(), "1.0 queue property type");
    }
    pq.properties = std::move(*props);
    q.queues.push_back(std::move(pq));
  }
  return q;
}

OfpResult<ExperimenterMsg> DecodeVendor10(ByteSpan body) {
  if (body.size() < 4) return Fail(BadLen(), "short vendor message");
  Reader r(body);
  ExperimenterMsg m;
  m.experimenter = r.U32();
  ByteSpan rest = r.Rest();
  m.data.assign(rest.begin(), rest.end());
  return m;
}

template <class T>
OfpResult<T> HeaderOnly(ByteSpan body) {
  if (!body.empty()) return Fail(BadLen(), "message takes no body");
  return T{};
}

template <class T>
OfpResult<T> Config10(ByteSpan body, bool is_set) {
  OfpResult<SwitchConfig> c = DecodeSwitchConfig(body, is_set);
  if (!c) return std::unexpected(std::move(c.error()));
  T t;
  static_cast<SwitchConfig&>(t) = *c;
  return t;
}

// ---- Encoding --------------------------------------------------------------------------

using Encoded = Result<T10>;

Encoded Body10(const Hello& m, Writer& w) {
  EncodeBody(m, w);
  return T10::kHello;
}
Encoded Body10(const ErrorMsg& m, Writer& w) {
  EncodeBody(m, w);
  return T10::kError;
}
Encoded Body10(const EchoRequest& m, Writer& w) {
  w.Append(m.data);
  return T10::kEchoRequest;
}
Encoded Body10(const EchoReply& m, Writer& w) {
  w.Append(m.data);
  return T10::kEchoReply;
}
Encoded Body10(const ExperimenterMsg& m, Writer& w) {
  if (m.exp_type != 0) return Unsupported("an experimenter message type");
  w.U32(m.experimenter);
  w.Append(m.data);
  return T10::kVendor;
}
Encoded Body10(const FeaturesRequest&, Writer&) { return T10::kFeaturesRequest; }
Encoded Body10(const FeaturesReply& m, Writer& w) {
  w.U64(m.datapath_id);
  w.U32(m.n_buffers);
  w.U8(m.n_tables);
  w.Zeros(3);
  // The 1.0 match carries ARP fields in nw_*, so ARP_MATCH_IP holds.
  w.U32((m.capabilities & kCapsCommon) | kCapArpMatchIp);
  w.U32(kAllActions10);
  for (const PortDesc& p : m.ports) {
    if (auto ok = EncodePhyPort(p, w); !ok) return std::unexpected(ok.error());
  }
  return T10::kFeaturesReply;
}
Encoded Body10(const GetConfigRequest&, Writer&) { return T10::kGetConfigRequest; }
Encoded Body10(const GetConfigReply& m, Writer& w) {
  EncodeBody(static_cast<const SwitchConfig&>(m), w);
  return T10::kGetConfigReply;
}
Encoded Body10(const SetConfig& m, Writer& w) {
  EncodeBody(static_cast<const SwitchConfig&>(m), w);
  return T10::kSetConfig;
}
Encoded Body10(const BarrierRequest&, Writer&) { return T10::kBarrierRequest; }
Encoded Body10(const BarrierReply&, Writer&) { return T10::kBarrierReply; }

Encoded Body10(const PacketIn& m, Writer& w) {
  if (m.reason > PacketInReason::kAction) return Unsupported("packet_in reason invalid_ttl");
  const OxmEntry* in = m.match.Find(OxmField::kInPort);
  Result<uint16_t> port = Port10(in ? static_cast<uint32_t>(in->ValueU64()) : kPortAny);
  if (!port) return std::unexpected(port.error());
  w.U32(m.buffer_id);
  w.U16(m.total_len);
  w.U16(*port);
  w.U8(static_cast<uint8_t>(m.reason));
  w.Zeros(1);
  w.Append(m.data);
  return T10::kPacketIn;
}

Encoded Body10(const FlowRemoved& m, Writer& w) {
  if (auto ok = EncodeMatch10(m.match, w); !ok) return std::unexpected(ok.error());
  w.U64(m.cookie);
  w.U16(m.priority);
  // A group delete is a delete to a 1.0 controller.
  w.U8(std::min(static_cast<uint8_t>(m.reason), static_cast<uint8_t>(FlowRemovedReason::kDelete)));
  w.Zeros(1);
  w.U32(m.duration_sec);
  w.U32(m.duration_nsec);
  w.U16(m.idle_timeout);
  w.Zeros(2);
  w.U64(m.packet_count);
  w.U64(m.byte_count);
  return T10::kFlowRemoved;
}

Encoded Body10(const PortStatus& m, Writer& w) {
  w.U8(static_cast<uint8_t>(m.reason));
  w.Zeros(7);
  if (auto ok = EncodePhyPort(m.desc, w); !ok) return std::unexpected(ok.error());
  return T10::kPortStatus;
}

Encoded Body10(const PacketOut& m, Writer& w) {
  Result<uint16_t> port = Port10(m.in_port);
  if (!port) return std::unexpected(port.error());
  w.U32(m.buffer_id);
  w.U16(*port);
  size_t len_at = w.size();
  w.U16(0);
  size_t start = w.size();
  if (auto ok = EncodeActions10(m.actions, w); !ok) return std::unexpected(ok.error());
  w.PatchU16(len_at, static_cast<uint16_t>(w.size() - start));
  w.Append(m.data);
  return T10::kPacketOut;
}

Encoded Body10(const FlowMod& m, Writer& w) {
  if (m.table_id != 0 && m.table_id != kTableAll) return Unsupported("a flow_mod table id");
  if (m.cookie_mask != 0) return Unsupported("a cookie mask");
  if (m.out_group != kGroupAny) return Unsupported("out_group");
  if (m.flags & ~(kFlowSendFlowRem | kFlowCheckOverlap)) return Unsupported("these flow flags");
  Result<uint16_t> out_port = Port10(m.out_port);
  if (!out_port) return std::unexpected(out_port.error());
  if (auto ok = EncodeMatch10(m.match, w); !ok) return std::unexpected(ok.error());
  w.U64(m.cookie);
  w.U16(static_cast<uint16_t>(m.command));
  w.U16(m.idle_timeout);
  w.U16(m.hard_timeout);
  w.U16(m.priority);
  w.U32(m.buffer_id);
  w.U16(*out_port);
  w.U16(m.flags);
  if (auto ok = EncodeInstructions10(m.instructions, w); !ok) return std::unexpected(ok.error());
  return T10::kFlowMod;
}

Encoded Body10(const PortMod& m, Writer& w) {
  Result<uint16_t> port = Port10(m.port_no);
  if (!port) return std::unexpected(port.error());
  if ((m.config | m.mask) & ~kConfigCommon) return Unsupported("these port config bits");
  w.U16(*port);
  w.Append(m.hw_addr);
  w.U32(m.config);
  w.U32(m.mask);
  w.U32(FeaturesTo10(m.advertise));
  w.Zeros(4);
  return T10::kPortMod;
}

Encoded Body10(const MultipartRequest& m, Writer& w) {
  if (auto ok = EncodeStatsRequest10(m, w); !ok) return std::unexpected(ok.error());
  return T10::kStatsRequest;
}

Encoded Body10(const MultipartReply& m, Writer& w) {
  if (auto ok = EncodeStatsReply10(m, w); !ok) return std::unexpected(ok.error());
  return T10::kStatsReply;
}

Encoded Body10(const QueueGetConfigRequest& m, Writer& w) {
  w.U16(QueuePortTo10(m.port));
  w.Zeros(2);
  return T10::kQueueGetConfigRequest;
}

Encoded Body10(const QueueGetConfigReply& m, Writer& w) {
  Result<uint16_t> port = Port10(m.port);
  if (!port) return std::unexpected(port.error());
  w.U16(*port);
  w.Zeros(6);
  for (const PacketQueue& q : m.queues) {
    for (const QueueProp& p : q.properties) {
      if (p.type != QueuePropType::kMinRate) return Unsupported("this queue property");
    }
    size_t start = w.size();
    w.U32(q.queue_id);
    w.U16(0);
    w.Zeros(2);
    EncodeQueueProps(q.properties, w);
    w.PatchU16(start + 4, static_cast<uint16_t>(w.size() - start));
  }
  return T10::kQueueGetConfigReply;
}

// Messages that OpenFlow 1.0 does not have.
template <class T>
Encoded Body10(const T&, Writer&) {
  return Unsupported("this message type (" + std::to_string(static_cast<int>(T::kType)) +
                     " in OpenFlow 1.3)");
}

}  // namespace

OfpResult<Message> DecodeOf10(const Header& h, ByteSpan body) {
  switch (static_cast<T10>(h.type)) {
    case T10::kHello:
      return Lift(h, DecodeHello(body));
    case T10::kError:
      return Lift(h, DecodeErrorMsg(body));
    case T10::kEchoRequest:
      return Message{h.version, h.xid, EchoRequest{Bytes(body.begin(), body.end())}};
    case T10::kEchoReply:
      return Message{h.version, h.xid, EchoReply{Bytes(body.begin(), body.end())}};
    case T10::kVendor:
      return Lift(h, DecodeVendor10(body));
    case T10::kFeaturesRequest:
      return Lift(h, HeaderOnly<FeaturesRequest>(body));
    case T10::kFeaturesReply:
      return Lift(h, DecodeFeatures10(body));
    case T10::kGetConfigRequest:
      return Lift(h, HeaderOnly<GetConfigRequest>(body));
    case T10::kGetConfigReply:
      return Lift(h, Config10<GetConfigReply>(body, false));
    case T10::kSetConfig:
      return Lift(h, Config10<SetConfig>(body, true));
    case T10::kPacketIn:
      return Lift(h, DecodePacketIn10(body));
    case T10::kFlowRemoved:
      return Lift(h, DecodeFlowRemoved10(body));
    case T10::kPortStatus:
      return Lift(h, DecodePortStatus10(body));
    case T10::kPacketOut:
      return Lift(h, DecodePacketOut10(body));
    case T10::kFlowMod:
      return Lift(h, DecodeFlowMod10(body));
    case T10::kPortMod:
      return Lift(h, DecodePortMod10(body));
    case T10::kStatsRequest:
      return Lift(h, DecodeStatsRequest10(body));
    case T10::kStatsReply:
      return Lift(h, DecodeStatsReply10(body));
    case T10::kBarrierRequest:
      return Lift(h, HeaderOnly<BarrierRequest>(body));
    case T10::kBarrierReply:
      return Lift(h, HeaderOnly<BarrierReply>(body));
    case T10::kQueueGetConfigRequest:
      return Lift(h, DecodeQueueRequest10(body));
    case T10::kQueueGetConfigReply:
      return Lift(h, DecodeQueueReply10(body));
  }
  return Fail(OfpErr::kBadRequestBadType, "OpenFlow 1.0 message type " + std::to_string(h.type));
}

Result<Bytes> EncodeOf10(const Message& msg) {
  Bytes out;
  Writer w(&out);
  EncodeHeader(Header{kOfp10, 0, 0, msg.xid}, w);
  Encoded type = std::visit([&w](const auto& m) { return Body10(m, w); }, msg.body);
  if (!type) return std::unexpected(type.error());
  if (out.size() > kMaxMessageLen) {
    return MakeError(Errc::kNoSpace,
                     "OpenFlow 1.0 message of " + std::to_string(out.size()) + " bytes");
  }
  out[1] = static_cast<uint8_t>(*type);
  w.PatchU16(2, static_cast<uint16_t>(out.size()));
  return out;
}

}  // namespace internal
}  // namespace sluice::ofp
