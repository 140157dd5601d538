// Datapath flow text on random keys and masks, and on mutated text: what is printed reads back.
#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "datapath/flow/odp_text.h"

namespace sluice::dp {
namespace {

class RandomFlow {
 public:
  explicit RandomFlow(uint32_t seed) : rng_(seed) {}

  void Make(FlowKey* k, FlowMask* mask) {
    MakeUnmasked(k, mask);
    ApplyMask(*k, *mask, k);
  }

 private:
  void MakeUnmasked(FlowKey* k, FlowMask* mask) {
    k->Clear();
    mask->Clear();
    FlowKey& m = mask->bits;
    if (Coin()) Bytes(&k->tun_id, &m.tun_id, sizeof(k->tun_id));
    if (Coin()) Bytes(&k->tun_src, &m.tun_src, 4);
    if (Coin()) Bytes(&k->tun_dst, &m.tun_dst, 4);
    if (Coin()) Bytes(&k->recirc_id, &m.recirc_id, 4);
    if (Coin()) Bytes(&k->dp_hash, &m.dp_hash, 4);
    if (Coin()) Bytes(&k->in_port, &m.in_port, 4);
    if (Coin()) Bytes(&k->pkt_mark, &m.pkt_mark, 4);
    if (Coin()) Bytes(k->eth_src.data(), m.eth_src.data(), 6);
    if (Coin()) Bytes(k->eth_dst.data(), m.eth_dst.data(), 6);
    int vlans = Pick(3);
    for (int i = 0; i < vlans; ++i) {
      static constexpr uint16_t kTpids[] = {0x8100, 0x88a8};
      if (Coin()) {
        k->vlans[i].tpid = htons(kTpids[Pick(2)]);
        m.vlans[i].tpid = 0xffff;
      }
      uint16_t tci = static_cast<uint16_t>(rng_());
      uint16_t tm = static_cast<uint16_t>(Coin() ? 0xffff : rng_());
      k->vlans[i].tci = htons(tci);
      m.vlans[i].tci = htons(tm);
    }
    static constexpr uint16_t kEthTypes[] = {0x0800, 0x86dd, 0x0806, 0x8035, 0x88cc};
    uint16_t et = kEthTypes[Pick(5)];
    if (Pick(6) == 0) {  // eth_type wildcarded: bare ports and flags may still be matched
      if (Pick(3) == 0) Bytes(&k->tp_src, &m.tp_src, 2);
      if (Pick(3) == 0) Bytes(&k->tp_dst, &m.tp_dst, 2);
      if (Pick(3) == 0) TcpFlags(k, &m);
      return;
    }
    k->eth_type = htons(et);
    m.eth_type = 0xffff;
    if (et == 0x0800 || et == 0x86dd) {
      MakeIp(k, &m, et == 0x86dd);
    } else if (et == 0x0806 || et == 0x8035) {
      if (Coin()) Bytes(&k->nw_src, &m.nw_src, 4);
      if (Coin()) Bytes(&k->nw_dst, &m.nw_dst, 4);
      if (Coin()) Bytes(&k->nw_proto, &m.nw_proto, 1);
      if (Coin()) Bytes(k->arp_sha.data(), m.arp_sha.data(), 6);
      if (Coin()) Bytes(k->arp_tha.data(), m.arp_tha.data(), 6);
    }
    if (Pick(3) == 0) TcpFlags(k, &m);
    if (Pick(5) == 0) {  // hide the protocol: attributes are then inferred from the fields
      m.eth_type = Coin() ? 0 : htons(static_cast<uint16_t>(rng_()) & 0xfff0);
    }
  }

  bool Coin() { return rng_() & 1; }
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint32_t>(n)); }

  // Random value with a full, prefix or random mask.
  void Bytes(void* key, void* mask, size_t n) {
    auto* k = static_cast<uint8_t*>(key);
    auto* m = static_cast<uint8_t*>(mask);
    int style = Pick(3);
    size_t prefix = rng_() % (n * 8 + 1);
    for (size_t i = 0; i < n; ++i) {
      k[i] = static_cast<uint8_t>(rng_());
      if (style == 0) {
        m[i] = 0xff;
      } else if (style == 1) {
        size_t bits = prefix > i * 8 ? std::min<size_t>(8, prefix - i * 8) : 0;
        m[i] = static_cast<uint8_t>(0xff00 >> bits);
      } else {
        m[i] = static_cast<uint8_t>(rng_());
      }
    }
  }

