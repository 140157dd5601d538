// ovs-ofctl flows, groups, meters, ports and versions.
#include <fmt/format.h>

#include <cctype>

#include "ofproto/text/parse_internal.h"

namespace sluice::ofp::text {

using namespace internal;

namespace {

struct ReservedPort {
  std::string_view name;
  uint32_t port;
};
constexpr ReservedPort kReservedPorts[] = {
    {"IN_PORT", kPortInPort}, {"TABLE", kPortTable}, {"NORMAL", kPortNormal},
    {"FLOOD", kPortFlood},    {"ALL", kPortAll},     {"CONTROLLER", kPortController},
    {"LOCAL", kPortLocal},    {"ANY", kPortAny},     {"NONE", kPortAny},
};

// Splits "FLOW actions=ACTIONS" at the actions keyword (which must start a token).
bool SplitActions(std::string_view text, std::string_view* flow, std::string_view* actions) {
  for (std::string_view kw : {"actions=", "action=", "actions:", "action:"}) {
    size_t pos = 0;
    while ((pos = text.find(kw, pos)) != std::string_view::npos) {
      if (pos == 0 || text[pos - 1] == ',' ||
          std::isspace(static_cast<unsigned char>(text[pos - 1]))) {
        *flow = text.substr(0, pos);
        *actions = text.substr(pos + kw.size());
        return true;
      }
      pos += kw.size();
    }
  }
  *flow = text;
  return false;
}

template <class T>
Result<T> Uint(std::string_view key, const KeyValue& kv, uint64_t max) {
  if (!kv.has_value) return MakeError(Errc::kInvalid, fmt::format("field {} missing value", key));
  auto v = ParseUint(kv.value, max, key);
  if (!v) return MakeError(Errc::kInvalid, fmt::format("invalid {} \"{}\"", key, kv.value));
  return static_cast<T>(*v);
}

// The flow keywords common to flow-mods and stats filters. Returns false when `kv` is not one.
struct FlowFields {
  std::optional<uint8_t> table;
  uint16_t priority = 0x8000;
  uint64_t cookie = 0, cookie_mask = 0;
  bool cookie_has_mask = false;
  uint16_t idle = 0, hard = 0, flags = 0;
  uint32_t out_port = kPortAny, out_group = kGroupAny;
};

Result<bool> ApplyFlowField(const KeyValue& kv, FlowFields* f, const ParseOptions& opts,
                            bool is_filter) {
  std::string_view k = kv.key;
  if (k == "table") {
    if (kv.has_value && (kv.value == "all" || kv.value == "ALL")) {
      f->table = kTableAll;
      return true;
    }
    auto v = Uint<uint8_t>(k, kv, 0xff);
    if (!v) return std::unexpected(v.error());
    f->table = *v;
    return true;
  }
  if (k == "cookie") {
    if (!kv.has_value) return MakeError(Errc::kInvalid, "field cookie missing value");
    auto v = ParseMaskedUint(kv.value, ~uint64_t{0}, "cookie");
    if (!v) return std::unexpected(v.error());
    f->cookie = v->value;
    f->cookie_mask = v->has_mask ? v->mask : 0;
    f->cookie_has_mask = v->has_mask;
    return true;
  }
  if (k == "out_port") {
    if (!kv.has_value) return MakeError(Errc::kInvalid, "field out_port missing value");
    auto p = ParsePort(kv.value, opts);
    if (!p) return MakeError(Errc::kInvalid, fmt::format("{}: invalid or unknown port", kv.value));
    f->out_port = *p;
    return true;
  }
  if (k == "out_group") {
    if (kv.has_value && (kv.value == "any" || kv.value == "ANY")) {
      f->out_group = kGroupAny;
      return true;
    }
    auto v = Uint<uint32_t>(k, kv, 0xffffffff);
    if (!v) return std::unexpected(v.error());
    f->out_group = *v;
    return true;
  }
  if (is_filter) return false;
  if (k == "priority") {
    if (!kv.has_value) return MakeError(Errc::kInvalid, "field priority missing value");
    auto v = ParseUint(kv.value, 0xffff, "priority");
    if (!v) return MakeError(Errc::kInvalid, fmt::format("invalid priority \"{}\"", kv.value));
    f->priority = static_cast<uint16_t>(*v);
    return true;
  }
  if (k == "idle_timeout" || k == "hard_timeout") {
    auto v = Uint<uint16_t>(k, kv, 0xffff);
    if (!v) return std::unexpected(v.error());
    (k == "idle_timeout" ? f->idle : f->hard) = *v;
    return true;
  }
  struct Flag {
    std::string_view name;
    uint16_t bit;
  };
  static constexpr Flag kFlags[] = {{"send_flow_rem", kFlowSendFlowRem},
                                    {"check_overlap", kFlowCheckOverlap},
                                    {"reset_counts", kFlowResetCounts},
                                    {"no_packet_counts", kFlowNoPktCounts},
                                    {"no_byte_counts", kFlowNoBytCounts}};
  for (const Flag& fl : kFlags) {
    if (k == fl.name && !kv.has_value) {
      f->flags |= fl.bit;
      return true;
    }
  }
  if (k == "importance") {
    return MakeError(Errc::kUnsupported,
                     "importance requires OpenFlow 1.4 or later (this connection speaks "
                     "OpenFlow 1.3)");
  }
  if (k == "duration" || k == "n_packets" || k == "n_bytes" || k == "idle_age" || k == "hard_age") {
    return true;  // statistics from a dump-flows line: ignored, as ovs-ofctl does
  }
  return false;
}

Result<Match> ParseMatchAndFields(std::string_view text, FlowFields* f, const ParseOptions& opts,
                                  bool is_filter) {
  MatchBuilder b(opts);
  KeyValueLexer lex(text);
  KeyValue kv;
  while (lex.Next(&kv)) {
    auto r = ApplyFlowField(kv, f, opts, is_filter);
    if (!r) return std::unexpected(r.error());
    if (*r) continue;
    auto m = b.Apply(kv.key, kv.value, kv.has_value);
    if (!m) return std::unexpected(m.error());
    if (!*m) return MakeError(Errc::kInvalid, fmt::format("unknown keyword {}", kv.key));
  }
  if (!lex.error().empty()) return MakeError(Errc::kInvalid, lex.error());
  return b.Finish();
}

}  // namespace

Result<uint8_t> ParseVersionName(std::string_view name) {
  struct V {
    std::string_view name;
    uint8_t v;
  };
  static constexpr V kNames[] = {
      {"openflow10", kOfp10}, {"of10", kOfp10}, {"openflow13", kOfp13}, {"of13", kOfp13},
      {"openflow11", 0x02},   {"of11", 0x02},   {"openflow12", 0x03},   {"of12", 0x03},
      {"openflow14", kOfp14}, {"of14", kOfp14}, {"openflow15", kOfp15}, {"of15", kOfp15},
  };
  uint8_t best = 0;
  std::string_view rest = name;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view one = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    bool known = false;
    for (const V& v : kNames) {
      if (IEquals(one, v.name)) {
        known = true;
        if (v.v == kOfp13) best = kOfp13;
      }
    }
    if (!known) return MakeError(Errc::kInvalid, fmt::format("{}: unknown OpenFlow version", one));
  }
  if (best == 0) {
    return MakeError(Errc::kUnsupported,
                     fmt::format("{}: only OpenFlow13 is supported for now", name));
  }
  return best;
}

