#include "ofproto/switch.h"

#include <arpa/inet.h>
#include <rte_mbuf.h>

#include <fmt/format.h>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <unordered_set>

#include "common/clock.h"
#include "datapath/actions/execute.h"
#include "datapath/dpif_netdev/pmd.h"
#include "datapath/flow/odp_text.h"
#include "datapath/packet/parse.h"
#include "ofproto/text/ofp_text.h"
#include "sluice/log.h"

namespace sluice::ofp {
namespace {

auto Log() {
  static auto l = log::Get("ofproto_dpif");
  return l;
}

bool MaskSubset(const dp::FlowMask& inner, const dp::FlowMask& outer) {
  const uint64_t* a = inner.bits.words();
  const uint64_t* b = outer.bits.words();
  for (size_t i = 0; i < dp::FlowKey::kWords; ++i) {
    if (a[i] & ~b[i]) return false;
  }
  return true;
}

bool SameActions(const dp::ActionBuilder& a, const dp::ActionBuilder& b) {
  if (a.size() != b.size()) return false;
  return a.size() == 0 || std::memcmp(a.view().data(), b.view().data(), a.size()) == 0;
}

// Credits packets to the rules and groups (and buckets) of a translation: datapath counters
// pushed up, or packets the control side forwarded itself (upcalls, packet-outs).
void Credit(const std::vector<std::shared_ptr<const Rule>>& rules,
            const std::vector<std::pair<std::shared_ptr<const Group>, int>>& groups,
            uint64_t packets, uint64_t bytes, int64_t now) {
  for (const auto& rule : rules) rule->AddStats(packets, bytes, now);
  for (const auto& [g, bucket] : groups) {
    g->CountPackets(packets, bytes);
    if (bucket >= 0) g->CountBucketPackets(static_cast<size_t>(bucket), packets, bytes);
    if (bucket == -1) {
      for (size_t i = 0; i < g->buckets().size(); ++i) g->CountBucketPackets(i, packets, bytes);
    }
  }
}

std::string MacText(const Mac& m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4],
                     m[5]);
}

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

// Where ofproto/trace runs a packet's actions: nothing leaves, meters let everything pass, and
// the packet a recirc() hands back is kept.
struct TraceSink {
  rte_mempool* pool = nullptr;
  rte_mbuf* recirculated = nullptr;
  void Output(uint32_t, rte_mbuf* m) { rte_pktmbuf_free(m); }
  void Userspace(const dp::ActUserspace&, rte_mbuf* m) { rte_pktmbuf_free(m); }
  void Recirc(uint32_t, rte_mbuf* m) {
    if (recirculated) rte_pktmbuf_free(recirculated);
    recirculated = m;
  }
  rte_mempool* ClonePool() { return pool; }
  void CountDrop() {}
  bool Meter(uint32_t, rte_mbuf*) { return true; }
};

// The bytes of `packet` after the datapath ran `actions` on it, as recirc() gets them.
Result<std::vector<uint8_t>> ExecuteForTrace(rte_mempool* pool, const std::vector<uint8_t>& packet,
                                             uint32_t in_port, dp::ActionView actions) {
  rte_mbuf* m = pool ? rte_pktmbuf_alloc(pool) : nullptr;
  if (!m) return MakeError(Errc::kInvalid, "no packet buffers");
  char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(std::min<size_t>(packet.size(), 65535)));
  if (!p || packet.size() > 65535) {
    rte_pktmbuf_free(m);
    return MakeError(Errc::kInvalid, "packet larger than a packet buffer");
  }
  std::memcpy(p, packet.data(), packet.size());
  m->port = static_cast<uint16_t>(in_port);
  TraceSink sink;
  sink.pool = pool;
  dp::ExecuteActions(actions, m, sink);
  if (!sink.recirculated) return MakeError(Errc::kInvalid, "the actions drop the packet");
  std::vector<uint8_t> out(rte_pktmbuf_pkt_len(sink.recirculated));
  const void* src =
      rte_pktmbuf_read(sink.recirculated, 0, static_cast<uint32_t>(out.size()), out.data());
  if (src && src != out.data()) std::memcpy(out.data(), src, out.size());
  rte_pktmbuf_free(sink.recirculated);
  return out;
}

// bytes = (bytes & ~mask) | (value & mask)
void MaskedSet(void* dst, const void* value, const void* mask, size_t n) {
  auto* d = static_cast<uint8_t*>(dst);
  const auto* v = static_cast<const uint8_t*>(value);
  const auto* k = static_cast<const uint8_t*>(mask);
  for (size_t i = 0; i < n; ++i) d[i] = static_cast<uint8_t>((d[i] & ~k[i]) | (v[i] & k[i]));
}

// The key the datapath would parse after running `actions` on a packet with key `k`, for a
// trace given as a flow: there are no bytes beyond the key, so what the actions expose (the
// headers under a popped MPLS entry) keeps the values the flow gave, zero by default.
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

}  // namespace

// A megaflow as the datapath knows it: the masked key and the mask.
struct Switch::MfKey {
  dp::FlowKey key;
  dp::FlowMask mask;
  bool operator==(const MfKey& o) const { return key == o.key && mask == o.mask; }
};
struct Switch::MfKeyHash {
  size_t operator()(const MfKey& k) const {
    return dp::HashFlowKey(k.key, dp::HashFlowKey(k.mask.bits));
  }
};

// One remembered megaflow.
struct Switch::Tracked {
  dp::FlowKey orig;  // the key of the packet that created it (translation input)
  std::vector<std::shared_ptr<const Rule>> rules;
  std::vector<std::pair<std::shared_ptr<const Group>, int>> groups;
  std::vector<std::pair<FlowTable*, bool>> tables;
  dp::ActionBuilder actions;
  uint64_t packets = 0, bytes = 0;  // as last read from the datapath
  uint64_t gen = 0;                 // stats generation when installed
};

struct Switch::PortRec {
  BridgePortSpec spec;
  bool link_up = true;
};