  void MakeIp(FlowKey* k, FlowKey* m, bool v6) {
    if (v6) {
      if (Coin()) Bytes(k->ipv6_src.data(), m->ipv6_src.data(), 16);
      if (Coin()) Bytes(k->ipv6_dst.data(), m->ipv6_dst.data(), 16);
      if (Coin()) {
        k->ipv6_label = htonl(rng_() & 0xfffff);
        m->ipv6_label = htonl(Coin() ? 0xfffff : rng_() & 0xfffff);
      }
    } else {
      if (Coin()) Bytes(&k->nw_src, &m->nw_src, 4);
      if (Coin()) Bytes(&k->nw_dst, &m->nw_dst, 4);
    }
    if (Coin()) Bytes(&k->nw_tos, &m->nw_tos, 1);
    if (Coin()) Bytes(&k->nw_ttl, &m->nw_ttl, 1);
    switch (Pick(4)) {
      case 0:
        break;
      case 1:
        k->nw_frag = static_cast<uint8_t>(std::array<int, 3>{0, 1, 3}[Pick(3)]);
        m->nw_frag = 3;
        break;
      default:
        k->nw_frag = static_cast<uint8_t>(rng_() & 3);
        m->nw_frag = static_cast<uint8_t>(rng_() & 3);
        break;
    }
    static constexpr uint8_t kProtos[] = {6, 17, 132, 1, 58, 47};
    uint8_t proto = kProtos[Pick(6)];
    if (Pick(5) == 0) {  // protocol not pinned: only ports can show up
      if (Coin()) Bytes(&k->nw_proto, &m->nw_proto, 1);
      if (m->nw_proto != 0xff) {
        if (Coin()) Bytes(&k->tp_src, &m->tp_src, 2);
        if (Coin()) Bytes(&k->tp_dst, &m->tp_dst, 2);
      }
      return;
    }
    k->nw_proto = proto;
    m->nw_proto = 0xff;
    if (proto == 6 || proto == 17 || proto == 132) {
      if (Coin()) Bytes(&k->tp_src, &m->tp_src, 2);
      if (Coin()) Bytes(&k->tp_dst, &m->tp_dst, 2);
    } else if ((proto == 1 && !v6) || (proto == 58 && v6)) {
      Icmp(&k->tp_src, &m->tp_src);
      Icmp(&k->tp_dst, &m->tp_dst);
      if (v6 && Coin()) {
        if (Coin()) Bytes(k->nd_target.data(), m->nd_target.data(), 16);
        if (Coin()) Bytes(k->arp_sha.data(), m->arp_sha.data(), 6);
        if (Coin()) Bytes(k->arp_tha.data(), m->arp_tha.data(), 6);
      }
    }
  }

  void Icmp(uint16_t* k, uint16_t* m) {
    int style = Pick(3);
    if (style == 0) return;
    *k = htons(rng_() & 0xff);
    *m = style == 1 ? 0xffff : htons(static_cast<uint16_t>(1 + rng_() % 0xfe));
  }

  void TcpFlags(FlowKey* k, FlowKey* m) {
    k->tcp_flags = htons(rng_() & 0xfff);
    m->tcp_flags = htons(Coin() ? 0xfff : rng_() & 0xfff);
  }

  std::mt19937 rng_;
};

// Verbose text is exact: it reads back as the same key and mask, and prints the same again.
// Terse text (what dump-flows prints) reads back as the same match except that a VLAN level
// it leaves out becomes "no tag" (see odp_text.h), and it is a fixed point of parse + format.
TEST(OdpFlowTest, RandomRoundTrips) {
  RandomFlow gen(12345);
  for (int i = 0; i < 20000; ++i) {
    FlowKey key;
    FlowMask mask;
    gen.Make(&key, &mask);
    std::string verbose = FormatOdpFlow(key, mask, OdpVerbosity::kVerbose);
    FlowKey k2;
    FlowMask m2;
    auto r = ParseOdpFlow(verbose, &k2, &m2);
    ASSERT_TRUE(r.has_value()) << verbose << " -> " << r.error().message;
    ASSERT_EQ(m2, mask) << verbose;
    ASSERT_EQ(k2, key) << verbose;
    ASSERT_EQ(FormatOdpFlow(k2, m2, OdpVerbosity::kVerbose), verbose);

    std::string terse = FormatOdpFlow(key, mask);
    r = ParseOdpFlow(terse, &k2, &m2);
    ASSERT_TRUE(r.has_value()) << terse << " -> " << r.error().message;
    ASSERT_EQ(FormatOdpFlow(k2, m2), terse);
    FlowKey k3 = k2;
    FlowMask m3 = m2;
    for (int level : {0, 1}) {
      k3.vlans[level] = key.vlans[level];
      m3.bits.vlans[level] = mask.bits.vlans[level];
    }
    ASSERT_EQ(m3, mask) << terse;
    ASSERT_EQ(k3, key) << terse;
  }
}

// Mutated text must never crash the parser; whatever it accepts must format to text that
// parses back to the same match.
TEST(OdpFlowTest, MutatedInputsAreRejectedOrRoundTrip) {
  RandomFlow gen(99);
  std::mt19937 rng(4242);
  static constexpr char kAlphabet[] = "(),=/:.x0123456789abcdef+-| _vlanipcrt";
  int accepted = 0;
  for (int i = 0; i < 5000; ++i) {
    FlowKey key;
    FlowMask mask;
    gen.Make(&key, &mask);
    std::string text =
        FormatOdpFlow(key, mask, i % 2 ? OdpVerbosity::kVerbose : OdpVerbosity::kTerse);
    if (text.empty()) continue;
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % text.size();
      switch (rng() % 3) {
        case 0:
          text.erase(pos, 1);
          break;
        case 1:
          text.insert(pos, 1, kAlphabet[rng() % (sizeof(kAlphabet) - 1)]);
          break;
        default:
          text[pos] = kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
          break;
      }
      if (text.empty()) break;
    }
    FlowKey k1;
    FlowMask m1;
    if (!ParseOdpFlow(text, &k1, &m1)) continue;
    ++accepted;
    std::string again = FormatOdpFlow(k1, m1, OdpVerbosity::kVerbose);
    FlowKey k2;
    FlowMask m2;
    auto r = ParseOdpFlow(again, &k2, &m2);
    ASSERT_TRUE(r.has_value()) << text << " -> " << again << " -> " << r.error().message;
    EXPECT_EQ(m2, m1) << text << " -> " << again;
    EXPECT_EQ(k2, k1) << text << " -> " << again;
    EXPECT_EQ(FormatOdpFlow(k2, m2, OdpVerbosity::kVerbose), again) << text;
  }
  EXPECT_GT(accepted, 100);
}

}  // namespace
}  // namespace sluice::dp
