// sluice-ofctl: ovs-ofctl's interface for Sluice bridges.
//   sluice-ofctl [OPTIONS] COMMAND SWITCH [ARG...]
// SWITCH is a bridge name (unix:<rundir>/<bridge>.mgmt), unix:PATH or tcp:IP:PORT.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "common/stream/address.h"
#include "common/stream/tls_config.h"
#include "ofproto/text/ofp_text.h"
#include "tools/ofctl/vconn.h"

namespace {

using namespace sluice;
using namespace sluice::ofp;
namespace text = sluice::ofp::text;
using sluice::ofctl::Vconn;

struct Options {
  uint8_t version = kOfp13;
  bool version_given = false;  // -O
  std::string rundir;
  int timeout = 0;
  bool strict = false;
  bool show_stats = true;
  // --sort[=FIELD] / --rsort[=FIELD], in order: FIELD is "priority" or a match field.
  struct SortCriterion {
    std::optional<OxmField> field;  // nullopt: priority
    bool descending = false;
  };
  std::vector<SortCriterion> sort;
  bool readd = false;
  // --names 1, --no-names 0, neither -1: names accepted, and printed when stdout is a terminal
  // (as ovs-ofctl).
  int names = -1;
  bool accept_names() const { return names != 0; }
  bool show_names() const { return names == 1 || (names == -1 && isatty(STDOUT_FILENO)); }
};
Options g_opts;

[[noreturn]] void Fatal(const std::string& msg) {
  std::fprintf(stderr, "sluice-ofctl: %s\n", msg.c_str());
  std::exit(1);
}

template <class T>
T Check(Result<T> r, const std::string& ctx = "") {
  if (!r) Fatal(ctx.empty() ? r.error().message : ctx + ": " + r.error().message);
  if constexpr (!std::is_void_v<T>) return std::move(*r);
}

// The switch's OFPT_ERROR, printed as ovs-ofctl prints it, then exit 1.
[[noreturn]] void PrintErrorAndExit(const Message& err) {
  std::fputs(text::FormatMessage(err).c_str(), stderr);
  std::exit(1);
}

// Port names printed in place of numbers (--names); filled by Open().
text::PortNameMap g_port_names;
std::optional<text::PortNameScope> g_port_name_scope;

std::unique_ptr<Vconn> Open(const std::string& target) {
  std::string name = ofctl::ResolveTarget(target, g_opts.rundir);
  if (g_opts.show_names() && !g_port_name_scope) {
    // As ovs-ofctl, over a connection of its own (the command's xids stay as without names).
    auto vc = Check(Vconn::Open(name, g_opts.version, g_opts.timeout));
    std::vector<std::pair<uint32_t, std::string>> ports;
    for (const Message& m : Check(vc->Transact(MultipartRequest{0, PortDescRequest{}}))) {
      const auto* mr = std::get_if<MultipartReply>(&m.body);
      if (!mr) continue;
      if (const auto* pd = std::get_if<PortDescReply>(&mr->body)) {
        for (const PortDesc& p : pd->entries) ports.emplace_back(p.port_no, p.name);
      }
    }
    g_port_names = text::MakePortNameMap(ports);
    g_port_name_scope.emplace(&g_port_names);
  }
  return Check(Vconn::Open(name, g_opts.version, g_opts.timeout));
}

// Port names resolved through one PORT_DESC request, made on first use.
struct PortNames {
  Vconn* vc = nullptr;
  std::optional<std::map<std::string, uint32_t, std::less<>>> names;
  std::optional<uint32_t> Resolve(std::string_view name) {
    if (!vc) return std::nullopt;
    if (!names) {
      names.emplace();
      auto replies = Check(vc->Transact(MultipartRequest{0, PortDescRequest{}}));
      for (const Message& m : replies) {
        if (std::holds_alternative<ErrorMsg>(m.body)) PrintErrorAndExit(m);
        const auto* mr = std::get_if<MultipartReply>(&m.body);
        if (!mr) continue;
        if (const auto* pd = std::get_if<PortDescReply>(&mr->body)) {
          for (const PortDesc& p : pd->entries) (*names)[p.name] = p.port_no;
        }
      }
    }
    auto it = names->find(name);
    if (it == names->end()) return std::nullopt;
    return it->second;
  }
};

text::ParseOptions ParseOpts(PortNames* ports) {
  text::ParseOptions o;
  o.version = g_opts.version;
  if (ports && g_opts.accept_names()) {
    o.resolve_port = [ports](std::string_view n) { return ports->Resolve(n); };
  }
  return o;
}

// Prints every reply (or the error and exit).
void PrintReplies(const std::vector<Message>& replies) {
  for (const Message& m : replies) {
    if (std::holds_alternative<ErrorMsg>(m.body)) PrintErrorAndExit(m);
    std::fputs(text::FormatMessage(m).c_str(), stdout);
  }
}

void DumpTransaction(Vconn& vc, MessageBody request) {
  PrintReplies(Check(vc.Transact(std::move(request))));
}

void TransactNoReply(Vconn& vc, std::vector<MessageBody> requests) {
  auto err = Check(vc.TransactNoReply(std::move(requests)));
  if (err) PrintErrorAndExit(*err);
}

std::vector<std::string> ReadLines(const std::string& file) {
  std::vector<std::string> lines;
  std::istream* in = &std::cin;
  std::ifstream f;
  if (file != "-") {
    f.open(file);
    if (!f) Fatal(fmt::format("{}: open failed ({})", file, std::strerror(errno)));
    in = &f;
  }
  std::string line;
  while (std::getline(*in, line)) lines.push_back(line);
  return lines;
}

// Non-empty, non-comment lines with their line numbers.
std::vector<std::pair<int, std::string>> ReadFlowLines(const std::string& file) {
  std::vector<std::pair<int, std::string>> out;
  int n = 0;
  for (std::string& line : ReadLines(file)) {
    ++n;
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::string_view t = line;
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
    if (!t.empty()) out.emplace_back(n, std::string(t));
  }
  return out;
}

std::vector<FlowStats> DumpFlowStats(Vconn& vc, const FlowStatsFilter& filter) {
  std::vector<FlowStats> flows;
  for (const Message& m : Check(vc.Transact(MultipartRequest{0, FlowStatsRequest{filter}}))) {
    if (std::holds_alternative<ErrorMsg>(m.body)) PrintErrorAndExit(m);
    const auto* mr = std::get_if<MultipartReply>(&m.body);
    if (!mr) continue;
    if (const auto* fr = std::get_if<FlowStatsReply>(&mr->body)) {
      flows.insert(flows.end(), fr->entries.begin(), fr->entries.end());
    }
  }
  return flows;
}

// ---- commands ----

using Args = std::vector<std::string>;

void CmdShow(const Args& a) {
  auto vc = Open(a[0]);
  DumpTransaction(*vc, FeaturesRequest{});
  DumpTransaction(*vc, MultipartRequest{0, PortDescRequest{}});
  DumpTransaction(*vc, GetConfigRequest{});
}

void CmdDumpDesc(const Args& a) {
  auto vc = Open(a[0]);
  DumpTransaction(*vc, MultipartRequest{0, DescRequest{}});
}

void CmdDumpTables(const Args& a) {
  auto vc = Open(a[0]);
  DumpTransaction(*vc, MultipartRequest{0, TableStatsRequest{}});
}

void CmdDumpTableFeatures(const Args& a) {
  auto vc = Open(a[0]);
  // As ovs-ofctl: no message header, the tables of all replies compared in sequence.
  std::vector<TableFeatures> tables;
  for (const Message& m : Check(vc->Transact(MultipartRequest{0, TableFeaturesRequest{}}))) {
    if (std::holds_alternative<ErrorMsg>(m.body)) PrintErrorAndExit(m);
    const auto* mr = std::get_if<MultipartReply>(&m.body);
    if (!mr) continue;
    if (const auto* tf = std::get_if<TableFeaturesReply>(&mr->body)) {
      tables.insert(tables.end(), tf->entries.begin(), tf->entries.end());
    }
  }
  std::string s = text::FormatTableFeatures(tables);
  std::puts(s.c_str() + (s.starts_with('\n') ? 1 : 0));
}

void CmdDumpPorts(const Args& a) {
  auto vc = Open(a[0]);
  PortNames names{vc.get(), std::nullopt};
  PortStatsRequest req;
  if (a.size() > 1) req.port_no = Check(text::ParsePort(a[1], ParseOpts(&names)));
  DumpTransaction(*vc, MultipartRequest{0, req});
}

void CmdDumpPortsDesc(const Args& a) {
  auto vc = Open(a[0]);
  auto replies = Check(vc->Transact(MultipartRequest{0, PortDescRequest{}}));
  if (a.size() > 1) {  // OpenFlow 1.3 cannot ask for one port: filter the reply
    PortNames names{vc.get(), std::nullopt};
    uint32_t port = Check(text::ParsePort(a[1], ParseOpts(&names)));
    for (Message& m : replies) {
      if (auto* mr = std::get_if<MultipartReply>(&m.body)) {
        if (auto* pd = std::get_if<PortDescReply>(&mr->body)) {
          std::erase_if(pd->entries, [&](const PortDesc& p) { return p.port_no != port; });
        }
      }
    }
  }
  PrintReplies(replies);
}

void CmdModPort(const Args& a) {
  auto vc = Open(a[0]);
  PortNames names{vc.get(), std::nullopt};
  uint32_t port = Check(text::ParsePort(a[1], ParseOpts(&names)));
  std::vector<PortDesc> ports;
  for (const Message& m : Check(vc->Transact(MultipartRequest{0, PortDescRequest{}}))) {
    if (std::holds_alternative<ErrorMsg>(m.body)) PrintErrorAndExit(m);
    if (const auto* mr = std::get_if<MultipartReply>(&m.body)) {
      if (const auto* pd = std::get_if<PortDescReply>(&mr->body)) {
        ports.insert(ports.end(), pd->entries.begin(), pd->entries.end());
      }
    }
  }
  auto it = std::find_if(ports.begin(), ports.end(),
                         [&](const PortDesc& p) { return p.port_no == port; });
  if (it == ports.end()) Fatal(fmt::format("{}: couldn't find port `{}'", a[0], a[1]));
  struct Mod {
    std::string_view name;
    uint32_t bit;
    bool set;
  };
  static constexpr Mod kMods[] = {
      {"up", 1 << 0, false},        {"down", 1 << 0, true},         {"receive", 1 << 2, false},
      {"no-receive", 1 << 2, true}, {"forward", 1 << 5, false},     {"no-forward", 1 << 5, true},
      {"packet-in", 1 << 6, false}, {"no-packet-in", 1 << 6, true},
  };
  const Mod* mod = nullptr;
  for (const Mod& m : kMods) {
    if (a[2] == m.name) mod = &m;
  }
  if (!mod) {
    if (a[2] == "flood" || a[2] == "no-flood" || a[2] == "stp" || a[2] == "no-stp" ||
        a[2] == "receive-stp" || a[2] == "no-receive-stp") {
      Fatal(
          fmt::format("mod-port: {} is an OpenFlow 1.0 port setting, not available in "
                      "OpenFlow 1.3",
                      a[2]));
    }
    Fatal(fmt::format("unknown mod-port command '{}'", a[2]));
  }
  PortMod pm;
  pm.port_no = port;
  pm.hw_addr = it->hw_addr;
  pm.mask = mod->bit;
  pm.config = mod->set ? mod->bit : 0;
  TransactNoReply(*vc, {pm});
}

// ovs-ofctl's order: criterion by criterion, a flow without the field after one with it (in
// either direction), field values compared as bytes; ties keep the switch's order.
void SortFlows(std::vector<FlowStats>* flows) {
  auto compare = [](const FlowStats& x, const FlowStats& y) {
    for (const Options::SortCriterion& c : g_opts.sort) {
      int r = 0;
      if (!c.field) {
        r = x.priority < y.priority ? -1 : x.priority > y.priority;
      } else {
        const OxmEntry* a = x.match.Find(*c.field);
        const OxmEntry* b = y.match.Find(*c.field);
        if (!a != !b) return a != nullptr;
        if (a) r = std::memcmp(a->value.data(), b->value.data(), FieldInfo(*c.field).len);
      }
      if (r) return c.descending ? r > 0 : r < 0;
    }
    return false;
  };
  std::stable_sort(flows->begin(), flows->end(), compare);
}

// A --sort field: "priority" or a match field under its ovs-ofctl name.
std::optional<OxmField> SortField(const std::string& name) {
  using F = OxmField;
  static const std::map<std::string, F, std::less<>> kFields = {
      {"in_port", F::kInPort},         {"in_port_oxm", F::kInPort},
      {"metadata", F::kMetadata},      {"tun_id", F::kTunnelId},
      {"tunnel_id", F::kTunnelId},     {"eth_src", F::kEthSrc},
      {"dl_src", F::kEthSrc},          {"eth_dst", F::kEthDst},
      {"dl_dst", F::kEthDst},          {"eth_type", F::kEthType},
      {"dl_type", F::kEthType},        {"vlan_vid", F::kVlanVid},
      {"dl_vlan", F::kVlanVid},        {"vlan_pcp", F::kVlanPcp},
      {"dl_vlan_pcp", F::kVlanPcp},    {"mpls_label", F::kMplsLabel},
      {"mpls_tc", F::kMplsTc},         {"mpls_bos", F::kMplsBos},
      {"ip_src", F::kIpv4Src},         {"nw_src", F::kIpv4Src},
      {"ip_dst", F::kIpv4Dst},         {"nw_dst", F::kIpv4Dst},
      {"ipv6_src", F::kIpv6Src},       {"ipv6_dst", F::kIpv6Dst},
      {"ipv6_label", F::kIpv6Flabel},  {"nw_proto", F::kIpProto},
      {"ip_proto", F::kIpProto},       {"ip_dscp", F::kIpDscp},
      {"nw_tos", F::kIpDscp},          {"nw_ecn", F::kIpEcn},
      {"ip_ecn", F::kIpEcn},           {"arp_op", F::kArpOp},
      {"arp_spa", F::kArpSpa},         {"arp_tpa", F::kArpTpa},
      {"arp_sha", F::kArpSha},         {"arp_tha", F::kArpTha},
      {"tcp_src", F::kTcpSrc},         {"tp_src", F::kTcpSrc},
      {"tcp_dst", F::kTcpDst},         {"tp_dst", F::kTcpDst},
      {"udp_src", F::kUdpSrc},         {"udp_dst", F::kUdpDst},
      {"sctp_src", F::kSctpSrc},       {"sctp_dst", F::kSctpDst},
      {"icmp_type", F::kIcmpv4Type},   {"icmp_code", F::kIcmpv4Code},
      {"icmpv6_type", F::kIcmpv6Type}, {"icmpv6_code", F::kIcmpv6Code},
      {"nd_target", F::kIpv6NdTarget}, {"nd_sll", F::kIpv6NdSll},
      {"nd_tll", F::kIpv6NdTll},
  };
  std::string lower = name;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "priority") return std::nullopt;
  auto it = kFields.find(lower);
  if (it == kFields.end()) Fatal(fmt::format("{}: unknown field name", name));
  return it->second;
}