class Switch::Backend : public OfprotoHooks {
 public:
  Backend(Switch& sw, Bridge& br) : sw_(sw), br_(br) {}
  std::unique_lock<std::mutex> Lock() override { return std::unique_lock(sw_.mu_); }
  void Changed() override { sw_.MarkDirtyLocked(); }
  void Sync() override { sw_.SyncLocked(); }
  std::optional<OfpError> PacketOut(const ofp::PacketOut& po) override {
    return sw_.PacketOutLocked(br_, po);
  }
  void RefreshStats() override { sw_.PushStatsLocked(); }
  std::optional<OfpError> MeterSet(const Meter& m) override { return sw_.MeterSetLocked(br_, m); }
  void MeterDel(uint32_t meter_id) override { sw_.MeterDelLocked(br_, meter_id); }

 private:
  Switch& sw_;
  Bridge& br_;
};

struct Switch::Bridge {
  std::unique_ptr<Ofproto> ofp;
  std::unique_ptr<Backend> hooks;
  XBridge x;
  MacLearning mac;
  std::map<std::string, PortRec> ports;  // by port name
  bool secure = false;
  // The bridge's meters in the datapath, and their counters as last credited to the OpenFlow
  // meter table.
  struct MeterRec {
    uint32_t dp_id = 0;
    dp::MeterCount in;
    std::vector<dp::MeterCount> bands;
  };
  std::map<uint32_t, MeterRec> meters;  // by OpenFlow meter id
};

// The megaflow table lives behind a pimpl-ish map keyed by MfKey.
struct Switch::TrackedMap {
  std::unordered_map<MfKey, Tracked, MfKeyHash> map;
};

Switch::Switch(asio::io_context& io, dp::Datapath& dp, std::string rundir, SwitchOptions cfg)
    : io_(io),
      dp_(dp),
      rundir_(std::move(rundir)),
      cfg_(cfg),
      tracked_(std::make_unique<TrackedMap>()),
      dp_meter_used_(dp::kMaxMeters, false),
      stats_timer_(io) {
  dp_.SetUpcallHandler(this);
  ArmStatsTimer();
}

Switch::~Switch() {
  dp_.SetUpcallHandler(nullptr);
  *alive_ = false;
  stats_timer_.cancel();
  std::lock_guard lk(mu_);
  for (auto& [k, t] : tracked_->map) (void)dp_.FlowDel(k.key, k.mask);
  tracked_->map.clear();
  for (auto& [n, br] : bridges_) {
    for (const auto& [id, rec] : br->meters) (void)dp_.MeterDel(rec.dp_id);
  }
  // Bridges close their connections as they go.
  bridges_.clear();
}

// ---------------------------------------------------------------- bridges

Switch::Bridge* Switch::BridgeOf(const std::string& name) const {
  auto it = bridges_.find(name);
  return it == bridges_.end() ? nullptr : it->second.get();
}

Result<Ofproto*> Switch::AddBridge(const std::string& name, uint64_t datapath_id, bool secure,
                                   bool has_controllers) {
  std::unique_lock lk(mu_);
  if (bridges_.count(name)) return MakeError(Errc::kExists, "bridge " + name + " already exists");
  auto br = std::make_unique<Bridge>();
  br->mac = MacLearning(cfg_.mac_table_size, cfg_.mac_aging_s * 1000);
  br->ofp = std::make_unique<Ofproto>(io_, name, datapath_id);
  std::vector<std::string> dirs = {rundir_};
  dirs.insert(dirs.end(), cfg_.extra_rundirs.begin(), cfg_.extra_rundirs.end());
  for (const auto& dir : dirs) {
    if (auto r = br->ofp->connmgr().AddListener("punix:" + dir + "/" + name + ".mgmt"); !r) {
      return std::unexpected(r.error());
    }
    if (auto r = br->ofp->connmgr().AddSnoopListener("punix:" + dir + "/" + name + ".snoop"); !r) {
      return std::unexpected(r.error());
    }
  }
  br->hooks = std::make_unique<Backend>(*this, *br);
  br->ofp->SetHooks(br->hooks.get());
  br->x.name = name;
  br->x.ofproto = br->ofp.get();
  br->x.mac = &br->mac;
  br->secure = secure;
  br->ofp->SetFailMode(secure);
  Bridge* b = br.get();
  b->ofp->OnPortStatsRequest([this, b](std::vector<OfPort>& ports) {
    auto dps = dp_.Ports();
    for (auto& p : ports) {
      const XPort* xp = b->x.Port(p.desc.port_no);
      if (!xp || xp->dp_port == kNoDpPort) continue;
      for (const auto& d : dps) {
        if (d.port_no != xp->dp_port) continue;
        p.stats.rx_packets = d.stats.rx_packets;
        p.stats.tx_packets = d.stats.tx_packets;
        p.stats.rx_bytes = d.stats.rx_bytes;
        p.stats.tx_bytes = d.stats.tx_bytes;
        p.stats.rx_dropped = d.stats.rx_dropped;
        p.stats.tx_dropped = d.stats.tx_dropped;
        p.stats.rx_errors = d.stats.rx_errors;
        p.stats.tx_errors = d.stats.tx_errors;
      }
    }
  });
  bridges_[name] = std::move(br);
  if (!secure && !has_controllers) {
    // A standalone bridge starts as a learning switch: priority=0,actions=NORMAL in table 0,
    // as Open vSwitch installs it. Controllers may replace or delete it.
    FlowMod fm;
    fm.command = FlowModCommand::kAdd;
    fm.table_id = 0;
    fm.priority = 0;
    fm.instructions.push_back(InstApplyActions{{ActOutput{kPortNormal, 0}}});
    if (auto r = b->ofp->mutable_pipeline().ApplyFlowMod(fm, clock::NowMs()); !r) {
      Log()->warn("{}: cannot add the default NORMAL flow", name);
    }
  }
  PublishPortsLocked(*b);
  Log()->info("{}: bridge added (datapath id {:016x}{})", name, datapath_id,
              secure ? ", fail mode secure" : "");
  return b->ofp.get();
}

