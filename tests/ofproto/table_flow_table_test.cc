#include <gtest/gtest.h>

#include "ofproto/table/flow_table.h"

namespace sluice::ofp {
namespace {

using F = OxmField;

Match Ipv4Dst(uint32_t addr, uint32_t mask = 0xffffffff) {
  Match m;
  m.Set(OxmEntry::Exact(F::kEthType, 0x0800));
  if (mask == 0xffffffff) {
    m.Set(OxmEntry::Exact(F::kIpv4Dst, addr));
  } else {
    m.Set(OxmEntry::Masked(F::kIpv4Dst, addr & mask, mask));
  }
  return m;
}

FieldValues Pkt(uint32_t dst) {
  FieldValues p;
  p.Set(F::kEthType, 0x0800);
  p.Set(F::kIpv4Dst, dst);
  return p;
}

InstructionList Output(uint32_t port) { return {InstApplyActions{{ActOutput{port}}}}; }

FlowMod Mod(FlowModCommand cmd, const Match& m, uint16_t priority = 100, uint8_t table = 0) {
  FlowMod fm;
  fm.command = cmd;
  fm.match = m;
  fm.priority = priority;
  fm.table_id = table;
  return fm;
}

FlowMod Add(const Match& m, uint16_t priority, InstructionList insts = {}, uint64_t cookie = 0) {
  FlowMod fm = Mod(FlowModCommand::kAdd, m, priority);
  fm.instructions = std::move(insts);
  fm.cookie = cookie;
  return fm;
}

class TableFlowTable : public ::testing::Test {
 protected:
  std::vector<RemovedRule> Apply(const FlowMod& fm, int64_t now = 0) {
    auto r = p_.ApplyFlowMod(fm, now);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().detail);
    return r ? *r : std::vector<RemovedRule>{};
  }
  OfpErr ApplyErr(const FlowMod& fm) {
    auto r = p_.ApplyFlowMod(fm, 0);
    EXPECT_FALSE(r.has_value());
    return r ? OfpErr::kFlowModUnknown : r.error().err;
  }
  const Rule* Look(uint32_t dst, uint8_t table = 0) {
    return p_.table(table)->Lookup(Pkt(dst), p_.version());
  }
  size_t Count(uint8_t table = 0) { return p_.table(table)->active_count(); }

