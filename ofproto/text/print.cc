// Whole OpenFlow messages printed the way ovs-ofctl prints them (ofp-print).
#include <fmt/format.h>

#include <algorithm>

#include "ofproto/text/parse_internal.h"

namespace sluice::ofp::text {

using namespace internal;

namespace {

std::string Duration(uint32_t sec, uint32_t nsec) {
  std::string s = std::to_string(sec);
  if (nsec > 0) s += fmt::format(".{:03}", nsec / 1000000);
  return s + "s";
}

std::string BitNames(uint32_t bits, std::string_view (*name)(uint32_t bit), char sep = ' ') {
  if (!bits) return "0";
  std::string s;
  uint32_t unknown = 0;
  for (uint32_t b = 0; b < 32; ++b) {
    uint32_t bit = uint32_t{1} << b;
    if (!(bits & bit)) continue;
    std::string_view n = name(bit);
    if (n.empty()) {
      unknown |= bit;
      continue;
    }
    if (!s.empty()) s += sep;
    s += n;
  }
  if (unknown) {
    if (!s.empty()) s += sep;
    s += fmt::format("{:#x}", unknown);
  }
  return s;
}

std::string_view CapabilityName(uint32_t bit) {
  switch (bit) {
    case 1 << 0:
      return "FLOW_STATS";
    case 1 << 1:
      return "TABLE_STATS";
    case 1 << 2:
      return "PORT_STATS";
    case 1 << 3:
      return "GROUP_STATS";
    case 1 << 5:
      return "IP_REASM";
    case 1 << 6:
      return "QUEUE_STATS";
    case 1 << 8:
      return "PORT_BLOCKED";
    default:
      return "";
  }
}

std::string_view PortConfigName(uint32_t bit) {
  switch (bit) {
    case 1 << 0:
      return "PORT_DOWN";
    case 1 << 2:
      return "NO_RECV";
    case 1 << 5:
      return "NO_FWD";
    case 1 << 6:
      return "NO_PACKET_IN";
    default:
      return "";
  }
}

std::string_view PortStateName(uint32_t bit) {
  switch (bit) {
    case 1 << 0:
      return "LINK_DOWN";
    case 1 << 1:
      return "BLOCKED";
    case 1 << 2:
      return "LIVE";
    default:
      return "";
  }
}

std::string_view PortFeatureName(uint32_t bit) {
  static constexpr std::string_view kNames[] = {
      "10MB-HD", "10MB-FD",  "100MB-HD",   "100MB-FD",       "1GB-HD", "1GB-FD",
      "10GB-FD", "40GB-FD",  "100GB-FD",   "1TB-FD",         "OTHER",  "COPPER",
      "FIBER",   "AUTO_NEG", "AUTO_PAUSE", "AUTO_PAUSE_ASYM"};
  for (size_t i = 0; i < std::size(kNames); ++i) {
    if (bit == uint32_t{1} << i) return kNames[i];
  }
  return "";
}

std::string PortDescText(const PortDesc& p) {
  std::string s = fmt::format(" {}({}): addr:{}\n", FormatPortNumber(p.port_no), p.name,
                              FormatMac(p.hw_addr.data()));
  s += "     config:     " + BitNames(p.config, PortConfigName) + "\n";
  s += "     state:      " + BitNames(p.state, PortStateName) + "\n";
  auto features = [&](std::string_view label, uint32_t v) {
    if (v) s += fmt::format("     {:<12}{}\n", label, BitNames(v, PortFeatureName));
  };
  features("current:", p.curr);
  features("advertised:", p.advertised);
  features("supported:", p.supported);
  features("peer:", p.peer);
  s += fmt::format("     speed: {} Mbps now, {} Mbps max\n", p.curr_speed / 1000,
                   p.max_speed / 1000);
  return s;
}

std::string PortDescs(std::vector<PortDesc> ports) {
  std::stable_sort(ports.begin(), ports.end(),
                   [](const PortDesc& a, const PortDesc& b) { return a.port_no < b.port_no; });
  std::string s;
  for (const PortDesc& p : ports) s += PortDescText(p);
  return s;
}

std::string Stat(uint64_t v) { return v == ~uint64_t{0} ? "?" : std::to_string(v); }

std::string PortStatsText(const PortStats& ps) {
  std::string s = "  port ";
  if (ps.port_no < 10) s += ' ';
  s += FormatPort(ps.port_no);
  s += fmt::format(": rx pkts={}, bytes={}, drop={}, errs={}, frame={}, over={}, crc={}\n",
                   Stat(ps.rx_packets), Stat(ps.rx_bytes), Stat(ps.rx_dropped), Stat(ps.rx_errors),
                   Stat(ps.rx_frame_err), Stat(ps.rx_over_err), Stat(ps.rx_crc_err));
  s += fmt::format("           tx pkts={}, bytes={}, drop={}, errs={}, coll={}\n",
                   Stat(ps.tx_packets), Stat(ps.tx_bytes), Stat(ps.tx_dropped), Stat(ps.tx_errors),
                   Stat(ps.collisions));
  if (ps.duration_sec != 0xffffffff) {
    s += "           duration=" + Duration(ps.duration_sec, ps.duration_nsec) + "\n";
  }
  return s;
}

std::string TableStatsText(const std::vector<TableStats>& tables) {
  std::string s;
  int first_ditto = -1, last_ditto = -1;
  auto finish = [&]() {
    if (first_ditto < 0) return;
    if (first_ditto == last_ditto) {
      s += fmt::format("\n  table {}: ditto\n", first_ditto);
    } else {
      s += fmt::format("\n  tables {}...{}: ditto\n", first_ditto, last_ditto);
    }
    first_ditto = -1;
  };
  for (size_t i = 0; i < tables.size(); ++i) {
    const TableStats& t = tables[i];
    if (i > 0) {
      const TableStats& p = tables[i - 1];
      if (p.active_count == t.active_count && p.lookup_count == t.lookup_count &&
          p.matched_count == t.matched_count) {
        if (first_ditto < 0) first_ditto = t.table_id;
        last_ditto = t.table_id;
        continue;
      }
    }
    finish();
    if (i > 0) s += "\n";
    s += fmt::format("  table {}:\n    active={}, lookup={}, matched={}\n", t.table_id,
                     t.active_count, t.lookup_count, t.matched_count);
  }
  finish();
  return s;
}

std::string MeterIdText(uint32_t id) {
  switch (id) {
    case kMeterAll:
      return "all";
    case kMeterController:
      return "controller";
    case kMeterSlowpath:
      return "slowpath";
    default:
      return std::to_string(id);
  }
}

std::string MeterConfigText(const MeterConfig& mc) {
  std::string s = "meter=" + MeterIdText(mc.meter_id) + " ";
  if (mc.flags & kMeterKbps) s += "kbps ";
  if (mc.flags & kMeterPktps) s += "pktps ";
  if (mc.flags & kMeterBurst) s += "burst ";
  if (mc.flags & kMeterStats) s += "stats ";
  s += "bands=\n";
  for (const MeterBand& b : mc.bands) {
    switch (b.type) {
      case MeterBandType::kDrop:
        s += "type=drop";
        break;
      case MeterBandType::kDscpRemark:
        s += "type=dscp_remark";
        break;
      default:
        s += fmt::format("type={}", static_cast<uint16_t>(b.type));
    }
    s += fmt::format(" rate={}", b.rate);
    if (mc.flags & kMeterBurst) s += fmt::format(" burst_size={}", b.burst_size);
    if (b.type == MeterBandType::kDscpRemark) s += fmt::format(" prec_level={}", b.prec_level);
    s += "\n";
  }
  return s;
}

std::string MeterStatsText(const MeterStats& ms) {
  std::string s =
      fmt::format("meter:{} flow_count:{} packet_in_count:{} byte_in_count:{} duration:{} bands:\n",
                  MeterIdText(ms.meter_id), ms.flow_count, ms.packet_in_count, ms.byte_in_count,
                  Duration(ms.duration_sec, ms.duration_nsec));
  for (size_t i = 0; i < ms.bands.size(); ++i) {
    s += fmt::format("{}: packet_count:{} byte_count:{}\n", i, ms.bands[i].packet_count,
                     ms.bands[i].byte_count);
  }
  return s;
}

template <class T, class Fn>
std::string Joined(const std::vector<T>& v, Fn fn, std::string_view sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += sep;
    s += fn(v[i]);
  }
  return s;
}

template <class T>
std::string_view StatName() {
  if constexpr (std::is_same_v<T, DescRequest> || std::is_same_v<T, DescReply>)
    return "OFPST_DESC";
  else if constexpr (std::is_same_v<T, FlowStatsRequest> || std::is_same_v<T, FlowStatsReply>)
    return "OFPST_FLOW";
  else if constexpr (std::is_same_v<T, AggregateRequest> || std::is_same_v<T, AggregateReply>)
    return "OFPST_AGGREGATE";
  else if constexpr (std::is_same_v<T, TableStatsRequest> || std::is_same_v<T, TableStatsReply>)
    return "OFPST_TABLE";
  else if constexpr (std::is_same_v<T, PortStatsRequest> || std::is_same_v<T, PortStatsReply>)
    return "OFPST_PORT";
  else if constexpr (std::is_same_v<T, PortDescRequest> || std::is_same_v<T, PortDescReply>)
    return "OFPST_PORT_DESC";
  else if constexpr (std::is_same_v<T, QueueStatsRequest> || std::is_same_v<T, QueueStatsReply>)
    return "OFPST_QUEUE";
  else if constexpr (std::is_same_v<T, GroupStatsRequest> || std::is_same_v<T, GroupStatsReply>)
    return "OFPST_GROUP";
  else if constexpr (std::is_same_v<T, GroupDescRequest> || std::is_same_v<T, GroupDescReply>)
    return "OFPST_GROUP_DESC";
  else if constexpr (std::is_same_v<T, GroupFeaturesRequest> ||
                     std::is_same_v<T, GroupFeaturesReply>)
    return "OFPST_GROUP_FEATURES";
  else if constexpr (std::is_same_v<T, MeterStatsRequest> || std::is_same_v<T, MeterStatsReply>)
    return "OFPST_METER";
  else if constexpr (std::is_same_v<T, MeterConfigRequest> || std::is_same_v<T, MeterConfigReply>)
    return "OFPST_METER_CONFIG";
  else if constexpr (std::is_same_v<T, MeterFeaturesRequest> ||
                     std::is_same_v<T, MeterFeaturesReply>)
    return "OFPST_METER_FEATURES";
  else
    return "OFPST_TABLE_FEATURES";
}

template <class V>
std::string_view MultipartName(const V& body) {
  return std::visit([](const auto& b) { return StatName<std::decay_t<decltype(b)>>(); }, body);
}

std::string MultipartReplyText(const MultipartReply& mr) {
  return std::visit(
      [](const auto& r) -> std::string {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, DescReply>) {
          return fmt::format(
              "\nManufacturer: {}\nHardware: {}\nSoftware: {}\nSerial Num: {}\nDP Description: "
              "{}\n",
              r.mfr_desc, r.hw_desc, r.sw_desc, r.serial_num, r.dp_desc);
        } else if constexpr (std::is_same_v<T, FlowStatsReply>) {
          std::string s = "\n";
          for (const FlowStats& fs : r.entries) s += FormatFlowStats(fs) + "\n";
          return s;
        } else if constexpr (std::is_same_v<T, AggregateReply>) {
          return fmt::format(" packet_count={} byte_count={} flow_count={}\n", r.packet_count,
                             r.byte_count, r.flow_count);
        } else if constexpr (std::is_same_v<T, TableStatsReply>) {
          return "\n" + TableStatsText(r.entries);
        } else if constexpr (std::is_same_v<T, PortStatsReply>) {
          std::string s = fmt::format(" {} ports\n", r.entries.size());
          for (const PortStats& ps : r.entries) s += PortStatsText(ps);
          return s;
        } else if constexpr (std::is_same_v<T, PortDescReply>) {
          return "\n" + PortDescs(r.entries);
        } else if constexpr (std::is_same_v<T, TableFeaturesReply>) {
          std::string s = FormatTableFeatures(r.entries);
          if (s.empty() || s.back() != '\n') s += '\n';
          return s;
        } else if constexpr (std::is_same_v<T, QueueStatsReply>) {
          std::string s = fmt::format(" {} queues\n", r.entries.size());
          for (const QueueStats& q : r.entries) {
            s += "  port ";
            if (q.port_no < 10) s += ' ';
            s +=
                fmt::format("{} queue {}: bytes={}, pkts={}, errors={}, duration={}\n",
                            FormatPort(q.port_no), q.queue_id, Stat(q.tx_bytes), Stat(q.tx_packets),
                            Stat(q.tx_errors), Duration(q.duration_sec, q.duration_nsec));
          }
          return s;
        } else if constexpr (std::is_same_v<T, GroupStatsReply>) {
          std::string s = "\n";
          for (const GroupStats& g : r.entries) {
            s += fmt::format(" group_id={},duration={},ref_count={},packet_count={},byte_count={}",
                             g.group_id, Duration(g.duration_sec, g.duration_nsec), g.ref_count,
                             Stat(g.packet_count), Stat(g.byte_count));
            for (size_t i = 0; i < g.buckets.size(); ++i) {
              s += fmt::format(",bucket{}:packet_count={},byte_count={}", i,
                               Stat(g.buckets[i].packet_count), Stat(g.buckets[i].byte_count));
            }
            s += "\n";
          }
          return s;
        } else if constexpr (std::is_same_v<T, GroupDescReply>) {
          std::string s = "\n";
          for (const GroupDesc& g : r.entries) s += FormatGroupDesc(g) + "\n";
          return s;
        } else if constexpr (std::is_same_v<T, GroupFeaturesReply>) {
          std::string s =
              fmt::format("\n Group table:\n    Types:  {:#x}\n    Capabilities:  {:#x}\n", r.types,
                          r.capabilities);
          static constexpr std::string_view kTypes[] = {"all", "select", "indirect",
                                                        "fast failover"};
          for (size_t i = 0; i < 4; ++i) {
            if (!(r.types & (1u << i))) continue;
            s += fmt::format("    {} group:\n       max_groups={:#x}\n       actions: {:#x}\n",
                             kTypes[i], r.max_groups[i], r.actions[i]);
          }
          return s;
        } else if constexpr (std::is_same_v<T, MeterStatsReply>) {
          return "\n" + Joined(r.entries, MeterStatsText, "\n");
        } else if constexpr (std::is_same_v<T, MeterConfigReply>) {
          return "\n" + Joined(r.entries, MeterConfigText, "\n");
        } else if constexpr (std::is_same_v<T, MeterFeaturesReply>) {
          std::string s = fmt::format("\nmax_meter:{} max_bands:{} max_color:{}\n", r.max_meter,
                                      r.max_bands, r.max_color);
          std::string types;
          if (r.band_types & (1u << 1)) types += " drop";
          if (r.band_types & (1u << 2)) types += " dscp_remark";
          s += "band_types:" + types + "\n";
          std::string caps;
          if (r.capabilities & kMeterKbps) caps += " kbps";
          if (r.capabilities & kMeterPktps) caps += " pktps";
          if (r.capabilities & kMeterBurst) caps += " burst";
          if (r.capabilities & kMeterStats) caps += " stats";
          s += "capabilities:" + caps + "\n";
          return s;
        } else {
          return " (no text form for this reply yet)\n";
        }
      },
      mr.body);
}

