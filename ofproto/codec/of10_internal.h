// Shared vocabulary of the OpenFlow 1.0 wire codec (of10_codec.cc: messages; of10_match.cc,
// of10_actions.cc, of10_stats.cc): 1.0 constants, 16-bit port numbers, and the pieces each file
// offers the others. Internal to the codec.
#pragma once

#include <optional>
#include <string>

#include "ofproto/codec/codec_internal.h"

namespace sluice::ofp::internal::of10 {

// ofp_flow_wildcards.
constexpr uint32_t kWInPort = 1 << 0, kWDlVlan = 1 << 1, kWDlSrc = 1 << 2, kWDlDst = 1 << 3,
                   kWDlType = 1 << 4, kWNwProto = 1 << 5, kWTpSrc = 1 << 6, kWTpDst = 1 << 7,
                   kWDlVlanPcp = 1 << 20, kWNwTos = 1 << 21, kWAll = (1 << 22) - 1;
constexpr unsigned kNwSrcShift = 8, kNwDstShift = 14;

constexpr uint16_t kPort10Max = 0xff00;
constexpr uint16_t kPort10All = 0xfffc;
constexpr uint16_t kVlanNone10 = 0xffff;
constexpr size_t kMatch10Len = 40;

inline std::unexpected<Error> Unsupported(const std::string& what) {
  return MakeError(Errc::kUnsupported, "OpenFlow 1.0 cannot express " + what);
}

inline OfpErr BadLen() { return OfpErr::kBadRequestBadLen; }

inline OfpResult<void> ExpectLen(ByteSpan body, size_t want) {
  if (body.size() != want) {
    return Fail(BadLen(), "body is " + std::to_string(body.size()) + " bytes, expected " +
                              std::to_string(want));
  }
  return {};
}

inline uint32_t PortFrom10(uint16_t p) { return p >= kPort10Max ? 0xffff0000u | p : p; }

inline std::optional<uint16_t> PortTo10(uint32_t p) {
  if (p >= kPortMax) return static_cast<uint16_t>(p);
  if (p < kPort10Max) return static_cast<uint16_t>(p);
  return std::nullopt;
}

inline Result<uint16_t> Port10(uint32_t p) {
  std::optional<uint16_t> v = PortTo10(p);
  if (!v) return Unsupported("port " + std::to_string(p));
  return *v;
}

// A queue's port: OFPP_ALL in 1.0 is OFPP_ANY in 1.3.
inline uint16_t QueuePortTo10(uint32_t p) {
  return p == kPortAny ? kPort10All : PortTo10(p).value_or(kPort10All);
}

inline bool IsExact(const OxmEntry& e) {
  if (!e.has_mask) return true;
  for (uint8_t b : e.mask_bytes()) {
    if (b != 0xff) return false;
  }
  return true;
}

// of10_match.cc: ofp_match <-> OXM. Decoding reads kMatch10Len bytes (the caller checked them).
Match DecodeMatch10(Reader& r);
Result<void> EncodeMatch10(const Match& m, Writer& out);

// of10_actions.cc: 1.0 actions <-> an action list (`match` picks the protocol of set_tp_*; may
// be null), and a flow's instructions as 1.0 sees them (nothing, or one apply-actions).
OfpResult<ActionList> DecodeActions10(ByteSpan data, const Match* match);
Result<void> EncodeActions10(const ActionList& actions, Writer& w);
InstructionList InstructionsOf(ActionList actions);
Result<void> EncodeInstructions10(const InstructionList& insts, Writer& w);

// of10_stats.cc: OFPT_STATS_REQUEST/REPLY bodies <-> multipart messages.
OfpResult<MultipartRequest> DecodeStatsRequest10(ByteSpan body);
OfpResult<MultipartReply> DecodeStatsReply10(ByteSpan body);
Result<void> EncodeStatsRequest10(const MultipartRequest& m, Writer& w);
Result<void> EncodeStatsReply10(const MultipartReply& m, Writer& w);

}  // namespace sluice::ofp::internal::of10
