#include "ofproto/ofproto.h"

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
      created_(std::chrono::steady_clock::now()) {
  SetPorts({});
}

Ofproto::~Ofproto() = default;

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
  ports_ = std::move(ports);
}

void Ofproto::OnConnected(OfConnection& conn) {
  Log()->info("{}: {} connected ({})", name_, conn.peer(),
              conn.is_controller() ? "controller" : "management");
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
    // Nothing is processed asynchronously yet, so everything before this is done.
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
  } else if (std::holds_alternative<ErrorMsg>(b) || std::holds_alternative<ExperimenterMsg>(b)) {
    // Errors from the peer are logged; experimenter messages are not supported.
    if (std::holds_alternative<ExperimenterMsg>(b)) {
      conn.SendError(OfpError{OfpErr::kBadRequestBadExperimenter, "no experimenter support"}, raw);
    } else {
      Log()->info("{}: {} sent an error", name_, conn.peer());
    }
  } else {
    // Flow, group, meter, port and table modifications and packet-out need the pipeline.
    conn.SendError(OfpError{OfpErr::kBadRequestBadType,
                            "this message type is not implemented by this switch yet"},
                   raw);
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
  } else {
    conn.SendError(OfpError{OfpErr::kBadRequestBadMultipart,
                            "this statistics type is not implemented by this switch yet"},
                   raw);
    return;
  }
  ReplyMultipart(conn, msg.xid, std::move(reply));
}

}  // namespace sluice::ofp
