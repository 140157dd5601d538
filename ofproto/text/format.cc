// Matches, actions, flows and groups printed the way ovs-ofctl prints them.
#include <fmt/format.h>

#include <cctype>
#include <map>
#include <set>

#include "ofproto/text/parse_internal.h"

namespace sluice::ofp::text {

using namespace internal;

namespace {

using F = OxmField;

void Be16Masked(std::string& s, std::string_view name, const OxmEntry* e) {
  if (!e) return;
  uint64_t v = e->ValueU64(), m = e->MaskU64();
  if (m == 0) return;
  if (m == 0xffff || !e->has_mask) {
    s += fmt::format("{}={},", name, v);
  } else {
    s += fmt::format("{}={:#x}/{:#x},", name, v, m);
  }
}

void Be64Masked(std::string& s, std::string_view name, const OxmEntry* e) {
  if (!e) return;
  s += fmt::format("{}={:#x}", name, e->ValueU64());
  if (e->has_mask && e->MaskU64() != ~uint64_t{0}) s += fmt::format("/{:#x}", e->MaskU64());
  s += ',';
}

void EthMasked(std::string& s, std::string_view name, const OxmEntry* e) {
  if (!e) return;
  s += fmt::format("{}={}", name, FormatMac(e->value.data()));
  if (e->has_mask) s += "/" + FormatMac(e->mask.data());
  s += ',';
}

void Ipv4Masked(std::string& s, std::string_view name, const OxmEntry* e) {
  if (!e) return;
  s += fmt::format(
      "{}={},", name,
      FormatIpv4Masked(static_cast<uint32_t>(e->ValueU64()), static_cast<uint32_t>(e->MaskU64())));
}

void Ipv6Masked(std::string& s, std::string_view name, const OxmEntry* e) {
  if (!e) return;
  std::array<uint8_t, 16> ones;
  ones.fill(0xff);
  s += fmt::format("{}={},", name,
                   FormatIpv6Masked(e->value.data(), e->has_mask ? e->mask.data() : ones.data()));
}

std::string ReservedPortName(uint32_t port) {
  switch (port) {
    case kPortInPort:
      return "IN_PORT";
    case kPortTable:
      return "TABLE";
    case kPortNormal:
      return "NORMAL";
    case kPortFlood:
      return "FLOOD";
    case kPortAll:
      return "ALL";
    case kPortController:
      return "CONTROLLER";
    case kPortLocal:
      return "LOCAL";
    case kPortAny:
      return "ANY";
    default:
      return "";
  }
}

std::string FormatAction(const Action& a) {
  return std::visit(
      [](const auto& act) -> std::string {
        using T = std::decay_t<decltype(act)>;
        if constexpr (std::is_same_v<T, ActOutput>) {
          if (act.port == kPortController) return fmt::format("CONTROLLER:{}", act.max_len);
          if (act.port < kPortMax) return "output:" + FormatPort(act.port);
          return FormatPort(act.port);
        } else if constexpr (std::is_same_v<T, ActCopyTtlOut>) {
          return "copy_ttl_out";
        } else if constexpr (std::is_same_v<T, ActCopyTtlIn>) {
          return "copy_ttl_in";
        } else if constexpr (std::is_same_v<T, ActSetMplsTtl>) {
          return fmt::format("set_mpls_ttl({})", act.ttl);
        } else if constexpr (std::is_same_v<T, ActDecMplsTtl>) {
          return "dec_mpls_ttl";
        } else if constexpr (std::is_same_v<T, ActPushVlan>) {
          return fmt::format("push_vlan:{:#06x}", act.ethertype);
        } else if constexpr (std::is_same_v<T, ActPopVlan>) {
          return "pop_vlan";
        } else if constexpr (std::is_same_v<T, ActPushMpls>) {
          return fmt::format("push_mpls:{:#06x}", act.ethertype);
        } else if constexpr (std::is_same_v<T, ActPopMpls>) {
          return fmt::format("pop_mpls:{:#06x}", act.ethertype);
        } else if constexpr (std::is_same_v<T, ActSetQueue>) {
          return fmt::format("set_queue:{}", act.queue_id);
        } else if constexpr (std::is_same_v<T, ActGroup>) {
          return fmt::format("group:{}", act.group_id);
        } else if constexpr (std::is_same_v<T, ActSetNwTtl>) {
          return fmt::format("mod_nw_ttl:{}", act.ttl);
        } else if constexpr (std::is_same_v<T, ActDecNwTtl>) {
          return "dec_ttl";
        } else if constexpr (std::is_same_v<T, ActSetField>) {
          return fmt::format("set_field:{}->{}", FormatFieldValue(act.field),
                             SetFieldName(act.field.field));
        } else if constexpr (std::is_same_v<T, ActPushPbb>) {
          return fmt::format("push_pbb:{:#06x}", act.ethertype);
        } else if constexpr (std::is_same_v<T, ActPopPbb>) {
          return "pop_pbb";
        } else {
          return fmt::format("experimenter({:#x})", act.experimenter);
        }
      },
      a);
}

std::string FlowFlags(uint16_t flags) {
  std::string s;
  if (flags & kFlowSendFlowRem) s += "send_flow_rem ";
  if (flags & kFlowCheckOverlap) s += "check_overlap ";
  if (flags & kFlowResetCounts) s += "reset_counts ";
  if (flags & kFlowNoPktCounts) s += "no_packet_counts ";
  if (flags & kFlowNoBytCounts) s += "no_byte_counts ";
  if (flags & ~kFlowAllFlags) s += fmt::format("flags:{:#x} ", flags & ~kFlowAllFlags);
  return s;
}

}  // namespace

namespace {
thread_local const PortNameMap* t_port_names = nullptr;

// As Open vSwitch prints a port or table name: bare when it is a letter followed by letters
// and digits, otherwise as a JSON string.
std::string QuoteName(std::string_view name) {
  bool bare = !name.empty() && std::isalpha(static_cast<unsigned char>(name[0]));
  for (char c : name) bare = bare && std::isalnum(static_cast<unsigned char>(c));
  if (bare) return std::string(name);
  std::string s = "\"";
  for (char c : name) {
    switch (c) {
      case '"':
        s += "\\\"";
        break;
      case '\\':
        s += "\\\\";
        break;
      case '\b':
        s += "\\b";
        break;
      case '\f':
        s += "\\f";
        break;
      case '\n':
        s += "\\n";
        break;
      case '\r':
        s += "\\r";
        break;
      case '\t':
        s += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          s += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          s += c;
        }
    }
  }
  return s + "\"";
}
}  // namespace