std::string FlowModText(const FlowMod& fm) {
  static constexpr std::string_view kCmds[] = {"ADD", "MOD", "MOD_STRICT", "DEL", "DEL_STRICT"};
  auto cmd = static_cast<size_t>(fm.command);
  std::string s = " ";
  s += cmd < 5 ? kCmds[cmd] : fmt::format("cmd:{}", cmd);
  if (fm.table_id != 0) s += fmt::format(" table:{}", fm.table_id);
  s += ' ';
  s += FormatMatch(fm.match, fm.priority);
  if (s.back() != ' ') s += ' ';
  if (fm.cookie_mask) {
    s += fmt::format("cookie:{:#x}/{:#x} ", fm.cookie, fm.cookie_mask);
  } else if (fm.cookie) {
    s += fmt::format("cookie:{:#x} ", fm.cookie);
  }
  if (fm.idle_timeout) s += fmt::format("idle:{} ", fm.idle_timeout);
  if (fm.hard_timeout) s += fmt::format("hard:{} ", fm.hard_timeout);
  if (fm.buffer_id != kNoBuffer) s += fmt::format("buf:{:#x} ", fm.buffer_id);
  if (fm.out_port != kPortAny) s += "out_port:" + FormatPort(fm.out_port) + " ";
  if (fm.flags & kFlowSendFlowRem) s += "send_flow_rem ";
  if (fm.flags & kFlowCheckOverlap) s += "check_overlap ";
  if (fm.flags & kFlowResetCounts) s += "reset_counts ";
  if (fm.flags & kFlowNoPktCounts) s += "no_packet_counts ";
  if (fm.flags & kFlowNoBytCounts) s += "no_byte_counts ";
  s += "actions=" + FormatInstructions(fm.instructions);
  return s + "\n";
}