std::string VersionName(uint8_t version) {
  switch (version) {
    case kOfp10:
      return "OF1.0";
    case 0x02:
      return "OF1.1";
    case 0x03:
      return "OF1.2";
    case kOfp13:
      return "OF1.3";
    case kOfp14:
      return "OF1.4";
    case kOfp15:
      return "OF1.5";
    default:
      return fmt::format("OF 0x{:02x}", version);
  }
}

Result<uint32_t> ParsePort(std::string_view s, const ParseOptions& opts) {
  s = Trim(s);
  if (s.empty()) return MakeError(Errc::kInvalid, "missing port");
  for (const ReservedPort& r : kReservedPorts) {
    if (IEquals(s, r.name)) return r.port;
  }
  if (std::isdigit(static_cast<unsigned char>(s[0]))) {
    auto v = ParseUint(s, 0xffffffff, "port");
    if (!v) return std::unexpected(v.error());
    // OpenFlow 1.0's 16-bit reserved ports (0xff00..0xffff) map onto 1.3's 32-bit ones.
    if (*v >= 0xff00 && *v <= 0xffff) return static_cast<uint32_t>(*v + 0xffff0000);
    if (*v > kPortMax && *v < kPortInPort) {
      return MakeError(Errc::kInvalid, fmt::format("{}: output to unknown port", s));
    }
    return static_cast<uint32_t>(*v);
  }
  if (opts.resolve_port) {
    // A quoted name ("br-int", as --names prints names with other characters), with
    // backslash escapes inside.
    std::string unquoted;
    std::string_view name = s;
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
      for (size_t i = 1; i + 1 < s.size(); ++i) {
        if (s[i] == '\\' && i + 2 < s.size()) ++i;
        unquoted += s[i];
      }
      name = unquoted;
    }
    if (auto p = opts.resolve_port(name)) return *p;
  }
  return MakeError(Errc::kInvalid, fmt::format("{}: invalid or unknown port", s));
}

