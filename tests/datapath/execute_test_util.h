// What the execute tests share: reference checksums computed from scratch (not incrementally),
// packet builders that know where their headers are, mbufs, a sink recording what the actions
// hand over, and the fixture that checks no mbuf leaks.
#pragma once

#include <arpa/inet.h>

#include <cstring>
#include <initializer_list>
#include <vector>

#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "common/eal_env.h"
#include "datapath/actions/execute.h"

namespace sluice::dp::exec_test {

using Bytes = std::vector<uint8_t>;

// ---- independent reference checksums (from scratch, not incremental) ----

inline uint32_t SumBe16(const uint8_t* p, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i + 1 < n; i += 2) s += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n & 1) s += static_cast<uint32_t>(p[n - 1] << 8);
  return s;
}
inline uint16_t FinishSum(uint64_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}

inline uint32_t Crc32cBitwise(const uint8_t* p, size_t n) {
  uint32_t crc = 0xffffffff;
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int b = 0; b < 8; ++b) crc = (crc & 1) ? (crc >> 1) ^ 0x82f63b78 : crc >> 1;
  }
  return ~crc;
}

// A test packet and where its headers are (the test built it, so it knows).
struct Pkt {
  Bytes b;
  size_t l3 = 0;
  size_t l4 = 0;
  bool v6 = false;
  uint8_t proto = 0;
};

inline uint16_t Get16(const Bytes& b, size_t o) {
  return static_cast<uint16_t>(b[o] << 8 | b[o + 1]);
}
inline void Set16(Bytes& b, size_t o, uint16_t v) {
  b[o] = static_cast<uint8_t>(v >> 8);
  b[o + 1] = static_cast<uint8_t>(v);
}

inline size_t L4CsumOffset(uint8_t proto) {
  switch (proto) {
    case 6:
      return 16;
    case 17:
      return 6;
    case 1:
    case 58:
      return 2;
    case 132:
      return 8;
    default:
      return SIZE_MAX;
  }
}

inline uint16_t RefIpv4Csum(Bytes b, size_t l3) {
  size_t ihl = (b[l3] & 0xf) * 4u;
  Set16(b, l3 + 10, 0);
  return FinishSum(SumBe16(b.data() + l3, ihl));
}

// The checksum the L4 header should carry, computed over a copy with the field zeroed.
inline uint32_t RefL4Csum(const Pkt& p) {
  Bytes b = p.b;
  size_t l4_len =
      p.v6 ? Get16(b, p.l3 + 4) + 40 - (p.l4 - p.l3) : Get16(b, p.l3 + 2) - (p.l4 - p.l3);
  size_t off = p.l4 + L4CsumOffset(p.proto);
  if (p.proto == 132) {
    std::memset(&b[off], 0, 4);
    return Crc32cBitwise(b.data() + p.l4, l4_len);
  }
  Set16(b, off, 0);
  uint64_t s = SumBe16(b.data() + p.l4, l4_len);
  if (p.proto != 1) {  // pseudo-header
    if (p.v6) {
      s += SumBe16(b.data() + p.l3 + 8, 32) + l4_len + p.proto;
    } else {
      s += SumBe16(b.data() + p.l3 + 12, 8) + l4_len + p.proto;
    }
  }
  uint16_t c = FinishSum(s);
  if (p.proto == 17 && c == 0) c = 0xffff;
  return c;
}

inline uint32_t StoredL4Csum(const Bytes& b, const Pkt& p) {
  size_t off = p.l4 + L4CsumOffset(p.proto);
  if (p.proto == 132) {
    return static_cast<uint32_t>(b[off]) | static_cast<uint32_t>(b[off + 1]) << 8 |
           static_cast<uint32_t>(b[off + 2]) << 16 | static_cast<uint32_t>(b[off + 3]) << 24;
  }
  return Get16(b, off);
}

