#include "ofproto/meter/meter_table.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

namespace sluice::ofp {
namespace {

constexpr int64_t kNano = 1'000'000'000;
// A kilobit is 1000 bits, so one byte costs 8 / 1000 kilobit = 8'000'000 nano-kilobits.
constexpr int64_t kNanoKbitPerByte = 8'000'000;

uint64_t SteadyNowNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

void SetDuration(uint64_t now_ns, uint64_t created_ns, uint32_t& sec, uint32_t& nsec) {
  uint64_t d = now_ns > created_ns ? now_ns - created_ns : 0;
  sec = static_cast<uint32_t>(d / kNano);
  nsec = static_cast<uint32_t>(d % kNano);
}

}  // namespace

uint8_t RemarkDscp(uint8_t dscp, uint8_t prec_level) {
  // AFcd is binary ccc dd0 with class ccc in 1..4 and drop precedence dd in 1..3.
  const unsigned cls = (dscp >> 3) & 7;
  const unsigned drop = (dscp >> 1) & 3;
  if (cls < 1 || cls > 4 || drop == 0 || (dscp & 1) != 0 || dscp > 63) return dscp;
  const unsigned raised = std::min(3u, drop + prec_level);
  return static_cast<uint8_t>((cls << 3) | (raised << 1));
}

// ---- Meter ---------------------------------------------------------------------------------

Meter::Meter(const MeterMod& mod, uint64_t burst_ms, uint64_t created_ns)
    : id_(mod.meter_id),
      flags_(mod.flags),
      bands_(mod.bands),
      created_ns_(created_ns),
      counter_(std::make_shared<AtomicCounter>()),
      band_counters_(std::make_unique<AtomicCounter[]>(mod.bands.size())) {
  const bool pktps = (flags_ & kMeterPktps) != 0;
  for (size_t i = 0; i < bands_.size(); ++i) {
    const MeterBand& band = bands_[i];
    Bucket b;
    b.rate = band.rate;
    if (flags_ & kMeterBurst) {
      b.capacity = static_cast<int64_t>(band.burst_size) * kNano;
    } else {
      // rate units/s for burst_ms milliseconds, in nano-units.
      b.capacity = static_cast<int64_t>(band.rate) * static_cast<int64_t>(burst_ms) * 1'000'000;
      if (pktps) b.capacity = std::max(b.capacity, kNano);
    }
    b.tokens = b.capacity;
    buckets_.push_back(b);
    by_rate_.push_back(i);
  }
  std::stable_sort(by_rate_.begin(), by_rate_.end(),
                   [&](size_t a, size_t b) { return bands_[a].rate > bands_[b].rate; });
}

MeterResult Meter::Apply(uint64_t now_ns, uint32_t packet_bytes) {
  counter_->Add(packet_bytes);
  const int64_t cost = (flags_ & kMeterPktps) ? kNano : int64_t{packet_bytes} * kNanoKbitPerByte;

  std::optional<size_t> applied;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_) {
      started_ = true;
      last_ns_ = now_ns;
    }
    const uint64_t elapsed = now_ns > last_ns_ ? now_ns - last_ns_ : 0;
    last_ns_ = std::max(last_ns_, now_ns);
    for (size_t idx : by_rate_) {
      Bucket& b = buckets_[idx];
      // 128 bits: a long idle gap times a high rate overflows 64.
      __int128 t = static_cast<__int128>(b.tokens) +
                   static_cast<__int128>(elapsed) * static_cast<__int128>(b.rate);
      b.tokens = t > b.capacity ? b.capacity : static_cast<int64_t>(t);
      if (b.tokens >= std::min(cost, b.capacity)) {
        b.tokens -= cost;
      } else if (!applied) {
        applied = idx;  // highest-rate band exceeded: by_rate_ is in falling rate order
      }
    }
  }
  if (!applied) return {};
  band_counters_[*applied].Add(packet_bytes);
  const MeterBand& band = bands_[*applied];
  if (band.type == MeterBandType::kDscpRemark) return {MeterVerdict::kRemark, band.prec_level};
  return {MeterVerdict::kDrop, 0};
}

BucketCounter Meter::Counter() const {
  return {counter_->packets.load(std::memory_order_relaxed),
          counter_->bytes.load(std::memory_order_relaxed)};
}

BucketCounter Meter::BandCounter(size_t index) const {
  const AtomicCounter& c = band_counters_[index];
  return {c.packets.load(std::memory_order_relaxed), c.bytes.load(std::memory_order_relaxed)};
}

void Meter::Credit(const BucketCounter& in, const std::vector<BucketCounter>& bands) {
  counter_->Add(in.byte_count, in.packet_count);
  for (size_t i = 0; i < bands.size() && i < bands_.size(); ++i) {
    band_counters_[i].Add(bands[i].byte_count, bands[i].packet_count);
  }
}

// ---- MeterTable ----------------------------------------------------------------------------

MeterTable::MeterTable(MeterTableOptions options) : options_(std::move(options)) {}

uint64_t MeterTable::Now() const { return options_.now_ns ? options_.now_ns() : SteadyNowNs(); }

std::shared_ptr<Meter> MeterTable::Find(uint32_t meter_id) const {
  auto it = meters_.find(meter_id);
  if (it == meters_.end()) return nullptr;
  return it->second.meter;
}