Result<FlowMod> ParseFlowMod(std::string_view text, FlowModCommand command,
                             const ParseOptions& opts) {
  if (auto ok = CheckVersion(opts.version); !ok) return std::unexpected(ok.error());
  std::string_view flow, actions;
  bool has_actions = SplitActions(text, &flow, &actions);
  bool is_delete = command == FlowModCommand::kDelete || command == FlowModCommand::kDeleteStrict;
  bool is_add = command == FlowModCommand::kAdd;
  FlowFields f;
  auto match = ParseMatchAndFields(flow, &f, opts, false);
  if (!match) return std::unexpected(match.error());
  FlowMod fm;
  fm.command = command;
  fm.match = std::move(*match);
  fm.table_id = f.table.value_or(is_delete ? kTableAll : 0);
  if (!is_delete && fm.table_id == kTableAll) {
    return MakeError(Errc::kInvalid, "table=all is only allowed for del-flows");
  }
  fm.priority = f.priority;
  fm.cookie = f.cookie;
  fm.cookie_mask = f.cookie_mask;
  if (is_add && f.cookie_has_mask) {
    return MakeError(Errc::kInvalid, "flow additions cannot use a cookie mask");
  }
  fm.idle_timeout = f.idle;
  fm.hard_timeout = f.hard;
  fm.flags = f.flags;
  if (is_delete) {
    fm.out_port = f.out_port;
    fm.out_group = f.out_group;
    if (has_actions) return MakeError(Errc::kInvalid, "del-flows does not take actions");
  } else {
    if (f.out_port != kPortAny || f.out_group != kGroupAny) {
      return MakeError(Errc::kInvalid, "out_port and out_group are only allowed for del-flows");
    }
    if (!has_actions) return MakeError(Errc::kInvalid, "must specify an action");
    auto insts = ParseInstructions(actions, fm.match, opts);
    if (!insts) return std::unexpected(insts.error());
    // goto_table may only move forward from the flow's table, as ovs-ofctl checks (and the
    // switch would refuse the flow-mod otherwise).
    for (const auto& inst : *insts) {
      if (const auto* g = std::get_if<InstGotoTable>(&inst); g && g->table_id <= fm.table_id) {
        return MakeError(Errc::kInvalid,
                         "actions are invalid with specified match (OFPBIC_BAD_TABLE_ID)");
      }
    }
    fm.instructions = std::move(*insts);
  }
  return fm;
}