inline void FixChecksums(Pkt& p) {
  if (!p.v6) Set16(p.b, p.l3 + 10, RefIpv4Csum(p.b, p.l3));
  size_t off = p.l4 + L4CsumOffset(p.proto);
  uint32_t c = RefL4Csum(p);
  if (p.proto == 132) {
    for (int i = 0; i < 4; ++i) p.b[off + i] = static_cast<uint8_t>(c >> (8 * i));
  } else {
    Set16(p.b, off, static_cast<uint16_t>(c));
  }
}

// Checks the checksums of `bytes` (a rewritten version of p.b) from scratch.
inline void ExpectChecksumsValid(const Bytes& bytes, const Pkt& layout) {
  Pkt p = layout;
  p.b = bytes;
  if (!p.v6) {
    EXPECT_EQ(Get16(p.b, p.l3 + 10), RefIpv4Csum(p.b, p.l3)) << "IPv4 header checksum";
  }
  uint32_t stored = StoredL4Csum(p.b, p);
  if (p.proto == 17 && !p.v6 && stored == 0) return;  // checksum not in use
  EXPECT_EQ(stored, RefL4Csum(p)) << "L4 checksum, proto " << int{p.proto};
}

// ---- packet builders ----

inline void Put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}

inline Bytes EthHdr(std::initializer_list<uint16_t> vlan_tcis, uint16_t type) {
  Bytes b = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};
  for (uint16_t tci : vlan_tcis) {
    Put16(b, 0x8100);
    Put16(b, tci);
  }
  Put16(b, type);
  return b;
}

// Transport header plus payload, checksum zero (FixChecksums fills it).
inline Bytes L4Hdr(uint8_t proto, uint16_t sport, uint16_t dport, size_t payload,
                   uint8_t seed = 1) {
  Bytes b;
  switch (proto) {
    case 6:
      Put16(b, sport);
      Put16(b, dport);
      b.insert(b.end(), {0, 0, 0, 1, 0, 0, 0, 2, 0x50, 0x18, 0x20, 0, 0, 0, 0, 0});
      break;
    case 17:
      Put16(b, sport);
      Put16(b, dport);
      Put16(b, static_cast<uint16_t>(8 + payload));
      Put16(b, 0);
      break;
    case 132:
      Put16(b, sport);
      Put16(b, dport);
      b.insert(b.end(), {0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0});
      break;
    default:  // ICMP / ICMPv6 echo request
      b.insert(b.end(), {static_cast<uint8_t>(proto == 1 ? 8 : 128), 0, 0, 0, 0, 7, 0, 1});
      break;
  }
  for (size_t i = 0; i < payload; ++i) b.push_back(static_cast<uint8_t>(seed + i * 7));
  return b;
}

inline Pkt MakeV4(uint8_t proto, std::initializer_list<uint16_t> vlans = {}, size_t payload = 11,
                  uint16_t sport = 1234, uint16_t dport = 80) {
  Pkt p;
  p.b = EthHdr(vlans, 0x0800);
  p.l3 = p.b.size();
  Bytes l4 = L4Hdr(proto, sport, dport, payload);
  p.b.insert(p.b.end(), {0x45, 0x10});
  Put16(p.b, static_cast<uint16_t>(20 + l4.size()));
  p.b.insert(p.b.end(), {0x12, 0x34, 0x40, 0x00, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2});
  p.l4 = p.b.size();
  p.b.insert(p.b.end(), l4.begin(), l4.end());
  p.proto = proto;
  FixChecksums(p);
  return p;
}