std::string_view GroupTypeName(GroupType t) {
  switch (t) {
    case GroupType::kAll:
      return "all";
    case GroupType::kSelect:
      return "select";
    case GroupType::kIndirect:
      return "indirect";
    case GroupType::kFastFailover:
      return "ff";
  }
  return "?";
}

// A packet as ovs-ofctl prints it after a packet-in: its flow in match syntax, then the L4
// checksum (Ethernet, VLAN, IPv4, IPv6, ARP, TCP, UDP, SCTP, ICMP).
std::string PacketSummary(ByteSpan p) {
  if (p.size() < 14) return fmt::format("(packet of {} bytes, too short for Ethernet)", p.size());
  auto u16 = [&](size_t at) { return static_cast<unsigned>(p[at] << 8 | p[at + 1]); };
  size_t off = 12;
  unsigned type = u16(off);
  std::string vlan = "vlan_tci=0x0000";
  if ((type == 0x8100 || type == 0x88a8) && p.size() >= 18) {
    vlan = fmt::format("dl_vlan={},dl_vlan_pcp={}", u16(14) & 0xfff, p[14] >> 5);
    off += 4;
    type = u16(off);
    if ((type == 0x8100 || type == 0x88a8) && p.size() >= 22) {
      vlan += fmt::format(",dl_vlan1={},dl_vlan_pcp1={}", u16(18) & 0xfff, p[18] >> 5);
      off += 4;
      type = u16(off);
    } else {
      vlan += ",vlan_tci1=0x0000";
    }
  }
  off += 2;
  std::string l2 = fmt::format("{},dl_src={},dl_dst={}", vlan, FormatMac(&p[6]), FormatMac(&p[0]));
  // L4 (after the network header at `l4`): ports, TCP flags, checksum.
  // A later fragment has no L4 header; ovs-ofctl still prints the checksum where it would be.
  auto l4_text = [&](uint8_t proto, size_t l4, bool icmp6, std::string* tail,
                     bool later = false) -> std::string {
    std::string s;
    if ((proto == 6 || proto == 17 || proto == 132) && p.size() >= l4 + 4) {
      if (!later) s += fmt::format(",tp_src={},tp_dst={}", u16(l4), u16(l4 + 2));
      if (proto == 6 && p.size() >= l4 + 20 && later) {
        *tail = fmt::format(" tcp_csum:{:x}", u16(l4 + 16));
      } else if (proto == 6 && p.size() >= l4 + 20) {
        static constexpr std::string_view kFlags[] = {"fin", "syn", "rst", "psh", "ack",
                                                      "urg", "ece", "cwr", "ns"};
        unsigned flags = u16(l4 + 12) & 0x1ff;
        std::string f;
        for (size_t i = 0; i < std::size(kFlags); ++i) {
          if (flags & (1u << i)) f += (f.empty() ? "" : "|") + std::string(kFlags[i]);
        }
        s += ",tcp_flags=" + (f.empty() ? std::string("0") : f);
        *tail = fmt::format(" tcp_csum:{:x}", u16(l4 + 16));
      } else if (proto == 17 && p.size() >= l4 + 8) {
        *tail = fmt::format(" udp_csum:{:x}", u16(l4 + 6));
      } else if (proto == 132 && p.size() >= l4 + 12) {
        *tail = fmt::format(" sctp_csum:{:x}", u16(l4 + 8) << 16 | u16(l4 + 10));
      }
    } else if ((proto == 1 || (icmp6 && proto == 58)) && p.size() >= l4 + 4) {
      if (!later) s += fmt::format(",icmp_type={},icmp_code={}", p[l4], p[l4 + 1]);
      *tail = fmt::format(" {}_csum:{:x}", icmp6 ? "icmp6" : "icmp", u16(l4 + 2));
    }
    return s;
  };
  auto proto_name = [](uint8_t proto, bool v6) -> std::string_view {
    switch (proto) {
      case 1:
        return v6 ? "ipv6" : "icmp";
      case 6:
        return v6 ? "tcp6" : "tcp";
      case 17:
        return v6 ? "udp6" : "udp";
      case 58:
        return v6 ? "icmp6" : "ip";
      case 132:
        return v6 ? "sctp6" : "sctp";
      default:
        return v6 ? "ipv6" : "ip";
    }
  };
  std::string tail;
  if (type == 0x0800 && p.size() >= off + 20) {
    size_t ihl = (p[off] & 0xf) * 4u;
    uint8_t proto = p[off + 9];
    unsigned frag = u16(off + 6);
    std::string_view nw_frag = (frag & 0x1fff) ? "later" : (frag & 0x2000) ? "first" : "no";
    std::string_view name = proto_name(proto, false);
    uint32_t src = u16(off + 12) << 16 | u16(off + 14), dst = u16(off + 16) << 16 | u16(off + 18);
    std::string s =
        fmt::format("{},{},nw_src={},nw_dst={},", name, l2, FormatIpv4(src), FormatIpv4(dst));
    if (name == "ip") s += fmt::format("nw_proto={},", proto);
    s += fmt::format("nw_tos={},nw_ecn={},nw_ttl={},nw_frag={}", p[off + 1] & 0xfc, p[off + 1] & 3,
                     p[off + 8], nw_frag);
    s += l4_text(proto, off + ihl, false, &tail, nw_frag == "later");
    return s + tail;
  }
  if (type == 0x86dd && p.size() >= off + 40) {
    uint8_t proto = p[off + 6];
    std::string_view name = proto_name(proto, true);
    unsigned tc = (u16(off) >> 4) & 0xff;
    uint32_t label = (u16(off) & 0xf) << 16 | u16(off + 2);
    std::string s = fmt::format("{},{},ipv6_src={},ipv6_dst={},ipv6_label={:#07x},", name, l2,
                                FormatIpv6(&p[off + 8]), FormatIpv6(&p[off + 24]), label);
    if (name == "ipv6") s += fmt::format("nw_proto={},", proto);
    s += fmt::format("nw_tos={},nw_ecn={},nw_ttl={},nw_frag=no", tc & 0xfc, tc & 3, p[off + 7]);
    s += l4_text(proto, off + 40, true, &tail);
    return s + tail;
  }
  if (type == 0x0806 && p.size() >= off + 28) {
    uint32_t spa = u16(off + 14) << 16 | u16(off + 16), tpa = u16(off + 24) << 16 | u16(off + 26);
    return fmt::format("arp,{},arp_spa={},arp_tpa={},arp_op={},arp_sha={},arp_tha={}", l2,
                       FormatIpv4(spa), FormatIpv4(tpa), u16(off + 6), FormatMac(&p[off + 8]),
                       FormatMac(&p[off + 18]));
  }
  return fmt::format("{},dl_type={:#06x}", l2, type);
}