Result<void> Switch::DelBridge(const std::string& name) {
  std::unique_lock lk(mu_);
  auto it = bridges_.find(name);
  if (it == bridges_.end()) return MakeError(Errc::kNotFound, "no bridge named " + name);
  std::unique_ptr<Bridge> br = std::move(it->second);
  bridges_.erase(it);
  RebuildLocked();
  // Every megaflow may have passed through this bridge (patch ports): revalidate now, so none
  // keeps pointing at its rules, ports or meters.
  RevalidateLocked();
  for (const auto& [id, rec] : br->meters) {
    (void)dp_.MeterDel(rec.dp_id);
    dp_meter_used_[rec.dp_id] = false;
  }
  lk.unlock();
  br.reset();  // closes its connections (control thread, without the lock)
  Log()->info("{}: bridge deleted", name);
  return {};
}

Ofproto* Switch::FindBridge(const std::string& name) const {
  std::lock_guard lk(mu_);
  Bridge* b = BridgeOf(name);
  return b ? b->ofp.get() : nullptr;
}

std::vector<std::string> Switch::BridgeNames() const {
  std::lock_guard lk(mu_);
  std::vector<std::string> out;
  for (const auto& [n, b] : bridges_) out.push_back(n);
  return out;
}

void Switch::SetMaxMegaflows(size_t n) {
  std::lock_guard lk(mu_);
  cfg_.max_megaflows = n;
}

void Switch::SetFailMode(const std::string& bridge, bool secure) {
  std::lock_guard lk(mu_);
  if (Bridge* b = BridgeOf(bridge)) {
    b->secure = secure;
    b->ofp->SetFailMode(secure);
  }
}

// ---------------------------------------------------------------- ports

Result<uint32_t> Switch::AddPort(const std::string& bridge, const BridgePortSpec& spec_in) {
  std::lock_guard lk(mu_);
  Bridge* br = BridgeOf(bridge);
  if (!br) return MakeError(Errc::kNotFound, "no bridge named " + bridge);
  for (const auto& [n, b] : bridges_) {
    if (b->ports.count(spec_in.name)) {
      return MakeError(Errc::kExists, "port " + spec_in.name + " already exists on " + n);
    }
  }
  BridgePortSpec spec = spec_in;
  if (spec.ofport == 0) {
    uint32_t no = 1;
    while (br->x.ports.count(no)) ++no;
    spec.ofport = no;
  } else if (br->x.ports.count(spec.ofport)) {
    return MakeError(Errc::kExists,
                     fmt::format("OpenFlow port {} is in use on {}", spec.ofport, bridge));
  } else if (spec.ofport > kPortMax && spec.ofport != kPortLocal) {
    return MakeError(Errc::kInvalid, fmt::format("bad OpenFlow port number {}", spec.ofport));
  }
  br->ports[spec.name] = PortRec{spec};
  PublishPortsLocked(*br);
  MarkDirtyLocked();
  Log()->info("{}: port {} added as OpenFlow port {}{}", bridge, spec.name, spec.ofport,
              spec.dp_port == kNoDpPort ? "" : fmt::format(" (datapath port {})", spec.dp_port));
  return spec.ofport;
}

Result<void> Switch::DelPort(const std::string& bridge, const std::string& port_name) {
  std::lock_guard lk(mu_);
  Bridge* br = BridgeOf(bridge);
  if (!br) return MakeError(Errc::kNotFound, "no bridge named " + bridge);
  auto it = br->ports.find(port_name);
  if (it == br->ports.end()) {
    return MakeError(Errc::kNotFound, "bridge " + bridge + " has no port " + port_name);
  }
  uint32_t ofport = it->second.spec.ofport;
  br->ports.erase(it);
  br->mac.Flush(ofport);
  PublishPortsLocked(*br);
  // Megaflows forwarding to the port must go before the datapath port can be reused.
  RevalidateLocked();
  dirty_ = false;
  return {};
}

Result<void> Switch::SetPortVlan(const std::string& bridge, const std::string& port_name,
                                 const PortVlan& vlan) {
  std::lock_guard lk(mu_);
  Bridge* br = BridgeOf(bridge);
  if (!br) return MakeError(Errc::kNotFound, "no bridge named " + bridge);
  auto it = br->ports.find(port_name);
  if (it == br->ports.end()) {
    return MakeError(Errc::kNotFound, "bridge " + bridge + " has no port " + port_name);
  }
  if (it->second.spec.vlan == vlan) return {};
  it->second.spec.vlan = vlan;
  br->mac.Flush(it->second.spec.ofport);
  PublishPortsLocked(*br);
  MarkDirtyLocked();
  return {};
}

void Switch::SetPortLink(const std::string& port_name, bool up) {
  std::lock_guard lk(mu_);
  for (auto& [n, br] : bridges_) {
    auto it = br->ports.find(port_name);
    if (it == br->ports.end() || it->second.link_up == up) continue;
    it->second.link_up = up;
    PublishPortsLocked(*br);
    MarkDirtyLocked();
  }
}

std::optional<std::pair<std::string, uint32_t>> Switch::FindDpPort(uint32_t dp_port) const {
  std::lock_guard lk(mu_);
  auto it = by_dp_port_.find(dp_port);
  if (it == by_dp_port_.end()) return std::nullopt;
  return std::make_pair(it->second.first->x.name, it->second.second);
}

void Switch::PublishPortsLocked(Bridge& br) {
  std::vector<OfPort> ofports;
  br.x.ports.clear();
  for (const auto& [name, rec] : br.ports) {
    const BridgePortSpec& s = rec.spec;
    XPort xp;
    xp.ofport = s.ofport;
    xp.dp_port = s.dp_port;
    xp.name = s.name;
    xp.vlan = s.vlan;
    xp.link_up = rec.link_up;
    br.x.ports[s.ofport] = xp;
    OfPort op;
    op.desc.port_no = s.ofport;
    op.desc.name = s.name.substr(0, 15);
    op.desc.hw_addr = s.hw_addr;
    op.desc.state = rec.link_up ? 0x4 /* OFPPS_LIVE */ : 0x1 /* OFPPS_LINK_DOWN */;
    op.desc.curr = 0x2000 /* OFPPF_COPPER */ | 0x40 /* OFPPF_10GB_FD */;
    op.desc.curr_speed = s.curr_speed_kbps;
    op.desc.max_speed = s.curr_speed_kbps;
    ofports.push_back(op);
  }
  br.ofp->SetPorts(std::move(ofports));
  RebuildLocked();
}

