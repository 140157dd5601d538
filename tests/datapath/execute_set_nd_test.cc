// Executing masked set actions on ARP, ICMP/ICMPv6 and IPv6 neighbour discovery (target and
// link-layer address options), checksums re-derived from scratch.
#include "datapath/actions/execute.h"

#include <random>

#include <gtest/gtest.h>

#include "datapath/execute_test_util.h"

namespace sluice::dp {
namespace {

using namespace exec_test;  // NOLINT: the shared builders and fixture

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

}  // namespace
}  // namespace sluice::dp
