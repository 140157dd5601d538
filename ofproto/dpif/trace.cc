// ofproto/trace (trace.h).
#include "ofproto/dpif/trace.h"

#include <arpa/inet.h>

#include <fmt/format.h>
#include <algorithm>
#include <cstring>

#include "common/clock.h"
#include "datapath/flow/odp_text.h"
#include "datapath/packet/parse.h"
#include "ofproto/dpif/backer.h"
#include "ofproto/text/ofp_text.h"

namespace sluice::ofp {
namespace {

// The id of the recirc() action that ends `actions`, or 0.
uint32_t LastRecirc(dp::ActionView actions) {
  uint32_t id = 0;
  for (auto a = actions.begin(); a != actions.end(); ++a) {
    id = static_cast<dp::ActionType>(a->type) == dp::ActionType::kRecirc
             ? a.payload<dp::ActRecirc>().recirc_id
             : 0;
  }
  return id;
}

// The mask that shows a packet's whole key and nothing it does not have (absent VLAN tags, the
// MPLS entry of a non-MPLS packet), for the trace's "Flow:" lines.
dp::FlowMask PacketMask(const dp::FlowKey& k) {
  dp::FlowMask m;
  m.SetAll();
  for (size_t i = 0; i < 2; ++i) {
    if (k.vlans[i].tci == 0 && k.vlans[i].tpid == 0) m.bits.vlans[i] = dp::VlanHdr{};
  }
  if (!dp::IsMplsEthType(ntohs(k.eth_type))) m.bits.mpls_lse = 0;
  return m;
}

// Keeps the packet a recirc() hands back; userspace() copies are not kept (Execute in trace
// mode discards them anyway).
class RecircCatcher final : public dp::ExecuteSink {
 public:
  void Userspace(const dp::ActUserspace&, dp::DpPacket) override {}
  void Recirc(uint32_t, dp::DpPacket packet) override { recirculated = std::move(packet); }
  dp::DpPacket recirculated;
};

// The bytes of `packet` after the datapath ran `actions` on it, as recirc() gets them: the
// datapath's trace mode (nothing leaves, meters let everything pass).
Result<std::vector<uint8_t>> ExecuteForTrace(dp::Dpif& dpif, const std::vector<uint8_t>& packet,
                                             uint32_t in_port, dp::ActionView actions) {
  auto m = dpif.PacketFromBytes(packet, in_port);
  if (!m) return std::unexpected(m.error());
  RecircCatcher sink;
  dpif.Execute(std::move(*m), actions, &sink, dp::ExecuteMode::kTrace);
  if (!sink.recirculated) return MakeError(Errc::kInvalid, "the actions drop the packet");
  return sink.recirculated.Bytes();
}

// bytes = (bytes & ~mask) | (value & mask)
void MaskedSet(void* dst, const void* value, const void* mask, size_t n) {
  auto* d = static_cast<uint8_t*>(dst);
  const auto* v = static_cast<const uint8_t*>(value);
  const auto* k = static_cast<const uint8_t*>(mask);
  for (size_t i = 0; i < n; ++i) d[i] = static_cast<uint8_t>((d[i] & ~k[i]) | (v[i] & k[i]));
}

}  // namespace

void ApplyActionsToKey(dp::ActionView actions, dp::FlowKey* k) {
  using dp::ActionType;
  for (auto a = actions.begin(); a != actions.end(); ++a) {
    switch (static_cast<ActionType>(a->type)) {
      case ActionType::kPushVlan: {
        const auto& p = a.payload<dp::ActPushVlan>();
        k->vlans[1] = k->vlans[0];
        k->vlans[0].tpid = p.tpid;
        k->vlans[0].tci = p.tci | htons(dp::kVlanCfi);
        break;
      }
      case ActionType::kPopVlan:
        k->vlans[0] = k->vlans[1];
        k->vlans[1] = dp::VlanHdr{};
        break;
      case ActionType::kPushMpls: {
        const auto& p = a.payload<dp::ActPushMpls>();
        // Nothing after an MPLS header is parsed.
        constexpr size_t kL3 = offsetof(dp::FlowKey, nw_src);
        std::memset(reinterpret_cast<uint8_t*>(k) + kL3, 0, sizeof(*k) - kL3);
        k->eth_type = p.ethertype;
        k->mpls_lse = p.lse;
        break;
      }
      case ActionType::kPopMpls:
        k->eth_type = a.payload<dp::ActPopMpls>().ethertype;
        k->mpls_lse = 0;
        break;
      case ActionType::kSetMasked: {
        const auto& s = a.payload<dp::ActSetMasked>();
        const auto& v = s.value;
        const auto& m = s.mask;
        switch (static_cast<dp::SetHeader>(s.header)) {
          case dp::SetHeader::kEthernet:
            MaskedSet(&k->eth_src, &v.eth.src, &m.eth.src, 6);
            MaskedSet(&k->eth_dst, &v.eth.dst, &m.eth.dst, 6);
            break;
          case dp::SetHeader::kMpls:
            MaskedSet(&k->mpls_lse, &v.mpls.lse, &m.mpls.lse, 4);
            break;
          case dp::SetHeader::kIpv4:
            if (ntohs(k->eth_type) != 0x0800) break;  // no such header: unchanged
            MaskedSet(&k->nw_src, &v.ipv4.src, &m.ipv4.src, 4);
            MaskedSet(&k->nw_dst, &v.ipv4.dst, &m.ipv4.dst, 4);
            MaskedSet(&k->nw_tos, &v.ipv4.tos, &m.ipv4.tos, 1);
            MaskedSet(&k->nw_ttl, &v.ipv4.ttl, &m.ipv4.ttl, 1);
            break;
          case dp::SetHeader::kIpv6:
            if (ntohs(k->eth_type) != 0x86dd) break;
            MaskedSet(&k->ipv6_src, &v.ipv6.src, &m.ipv6.src, sizeof(k->ipv6_src));
            MaskedSet(&k->ipv6_dst, &v.ipv6.dst, &m.ipv6.dst, sizeof(k->ipv6_dst));
            MaskedSet(&k->ipv6_label, &v.ipv6.label, &m.ipv6.label, 4);
            MaskedSet(&k->nw_tos, &v.ipv6.tclass, &m.ipv6.tclass, 1);
            MaskedSet(&k->nw_ttl, &v.ipv6.hlimit, &m.ipv6.hlimit, 1);
            break;
          case dp::SetHeader::kTcp:
          case dp::SetHeader::kUdp:
          case dp::SetHeader::kSctp:
            MaskedSet(&k->tp_src, &v.ports.src, &m.ports.src, 2);
            MaskedSet(&k->tp_dst, &v.ports.dst, &m.ports.dst, 2);
            break;
          case dp::SetHeader::kArp: {
            if (ntohs(k->eth_type) != 0x0806) break;
            MaskedSet(&k->nw_src, &v.arp.sip, &m.arp.sip, 4);
            MaskedSet(&k->nw_dst, &v.arp.tip, &m.arp.tip, 4);
            uint8_t op = static_cast<uint8_t>(ntohs(v.arp.op)),
                    op_mask = static_cast<uint8_t>(ntohs(m.arp.op));
            MaskedSet(&k->nw_proto, &op, &op_mask, 1);
            MaskedSet(&k->arp_sha, &v.arp.sha, &m.arp.sha, 6);
            MaskedSet(&k->arp_tha, &v.arp.tha, &m.arp.tha, 6);
            break;
          }
          case dp::SetHeader::kIcmp:
          case dp::SetHeader::kIcmpv6: {
            // The key keeps type and code in the low byte of tp_src / tp_dst (network order).
            uint16_t type = htons(v.icmp.type), type_mask = htons(m.icmp.type);
            uint16_t code = htons(v.icmp.code), code_mask = htons(m.icmp.code);
            MaskedSet(&k->tp_src, &type, &type_mask, 2);
            MaskedSet(&k->tp_dst, &code, &code_mask, 2);
            break;
          }
          case dp::SetHeader::kNd:
            MaskedSet(&k->nd_target, &v.nd.target, &m.nd.target, sizeof(k->nd_target));
            MaskedSet(&k->arp_sha, &v.nd.sll, &m.nd.sll, 6);
            MaskedSet(&k->arp_tha, &v.nd.tll, &m.nd.tll, 6);
            break;
        }
        break;
      }
      default:  // output, userspace, meter, recirc: the key stays
        break;
    }
  }
}

Result<std::string> TraceLocked(Backer& b, const std::string& bridge, const std::string& flow) {
  b.mu.AssertHeld();
  BridgeState* br = b.BridgeOf(bridge);
  if (!br) return MakeError(Errc::kNotFound, "no bridge named " + bridge);
  XlateInput in;
  in.bridge = &br->x;
  in.learn = false;
  in.count = false;
  in.now_ms = clock::NowMs();
  in.key.Clear();
  std::string text = flow;
  // "in_port=PORT,HEXPACKET" or "in_port=PORT" with a datapath flow, or a datapath flow, or a
  // flow in ovs-ofctl's syntax ("in_port=p1,tcp,nw_dst=10.0.0.1,tp_dst=80").
  uint32_t ofport = 0;
  bool have_port = false;
  size_t first_comma = text.find(',');
  bool hex_packet =
      text.rfind("in_port=", 0) == 0 && first_comma != std::string::npos &&
      first_comma + 1 < text.size() &&
      std::all_of(text.begin() + static_cast<std::ptrdiff_t>(first_comma) + 1, text.end(),
                  [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
  std::optional<Match> of_match;
  if (text.find('(') == std::string::npos && !hex_packet) {
    text::ParseOptions opts;
    opts.resolve_port = [br](std::string_view name) -> std::optional<uint32_t> {
      for (const auto& [no, xp] : br->x.ports) {
        if (xp.name == name) return no;
      }
      return std::nullopt;
    };
    auto m = text::ParseMatch(flow, opts);
    if (!m) return std::unexpected(m.error());
    const OxmEntry* port = m->Find(OxmField::kInPort);
    if (!port) return MakeError(Errc::kInvalid, "the flow needs an in_port");
    ofport = static_cast<uint32_t>(port->ValueU64());
    if (!br->x.Port(ofport)) {
      return MakeError(Errc::kInvalid,
                       "no port " + text::FormatPort(ofport) + " on bridge " + bridge);
    }
    in.key = KeyFromMatch(*m);
    have_port = true;
    of_match = std::move(*m);
    text.clear();
  }
  if (!of_match && text.rfind("in_port=", 0) == 0) {
    size_t comma = text.find(',');
    std::string port = text.substr(8, comma == std::string::npos ? std::string::npos : comma - 8);
    bool found = false;
    for (const auto& [no, xp] : br->x.ports) {
      if (xp.name == port) {
        ofport = no;
        found = true;
      }
    }
    if (!found) {
      try {
        ofport = static_cast<uint32_t>(std::stoul(port));
        found = br->x.Port(ofport) != nullptr;
      } catch (...) {
      }
    }
    if (!found) return MakeError(Errc::kInvalid, "no port " + port + " on bridge " + bridge);
    have_port = true;
    text = comma == std::string::npos ? "" : text.substr(comma + 1);
  }
  bool hex = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c));
  });
  std::vector<uint8_t> packet;
  if (hex) {
    if (text.size() % 2) return MakeError(Errc::kInvalid, "odd number of hex digits");
    packet.resize(text.size() / 2);
    for (size_t i = 0; i < packet.size(); ++i) {
      packet[i] = static_cast<uint8_t>(std::stoul(text.substr(2 * i, 2), nullptr, 16));
    }
    dp::ParsePacket(packet.data(), static_cast<uint32_t>(packet.size()), &in.key);
  } else if (!text.empty()) {
    dp::FlowMask mask;
    if (auto r = dp::ParseOdpFlow(text, &in.key, &mask); !r) return std::unexpected(r.error());
    if (!have_port) {
      auto it = b.by_dp_port.find(in.key.in_port);
      if (it == b.by_dp_port.end() || it->second.first != br) {
        return MakeError(Errc::kInvalid, "the flow's in_port is not a port of " + bridge);
      }
      ofport = it->second.second;
      have_port = true;
    }
  }
  if (!have_port) return MakeError(Errc::kInvalid, "the flow needs an in_port");
  const XPort* xp = br->x.Port(ofport);
  if (have_port && xp && xp->dp_port != kOdpPortNone) in.key.in_port = xp->dp_port;
  in.in_ofport = ofport;
  std::string out;
  if (of_match)
    out = "Flow: " + text::FormatMatch(*of_match) + "\nDatapath flow: ";
  else
    out = "Flow: ";
  out += dp::FormatOdpFlow(in.key, PacketMask(in.key)) + "\n";
  // One pass per recirculation, as the datapath runs them: the packet (or, for a flow, its key)
  // as the actions before recirc(N) leave it is parsed again with recirc_id N, and the frozen
  // translation resumes.
  for (unsigned pass = 0;; ++pass) {
    std::string trace;
    in.trace = &trace;
    XlateResult r = Translate(b.EnvLocked(), in);
    out += "\nbridge(\"" + in.bridge->name + "\")\n" + std::string(15, '-') + "\n" + trace + "\n";
    dp::FlowKey masked;
    dp::ApplyMask(in.key, r.mask, &masked);
    out += "Megaflow: " + dp::FormatOdpFlow(masked, r.mask) + "\n";
    out += "Datapath actions: " +
           (r.actions.size() ? dp::FormatOdpActions(r.actions.view()) : std::string("drop")) + "\n";
    if (r.error) out += "Translation error: " + r.error_text + "\n";
    uint32_t id = LastRecirc(r.actions.view());
    if (!id) break;
    out += "\n" + std::string(79, '=') +
           fmt::format("\nrecirc({:#x}) - the packet is parsed again and the translation resumes\n",
                       id) +
           std::string(79, '=') + "\n\n";
    if (pass + 1 >= b.limits.max_recirc_depth) {
      out += fmt::format("Recirculation depth limit ({}) reached: the datapath drops the packet\n",
                         b.limits.max_recirc_depth);
      break;
    }
    dp::FlowKey next;
    if (!packet.empty()) {
      // Run the actions on a copy of the packet (outputs and userspace discarded, meters
      // passed) and take what the recirculation would get.
      auto again = ExecuteForTrace(b.dpif, packet, in.key.in_port, r.actions.view());
      if (!again) {
        out += "Cannot execute the actions on the packet: " + again.error().message + "\n";
        break;
      }
      packet = std::move(*again);
      next.Clear();
      next.in_port = in.key.in_port;
      dp::ParsePacket(packet.data(), static_cast<uint32_t>(packet.size()), &next);
    } else {
      next = in.key;
      ApplyActionsToKey(r.actions.view(), &next);
    }
    next.recirc_id = id;
    XBridge* xbr = nullptr;
    uint32_t rc_ofport = 0;
    if (!b.ResolveInputLocked(next, &xbr, &rc_ofport)) {
      out += fmt::format("No recirculation state for recirc_id {:#x}: the packet is dropped\n", id);
      break;
    }
    out += "Flow: " + dp::FormatOdpFlow(next, PacketMask(next)) + "\n";
    in.key = next;
    in.bridge = xbr;
    in.in_ofport = rc_ofport;
  }
  return out;
}

}  // namespace sluice::ofp