Result<FlowStatsFilter> ParseFlowFilter(std::string_view text, const ParseOptions& opts) {
  if (auto ok = CheckVersion(opts.version); !ok) return std::unexpected(ok.error());
  std::string_view flow, actions;
  if (SplitActions(text, &flow, &actions)) {
    return MakeError(Errc::kInvalid, "a flow filter does not take actions");
  }
  FlowFields f;
  auto match = ParseMatchAndFields(flow, &f, opts, true);
  if (!match) return std::unexpected(match.error());
  FlowStatsFilter filter;
  filter.match = std::move(*match);
  filter.table_id = f.table.value_or(kTableAll);
  filter.cookie = f.cookie;
  filter.cookie_mask = f.cookie_mask;
  filter.out_port = f.out_port;
  filter.out_group = f.out_group;
  return filter;
}

Result<uint32_t> ParseGroupId(std::string_view text) {
  std::string_view v = Trim(text);
  if (v.starts_with("group_id=")) v.remove_prefix(9);
  if (IEquals(v, "all")) return kGroupAll;
  if (IEquals(v, "any")) return kGroupAny;
  auto n = ParseUint(v, 0xffffffff, "group_id");
  if (!n) {
    return MakeError(Errc::kInvalid,
                     fmt::format("{} is not a valid group ID.  (Valid group IDs are 32-bit "
                                 "nonnegative integers or the keywords ANY or ALL.)",
                                 v));
  }
  return static_cast<uint32_t>(*n);
}

Result<uint32_t> ParseMeterId(std::string_view text) {
  std::string_view v = Trim(text);
  if (v.starts_with("meter=")) v.remove_prefix(6);
  if (IEquals(v, "all")) return kMeterAll;
  if (IEquals(v, "slowpath")) return kMeterSlowpath;
  if (IEquals(v, "controller")) return kMeterController;
  auto n = ParseUint(v, 0xffffffff, "meter");
  if (!n) return MakeError(Errc::kInvalid, fmt::format("invalid meter id \"{}\"", v));
  return static_cast<uint32_t>(*n);
}

namespace {

Result<Bucket> ParseBucket(std::string_view text, GroupType type, const ParseOptions& opts) {
  Bucket b;
  b.weight = type == GroupType::kSelect ? 1 : 0;
  std::string actions;
  KeyValueLexer lex(text);
  KeyValue kv;
  while (lex.Next(&kv)) {
    if (kv.key == "weight") {
      auto v = Uint<uint16_t>("weight", kv, 0xffff);
      if (!v) return std::unexpected(v.error());
      b.weight = *v;
    } else if (kv.key == "watch_port") {
      if (!kv.has_value) return MakeError(Errc::kInvalid, "watch_port: missing value");
      auto p = ParsePort(kv.value, opts);
      if (!p) return MakeError(Errc::kInvalid, fmt::format("{}: invalid watch_port", kv.value));
      b.watch_port = *p;
    } else if (kv.key == "watch_group") {
      auto v = Uint<uint32_t>("watch_group", kv, 0xffffffff);
      if (!v) return std::unexpected(v.error());
      b.watch_group = *v;
    } else if (kv.key == "bucket_id") {
      return MakeError(Errc::kUnsupported, "bucket_id requires OpenFlow 1.5");
    } else if (kv.key == "actions" || kv.key == "action") {
      actions += std::string(kv.value) + ",";
    } else {
      actions += std::string(kv.key);
      if (kv.has_value) {
        actions += kv.delim == '(' ? "(" + std::string(kv.value) + ")"
                                   : std::string(1, kv.delim) + std::string(kv.value);
      }
      actions += ",";
    }
  }
  if (!lex.error().empty()) return MakeError(Errc::kInvalid, lex.error());
  auto acts = ParseActions(actions, opts);
  if (!acts) return std::unexpected(acts.error());
  b.actions = std::move(*acts);
  return b;
}

}  // namespace