PortNameScope::PortNameScope(const PortNameMap* names) : saved_(t_port_names) {
  t_port_names = names;
}
PortNameScope::~PortNameScope() { t_port_names = saved_; }

PortNameMap MakePortNameMap(const std::vector<std::pair<uint32_t, std::string>>& ports) {
  // A name used by two ports, or a port with two names, is printed as a number.
  std::map<std::string, uint32_t, std::less<>> by_name;
  std::map<uint32_t, std::string> by_number;
  std::set<uint32_t> ambiguous;
  for (const auto& [no, name] : ports) {
    auto n = by_name.find(name);
    if (n != by_name.end()) {
      if (n->second != no) ambiguous.insert(n->second);
      continue;
    }
    if (by_number.contains(no)) {
      ambiguous.insert(no);
      continue;
    }
    by_name.emplace(name, no);
    by_number.emplace(no, name);
  }
  for (uint32_t no : ambiguous) by_number.erase(no);
  return by_number;
}

std::string FormatPort(uint32_t port) {
  std::string r = ReservedPortName(port);
  if (!r.empty()) return r;
  if (t_port_names) {
    auto it = t_port_names->find(port);
    if (it != t_port_names->end()) return QuoteName(it->second);
  }
  return std::to_string(port);
}

std::string FormatPortNumber(uint32_t port) {
  std::string r = ReservedPortName(port);
  return r.empty() ? std::to_string(port) : r;
}