void CmdDumpFlows(const Args& a) {
  auto vc = Open(a[0]);
  PortNames names{vc.get(), std::nullopt};
  auto filter = Check(text::ParseFlowFilter(a.size() > 1 ? a[1] : "", ParseOpts(&names)));
  if (g_opts.show_stats && g_opts.sort.empty() && !g_opts.show_names()) {
    DumpTransaction(*vc, MultipartRequest{0, FlowStatsRequest{filter}});
    return;
  }
  // As ovs-ofctl: sorted, without counters or with names, the flows without a header.
  std::vector<FlowStats> flows = DumpFlowStats(*vc, filter);
  if (!g_opts.sort.empty()) SortFlows(&flows);
  for (const FlowStats& f : flows) {
    std::puts(text::FormatFlowStats(f, g_opts.show_stats).c_str());
  }
}

void CmdDumpAggregate(const Args& a) {
  auto vc = Open(a[0]);
  PortNames names{vc.get(), std::nullopt};
  auto filter = Check(text::ParseFlowFilter(a.size() > 1 ? a[1] : "", ParseOpts(&names)));
  DumpTransaction(*vc, MultipartRequest{0, AggregateRequest{filter}});
}

FlowModCommand ModCommand(bool del) {
  if (del) return g_opts.strict ? FlowModCommand::kDeleteStrict : FlowModCommand::kDelete;
  return g_opts.strict ? FlowModCommand::kModifyStrict : FlowModCommand::kModify;
}