Result<GroupMod> ParseGroupMod(std::string_view text, GroupModCommand command,
                               const ParseOptions& opts) {
  if (auto ok = CheckVersion(opts.version); !ok) return std::unexpected(ok.error());
  GroupMod gm;
  gm.command = command;
  // Group fields come before the first "bucket=".
  size_t first = std::string_view::npos;
  for (size_t pos = 0; (pos = text.find("bucket=", pos)) != std::string_view::npos; pos += 7) {
    if (pos == 0 || text[pos - 1] == ',' ||
        std::isspace(static_cast<unsigned char>(text[pos - 1]))) {
      first = pos;
      break;
    }
  }
  std::string_view head = text.substr(0, first);
  bool have_id = false, have_type = false;
  KeyValueLexer lex(head);
  KeyValue kv;
  while (lex.Next(&kv)) {
    if (kv.key == "group_id") {
      if (!kv.has_value) return MakeError(Errc::kInvalid, "field group_id missing value");
      auto id = ParseGroupId(kv.value);
      if (!id) return std::unexpected(id.error());
      gm.group_id = *id;
      have_id = true;
    } else if (kv.key == "type") {
      std::string_view t = kv.value;
      if (t == "all") {
        gm.type = GroupType::kAll;
      } else if (t == "select") {
        gm.type = GroupType::kSelect;
      } else if (t == "indirect") {
        gm.type = GroupType::kIndirect;
      } else if (t == "fast_failover" || t == "ff") {
        gm.type = GroupType::kFastFailover;
      } else {
        return MakeError(Errc::kInvalid, fmt::format("unknown group type \"{}\"", t));
      }
      have_type = true;
    } else if (kv.key == "selection_method" || kv.key == "selection_method_param" ||
               kv.key == "fields" || kv.key == "command_bucket_id") {
      return MakeError(Errc::kUnsupported,
                       fmt::format("{} requires OpenFlow 1.5 or Nicira extensions", kv.key));
    } else {
      return MakeError(Errc::kInvalid, fmt::format("unknown keyword {}", kv.key));
    }
  }
  if (!lex.error().empty()) return MakeError(Errc::kInvalid, lex.error());
  if (command == GroupModCommand::kDelete) {
    if (!have_id) gm.group_id = kGroupAll;
    if (have_type || first != std::string_view::npos) {
      return MakeError(Errc::kInvalid, "del-groups only takes group_id");
    }
    return gm;
  }
  if (!have_id) return MakeError(Errc::kInvalid, "must specify a group_id");
  if (gm.group_id > kGroupMax) {
    return MakeError(Errc::kInvalid,
                     fmt::format("invalid group_id {:#x} for add or modify", gm.group_id));
  }
  (void)have_type;
  // Buckets: each "bucket=" runs to the next one.
  while (first != std::string_view::npos) {
    size_t start = first + 7;
    size_t next = std::string_view::npos;
    for (size_t pos = start; (pos = text.find("bucket=", pos)) != std::string_view::npos;
         pos += 7) {
      if (text[pos - 1] == ',' || std::isspace(static_cast<unsigned char>(text[pos - 1]))) {
        next = pos;
        break;
      }
    }
    auto b = ParseBucket(text.substr(start, next == std::string_view::npos ? next : next - start),
                         gm.type, opts);
    if (!b) return std::unexpected(b.error());
    gm.buckets.push_back(std::move(*b));
    first = next;
  }
  return gm;
}