OfpResult<void> MeterTable::ValidateConfig(const MeterMod& mod) const {
  if (mod.flags & ~kMeterAllFlags) {
    return Fail(OfpErr::kMeterModBadFlags, "flags " + std::to_string(mod.flags));
  }
  if (((mod.flags & kMeterKbps) != 0) == ((mod.flags & kMeterPktps) != 0)) {
    return Fail(OfpErr::kMeterModBadFlags, "exactly one of OFPMF_KBPS and OFPMF_PKTPS");
  }
  if (mod.bands.size() > options_.max_bands) {
    return Fail(OfpErr::kMeterModOutOfBands, std::to_string(mod.bands.size()) + " bands");
  }
  for (const MeterBand& b : mod.bands) {
    if (b.type != MeterBandType::kDrop && b.type != MeterBandType::kDscpRemark) {
      return Fail(OfpErr::kMeterModBadBand,
                  "band type " + std::to_string(static_cast<unsigned>(b.type)));
    }
    if (b.rate == 0) return Fail(OfpErr::kMeterModBadRate, "rate 0");
    if ((mod.flags & kMeterBurst) && b.burst_size == 0) {
      return Fail(OfpErr::kMeterModBadBurst, "OFPMF_BURST with burst_size 0");
    }
  }
  return {};
}

OfpResult<MeterModOutcome> MeterTable::Apply(const MeterMod& mod) {
  const uint32_t id = mod.meter_id;
  MeterModOutcome out;
  if (mod.command == MeterModCommand::kDelete && id == kMeterAll) {
    for (const auto& [meter_id, entry] : meters_) out.deleted.push_back(meter_id);
    meters_.clear();
    return out;
  }
  if (id == 0 || id > kMeterMax) {
    return Fail(OfpErr::kMeterModInvalidMeter, "meter " + std::to_string(id));
  }
  auto it = meters_.find(id);
  switch (mod.command) {
    case MeterModCommand::kDelete:
      if (it == meters_.end()) return out;  // the spec: nothing to do, not an error
      meters_.erase(it);
      out.deleted.push_back(id);
      return out;
    case MeterModCommand::kAdd: {
      if (it != meters_.end()) return Fail(OfpErr::kMeterModMeterExists, std::to_string(id));
      if (meters_.size() >= options_.max_meters) return Fail(OfpErr::kMeterModOutOfMeters);
      if (OfpResult<void> ok = ValidateConfig(mod); !ok) {
        return std::unexpected(std::move(ok.error()));
      }
      meters_[id].meter = std::make_shared<Meter>(mod, options_.default_burst_ms, Now());
      return out;
    }
    case MeterModCommand::kModify: {
      if (it == meters_.end()) return Fail(OfpErr::kMeterModUnknownMeter, std::to_string(id));
      if (OfpResult<void> ok = ValidateConfig(mod); !ok) {
        return std::unexpected(std::move(ok.error()));
      }
      auto m =
          std::make_shared<Meter>(mod, options_.default_burst_ms, it->second.meter->created_ns());
      m->counter_ = it->second.meter->counter_;
      it->second.meter = std::move(m);
      return out;
    }
  }
  return Fail(OfpErr::kMeterModBadCommand,
              "command " + std::to_string(static_cast<unsigned>(mod.command)));
}

std::optional<MeterResult> MeterTable::Apply(uint32_t meter_id, uint64_t now_ns,
                                             uint32_t packet_bytes) {
  auto it = meters_.find(meter_id);
  if (it == meters_.end()) return std::nullopt;
  return it->second.meter->Apply(now_ns, packet_bytes);
}

void MeterTable::AddFlowRef(uint32_t meter_id) {
  if (auto it = meters_.find(meter_id); it != meters_.end()) ++it->second.flow_refs;
}

void MeterTable::RemoveFlowRef(uint32_t meter_id) {
  if (auto it = meters_.find(meter_id); it != meters_.end() && it->second.flow_refs > 0) {
    --it->second.flow_refs;
  }
}

MeterStatsReply MeterTable::Stats(uint32_t meter_id) const {
  MeterStatsReply reply;
  const uint64_t now = Now();
  for (const auto& [id, entry] : meters_) {
    if (meter_id != kMeterAll && id != meter_id) continue;
    const Meter& m = *entry.meter;
    MeterStats s;
    s.meter_id = id;
    s.flow_count = entry.flow_refs;
    BucketCounter c = m.Counter();
    s.packet_in_count = c.packet_count;
    s.byte_in_count = c.byte_count;
    SetDuration(now, m.created_ns(), s.duration_sec, s.duration_nsec);
    for (size_t i = 0; i < m.bands().size(); ++i) s.bands.push_back(m.BandCounter(i));
    reply.entries.push_back(std::move(s));
  }
  return reply;
}

MeterConfigReply MeterTable::Config(uint32_t meter_id) const {
  MeterConfigReply reply;
  for (const auto& [id, entry] : meters_) {
    if (meter_id != kMeterAll && id != meter_id) continue;
    reply.entries.push_back(MeterConfig{entry.meter->flags(), id, entry.meter->bands()});
  }
  return reply;
}

MeterFeaturesReply MeterTable::Features() const {
  MeterFeaturesReply f;
  f.max_meter = options_.max_meters;
  f.band_types = (1u << static_cast<int>(MeterBandType::kDrop)) |
                 (1u << static_cast<int>(MeterBandType::kDscpRemark));
  f.capabilities = kMeterKbps | kMeterPktps | kMeterBurst | kMeterStats;
  f.max_bands = options_.max_bands;
  f.max_color = 0;
  return f;
}

}  // namespace sluice::ofp