void CmdFlowMod(const Args& a, FlowModCommand cmd) {
  auto vc = Open(a[0]);
  PortNames names{vc.get(), std::nullopt};
  std::string flow = a.size() > 1 ? a[1] : "";
  FlowMod fm = Check(text::ParseFlowMod(flow, cmd, ParseOpts(&names)));
  TransactNoReply(*vc, {fm});
}

void CmdAddFlows(const Args& a) {
  auto vc = Open(a[0]);
  PortNames names{vc.get(), std::nullopt};
  std::vector<MessageBody> mods;
  for (const auto& [n, line] : ReadFlowLines(a[1])) {
    // As in ovs-ofctl, a line may start with the command: add, modify, modify_strict,
    // delete, delete_strict (default add).
    static constexpr std::pair<std::string_view, FlowModCommand> kCmds[] = {
        {"add", FlowModCommand::kAdd},
        {"modify", FlowModCommand::kModify},
        {"modify_strict", FlowModCommand::kModifyStrict},
        {"delete", FlowModCommand::kDelete},
        {"delete_strict", FlowModCommand::kDeleteStrict}};
    FlowModCommand cmd = FlowModCommand::kAdd;
    std::string_view flow = line;
    size_t end = flow.find_first_of(" \t,");
    for (const auto& [word, c] : kCmds) {
      if (flow.substr(0, end) == word) {
        cmd = c;
        flow = end == std::string_view::npos ? std::string_view{} : flow.substr(end + 1);
        break;
      }
    }
    auto fm = text::ParseFlowMod(flow, cmd, ParseOpts(&names));
    if (!fm) Fatal(fmt::format("{}:{}: {}", a[1], n, fm.error().message));
    mods.emplace_back(std::move(*fm));
  }
  TransactNoReply(*vc, std::move(mods));
}