Result<MeterMod> ParseMeterMod(std::string_view text, MeterModCommand command,
                               const ParseOptions& opts) {
  if (auto ok = CheckVersion(opts.version); !ok) return std::unexpected(ok.error());
  MeterMod mm;
  mm.command = command;
  std::string_view head = text, bands;
  for (std::string_view kw : {"bands=", "band="}) {
    size_t pos = text.find(kw);
    if (pos != std::string_view::npos) {
      head = text.substr(0, pos);
      bands = text.substr(pos + kw.size());
      if (bands.empty()) return MakeError(Errc::kInvalid, "meter bands missing");
      break;
    }
  }
  bool have_id = false;
  KeyValueLexer lex(head);
  KeyValue kv;
  while (lex.Next(&kv)) {
    if (kv.key == "meter") {
      if (!kv.has_value) return MakeError(Errc::kInvalid, "field meter missing value");
      auto id = ParseMeterId(kv.value);
      if (!id) return std::unexpected(id.error());
      mm.meter_id = *id;
      have_id = true;
    } else if (kv.key == "kbps" && !kv.has_value) {
      mm.flags |= kMeterKbps;
    } else if (kv.key == "pktps" && !kv.has_value) {
      mm.flags |= kMeterPktps;
    } else if (kv.key == "burst" && !kv.has_value) {
      mm.flags |= kMeterBurst;
    } else if (kv.key == "stats" && !kv.has_value) {
      mm.flags |= kMeterStats;
    } else {
      return MakeError(Errc::kInvalid, fmt::format("unknown keyword {}", kv.key));
    }
  }
  if (!lex.error().empty()) return MakeError(Errc::kInvalid, lex.error());
  if (command == MeterModCommand::kDelete) {
    if (!have_id) mm.meter_id = kMeterAll;
    if (mm.flags || !bands.empty()) return MakeError(Errc::kInvalid, "del-meters only takes meter");
    return mm;
  }
  if (!have_id) return MakeError(Errc::kInvalid, "must specify a meter");
  if ((mm.flags & (kMeterKbps | kMeterPktps)) == (kMeterKbps | kMeterPktps)) {
    return MakeError(Errc::kInvalid, "kbps and pktps are mutually exclusive");
  }
  if (!(mm.flags & kMeterPktps)) mm.flags |= kMeterKbps;
  KeyValueLexer blex(bands);
  MeterBand* band = nullptr;
  while (blex.Next(&kv)) {
    if (kv.key == "type") {
      mm.bands.emplace_back();
      band = &mm.bands.back();
      if (kv.value == "drop") {
        band->type = MeterBandType::kDrop;
      } else if (kv.value == "dscp_remark") {
        band->type = MeterBandType::kDscpRemark;
      } else {
        return MakeError(Errc::kInvalid, fmt::format("unknown meter band type \"{}\"", kv.value));
      }
      continue;
    }
    if (!band) return MakeError(Errc::kInvalid, "meter band must start with type=");
    if (kv.key == "rate") {
      auto v = Uint<uint32_t>("rate", kv, 0xffffffff);
      if (!v) return std::unexpected(v.error());
      band->rate = *v;
    } else if (kv.key == "burst_size") {
      auto v = Uint<uint32_t>("burst_size", kv, 0xffffffff);
      if (!v) return std::unexpected(v.error());
      band->burst_size = *v;
    } else if (kv.key == "prec_level") {
      if (band->type != MeterBandType::kDscpRemark) {
        return MakeError(Errc::kInvalid, "prec_level is only valid for dscp_remark bands");
      }
      auto v = Uint<uint8_t>("prec_level", kv, 0xff);
      if (!v) return std::unexpected(v.error());
      band->prec_level = *v;
    } else {
      return MakeError(Errc::kInvalid, fmt::format("unknown meter band keyword {}", kv.key));
    }
  }
  if (!blex.error().empty()) return MakeError(Errc::kInvalid, blex.error());
  return mm;
}

Result<Bytes> ParseHexBytes(std::string_view text) {
  Bytes out;
  std::string_view s = Trim(text);
  if (s.starts_with("0x") || s.starts_with("0X")) s.remove_prefix(2);
  int hi = -1;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == ':' || c == '.') continue;
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return MakeError(Errc::kInvalid, fmt::format("invalid hex character '{}' in packet", c));
    }
    if (hi < 0) {
      hi = d;
    } else {
      out.push_back(static_cast<uint8_t>(hi << 4 | d));
      hi = -1;
    }
  }
  if (hi >= 0) return MakeError(Errc::kInvalid, "odd number of hex digits in packet");
  if (out.empty()) return MakeError(Errc::kInvalid, "empty packet");
  return out;
}

}  // namespace sluice::ofp::text