void Switch::RebuildLocked() {
  by_dp_port_.clear();
  std::unordered_map<std::string, std::pair<Bridge*, uint32_t>> by_name;
  for (auto& [n, br] : bridges_) {
    for (auto& [no, xp] : br->x.ports) {
      if (xp.dp_port != kNoDpPort) by_dp_port_[xp.dp_port] = {br.get(), no};
      by_name[xp.name] = {br.get(), no};
    }
  }
  for (auto& [n, br] : bridges_) {
    for (auto& [name, rec] : br->ports) {
      XPort& xp = br->x.ports[rec.spec.ofport];
      xp.peer_bridge = nullptr;
      if (rec.spec.patch_peer.empty()) continue;
      auto it = by_name.find(rec.spec.patch_peer);
      if (it == by_name.end()) continue;
      Bridge* peer = it->second.first;
      auto pit = peer->ports.find(rec.spec.patch_peer);
      // Both ends must name each other.
      if (pit == peer->ports.end() || pit->second.spec.patch_peer != name) continue;
      xp.peer_bridge = &peer->x;
      xp.peer_ofport = it->second.second;
    }
  }
  xbridges_.clear();
  for (auto& [n, br] : bridges_) xbridges_[n] = &br->x;
}

// ---------------------------------------------------------------- upcalls

XlateEnv Switch::EnvLocked() {
  XlateEnv env;
  env.registry = &pin_registry_;
  env.recirc = &recirc_registry_;
  env.bridges = &xbridges_;
  return env;
}

void Switch::HandleUpcall(dp::Upcall& u) {
  std::unique_lock lk(mu_);
  if (u.is_action) {
    ++ctr_.action_upcalls;
    if (u.userspace_pid == kUserspacePidController) {
      std::vector<PendingPacketIn> pins;
      CollectPacketIn(static_cast<uint32_t>(u.cookie), u.packet, &pins);
      lk.unlock();
      DeliverPacketIns(std::move(pins));
    } else {
      rte_pktmbuf_free(u.packet);
    }
    return;
  }
  ++ctr_.upcalls;
  std::vector<PendingPacketIn> pins;
  std::vector<Recirculated> recircs;
  MissLocked(u.packet, u.key, &pins, &recircs);
  RecirculateLocked(std::move(recircs), &pins);
  lk.unlock();
  DeliverPacketIns(std::move(pins));
}

bool Switch::ResolveInputLocked(const dp::FlowKey& key, XBridge** br, uint32_t* ofport) const {
  if (key.recirc_id != 0) {
    // A recirculated packet continues where the frozen translation was.
    const FrozenState* f = recirc_registry_.Find(key.recirc_id);
    Bridge* b = f ? BridgeOf(f->bridge) : nullptr;
    if (!b) return false;
    *br = &b->x;
    *ofport = f->in_ofport;
    return true;
  }
  auto it = by_dp_port_.find(key.in_port);
  if (it == by_dp_port_.end()) return false;
  *br = &it->second.first->x;
  *ofport = it->second.second;
  return true;
}

void Switch::MissLocked(rte_mbuf* m, const dp::FlowKey& key, std::vector<PendingPacketIn>* pins,
                        std::vector<Recirculated>* recircs) {
  XBridge* xbr = nullptr;
  uint32_t ofport = 0;
  if (!ResolveInputLocked(key, &xbr, &ofport)) {
    if (key.recirc_id != 0 && !recirc_registry_.Find(key.recirc_id)) {
      ++ctr_.upcall_recirc_missing;
      Log()->debug("recirculated packet with unknown recirc_id {:#x} dropped", key.recirc_id);
    } else {
      ++ctr_.upcall_no_bridge;
    }
    rte_pktmbuf_free(m);
    return;
  }
  XlateInput in;
  in.bridge = xbr;
  in.key = key;
  in.in_ofport = ofport;
  in.learn = true;
  in.now_ms = clock::NowMs();
  XlateResult r = Translate(EnvLocked(), in);
  ++ctr_.xlates;
  if (r.error) {
    ++ctr_.xlate_errors;
    Log()->debug("{}: translation: {}", xbr->name, r.error_text);
  }
  if (r.mac_moved) MarkDirtyLocked();
  if (!r.learned.empty()) ForgetFloodsLocked(r.learned);
  if (!r.no_install) InstallLocked(key, r);
  Credit(r.rules, r.groups, 1, rte_pktmbuf_pkt_len(m), in.now_ms);
  ExecuteLocked(m, r.actions, pins, recircs);
}

void Switch::ExecuteLocked(rte_mbuf* m, const dp::ActionBuilder& actions,
                           std::vector<PendingPacketIn>* pins, std::vector<Recirculated>* recircs) {
  dp_.Execute(
      m, actions.view(),
      [&](const dp::ActUserspace& a, rte_mbuf* c) {
        if (a.pid == kUserspacePidController) {
          CollectPacketIn(static_cast<uint32_t>(a.cookie), c, pins);
        } else {
          rte_pktmbuf_free(c);
        }
      },
      [&](uint32_t id, rte_mbuf* c) {
        recircs->push_back({id, c});
      });
}

// Packets that the control side's execution recirculated run through the pipeline again as
// misses with their recirc_id (as the PMDs do with their own), to the same depth limit.
void Switch::RecirculateLocked(std::vector<Recirculated> recircs,
                               std::vector<PendingPacketIn>* pins) {
  for (unsigned depth = 0; !recircs.empty(); ++depth) {
    std::vector<Recirculated> next;
    for (const Recirculated& rc : recircs) {
      if (depth >= dp::Pmd::kMaxRecircDepth) {
        rte_pktmbuf_free(rc.m);
        continue;
      }
      dp::FlowKey key;
      key.Clear();
      key.in_port = rc.m->port;
      key.recirc_id = rc.id;
      dp::ParsePacket(rte_pktmbuf_mtod(rc.m, const uint8_t*), rte_pktmbuf_data_len(rc.m), &key);
      MissLocked(rc.m, key, pins, &next);
    }
    recircs = std::move(next);
  }
}