inline Pkt MakeV6(uint8_t proto, std::initializer_list<uint16_t> vlans = {}, size_t payload = 11,
                  Bytes ext = {}, uint8_t first_next = 0) {
  Pkt p;
  p.v6 = true;
  p.b = EthHdr(vlans, 0x86dd);
  p.l3 = p.b.size();
  Bytes l4 = L4Hdr(proto, 4321, 443, payload);
  p.b.insert(p.b.end(), {0x60, 0x00, 0x00, 0x00});
  Put16(p.b, static_cast<uint16_t>(ext.size() + l4.size()));
  p.b.push_back(ext.empty() ? proto : first_next);
  p.b.push_back(64);
  for (int i = 0; i < 16; ++i) p.b.push_back(static_cast<uint8_t>(i == 0 ? 0x20 : i));
  for (int i = 0; i < 16; ++i) p.b.push_back(static_cast<uint8_t>(i == 0 ? 0x20 : 0x80 + i));
  p.b.insert(p.b.end(), ext.begin(), ext.end());
  p.l4 = p.b.size();
  p.b.insert(p.b.end(), l4.begin(), l4.end());
  p.proto = proto;
  FixChecksums(p);
  return p;
}

// ---- mbufs and the sink ----

inline rte_mbuf* ToMbuf(const Bytes& b, uint16_t headroom = RTE_PKTMBUF_HEADROOM) {
  rte_mbuf* m = rte_pktmbuf_alloc(test::Eal());
  EXPECT_NE(m, nullptr);
  m->data_off = headroom;
  char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(b.size()));
  EXPECT_NE(p, nullptr);
  std::memcpy(p, b.data(), b.size());
  return m;
}

inline Bytes FromMbuf(const rte_mbuf* m) {
  Bytes out(rte_pktmbuf_pkt_len(m));
  const void* p = rte_pktmbuf_read(m, 0, static_cast<uint32_t>(out.size()), out.data());
  if (p != out.data()) std::memcpy(out.data(), p, out.size());
  return out;
}

struct TestSink {
  enum Kind { kOut, kUser, kRecirc };
  struct Sent {
    Kind kind;
    uint32_t arg;
    uint64_t cookie;
    rte_mbuf* m;
  };
  std::vector<Sent> sent;
  int drops = 0;
  rte_mempool* pool = test::Eal();

  void Output(uint32_t port, rte_mbuf* m) { sent.push_back({kOut, port, 0, m}); }
  void Userspace(const ActUserspace& a, rte_mbuf* m) {
    sent.push_back({kUser, a.pid, a.cookie, m});
  }
  void Recirc(uint32_t id, rte_mbuf* m) { sent.push_back({kRecirc, id, 0, m}); }
  rte_mempool* ClonePool() { return pool; }
  void CountDrop() { ++drops; }

  Bytes BytesOf(size_t i) const { return FromMbuf(sent.at(i).m); }
  ~TestSink() {
    for (const Sent& s : sent) rte_pktmbuf_free(s.m);
  }
};

// Every test checks that no mbuf leaked (or was freed twice) by comparing the pool's free count.
class ExecuteTest : public ::testing::Test {
 protected:
  void SetUp() override { avail_ = rte_mempool_avail_count(test::Eal()); }
  void TearDown() override { EXPECT_EQ(rte_mempool_avail_count(test::Eal()), avail_); }

  // Runs `actions` on a copy of `in`; returns the bytes that reached output port 1.
  Bytes RunOne(const ActionBuilder& actions, const Bytes& in) {
    TestSink sink;
    ExecuteActions(actions.view(), ToMbuf(in), sink);
    EXPECT_EQ(sink.drops, 0);
    EXPECT_EQ(sink.sent.size(), 1u);
    if (sink.sent.size() != 1) return {};
    return sink.BytesOf(0);
  }

  unsigned avail_ = 0;
};

inline constexpr MacAddr kMac6 = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

inline ActSetMasked MakeSet(SetHeader h) {
  ActSetMasked s;
  std::memset(&s, 0, sizeof(s));
  s.header = static_cast<uint16_t>(h);
  return s;
}

inline ActionBuilder SetThenOutput(const ActSetMasked& s) {
  ActionBuilder b;
  b.SetMasked(s);
  b.Output(1);
  return b;
}

}  // namespace sluice::dp::exec_test