std::string BodyText(const Message& msg) {
  return std::visit(
      [&](const auto& m) -> std::string {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, FeaturesReply>) {
          std::string s = fmt::format(" dpid:{:016x}\nn_tables:{}, n_buffers:{}", m.datapath_id,
                                      m.n_tables, m.n_buffers);
          if (m.auxiliary_id) s += fmt::format(", auxiliary_id:{}", m.auxiliary_id);
          s += "\ncapabilities: " + BitNames(m.capabilities, CapabilityName) + "\n";
          return s;
        } else if constexpr (std::is_same_v<T, GetConfigReply> || std::is_same_v<T, SetConfig>) {
          static constexpr std::string_view kFrags[] = {"normal", "drop", "reassemble", "nx-match"};
          return fmt::format(" frags={} miss_send_len={}\n", kFrags[m.flags & 3], m.miss_send_len);
        } else if constexpr (std::is_same_v<T, ErrorMsg>) {
          OfpErr e = MakeOfpErr(m.type, m.code);
          std::string_view name = OfpErrName(e);
          std::string s =
              name.empty() ? fmt::format(" ***unknown error type {} code {}***\n", m.type, m.code)
                           : fmt::format(" {}\n", name);
          if (m.type == 0) {  // HELLO_FAILED carries text
            s += std::string(m.data.begin(), m.data.end()) + "\n";
          } else if (!m.data.empty()) {
            s += FormatRawMessage(m.data);
          }
          return s;
        } else if constexpr (std::is_same_v<T, MultipartReply>) {
          std::string s = (m.flags & kMultipartMore) ? " flags=[more]" : "";
          return s + MultipartReplyText(m);
        } else if constexpr (std::is_same_v<T, MultipartRequest>) {
          return "\n";
        } else if constexpr (std::is_same_v<T, FlowMod>) {
          return FlowModText(m);
        } else if constexpr (std::is_same_v<T, GroupMod>) {
          static constexpr std::string_view kCmds[] = {"ADD", "MOD", "DEL"};
          auto c = static_cast<size_t>(m.command);
          std::string s = fmt::format(" {} group_id={}", c < 3 ? kCmds[c] : "?", m.group_id);
          if (m.command != GroupModCommand::kDelete) {
            s += fmt::format(",type={}", GroupTypeName(m.type));
            for (const Bucket& b : m.buckets) s += "," + FormatBucket(b, m.type);
          }
          return s + "\n";
        } else if constexpr (std::is_same_v<T, MeterMod>) {
          static constexpr std::string_view kCmds[] = {"ADD", "MOD", "DEL"};
          auto c = static_cast<size_t>(m.command);
          MeterConfig mc{m.flags, m.meter_id, m.bands};
          return fmt::format(" {} ", c < 3 ? kCmds[c] : "?") + MeterConfigText(mc);
        } else if constexpr (std::is_same_v<T, PortMod>) {
          return fmt::format(" port: {}: addr:{}\n     config: {}\n     mask:   {}\n",
                             FormatPort(m.port_no), FormatMac(m.hw_addr.data()),
                             BitNames(m.config, PortConfigName), BitNames(m.mask, PortConfigName)) +
                 (m.advertise ? "     advertise: " + BitNames(m.advertise, PortFeatureName) + "\n"
                              : "     advertise: UNCHANGED\n");
        } else if constexpr (std::is_same_v<T, PacketOut>) {
          std::string s =
              " in_port=" + FormatPort(m.in_port) + " actions=" + FormatActions(m.actions);
          if (m.buffer_id != kNoBuffer) {
            s += fmt::format(" buffer={:#010x}\n", m.buffer_id);
          } else {
            s += fmt::format(" data_len={}\n{}\n", m.data.size(), PacketSummary(m.data));
          }
          return s;
        } else if constexpr (std::is_same_v<T, PacketIn>) {
          std::string s;
          if (m.table_id) s += fmt::format(" table_id={}", m.table_id);
          if (m.cookie != ~uint64_t{0}) s += fmt::format(" cookie={:#x}", m.cookie);
          s += fmt::format(" total_len={} ", m.total_len);
          s += FormatMatch(m.match);
          static constexpr std::string_view kReasons[] = {"no_match", "action", "invalid_ttl"};
          auto r = static_cast<size_t>(m.reason);
          s += fmt::format(" (via {}) data_len={}", r < 3 ? kReasons[r] : "?", m.data.size());
          if (m.buffer_id == kNoBuffer) {
            s += " (unbuffered)\n";
          } else {
            s += fmt::format(" buffer={:#010x}\n", m.buffer_id);
          }
          if (!m.data.empty()) s += PacketSummary(m.data) + "\n";
          return s;
        } else if constexpr (std::is_same_v<T, FlowRemoved>) {
          static constexpr std::string_view kReasons[] = {"idle", "hard", "delete", "group_delete"};
          auto r = static_cast<size_t>(m.reason);
          std::string s = " " + FormatMatch(m.match, m.priority);
          s += fmt::format(" reason={}", r < 4 ? kReasons[r] : "?");
          if (m.table_id != 255) s += fmt::format(" table_id={}", m.table_id);
          if (m.cookie) s += fmt::format(" cookie:{:#x}", m.cookie);
          s += " duration" + Duration(m.duration_sec, m.duration_nsec);
          s += fmt::format(" idle{}", m.idle_timeout);
          if (m.hard_timeout) s += fmt::format(" hard{}", m.hard_timeout);
          s += fmt::format(" pkts{} bytes{}\n", m.packet_count, m.byte_count);
          return s;
        } else if constexpr (std::is_same_v<T, PortStatus>) {
          static constexpr std::string_view kReasons[] = {"ADD", "DEL", "MOD"};
          auto r = static_cast<size_t>(m.reason);
          return fmt::format(" {}:", r < 3 ? kReasons[r] : "?") + PortDescText(m.desc);
        } else if constexpr (std::is_same_v<T, EchoRequest> || std::is_same_v<T, EchoReply>) {
          // (ovs-ofctl monitor and snoop print at a verbosity that adds the payload.)
          return fmt::format(" {} bytes of payload\n", m.data.size()) + HexDump(m.data);
        } else if constexpr (std::is_same_v<T, RoleRequest> || std::is_same_v<T, RoleReply>) {
          static constexpr std::string_view kRoles[] = {"nochange", "equal", "master", "slave"};
          auto r = static_cast<size_t>(m.role);
          return fmt::format(" role={} generation_id={}\n", r < 4 ? kRoles[r] : "?",
                             m.generation_id);
        } else {
          return "\n";
        }
      },
      msg.body);
}

