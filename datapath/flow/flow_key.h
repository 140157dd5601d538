// The datapath flow key: a fixed layout of 64-bit words that parse() fills from a packet and
// that megaflow masks share. Every multi-byte protocol field is kept in network byte order
// (as on the wire), so masks and prefixes apply byte-for-byte and set actions copy straight in.
// Padding is explicit and must stay zero: hashing and comparison run over the raw words.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

namespace sluice::dp {

using MacAddr = std::array<uint8_t, 6>;
using In6Addr = std::array<uint8_t, 16>;

// nw_frag bits (as in OVS).
inline constexpr uint8_t kFragAny = 1 << 0;    // packet is a fragment
inline constexpr uint8_t kFragLater = 1 << 1;  // not the first fragment

// vlan.tci: CFI/DEI bit (0x1000) marks "a tag is present" in the key, as in OVS, so that an
// all-zero tci still means "no VLAN" and vid 0 with priority tags stays distinguishable.
inline constexpr uint16_t kVlanCfi = 0x1000;

// MPLS label stack entry layout (host order of FlowKey::mpls_lse).
inline constexpr uint32_t kMplsLabelMask = 0xfffff000;
inline constexpr int kMplsLabelShift = 12;
inline constexpr uint32_t kMplsTcMask = 0x00000e00;
inline constexpr int kMplsTcShift = 9;
inline constexpr uint32_t kMplsBosMask = 0x00000100;
inline constexpr int kMplsBosShift = 8;
inline constexpr uint32_t kMplsTtlMask = 0x000000ff;
inline constexpr uint16_t kEthTypeMpls = 0x8847;
inline constexpr uint16_t kEthTypeMplsMcast = 0x8848;
constexpr bool IsMplsEthType(uint16_t host_order) {
  return host_order == kEthTypeMpls || host_order == kEthTypeMplsMcast;
}

struct VlanHdr {
  uint16_t tpid;  // network order, 0 when absent
  uint16_t tci;   // network order, includes kVlanCfi when present
};

struct alignas(8) FlowKey {
  // --- tunnel metadata (filled by tunnel pop, later) ---
  uint64_t tun_id;   // network order
  uint32_t tun_src;  // network order
  uint32_t tun_dst;  // network order
  // --- packet metadata ---
  uint32_t in_port;    // host order, datapath port number
  uint32_t recirc_id;  // host order
  uint32_t dp_hash;    // host order
  uint32_t pkt_mark;   // host order
  uint64_t metadata;   // host order; a register slot for the layers above
  // --- L2 ---
  MacAddr eth_dst;
  MacAddr eth_src;
  uint16_t eth_type;  // network order; of the innermost header after VLANs; 0x05ff if 802.2
  uint16_t pad0;
  VlanHdr vlans[2];  // outermost first
  // --- L3 ---
  uint32_t nw_src;  // IPv4 source or ARP spa
  uint32_t nw_dst;  // IPv4 dest or ARP tpa
  In6Addr ipv6_src;
  In6Addr ipv6_dst;
  uint32_t ipv6_label;  // network order, low 20 bits
  uint8_t nw_frag;      // kFrag* bits
  uint8_t nw_tos;       // DSCP+ECN (IPv4 tos, IPv6 traffic class)
  uint8_t nw_ttl;       // TTL / hop limit
  uint8_t nw_proto;     // IP protocol, or low 8 bits of ARP opcode
  MacAddr arp_sha;      // ARP sha or ND source link-layer address
  MacAddr arp_tha;      // ARP tha or ND target link-layer address
  // MPLS (eth_type 0x8847/0x8848): the outermost label stack entry as on the wire, network
  // order (label 20 bits, tc 3, bos 1, ttl 8). 0 for other packets. As in OVS, nothing after an
  // MPLS header is parsed: the L3/L4 fields of an MPLS packet stay zero.
  uint32_t mpls_lse;
  In6Addr nd_target;
  // --- L4 ---
  uint16_t tp_src;     // network order; ICMP/ICMPv6 type in low byte
  uint16_t tp_dst;     // network order; ICMP/ICMPv6 code in low byte
  uint16_t tcp_flags;  // network order, low 12 bits
  uint16_t pad2;

