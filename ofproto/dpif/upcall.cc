#include "ofproto/dpif/upcall.h"

#include <algorithm>

#include "common/clock.h"
#include "datapath/packet/parse.h"
#include "ofproto/dpif/backer.h"
#include "sluice/log.h"

namespace sluice::ofp {
namespace {

auto Log() {
  static auto l = log::Get("ofproto_dpif");
  return l;
}

}  // namespace

// What a control-side execution hands back: packet-in copies and recirculated packets.
class UpcallHandler::Collector final : public dp::ExecuteSink {
 public:
  Collector(UpcallHandler& h, std::vector<PendingPacketIn>* pins,
            std::vector<Recirculated>* recircs)
      : h_(h), pins_(pins), recircs_(recircs) {}
  void Userspace(const dp::ActUserspace& a, dp::DpPacket packet) override {
    if (a.pid == kUserspacePidController) {
      h_.CollectPacketInLocked(static_cast<uint32_t>(a.cookie), packet, pins_);
    }
  }
  void Recirc(uint32_t id, dp::DpPacket packet) override {
    recircs_->push_back({id, std::move(packet)});
  }

 private:
  UpcallHandler& h_;
  std::vector<PendingPacketIn>* pins_;
  std::vector<Recirculated>* recircs_;
};

void UpcallHandler::HandleUpcall(dp::Upcall& u) {
  std::unique_lock lk(b_.mu);
  std::vector<PendingPacketIn> pins;
  if (u.kind == dp::UpcallKind::kAction) {
    ++b_.ctr.action_upcalls;
    if (u.userspace.pid == kUserspacePidController) {
      CollectPacketInLocked(static_cast<uint32_t>(u.userspace.cookie), u.packet, &pins);
      lk.unlock();
      DeliverPacketIns(std::move(pins));
    }
    return;  // other pids: nothing to do with the packet (freed with the upcall)
  }
  ++b_.ctr.upcalls;
  std::vector<Recirculated> recircs;
  MissLocked(std::move(u.packet), u.key, &pins, &recircs);
  RecirculateLocked(std::move(recircs), &pins);
  lk.unlock();
  DeliverPacketIns(std::move(pins));
}

void UpcallHandler::MissLocked(dp::DpPacket packet, const dp::FlowKey& key,
                               std::vector<PendingPacketIn>* pins,
                               std::vector<Recirculated>* recircs) {
  XBridge* xbr = nullptr;
  uint32_t ofport = 0;
  if (!b_.ResolveInputLocked(key, &xbr, &ofport)) {
    if (key.recirc_id != 0 && !b_.recirc_registry.Find(key.recirc_id)) {
      ++b_.ctr.upcall_recirc_missing;
      Log()->debug("recirculated packet with unknown recirc_id {:#x} dropped", key.recirc_id);
    } else {
      ++b_.ctr.upcall_no_bridge;
    }
    return;
  }
  XlateInput in;
  in.bridge = xbr;
  in.key = key;
  in.in_ofport = ofport;
  in.learn = true;
  in.now_ms = clock::NowMs();
  XlateResult r = Translate(b_.EnvLocked(), in);
  ++b_.ctr.xlates;
  if (r.error) {
    ++b_.ctr.xlate_errors;
    Log()->debug("{}: translation: {}", xbr->name, r.error_text);
  }
  if (r.mac_moved) b_.reval.MarkDirtyLocked();
  if (!r.learned.empty()) b_.reval.ForgetFloodsLocked(r.learned);
  if (!r.no_install) InstallLocked(key, r);
  CreditTranslation(r.rules, r.groups, 1, packet.size(), in.now_ms);
  ExecuteLocked(std::move(packet), r.actions, pins, recircs);
}

void UpcallHandler::ExecuteLocked(dp::DpPacket packet, const dp::ActionBuilder& actions,
                                  std::vector<PendingPacketIn>* pins,
                                  std::vector<Recirculated>* recircs) {
  Collector sink(*this, pins, recircs);
  b_.dpif.Execute(std::move(packet), actions.view(), &sink);
}

void UpcallHandler::RecirculateLocked(std::vector<Recirculated> recircs,
                                      std::vector<PendingPacketIn>* pins) {
  for (unsigned depth = 0; !recircs.empty(); ++depth) {
    std::vector<Recirculated> next;
    for (Recirculated& rc : recircs) {
      if (depth >= b_.limits.max_recirc_depth) continue;  // dropped with rc.packet
      dp::FlowKey key;
      key.Clear();
      key.in_port = rc.packet.in_port();
      key.recirc_id = rc.id;
      auto head = rc.packet.head();
      dp::ParsePacket(head.data(), static_cast<uint32_t>(head.size()), &key);
      MissLocked(std::move(rc.packet), key, pins, &next);
    }
    recircs = std::move(next);
  }
}

void UpcallHandler::CollectPacketInLocked(uint32_t ctx_id, const dp::DpPacket& packet,
                                          std::vector<PendingPacketIn>* out) {
  const PacketInContext* ctx = b_.pin_registry.Find(ctx_id);
  if (!ctx) return;
  PendingPacketIn p;
  p.bridge = ctx->bridge;
  PacketIn& pi = p.pi;
  pi.reason = ctx->reason;
  pi.table_id = ctx->table_id;
  pi.cookie = ctx->cookie;
  pi.buffer_id = kNoBuffer;
  uint32_t len = packet.size();
  pi.total_len = static_cast<uint16_t>(std::min<uint32_t>(len, 0xffff));
  // max_len OFPCML_NO_BUFFER (0xffff): the whole packet; no buffering, so never less than needed.
  pi.data = packet.Bytes(ctx->max_len == 0xffff ? len : ctx->max_len);
  pi.match.Set(OxmEntry::Exact(OxmField::kInPort, ctx->in_port));
  if (ctx->metadata) pi.match.Set(OxmEntry::Exact(OxmField::kMetadata, ctx->metadata));
  if (ctx->tunnel_id) pi.match.Set(OxmEntry::Exact(OxmField::kTunnelId, ctx->tunnel_id));
  ++b_.ctr.packet_ins;
  out->push_back(std::move(p));
}

void UpcallHandler::DeliverPacketIns(std::vector<PendingPacketIn> pins) {
  if (pins.empty()) return;
  asio::post(b_.io, [this, alive = std::weak_ptr<bool>(b_.alive), pins = std::move(pins)] {
    if (alive.expired()) return;
    std::lock_guard lk(b_.mu);
    for (const auto& p : pins) {
      if (BridgeState* br = b_.BridgeOf(p.bridge)) br->ofp->SendPacketIn(p.pi);
    }
  });
}

void UpcallHandler::InstallLocked(const dp::FlowKey& key, const XlateResult& r) {
  MegaflowTable& mf = b_.megaflows;
  if (mf.size() >= b_.cfg.max_megaflows) {
    ++b_.ctr.megaflow_cap_hits;
    return;
  }
  MfKey mk;
  dp::ApplyMask(key, r.mask, &mk.key);
  mk.mask = r.mask;
  if (mf.map().count(mk)) return;  // another PMD's miss installed it first
  if (auto res =
          b_.dpif.FlowPut(mk.key, mk.mask, r.actions.view(), dp::kFlowCreate | dp::kFlowExpires);
      !res) {
    ++b_.ctr.megaflow_install_fail;
    return;
  }
  ++b_.ctr.megaflow_installs;
  TrackedMegaflow t;
  t.orig = key;
  t.rules = r.rules;
  t.groups = r.groups;
  t.tables = r.tables;
  t.actions = r.actions;
  t.gen = mf.stats_gen() + 1;  // not forgotten by a stats pass whose dump predates it
  mf.AddFloods(r.flooded, mk.key);
  mf.map().emplace(mk, std::move(t));
}

// ---------------------------------------------------------------------------------- packet-out

std::optional<OfpError> UpcallHandler::PacketOutLocked(BridgeState& br, const PacketOut& po) {
  ++b_.ctr.packet_outs;
  if (po.data.size() < 14) {
    return OfpError{OfpErr::kBadRequestBadLen, "packet-out data shorter than an Ethernet header"};
  }
  XlateInput in;
  in.bridge = &br.x;
  in.in_ofport = po.in_port;
  in.learn = false;
  in.actions = &po.actions;
  in.now_ms = clock::NowMs();
  in.key.Clear();
  const XPort* xp = br.x.Port(po.in_port);
  in.key.in_port = xp && xp->dp_port != kOdpPortNone ? xp->dp_port : b_.limits.max_ports - 1;
  auto packet = b_.dpif.PacketFromBytes(po.data, in.key.in_port);
  if (!packet) {
    return packet.error().code == Errc::kNoSpace
               ? OfpError{OfpErr::kBadRequestBufferEmpty, "no packet buffers"}
               : OfpError{OfpErr::kBadRequestBadLen, "packet-out data larger than a packet buffer"};
  }
  dp::ParsePacket(po.data.data(), static_cast<uint32_t>(po.data.size()), &in.key);
  XlateResult r = Translate(b_.EnvLocked(), in);
  if (r.error) Log()->info("{}: packet-out: {}", br.x.name, r.error_text);
  CreditTranslation(r.rules, r.groups, 1, packet->size(), in.now_ms);
  std::vector<PendingPacketIn> pins;
  std::vector<Recirculated> recircs;
  ExecuteLocked(std::move(*packet), r.actions, &pins, &recircs);
  RecirculateLocked(std::move(recircs), &pins);
  // Control thread already: deliver directly (the lock is held; Ofproto does not take it).
  for (const auto& pin : pins) {
    if (BridgeState* b = b_.BridgeOf(pin.bridge)) b->ofp->SendPacketIn(pin.pi);
  }
  return std::nullopt;
}

}  // namespace sluice::ofp