std::string_view TypeName(size_t t) {
  static constexpr std::string_view kNames[] = {"OFPT_HELLO",
                                                "OFPT_ERROR",
                                                "OFPT_ECHO_REQUEST",
                                                "OFPT_ECHO_REPLY",
                                                "OFPT_EXPERIMENTER",
                                                "OFPT_FEATURES_REQUEST",
                                                "OFPT_FEATURES_REPLY",
                                                "OFPT_GET_CONFIG_REQUEST",
                                                "OFPT_GET_CONFIG_REPLY",
                                                "OFPT_SET_CONFIG",
                                                "OFPT_PACKET_IN",
                                                "OFPT_FLOW_REMOVED",
                                                "OFPT_PORT_STATUS",
                                                "OFPT_PACKET_OUT",
                                                "OFPT_FLOW_MOD",
                                                "OFPT_GROUP_MOD",
                                                "OFPT_PORT_MOD",
                                                "OFPT_TABLE_MOD",
                                                "OFPT_MULTIPART_REQUEST",
                                                "OFPT_MULTIPART_REPLY",
                                                "OFPT_BARRIER_REQUEST",
                                                "OFPT_BARRIER_REPLY",
                                                "OFPT_QUEUE_GET_CONFIG_REQUEST",
                                                "OFPT_QUEUE_GET_CONFIG_REPLY",
                                                "OFPT_ROLE_REQUEST",
                                                "OFPT_ROLE_REPLY",
                                                "OFPT_GET_ASYNC_REQUEST",
                                                "OFPT_GET_ASYNC_REPLY",
                                                "OFPT_SET_ASYNC",
                                                "OFPT_METER_MOD"};
  return t < std::size(kNames) ? kNames[t] : "OFPT_UNKNOWN";
}

}  // namespace

