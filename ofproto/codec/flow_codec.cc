// FLOW_MOD, PACKET_IN, PACKET_OUT and FLOW_REMOVED bodies.
#include <string>

#include "ofproto/codec/codec_internal.h"

namespace sluice::ofp::internal {
namespace {

constexpr size_t kFlowModFixed = 40;      // ofp_flow_mod minus header and match
constexpr size_t kPacketInFixed = 16;     // before the match
constexpr size_t kPacketOutFixed = 16;    // before the actions
constexpr size_t kFlowRemovedFixed = 40;  // before the match

bool ValidInPort(uint32_t port) {
  return (port != 0 && port < kPortMax) || port == kPortLocal || port == kPortController ||
         port == kPortAny;
}

}  // namespace

OfpResult<FlowMod> DecodeFlowMod(ByteSpan body) {
  if (body.size() < kFlowModFixed + 4) return Fail(OfpErr::kBadRequestBadLen, "short flow_mod");
  Reader r(body);
  FlowMod f;
  f.cookie = r.U64();
  f.cookie_mask = r.U64();
  f.table_id = r.U8();
  uint8_t command = r.U8();
  f.idle_timeout = r.U16();
  f.hard_timeout = r.U16();
  f.priority = r.U16();
  f.buffer_id = r.U32();
  f.out_port = r.U32();
  f.out_group = r.U32();
  f.flags = r.U16();
  r.Skip(2);
  if (command > static_cast<uint8_t>(FlowModCommand::kDeleteStrict)) {
    return Fail(OfpErr::kFlowModBadCommand, "command " + std::to_string(command));
  }
  f.command = static_cast<FlowModCommand>(command);
  if (f.flags & ~kFlowAllFlags) {
    return Fail(OfpErr::kFlowModBadFlags, "flags " + std::to_string(f.flags));
  }
  bool deleting =
      f.command == FlowModCommand::kDelete || f.command == FlowModCommand::kDeleteStrict;
  // Only deletes may name every table at once.
  if (f.table_id == kTableAll && !deleting) {
    return Fail(OfpErr::kFlowModBadTableId, "OFPTT_ALL in an add or modify");
  }
  size_t match_len = 0;
  OfpResult<Match> m = DecodeMatch(body.subspan(kFlowModFixed), &match_len);
  if (!m) return std::unexpected(std::move(m.error()));
  f.match = std::move(*m);
  // Deletes ignore instructions; table 0 as origin keeps a goto in them from being judged
  // against OFPTT_ALL.
  OfpResult<InstructionList> insts = DecodeInstructions(body.subspan(kFlowModFixed + match_len),
                                                        f.table_id == kTableAll ? 0 : f.table_id);
  if (!insts) return std::unexpected(std::move(insts.error()));
  f.instructions = std::move(*insts);
  return f;
}

void EncodeBody(const FlowMod& m, Writer& w) {
  w.U64(m.cookie);
  w.U64(m.cookie_mask);
  w.U8(m.table_id);
  w.U8(static_cast<uint8_t>(m.command));
  w.U16(m.idle_timeout);
  w.U16(m.hard_timeout);
  w.U16(m.priority);
  w.U32(m.buffer_id);
  w.U32(m.out_port);
  w.U32(m.out_group);
  w.U16(m.flags);
  w.Zeros(2);
  EncodeMatch(m.match, w);
  EncodeInstructions(m.instructions, w);
}

OfpResult<PacketIn> DecodePacketIn(ByteSpan body) {
  if (body.size() < kPacketInFixed + 4) return Fail(OfpErr::kBadRequestBadLen, "short packet_in");
  Reader r(body);
  PacketIn p;
  p.buffer_id = r.U32();
  p.total_len = r.U16();
  p.reason = static_cast<PacketInReason>(r.U8());
  p.table_id = r.U8();
  p.cookie = r.U64();
  size_t match_len = 0;
  OfpResult<Match> m = DecodeMatch(body.subspan(kPacketInFixed), &match_len);
  if (!m) return std::unexpected(std::move(m.error()));
  p.match = std::move(*m);
  size_t data_at = kPacketInFixed + match_len + 2;  // 2 bytes of pad align the packet's L3
  if (data_at > body.size()) return Fail(OfpErr::kBadRequestBadLen, "packet_in pad missing");
  ByteSpan data = body.subspan(data_at);
  p.data.assign(data.begin(), data.end());
  return p;
}

void EncodeBody(const PacketIn& m, Writer& w) {
  w.U32(m.buffer_id);
  w.U16(m.total_len);
  w.U8(static_cast<uint8_t>(m.reason));
  w.U8(m.table_id);
  w.U64(m.cookie);
  EncodeMatch(m.match, w);
  w.Zeros(2);
  w.Append(m.data);
}

OfpResult<PacketOut> DecodePacketOut(ByteSpan body) {
  if (body.size() < kPacketOutFixed) return Fail(OfpErr::kBadRequestBadLen, "short packet_out");
  Reader r(body);
  PacketOut p;
  p.buffer_id = r.U32();
  p.in_port = r.U32();
  uint16_t actions_len = r.U16();
  r.Skip(6);
  if (actions_len > r.remaining()) {
    return Fail(OfpErr::kBadRequestBadLen, "actions_len " + std::to_string(actions_len));
  }
  if (!ValidInPort(p.in_port)) {
    return Fail(OfpErr::kBadRequestBadPort, "in_port " + std::to_string(p.in_port));
  }
  OfpResult<ActionList> acts = DecodeActions(r.Take(actions_len));
  if (!acts) return std::unexpected(std::move(acts.error()));
  p.actions = std::move(*acts);
  ByteSpan data = r.Rest();
  p.data.assign(data.begin(), data.end());
  return p;
}

void EncodeBody(const PacketOut& m, Writer& w) {
  w.U32(m.buffer_id);
  w.U32(m.in_port);
  size_t len_at = w.size();
  w.U16(0);
  w.Zeros(6);
  size_t start = w.size();
  EncodeActions(m.actions, w);
  w.PatchU16(len_at, static_cast<uint16_t>(w.size() - start));
  w.Append(m.data);
}

OfpResult<FlowRemoved> DecodeFlowRemoved(ByteSpan body) {
  if (body.size() < kFlowRemovedFixed + 4) {
    return Fail(OfpErr::kBadRequestBadLen, "short flow_removed");
  }
  Reader r(body);
  FlowRemoved f;
  f.cookie = r.U64();
  f.priority = r.U16();
  f.reason = static_cast<FlowRemovedReason>(r.U8());
  f.table_id = r.U8();
  f.duration_sec = r.U32();
  f.duration_nsec = r.U32();
  f.idle_timeout = r.U16();
  f.hard_timeout = r.U16();
  f.packet_count = r.U64();
  f.byte_count = r.U64();
  size_t match_len = 0;
  OfpResult<Match> m = DecodeMatch(body.subspan(kFlowRemovedFixed), &match_len);
  if (!m) return std::unexpected(std::move(m.error()));
  if (kFlowRemovedFixed + match_len != body.size()) {
    return Fail(OfpErr::kBadRequestBadLen, "bytes after the flow_removed match");
  }
  f.match = std::move(*m);
  return f;
}

void EncodeBody(const FlowRemoved& m, Writer& w) {
  w.U64(m.cookie);
  w.U16(m.priority);
  w.U8(static_cast<uint8_t>(m.reason));
  w.U8(m.table_id);
  w.U32(m.duration_sec);
  w.U32(m.duration_nsec);
  w.U16(m.idle_timeout);
  w.U16(m.hard_timeout);
  w.U64(m.packet_count);
  w.U64(m.byte_count);
  EncodeMatch(m.match, w);
}

}  // namespace sluice::ofp::internal
