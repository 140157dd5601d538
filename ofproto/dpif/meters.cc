#include "ofproto/dpif/meters.h"

#include "ofproto/dpif/backer.h"
#include "sluice/log.h"

namespace sluice::ofp {
namespace {

auto Log() {
  static auto l = log::Get("ofproto_dpif");
  return l;
}

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

DpMeters::DpMeters(Backer& b) : b_(b), used_(b.limits.max_meters, false) {}

std::optional<OfpError> DpMeters::SetLocked(BridgeState& br, const Meter& m) {
  b_.mu.AssertHeld();
  for (const MeterBand& band : m.bands()) {
    if (band.type != MeterBandType::kDrop && band.type != MeterBandType::kDscpRemark) {
      return OfpError{OfpErr::kMeterModBadBand, "the datapath meters with drop and dscp_remark"};
    }
  }
  const uint32_t n_ids = static_cast<uint32_t>(used_.size());
  auto it = br.meters.find(m.id());
  const bool fresh = it == br.meters.end();
  uint32_t dp_id = 0;
  if (fresh) {
    uint32_t n = 0;
    while (n < n_ids && used_[(next_ + n) % n_ids]) ++n;
    if (n == n_ids) {
      return OfpError{OfpErr::kMeterModOutOfMeters, "the datapath meter table is full"};
    }
    dp_id = (next_ + n) % n_ids;
  } else {
    dp_id = it->second.dp_id;
  }
  if (auto r = b_.dpif.MeterSet(dp_id, DpMeterConfig(m)); !r) {
    Log()->warn("{}: meter {}: datapath refused it: {}", br.x.name, m.id(), r.error().message);
    return OfpError{OfpErr::kMeterModBadBand, "datapath: " + r.error().message};
  }
  if (fresh) {
    used_[dp_id] = true;
    next_ = (dp_id + 1) % n_ids;
    BridgeState::MeterRec rec;
    rec.dp_id = dp_id;
    it = br.meters.emplace(m.id(), rec).first;
    br.x.dp_meters[m.id()] = dp_id;
  }
  // The datapath's bands count afresh, its in-counts go on.
  it->second.bands.assign(m.bands().size(), dp::MeterCount{});
  return std::nullopt;
}

void DpMeters::DelLocked(BridgeState& br, uint32_t meter_id) {
  b_.mu.AssertHeld();
  auto it = br.meters.find(meter_id);
  if (it == br.meters.end()) return;
  // Packets of megaflows still naming the meter are dropped until revalidation removes them
  // (the flows using a deleted meter are deleted with it).
  (void)b_.dpif.MeterDel(it->second.dp_id);
  used_[it->second.dp_id] = false;
  br.x.dp_meters.erase(meter_id);
  br.meters.erase(it);
}

void DpMeters::ReleaseLocked(BridgeState& br) {
  b_.mu.AssertHeld();
  for (const auto& [id, rec] : br.meters) {
    (void)b_.dpif.MeterDel(rec.dp_id);
    used_[rec.dp_id] = false;
  }
  br.meters.clear();
  br.x.dp_meters.clear();
}

// Datapath meter counters -> the OpenFlow meter table, as deltas since the last push.
void DpMeters::PushStatsLocked() {
  b_.mu.AssertHeld();
  for (auto& [name, br] : b_.bridges) {
    for (auto& [id, rec] : br->meters) {
      auto st = b_.dpif.MeterStats(rec.dp_id);
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

}  // namespace sluice::ofp