  Pipeline p_;
};

TEST_F(TableFlowTable, AddLookupAndTableMiss) {
  EXPECT_EQ(p_.n_tables(), 255u);
  EXPECT_EQ(Look(0x0a000001), nullptr);  // no table-miss rule: no match, drop
  Apply(Add(Match{}, 0, Output(kPortController)));
  Apply(Add(Ipv4Dst(0x0a000000, 0xff000000), 10, Output(1)));
  Apply(Add(Ipv4Dst(0x0a000001), 20, Output(2)));
  EXPECT_EQ(Look(0x0a000001)->priority, 20);
  EXPECT_EQ(Look(0x0a000002)->priority, 10);
  EXPECT_EQ(Look(0x0b000002)->priority, 0);
  EXPECT_EQ(Look(0x0a000002)->table_id, 0);
  TableStats s = p_.TableStatsQuery().entries[0];
  EXPECT_EQ(s.active_count, 3u);
  EXPECT_EQ(s.lookup_count, 5u);
  EXPECT_EQ(s.matched_count, 4u);
  EXPECT_EQ(p_.TableStatsQuery().entries.size(), 255u);
}

TEST_F(TableFlowTable, AddReplacesIdenticalKeepingCounters) {
  Apply(Add(Ipv4Dst(1), 10, Output(1)), 1000);
  const Rule* first = Look(1);
  first->AddStats(3, 300, 1500);
  // The same match written differently (a full mask) is still identical.
  Match same;
  same.Set(OxmEntry::Exact(F::kEthType, 0x0800));
  same.Set(OxmEntry::Masked(F::kIpv4Dst, 1, 0xffffffff));
  EXPECT_TRUE(Apply(Add(same, 10, Output(2)), 5000).empty());  // no FLOW_REMOVED
  EXPECT_EQ(Count(), 1u);
  const Rule* r = Look(1);
  EXPECT_NE(r, first);
  EXPECT_EQ(r->instructions, Output(2));
  EXPECT_EQ(r->packet_count(), 3u);
  EXPECT_EQ(r->byte_count(), 300u);
  EXPECT_EQ(r->created_ms, 5000);  // duration restarts
  // A late stats push for the replaced rule is not lost.
  first->AddStats(1, 100, 5100);
  EXPECT_EQ(r->packet_count(), 4u);
  // A different priority is a different rule.
  Apply(Add(Ipv4Dst(1), 11, Output(3)));
  EXPECT_EQ(Count(), 2u);
}

TEST_F(TableFlowTable, AddWithResetCounts) {
  Apply(Add(Ipv4Dst(1), 10, Output(1)));
  Look(1)->AddStats(3, 300, 1);
  FlowMod fm = Add(Ipv4Dst(1), 10, Output(2));
  fm.flags = kFlowResetCounts;
  Apply(fm);
  EXPECT_EQ(Look(1)->packet_count(), 0u);
  EXPECT_EQ(Look(1)->flags, kFlowResetCounts);
}

TEST_F(TableFlowTable, CheckOverlap) {
  Apply(Add(Ipv4Dst(0x0a000000, 0xff000000), 10));
  FlowMod fm = Add(Ipv4Dst(0x0a010000, 0xffff0000), 10);
  fm.flags = kFlowCheckOverlap;
  EXPECT_EQ(ApplyErr(fm), OfpErr::kFlowModOverlap);
  EXPECT_EQ(Count(), 1u);
  fm.priority = 11;  // other priority: no overlap
  Apply(fm);
  FlowMod disjoint = Add(Ipv4Dst(0x0b000000, 0xff000000), 10);
  disjoint.flags = kFlowCheckOverlap;
  Apply(disjoint);
  FlowMod identical = Add(Ipv4Dst(0x0a000000, 0xff000000), 10);
  identical.flags = kFlowCheckOverlap;
  EXPECT_EQ(ApplyErr(identical), OfpErr::kFlowModOverlap);
  // A different field entirely overlaps too: some packet has both.
  Match tcp;
  tcp.Set(OxmEntry::Exact(F::kInPort, 3));
  FlowMod other = Add(tcp, 10);
  other.flags = kFlowCheckOverlap;
  EXPECT_EQ(ApplyErr(other), OfpErr::kFlowModOverlap);
  EXPECT_EQ(Count(), 3u);
}

TEST_F(TableFlowTable, BadTableAndCommand) {
  FlowMod fm = Add(Match{}, 0);
  fm.table_id = kTableAll;
  EXPECT_EQ(ApplyErr(fm), OfpErr::kFlowModBadTableId);
  fm.command = FlowModCommand::kModify;
  EXPECT_EQ(ApplyErr(fm), OfpErr::kFlowModBadTableId);
  fm.command = FlowModCommand::kDelete;  // OFPTT_ALL is fine for delete
  Apply(fm);
  fm.command = static_cast<FlowModCommand>(9);
  fm.table_id = 0;
  EXPECT_EQ(ApplyErr(fm), OfpErr::kFlowModBadCommand);

  Pipeline small(4);
  FlowMod add = Add(Match{}, 0);
  add.table_id = 4;
  EXPECT_EQ(small.ApplyFlowMod(add, 0).error().err, OfpErr::kFlowModBadTableId);
  add.table_id = 2;
  add.instructions = {InstGotoTable{4}};
  EXPECT_EQ(small.ApplyFlowMod(add, 0).error().err, OfpErr::kBadInstBadTableId);
  add.instructions = {InstGotoTable{3}};
  EXPECT_TRUE(small.ApplyFlowMod(add, 0).has_value());
  FlowStatsFilter bad;
  bad.table_id = 9;
  EXPECT_EQ(small.FlowStatsQuery(bad, 0).error().err, OfpErr::kBadRequestBadTableId);
}

TEST_F(TableFlowTable, TableFull) {
  p_.table(0)->set_max_rules(1);
  Apply(Add(Ipv4Dst(1), 10));
  EXPECT_EQ(ApplyErr(Add(Ipv4Dst(2), 10)), OfpErr::kFlowModTableFull);
  Apply(Add(Ipv4Dst(1), 10, Output(1)));  // replacing needs no room
}

TEST_F(TableFlowTable, ModifyNonStrictAndStrict) {
  Apply(Add(Ipv4Dst(0x0a000001), 10, Output(1), 0x11), 1000);
  Apply(Add(Ipv4Dst(0x0a000002), 20, Output(1), 0x12));
  Apply(Add(Ipv4Dst(0x0b000001), 10, Output(1), 0x21));
  Look(0x0a000001)->AddStats(5, 500, 1);

  // Non-strict: every rule at least as specific as 10.0.0.0/8, any priority.
  FlowMod m = Mod(FlowModCommand::kModify, Ipv4Dst(0x0a000000, 0xff000000));
  m.instructions = Output(7);
  EXPECT_TRUE(Apply(m, 9000).empty());
  EXPECT_EQ(Look(0x0a000001)->instructions, Output(7));
  EXPECT_EQ(Look(0x0a000002)->instructions, Output(7));
  EXPECT_EQ(Look(0x0b000001)->instructions, Output(1));
  // Cookie, counters, duration and flags are left alone.
  EXPECT_EQ(Look(0x0a000001)->cookie, 0x11u);
  EXPECT_EQ(Look(0x0a000001)->packet_count(), 5u);
  EXPECT_EQ(Look(0x0a000001)->created_ms, 1000);
  EXPECT_EQ(Count(), 3u);

  // A less specific rule is not matched by a more specific request.
  FlowMod narrow = Mod(FlowModCommand::kModify, Ipv4Dst(0x0a000001));
  Apply(Add(Ipv4Dst(0x0a000000, 0xff000000), 5, Output(1)));
  narrow.instructions = Output(8);
  Apply(narrow);
  EXPECT_EQ(Look(0x0a000001)->instructions, Output(8));
  EXPECT_EQ(Look(0x0a000009)->instructions, Output(1));

  // Strict needs the exact match and priority.
  FlowMod s = Mod(FlowModCommand::kModifyStrict, Ipv4Dst(0x0a000002), 19);
  s.instructions = Output(9);
  Apply(s);
  EXPECT_EQ(Look(0x0a000002)->instructions, Output(7));
  s.priority = 20;
  Apply(s);
  EXPECT_EQ(Look(0x0a000002)->instructions, Output(9));

  // Modify of nothing adds nothing (OpenFlow 1.3).
  FlowMod none = Mod(FlowModCommand::kModify, Ipv4Dst(0x0c000000));
  Apply(none);
  EXPECT_EQ(Count(), 4u);

  // RESET_COUNTS on modify clears the counters.
  FlowMod reset = Mod(FlowModCommand::kModifyStrict, Ipv4Dst(0x0a000001), 10);
  reset.flags = kFlowResetCounts;
  Apply(reset);
  EXPECT_EQ(Look(0x0a000001)->packet_count(), 0u);
}

TEST_F(TableFlowTable, ModifyCookieMask) {
  Apply(Add(Ipv4Dst(1), 10, Output(1), 0xab01));
  Apply(Add(Ipv4Dst(2), 10, Output(1), 0xac01));
  FlowMod m = Mod(FlowModCommand::kModify, Match{});
  m.cookie = 0xab00;
  m.cookie_mask = 0xff00;
  m.instructions = Output(5);
  Apply(m);
  EXPECT_EQ(Look(1)->instructions, Output(5));
  EXPECT_EQ(Look(2)->instructions, Output(1));
}

TEST_F(TableFlowTable, DeleteFilters) {
  Apply(Add(Ipv4Dst(1), 10, {InstWriteActions{{ActOutput{1}}}}, 0x1));
  Apply(Add(Ipv4Dst(2), 10, Output(2), 0x2));
  Apply(Add(Ipv4Dst(3), 10, {InstApplyActions{{ActGroup{7}}}}, 0x3));
  Apply(Add(Ipv4Dst(4), 30, Output(2), 0x4));

  // out_port: write-actions count as well as apply-actions.
  FlowMod d = Mod(FlowModCommand::kDelete, Match{});
  d.out_port = 1;
  auto removed = Apply(d);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].rule->cookie, 0x1u);
  EXPECT_EQ(removed[0].reason, FlowRemovedReason::kDelete);

  d.out_port = kPortAny;
  d.out_group = 7;
  removed = Apply(d);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].rule->cookie, 0x3u);

  // Cookie mask.
  d.out_group = kGroupAny;
  d.cookie = 0x4;
  d.cookie_mask = 0xf;
  removed = Apply(d);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].rule->priority, 30);
  EXPECT_EQ(Count(), 1u);

  // Strict: priority must agree.
  FlowMod ds = Mod(FlowModCommand::kDeleteStrict, Ipv4Dst(2), 11);
  EXPECT_TRUE(Apply(ds).empty());
  ds.priority = 10;
  ds.out_port = 3;  // filters apply to strict deletes too
  EXPECT_TRUE(Apply(ds).empty());
  ds.out_port = 2;
  EXPECT_EQ(Apply(ds).size(), 1u);
  EXPECT_EQ(Count(), 0u);
}

