// FieldValues: a packet's values for all 40 OpenFlow 1.3 OXM fields in one fixed, word-aligned
// layout, and the same layout read as a bit mask (FieldMask). The classifier hashes and compares
// whole 64-bit words, so a match, a packet and an un-wildcard mask all use this form.
//
// Fields are grouped by stage (pipeline metadata, L2, L3, L4) and every stage starts on a word
// boundary: a staged lookup can then hash a stage's words without touching the next stage.
// Values are big-endian bytes as on the wire. A field absent from the packet is zero, which is
// also what OpenFlow means by it where that matters (vlan_vid 0 is OFPVID_NONE).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "ofproto/codec/oxm.h"

namespace sluice::ofp {

inline constexpr size_t kNumStages = 4;  // metadata, L2, L3, L4

struct FieldLayout {
  uint8_t offset;  // byte offset in FieldValues
  uint8_t len;     // FieldInfo(f).len
  uint8_t stage;
};

// Where each field lives, indexed by OxmField.
const FieldLayout& LayoutOf(OxmField f);
// First word of each stage, plus the total word count at index kNumStages.
const std::array<uint8_t, kNumStages + 1>& StageWordBounds();

class FieldValues {
 public:
  static constexpr size_t kWords = 22;

  // For fields of at most 8 bytes: v right-aligned, as OxmEntry::Exact takes it.
  void Set(OxmField f, uint64_t v);
  uint64_t Get(OxmField f) const;
  // Any field: `b` must hold FieldInfo(f).len bytes.
  void SetBytes(OxmField f, ByteSpan b);
  ByteSpan Bytes(OxmField f) const;
  // Sets every valid bit of f (a mask that un-wildcards the whole field).
  void SetFieldAllOnes(OxmField f);
  bool FieldIsZero(OxmField f) const;

  uint8_t* bytes() { return reinterpret_cast<uint8_t*>(w_.data()); }
  const uint8_t* bytes() const { return reinterpret_cast<const uint8_t*>(w_.data()); }
  std::array<uint64_t, kWords>& words() { return w_; }
  const std::array<uint64_t, kWords>& words() const { return w_; }

  FieldValues& operator|=(const FieldValues& o) {
    for (size_t i = 0; i < kWords; ++i) w_[i] |= o.w_[i];
    return *this;
  }
  bool IsZero() const {
    for (uint64_t x : w_) {
      if (x) return false;
    }
    return true;
  }
  bool operator==(const FieldValues&) const = default;

 private:
  std::array<uint64_t, kWords> w_{};
};

using FieldMask = FieldValues;

// The valid bits of field f in its wire width: e.g. 0x1fff for vlan_vid, all ones for eth_dst.
// Written into `out` (FieldInfo(f).len bytes).
void ValidBits(OxmField f, uint8_t out[16]);

// A match with every mask clipped to the field's valid bits; a mask covering all of them
// becomes an exact match and a mask with none of them removes the field. Equal normalized
// matches select the same packets, so Match's == can then decide "identical".
Match NormalizeMatch(const Match& m);

// The match as (value, mask) over the layout; value bits outside the mask are zero.
void MatchToKey(const Match& m, FieldValues* value, FieldMask* mask);

// Whether the packet satisfies every field of m.
bool MatchesPacket(const Match& m, const FieldValues& pkt);

// (value, mask) pairs as MatchToKey produces them.
struct MatchKey {
  FieldValues value;
  FieldMask mask;
};
MatchKey KeyOf(const Match& m);

// Non-strict flow-mod / stats matching: `rule` is at least as specific as `filter`, i.e. every
// packet matching rule also matches filter.
bool KeyCovers(const MatchKey& filter, const MatchKey& rule);
// Some packet could match both.
bool KeysOverlap(const MatchKey& a, const MatchKey& b);

}  // namespace sluice::ofp
