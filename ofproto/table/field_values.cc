#include "ofproto/table/field_values.h"

#include <algorithm>

namespace sluice::ofp {
namespace {

using F = OxmField;

// Fields in layout order, stage by stage.
constexpr F kStage0[] = {F::kInPort, F::kInPhyPort, F::kMetadata, F::kTunnelId};
constexpr F kStage1[] = {F::kEthDst,    F::kEthSrc, F::kEthType, F::kVlanVid, F::kVlanPcp,
                         F::kMplsLabel, F::kMplsTc, F::kMplsBos, F::kPbbIsid};
constexpr F kStage2[] = {F::kIpDscp,  F::kIpEcn,   F::kIpProto,    F::kIpv4Src,   F::kIpv4Dst,
                         F::kArpOp,   F::kArpSpa,  F::kArpTpa,     F::kArpSha,    F::kArpTha,
                         F::kIpv6Src, F::kIpv6Dst, F::kIpv6Flabel, F::kIpv6Exthdr};
constexpr F kStage3[] = {F::kTcpSrc,     F::kTcpDst,     F::kUdpSrc,       F::kUdpDst,
                         F::kSctpSrc,    F::kSctpDst,    F::kIcmpv4Type,   F::kIcmpv4Code,
                         F::kIcmpv6Type, F::kIcmpv6Code, F::kIpv6NdTarget, F::kIpv6NdSll,
                         F::kIpv6NdTll};

struct Layout {
  std::array<FieldLayout, kNumOxmFields> fields{};
  std::array<uint8_t, kNumStages + 1> stage_words{};
};

Layout BuildLayout() {
  Layout l;
  size_t off = 0;
  auto place = [&](std::span<const F> stage, uint8_t s) {
    l.stage_words[s] = static_cast<uint8_t>(off / 8);
    for (F f : stage) {
      uint8_t len = FieldInfo(f).len;
      l.fields[static_cast<size_t>(f)] = {static_cast<uint8_t>(off), len, s};
      off += len;
    }
    off = (off + 7) / 8 * 8;
  };
  place(kStage0, 0);
  place(kStage1, 1);
  place(kStage2, 2);
  place(kStage3, 3);
  l.stage_words[kNumStages] = static_cast<uint8_t>(off / 8);
  return l;
}

const Layout& TheLayout() {
  static const Layout layout = [] {
    Layout l = BuildLayout();
    static_assert(std::size(kStage0) + std::size(kStage1) + std::size(kStage2) +
                      std::size(kStage3) ==
                  kNumOxmFields);
    return l;
  }();
  return layout;
}

}  // namespace

const FieldLayout& LayoutOf(OxmField f) { return TheLayout().fields[static_cast<size_t>(f)]; }

const std::array<uint8_t, kNumStages + 1>& StageWordBounds() { return TheLayout().stage_words; }

void FieldValues::Set(OxmField f, uint64_t v) {
  const FieldLayout& l = LayoutOf(f);
  uint8_t* p = bytes() + l.offset;
  size_t n = std::min<size_t>(l.len, 8);
  for (size_t i = n; i-- > 0; v >>= 8) p[i] = static_cast<uint8_t>(v);
}

uint64_t FieldValues::Get(OxmField f) const {
  const FieldLayout& l = LayoutOf(f);
  const uint8_t* p = bytes() + l.offset;
  uint64_t v = 0;
  for (size_t i = 0; i < std::min<size_t>(l.len, 8); ++i) v = (v << 8) | p[i];
  return v;
}

void FieldValues::SetBytes(OxmField f, ByteSpan b) {
  const FieldLayout& l = LayoutOf(f);
  std::memcpy(bytes() + l.offset, b.data(), std::min<size_t>(b.size(), l.len));
}

ByteSpan FieldValues::Bytes(OxmField f) const {
  const FieldLayout& l = LayoutOf(f);
  return ByteSpan(bytes() + l.offset, l.len);
}

void FieldValues::SetFieldAllOnes(OxmField f) {
  uint8_t v[16];
  ValidBits(f, v);
  SetBytes(f, ByteSpan(v, FieldInfo(f).len));
}

bool FieldValues::FieldIsZero(OxmField f) const {
  for (uint8_t b : Bytes(f)) {
    if (b) return false;
  }
  return true;
}

void ValidBits(OxmField f, uint8_t out[16]) {
  const OxmFieldInfo& info = FieldInfo(f);
  if (info.len > 8) {
    std::memset(out, 0xff, info.len);
    return;
  }
  uint64_t v = info.max_value;
  for (size_t i = info.len; i-- > 0; v >>= 8) out[i] = static_cast<uint8_t>(v);
}

Match NormalizeMatch(const Match& m) {
  Match out;
  for (const OxmEntry& e : m.fields()) {
    uint8_t valid[16];
    ValidBits(e.field, valid);
    OxmEntry n = e;
    bool all = true, none = true;
    for (size_t i = 0; i < e.len(); ++i) {
      uint8_t mask = e.has_mask ? e.mask[i] & valid[i] : valid[i];
      n.mask[i] = mask;
      n.value[i] &= mask;
      all = all && mask == valid[i];
      none = none && mask == 0;
    }
    if (none) continue;
    if (all) {
      n.has_mask = false;
      n.mask = {};
    }
    out.Set(n);
  }
  return out;
}

void MatchToKey(const Match& m, FieldValues* value, FieldMask* mask) {
  *value = {};
  *mask = {};
  for (const OxmEntry& e : m.fields()) {
    const FieldLayout& l = LayoutOf(e.field);
    uint8_t valid[16];
    ValidBits(e.field, valid);
    uint8_t* v = value->bytes() + l.offset;
    uint8_t* k = mask->bytes() + l.offset;
    for (size_t i = 0; i < l.len; ++i) {
      k[i] = e.has_mask ? e.mask[i] & valid[i] : valid[i];
      v[i] = e.value[i] & k[i];
    }
  }
}

bool MatchesPacket(const Match& m, const FieldValues& pkt) {
  // Exact entries compare only the field's valid bits, as the classifier's masks do.
  static const auto kValid = [] {
    std::array<std::array<uint8_t, 16>, kNumOxmFields> v{};
    for (size_t f = 0; f < kNumOxmFields; ++f) ValidBits(static_cast<OxmField>(f), v[f].data());
    return v;
  }();
  for (const OxmEntry& e : m.fields()) {
    const FieldLayout& l = LayoutOf(e.field);
    const uint8_t* p = pkt.bytes() + l.offset;
    const uint8_t* mask = e.has_mask ? e.mask.data() : kValid[static_cast<size_t>(e.field)].data();
    for (size_t i = 0; i < l.len; ++i) {
      if ((p[i] & mask[i]) != (e.value[i] & mask[i])) return false;
    }
  }
  return true;
}

MatchKey KeyOf(const Match& m) {
  MatchKey k;
  MatchToKey(m, &k.value, &k.mask);
  return k;
}

bool KeyCovers(const MatchKey& filter, const MatchKey& rule) {
  const auto& fm = filter.mask.words();
  const auto& fv = filter.value.words();
  const auto& rm = rule.mask.words();
  const auto& rv = rule.value.words();
  for (size_t i = 0; i < FieldValues::kWords; ++i) {
    if ((rm[i] & fm[i]) != fm[i] || ((rv[i] ^ fv[i]) & fm[i]) != 0) return false;
  }
  return true;
}

bool KeysOverlap(const MatchKey& a, const MatchKey& b) {
  for (size_t i = 0; i < FieldValues::kWords; ++i) {
    if ((a.value.words()[i] ^ b.value.words()[i]) & a.mask.words()[i] & b.mask.words()[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace sluice::ofp