TEST_F(TableFlowTable, DeleteNonStrictAndAllTables) {
  Apply(Add(Ipv4Dst(0x0a000001), 10));
  Apply(Add(Ipv4Dst(0x0a000000, 0xffff0000), 10));
  Apply(Add(Ipv4Dst(0x0a000000, 0xff000000), 10));
  FlowMod other = Add(Ipv4Dst(0x0a000001), 10);
  other.table_id = 5;
  Apply(other);
  // 10.0.0.0/16 selects the /32 and the /16, not the wider /8.
  FlowMod d = Mod(FlowModCommand::kDelete, Ipv4Dst(0x0a000000, 0xffff0000));
  EXPECT_EQ(Apply(d).size(), 2u);
  EXPECT_EQ(Count(), 1u);
  EXPECT_EQ(Count(5), 1u);
  FlowMod all = Mod(FlowModCommand::kDelete, Match{});
  all.table_id = kTableAll;
  auto removed = Apply(all);
  ASSERT_EQ(removed.size(), 2u);
  EXPECT_EQ(removed[1].rule->table_id, 5);
  EXPECT_EQ(Count() + Count(5), 0u);
}

TEST_F(TableFlowTable, Timeouts) {
  FlowMod hard = Add(Ipv4Dst(1), 10);
  hard.hard_timeout = 10;
  hard.flags = kFlowSendFlowRem;
  Apply(hard, 1000);
  FlowMod idle = Add(Ipv4Dst(2), 10);
  idle.idle_timeout = 5;
  Apply(idle, 1000);
  Apply(Add(Ipv4Dst(3), 10), 1000);  // permanent

  EXPECT_TRUE(p_.Expire(5999).empty());
  Look(2)->AddStats(1, 64, 4000);  // used: idle clock restarts
  EXPECT_TRUE(p_.Expire(8999).empty());
  auto removed = p_.Expire(9000);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].reason, FlowRemovedReason::kIdleTimeout);
  EXPECT_EQ(removed[0].rule->idle_timeout, 5);
  removed = p_.Expire(11000);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].reason, FlowRemovedReason::kHardTimeout);
  FlowRemoved fr = removed[0].rule->ToFlowRemoved(removed[0].reason, 11500);
  EXPECT_EQ(fr.duration_sec, 10u);
  EXPECT_EQ(fr.duration_nsec, 500000000u);
  EXPECT_EQ(fr.hard_timeout, 10);
  EXPECT_EQ(fr.match, NormalizeMatch(Ipv4Dst(1)));
  EXPECT_TRUE(removed[0].rule->flags & kFlowSendFlowRem);
  EXPECT_TRUE(p_.Expire(1000000).empty());
  EXPECT_EQ(Count(), 1u);
}