std::string FormatMatch(const Match& m, uint16_t priority) {
  std::string s;
  if (priority != 0x8000) s += fmt::format("priority={},", priority);
  const OxmEntry* et = m.Find(F::kEthType);
  const OxmEntry* pe = m.Find(F::kIpProto);
  uint64_t eth_type = et ? et->ValueU64() : 0;
  bool skip_type = false, skip_proto = false;
  if (et) {
    skip_type = true;
    uint64_t proto = pe ? pe->ValueU64() : 0;
    if (eth_type == 0x0800) {
      std::string_view n = "ip";
      if (pe) {
        skip_proto = true;
        switch (proto) {
          case 1:
            n = "icmp";
            break;
          case 2:
            n = "igmp";
            break;
          case 6:
            n = "tcp";
            break;
          case 17:
            n = "udp";
            break;
          case 132:
            n = "sctp";
            break;
          default:
            skip_proto = false;
        }
      }
      s += fmt::format("{},", n);
    } else if (eth_type == 0x86dd) {
      std::string_view n = "ipv6";
      if (pe) {
        skip_proto = true;
        switch (proto) {
          case 58:
            n = "icmp6";
            break;
          case 6:
            n = "tcp6";
            break;
          case 17:
            n = "udp6";
            break;
          case 132:
            n = "sctp6";
            break;
          default:
            skip_proto = false;
        }
      }
      s += fmt::format("{},", n);
    } else if (eth_type == 0x0806) {
      s += "arp,";
    } else if (eth_type == 0x8035) {
      s += "rarp,";
    } else if (eth_type == 0x8847) {
      s += "mpls,";
    } else if (eth_type == 0x8848) {
      s += "mplsm,";
    } else {
      skip_type = false;
    }
  }
  Be64Masked(s, "tun_id", m.Find(F::kTunnelId));
  Be64Masked(s, "metadata", m.Find(F::kMetadata));
  if (const OxmEntry* e = m.Find(F::kInPort)) {
    s += fmt::format("in_port={},", FormatPort(static_cast<uint32_t>(e->ValueU64())));
  }
  if (const OxmEntry* e = m.Find(F::kInPhyPort)) {
    s += fmt::format("in_phy_port={},", FormatPort(static_cast<uint32_t>(e->ValueU64())));
  }
  // VLAN: rebuild the TCI value/mask the way OVS holds it, then print as OVS does.
  const OxmEntry* vid = m.Find(F::kVlanVid);
  const OxmEntry* pcp = m.Find(F::kVlanPcp);
  if (vid || pcp) {
    uint16_t tci = 0, mask = 0;
    if (vid) {
      uint16_t vm = static_cast<uint16_t>(vid->MaskU64() & 0x1fff);
      tci = static_cast<uint16_t>(vid->ValueU64() & vm);
      mask = vm;
    }
    if (pcp) {
      tci = static_cast<uint16_t>((tci & ~0xe000) | (pcp->ValueU64() << 13) | 0x1000);
      mask |= 0xf000;
    }
    uint16_t vid_mask = mask & 0x0fff, pcp_mask = mask & 0xe000;
    if ((mask & 0x1000) && (tci & 0x1000) && (vid_mask == 0 || vid_mask == 0x0fff) &&
        (pcp_mask == 0 || pcp_mask == 0xe000) && (vid_mask || pcp_mask)) {
      if (vid_mask) s += fmt::format("dl_vlan={},", tci & 0x0fff);
      if (pcp_mask) s += fmt::format("dl_vlan_pcp={},", tci >> 13);
    } else if (mask == 0xffff) {
      s += fmt::format("vlan_tci={:#06x},", tci);
    } else {
      s += fmt::format("vlan_tci={:#06x}/{:#06x},", tci, mask);
    }
  }
  EthMasked(s, "dl_src", m.Find(F::kEthSrc));
  EthMasked(s, "dl_dst", m.Find(F::kEthDst));
  if (et && !skip_type) s += fmt::format("dl_type={:#06x},", eth_type);
  bool is_arp = eth_type == 0x0806 || eth_type == 0x8035;
  if (eth_type == 0x86dd) {
    Ipv6Masked(s, "ipv6_src", m.Find(F::kIpv6Src));
    Ipv6Masked(s, "ipv6_dst", m.Find(F::kIpv6Dst));
    if (const OxmEntry* e = m.Find(F::kIpv6Flabel)) {
      if (!e->has_mask || e->MaskU64() == 0xffffffff) {
        s += fmt::format("ipv6_label={:#07x},", e->ValueU64());
      } else {
        s += fmt::format("ipv6_label={:#07x}/{:#07x},", e->ValueU64(), e->MaskU64());
      }
    }
  } else if (is_arp) {
    Ipv4Masked(s, "arp_spa", m.Find(F::kArpSpa));
    Ipv4Masked(s, "arp_tpa", m.Find(F::kArpTpa));
  } else {
    Ipv4Masked(s, "nw_src", m.Find(F::kIpv4Src));
    Ipv4Masked(s, "nw_dst", m.Find(F::kIpv4Dst));
  }
  if (is_arp) {
    if (const OxmEntry* e = m.Find(F::kArpOp)) s += fmt::format("arp_op={},", e->ValueU64());
  } else if (pe && !skip_proto) {
    s += fmt::format("nw_proto={},", pe->ValueU64());
  }
  if (is_arp) {
    EthMasked(s, "arp_sha", m.Find(F::kArpSha));
    EthMasked(s, "arp_tha", m.Find(F::kArpTha));
  }
  if (const OxmEntry* e = m.Find(F::kIpDscp)) s += fmt::format("nw_tos={},", e->ValueU64() << 2);
  if (const OxmEntry* e = m.Find(F::kIpEcn)) s += fmt::format("nw_ecn={},", e->ValueU64());
  if (const OxmEntry* e = m.Find(F::kMplsLabel)) {
    s += fmt::format("mpls_label={},", e->ValueU64());
  }
  if (const OxmEntry* e = m.Find(F::kMplsTc)) s += fmt::format("mpls_tc={},", e->ValueU64());
  if (const OxmEntry* e = m.Find(F::kMplsBos)) s += fmt::format("mpls_bos={},", e->ValueU64());
  uint64_t proto = pe ? pe->ValueU64() : 0;
  if (eth_type == 0x0800 && proto == 1) {
    Be16Masked(s, "icmp_type", m.Find(F::kIcmpv4Type));
    Be16Masked(s, "icmp_code", m.Find(F::kIcmpv4Code));
  } else if (eth_type == 0x86dd && proto == 58) {
    Be16Masked(s, "icmp_type", m.Find(F::kIcmpv6Type));
    Be16Masked(s, "icmp_code", m.Find(F::kIcmpv6Code));
    Ipv6Masked(s, "nd_target", m.Find(F::kIpv6NdTarget));
    EthMasked(s, "nd_sll", m.Find(F::kIpv6NdSll));
    EthMasked(s, "nd_tll", m.Find(F::kIpv6NdTll));
  } else {
    for (auto [src, dst] : {std::pair{F::kTcpSrc, F::kTcpDst}, std::pair{F::kUdpSrc, F::kUdpDst},
                            std::pair{F::kSctpSrc, F::kSctpDst}}) {
      Be16Masked(s, "tp_src", m.Find(src));
      Be16Masked(s, "tp_dst", m.Find(dst));
    }
  }
  if (const OxmEntry* e = m.Find(F::kPbbIsid)) {
    s += fmt::format("pbb_isid={:#x}", e->ValueU64());
    if (e->has_mask) s += fmt::format("/{:#x}", e->MaskU64());
    s += ',';
  }
  if (const OxmEntry* e = m.Find(F::kIpv6Exthdr)) {
    s += fmt::format("ipv6_exthdr={:#x}", e->ValueU64());
    if (e->has_mask) s += fmt::format("/{:#x}", e->MaskU64());
    s += ',';
  }
  if (!s.empty() && s.back() == ',') s.pop_back();
  return s;
}