// A flow's identity for replace-flows / diff-flows: table, priority, match.
using FlowKey = std::tuple<uint8_t, uint16_t, std::string>;
// (Compared with port numbers, whatever --names prints.)
FlowKey KeyOf(const FlowStats& f) {
  text::PortNameScope numbers(nullptr);
  return {f.table_id, f.priority, text::FormatMatch(f.match)};
}

FlowStats FromFlowMod(const FlowMod& fm) {
  FlowStats f;
  f.table_id = fm.table_id;
  f.priority = fm.priority;
  f.idle_timeout = fm.idle_timeout;
  f.hard_timeout = fm.hard_timeout;
  f.flags = fm.flags;
  f.cookie = fm.cookie;
  f.match = fm.match;
  f.instructions = fm.instructions;
  return f;
}

// What replace-flows and diff-flows compare besides the key (counters never).
std::string VersionText(const FlowStats& f) { return text::FormatFlowForFile(f); }
bool SameVersion(const FlowStats& a, const FlowStats& b) {
  text::PortNameScope numbers(nullptr);
  return VersionText(a) == VersionText(b);
}

std::map<FlowKey, FlowStats> ReadFlowSource(const std::string& src) {
  std::map<FlowKey, FlowStats> out;
  bool is_file = src == "-" || access(src.c_str(), R_OK) == 0;
  if (is_file && !IsStreamTarget(src)) {
    for (const auto& [n, line] : ReadFlowLines(src)) {
      auto fm = text::ParseFlowMod(line, FlowModCommand::kAdd, ParseOpts(nullptr));
      if (!fm) Fatal(fmt::format("{}:{}: {}", src, n, fm.error().message));
      FlowStats f = FromFlowMod(*fm);
      out[KeyOf(f)] = f;
    }
    return out;
  }
  auto vc = Open(src);
  for (FlowStats& f : DumpFlowStats(*vc, FlowStatsFilter{})) {
    f.flags &= ~kFlowCheckOverlap;  // not a property of an installed flow
    out[KeyOf(f)] = std::move(f);
  }
  return out;
}