TEST_F(TableFlowTable, VersionedVisibility) {
  Apply(Add(Ipv4Dst(1), 10, Output(1)));
  Version v1 = p_.version();
  FlowMod m = Mod(FlowModCommand::kModify, Ipv4Dst(1));
  m.instructions = Output(2);
  Apply(m);
  Version v2 = p_.version();
  Apply(Mod(FlowModCommand::kDelete, Match{}));
  Version v3 = p_.version();
  FlowTable& t = *p_.table(0);
  EXPECT_EQ(t.Lookup(Pkt(1), v1 - 1), nullptr);
  EXPECT_EQ(t.Lookup(Pkt(1), v1)->instructions, Output(1));
  EXPECT_EQ(t.Lookup(Pkt(1), v2)->instructions, Output(2));
  EXPECT_EQ(t.Lookup(Pkt(1), v3), nullptr);
  EXPECT_EQ(t.classifier().size(), 2u);  // old versions kept for readers
  p_.Purge(v2);                          // readers at >= v2: v1's rule can go
  EXPECT_EQ(t.classifier().size(), 1u);
  EXPECT_EQ(t.Lookup(Pkt(1), v2)->instructions, Output(2));
  p_.Purge(v3);
  EXPECT_EQ(t.classifier().size(), 0u);
}