std::string FormatActions(const ActionList& actions) {
  if (actions.empty()) return "drop";
  std::string s;
  for (const Action& a : actions) {
    if (!s.empty()) s += ',';
    s += FormatAction(a);
  }
  return s;
}

std::string FormatInstructions(const InstructionList& insts) {
  std::string s;
  auto add = [&](const std::string& part) {
    if (part.empty()) return;
    if (!s.empty()) s += ',';
    s += part;
  };
  for (const Instruction& inst : insts) {
    std::visit(
        [&](const auto& i) {
          using T = std::decay_t<decltype(i)>;
          if constexpr (std::is_same_v<T, InstGotoTable>) {
            add(fmt::format("goto_table:{}", i.table_id));
          } else if constexpr (std::is_same_v<T, InstWriteMetadata>) {
            if (i.mask == ~uint64_t{0}) {
              add(fmt::format("write_metadata:{:#x}", i.metadata));
            } else {
              add(fmt::format("write_metadata:{:#x}/{:#x}", i.metadata, i.mask));
            }
          } else if constexpr (std::is_same_v<T, InstWriteActions>) {
            add("write_actions(" + (i.actions.empty() ? std::string() : FormatActions(i.actions)) +
                ")");
          } else if constexpr (std::is_same_v<T, InstApplyActions>) {
            if (!i.actions.empty()) add(FormatActions(i.actions));
          } else if constexpr (std::is_same_v<T, InstClearActions>) {
            add("clear_actions");
          } else if constexpr (std::is_same_v<T, InstMeter>) {
            add(fmt::format("meter:{}", i.meter_id));
          } else {
            add(fmt::format("experimenter({:#x})", i.experimenter));
          }
        },
        inst);
  }
  return s.empty() ? "drop" : s;
}