void CmdReplaceFlows(const Args& a) {
  auto vc = Open(a[0]);
  PortNames names{vc.get(), std::nullopt};
  std::map<FlowKey, FlowStats> want;
  for (const auto& [n, line] : ReadFlowLines(a[1])) {
    auto fm = text::ParseFlowMod(line, FlowModCommand::kAdd, ParseOpts(&names));
    if (!fm) Fatal(fmt::format("{}:{}: {}", a[1], n, fm.error().message));
    FlowStats f = FromFlowMod(*fm);
    want[KeyOf(f)] = f;
  }
  std::vector<MessageBody> mods;
  std::map<FlowKey, FlowStats> have;
  for (FlowStats& f : DumpFlowStats(*vc, FlowStatsFilter{})) have[KeyOf(f)] = std::move(f);
  for (const auto& [key, f] : have) {
    if (want.contains(key)) continue;
    FlowMod del;
    del.command = FlowModCommand::kDeleteStrict;
    del.table_id = f.table_id;
    del.priority = f.priority;
    del.match = f.match;
    mods.emplace_back(std::move(del));
  }
  for (const auto& [key, f] : want) {
    auto it = have.find(key);
    FlowStats cmp = f;
    cmp.flags &= ~kFlowCheckOverlap;
    if (it != have.end() && !g_opts.readd && SameVersion(it->second, cmp)) continue;
    FlowMod add;
    add.command = FlowModCommand::kAdd;
    add.table_id = f.table_id;
    add.priority = f.priority;
    add.cookie = f.cookie;
    add.idle_timeout = f.idle_timeout;
    add.hard_timeout = f.hard_timeout;
    add.flags = f.flags;
    add.match = f.match;
    add.instructions = f.instructions;
    mods.emplace_back(std::move(add));
  }
  TransactNoReply(*vc, std::move(mods));
}

int CmdDiffFlows(const Args& a) {
  auto x = ReadFlowSource(a[0]);
  auto y = ReadFlowSource(a[1]);
  bool differ = false;
  for (const auto& [key, f] : x) {
    auto it = y.find(key);
    if (it == y.end()) {
      std::printf("-%s\n", VersionText(f).c_str());
      differ = true;
    } else if (!SameVersion(f, it->second)) {
      std::printf("-%s\n+%s\n", VersionText(f).c_str(), VersionText(it->second).c_str());
      differ = true;
    }
  }
  for (const auto& [key, f] : y) {
    if (!x.contains(key)) {
      std::printf("+%s\n", VersionText(f).c_str());
      differ = true;
    }
  }
  return differ ? 2 : 0;
}

void CmdGroupMod(const Args& a, GroupModCommand cmd) {
  auto vc = Open(a[0]);
  PortNames names{vc.get(), std::nullopt};
  std::string spec = a.size() > 1 ? a[1] : "";
  GroupMod gm = Check(text::ParseGroupMod(spec, cmd, ParseOpts(&names)));
  TransactNoReply(*vc, {gm});
}

void CmdAddGroups(const Args& a) {
  auto vc = Open(a[0]);
  PortNames names{vc.get(), std::nullopt};
  std::vector<MessageBody> mods;
  for (const auto& [n, line] : ReadFlowLines(a[1])) {
    auto gm = text::ParseGroupMod(line, GroupModCommand::kAdd, ParseOpts(&names));
    if (!gm) Fatal(fmt::format("{}:{}: {}", a[1], n, gm.error().message));
    mods.emplace_back(std::move(*gm));
  }
  TransactNoReply(*vc, std::move(mods));
}

void CmdDumpGroups(const Args& a) {
  auto vc = Open(a[0]);
  std::optional<uint32_t> only;
  if (a.size() > 1) {
    uint32_t id = Check(text::ParseGroupId(a[1]));
    if (id != kGroupAll) only = id;
  }
  auto replies = Check(vc->Transact(MultipartRequest{0, GroupDescRequest{}}));
  for (Message& m : replies) {
    if (only) {
      if (auto* mr = std::get_if<MultipartReply>(&m.body)) {
        if (auto* gd = std::get_if<GroupDescReply>(&mr->body)) {
          std::erase_if(gd->entries, [&](const GroupDesc& g) { return g.group_id != *only; });
        }
      }
    }
  }
  PrintReplies(replies);
}

void CmdDumpGroupStats(const Args& a) {
  auto vc = Open(a[0]);
  GroupStatsRequest req;
  if (a.size() > 1) req.group_id = Check(text::ParseGroupId(a[1]));
  DumpTransaction(*vc, MultipartRequest{0, req});
}

void CmdMeterMod(const Args& a, MeterModCommand cmd) {
  auto vc = Open(a[0]);
  std::string spec = a.size() > 1 ? a[1] : "";
  MeterMod mm = Check(text::ParseMeterMod(spec, cmd, ParseOpts(nullptr)));
  TransactNoReply(*vc, {mm});
}

void CmdDumpMeters(const Args& a) {
  auto vc = Open(a[0]);
  MeterConfigRequest req;
  if (a.size() > 1) req.meter_id = Check(text::ParseMeterId(a[1]));
  DumpTransaction(*vc, MultipartRequest{0, req});
}

void CmdMeterStats(const Args& a) {
  auto vc = Open(a[0]);
  MeterStatsRequest req;
  if (a.size() > 1) req.meter_id = Check(text::ParseMeterId(a[1]));
  DumpTransaction(*vc, MultipartRequest{0, req});
}

void CmdMeterFeatures(const Args& a) {
  auto vc = Open(a[0]);
  DumpTransaction(*vc, MultipartRequest{0, MeterFeaturesRequest{}});
}