std::string HexDump(ByteSpan data) {
  std::string s;
  for (size_t off = 0; off < data.size(); off += 16) {
    size_t n = std::min<size_t>(16, data.size() - off);
    s += fmt::format("{:08x}  ", off);
    for (size_t i = 0; i < 16; ++i) {
      if (i < n) {
        s += fmt::format("{:02x}{}", data[off + i], i == 7 ? '-' : ' ');
      } else {
        s += "   ";
      }
    }
    s += '|';
    for (size_t i = 0; i < 16; ++i) {
      if (i < n) {
        uint8_t c = data[off + i];
        s += c >= 32 && c < 127 ? static_cast<char>(c) : '.';
      } else {
        s += ' ';
      }
    }
    s += "|\n";
  }
  return s;
}

std::string FormatMessage(const Message& msg) {
  std::string head;
  if (const auto* mr = std::get_if<MultipartReply>(&msg.body)) {
    head = std::string(MultipartName(mr->body)) + " reply";
  } else if (const auto* rq = std::get_if<MultipartRequest>(&msg.body)) {
    head = std::string(MultipartName(rq->body)) + " request";
  } else {
    head = std::string(TypeName(static_cast<size_t>(TypeOf(msg.body))));
  }
  head += fmt::format(" ({}) (xid={:#x}):", VersionName(msg.version), msg.xid);
  return head + BodyText(msg);
}