std::string FormatFlowStats(const FlowStats& fs, bool show_stats) {
  std::string s = " ";
  if (show_stats || fs.cookie) s += fmt::format("cookie={:#x}, ", fs.cookie);
  if (show_stats) {
    s += fmt::format("duration={}", fs.duration_sec);
    if (fs.duration_nsec > 0) s += fmt::format(".{:03}", fs.duration_nsec / 1000000);
    s += "s, ";
  }
  if (show_stats || fs.table_id) s += fmt::format("table={}, ", fs.table_id);
  if (show_stats) {
    s += fmt::format("n_packets={}, n_bytes={}, ", fs.packet_count, fs.byte_count);
  }
  if (fs.idle_timeout) s += fmt::format("idle_timeout={}, ", fs.idle_timeout);
  if (fs.hard_timeout) s += fmt::format("hard_timeout={}, ", fs.hard_timeout);
  s += FlowFlags(fs.flags);
  std::string m = FormatMatch(fs.match, fs.priority);
  if (!m.empty()) s += m + " ";
  s += "actions=" + FormatInstructions(fs.instructions);
  return s;
}

std::string FormatFlowForFile(const FlowStats& fs) {
  // ovs-ofctl diff-flows' shape: [table=N ]MATCH[ cookie=C][ idle_timeout=I][ hard_timeout=H]
  // actions=A (add-flows reads it back).
  std::string s;
  if (fs.table_id) s += fmt::format("table={} ", fs.table_id);
  s += FormatMatch(fs.match, fs.priority);
  if (fs.cookie) s += fmt::format(" cookie={:#x}", fs.cookie);
  if (fs.idle_timeout) s += fmt::format(" idle_timeout={}", fs.idle_timeout);
  if (fs.hard_timeout) s += fmt::format(" hard_timeout={}", fs.hard_timeout);
  s += " actions=" + FormatInstructions(fs.instructions);
  return s;
}

std::string FormatBucket(const Bucket& b, GroupType type) {
  std::string s = "bucket=";
  if (type == GroupType::kSelect) s += fmt::format("weight:{},", b.weight);
  if (b.watch_port != kPortAny) s += fmt::format("watch_port:{},", FormatPort(b.watch_port));
  if (b.watch_group != kGroupAny) s += fmt::format("watch_group:{},", b.watch_group);
  s += "actions=" + FormatActions(b.actions);
  return s;
}

std::string FormatGroupDesc(const GroupDesc& g) {
  std::string s = fmt::format(" group_id={},type=", g.group_id);
  GroupType type = static_cast<GroupType>(g.type);
  switch (type) {
    case GroupType::kAll:
      s += "all";
      break;
    case GroupType::kSelect:
      s += "select";
      break;
    case GroupType::kIndirect:
      s += "indirect";
      break;
    case GroupType::kFastFailover:
      s += "ff";
      break;
    default:
      s += fmt::format("{}", g.type);
  }
  for (const Bucket& b : g.buckets) s += "," + FormatBucket(b, type);
  return s;
}

}  // namespace sluice::ofp::text