void Switch::CollectPacketIn(uint32_t ctx_id, rte_mbuf* m, std::vector<PendingPacketIn>* out) {
  const PacketInContext* ctx = pin_registry_.Find(ctx_id);
  if (!ctx) {
    rte_pktmbuf_free(m);
    return;
  }
  PendingPacketIn p;
  p.bridge = ctx->bridge;
  PacketIn& pi = p.pi;
  pi.reason = ctx->reason;
  pi.table_id = ctx->table_id;
  pi.cookie = ctx->cookie;
  pi.buffer_id = kNoBuffer;
  uint32_t len = rte_pktmbuf_pkt_len(m);
  pi.total_len = static_cast<uint16_t>(std::min<uint32_t>(len, 0xffff));
  // max_len OFPCML_NO_BUFFER (0xffff): the whole packet; no buffering, so never less than needed.
  uint32_t n = ctx->max_len == 0xffff ? len : std::min<uint32_t>(len, ctx->max_len);
  pi.data.resize(n);
  if (n) {
    const void* src = rte_pktmbuf_read(m, 0, n, pi.data.data());
    if (src && src != pi.data.data()) std::memcpy(pi.data.data(), src, n);
  }
  rte_pktmbuf_free(m);
  pi.match.Set(OxmEntry::Exact(OxmField::kInPort, ctx->in_port));
  if (ctx->metadata) pi.match.Set(OxmEntry::Exact(OxmField::kMetadata, ctx->metadata));
  if (ctx->tunnel_id) pi.match.Set(OxmEntry::Exact(OxmField::kTunnelId, ctx->tunnel_id));
  ++ctr_.packet_ins;
  out->push_back(std::move(p));
}

void Switch::DeliverPacketIns(std::vector<PendingPacketIn> pins) {
  if (pins.empty()) return;
  asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_), pins = std::move(pins)] {
    if (alive.expired()) return;
    std::lock_guard lk(mu_);
    for (const auto& p : pins) {
      if (Bridge* b = BridgeOf(p.bridge)) b->ofp->SendPacketIn(p.pi);
    }
  });
}

void Switch::InstallLocked(const dp::FlowKey& key, const XlateResult& r) {
  if (tracked_->map.size() >= cfg_.max_megaflows) {
    ++ctr_.megaflow_cap_hits;
    return;
  }
  MfKey mk;
  dp::ApplyMask(key, r.mask, &mk.key);
  mk.mask = r.mask;
  if (tracked_->map.count(mk)) return;  // another PMD's miss installed it first
  if (auto res = dp_.FlowPut(mk.key, mk.mask, r.actions, dp::kFlowCreate | dp::kFlowExpires);
      !res) {
    ++ctr_.megaflow_install_fail;
    return;
  }
  ++ctr_.megaflow_installs;
  Tracked t;
  t.orig = key;
  t.rules = r.rules;
  t.groups = r.groups;
  t.tables = r.tables;
  t.actions = r.actions;
  t.gen = stats_gen_ + 1;  // not forgotten by a stats pass whose dump predates it
  for (const auto& f : r.flooded) {
    flood_index_.emplace(FloodKey(f.bridge, f.vlan, f.mac), mk.key);
  }
  tracked_->map.emplace(mk, std::move(t));
}

uint64_t Switch::FloodKey(const XBridge* br, uint16_t vlan, const Mac& mac) {
  uint64_t v = vlan;
  for (uint8_t b : mac) v = (v << 8) | b;
  return v ^ (reinterpret_cast<uintptr_t>(br) * 0x9e3779b97f4a7c15ULL);
}

// NORMAL learned new addresses: megaflows that flooded towards them would keep flooding until
// they idle out, so they are re-translated now (they become unicast).
void Switch::ForgetFloodsLocked(const std::vector<MacRef>& learned) {
  std::vector<dp::FlowKey> keys;
  for (const auto& l : learned) {
    auto [b, e] = flood_index_.equal_range(FloodKey(l.bridge, l.vlan, l.mac));
    for (auto it = b; it != e; ++it) keys.push_back(it->second);
    flood_index_.erase(b, e);
  }
  if (keys.empty()) return;
  // The index holds masked keys; find their entries by scanning only when there are any.
  for (auto it = tracked_->map.begin(); it != tracked_->map.end();) {
    bool hit = std::any_of(keys.begin(), keys.end(),
                           [&](const dp::FlowKey& k) { return k == it->first.key; });
    if (hit && RevalidateOneLocked(it->first, it->second) == RevalOutcome::kDelete) {
      it = tracked_->map.erase(it);
    } else {
      ++it;
    }
  }
}

// ---------------------------------------------------------------- revalidation

void Switch::MarkDirtyLocked() {
  dirty_ = true;
  if (reval_posted_) return;
  reval_posted_ = true;
  // Runs after the messages already read from the connections, so a burst of flow mods costs
  // one pass.
  asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.expired()) return;
    std::lock_guard lk(mu_);
    reval_posted_ = false;
    if (dirty_) RevalidateLocked();
  });
}

Switch::RevalOutcome Switch::RevalidateOneLocked(const MfKey& mk, Tracked& t) {
  ++ctr_.revalidated_flows;
  XBridge* xbr = nullptr;
  uint32_t ofport = 0;
  bool del = !ResolveInputLocked(t.orig, &xbr, &ofport);
  XlateResult r;
  if (!del) {
    XlateInput in;
    in.bridge = xbr;
    in.key = t.orig;
    in.in_ofport = ofport;
    in.learn = false;
    in.count = false;
    in.now_ms = clock::NowMs();
    r = Translate(EnvLocked(), in);
    // A translation that needs bits the megaflow does not match on would be wrong for some of
    // the packets it covers.
    del = r.no_install || !MaskSubset(r.mask, mk.mask);
  }
  if (del) {
    (void)dp_.FlowDel(mk.key, mk.mask);
    ++ctr_.revalidate_deleted;
    return RevalOutcome::kDelete;
  }
  if (!SameActions(r.actions, t.actions)) {
    if (!dp_.FlowPut(mk.key, mk.mask, r.actions, dp::kFlowModify)) {
      return RevalOutcome::kDelete;  // gone from the datapath (idle expiry)
    }
    ++ctr_.revalidate_modified;
    t.actions = r.actions;
  }
  t.rules = std::move(r.rules);
  t.groups = std::move(r.groups);
  t.tables = std::move(r.tables);
  for (const auto& f : r.flooded) {
    flood_index_.emplace(FloodKey(f.bridge, f.vlan, f.mac), mk.key);
  }
  return RevalOutcome::kKeep;
}