std::string FormatRawMessage(ByteSpan data) {
  std::string s;
  if (data.size() < kHeaderLen) {
    s = fmt::format("OpenFlow packet too short (only {} bytes):\n", data.size());
  } else {
    size_t len = size_t{data[2]} << 8 | data[3];
    if (len > data.size()) {
      // As ovs-ofctl: the header line when the type is known, then the truncation note.
      uint8_t type = data[1];
      std::string name(TypeName(type));
      if ((type == 18 || type == 19) && data.size() >= 10) {
        static constexpr std::string_view kStats[] = {
            "OFPST_DESC",           "OFPST_FLOW",     "OFPST_AGGREGATE",    "OFPST_TABLE",
            "OFPST_PORT",           "OFPST_QUEUE",    "OFPST_GROUP",        "OFPST_GROUP_DESC",
            "OFPST_GROUP_FEATURES", "OFPST_METER",    "OFPST_METER_CONFIG", "OFPST_METER_FEATURES",
            "OFPST_TABLE_FEATURES", "OFPST_PORT_DESC"};
        size_t mp = size_t{data[8]} << 8 | data[9];
        name = mp < std::size(kStats)
                   ? std::string(kStats[mp]) + (type == 18 ? " request" : " reply")
                   : "";
      }
      if (name != "OFPT_UNKNOWN" && !name.empty()) {
        uint32_t xid =
            uint32_t{data[4]} << 24 | uint32_t{data[5]} << 16 | uint32_t{data[6]} << 8 | data[7];
        s = fmt::format("{} ({}) (xid={:#x}):\n", name, VersionName(data[0]), xid);
      }
      s += fmt::format("(***truncated to {} bytes from {}***)\n", data.size(), len);
    } else if (len < data.size()) {
      s = fmt::format("(***only uses {} bytes out of {}***)\n", len, data.size());
    } else {
      OfpResult<Message> m = DecodeMessage(data);
      if (m) return FormatMessage(*m);
      s = fmt::format("***decode error: {}***\n", OfpErrName(m.error().err));
    }
  }
  return s + HexDump(data);
}

}  // namespace sluice::ofp::text