void CmdPacketOut(const Args& a) {
  auto vc = Open(a[0]);
  PortNames names{vc.get(), std::nullopt};
  text::ParseOptions po = ParseOpts(&names);
  PacketOut out;
  std::vector<Bytes> packets;
  if (a.size() == 2) {
    // packet-out SWITCH "in_port=1 packet=HEX actions=..."
    std::string_view spec = a[1];
    size_t act = spec.find("actions=");
    if (act == std::string_view::npos) Fatal("packet-out: must specify actions");
    std::string actions(spec.substr(act + 8));
    out.actions = Check(text::ParseActions(actions, po));
    std::string head(spec.substr(0, act));
    for (char& c : head) {
      if (c == ',') c = ' ';
    }
    std::istringstream in(head);
    std::string tok;
    while (in >> tok) {
      if (tok.starts_with("in_port=")) {
        out.in_port = Check(text::ParsePort(tok.substr(8), po), "in_port");
      } else if (tok.starts_with("packet=")) {
        packets.push_back(Check(text::ParseHexBytes(tok.substr(7)), "packet"));
      } else if (tok.starts_with("packet_type=")) {
        Fatal("packet-out: packet_type requires OpenFlow 1.5");
      } else {
        Fatal(fmt::format("packet-out: unknown keyword {}", tok));
      }
    }
    if (packets.empty()) Fatal("packet-out: must specify packet");
  } else if (a.size() >= 4) {
    // packet-out SWITCH IN_PORT ACTIONS PACKET...
    out.in_port = Check(text::ParsePort(a[1], po), "in_port");
    out.actions = Check(text::ParseActions(a[2], po));
    for (size_t i = 3; i < a.size(); ++i) packets.push_back(Check(text::ParseHexBytes(a[i])));
  } else {
    Fatal(
        "packet-out: usage: packet-out SWITCH \"in_port=P packet=HEX actions=A\" or "
        "packet-out SWITCH IN_PORT ACTIONS PACKET...");
  }
  std::vector<MessageBody> msgs;
  for (Bytes& p : packets) {
    PacketOut m = out;
    m.data = std::move(p);
    msgs.emplace_back(std::move(m));
  }
  TransactNoReply(*vc, std::move(msgs));
}

int CmdMonitor(const Args& a) {
  auto vc = Open(a[0]);
  std::vector<MessageBody> setup;
  for (size_t i = 1; i < a.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(a[i][0]))) {
      auto len = Check(text::ParseMeterId(a[i]), "miss_len");  // plain number
      SetConfig sc;
      sc.flags = 0;
      sc.miss_send_len = static_cast<uint16_t>(std::min<uint32_t>(len, 0xffff));
      setup.emplace_back(sc);
    } else {
      Fatal(fmt::format("monitor: unsupported argument {}", a[i]));
    }
  }
  // Ask for every asynchronous message, in every role.
  SetAsync async;
  async.packet_in_mask = {0x7, 0x7};
  async.port_status_mask = {0x7, 0x7};
  async.flow_removed_mask = {0xf, 0xf};
  setup.emplace_back(async);
  TransactNoReply(*vc, std::move(setup));
  while (true) {
    Result<Message> m = vc->Recv();
    if (!m) {
      if (m.error().message.find("closed") != std::string::npos) return 0;
      Fatal(m.error().message);
    }
    std::fputs(text::FormatMessage(*m).c_str(), stdout);
    std::fflush(stdout);
  }
}

// ovs-ofctl snoop: <rundir>/<bridge>.snoop, where the switch copies one controller
// connection's traffic, both directions; printed until the switch closes it. Without -O the
// snooper offers OpenFlow 1.0 and 1.3 (the switch offers the controller connection's version).
int CmdSnoop(const Args& a) {
  std::string target = a[0];
  if (!IsStreamTarget(target) && target.find('/') == std::string::npos) {
    target = "unix:" + g_opts.rundir + "/" + target + ".snoop";
  } else if (!IsStreamTarget(target)) {
    target = "unix:" + target;
  }
  VersionSet also = g_opts.version_given ? 0 : kSupportedVersions;
  auto vc = Check(Vconn::Open(target, g_opts.version, g_opts.timeout, also));
  while (true) {
    Result<Bytes> raw = vc->RecvRaw();
    if (!raw) {
      if (raw.error().message.find("closed") != std::string::npos) return 0;
      Fatal(raw.error().message);
    }
    std::fputs(text::FormatRawMessage(*raw).c_str(), stdout);
    std::fflush(stdout);
  }
}

// Offline: parse, encode, decode and print, as ovs-ofctl parse-flow(s) does (without its
// "usable protocols" lines: OpenFlow 1.3 is the only protocol).
void PrintParsedFlow(const std::string& flow, const std::string& where) {
  auto fm = text::ParseFlowMod(flow, FlowModCommand::kAdd, ParseOpts(nullptr));
  if (!fm) Fatal(where.empty() ? fm.error().message : where + ": " + fm.error().message);
  Bytes wire = Check(EncodeMessage(Message{g_opts.version, 1, *fm}));
  std::fputs(text::FormatRawMessage(wire).c_str(), stdout);
}

void CmdParseFlow(const Args& a) { PrintParsedFlow(a[0], ""); }

void CmdParseFlows(const Args& a) {
  for (const auto& [n, line] : ReadFlowLines(a[0])) {
    PrintParsedFlow(line, fmt::format("{}:{}", a[0], n));
  }
}

