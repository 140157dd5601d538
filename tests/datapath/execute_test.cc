#include "datapath/actions/execute.h"

#include <arpa/inet.h>

#include <cstring>
#include <initializer_list>
#include <random>
#include <vector>

#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "common/eal_env.h"

namespace sluice::dp {
namespace {

using Bytes = std::vector<uint8_t>;

// ---- independent reference checksums (from scratch, not incremental) ----

uint32_t SumBe16(const uint8_t* p, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i + 1 < n; i += 2) s += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n & 1) s += static_cast<uint32_t>(p[n - 1] << 8);
  return s;
}
uint16_t FinishSum(uint64_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}

uint32_t Crc32cBitwise(const uint8_t* p, size_t n) {
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

uint16_t Get16(const Bytes& b, size_t o) { return static_cast<uint16_t>(b[o] << 8 | b[o + 1]); }
void Set16(Bytes& b, size_t o, uint16_t v) {
  b[o] = static_cast<uint8_t>(v >> 8);
  b[o + 1] = static_cast<uint8_t>(v);
}

size_t L4CsumOffset(uint8_t proto) {
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

uint16_t RefIpv4Csum(Bytes b, size_t l3) {
  size_t ihl = (b[l3] & 0xf) * 4u;
  Set16(b, l3 + 10, 0);
  return FinishSum(SumBe16(b.data() + l3, ihl));
}

// The checksum the L4 header should carry, computed over a copy with the field zeroed.
uint32_t RefL4Csum(const Pkt& p) {
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

uint32_t StoredL4Csum(const Bytes& b, const Pkt& p) {
  size_t off = p.l4 + L4CsumOffset(p.proto);
  if (p.proto == 132) {
    return static_cast<uint32_t>(b[off]) | static_cast<uint32_t>(b[off + 1]) << 8 |
           static_cast<uint32_t>(b[off + 2]) << 16 | static_cast<uint32_t>(b[off + 3]) << 24;
  }
  return Get16(b, off);
}

void FixChecksums(Pkt& p) {
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
void ExpectChecksumsValid(const Bytes& bytes, const Pkt& layout) {
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

void Put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}

Bytes EthHdr(std::initializer_list<uint16_t> vlan_tcis, uint16_t type) {
  Bytes b = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};
  for (uint16_t tci : vlan_tcis) {
    Put16(b, 0x8100);
    Put16(b, tci);
  }
  Put16(b, type);
  return b;
}

// Transport header plus payload, checksum zero (FixChecksums fills it).
Bytes L4Hdr(uint8_t proto, uint16_t sport, uint16_t dport, size_t payload, uint8_t seed = 1) {
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

Pkt MakeV4(uint8_t proto, std::initializer_list<uint16_t> vlans = {}, size_t payload = 11,
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

Pkt MakeV6(uint8_t proto, std::initializer_list<uint16_t> vlans = {}, size_t payload = 11,
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

rte_mbuf* ToMbuf(const Bytes& b, uint16_t headroom = RTE_PKTMBUF_HEADROOM) {
  rte_mbuf* m = rte_pktmbuf_alloc(test::Eal());
  EXPECT_NE(m, nullptr);
  m->data_off = headroom;
  char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(b.size()));
  EXPECT_NE(p, nullptr);
  std::memcpy(p, b.data(), b.size());
  return m;
}

Bytes FromMbuf(const rte_mbuf* m) {
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

constexpr MacAddr kMac6 = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

ActSetMasked MakeSet(SetHeader h) {
  ActSetMasked s;
  std::memset(&s, 0, sizeof(s));
  s.header = static_cast<uint16_t>(h);
  return s;
}

ActionBuilder SetThenOutput(const ActSetMasked& s) {
  ActionBuilder b;
  b.SetMasked(s);
  b.Output(1);
  return b;
}

// ---- output, userspace, recirc, drop ----

TEST_F(ExecuteTest, SingleOutputHandsOverOriginal) {
  TestSink sink;
  Pkt p = MakeV4(6);
  rte_mbuf* m = ToMbuf(p.b);
  ActionBuilder b;
  b.Output(5);
  ExecuteActions(b.view(), m, sink);
  ASSERT_EQ(sink.sent.size(), 1u);
  EXPECT_EQ(sink.sent[0].kind, TestSink::kOut);
  EXPECT_EQ(sink.sent[0].arg, 5u);
  EXPECT_EQ(sink.sent[0].m, m);
  EXPECT_EQ(sink.BytesOf(0), p.b);
  EXPECT_EQ(sink.drops, 0);
}

TEST_F(ExecuteTest, MultipleOutputsCopyAllButLast) {
  TestSink sink;
  Pkt p = MakeV4(17);
  rte_mbuf* m = ToMbuf(p.b);
  ActionBuilder b;
  b.Output(1);
  b.Output(2);
  b.Output(3);
  ExecuteActions(b.view(), m, sink);
  ASSERT_EQ(sink.sent.size(), 3u);
  EXPECT_NE(sink.sent[0].m, m);
  EXPECT_NE(sink.sent[1].m, m);
  EXPECT_NE(sink.sent[0].m, sink.sent[1].m);
  EXPECT_EQ(sink.sent[2].m, m);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(sink.sent[i].arg, i + 1);
    EXPECT_EQ(sink.BytesOf(i), p.b);
  }
}

TEST_F(ExecuteTest, LaterRewritesDoNotAffectEarlierCopies) {
  TestSink sink;
  Pkt p = MakeV4(6);
  ActionBuilder b;
  b.Output(1);
  b.PushVlan(htons(0x8100), htons(0x1000 | 42));
  b.Output(2);
  ExecuteActions(b.view(), ToMbuf(p.b), sink);
  ASSERT_EQ(sink.sent.size(), 2u);
  EXPECT_EQ(sink.BytesOf(0), p.b);
  EXPECT_EQ(sink.BytesOf(1).size(), p.b.size() + 4);
}

TEST_F(ExecuteTest, UserspaceAndRecirc) {
  TestSink sink;
  Pkt p = MakeV6(17);
  rte_mbuf* m = ToMbuf(p.b);
  ActionBuilder b;
  b.Userspace(7, 0x1122334455667788ULL);
  b.Recirc(99);
  b.Output(3);
  b.Userspace(8, 1);
  ExecuteActions(b.view(), m, sink);
  ASSERT_EQ(sink.sent.size(), 4u);
  EXPECT_EQ(sink.sent[0].kind, TestSink::kUser);
  EXPECT_EQ(sink.sent[0].arg, 7u);
  EXPECT_EQ(sink.sent[0].cookie, 0x1122334455667788ULL);
  EXPECT_EQ(sink.sent[1].kind, TestSink::kRecirc);
  EXPECT_EQ(sink.sent[1].arg, 99u);
  EXPECT_EQ(sink.sent[2].kind, TestSink::kOut);
  EXPECT_EQ(sink.sent[3].kind, TestSink::kUser);
  EXPECT_EQ(sink.sent[3].m, m);
  for (size_t i = 0; i < 3; ++i) EXPECT_NE(sink.sent[i].m, m);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(sink.BytesOf(i), p.b);
}

TEST_F(ExecuteTest, LastRecircHandsOverOriginal) {
  TestSink sink;
  rte_mbuf* m = ToMbuf(MakeV4(6).b);
  ActionBuilder b;
  b.Recirc(4);
  ExecuteActions(b.view(), m, sink);
  ASSERT_EQ(sink.sent.size(), 1u);
  EXPECT_EQ(sink.sent[0].m, m);
}

TEST_F(ExecuteTest, CopyFailureCountsDropAndContinues) {
  rte_mempool* tiny =
      rte_pktmbuf_pool_create("exec_tiny", 1, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  ASSERT_NE(tiny, nullptr);
  rte_mbuf* hog = rte_pktmbuf_alloc(tiny);  // empties the pool
  ASSERT_NE(hog, nullptr);
  {
    TestSink sink;
    sink.pool = tiny;
    ActionBuilder b;
    b.Output(1);
    b.Output(2);
    ExecuteActions(b.view(), ToMbuf(MakeV4(6).b), sink);
    EXPECT_EQ(sink.drops, 1);
    ASSERT_EQ(sink.sent.size(), 1u);
    EXPECT_EQ(sink.sent[0].arg, 2u);
  }
  rte_pktmbuf_free(hog);
  rte_mempool_free(tiny);
}

TEST_F(ExecuteTest, ExplicitDropStopsAndFrees) {
  TestSink sink;
  ActionBuilder b;
  b.Output(1);
  b.Drop();
  b.Output(2);
  ExecuteActions(b.view(), ToMbuf(MakeV4(6).b), sink);
  EXPECT_EQ(sink.drops, 0);
  ASSERT_EQ(sink.sent.size(), 1u);
  EXPECT_EQ(sink.sent[0].arg, 1u);
}

TEST_F(ExecuteTest, ListWithoutOutputDrops) {
  TestSink sink;
  ExecuteActions(ActionView{}, ToMbuf(MakeV4(6).b), sink);
  ActionBuilder b;
  b.PushVlan(htons(0x8100), htons(0x1001));
  ExecuteActions(b.view(), ToMbuf(MakeV4(6).b), sink);
  EXPECT_TRUE(sink.sent.empty());
  EXPECT_EQ(sink.drops, 0);
}

TEST_F(ExecuteTest, MalformedActionsDropAndCount) {
  auto run = [](std::vector<uint64_t> words, size_t len, size_t expect_sent) {
    TestSink sink;
    ExecuteActions(ActionView(reinterpret_cast<const uint8_t*>(words.data()), len),
                   ToMbuf(MakeV4(6).b), sink);
    EXPECT_EQ(sink.drops, 1);
    EXPECT_EQ(sink.sent.size(), expect_sent);
  };
  auto hdr = [](uint16_t type, uint16_t len) {
    ActionHeader h{type, len, 0};
    uint64_t w;
    std::memcpy(&w, &h, 8);
    return w;
  };
  run({hdr(1, 0), 0}, 16, 0);              // zero length: must not loop
  run({hdr(99, 8)}, 8, 0);                 // unknown type
  run({hdr(1, 12), 0}, 16, 0);             // length not a multiple of 8
  run({hdr(1, 24), 0}, 16, 0);             // length beyond the list
  run({hdr(1, 8)}, 8, 0);                  // output without its payload
  run({hdr(5, 16), 0}, 16, 0);             // set without its payload
  run({hdr(1, 16), 7}, 4, 0);              // list shorter than a header
  run({hdr(1, 16), 7, hdr(0, 8)}, 24, 1);  // output copy, then a bad action
  ActSetMasked bad = MakeSet(static_cast<SetHeader>(77));
  ActionBuilder b;
  b.SetMasked(bad);
  b.Output(1);
  run(b.storage(), b.size(), 0);  // unknown header to set
}

// ---- VLAN ----

TEST_F(ExecuteTest, PushVlanWritesTagAndClearsCfi) {
  Pkt p = MakeV4(6);
  ActionBuilder b;
  b.PushVlan(htons(0x8100), htons(0xa000 | kVlanCfi | 0x123));
  b.Output(1);
  Bytes out = RunOne(b, p.b);
  Bytes want(p.b.begin(), p.b.begin() + 12);
  want.insert(want.end(), {0x81, 0x00, 0xa1, 0x23});
  want.insert(want.end(), p.b.begin() + 12, p.b.end());
  EXPECT_EQ(out, want);
}

TEST_F(ExecuteTest, PushPushPopPopRoundTrip) {
  Pkt p = MakeV6(17);
  ActionBuilder b;
  b.PushVlan(htons(0x88a8), htons(kVlanCfi | 10));
  b.PushVlan(htons(0x8100), htons(kVlanCfi | 20));
  b.Output(1);
  b.PopVlan();
  b.Output(2);
  b.PopVlan();
  b.Output(3);
  b.PopVlan();  // nothing left to pop: unchanged
  b.Output(4);
  TestSink sink;
  ExecuteActions(b.view(), ToMbuf(p.b), sink);
  ASSERT_EQ(sink.sent.size(), 4u);
  Bytes two = sink.BytesOf(0);
  ASSERT_EQ(two.size(), p.b.size() + 8);
  EXPECT_EQ(Get16(two, 12), 0x8100);  // the last push is outermost
  EXPECT_EQ(Get16(two, 14), 20);
  EXPECT_EQ(Get16(two, 16), 0x88a8);
  EXPECT_EQ(Get16(two, 18), 10);
  Bytes one = sink.BytesOf(1);
  EXPECT_EQ(Get16(one, 12), 0x88a8);
  EXPECT_EQ(sink.BytesOf(2), p.b);
  EXPECT_EQ(sink.BytesOf(3), p.b);
  EXPECT_EQ(rte_pktmbuf_pkt_len(sink.sent[3].m), p.b.size());
}

TEST_F(ExecuteTest, PopVlanOnTaggedInput) {
  Pkt tagged = MakeV4(17, {0x0064});
  Pkt plain = MakeV4(17);
  ActionBuilder b;
  b.PopVlan();
  b.Output(1);
  EXPECT_EQ(RunOne(b, tagged.b), plain.b);
}

TEST_F(ExecuteTest, PushVlanFailuresDrop) {
  ActionBuilder b;
  b.PushVlan(htons(0x8100), htons(1));
  b.Output(1);
  {
    TestSink sink;  // no headroom
    ExecuteActions(b.view(), ToMbuf(MakeV4(6).b, 0), sink);
    EXPECT_TRUE(sink.sent.empty());
    EXPECT_EQ(sink.drops, 1);
  }
  {
    TestSink sink;  // shorter than two MAC addresses
    ExecuteActions(b.view(), ToMbuf(Bytes(11, 0xff)), sink);
    EXPECT_TRUE(sink.sent.empty());
    EXPECT_EQ(sink.drops, 1);
  }
}

// ---- set: Ethernet, IPv4, IPv6, ports ----

TEST_F(ExecuteTest, SetEthernetMasked) {
  Pkt p = MakeV4(6);
  ActSetMasked s = MakeSet(SetHeader::kEthernet);
  s.value.eth.dst = {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
  s.mask.eth.dst = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  s.value.eth.src = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66};
  s.mask.eth.src = {0x00, 0x00, 0x00, 0x00, 0x00, 0x0f};
  Bytes out = RunOne(SetThenOutput(s), p.b);
  Bytes want = p.b;
  std::memcpy(&want[0], s.value.eth.dst.data(), 6);
  want[11] = 0x06;  // low nibble from value, high nibble kept (0x02 -> 0x06)
  EXPECT_EQ(out, want);
}

TEST_F(ExecuteTest, SetIpv4AllFieldsTcp) {
  Pkt p = MakeV4(6);
  ActSetMasked s = MakeSet(SetHeader::kIpv4);
  s.value.ipv4 = {htonl(0xc0a80a0b), htonl(0xac100001), 99, 0xb8, 5, 0};
  s.mask.ipv4 = {0xffffffff, 0xffffffff, 0xff, 0xff, 0xff, 0xff};  // proto/frag not settable
  Bytes out = RunOne(SetThenOutput(s), p.b);
  EXPECT_EQ(out[p.l3 + 1], 0xb8);
  EXPECT_EQ(out[p.l3 + 8], 5);
  EXPECT_EQ(out[p.l3 + 9], 6);
  EXPECT_EQ(Get16(out, p.l3 + 12), 0xc0a8);
  EXPECT_EQ(Get16(out, p.l3 + 18), 0x0001);
  ExpectChecksumsValid(out, p);
}

TEST_F(ExecuteTest, SetIpv4PartialMaskOnVlanUdp) {
  Pkt p = MakeV4(17, {5, 6});
  ActSetMasked s = MakeSet(SetHeader::kIpv4);
  s.value.ipv4.src = htonl(0x01020304);
  s.mask.ipv4.src = htonl(0x0000ffff);
  s.value.ipv4.tos = 0x03;
  s.mask.ipv4.tos = 0x03;  // ECN only
  Bytes out = RunOne(SetThenOutput(s), p.b);
  EXPECT_EQ(Get16(out, p.l3 + 12), 0x0a00);
  EXPECT_EQ(Get16(out, p.l3 + 14), 0x0304);
  EXPECT_EQ(out[p.l3 + 1], 0x13);
  ExpectChecksumsValid(out, p);
}

TEST_F(ExecuteTest, UdpZeroChecksumStaysZero) {
  Pkt p = MakeV4(17);
  Set16(p.b, p.l4 + 6, 0);
  ActSetMasked s = MakeSet(SetHeader::kIpv4);
  s.value.ipv4.dst = htonl(0x08080808);
  s.mask.ipv4.dst = 0xffffffff;
  Bytes out = RunOne(SetThenOutput(s), p.b);
  EXPECT_EQ(Get16(out, p.l4 + 6), 0);
  ExpectChecksumsValid(out, p);
  ActSetMasked ports = MakeSet(SetHeader::kUdp);
  ports.value.ports.dst = htons(999);
  ports.mask.ports.dst = 0xffff;
  out = RunOne(SetThenOutput(ports), p.b);
  EXPECT_EQ(Get16(out, p.l4 + 2), 999);
  EXPECT_EQ(Get16(out, p.l4 + 6), 0);
}

TEST_F(ExecuteTest, UdpComputedZeroBecomesFfff) {
  Pkt p = MakeV4(17);
  // Find the destination port for which the one's complement sum is all ones, i.e. the
  // checksum computes to 0 and must be sent as 0xffff.
  int found = -1;
  for (int port = 0; port < 65536 && found < 0; ++port) {
    Pkt q = p;
    Set16(q.b, q.l4 + 2, static_cast<uint16_t>(port));
    Set16(q.b, q.l4 + 6, 0);
    uint64_t s = SumBe16(q.b.data() + q.l4, q.b.size() - q.l4) +
                 SumBe16(q.b.data() + q.l3 + 12, 8) + (q.b.size() - q.l4) + 17;
    if (FinishSum(s) == 0) found = port;
  }
  ASSERT_GE(found, 0);
  ActSetMasked s = MakeSet(SetHeader::kUdp);
  s.value.ports.dst = htons(static_cast<uint16_t>(found));
  s.mask.ports.dst = 0xffff;
  Bytes out = RunOne(SetThenOutput(s), p.b);
  EXPECT_EQ(Get16(out, p.l4 + 6), 0xffff);
  ExpectChecksumsValid(out, p);
}

TEST_F(ExecuteTest, SetIpv4OnIcmpFixesOnlyIpChecksum) {
  Pkt p = MakeV4(1);
  ActSetMasked s = MakeSet(SetHeader::kIpv4);
  s.value.ipv4.src = htonl(0x7f000001);
  s.mask.ipv4.src = 0xffffffff;
  s.value.ipv4.ttl = 1;
  s.mask.ipv4.ttl = 0xff;
  Bytes out = RunOne(SetThenOutput(s), p.b);
  EXPECT_EQ(Get16(out, p.l4 + 2), Get16(p.b, p.l4 + 2));
  ExpectChecksumsValid(out, p);
}

TEST_F(ExecuteTest, SetOnAbsentHeaderLeavesPacketUnchanged) {
  Bytes arp = EthHdr({}, 0x0806);
  arp.insert(arp.end(), {0,  1, 8, 0, 6, 4, 0, 1, 1, 2, 3,  4, 5, 6,
                         10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2});
  ActSetMasked v4 = MakeSet(SetHeader::kIpv4);
  v4.value.ipv4.src = htonl(0x01010101);
  v4.mask.ipv4.src = 0xffffffff;
  EXPECT_EQ(RunOne(SetThenOutput(v4), arp), arp);
  Pkt ip6 = MakeV6(6);
  EXPECT_EQ(RunOne(SetThenOutput(v4), ip6.b), ip6.b);

  ActSetMasked v6 = MakeSet(SetHeader::kIpv6);
  v6.mask.ipv6.hlimit = 0xff;
  Pkt ip4 = MakeV4(6);
  EXPECT_EQ(RunOne(SetThenOutput(v6), ip4.b), ip4.b);

  ActSetMasked tcp = MakeSet(SetHeader::kTcp);
  tcp.value.ports.src = htons(1);
  tcp.mask.ports.src = 0xffff;
  Pkt udp = MakeV4(17);
  EXPECT_EQ(RunOne(SetThenOutput(tcp), udp.b), udp.b);

  // A later IPv4 fragment has no transport header to rewrite.
  ActSetMasked udp_set = MakeSet(SetHeader::kUdp);
  udp_set.value.ports.src = htons(1);
  udp_set.mask.ports.src = 0xffff;
  Pkt frag = MakeV4(17);
  frag.b[frag.l3 + 6] = 0x00;
  frag.b[frag.l3 + 7] = 0x10;
  FixChecksums(frag);
  EXPECT_EQ(RunOne(SetThenOutput(udp_set), frag.b), frag.b);

  // Too short for Ethernet.
  ActSetMasked eth = MakeSet(SetHeader::kEthernet);
  eth.mask.eth.dst[0] = 0xff;
  Bytes tiny(10, 0x33);
  EXPECT_EQ(RunOne(SetThenOutput(eth), tiny), tiny);
}

TEST_F(ExecuteTest, SetIpv6AllFields) {
  for (uint8_t proto : {6, 17, 58, 132}) {
    SCOPED_TRACE(int{proto});
    Pkt p = MakeV6(proto, {77});
    ActSetMasked s = MakeSet(SetHeader::kIpv6);
    for (int i = 0; i < 16; ++i) {
      s.value.ipv6.src[i] = static_cast<uint8_t>(0xf0 + i);
      s.value.ipv6.dst[i] = static_cast<uint8_t>(0x30 + i);
    }
    s.mask.ipv6.src.fill(0xff);
    s.mask.ipv6.dst.fill(0x0f);
    s.value.ipv6.label = htonl(0xabcde);
    s.mask.ipv6.label = htonl(0xfffff);
    s.value.ipv6.tclass = 0xe4;
    s.mask.ipv6.tclass = 0xff;
    s.value.ipv6.hlimit = 9;
    s.mask.ipv6.hlimit = 0xff;
    Bytes out = RunOne(SetThenOutput(s), p.b);
    EXPECT_EQ(out[p.l3], 0x6e);  // version kept, tclass 0xe4
    EXPECT_EQ(out[p.l3 + 1], 0x4a);
    EXPECT_EQ(Get16(out, p.l3 + 2), 0xbcde);
    EXPECT_EQ(out[p.l3 + 7], 9);
    EXPECT_EQ(out[p.l3 + 8], 0xf0);
    EXPECT_EQ(out[p.l3 + 24], 0x20);  // high nibble kept
    EXPECT_EQ(out[p.l3 + 25], 0x81);  // 0x81 & 0xf0 | 0x31 & 0x0f
    ExpectChecksumsValid(out, p);
  }
}

TEST_F(ExecuteTest, SetIpv6ThroughExtensionHeaders) {
  Bytes hbh = {60, 0, 1, 4, 0, 0, 0, 0};
  Bytes dst_opts = {6, 0, 1, 4, 0, 0, 0, 0};
  hbh.insert(hbh.end(), dst_opts.begin(), dst_opts.end());
  Pkt p = MakeV6(6, {}, 20, hbh, 0);
  ActSetMasked s = MakeSet(SetHeader::kIpv6);
  s.value.ipv6.src[15] = 0x99;
  s.mask.ipv6.src[15] = 0xff;
  Bytes out = RunOne(SetThenOutput(s), p.b);
  EXPECT_EQ(out[p.l3 + 8 + 15], 0x99);
  ExpectChecksumsValid(out, p);
}

TEST_F(ExecuteTest, SetIpv6DstWithRoutingHeaderKeepsL4Checksum) {
  Bytes rh = {6, 2, 0, 1, 0, 0, 0, 0};  // routing header, one segment left
  rh.resize(24, 0);
  Pkt p = MakeV6(6, {}, 4, rh, 43);
  ActSetMasked s = MakeSet(SetHeader::kIpv6);
  s.value.ipv6.dst[15] = 0x42;
  s.mask.ipv6.dst[15] = 0xff;
  Bytes out = RunOne(SetThenOutput(s), p.b);
  EXPECT_EQ(out[p.l3 + 24 + 15], 0x42);
  EXPECT_EQ(Get16(out, p.l4 + 16), Get16(p.b, p.l4 + 16));
}

TEST_F(ExecuteTest, SetPorts) {
  struct Case {
    SetHeader h;
    uint8_t proto;
  };
  for (Case c :
       {Case{SetHeader::kTcp, 6}, Case{SetHeader::kUdp, 17}, Case{SetHeader::kSctp, 132}}) {
    for (bool v6 : {false, true}) {
      SCOPED_TRACE(testing::Message() << int{c.proto} << (v6 ? " v6" : " v4"));
      Pkt p = v6 ? MakeV6(c.proto, {}, 33) : MakeV4(c.proto, {9}, 33);
      ActSetMasked s = MakeSet(c.h);
      s.value.ports.src = htons(0xbeef);
      s.mask.ports.src = htons(0xff00);
      s.value.ports.dst = htons(8080);
      s.mask.ports.dst = 0xffff;
      Bytes out = RunOne(SetThenOutput(s), p.b);
      EXPECT_EQ(Get16(out, p.l4), (0xbe00 | (Get16(p.b, p.l4) & 0xff)));
      EXPECT_EQ(Get16(out, p.l4 + 2), 8080);
      ExpectChecksumsValid(out, p);
    }
  }
}

// ---- set: ARP, ICMP/ICMPv6, IPv6 neighbour discovery ----

Bytes ArpFrame(std::initializer_list<uint16_t> vlans, uint16_t eth_type = 0x0806, uint16_t op = 1) {
  Bytes b = EthHdr(vlans, eth_type);
  b.insert(b.end(), {0, 1, 8, 0, 6, 4});
  Put16(b, op);
  b.insert(b.end(), {0x02, 0x11, 0x11, 0x11, 0x11, 0x11, 192, 168, 10, 10,    // sha, spa
                     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 192, 168, 20, 20});  // tha, tpa
  b.resize(b.size() + 18, 0);                                                 // Ethernet padding
  return b;
}

// An IPv6 packet around `l4` (ICMPv6), checksums filled in.
Pkt MakeV6Icmp(Bytes l4, std::initializer_list<uint16_t> vlans = {}) {
  Pkt p;
  p.v6 = true;
  p.proto = 58;
  p.b = EthHdr(vlans, 0x86dd);
  p.l3 = p.b.size();
  p.b.insert(p.b.end(), {0x60, 0x00, 0x00, 0x00});
  Put16(p.b, static_cast<uint16_t>(l4.size()));
  p.b.insert(p.b.end(), {58, 255});
  for (int i = 0; i < 16; ++i)
    p.b.push_back(static_cast<uint8_t>(i == 0 ? 0xfe : i == 1 ? 0x80 : i));
  for (int i = 0; i < 16; ++i) p.b.push_back(static_cast<uint8_t>(i == 0 ? 0xff : i == 1 ? 2 : i));
  p.l4 = p.b.size();
  p.b.insert(p.b.end(), l4.begin(), l4.end());
  FixChecksums(p);
  return p;
}

// Neighbour solicitation (135) or advertisement (136) for 2001:db8::5 with `options`.
Pkt MakeNd(uint8_t type, const Bytes& options, std::initializer_list<uint16_t> vlans = {}) {
  Bytes l4 = {type, 0,    0, 0,    static_cast<uint8_t>(type == 136 ? 0x60 : 0),
              0,    0,    0, 0x20, 0x01,
              0x0d, 0xb8, 0, 0,    0,
              0,    0,    0, 0,    0,
              0,    0,    0, 5};
  l4.insert(l4.end(), options.begin(), options.end());
  return MakeV6Icmp(l4, vlans);
}

Bytes LlOpt(uint8_t type, uint8_t last) { return {type, 1, 0x02, 0x22, 0x22, 0x22, 0x22, last}; }

TEST_F(ExecuteTest, SetArpAllFields) {
  for (bool vlan : {false, true}) {
    SCOPED_TRACE(vlan);
    Bytes in = vlan ? ArpFrame({0x0064}) : ArpFrame({});
    size_t l3 = vlan ? 18 : 14;
    ActSetMasked s = MakeSet(SetHeader::kArp);
    s.value.arp = {htonl(0x0a0a0a0a),
                   htonl(0x0a0a1414),
                   htons(0x0102),
                   {0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa},
                   {0xba, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb}};
    s.mask.arp = {0xffffffff, 0xffffffff, 0xffff, kMac6, kMac6};
    Bytes out = RunOne(SetThenOutput(s), in);
    Bytes want = in;
    const uint8_t arp[] = {0x01, 0x02, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 10, 10, 10,
                           10,   0xba, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 10,   10, 20, 20};
    std::memcpy(&want[l3 + 6], arp, sizeof(arp));
    EXPECT_EQ(out, want);
  }
}

TEST_F(ExecuteTest, SetArpMaskedAndRarp) {
  Bytes in = ArpFrame({}, 0x8035, 3);
  ActSetMasked s = MakeSet(SetHeader::kArp);
  s.value.arp.op = htons(4);
  s.mask.arp.op = htons(0x00ff);
  s.value.arp.sip = htonl(0x01020304);
  s.mask.arp.sip = htonl(0x0000ffff);
  s.value.arp.sha[5] = 0x0f;
  s.mask.arp.sha[5] = 0x0f;
  Bytes out = RunOne(SetThenOutput(s), in);
  Bytes want = in;
  want[14 + 7] = 4;
  want[14 + 8 + 5] = 0x1f;  // 0x11: high nibble kept
  want[14 + 16] = 3;
  want[14 + 17] = 4;
  EXPECT_EQ(out, want);

  // Not Ethernet/IPv4 ARP (hardware type 6): no fields, nothing rewritten; nor is IPv4.
  Bytes other = ArpFrame({});
  other[15] = 6;
  EXPECT_EQ(RunOne(SetThenOutput(s), other), other);
  Pkt ip = MakeV4(6);
  EXPECT_EQ(RunOne(SetThenOutput(s), ip.b), ip.b);
  Bytes truncated = ArpFrame({});
  truncated.resize(14 + 27);
  EXPECT_EQ(RunOne(SetThenOutput(s), truncated), truncated);
}

TEST_F(ExecuteTest, SetIcmpTypeAndCode) {
  for (bool vlan : {false, true}) {
    SCOPED_TRACE(vlan);
    Pkt p = vlan ? MakeV4(1, {7}, 21) : MakeV4(1, {}, 21);
    ActSetMasked s = MakeSet(SetHeader::kIcmp);
    s.value.icmp = {0, 10};
    s.mask.icmp = {0xff, 0xff};
    Bytes out = RunOne(SetThenOutput(s), p.b);
    EXPECT_EQ(out[p.l4], 0);
    EXPECT_EQ(out[p.l4 + 1], 10);
    EXPECT_EQ(Bytes(out.begin() + p.l4 + 4, out.end()), Bytes(p.b.begin() + p.l4 + 4, p.b.end()));
    ExpectChecksumsValid(out, p);

    s.value.icmp = {0x03, 0};  // type 8 -> 0x0b: low two bits only
    s.mask.icmp = {0x03, 0};
    out = RunOne(SetThenOutput(s), p.b);
    EXPECT_EQ(out[p.l4], 0x0b);
    EXPECT_EQ(out[p.l4 + 1], 0);
    ExpectChecksumsValid(out, p);
  }
}

TEST_F(ExecuteTest, SetIcmpv6TypeAndCodeWithPseudoHeader) {
  Pkt p = MakeV6(58, {}, 30);
  ActSetMasked s = MakeSet(SetHeader::kIcmpv6);
  s.value.icmp = {129, 1};
  s.mask.icmp = {0xff, 0xff};
  Bytes out = RunOne(SetThenOutput(s), p.b);
  EXPECT_EQ(out[p.l4], 129);
  EXPECT_EQ(out[p.l4 + 1], 1);
  ExpectChecksumsValid(out, p);  // recomputed over the IPv6 pseudo-header and the message

  // The ICMP kind must match the IP version; TCP is not touched either.
  ActSetMasked v4 = MakeSet(SetHeader::kIcmp);
  v4.value.icmp = {0, 0};
  v4.mask.icmp = {0xff, 0xff};
  EXPECT_EQ(RunOne(SetThenOutput(v4), p.b), p.b);
  Pkt icmp4 = MakeV4(1);
  EXPECT_EQ(RunOne(SetThenOutput(s), icmp4.b), icmp4.b);
  Pkt tcp = MakeV4(6);
  EXPECT_EQ(RunOne(SetThenOutput(v4), tcp.b), tcp.b);
}

TEST_F(ExecuteTest, SetNdTargetAndLinkLayerOptions) {
  const Bytes nonce = {14, 1, 1, 2, 3, 4, 5, 6};  // an option the rewrite must step over
  Bytes sol_opts = nonce;
  Bytes sll = LlOpt(1, 0x01);
  sol_opts.insert(sol_opts.end(), sll.begin(), sll.end());
  Pkt sol = MakeNd(135, sol_opts, {5});
  Pkt adv = MakeNd(136, LlOpt(2, 0x02));

  ActSetMasked s = MakeSet(SetHeader::kNd);
  for (int i = 0; i < 16; ++i) s.value.nd.target[i] = static_cast<uint8_t>(0xa0 + i);
  s.mask.nd.target.fill(0xff);
  s.value.nd.sll = {0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
  s.mask.nd.sll = kMac6;
  s.value.nd.tll = {0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
  s.mask.nd.tll = kMac6;

  Bytes out = RunOne(SetThenOutput(s), sol.b);
  Bytes want = sol.b;
  std::memcpy(&want[sol.l4 + 8], s.value.nd.target.data(), 16);
  std::memcpy(&want[sol.l4 + 24 + 8 + 2], s.value.nd.sll.data(), 6);  // after the nonce
  Set16(want, sol.l4 + 2, Get16(out, sol.l4 + 2));
  EXPECT_EQ(out, want);
  ExpectChecksumsValid(out, sol);

  out = RunOne(SetThenOutput(s), adv.b);
  want = adv.b;
  std::memcpy(&want[adv.l4 + 8], s.value.nd.target.data(), 16);
  std::memcpy(&want[adv.l4 + 24 + 2], s.value.nd.tll.data(), 6);
  Set16(want, adv.l4 + 2, Get16(out, adv.l4 + 2));
  EXPECT_EQ(out, want);
  ExpectChecksumsValid(out, adv);

  // Only the target: the options stay; a partial mask keeps the other bits.
  ActSetMasked t = MakeSet(SetHeader::kNd);
  t.value.nd.target[15] = 0x0a;
  t.mask.nd.target[15] = 0x0f;
  out = RunOne(SetThenOutput(t), sol.b);
  EXPECT_EQ(out[sol.l4 + 8 + 15], 0x0a);
  EXPECT_EQ(Bytes(out.begin() + sol.l4 + 24, out.end()),
            Bytes(sol.b.begin() + sol.l4 + 24, sol.b.end()));
  ExpectChecksumsValid(out, sol);
}

TEST_F(ExecuteTest, SetNdLeavesOtherPacketsAndMissingOptionsAlone) {
  ActSetMasked s = MakeSet(SetHeader::kNd);
  s.value.nd.sll = {1, 2, 3, 4, 5, 6};
  s.mask.nd.sll = kMac6;
  // No SLL option: nothing is added.
  Pkt bare = MakeNd(135, {});
  EXPECT_EQ(RunOne(SetThenOutput(s), bare.b), bare.b);
  // A malformed option (length 0) ends the walk before the SLL option, as in the parser.
  Bytes opts = {14, 0, 0, 0, 0, 0, 0, 0};
  Bytes sll = LlOpt(1, 9);
  opts.insert(opts.end(), sll.begin(), sll.end());
  Pkt bad = MakeNd(135, opts);
  EXPECT_EQ(RunOne(SetThenOutput(s), bad.b), bad.b);
  // A repeated SLL option: the parser keeps the first, and only the first is rewritten.
  Bytes two = LlOpt(1, 1);
  Bytes second = LlOpt(1, 2);
  two.insert(two.end(), second.begin(), second.end());
  Pkt dup = MakeNd(135, two);
  Bytes out = RunOne(SetThenOutput(s), dup.b);
  EXPECT_EQ(Bytes(out.begin() + dup.l4 + 26, out.begin() + dup.l4 + 32), Bytes({1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(Bytes(out.begin() + dup.l4 + 32, out.end()), second);
  ExpectChecksumsValid(out, dup);
  // Not ND: an echo request, ND with a non-zero code, and IPv4.
  Pkt echo = MakeV6(58);
  EXPECT_EQ(RunOne(SetThenOutput(s), echo.b), echo.b);
  Bytes coded = {135, 1, 0, 0, 0, 0, 0, 0};
  coded.resize(24, 0x11);
  coded.insert(coded.end(), sll.begin(), sll.end());
  Pkt nd_code = MakeV6Icmp(coded);
  EXPECT_EQ(RunOne(SetThenOutput(s), nd_code.b), nd_code.b);
  Pkt v4 = MakeV4(1);
  EXPECT_EQ(RunOne(SetThenOutput(s), v4.b), v4.b);
}

// Random ICMP/ND rewrites on random ND packets; checksums re-derived from scratch.
TEST_F(ExecuteTest, RandomIcmpAndNdSetsKeepChecksumsValid) {
  std::mt19937 rng(4242);
  for (int iter = 0; iter < 2000; ++iter) {
    uint8_t type = rng() % 2 ? 135 : 136;
    Bytes opts;
    for (int n = static_cast<int>(rng() % 4); n > 0; --n) {
      Bytes o = LlOpt(static_cast<uint8_t>(1 + rng() % 3), static_cast<uint8_t>(rng()));
      opts.insert(opts.end(), o.begin(), o.end());
    }
    Pkt p = MakeNd(type, opts);
    ActSetMasked s;
    for (auto& b : s.value.raw) b = static_cast<uint8_t>(rng());
    for (auto& b : s.mask.raw) b = static_cast<uint8_t>(rng() % 3 == 0 ? 0xff : rng());
    s.pad0 = 0;
    s.pad1 = 0;
    s.header = static_cast<uint16_t>(rng() % 2 ? SetHeader::kNd : SetHeader::kIcmpv6);
    Bytes out = RunOne(SetThenOutput(s), p.b);
    ASSERT_EQ(out.size(), p.b.size());
    ExpectChecksumsValid(out, p);
  }
}

TEST(ExecuteCrc32cTest, KnownVector) {
  const uint8_t* s = reinterpret_cast<const uint8_t*>("123456789");
  EXPECT_EQ(Crc32cBitwise(s, 9), 0xe3069283u);
  EXPECT_EQ(~Crc32c(0xffffffff, s, 9), 0xe3069283u);
}

// Random packets and random masked sets; every checksum is re-derived from scratch.
TEST_F(ExecuteTest, RandomSetsKeepChecksumsValid) {
  std::mt19937 rng(777);
  const uint8_t kProtos[] = {6, 17, 132, 1, 58};
  for (int iter = 0; iter < 3000; ++iter) {
    bool v6 = rng() % 2;
    uint8_t proto = kProtos[rng() % 5];
    if (proto == 1 && v6) proto = 58;
    if (proto == 58 && !v6) proto = 1;
    size_t payload = rng() % 40;
    Pkt p = v6 ? MakeV6(proto, {}, payload) : MakeV4(proto, {}, payload);
    if (rng() % 3 == 0) {  // random VLAN tag: headers move by 4 bytes
      p.b.insert(p.b.begin() + 12, {0x81, 0x00, static_cast<uint8_t>(rng()), 1});
      p.l3 += 4;
      p.l4 += 4;
    }
    ActSetMasked s;
    for (auto& b : s.value.raw) b = static_cast<uint8_t>(rng());
    for (auto& b : s.mask.raw) b = static_cast<uint8_t>(rng() % 3 == 0 ? 0xff : rng());
    s.pad0 = 0;
    s.pad1 = 0;
    int which = static_cast<int>(rng() % 3);
    if (which == 0) {
      s.header = static_cast<uint16_t>(v6 ? SetHeader::kIpv6 : SetHeader::kIpv4);
    } else if (proto == 6) {
      s.header = static_cast<uint16_t>(SetHeader::kTcp);
    } else if (proto == 17) {
      s.header = static_cast<uint16_t>(SetHeader::kUdp);
    } else if (proto == 132) {
      s.header = static_cast<uint16_t>(SetHeader::kSctp);
    } else {
      s.header = static_cast<uint16_t>(v6 ? SetHeader::kIpv6 : SetHeader::kIpv4);
    }
    ActionBuilder b;
    b.SetMasked(s);
    if (rng() % 2) b.SetMasked(s);  // applying twice must stay consistent
    b.Output(1);
    Bytes out = RunOne(b, p.b);
    ASSERT_EQ(out.size(), p.b.size());
    ExpectChecksumsValid(out, p);
    if (HasFailure()) {
      ADD_FAILURE() << "iteration " << iter << " proto " << int{proto} << " header " << s.header;
      return;
    }
  }
}

}  // namespace
}  // namespace sluice::dp

namespace sluice::dp {
namespace {

// ---- MPLS ----

TEST_F(ExecuteTest, PushMplsAfterVlanThenSetThenPop) {
  Pkt p = MakeV4(6, {0x0064});  // one VLAN tag: the entry goes after it
  ActionBuilder b;
  uint32_t lse = 100u << 12 | 3u << 9 | 1u << 8 | 64u;
  b.PushMpls(htonl(lse), htons(0x8847));
  b.Output(1);
  ActSetMasked s = MakeSet(SetHeader::kMpls);
  s.value.mpls.lse = htonl(7u << 12 | 63u);
  s.mask.mpls.lse = htonl(kMplsLabelMask | kMplsTtlMask);  // tc and bos kept
  b.SetMasked(s);
  b.Output(2);
  b.PopMpls(htons(0x0800));
  b.Output(3);
  TestSink sink;
  ExecuteActions(b.view(), ToMbuf(p.b), sink);
  ASSERT_EQ(sink.sent.size(), 3u);
  EXPECT_EQ(sink.drops, 0);
  Bytes pushed = sink.BytesOf(0);
  ASSERT_EQ(pushed.size(), p.b.size() + 4);
  EXPECT_EQ(Get16(pushed, 12), 0x8100);
  EXPECT_EQ(Get16(pushed, 16), 0x8847);
  EXPECT_EQ(static_cast<uint32_t>(Get16(pushed, 18)) << 16 | Get16(pushed, 20), lse);
  EXPECT_TRUE(std::equal(p.b.begin() + 18, p.b.end(), pushed.begin() + 22));
  Bytes set = sink.BytesOf(1);
  EXPECT_EQ(static_cast<uint32_t>(Get16(set, 18)) << 16 | Get16(set, 20),
            7u << 12 | 3u << 9 | 1u << 8 | 63u);
  EXPECT_EQ(sink.BytesOf(2), p.b);  // popped back to the original IPv4 packet
}

TEST_F(ExecuteTest, PushMplsOnMplsAndPopToMpls) {
  Pkt p = MakeV6(17);
  ActionBuilder b;
  b.PushMpls(htonl(2u << 12 | 1u << 8 | 64u), htons(0x8847));
  b.PushMpls(htonl(2u << 12 | 64u), htons(0x8848));
  b.Output(1);
  b.PopMpls(htons(0x8847));
  b.Output(2);
  TestSink sink;
  ExecuteActions(b.view(), ToMbuf(p.b), sink);
  ASSERT_EQ(sink.sent.size(), 2u);
  Bytes two = sink.BytesOf(0);
  ASSERT_EQ(two.size(), p.b.size() + 8);
  EXPECT_EQ(Get16(two, 12), 0x8848);
  EXPECT_EQ(Get16(two, 16), 0x2040);  // outer entry: label 2, bos clear, ttl 64
  EXPECT_EQ(Get16(two, 20), 0x2140);  // inner entry: bos set
  Bytes one = sink.BytesOf(1);
  ASSERT_EQ(one.size(), p.b.size() + 4);
  EXPECT_EQ(Get16(one, 12), 0x8847);
  EXPECT_EQ(Get16(one, 16), 0x2140);
}

TEST_F(ExecuteTest, MplsActionsOnOtherPackets) {
  Pkt p = MakeV4(17);
  ActionBuilder b;
  b.PopMpls(htons(0x0800));  // not MPLS: unchanged
  ActSetMasked s = MakeSet(SetHeader::kMpls);
  s.value.mpls.lse = htonl(0xfffff000);
  s.mask.mpls.lse = htonl(0xfffff000);
  b.SetMasked(s);  // not MPLS: unchanged
  b.Output(1);
  EXPECT_EQ(RunOne(b, p.b), p.b);

  // No complete Ethernet header: push_mpls fails and the packet is dropped.
  ActionBuilder push;
  push.PushMpls(htonl(1u << 8), htons(0x8847));
  push.Output(1);
  TestSink sink;
  ExecuteActions(push.view(), ToMbuf(Bytes(10, 0)), sink);
  EXPECT_EQ(sink.sent.size(), 0u);
  EXPECT_EQ(sink.drops, 1);
}

}  // namespace
}  // namespace sluice::dp
