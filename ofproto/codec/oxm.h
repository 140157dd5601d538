// OXM: the OpenFlow 1.3 match (ofp_match of type OFPMT_OXM) and its 40 basic-class fields.
//
// Match is the typed form later code turns into classifier keys: at most one OxmEntry per
// field, kept in field-id order, value and mask as the big-endian bytes found on the wire.
// DecodeMatch() accepts only what OpenFlow 1.3 allows (lengths, masks, value ranges, no
// duplicates, prerequisites) and reports the exact OFPBMC_* error otherwise.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "ofproto/codec/ofp_error.h"
#include "ofproto/codec/wire.h"

namespace sluice::ofp {

inline constexpr uint16_t kOxmClassBasic = 0x8000;
inline constexpr uint16_t kMatchTypeStandard = 0;  // OpenFlow 1.1's, refused
inline constexpr uint16_t kMatchTypeOxm = 1;

// OXM_OF_VLAN_VID flag: a tag is present (OFPVID_NONE is value 0, no mask).
inline constexpr uint16_t kVidPresent = 0x1000;

enum class OxmField : uint8_t {
  kInPort = 0,
  kInPhyPort = 1,
  kMetadata = 2,
  kEthDst = 3,
  kEthSrc = 4,
  kEthType = 5,
  kVlanVid = 6,
  kVlanPcp = 7,
  kIpDscp = 8,
  kIpEcn = 9,
  kIpProto = 10,
  kIpv4Src = 11,
  kIpv4Dst = 12,
  kTcpSrc = 13,
  kTcpDst = 14,
  kUdpSrc = 15,
  kUdpDst = 16,
  kSctpSrc = 17,
  kSctpDst = 18,
  kIcmpv4Type = 19,
  kIcmpv4Code = 20,
  kArpOp = 21,
  kArpSpa = 22,
  kArpTpa = 23,
  kArpSha = 24,
  kArpTha = 25,
  kIpv6Src = 26,
  kIpv6Dst = 27,
  kIpv6Flabel = 28,
  kIcmpv6Type = 29,
  kIcmpv6Code = 30,
  kIpv6NdTarget = 31,
  kIpv6NdSll = 32,
  kIpv6NdTll = 33,
  kMplsLabel = 34,
  kMplsTc = 35,
  kMplsBos = 36,
  kPbbIsid = 37,
  kTunnelId = 38,
  kIpv6Exthdr = 39,
};
inline constexpr size_t kNumOxmFields = 40;

struct OxmFieldInfo {
  std::string_view name;  // as in the spec, lower case without "OFPXMT_OFB_"
  uint8_t len;            // value length in bytes
  bool maskable;
  bool settable;       // may appear in a set-field action
  uint64_t max_value;  // largest valid value; fields longer than 8 bytes use ~0
};

const OxmFieldInfo& FieldInfo(OxmField f);

// One field of a match: `len` bytes of value and, when has_mask, of mask. Bytes past `len` are
// zero so that == compares meaningfully.
struct OxmEntry {
  OxmField field = OxmField::kInPort;
  bool has_mask = false;
  std::array<uint8_t, 16> value{};
  std::array<uint8_t, 16> mask{};

  // Integer constructors for fields of at most 8 bytes (value right-aligned, as on the wire).
  static OxmEntry Exact(OxmField f, uint64_t v);
  static OxmEntry Masked(OxmField f, uint64_t v, uint64_t m);
  // For any field; value (and mask, if non-empty) must be FieldInfo(f).len bytes.
  static OxmEntry FromBytes(OxmField f, ByteSpan v, ByteSpan m = {});

  uint8_t len() const { return FieldInfo(field).len; }
  ByteSpan value_bytes() const { return ByteSpan(value).first(len()); }
  ByteSpan mask_bytes() const { return ByteSpan(mask).first(has_mask ? len() : 0); }
  // Integer views for fields of at most 8 bytes; MaskU64() is all-ones over len() without mask.
  uint64_t ValueU64() const;
  uint64_t MaskU64() const;

  bool operator==(const OxmEntry&) const = default;
};

class Match {
 public:
  // Adds or replaces the entry for e.field.
  void Set(const OxmEntry& e);
  void Erase(OxmField f);
  const OxmEntry* Find(OxmField f) const;
  bool Has(OxmField f) const { return Find(f) != nullptr; }
  // True when f is present with an exact (unmasked or all-ones) match on `value`.
  bool IsExactly(OxmField f, uint64_t value) const;

  std::span<const OxmEntry> fields() const { return fields_; }
  bool empty() const { return fields_.empty(); }

  bool operator==(const Match&) const = default;

 private:
  std::vector<OxmEntry> fields_;  // ordered by field id
};

// Decodes one OXM TLV. Errors are OFPBMC_* (set-field maps them onto OFPBAC_BAD_SET_*):
// truncation or a length that does not fit the field -> BAD_LEN, non-basic class or unknown
// field -> BAD_FIELD, mask on an unmaskable field -> BAD_MASK, value bits outside the mask ->
// BAD_WILDCARDS, value out of the field's range -> BAD_VALUE.
OfpResult<OxmEntry> DecodeOxm(Reader& r);
void EncodeOxm(const OxmEntry& e, Writer& w);
size_t OxmLen(const OxmEntry& e);

// Decodes an ofp_match at the start of `data` (padding included); *consumed gets its padded
// length. Adds OFPBMC_BAD_TYPE (not OXM), DUP_FIELD and BAD_PREREQ to DecodeOxm's errors.
OfpResult<Match> DecodeMatch(ByteSpan data, size_t* consumed);
// Writes type, length, fields (in field-id order) and zero padding to a multiple of 8.
void EncodeMatch(const Match& m, Writer& w);
size_t EncodedMatchLen(const Match& m);

// Whether every prerequisite of f (spec table 11) holds in m, e.g. ipv4_src needs eth_type
// 0x0800 and tcp_dst needs ip_proto 6. Prerequisites of the prerequisites are not re-checked.
bool PrereqsMet(const Match& m, OxmField f);
// Prerequisites of every field in m: OFPBMC_BAD_PREREQ on the first that fails.
OfpResult<void> CheckPrereqs(const Match& m);

}  // namespace sluice::ofp