void Usage() {
  std::printf(
      "sluice-ofctl: OpenFlow switch management utility\n"
      "usage: sluice-ofctl [OPTIONS] COMMAND SWITCH [ARG...]\n"
      "\nFor SWITCH: a bridge name (unix:RUNDIR/BRIDGE.mgmt), unix:PATH, tcp:HOST[:PORT] or\n"
      "ssl:HOST[:PORT] (with -p, -c and -C).\n"
      "\nCommands:\n"
      "  show SWITCH                     features, ports and configuration\n"
      "  dump-desc SWITCH                switch description\n"
      "  dump-tables SWITCH              table statistics\n"
      "  dump-table-features SWITCH      table features\n"
      "  dump-ports SWITCH [PORT]        port statistics\n"
      "  dump-ports-desc SWITCH [PORT]   port descriptions\n"
      "  mod-port SWITCH PORT ACTION     up|down|receive|no-receive|forward|no-forward|\n"
      "                                  packet-in|no-packet-in\n"
      "  dump-flows SWITCH [FLOW]        flows (--no-stats, --sort[=F], --rsort[=F])\n"
      "  dump-aggregate SWITCH [FLOW]    aggregate flow statistics\n"
      "  add-flow SWITCH FLOW            add a flow\n"
      "  add-flows SWITCH FILE           add flows from FILE (- for stdin); a line may\n"
      "                                  start with add|modify|modify_strict|delete|\n"
      "                                  delete_strict\n"
      "  mod-flows SWITCH FLOW           modify actions of flows (--strict)\n"
      "  del-flows SWITCH [FLOW]         delete flows (--strict)\n"
      "  replace-flows SWITCH FILE       make the flows match FILE\n"
      "  diff-flows SOURCE1 SOURCE2      compare flows of files or switches\n"
      "  add-group SWITCH GROUP          add a group (also add-groups FILE)\n"
      "  mod-group SWITCH GROUP          modify a group\n"
      "  del-groups SWITCH [GROUP]       delete groups\n"
      "  dump-groups SWITCH [GROUP]      group descriptions\n"
      "  dump-group-stats SWITCH [GROUP] group statistics\n"
      "  add-meter SWITCH METER          add a meter\n"
      "  mod-meter SWITCH METER          modify a meter\n"
      "  del-meters SWITCH [METER]       delete meters\n"
      "  dump-meters SWITCH [METER]      meter configuration\n"
      "  meter-stats SWITCH [METER]      meter statistics\n"
      "  meter-features SWITCH           meter features\n"
      "  packet-out SWITCH \"in_port=P packet=HEX actions=A\"  (or IN_PORT ACTIONS PACKET...)\n"
      "  monitor SWITCH [MISS_LEN]       print asynchronous messages\n"
      "  snoop SWITCH                    print the OpenFlow traffic between the bridge and\n"
      "                                  its controller (RUNDIR/BRIDGE.snoop)\n"
      "  parse-flow FLOW                 print FLOW's flow-mod (no switch needed)\n"
      "  parse-flows FILE                the same for each flow in FILE\n"
      "\nOptions:\n"
      "  -O, --protocols=VERSION         OpenFlow13 (the default and only version for now)\n"
      "  --rundir=DIR                    where BRIDGE.mgmt lives (env SLUICE_RUNDIR,\n"
      "                                  default /var/run/sluice)\n"
      "  --strict                        mod-flows/del-flows: match priority and wildcards\n"
      "  --no-stats                      dump-flows: omit counters\n"
      "  --sort[=FIELD], --rsort[=FIELD] dump-flows: sort by priority (the default) or a\n"
      "                                  match field; repeat for more criteria\n"
      "  --readd                         replace-flows: re-add unchanged flows too\n"
      "  --names                         print port names instead of numbers (the default\n"
      "                                  when stdout is a terminal)\n"
      "  --no-names                      neither accept nor print port names\n"
      "  -t, --timeout=SECS              give up after SECS seconds\n"
      "  -h, --help                      this help\n"
      "  -V, --version                   version\n");
  std::printf("\n%s", TlsUsage().c_str());
}

struct Command {
  std::string_view name;
  size_t min_args, max_args;
  std::function<int(const Args&)> run;
};

}  // namespace