  static constexpr size_t kWords = 19;
  uint64_t* words() noexcept { return reinterpret_cast<uint64_t*>(this); }
  const uint64_t* words() const noexcept { return reinterpret_cast<const uint64_t*>(this); }
  void Clear() noexcept { std::memset(this, 0, sizeof(*this)); }
};
static_assert(sizeof(FlowKey) == FlowKey::kWords * 8, "FlowKey must be whole 64-bit words");

// Offsets of the word groups, for code that reasons per word (subtable maps, prefetch).
inline constexpr size_t kFlowL2Word = offsetof(FlowKey, eth_dst) / 8;
inline constexpr size_t kFlowL3Word = offsetof(FlowKey, nw_src) / 8;
inline constexpr size_t kFlowL4Word = offsetof(FlowKey, tp_src) / 8;

// A mask has the same layout as a key; a set bit means "this bit of the key matters".
struct FlowMask {
  FlowKey bits;
  void Clear() noexcept { bits.Clear(); }
  void SetAll() noexcept { std::memset(&bits, 0xff, sizeof(bits)); }
};

inline bool operator==(const FlowKey& a, const FlowKey& b) noexcept {
  return std::memcmp(&a, &b, sizeof(FlowKey)) == 0;
}
inline bool operator==(const FlowMask& a, const FlowMask& b) noexcept { return a.bits == b.bits; }

// dst = key & mask, word by word.
inline void ApplyMask(const FlowKey& key, const FlowMask& mask, FlowKey* dst) noexcept {
  const uint64_t* k = key.words();
  const uint64_t* m = mask.bits.words();
  uint64_t* d = dst->words();
  for (size_t i = 0; i < FlowKey::kWords; ++i) d[i] = k[i] & m[i];
}

// 32-bit hash mixing, murmur3-style finaliser; the same function is used everywhere a flow key is
// hashed so that the EMC and the classifier agree on what a hash is.
inline uint32_t HashAdd64(uint32_t h, uint64_t v) noexcept {
  uint64_t x = v * 0x87c37b91114253d5ULL;
  x = (x << 31) | (x >> 33);
  x *= 0x4cf5ad432745937fULL;
  uint32_t lo = static_cast<uint32_t>(x) ^ static_cast<uint32_t>(x >> 32);
  h ^= lo;
  h = (h << 13) | (h >> 19);
  return h * 5 + 0xe6546b64;
}
inline uint32_t HashFinish(uint32_t h, uint32_t n) noexcept {
  h ^= n;
  h ^= h >> 16;
  h *= 0x85ebca6b;
  h ^= h >> 13;
  h *= 0xc2b2ae35;
  h ^= h >> 16;
  return h;
}
// The per-word step of flow-key hashing (HashFlowKey, classifier subtables): CRC32C where the
// CPU has it (one instruction, 3 cycles of latency; HashFinish mixes the result), else HashAdd64.
inline uint32_t HashKeyWord(uint32_t h, uint64_t v) noexcept {
#if defined(__SSE4_2__)
  return static_cast<uint32_t>(_mm_crc32_u64(h, v));
#else
  return HashAdd64(h, v);
#endif
}
// The end of a classifier subtable's hash (HashKeyWord over the masked words): with CRC32C one
// multiply and a fold, so that the low bits that pick a bucket depend non-linearly on every bit
// (CRC alone is linear); without it the full HashFinish.
inline uint32_t HashFinishShort(uint32_t h, uint32_t n) noexcept {
#if defined(__SSE4_2__)
  h = (h ^ n) * 0x85ebca6bu;
  return h ^ (h >> 16);
#else
  return HashFinish(h, n);
#endif
}
inline uint32_t HashFlowKey(const FlowKey& key, uint32_t basis = 0) noexcept {
  uint32_t h = basis;
  const uint64_t* w = key.words();
  for (size_t i = 0; i < FlowKey::kWords; ++i) h = HashKeyWord(h, w[i]);
  return HashFinish(h, FlowKey::kWords * 8);
}

}  // namespace sluice::dp