TEST_F(TableFlowTable, FlowAndAggregateStats) {
  Apply(Add(Ipv4Dst(1), 10, Output(1), 0x10), 1000);
  Apply(Add(Ipv4Dst(2), 20, Output(2), 0x20), 1000);
  FlowMod other = Add(Ipv4Dst(0x0a000000, 0xff000000), 10, Output(1), 0x10);
  other.table_id = 3;
  Apply(other, 2000);
  Look(1)->AddStats(2, 200, 1500);
  Look(2)->AddStats(3, 300, 1500);

  FlowStatsFilter all;
  auto fs = p_.FlowStatsQuery(all, 3500);
  ASSERT_TRUE(fs.has_value());
  ASSERT_EQ(fs->entries.size(), 3u);
  EXPECT_EQ(fs->entries[0].priority, 20);  // table 0 first, by priority
  EXPECT_EQ(fs->entries[0].duration_sec, 2u);
  EXPECT_EQ(fs->entries[0].duration_nsec, 500000000u);
  EXPECT_EQ(fs->entries[0].packet_count, 3u);
  EXPECT_EQ(fs->entries[0].instructions, Output(2));
  EXPECT_EQ(fs->entries[2].table_id, 3);

  FlowStatsFilter f;
  f.out_port = 1;
  auto agg = p_.AggregateQuery(f);
  EXPECT_EQ(agg->flow_count, 2u);
  EXPECT_EQ(agg->packet_count, 2u);
  EXPECT_EQ(agg->byte_count, 200u);
  f = {};
  f.table_id = 0;
  f.cookie = 0x20;
  f.cookie_mask = 0xff;
  EXPECT_EQ(p_.AggregateQuery(f)->flow_count, 1u);
  f = {};
  f.match = Ipv4Dst(0x00000000, 0xffffff00);  // covers 0.0.0.1 and 0.0.0.2, not 10/8
  EXPECT_EQ(p_.FlowStatsQuery(f, 0)->entries.size(), 2u);
}

TEST_F(TableFlowTable, UnwildcardThroughTable) {
  Apply(Add(Ipv4Dst(0x0a000000, 0xff000000), 10));
  FieldMask wc;
  ASSERT_NE(p_.table(0)->Lookup(Pkt(0x0a000001), p_.version(), &wc), nullptr);
  FieldMask want;
  want.SetFieldAllOnes(F::kEthType);
  want.Set(F::kIpv4Dst, 0xff000000);
  EXPECT_EQ(wc, want);
}

}  // namespace
}  // namespace sluice::ofp
