// Executing datapath actions: output, userspace, recirc and drop (mbuf hand-over and copies), VLAN
// push/pop and MPLS push/pop/set, on real mbufs.
#include "datapath/actions/execute.h"

#include <gtest/gtest.h>

#include "datapath/execute_test_util.h"

namespace sluice::dp {
namespace {

using namespace exec_test;  // NOLINT: the shared builders and fixture

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
