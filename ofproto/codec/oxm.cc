#include "ofproto/codec/oxm.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>

namespace sluice::ofp {
namespace {

constexpr uint64_t kAll = ~uint64_t{0};

// Spec table 12 (lengths, maskability) plus the value ranges of the sub-byte fields. in_port,
// in_phy_port and metadata are pipeline state, not header fields, and ipv6_exthdr is a
// pseudo-field, so set-field cannot write them (metadata has its own instruction).
constexpr OxmFieldInfo kFields[kNumOxmFields] = {
    {"in_port", 4, false, false, 0xffffffff},
    {"in_phy_port", 4, false, false, 0xffffffff},
    {"metadata", 8, true, false, kAll},
    {"eth_dst", 6, true, true, 0xffffffffffff},
    {"eth_src", 6, true, true, 0xffffffffffff},
    {"eth_type", 2, false, true, 0xffff},
    {"vlan_vid", 2, true, true, 0x1fff},
    {"vlan_pcp", 1, false, true, 0x7},
    {"ip_dscp", 1, false, true, 0x3f},
    {"ip_ecn", 1, false, true, 0x3},
    {"ip_proto", 1, false, true, 0xff},
    {"ipv4_src", 4, true, true, 0xffffffff},
    {"ipv4_dst", 4, true, true, 0xffffffff},
    {"tcp_src", 2, false, true, 0xffff},
    {"tcp_dst", 2, false, true, 0xffff},
    {"udp_src", 2, false, true, 0xffff},
    {"udp_dst", 2, false, true, 0xffff},
    {"sctp_src", 2, false, true, 0xffff},
    {"sctp_dst", 2, false, true, 0xffff},
    {"icmpv4_type", 1, false, true, 0xff},
    {"icmpv4_code", 1, false, true, 0xff},
    {"arp_op", 2, false, true, 0xffff},
    {"arp_spa", 4, true, true, 0xffffffff},
    {"arp_tpa", 4, true, true, 0xffffffff},
    {"arp_sha", 6, true, true, 0xffffffffffff},
    {"arp_tha", 6, true, true, 0xffffffffffff},
    {"ipv6_src", 16, true, true, kAll},
    {"ipv6_dst", 16, true, true, kAll},
    {"ipv6_flabel", 4, true, true, 0xfffff},
    {"icmpv6_type", 1, false, true, 0xff},
    {"icmpv6_code", 1, false, true, 0xff},
    {"ipv6_nd_target", 16, false, true, kAll},
    {"ipv6_nd_sll", 6, false, true, 0xffffffffffff},
    {"ipv6_nd_tll", 6, false, true, 0xffffffffffff},
    {"mpls_label", 4, false, true, 0xfffff},
    {"mpls_tc", 1, false, true, 0x7},
    {"mpls_bos", 1, false, true, 0x1},
    {"pbb_isid", 3, true, true, 0xffffff},
    {"tunnel_id", 8, true, true, kAll},
    {"ipv6_exthdr", 2, true, false, 0x1ff},
};

// A prerequisite: field `on` present and exactly one of the listed values (0 values: presence
// is enough). Spec table 11.
struct Prereq {
  OxmField on;
  uint8_t n;
  uint16_t v[2];
};

constexpr uint16_t kIpv4 = 0x0800, kIpv6 = 0x86dd, kArp = 0x0806;

std::optional<Prereq> PrereqOf(OxmField f) {
  using F = OxmField;
  switch (f) {
    case F::kInPhyPort:
      return Prereq{F::kInPort, 0, {}};
    case F::kIpDscp:
    case F::kIpEcn:
    case F::kIpProto:
      return Prereq{F::kEthType, 2, {kIpv4, kIpv6}};
    case F::kIpv4Src:
    case F::kIpv4Dst:
      return Prereq{F::kEthType, 1, {kIpv4}};
    case F::kTcpSrc:
    case F::kTcpDst:
      return Prereq{F::kIpProto, 1, {6}};
    case F::kUdpSrc:
    case F::kUdpDst:
      return Prereq{F::kIpProto, 1, {17}};
    case F::kSctpSrc:
    case F::kSctpDst:
      return Prereq{F::kIpProto, 1, {132}};
    case F::kIcmpv4Type:
    case F::kIcmpv4Code:
      return Prereq{F::kIpProto, 1, {1}};
    case F::kArpOp:
    case F::kArpSpa:
    case F::kArpTpa:
    case F::kArpSha:
    case F::kArpTha:
      return Prereq{F::kEthType, 1, {kArp}};
    case F::kIpv6Src:
    case F::kIpv6Dst:
    case F::kIpv6Flabel:
    case F::kIpv6Exthdr:
      return Prereq{F::kEthType, 1, {kIpv6}};
    case F::kIcmpv6Type:
    case F::kIcmpv6Code:
      return Prereq{F::kIpProto, 1, {58}};
    case F::kIpv6NdTarget:
      return Prereq{F::kIcmpv6Type, 2, {135, 136}};
    case F::kIpv6NdSll:
      return Prereq{F::kIcmpv6Type, 1, {135}};
    case F::kIpv6NdTll:
      return Prereq{F::kIcmpv6Type, 1, {136}};
    case F::kMplsLabel:
    case F::kMplsTc:
    case F::kMplsBos:
      return Prereq{F::kEthType, 2, {0x8847, 0x8848}};
    case F::kPbbIsid:
      return Prereq{F::kEthType, 1, {0x88e7}};
    default:
      return std::nullopt;
  }
}

uint64_t LoadU64(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

void StoreU64(uint64_t v, uint8_t* p, size_t n) {
  for (size_t i = n; i-- > 0; v >>= 8) p[i] = static_cast<uint8_t>(v);
}

uint64_t LenMask(size_t n) { return n >= 8 ? kAll : (uint64_t{1} << (8 * n)) - 1; }

}  // namespace

const OxmFieldInfo& FieldInfo(OxmField f) {
  return kFields[static_cast<size_t>(f) < kNumOxmFields ? static_cast<size_t>(f) : 0];
}

OxmEntry OxmEntry::Exact(OxmField f, uint64_t v) {
  OxmEntry e;
  e.field = f;
  StoreU64(v, e.value.data(), std::min<size_t>(e.len(), 8));
  return e;
}

OxmEntry OxmEntry::Masked(OxmField f, uint64_t v, uint64_t m) {
  OxmEntry e = Exact(f, v);
  e.has_mask = true;
  StoreU64(m, e.mask.data(), std::min<size_t>(e.len(), 8));
  return e;
}

OxmEntry OxmEntry::FromBytes(OxmField f, ByteSpan v, ByteSpan m) {
  OxmEntry e;
  e.field = f;
  std::memcpy(e.value.data(), v.data(), std::min<size_t>(v.size(), e.len()));
  if (!m.empty()) {
    e.has_mask = true;
    std::memcpy(e.mask.data(), m.data(), std::min<size_t>(m.size(), e.len()));
  }
  return e;
}

uint64_t OxmEntry::ValueU64() const { return LoadU64(value.data(), std::min<size_t>(len(), 8)); }

uint64_t OxmEntry::MaskU64() const {
  size_t n = std::min<size_t>(len(), 8);
  return has_mask ? LoadU64(mask.data(), n) : LenMask(n);
}

void Match::Set(const OxmEntry& e) {
  auto it = std::lower_bound(fields_.begin(), fields_.end(), e.field,
                             [](const OxmEntry& a, OxmField f) { return a.field < f; });
  if (it != fields_.end() && it->field == e.field) {
    *it = e;
  } else {
    fields_.insert(it, e);
  }
}

void Match::Erase(OxmField f) {
  std::erase_if(fields_, [f](const OxmEntry& e) { return e.field == f; });
}

const OxmEntry* Match::Find(OxmField f) const {
  auto it = std::lower_bound(fields_.begin(), fields_.end(), f,
                             [](const OxmEntry& a, OxmField x) { return a.field < x; });
  return it != fields_.end() && it->field == f ? &*it : nullptr;
}

bool Match::IsExactly(OxmField f, uint64_t value) const {
  const OxmEntry* e = Find(f);
  return e && e->MaskU64() == LenMask(std::min<size_t>(e->len(), 8)) && e->ValueU64() == value;
}

OfpResult<OxmEntry> DecodeOxm(Reader& r) {
  if (r.remaining() < 4) return Fail(OfpErr::kBadMatchBadLen, "truncated OXM header");
  uint16_t oxm_class = r.U16();
  uint8_t field_hm = r.U8();
  uint8_t length = r.U8();
  if (length > r.remaining()) return Fail(OfpErr::kBadMatchBadLen, "OXM runs past the match");
  ByteSpan payload = r.Take(length);
  uint8_t field = field_hm >> 1;
  bool has_mask = field_hm & 1;
  if (oxm_class != kOxmClassBasic || field >= kNumOxmFields) {
    return Fail(OfpErr::kBadMatchBadField,
                "OXM class " + std::to_string(oxm_class) + " field " + std::to_string(field));
  }
  auto f = static_cast<OxmField>(field);
  const OxmFieldInfo& info = FieldInfo(f);
  if (has_mask && !info.maskable) {
    return Fail(OfpErr::kBadMatchBadMask, std::string(info.name) + " cannot be masked");
  }
  if (length != info.len * (has_mask ? 2 : 1)) {
    return Fail(OfpErr::kBadMatchBadLen, std::string(info.name) + " has a wrong OXM length");
  }
  OxmEntry e = OxmEntry::FromBytes(f, payload.first(info.len),
                                   has_mask ? payload.subspan(info.len) : ByteSpan{});
  if (has_mask) {
    for (size_t i = 0; i < info.len; ++i) {
      if (e.value[i] & ~e.mask[i]) {
        return Fail(OfpErr::kBadMatchBadWildcards,
                    std::string(info.name) + " value has bits outside its mask");
      }
    }
  }
  if (info.len <= 8 && e.ValueU64() > info.max_value) {
    return Fail(OfpErr::kBadMatchBadValue, std::string(info.name) + " value out of range");
  }
  // A VID without the present bit can only mean "untagged" (0); anything else is nonsense,
  // unless the mask leaves the present bit wildcarded.
  if (f == OxmField::kVlanVid && (e.MaskU64() & kVidPresent) && !(e.ValueU64() & kVidPresent) &&
      (e.ValueU64() & 0x0fff)) {
    return Fail(OfpErr::kBadMatchBadValue, "vlan_vid without OFPVID_PRESENT");
  }
  return e;
}

size_t OxmLen(const OxmEntry& e) { return 4 + e.len() * (e.has_mask ? 2 : 1); }

void EncodeOxm(const OxmEntry& e, Writer& w) {
  w.U16(kOxmClassBasic);
  w.U8(static_cast<uint8_t>((static_cast<uint8_t>(e.field) << 1) | (e.has_mask ? 1 : 0)));
  w.U8(static_cast<uint8_t>(OxmLen(e) - 4));
  w.Append(e.value_bytes());
  w.Append(e.mask_bytes());
}

bool PrereqsMet(const Match& m, OxmField f) {
  std::optional<Prereq> p = PrereqOf(f);
  if (f == OxmField::kVlanPcp) {
    // "VLAN_VID != NONE": a tag must be known to be present.
    const OxmEntry* vid = m.Find(OxmField::kVlanVid);
    return vid && (vid->MaskU64() & vid->ValueU64() & kVidPresent);
  }
  if (!p) return true;
  if (p->n == 0) return m.Has(p->on);
  for (uint8_t i = 0; i < p->n; ++i) {
    if (m.IsExactly(p->on, p->v[i])) return true;
  }
  return false;
}

OfpResult<void> CheckPrereqs(const Match& m) {
  for (const OxmEntry& e : m.fields()) {
    if (!PrereqsMet(m, e.field)) {
      return Fail(OfpErr::kBadMatchBadPrereq,
                  std::string(FieldInfo(e.field).name) + " prerequisite not met");
    }
  }
  return {};
}

OfpResult<Match> DecodeMatch(ByteSpan data, size_t* consumed) {
  if (data.size() < 4) return Fail(OfpErr::kBadMatchBadLen, "truncated match header");
  Reader hdr(data);
  uint16_t type = hdr.U16();
  uint16_t length = hdr.U16();
  if (type != kMatchTypeOxm) {
    return Fail(OfpErr::kBadMatchBadType, "match type " + std::to_string(type));
  }
  if (length < 4 || RoundUp8(length) > data.size()) {
    return Fail(OfpErr::kBadMatchBadLen, "match length " + std::to_string(length));
  }
  Reader r(data.subspan(4, length - 4));
  Match m;
  while (r.remaining() > 0) {
    OfpResult<OxmEntry> e = DecodeOxm(r);
    if (!e) return std::unexpected(std::move(e.error()));
    if (m.Has(e->field)) {
      return Fail(OfpErr::kBadMatchDupField, std::string(FieldInfo(e->field).name) + " twice");
    }
    m.Set(*e);
  }
  if (OfpResult<void> ok = CheckPrereqs(m); !ok) return std::unexpected(std::move(ok.error()));
  *consumed = RoundUp8(length);
  return m;
}

size_t EncodedMatchLen(const Match& m) {
  size_t n = 4;
  for (const OxmEntry& e : m.fields()) n += OxmLen(e);
  return RoundUp8(n);
}

void EncodeMatch(const Match& m, Writer& w) {
  size_t start = w.size();
  size_t len = 4;
  for (const OxmEntry& e : m.fields()) len += OxmLen(e);
  w.U16(kMatchTypeOxm);
  w.U16(static_cast<uint16_t>(len));
  for (const OxmEntry& e : m.fields()) EncodeOxm(e, w);
  w.PadTo8(start);
}

}  // namespace sluice::ofp