int main(int argc, char** argv) {
  const char* env_rundir = std::getenv("SLUICE_RUNDIR");
  g_opts.rundir = env_rundir ? env_rundir : "/var/run/sluice";
  std::vector<std::string> pos;
  std::vector<std::string> all(argv, argv + argc);
  TlsOptions tls;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    size_t tls_i = static_cast<size_t>(i);
    auto value = [&](std::string_view opt) -> std::string {
      // --opt=V, --opt V, -OV, -O V
      if (arg.size() > opt.size() && arg.compare(0, opt.size(), opt) == 0) {
        std::string v = arg.substr(opt.size());
        if (v.front() == '=') v.erase(0, 1);
        return v;
      }
      if (i + 1 >= argc) Fatal(fmt::format("option '{}' requires an argument", opt));
      return argv[++i];
    };
    auto is = [&](std::string_view opt) {
      return arg == opt ||
             (arg.starts_with(opt) && opt.starts_with("--") && arg.size() > opt.size() &&
              arg[opt.size()] == '=') ||
             (opt.size() == 2 && !opt.starts_with("--") && arg.starts_with(opt) && arg.size() > 2);
    };
    if (arg == "-" || arg.empty() || arg[0] != '-') {
      pos.push_back(arg);
    } else if (arg == "--") {
      for (++i; i < argc; ++i) pos.push_back(argv[i]);
    } else if (is("-O") || is("--protocols")) {
      g_opts.version =
          Check(text::ParseVersionName(value(arg.starts_with("--") ? "--protocols" : "-O")));
      g_opts.version_given = true;
    } else if (Check(ParseTlsArg(all, &tls_i, &tls))) {
      i = static_cast<int>(tls_i);
    } else if (is("--rundir")) {
      g_opts.rundir = value("--rundir");
    } else if (is("-t") || is("--timeout")) {
      auto t = text::ParseMeterId(value(arg.starts_with("--") ? "--timeout" : "-t"));
      if (!t || *t > 86400) Fatal("invalid timeout");
      g_opts.timeout = static_cast<int>(*t);
    } else if (arg == "--strict") {
      g_opts.strict = true;
    } else if (arg == "--no-stats") {
      g_opts.show_stats = false;
    } else if (arg == "--stats") {
      g_opts.show_stats = true;
    } else if (arg == "--no-names") {
      g_opts.names = 0;
    } else if (arg == "--names") {
      g_opts.names = 1;
    } else if (arg == "--readd") {
      g_opts.readd = true;
    } else if (arg == "--sort" || arg.starts_with("--sort=") || arg == "--rsort" ||
               arg.starts_with("--rsort=")) {
      size_t eq = arg.find('=');
      g_opts.sort.push_back({SortField(eq == std::string::npos ? "priority" : arg.substr(eq + 1)),
                             arg.starts_with("--rsort")});
    } else if (arg == "-h" || arg == "--help") {
      Usage();
      return 0;
    } else if (arg == "-V" || arg == "--version") {
      std::printf("sluice-ofctl (Sluice) %s\nOpenFlow versions 0x4:0x4\n", SLUICE_VERSION);
      return 0;
    } else {
      Fatal(fmt::format("unrecognized option '{}' (use --help for help)", arg));
    }
  }
  if (pos.empty()) Fatal("missing command name; use --help for help");
  DefaultTlsConfig()->Set(tls);

  auto v = [](auto fn) {
    return [fn](const Args& a) {
      fn(a);
      return 0;
    };
  };
  const std::vector<Command> commands = {
      {"show", 1, 1, v(CmdShow)},
      {"dump-desc", 1, 1, v(CmdDumpDesc)},
      {"dump-tables", 1, 1, v(CmdDumpTables)},
      {"dump-table-features", 1, 1, v(CmdDumpTableFeatures)},
      {"dump-ports", 1, 2, v(CmdDumpPorts)},
      {"dump-ports-desc", 1, 2, v(CmdDumpPortsDesc)},
      {"mod-port", 3, 3, v(CmdModPort)},
      {"dump-flows", 1, 2, v(CmdDumpFlows)},
      {"dump-aggregate", 1, 2, v(CmdDumpAggregate)},
      {"add-flow", 2, 2, v([](const Args& a) { CmdFlowMod(a, FlowModCommand::kAdd); })},
      {"add-flows", 2, 2, v(CmdAddFlows)},
      {"mod-flows", 2, 2, v([](const Args& a) { CmdFlowMod(a, ModCommand(false)); })},
      {"del-flows", 1, 2, v([](const Args& a) { CmdFlowMod(a, ModCommand(true)); })},
      {"replace-flows", 2, 2, v(CmdReplaceFlows)},
      {"diff-flows", 2, 2, CmdDiffFlows},
      {"add-group", 2, 2, v([](const Args& a) { CmdGroupMod(a, GroupModCommand::kAdd); })},
      {"add-groups", 2, 2, v(CmdAddGroups)},
      {"mod-group", 2, 2, v([](const Args& a) { CmdGroupMod(a, GroupModCommand::kModify); })},
      {"del-groups", 1, 2, v([](const Args& a) { CmdGroupMod(a, GroupModCommand::kDelete); })},
      {"dump-groups", 1, 2, v(CmdDumpGroups)},
      {"dump-group-stats", 1, 2, v(CmdDumpGroupStats)},
      {"add-meter", 2, 2, v([](const Args& a) { CmdMeterMod(a, MeterModCommand::kAdd); })},
      {"mod-meter", 2, 2, v([](const Args& a) { CmdMeterMod(a, MeterModCommand::kModify); })},
      {"del-meters", 1, 2, v([](const Args& a) { CmdMeterMod(a, MeterModCommand::kDelete); })},
      {"dump-meters", 1, 2, v(CmdDumpMeters)},
      {"meter-stats", 1, 2, v(CmdMeterStats)},
      {"meter-features", 1, 1, v(CmdMeterFeatures)},
      {"packet-out", 2, 64, v(CmdPacketOut)},
      {"monitor", 1, 3, CmdMonitor},
      {"snoop", 1, 1, CmdSnoop},
      {"parse-flow", 1, 1, v(CmdParseFlow)},
      {"parse-flows", 1, 1, v(CmdParseFlows)},
  };
  std::string name = pos[0];
  Args args(pos.begin() + 1, pos.end());
  for (const Command& c : commands) {
    if (c.name != name) continue;
    if (args.size() < c.min_args) {
      Fatal(fmt::format("'{}' command requires at least {} arguments", name, c.min_args));
    }
    if (args.size() > c.max_args) {
      Fatal(fmt::format("'{}' command takes at most {} arguments", name, c.max_args));
    }
    return c.run(args);
  }
  Fatal(fmt::format("unknown command '{}'; use --help for help", name));
}
