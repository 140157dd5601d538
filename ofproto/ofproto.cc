#include "ofproto/ofproto.h"
#include <algorithm>

#include "common/clock.h"
#include "ofproto/table/table_features.h"
#include "sluice/log.h"

namespace sluice::ofp {
namespace {

auto Log() {
  static auto l = log::Get("ofproto");
  return l;
}

// OFPC_FLOW_STATS | OFPC_TABLE_STATS | OFPC_PORT_STATS | OFPC_GROUP_STATS | OFPC_QUEUE_STATS
constexpr uint32_t kCapabilities = 0x1 | 0x2 | 0x4 | 0x8 | 0x40;
constexpr uint8_t kNumTables = 254;

// Messages that change switch state, which a slave controller may not send (§6.3.5).
bool IsStateChanging(const MessageBody& b) {
  return std::holds_alternative<FlowMod>(b) || std::holds_alternative<GroupMod>(b) ||
         std::holds_alternative<PortMod>(b) || std::holds_alternative<TableMod>(b) ||
         std::holds_alternative<MeterMod>(b) || std::holds_alternative<PacketOut>(b);
}

}  // namespace

Ofproto::Ofproto(asio::io_context& io, std::string name, uint64_t datapath_id)
    : io_(io),
      name_(std::move(name)),
      datapath_id_(datapath_id),
      connmgr_(io, this),
      created_(std::chrono::steady_clock::now()),
      expiry_timer_(io) {
  SetPorts({});
  ArmExpiry();
}

Ofproto::~Ofproto() {
  *alive_ = false;
  expiry_timer_.cancel();
}

void Ofproto::ArmExpiry() {
  // Idle and hard timeouts have one-second granularity in OpenFlow.
  expiry_timer_.expires_after(std::chrono::milliseconds(250));
  expiry_timer_.async_wait([this, alive = alive_](std::error_code ec) {
    if (ec || !*alive) return;
    {
      auto lk = hooks_ ? hooks_->Lock() : std::unique_lock<OrderedMutex>();
      auto removed = pipeline_.Expire(clock::NowMs());
      if (!removed.empty()) NotifyChanged();
      Removed(removed);
      pipeline_.Purge(pipeline_.version());
      RunFailOpen();
    }
    ArmExpiry();
  });
}

void Ofproto::SetFailMode(bool secure) {
  secure_ = secure;
  RunFailOpen();
}

void Ofproto::RunFailOpen() {
  bool open = false;
  int64_t down_ms = 0;
  if (!secure_ && connmgr_.HasControllers()) {
    down_ms = connmgr_.FailureDurationMs();
    // One interval idle before the probe, one for its answer, one to reconnect (as Open vSwitch).
    open = down_ms >= int64_t{3} * connmgr_.MaxProbeIntervalMs();
  }
  if (open == fail_open_) return;
  fail_open_ = open;
  if (open) {
    Log()->warn("{}: could not connect to a controller for {} ms, failing open (NORMAL)", name_,
                down_ms);
  } else {
    Log()->warn("{}: no longer in fail-open mode", name_);
  }
  NotifyChanged();
}

void Ofproto::Removed(const std::vector<RemovedRule>& removed) {
  int64_t now = clock::NowMs();
  for (const auto& r : removed) {
    for (const auto& inst : r.rule->instructions) {
      if (auto* m = std::get_if<InstMeter>(&inst)) meters_.RemoveFlowRef(m->meter_id);
    }
    if (!(r.rule->flags & kFlowSendFlowRem)) continue;
    FlowRemoved fr = r.rule->ToFlowRemoved(r.reason, now);
    uint32_t bit = 1u << static_cast<uint8_t>(r.reason);
    for (auto& c : connmgr_.Connections()) {
      // Async masks: [0] applies to master/equal, [1] to slave (OpenFlow 1.3 §7.3.10).
      size_t i = c->role == ControllerRole::kSlave ? 1 : 0;
      if (c->async.flow_removed_mask[i] & bit) c->Send(Message{c->version(), c->NextXid(), fr});
    }
  }
}

std::optional<OfpError> Ofproto::ValidateActions(const ActionList& actions) const {
  for (const auto& a : actions) {
    if (auto* out = std::get_if<ActOutput>(&a)) {
      uint32_t p = out->port;
      bool reserved = p == kPortInPort || p == kPortNormal || p == kPortFlood || p == kPortAll ||
                      p == kPortController || p == kPortLocal;
      bool known = std::any_of(ports_.begin(), ports_.end(),
                               [p](const OfPort& op) { return op.desc.port_no == p; });
      if (!reserved && !known && p > kPortMax) {
        return OfpError{OfpErr::kBadActionBadOutPort, "invalid output port"};
      }
    } else if (auto* g = std::get_if<ActGroup>(&a)) {
      if (!groups_.Contains(g->group_id)) {
        return OfpError{OfpErr::kBadActionBadOutGroup, "no such group"};
      }
    } else if (auto* sf = std::get_if<ActSetField>(&a)) {
      if (!SettableByDatapath(sf->field.field)) {
        return OfpError{OfpErr::kBadActionBadSetType,
                        "the datapath cannot rewrite this field (yet)"};
      }
    } else if (auto* pm = std::get_if<ActPushMpls>(&a)) {
      if (pm->ethertype != 0x8847 && pm->ethertype != 0x8848) {
        return OfpError{OfpErr::kBadActionBadArgument, "push_mpls needs ethertype 0x8847/0x8848"};
      }
    } else if (std::holds_alternative<ActCopyTtlOut>(a) ||
               std::holds_alternative<ActCopyTtlIn>(a) || std::holds_alternative<ActPushPbb>(a) ||
               std::holds_alternative<ActPopPbb>(a) || std::holds_alternative<ActExperimenter>(a)) {
      // An explicit refusal rather than a flow that silently drops: as in Open vSwitch, there
      // are no copy-TTL or PBB actions, and no experimenter actions are known.
      return OfpError{OfpErr::kBadActionBadType, "action not supported by the datapath"};
    }
  }
  return std::nullopt;
}

std::optional<OfpError> Ofproto::ValidateInstructions(const InstructionList& insts) const {
  for (const auto& inst : insts) {
    std::optional<OfpError> e;
    if (auto* w = std::get_if<InstWriteActions>(&inst)) e = ValidateActions(w->actions);
    if (auto* a = std::get_if<InstApplyActions>(&inst)) e = ValidateActions(a->actions);
    if (auto* m = std::get_if<InstMeter>(&inst); m && !meters_.Contains(m->meter_id)) {
      e = OfpError{OfpErr::kMeterModUnknownMeter, "no such meter"};
    }
    if (e) return e;
  }
  return std::nullopt;
}

void Ofproto::HandleFlowMod(OfConnection& conn, const Message&, const FlowMod& fm, ByteSpan raw) {
  if (fm.command == FlowModCommand::kAdd || fm.command == FlowModCommand::kModify ||
      fm.command == FlowModCommand::kModifyStrict) {
    if (auto e = ValidateInstructions(fm.instructions)) {
      conn.SendError(*e, raw);
      return;
    }
  }
  if (fm.buffer_id != kNoBuffer) {
    // No packets are buffered by this switch (n_buffers is 0 in the features reply).
    conn.SendError(OfpError{OfpErr::kBadRequestBufferUnknown, "switch does not buffer packets"},
                   raw);
    return;
  }
  // OpenFlow 1.0: a MODIFY that matches nothing adds the flow (1.3 leaves the tables alone).
  auto removed = pipeline_.ApplyFlowMod(fm, clock::NowMs(), conn.version() == kOfp10);
  if (!removed) {
    conn.SendError(removed.error(), raw);
    return;
  }
  if (fm.command == FlowModCommand::kAdd) {
    for (const auto& inst : fm.instructions) {
      if (auto* m = std::get_if<InstMeter>(&inst)) meters_.AddFlowRef(m->meter_id);
    }
  }
  NotifyChanged();
  Removed(*removed);
}

void Ofproto::HandleGroupMod(OfConnection& conn, const GroupMod& gm, ByteSpan raw) {
  for (const auto& b : gm.buckets) {
    if (auto e = ValidateActions(b.actions); e && e->err != OfpErr::kBadActionBadOutGroup) {
      conn.SendError(*e, raw);
      return;
    }
  }
  auto out = groups_.Apply(gm);
  if (!out) {
    conn.SendError(out.error(), raw);
    return;
  }
  NotifyChanged();
  // Deleting a group deletes the flows that forward to it (OpenFlow 1.3 §6.5).
  for (uint32_t id : out->deleted) {
    FlowMod del;
    del.command = FlowModCommand::kDelete;
    del.table_id = kTableAll;
    del.out_group = id;
    auto removed = pipeline_.ApplyFlowMod(del, clock::NowMs());
    if (removed) {
      std::vector<RemovedRule> r = *removed;
      for (auto& x : r) x.reason = FlowRemovedReason::kGroupDelete;
      Removed(r);
    }
  }
}

void Ofproto::HandleMeterMod(OfConnection& conn, const MeterMod& mm, ByteSpan raw) {
  auto out = meters_.Apply(mm);
  if (!out) {
    conn.SendError(out.error(), raw);
    return;
  }
  if (hooks_) {
    // The datapath enforces the meters: give it the new configuration, or forget the meter.
    for (uint32_t id : out->deleted) hooks_->MeterDel(id);
    if (mm.command == MeterModCommand::kAdd || mm.command == MeterModCommand::kModify) {
      if (auto e = hooks_->MeterSet(*meters_.Find(mm.meter_id))) {
        if (mm.command == MeterModCommand::kAdd) {
          MeterMod undo;
          undo.command = MeterModCommand::kDelete;
          undo.meter_id = mm.meter_id;
          (void)meters_.Apply(undo);
        }
        conn.SendError(*e, raw);
        return;
      }
    }
  }
  NotifyChanged();
  // Flows that use a deleted meter go with it (OpenFlow 1.3 §6.6).
  if (out->deleted.empty()) return;
  std::vector<RulePtr> victims;
  std::vector<RemovedRule> all;
  for (uint32_t id : out->deleted) {
    FlowStatsFilter f;
    auto stats = pipeline_.FlowStatsQuery(f, clock::NowMs());
    if (!stats) continue;
    for (const auto& fs : stats->entries) {
      bool uses = false;
      for (const auto& inst : fs.instructions) {
        if (auto* m = std::get_if<InstMeter>(&inst); m && m->meter_id == id) uses = true;
      }
      if (!uses) continue;
      FlowMod del;
      del.command = FlowModCommand::kDeleteStrict;
      del.table_id = fs.table_id;
      del.priority = fs.priority;
      del.match = fs.match;
      del.cookie = fs.cookie;
      del.cookie_mask = ~uint64_t{0};
      auto removed = pipeline_.ApplyFlowMod(del, clock::NowMs());
      if (removed) all.insert(all.end(), removed->begin(), removed->end());
    }
  }
  Removed(all);
}

void Ofproto::SetPorts(std::vector<OfPort> ports) {
  bool has_local = false;
  for (const auto& p : ports) has_local |= p.desc.port_no == kPortLocal;
  if (!has_local) {
    OfPort local;
    local.desc.port_no = kPortLocal;
    local.desc.name = name_.substr(0, 15);
    for (int i = 0; i < 6; ++i) {
      local.desc.hw_addr[i] = static_cast<uint8_t>(datapath_id_ >> (8 * (5 - i)));
    }
    ports.push_back(local);
  }
  // Port-status for every difference, so controllers track the port set (OpenFlow 1.3 §7.4.3).
  for (const auto& old : ports_) {
    auto it = std::find_if(ports.begin(), ports.end(),
                           [&](const OfPort& p) { return p.desc.port_no == old.desc.port_no; });
    if (it == ports.end()) {
      SendPortStatus(PortReason::kDelete, old.desc);
    } else {
      // port-mod config is owned here, not by the caller.
      it->desc.config = old.desc.config;
      if (!(it->desc == old.desc)) SendPortStatus(PortReason::kModify, it->desc);
    }
  }
  for (const auto& p : ports) {
    bool existed = std::any_of(ports_.begin(), ports_.end(),
                               [&](const OfPort& o) { return o.desc.port_no == p.desc.port_no; });
    if (!existed) SendPortStatus(PortReason::kAdd, p.desc);
  }
  ports_ = std::move(ports);
}

void Ofproto::SendPortStatus(PortReason reason, const PortDesc& desc) {
  PortStatus ps;
  ps.reason = reason;
  ps.desc = desc;
  uint32_t bit = 1u << static_cast<uint8_t>(reason);
  for (auto& c : connmgr_.Connections()) {
    size_t i = c->role == ControllerRole::kSlave ? 1 : 0;
    if (c->async.port_status_mask[i] & bit) c->Send(Message{c->version(), c->NextXid(), ps});
  }
}

void Ofproto::SendPacketIn(const PacketIn& pi) {
  // Role and async masks, each controller's rate limit and queue: the connection manager.
  connmgr_.SendPacketIn(pi);
}

uint32_t Ofproto::PortConfig(uint32_t port_no) const {
  for (const auto& p : ports_) {
    if (p.desc.port_no == port_no) return p.desc.config;
  }
  return 0;
}

void Ofproto::HandlePacketOut(OfConnection& conn, const PacketOut& po, ByteSpan raw) {
  if (po.buffer_id != kNoBuffer) {
    conn.SendError(OfpError{OfpErr::kBadRequestBufferUnknown, "switch does not buffer packets"},
                   raw);
    return;
  }
  bool port_ok = po.in_port == kPortController || po.in_port == kPortLocal ||
                 std::any_of(ports_.begin(), ports_.end(),
                             [&](const OfPort& p) { return p.desc.port_no == po.in_port; });
  if (!port_ok) {
    conn.SendError(OfpError{OfpErr::kBadRequestBadPort, "packet-out in_port is not a port"}, raw);
    return;
  }
  for (const auto& a : po.actions) {
    if (auto* out = std::get_if<ActOutput>(&a); out && out->port == kPortTable) continue;
    if (auto e = ValidateActions(ActionList{a})) {
      conn.SendError(*e, raw);
      return;
    }
  }
  if (!hooks_) {
    conn.SendError(OfpError{OfpErr::kBadRequestBadType, "bridge has no datapath"}, raw);
    return;
  }
  if (auto e = hooks_->PacketOut(po)) conn.SendError(*e, raw);
}

void Ofproto::HandlePortMod(OfConnection& conn, const PortMod& pm, ByteSpan raw) {
  auto it = std::find_if(ports_.begin(), ports_.end(),
                         [&](const OfPort& p) { return p.desc.port_no == pm.port_no; });
  if (it == ports_.end()) {
    conn.SendError(OfpError{OfpErr::kPortModBadPort, "no such port"}, raw);
    return;
  }
  if (it->desc.hw_addr != pm.hw_addr) {
    conn.SendError(OfpError{OfpErr::kPortModBadHwAddr, "hardware address mismatch"}, raw);
    return;
  }
  // OFPPC_PORT_DOWN | OFPPC_NO_RECV | OFPPC_NO_FWD | OFPPC_NO_PACKET_IN
  constexpr uint32_t kSupported = 0x1 | 0x4 | 0x20 | 0x40;
  if (pm.mask & ~kSupported) {
    conn.SendError(OfpError{OfpErr::kPortModBadConfig, "unsupported port config bits"}, raw);
    return;
  }
  uint32_t cfg = (it->desc.config & ~pm.mask) | (pm.config & pm.mask);
  if (cfg != it->desc.config) {
    it->desc.config = cfg;
    SendPortStatus(PortReason::kModify, it->desc);
    NotifyChanged();
  }
}

void Ofproto::OnConnected(OfConnection& conn) {
  Log()->info("{}: {} connected ({})", name_, conn.peer(),
              conn.is_controller() ? "controller" : "management");
  if (conn.is_controller() && fail_open_) {
    auto lk = hooks_ ? hooks_->Lock() : std::unique_lock<OrderedMutex>();
    RunFailOpen();
  }
}

void Ofproto::Reply(OfConnection& conn, uint32_t xid, MessageBody body) {
  conn.Send(Message{conn.version(), xid, std::move(body)});
}

void Ofproto::ReplyMultipart(OfConnection& conn, uint32_t xid, MultipartReply reply) {
  auto msgs = SplitMultipartReply(xid, reply);
  if (!msgs) {
    Log()->warn("{}: cannot split multipart reply: {}", name_, msgs.error().message);
    return;
  }
  for (auto& m : *msgs) {
    m.version = conn.version();
    conn.Send(m);
  }
}

void Ofproto::OnMessage(OfConnection& conn, Message msg, ByteSpan raw) {
  auto lk = hooks_ ? hooks_->Lock() : std::unique_lock<OrderedMutex>();
  if (conn.role == ControllerRole::kSlave && IsStateChanging(msg.body)) {
    conn.SendError(OfpError{OfpErr::kBadRequestIsSlave, "connection is a slave"}, raw);
    return;
  }
  const MessageBody& b = msg.body;
  if (std::holds_alternative<FeaturesRequest>(b)) {
    FeaturesReply r;
    r.datapath_id = datapath_id_;
    r.n_buffers = 0;
    r.n_tables = kNumTables;
    r.capabilities = kCapabilities;
    Reply(conn, msg.xid, r);
  } else if (std::holds_alternative<GetConfigRequest>(b)) {
    GetConfigReply r;
    static_cast<SwitchConfig&>(r) = config_;
    Reply(conn, msg.xid, r);
  } else if (auto* sc = std::get_if<SetConfig>(&b)) {
    config_ = *sc;
  } else if (std::holds_alternative<BarrierRequest>(b)) {
    // Every earlier message has been applied to the tables; Sync() makes the datapath agree
    // (megaflows revalidated, PMDs past a quiescent point) before the reply goes out.
    if (hooks_) hooks_->Sync();
    Reply(conn, msg.xid, BarrierReply{});
  } else if (auto* rr = std::get_if<RoleRequest>(&b)) {
    HandleRole(conn, msg, *rr, raw);
  } else if (std::holds_alternative<GetAsyncRequest>(b)) {
    GetAsyncReply r;
    static_cast<AsyncConfig&>(r) = conn.async;
    Reply(conn, msg.xid, r);
  } else if (auto* sa = std::get_if<SetAsync>(&b)) {
    conn.async = *sa;
  } else if (auto* mp = std::get_if<MultipartRequest>(&b)) {
    HandleMultipart(conn, msg, *mp, raw);
  } else if (auto* fm = std::get_if<FlowMod>(&b)) {
    HandleFlowMod(conn, msg, *fm, raw);
  } else if (auto* gm = std::get_if<GroupMod>(&b)) {
    HandleGroupMod(conn, *gm, raw);
  } else if (auto* mm = std::get_if<MeterMod>(&b)) {
    HandleMeterMod(conn, *mm, raw);
  } else if (auto* po = std::get_if<PacketOut>(&b)) {
    HandlePacketOut(conn, *po, raw);
  } else if (auto* pm = std::get_if<PortMod>(&b)) {
    HandlePortMod(conn, *pm, raw);
  } else if (auto* qc = std::get_if<QueueGetConfigRequest>(&b)) {
    // No port has queues configured: an empty reply for a port that exists (or OFPP_ANY).
    bool known = qc->port == kPortAny ||
                 std::any_of(ports_.begin(), ports_.end(),
                             [&](const OfPort& p) { return p.desc.port_no == qc->port; });
    if (!known) {
      conn.SendError(OfpError{OfpErr::kQueueOpBadPort, "no such port"}, raw);
    } else {
      Reply(conn, msg.xid, QueueGetConfigReply{qc->port, {}});
    }
  } else if (auto* tm = std::get_if<TableMod>(&b)) {
    // OpenFlow 1.3 defines no table configuration bits (all are deprecated); accept a valid
    // table id, as Open vSwitch does.
    if (tm->table_id != kTableAll && tm->table_id >= kNumTables) {
      conn.SendError(OfpError{OfpErr::kTableModBadTable, "no such table"}, raw);
    }
  } else if (std::holds_alternative<ErrorMsg>(b) || std::holds_alternative<ExperimenterMsg>(b)) {
    // Errors from the peer are logged; experimenter messages are not supported.
    if (std::holds_alternative<ExperimenterMsg>(b)) {
      conn.SendError(OfpError{OfpErr::kBadRequestBadExperimenter, "no experimenter support"}, raw);
    } else {
      Log()->info("{}: {} sent an error", name_, conn.peer());
    }
  } else {
    conn.SendError(OfpError{OfpErr::kBadRequestBadType, "unexpected message type"}, raw);
  }
}

void Ofproto::HandleRole(OfConnection& conn, const Message& msg, const RoleRequest& req,
                         ByteSpan raw) {
  if (req.role != ControllerRole::kNoChange && req.role != ControllerRole::kEqual &&
      req.role != ControllerRole::kMaster && req.role != ControllerRole::kSlave) {
    conn.SendError(OfpError{OfpErr::kRoleRequestBadRole, "unknown role"}, raw);
    return;
  }
  if (req.role == ControllerRole::kMaster || req.role == ControllerRole::kSlave) {
    // §6.3.6: a generation id older than the last one seen is stale (wrap-around compare).
    if (generation_id_ && static_cast<int64_t>(req.generation_id - *generation_id_) < 0) {
      conn.SendError(OfpError{OfpErr::kRoleRequestStale, "stale generation id"}, raw);
      return;
    }
    generation_id_ = req.generation_id;
  }
  if (req.role != ControllerRole::kNoChange) {
    if (req.role == ControllerRole::kMaster) {
      for (auto& other : connmgr_.Connections()) {
        if (other.get() != &conn && other->role == ControllerRole::kMaster) {
          other->role = ControllerRole::kSlave;
        }
      }
    }
    conn.role = req.role;
  }
  RoleReply r;
  r.role = conn.role;
  r.generation_id = generation_id_.value_or(0);
  Reply(conn, msg.xid, r);
}

void Ofproto::HandleMultipart(OfConnection& conn, const Message& msg, const MultipartRequest& req,
                              ByteSpan raw) {
  MultipartReply reply;
  if (hooks_ && (std::holds_alternative<FlowStatsRequest>(req.body) ||
                 std::holds_alternative<AggregateRequest>(req.body) ||
                 std::holds_alternative<TableStatsRequest>(req.body) ||
                 std::holds_alternative<GroupStatsRequest>(req.body) ||
                 std::holds_alternative<MeterStatsRequest>(req.body))) {
    hooks_->RefreshStats();
  }
  if (std::holds_alternative<DescRequest>(req.body)) {
    DescReply d;
    d.mfr_desc = "The Sluice project";
    d.hw_desc = "Sluice userspace switch (DPDK datapath)";
    d.sw_desc = std::string("sluice ") + SLUICE_VERSION;
    d.serial_num = "None";
    d.dp_desc = name_;
    reply.body = d;
  } else if (std::holds_alternative<PortDescRequest>(req.body)) {
    PortDescReply r;
    for (const auto& p : ports_) r.entries.push_back(p.desc);
    reply.body = r;
  } else if (auto* ps = std::get_if<PortStatsRequest>(&req.body)) {
    if (refresh_stats_) refresh_stats_(ports_);
    PortStatsReply r;
    auto age = std::chrono::steady_clock::now() - created_;
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(age);
    bool found = false;
    for (const auto& p : ports_) {
      if (ps->port_no != kPortAny && ps->port_no != p.desc.port_no) continue;
      found = true;
      PortStats s = p.stats;
      s.port_no = p.desc.port_no;
      s.duration_sec = static_cast<uint32_t>(secs.count());
      s.duration_nsec = static_cast<uint32_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(age - secs).count());
      r.entries.push_back(s);
    }
    if (!found && ps->port_no != kPortAny) {
      conn.SendError(OfpError{OfpErr::kBadRequestBadPort, "no such port"}, raw);
      return;
    }
    reply.body = r;
  } else if (auto* fs = std::get_if<FlowStatsRequest>(&req.body)) {
    auto r = pipeline_.FlowStatsQuery(*fs, clock::NowMs());
    if (!r) {
      conn.SendError(r.error(), raw);
      return;
    }
    if (conn.version() == kOfp10) {
      // Flows OpenFlow 1.0 cannot describe (IPv6 or masked MAC matches, goto-table, groups...)
      // are left out rather than shown wrong; Open vSwitch would use Nicira extensions, which
      // this switch does not speak. Logged once per bridge.
      std::string why;
      size_t left_out = std::erase_if(r->entries, [&why](const FlowStats& f) {
        auto ok = Of10CanDescribe(f);
        if (!ok && why.empty()) why = ok.error().message;
        return !ok;
      });
      if (left_out && !of10_omission_logged_) {
        of10_omission_logged_ = true;
        Log()->warn(
            "{}: {} flow(s) left out of an OpenFlow 1.0 flow stats reply to {} ({}); "
            "OpenFlow 1.3 shows them",
            name_, left_out, conn.peer(), why);
      }
    }
    reply.body = std::move(*r);
  } else if (auto* ag = std::get_if<AggregateRequest>(&req.body)) {
    auto r = pipeline_.AggregateQuery(*ag);
    if (!r) {
      conn.SendError(r.error(), raw);
      return;
    }
    reply.body = *r;
  } else if (std::holds_alternative<TableStatsRequest>(req.body)) {
    reply.body = pipeline_.TableStatsQuery();
  } else if (auto* gs = std::get_if<GroupStatsRequest>(&req.body)) {
    reply.body = groups_.Stats(gs->group_id);
  } else if (std::holds_alternative<GroupDescRequest>(req.body)) {
    reply.body = groups_.Desc();
  } else if (std::holds_alternative<GroupFeaturesRequest>(req.body)) {
    reply.body = groups_.Features();
  } else if (auto* ms = std::get_if<MeterStatsRequest>(&req.body)) {
    reply.body = meters_.Stats(ms->meter_id);
  } else if (auto* mc = std::get_if<MeterConfigRequest>(&req.body)) {
    reply.body = meters_.Config(mc->meter_id);
  } else if (std::holds_alternative<MeterFeaturesRequest>(req.body)) {
    reply.body = meters_.Features();
  } else if (auto* qs = std::get_if<QueueStatsRequest>(&req.body)) {
    // No QoS queues are configured: every port has only its default queue 0, whose counters
    // and age the switch does not keep (all-ones: unavailable). This is what Open vSwitch 3.1
    // answers for ports without QoS: OFPQ_ALL or queue 0 lists queue 0 of the port (of every port
    // for OFPP_ANY), another queue id is OFPQOFC_BAD_QUEUE, a missing port OFPQOFC_BAD_PORT.
    bool any = qs->port_no == kPortAny;
    bool known = any || std::any_of(ports_.begin(), ports_.end(),
                                    [&](const OfPort& p) { return p.desc.port_no == qs->port_no; });
    if (!known) {
      conn.SendError(OfpError{OfpErr::kQueueOpBadPort, "no such port"}, raw);
      return;
    }
    if (qs->queue_id != kQueueAll && qs->queue_id != 0) {
      conn.SendError(OfpError{OfpErr::kQueueOpBadQueue, "no such queue"}, raw);
      return;
    }
    QueueStatsReply r;
    for (const auto& p : ports_) {
      if (!any && p.desc.port_no != qs->port_no) continue;
      QueueStats q;
      q.port_no = p.desc.port_no;
      q.queue_id = 0;
      q.tx_bytes = q.tx_packets = q.tx_errors = ~uint64_t{0};
      q.duration_sec = q.duration_nsec = ~uint32_t{0};
      r.entries.push_back(q);
    }
    reply.body = std::move(r);
  } else if (auto* tf = std::get_if<TableFeaturesRequest>(&req.body)) {
    // An empty request is a query; a body asks to reconfigure the tables, which is not allowed.
    if (!tf->entries.empty()) {
      conn.SendError(OfpError{OfpErr::kTableFeaturesEperm, "tables cannot be reconfigured"}, raw);
      return;
    }
    reply.body = SupportedTableFeatures(kNumTables);
  } else {
    conn.SendError(OfpError{OfpErr::kBadRequestBadMultipart,
                            "this statistics type is not implemented by this switch yet"},
                   raw);
    return;
  }
  ReplyMultipart(conn, msg.xid, std::move(reply));
}

}  // namespace sluice::ofp
