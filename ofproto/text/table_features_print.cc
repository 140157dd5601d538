// OFPMP_TABLE_FEATURES printed as ovs-ofctl dump-table-features prints it: each table's
// metadata, max_entries, instructions (miss and non-miss, "(same ...)" against the previous
// table), actions, set-field and match capabilities, and runs of tables identical to the one
// before them folded into "tables A...B: ditto".
//
// Names and order follow Open vSwitch's (its field and action identifiers, NXM and experimenter
// fields included, so that a real Open vSwitch's reply prints as ovs-ofctl prints it), since
// scripts compare this text: ip_src not ipv4_src, nw_proto not ip_proto, strip_vlan not
// pop_vlan. Like ovs-ofctl, fields and actions Open vSwitch has no name for (in_phy_port,
// pbb_isid, ipv6_exthdr; copy_ttl_in/out, push/pop_pbb) are not listed.
#include <fmt/format.h>

#include <algorithm>
#include <bitset>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "ofproto/codec/actions.h"
#include "ofproto/codec/oxm.h"
#include "ofproto/text/ofp_text.h"

namespace sluice::ofp::text {
namespace {

using P = TableFeaturePropType;

// Open vSwitch's fields: every code point (OXM, NXM, experimenter OXM) it knows a field by.
struct OvsFieldCode {
  std::string_view name;
  uint16_t oxm_class;
  uint8_t field;
  uint32_t experimenter;
};
constexpr OvsFieldCode kOvsFieldCodes[] = {
#include "ofproto/text/ovs_fields.inc"
};

constexpr size_t kMaxFields = 256;
using FieldSet = std::bitset<kMaxFields>;

// Field names in Open vSwitch's order, and code point -> position in it.
struct FieldTable {
  std::vector<std::string_view> names;
  std::map<std::tuple<uint16_t, uint8_t, uint32_t>, size_t> index;
  FieldTable() {
    for (const OvsFieldCode& c : kOvsFieldCodes) {
      if (names.empty() || names.back() != c.name) names.push_back(c.name);
      index[{c.oxm_class, c.field, c.experimenter}] = names.size() - 1;
    }
  }
};
const FieldTable& Fields() {
  static const FieldTable t;
  return t;
}

// Fields Open vSwitch has no name for are not listed, as ovs-ofctl does not list them.
std::optional<size_t> FieldIndex(const OxmId& id) {
  auto cls = static_cast<uint16_t>(id.header >> 16);
  auto field = static_cast<uint8_t>((id.header >> 9) & 0x7f);
  uint32_t exp = cls == 0xffff ? id.experimenter : 0;
  const auto& idx = Fields().index;
  auto it = idx.find({cls, field, exp});
  if (it == idx.end() || it->second >= kMaxFields) return std::nullopt;
  return it->second;
}

// Open vSwitch's action names, in its order, for the OpenFlow 1.3 action types.
struct ActionName {
  ActionType type;
  std::string_view name;
};
constexpr ActionName kActionNames[] = {
    {ActionType::kOutput, "output"},           {ActionType::kGroup, "group"},
    {ActionType::kSetField, "set_field"},      {ActionType::kPopVlan, "strip_vlan"},
    {ActionType::kPushVlan, "push_vlan"},      {ActionType::kSetNwTtl, "mod_nw_ttl"},
    {ActionType::kDecNwTtl, "dec_ttl"},        {ActionType::kSetMplsTtl, "set_mpls_ttl"},
    {ActionType::kDecMplsTtl, "dec_mpls_ttl"}, {ActionType::kPushMpls, "push_mpls"},
    {ActionType::kPopMpls, "pop_mpls"},        {ActionType::kSetQueue, "set_queue"},
};

// Instruction names in Open vSwitch's order.
struct InstName {
  InstructionType type;
  std::string_view name;
};
constexpr InstName kInstNames[] = {
    {InstructionType::kMeter, "meter"},
    {InstructionType::kApplyActions, "apply_actions"},
    {InstructionType::kClearActions, "clear_actions"},
    {InstructionType::kWriteActions, "write_actions"},
    {InstructionType::kWriteMetadata, "write_metadata"},
    {InstructionType::kGotoTable, "goto_table"},
};

struct ActionFeatures {
  uint32_t actions = 0;  // bit i: kActionNames[i]
  FieldSet set_fields;
  bool operator==(const ActionFeatures&) const = default;
  bool empty() const { return !actions && set_fields.none(); }
};

struct InstructionFeatures {
  std::bitset<256> next;
  uint32_t instructions = 0;  // bit i: kInstNames[i]
  ActionFeatures write, apply;
  bool empty() const { return next.none() && !instructions && write.empty() && apply.empty(); }
};

struct Features {
  int table_id = 0;
  std::string name;
  uint64_t metadata_match = 0, metadata_write = 0;
  uint32_t max_entries = 0;
  InstructionFeatures nonmiss, miss;
  FieldSet match, mask, wildcard;
};

uint32_t ActionBits(const std::vector<FeatureId>& ids) {
  uint32_t bits = 0;
  for (const FeatureId& id : ids) {
    for (size_t i = 0; i < std::size(kActionNames); ++i) {
      if (static_cast<uint16_t>(kActionNames[i].type) == id.type) bits |= 1u << i;
    }
  }
  return bits;
}

uint32_t InstructionBits(const std::vector<FeatureId>& ids) {
  uint32_t bits = 0;
  for (const FeatureId& id : ids) {
    for (size_t i = 0; i < std::size(kInstNames); ++i) {
      if (static_cast<uint16_t>(kInstNames[i].type) == id.type) bits |= 1u << i;
    }
  }
  return bits;
}

FieldSet Fields(const std::vector<OxmId>& oxms, FieldSet* masked = nullptr) {
  FieldSet s;
  for (const OxmId& id : oxms) {
    if (auto i = FieldIndex(id)) {
      s.set(*i);
      if (masked && (id.header & 0x100)) masked->set(*i);
    }
  }
  return s;
}

// A missing _MISS property means the same as its non-miss counterpart (as Open vSwitch reads
// it).
Features Decode(const TableFeatures& tf) {
  Features f;
  f.table_id = tf.table_id;
  f.name = tf.name;
  f.metadata_match = tf.metadata_match;
  f.metadata_write = tf.metadata_write;
  f.max_entries = tf.max_entries;
  uint32_t seen = 0;
  for (const TableFeatureProp& p : tf.properties) {
    auto t = static_cast<uint16_t>(p.type);
    if (t < 32) seen |= 1u << t;
    switch (p.type) {
      case P::kInstructions:
        f.nonmiss.instructions = InstructionBits(p.ids);
        break;
      case P::kInstructionsMiss:
        f.miss.instructions = InstructionBits(p.ids);
        break;
      case P::kNextTables:
      case P::kNextTablesMiss: {
        auto& next = p.type == P::kNextTables ? f.nonmiss.next : f.miss.next;
        for (uint8_t n : p.tables) next.set(n);
        break;
      }
      case P::kWriteActions:
        f.nonmiss.write.actions = ActionBits(p.ids);
        break;
      case P::kWriteActionsMiss:
        f.miss.write.actions = ActionBits(p.ids);
        break;
      case P::kApplyActions:
        f.nonmiss.apply.actions = ActionBits(p.ids);
        break;
      case P::kApplyActionsMiss:
        f.miss.apply.actions = ActionBits(p.ids);
        break;
      case P::kWriteSetfield:
        f.nonmiss.write.set_fields = Fields(p.oxms);
        break;
      case P::kWriteSetfieldMiss:
        f.miss.write.set_fields = Fields(p.oxms);
        break;
      case P::kApplySetfield:
        f.nonmiss.apply.set_fields = Fields(p.oxms);
        break;
      case P::kApplySetfieldMiss:
        f.miss.apply.set_fields = Fields(p.oxms);
        break;
      case P::kMatch:
        f.match = Fields(p.oxms, &f.mask);
        break;
      case P::kWildcards:
        f.wildcard = Fields(p.oxms);
        break;
      default:
        break;
    }
  }
  auto missing = [&](P p) { return !(seen & (1u << static_cast<uint16_t>(p))); };
  if (missing(P::kInstructionsMiss)) f.miss.instructions = f.nonmiss.instructions;
  if (missing(P::kNextTablesMiss)) f.miss.next = f.nonmiss.next;
  if (missing(P::kWriteActionsMiss)) f.miss.write.actions = f.nonmiss.write.actions;
  if (missing(P::kApplyActionsMiss)) f.miss.apply.actions = f.nonmiss.apply.actions;
  if (missing(P::kWriteSetfieldMiss)) f.miss.write.set_fields = f.nonmiss.write.set_fields;
  if (missing(P::kApplySetfieldMiss)) f.miss.apply.set_fields = f.nonmiss.apply.set_fields;
  return f;
}

// Next-table sets of consecutive tables are equal when they differ only in the later table
// itself (a table cannot go to itself or back), as Open vSwitch compares them.
bool NextEqual(const std::bitset<256>& a, int a_id, const std::bitset<256>& b, int b_id) {
  if (b_id == a_id + 1 && a.test(b_id) && !b.test(b_id)) {
    std::bitset<256> x = a;
    x.reset(b_id);
    return x == b;
  }
  if (a_id == b_id + 1) return NextEqual(b, b_id, a, a_id);
  return a == b;
}

bool InstEqual(const InstructionFeatures& a, int a_id, const InstructionFeatures& b, int b_id) {
  return NextEqual(a.next, a_id, b.next, b_id) && a.instructions == b.instructions &&
         a.write == b.write && a.apply == b.apply;
}

bool FeaturesEqual(const Features& a, const Features& b) {
  return a.metadata_match == b.metadata_match && a.metadata_write == b.metadata_write &&
         a.max_entries == b.max_entries &&
         InstEqual(a.nonmiss, a.table_id, b.nonmiss, b.table_id) &&
         InstEqual(a.miss, a.table_id, b.miss, b.table_id) && a.match == b.match;
}

// The longest prefix ending in '_' that a and b share (0 for none).
size_t CommonPrefix(std::string_view a, std::string_view b) {
  size_t len = 0;
  for (size_t i = 0; i < a.size() && i < b.size() && a[i] == b[i]; ++i) {
    if (a[i] == '_') len = i + 1;
  }
  return len;
}

// "reg3" then "reg4": the same but for a number one larger at the end.
bool Sequential(std::string_view a, std::string_view b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  std::string_view x = a.substr(i), y = b.substr(i);
  auto digits = [](std::string_view d) {
    return !d.empty() && d.size() < 10 &&
           d.find_first_not_of("0123456789") == std::string_view::npos;
  };
  if (!digits(x) || !digits(y)) return false;
  return std::stoul(std::string(x)) + 1 == std::stoul(std::string(y));
}

// Names (past `skip` bytes they all share) as Open vSwitch abbreviates them: a run of
// neighbours with a common prefix ending in '_' folded, recursively, into "eth_{src,dst}", and
// numbered runs of three or more into "reg0...reg15" (a numbered run wins a tie).
void PrintNames(std::string& s, std::span<const std::string_view> ids, size_t skip) {
  bool first = true;
  while (!ids.empty()) {
    if (!first) s += skip ? ',' : ' ';
    first = false;
    size_t prefix_run = 1, extra = 0;
    if (ids.size() >= 2) extra = CommonPrefix(ids[0].substr(skip), ids[1].substr(skip));
    if (extra) {
      prefix_run = 2;
      while (prefix_run < ids.size()) {
        size_t next = CommonPrefix(ids[0].substr(skip), ids[prefix_run].substr(skip));
        if (!next) break;
        extra = std::min(extra, next);
        ++prefix_run;
      }
    }
    size_t suffix_run = 1;
    while (suffix_run < ids.size() && Sequential(ids[suffix_run - 1], ids[suffix_run])) {
      ++suffix_run;
    }
    if (suffix_run == 2) suffix_run = 1;  // "x0...x1" is worse than "x0 x1"
    size_t run = std::max(prefix_run, suffix_run);
    if (suffix_run >= prefix_run) {
      s += ids[0].substr(skip);
      if (run > 1) {
        s += "...";
        s += ids[run - 1].substr(skip);
      }
    } else {
      s += ids[0].substr(skip, extra);
      s += '{';
      PrintNames(s, ids.first(run), skip + extra);
      s += '}';
    }
    ids = ids.subspan(run);
  }
}

std::string FieldList(const FieldSet& set) {
  std::vector<std::string_view> names;
  const auto& all = Fields().names;
  for (size_t i = 0; i < all.size() && i < kMaxFields; ++i) {
    if (set.test(i)) names.push_back(all[i]);
  }
  std::string out;
  PrintNames(out, names, 0);
  return out;
}

void PrintActionFeatures(std::string& s, const ActionFeatures& a) {
  if (a.actions) {
    s += "        actions:";
    for (size_t i = 0; i < std::size(kActionNames); ++i) {
      if (a.actions & (1u << i)) s += fmt::format(" {}", kActionNames[i].name);
    }
    s += '\n';
  }
  if (a.set_fields.any()) s += "        supported on Set-Field: " + FieldList(a.set_fields) + "\n";
}

void PrintInstructionFeatures(std::string& s, const InstructionFeatures& t,
                              const InstructionFeatures* prev) {
  if (t.next.any()) {
    std::string ranges;
    for (int start = 0; start < 255; ++start) {
      if (!t.next.test(start)) continue;
      int end = start + 1;
      while (end < 255 && t.next.test(end)) ++end;
      if (!ranges.empty()) ranges += ',';
      ranges += end == start + 1 ? fmt::format("{}", start) : fmt::format("{}-{}", start, end - 1);
      start = end;
    }
    s += "      next tables: " + (ranges.empty() ? std::string("none") : ranges) + "\n";
  }
  if (t.instructions) {
    if (prev && prev->instructions == t.instructions) {
      s += "      (same instructions)\n";
    } else {
      s += "      instructions:";
      for (size_t i = 0; i < std::size(kInstNames); ++i) {
        if (t.instructions & (1u << i)) s += fmt::format(" {}", kInstNames[i].name);
      }
      s += '\n';
    }
  }
  if (prev && t.write == prev->write && t.apply == prev->apply && t.write.set_fields.any()) {
    s += "      (same actions)\n";
  } else if (!(t.write == t.apply)) {
    s += "      Write-Actions features:\n";
    PrintActionFeatures(s, t.write);
    s += "      Apply-Actions features:\n";
    PrintActionFeatures(s, t.apply);
  } else if (!t.write.empty()) {
    s += "      Write-Actions and Apply-Actions features:\n";
    PrintActionFeatures(s, t.write);
  }
}

void PrintTable(std::string& s, const Features& f, const Features* prev, bool same) {
  s += fmt::format("\n  table {}", f.table_id);
  if (!f.name.empty()) s += fmt::format(" (\"{}\")", f.name);
  s += ':';
  if (same) {
    s += " ditto";
    return;
  }
  s += '\n';
  if (f.metadata_match || f.metadata_write) {
    s += fmt::format("    metadata: match={:#x} write={:#x}\n", f.metadata_match, f.metadata_write);
  }
  if (f.max_entries) s += fmt::format("    max_entries={}\n", f.max_entries);
  const InstructionFeatures* prev_nonmiss = prev ? &prev->nonmiss : nullptr;
  const InstructionFeatures* prev_miss = prev ? &prev->miss : nullptr;
  if (prev && InstEqual(f.nonmiss, f.table_id, *prev_nonmiss, prev->table_id) &&
      InstEqual(f.miss, f.table_id, *prev_miss, prev->table_id)) {
    if (!f.nonmiss.empty()) s += "    (same instructions)\n";
  } else if (!InstEqual(f.nonmiss, f.table_id, f.miss, f.table_id)) {
    s += "    instructions (other than table miss):\n";
    PrintInstructionFeatures(s, f.nonmiss, prev_nonmiss);
    s += "    instructions (table miss):\n";
    PrintInstructionFeatures(s, f.miss, prev_miss);
  } else if (!f.nonmiss.empty()) {
    s += "    instructions (table miss and others):\n";
    PrintInstructionFeatures(s, f.nonmiss, prev_nonmiss);
  }
  if (f.match.any()) {
    if (prev && prev->match == f.match) {
      s += "    (same matching)\n";
    } else {
      s += "    matching:\n";
      FieldSet masked = f.match & f.mask;
      FieldSet wild = f.match & f.wildcard & ~f.mask;
      FieldSet exact = f.match & ~f.wildcard & ~f.mask;
      if (masked.any()) s += "      arbitrary mask: " + FieldList(masked) + "\n";
      if (wild.any()) s += "      exact match or wildcard: " + FieldList(wild) + "\n";
      if (exact.any()) s += "      must exact match: " + FieldList(exact) + "\n";
    }
  }
}

void FinishDitto(std::string& s, int first, int last) {
  if (first < 0) return;
  if (first == last) {
    s += fmt::format("\n  table {}: ditto\n", first);
  } else {
    s += fmt::format("\n  tables {}...{}: ditto\n", first, last);
  }
}

}  // namespace

std::string FormatTableFeatures(const std::vector<TableFeatures>& tables) {
  std::string s;
  std::optional<Features> prev;
  int first_ditto = -1, last_ditto = -1;
  for (const TableFeatures& tf : tables) {
    Features f = Decode(tf);
    bool same = prev && FeaturesEqual(f, *prev);
    if (same && f.name.empty()) {
      if (first_ditto < 0) first_ditto = f.table_id;
      last_ditto = f.table_id;
    } else {
      FinishDitto(s, first_ditto, last_ditto);
      first_ditto = -1;
      PrintTable(s, f, prev ? &*prev : nullptr, same);
    }
    prev = std::move(f);
  }
  FinishDitto(s, first_ditto, last_ditto);
  return s;
}

}  // namespace sluice::ofp::text
