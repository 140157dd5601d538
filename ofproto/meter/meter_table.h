// The OpenFlow 1.3 meter table (spec sections 5.7 and 7.3.4.4): applies METER_MODs with the
// spec's OFPMMFC_* errors, meters packets with one token bucket per band, counts, and produces
// the meter multipart replies.
//
// The model: every band meters all the traffic entering the meter with its own bucket, filled at
// the band's rate up to its burst size. A packet exceeds a band when the band's bucket cannot
// pay for it; the meter then applies, of the bands the packet exceeds, the one with the highest
// rate (the spec's "highest configured rate that is lower than the current measured rate"), or
// no band when it exceeds none. A packet that conforms to a band pays that band's bucket.
// To let packets larger than the burst through at all, a bucket pays for a packet when it holds
// at least min(cost, burst) and may then go into debt; the long-run rate is unchanged.
//
// Decisions the spec leaves to the switch:
//  - Exactly one of OFPMF_KBPS and OFPMF_PKTPS must be set (OFPMMFC_BAD_FLAGS).
//  - Without OFPMF_BURST, burst_size is ignored (kept for the config reply) and each band bursts
//    up to default_burst_ms of its rate (at least one packet for pktps meters). With
//    OFPMF_BURST, a burst_size of 0 is OFPMMFC_BAD_BURST.
//  - Virtual meters (OFPM_SLOWPATH, OFPM_CONTROLLER) are not supported: OFPMMFC_INVALID_METER.
//  - Experimenter bands are refused with OFPMMFC_BAD_BAND; color-aware metering is not done
//    (max_color 0).
//  - Counters are kept for every meter, with or without OFPMF_STATS (as Open vSwitch does).
//    Under ofproto-dpif the datapath meters the packets and its counts are credited here (Credit).
//  - A modify keeps the meter's counters and age; the bands (their buckets, full again, and
//    their counters) are new.
//
// Enforcement: under ofproto-dpif the packets are metered by the datapath's meters
// (datapath/actions/meter.h, programmed through OfprotoHooks::MeterSet), whose default burst
// without OFPMF_BURST is one second of the rate, as in Open vSwitch; Meter::Apply here is the
// control-side model (tests), with default_burst_ms.
//
// Threading: Apply(MeterMod), the flow reference calls, Find and the replies must be serialized
// by the caller. Metering a packet (Meter::Apply) is safe from any thread on a Meter obtained
// from Find, which stays valid after a modify or delete for as long as it is held.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "ofproto/codec/messages.h"

namespace sluice::ofp {

// What the meter does to a packet.
enum class MeterVerdict : uint8_t { kPass, kDrop, kRemark };

struct MeterResult {
  MeterVerdict verdict = MeterVerdict::kPass;
  uint8_t prec_level = 0;  // kRemark: drop precedence levels to add
  bool operator==(const MeterResult&) const = default;
};

// A DSCP after a dscp_remark band of `prec_level`: for the Assured Forwarding code points (RFC
// 2597: class 1-4, drop precedence 1-3) the drop precedence rises by prec_level, capped at 3;
// other code points have no drop precedence to raise and come back unchanged.
uint8_t RemarkDscp(uint8_t dscp, uint8_t prec_level);

class Meter {
 public:
  // `mod` must have passed MeterTable's validation.
  Meter(const MeterMod& mod, uint64_t burst_ms, uint64_t created_ns);

  uint32_t id() const { return id_; }
  uint16_t flags() const { return flags_; }
  const std::vector<MeterBand>& bands() const { return bands_; }
  uint64_t created_ns() const { return created_ns_; }

  // Meters one packet of `packet_bytes` arriving at `now_ns` (any monotonic clock, the same for
  // every call; a time earlier than the last one counts as no time passing).
  MeterResult Apply(uint64_t now_ns, uint32_t packet_bytes);

  // {packet_in_count, byte_in_count} and per band {packet_band_count, byte_band_count}.
  BucketCounter Counter() const;
  BucketCounter BandCounter(size_t index) const;
  // Adds packets metered elsewhere (the datapath): `bands` per band index, extra ones ignored.
  void Credit(const BucketCounter& in, const std::vector<BucketCounter>& bands);

 private:
  friend class MeterTable;
  struct AtomicCounter {
    std::atomic<uint64_t> packets{0};
    std::atomic<uint64_t> bytes{0};
    void Add(uint64_t n_bytes, uint64_t n_packets = 1) {
      packets.fetch_add(n_packets, std::memory_order_relaxed);
      bytes.fetch_add(n_bytes, std::memory_order_relaxed);
    }
  };
  // Token amounts are in nano-units (1e-9 packet or 1e-9 kilobit), so that a band's rate in
  // units per second is exactly its refill in nano-units per nanosecond.
  struct Bucket {
    int64_t capacity = 0;
    int64_t tokens = 0;
    uint64_t rate = 0;
  };

  uint32_t id_;
  uint16_t flags_;
  std::vector<MeterBand> bands_;
  uint64_t created_ns_;
  std::vector<size_t> by_rate_;  // band indexes, highest rate first

  std::mutex mu_;  // guards buckets_ and last_ns_
  std::vector<Bucket> buckets_;
  uint64_t last_ns_ = 0;
  bool started_ = false;

  // Shared with the meter's next version so a modify keeps the meter's counts.
  std::shared_ptr<AtomicCounter> counter_;
  std::unique_ptr<AtomicCounter[]> band_counters_;
};

struct MeterTableOptions {
  uint32_t max_meters = 65536;
  uint8_t max_bands = 16;  // per meter
  uint64_t default_burst_ms = 100;
  // Monotonic nanoseconds for durations (tests inject their own); empty: steady_clock.
  std::function<uint64_t()> now_ns = nullptr;
};

struct MeterModOutcome {
  // Meters removed, ascending: the caller removes the flows that use them.
  std::vector<uint32_t> deleted;
};

class MeterTable {
 public:
  explicit MeterTable(MeterTableOptions options = {});

  // Applies a decoded METER_MOD; on failure the table is unchanged.
  OfpResult<MeterModOutcome> Apply(const MeterMod& mod);

  // Meters a packet through meter `meter_id`; nullopt when there is no such meter.
  std::optional<MeterResult> Apply(uint32_t meter_id, uint64_t now_ns, uint32_t packet_bytes);

  bool Contains(uint32_t meter_id) const { return meters_.contains(meter_id); }
  std::shared_ptr<Meter> Find(uint32_t meter_id) const;
  size_t size() const { return meters_.size(); }

  // Flows with a meter instruction register here for the stats' flow_count; unknown ids are
  // ignored.
  void AddFlowRef(uint32_t meter_id);
  void RemoveFlowRef(uint32_t meter_id);

  // OFPMP_METER and OFPMP_METER_CONFIG for one meter or OFPM_ALL (an unknown id gives no
  // entry), ascending ids.
  MeterStatsReply Stats(uint32_t meter_id) const;
  MeterConfigReply Config(uint32_t meter_id) const;
  // OFPMP_METER_FEATURES.
  MeterFeaturesReply Features() const;

 private:
  struct Entry {
    std::shared_ptr<Meter> meter;
    uint32_t flow_refs = 0;
  };

  OfpResult<void> ValidateConfig(const MeterMod& mod) const;
  uint64_t Now() const;

  MeterTableOptions options_;
  std::map<uint32_t, Entry> meters_;
};

}  // namespace sluice::ofp