void Switch::RevalidateLocked() {
  dirty_ = false;
  ++ctr_.revalidations;
  flood_index_.clear();
  for (auto it = tracked_->map.begin(); it != tracked_->map.end();) {
    if (RevalidateOneLocked(it->first, it->second) == RevalOutcome::kDelete) {
      it = tracked_->map.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [n, br] : bridges_) br->ofp->mutable_pipeline().Purge(br->ofp->pipeline().version());
}

void Switch::SyncLocked() {
  if (dirty_) RevalidateLocked();
  // Megaflows deleted or given new actions are reclaimed only after every PMD has passed a
  // quiescent point; waiting for that means no PMD still runs the old actions.
  dp_.reclaimer().Synchronize();
}

std::vector<std::string> Switch::VerifyMegaflows() {
  std::lock_guard lk(mu_);
  std::vector<std::string> problems;
  for (auto& [mk, t] : tracked_->map) {
    std::string flow = dp::FormatOdpFlow(mk.key, mk.mask);
    XBridge* xbr = nullptr;
    uint32_t ofport = 0;
    if (!ResolveInputLocked(t.orig, &xbr, &ofport)) {
      problems.push_back("megaflow on a port no bridge has: " + flow);
      continue;
    }
    XlateInput in;
    in.bridge = xbr;
    in.key = t.orig;
    in.in_ofport = ofport;
    in.learn = false;
    in.count = false;
    in.now_ms = clock::NowMs();
    XlateResult r = Translate(EnvLocked(), in);
    if (r.no_install || !MaskSubset(r.mask, mk.mask)) {
      problems.push_back("megaflow needs a narrower mask now: " + flow);
    } else if (!SameActions(r.actions, t.actions)) {
      problems.push_back("stale actions " + dp::FormatOdpActions(t.actions.view()) + " (now " +
                         dp::FormatOdpActions(r.actions.view()) + "): " + flow);
    }
    for (const auto& e : dp_.GetFlow(mk.key, mk.mask)) {
      if (!SameActions(e.actions, t.actions)) {
        problems.push_back("datapath holds other actions than remembered: " + flow);
      }
    }
  }
  return problems;
}

void Switch::Sync() {
  std::lock_guard lk(mu_);
  SyncLocked();
}

void Switch::ArmStatsTimer() {
  stats_timer_.expires_after(std::chrono::milliseconds(cfg_.stats_interval_ms));
  stats_timer_.async_wait([this](std::error_code ec) {
    if (ec) return;
    PushStats();
    ArmStatsTimer();
  });
}

// Datapath counters -> the rules and groups each megaflow came from; megaflows the datapath no
// longer has (idle expiry) are forgotten.
void Switch::PushStats() {
  std::lock_guard lk(mu_);
  PushStatsLocked();
  for (auto& [n, br] : bridges_) {
    if (br->mac.Expire(clock::NowMs())) MarkDirtyLocked();
  }
}

void Switch::PushStatsLocked() {
  PushMeterStatsLocked();
  uint64_t gen = ++stats_gen_;
  auto dump = dp_.DumpFlows();
  struct Agg {
    uint64_t packets = 0, bytes = 0;
    int64_t used = 0;
  };
  std::unordered_map<MfKey, Agg, MfKeyHash> agg;
  agg.reserve(dump.size());
  for (const auto& e : dump) {
    Agg& a = agg[MfKey{e.key, e.mask}];
    a.packets += e.packets;
    a.bytes += e.bytes;
    a.used = std::max(a.used, e.used_ms);
  }
  for (auto it = tracked_->map.begin(); it != tracked_->map.end();) {
    auto a = agg.find(it->first);
    if (a == agg.end()) {
      // Gone from the datapath (idle expiry), unless installed after the dump began.
      if (it->second.gen < gen) {
        it = tracked_->map.erase(it);
        continue;
      }
      ++it;
      continue;
    }
    Tracked& t = it->second;
    if (a->second.packets > t.packets) {
      uint64_t dpk = a->second.packets - t.packets;
      uint64_t dby = a->second.bytes >= t.bytes ? a->second.bytes - t.bytes : 0;
      Credit(t.rules, t.groups, dpk, dby, a->second.used);
      for (const auto& [table, matched] : t.tables) table->CountLookups(dpk, matched ? dpk : 0);
      t.packets = a->second.packets;
      t.bytes = a->second.bytes;
    }
    ++it;
  }
  SweepRecircLocked();
}

void Switch::SweepRecircLocked() {
  if (recirc_registry_.size() == 0) return;
  std::unordered_set<uint32_t> keep;
  for (const auto& [mk, t] : tracked_->map) {
    if (mk.key.recirc_id) keep.insert(mk.key.recirc_id);  // a second pass
    for (auto a = t.actions.view().begin(); a != t.actions.view().end(); ++a) {
      if (static_cast<dp::ActionType>(a->type) == dp::ActionType::kRecirc) {
        keep.insert(a.payload<dp::ActRecirc>().recirc_id);  // a first pass
      }
    }
  }
  ctr_.recirc_states_dropped += recirc_registry_.Sweep(keep, clock::NowMs(), cfg_.recirc_grace_ms);
}

// ---------------------------------------------------------------- meters

namespace {

dp::MeterConfig DpMeterConfig(const Meter& m) {
  dp::MeterConfig c;
  c.pktps = (m.flags() & kMeterPktps) != 0;
  for (const MeterBand& b : m.bands()) {
    dp::MeterBandConfig d;
    d.kind = b.type == MeterBandType::kDscpRemark ? dp::MeterBandKind::kDscpRemark
                                                  : dp::MeterBandKind::kDrop;
    d.prec_level = b.prec_level;
    d.rate = b.rate;
    // Without OFPMF_BURST the datapath's default: one second of the rate, as Open vSwitch.
    d.burst = (m.flags() & kMeterBurst) ? b.burst_size : 0;
    c.bands.push_back(d);
  }
  return c;
}

}  // namespace

std::optional<OfpError> Switch::MeterSetLocked(Bridge& br, const Meter& m) {
  for (const MeterBand& b : m.bands()) {
    if (b.type != MeterBandType::kDrop && b.type != MeterBandType::kDscpRemark) {
      return OfpError{OfpErr::kMeterModBadBand, "the datapath meters with drop and dscp_remark"};
    }
  }
  auto it = br.meters.find(m.id());
  const bool fresh = it == br.meters.end();
  uint32_t dp_id = 0;
  if (fresh) {
    uint32_t n = 0;
    while (n < dp::kMaxMeters && dp_meter_used_[(next_dp_meter_ + n) % dp::kMaxMeters]) ++n;
    if (n == dp::kMaxMeters) {
      return OfpError{OfpErr::kMeterModOutOfMeters, "the datapath meter table is full"};
    }
    dp_id = (next_dp_meter_ + n) % dp::kMaxMeters;
  } else {
    dp_id = it->second.dp_id;
  }
  if (auto r = dp_.MeterSet(dp_id, DpMeterConfig(m)); !r) {
    Log()->warn("{}: meter {}: datapath refused it: {}", br.x.name, m.id(), r.error().message);
    return OfpError{OfpErr::kMeterModBadBand, "datapath: " + r.error().message};
  }
  if (fresh) {
    dp_meter_used_[dp_id] = true;
    next_dp_meter_ = (dp_id + 1) % dp::kMaxMeters;
    Bridge::MeterRec rec;
    rec.dp_id = dp_id;
    it = br.meters.emplace(m.id(), rec).first;
    br.x.dp_meters[m.id()] = dp_id;
  }
  // The datapath's bands count afresh, its in-counts go on.
  it->second.bands.assign(m.bands().size(), dp::MeterCount{});
  return std::nullopt;
}

void Switch::MeterDelLocked(Bridge& br, uint32_t meter_id) {
  auto it = br.meters.find(meter_id);
  if (it == br.meters.end()) return;
  // Packets of megaflows still naming the meter are dropped until revalidation removes them
  // (the flows using a deleted meter are deleted with it).
  (void)dp_.MeterDel(it->second.dp_id);
  dp_meter_used_[it->second.dp_id] = false;
  br.x.dp_meters.erase(meter_id);
  br.meters.erase(it);
}

// Datapath meter counters -> the OpenFlow meter table, as deltas since the last push.
void Switch::PushMeterStatsLocked() {
  for (auto& [name, br] : bridges_) {
    for (auto& [id, rec] : br->meters) {
      auto st = dp_.MeterStats(rec.dp_id);
      std::shared_ptr<Meter> m = br->ofp->meters().Find(id);
      if (!st || !m) continue;
      auto delta = [](const dp::MeterCount& now, dp::MeterCount& last) {
        BucketCounter d{now.packets >= last.packets ? now.packets - last.packets : 0,
                        now.bytes >= last.bytes ? now.bytes - last.bytes : 0};
        last = now;
        return d;
      };
      BucketCounter in = delta(st->in, rec.in);
      std::vector<BucketCounter> bands;
      for (size_t i = 0; i < st->bands.size() && i < rec.bands.size(); ++i) {
        bands.push_back(delta(st->bands[i], rec.bands[i]));
      }
      m->Credit(in, bands);
    }
  }
}

// ---------------------------------------------------------------- packet-out

std::optional<OfpError> Switch::PacketOutLocked(Bridge& br, const PacketOut& po) {
  ++ctr_.packet_outs;
  if (po.data.size() < 14) {
    return OfpError{OfpErr::kBadRequestBadLen, "packet-out data shorter than an Ethernet header"};
  }
  rte_mbuf* m = rte_pktmbuf_alloc(dp_.pool());
  if (!m) return OfpError{OfpErr::kBadRequestBufferEmpty, "no packet buffers"};
  char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(std::min<size_t>(po.data.size(), 65535)));
  if (!p) {
    rte_pktmbuf_free(m);
    return OfpError{OfpErr::kBadRequestBadLen, "packet-out data larger than a packet buffer"};
  }
  std::memcpy(p, po.data.data(), po.data.size());
  XlateInput in;
  in.bridge = &br.x;
  in.in_ofport = po.in_port;
  in.learn = false;
  in.actions = &po.actions;
  in.now_ms = clock::NowMs();
  in.key.Clear();
  const XPort* xp = br.x.Port(po.in_port);
  in.key.in_port = xp && xp->dp_port != kNoDpPort ? xp->dp_port : dp::kMaxPorts - 1;
  m->port = static_cast<uint16_t>(in.key.in_port);
  dp::ParsePacket(po.data.data(), static_cast<uint32_t>(po.data.size()), &in.key);
  XlateResult r = Translate(EnvLocked(), in);
  if (r.error) Log()->info("{}: packet-out: {}", br.x.name, r.error_text);
  Credit(r.rules, r.groups, 1, rte_pktmbuf_pkt_len(m), in.now_ms);
  std::vector<PendingPacketIn> pins;
  std::vector<Recirculated> recircs;
  ExecuteLocked(m, r.actions, &pins, &recircs);
  RecirculateLocked(std::move(recircs), &pins);
  // Control thread already: deliver directly (we hold the lock, Ofproto does not take it).
  for (const auto& pin : pins) {
    if (Bridge* b = BridgeOf(pin.bridge)) b->ofp->SendPacketIn(pin.pi);
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- visibility

Result<std::string> Switch::Trace(const std::string& bridge, const std::string& flow) {
  std::lock_guard lk(mu_);
  Bridge* br = BridgeOf(bridge);
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
      auto it = by_dp_port_.find(in.key.in_port);
      if (it == by_dp_port_.end() || it->second.first != br) {
        return MakeError(Errc::kInvalid, "the flow's in_port is not a port of " + bridge);
      }
      ofport = it->second.second;
      have_port = true;
    }
  }
  if (!have_port) return MakeError(Errc::kInvalid, "the flow needs an in_port");
  const XPort* xp = br->x.Port(ofport);
  if (have_port && xp && xp->dp_port != kNoDpPort) in.key.in_port = xp->dp_port;
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
    XlateResult r = Translate(EnvLocked(), in);
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
    if (pass + 1 >= dp::Pmd::kMaxRecircDepth) {
      out += fmt::format("Recirculation depth limit ({}) reached: the datapath drops the packet\n",
                         dp::Pmd::kMaxRecircDepth);
      break;
    }
    dp::FlowKey next;
    if (!packet.empty()) {
      // Run the actions on a copy of the packet (outputs and userspace discarded, meters
      // passed) and take what the recirculation would get.
      auto again = ExecuteForTrace(dp_.pool(), packet, in.key.in_port, r.actions.view());
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
    if (!ResolveInputLocked(next, &xbr, &rc_ofport)) {
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

std::string Switch::FdbShow(const std::string& bridge) const {
  std::lock_guard lk(mu_);
  Bridge* br = BridgeOf(bridge);
  if (!br) return "";
  std::string out = " port  VLAN  MAC                Age\n";
  int64_t now = clock::NowMs();
  for (const auto& e : br->mac.Entries()) {
    if (!e.is_static && now - e.learned_ms >= br->mac.aging_ms()) continue;
    std::string port = e.port == kPortLocal ? "LOCAL" : std::to_string(e.port);
    out += fmt::format(
        "{:>5}  {:>4}  {}  {:>3}\n", port, e.vlan, MacText(e.mac),
        e.is_static ? std::string("static") : std::to_string((now - e.learned_ms) / 1000));
  }
  return out;
}

Result<void> Switch::FdbFlush(const std::string& bridge) {
  std::lock_guard lk(mu_);
  if (!bridge.empty() && !BridgeOf(bridge)) {
    return MakeError(Errc::kNotFound, "no such bridge");
  }
  for (auto& [n, br] : bridges_) {
    if (bridge.empty() || n == bridge) br->mac.Flush();
  }
  MarkDirtyLocked();
  return {};
}

Result<void> Switch::FdbAddStatic(const std::string& bridge, const std::string& port, uint16_t vlan,
                                  const Mac& mac) {
  std::lock_guard lk(mu_);
  Bridge* br = BridgeOf(bridge);
  if (!br) return MakeError(Errc::kNotFound, "no such bridge");
  auto it = br->ports.find(port);
  if (it == br->ports.end()) return MakeError(Errc::kNotFound, "no such port " + port);
  br->mac.AddStatic(vlan, mac, it->second.spec.ofport);
  MarkDirtyLocked();
  return {};
}

std::string Switch::FdbStats(const std::string& bridge) const {
  std::lock_guard lk(mu_);
  Bridge* br = BridgeOf(bridge);
  if (!br) return "";
  const auto& s = br->mac.stats();
  return fmt::format(
      "Statistics for bridge \"{}\":\n  Current/maximum MAC entries in the table: {}/{}\n"
      "  Total number of learned MAC entries     : {}\n"
      "  Total number of expired MAC entries     : {}\n"
      "  Total number of evicted MAC entries     : {}\n"
      "  Total number of port moved MAC entries  : {}\n",
      bridge, br->mac.size(), br->mac.max_entries(), s.learned, s.expired, s.evicted, s.moved);
}

SwitchCounters Switch::counters() const {
  std::lock_guard lk(mu_);
  return ctr_;
}

std::string Switch::CoverageText() const {
  SwitchCounters c = counters();
  std::string out = "Event coverage (totals since start):\n";
  auto line = [&](const char* name, uint64_t v) { out += fmt::format("{:<28} {}\n", name, v); };
  line("upcall_miss", c.upcalls);
  line("upcall_action", c.action_upcalls);
  line("upcall_no_bridge", c.upcall_no_bridge);
  line("xlate", c.xlates);
  line("xlate_error", c.xlate_errors);
  line("megaflow_install", c.megaflow_installs);
  line("megaflow_install_fail", c.megaflow_install_fail);
  line("megaflow_cap_hit", c.megaflow_cap_hits);
  line("revalidate_pass", c.revalidations);
  line("revalidate_flow", c.revalidated_flows);
  line("revalidate_modified", c.revalidate_modified);
  line("revalidate_deleted", c.revalidate_deleted);
  line("packet_in", c.packet_ins);
  line("packet_out", c.packet_outs);
  std::lock_guard lk(mu_);
  line("upcall_recirc_missing", c.upcall_recirc_missing);
  line("recirc_states_dropped", c.recirc_states_dropped);
  line("megaflows_tracked", tracked_->map.size());
  line("packet_in_contexts", pin_registry_.size());
  line("recirc_states", recirc_registry_.size());
  return out;
}

Result<std::string> Switch::DumpFlowsText(const std::string& bridge) {
  std::lock_guard lk(mu_);
  Bridge* br = BridgeOf(bridge);
  if (!br) return MakeError(Errc::kNotFound, "no bridge named " + bridge);
  PushStatsLocked();
  auto stats = br->ofp->pipeline().FlowStatsQuery(FlowStatsFilter{}, clock::NowMs());
  if (!stats) return MakeError(Errc::kInvalid, stats.error().detail);
  std::string out;
  for (const auto& fs : stats->entries) out += text::FormatFlowStats(fs) + "\n";
  return out;
}

std::string Switch::MemoryText() const {
  std::lock_guard lk(mu_);
  size_t ports = 0, rules = 0, macs = 0;
  for (const auto& [n, br] : bridges_) {
    ports += br->ports.size();
    macs += br->mac.size();
    const Pipeline& pl = br->ofp->pipeline();
    for (size_t t = 0; t < pl.n_tables(); ++t)
      rules += pl.table(static_cast<uint8_t>(t))->active_count();
  }
  long rss_kb = 0;
  if (FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, f)) {
      if (std::sscanf(line, "VmRSS: %ld", &rss_kb) == 1) break;
    }
    std::fclose(f);
  }
  return fmt::format(
      "bridges:{} ports:{} rules:{} megaflows:{} mac_entries:{} packet_in_contexts:{} "
      "recirc_states:{} rss_kb:{}\n",
      bridges_.size(), ports, rules, tracked_->map.size(), macs, pin_registry_.size(),
      recirc_registry_.size(), rss_kb);
}

size_t Switch::TrackedCount() const {
  std::lock_guard lk(mu_);
  return tracked_->map.size();
}

size_t Switch::RecircStateCount() const {
  std::lock_guard lk(mu_);
  return recirc_registry_.size();
}

}  // namespace sluice::ofp
