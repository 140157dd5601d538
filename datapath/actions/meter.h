// The datapath meter table: what the meter(N) action runs (OpenFlow 1.3 meters, enforced).
//
// A meter has up to kMaxMeterBands bands, each with its own token bucket filled at the band's
// rate (kbit/s or packets/s) up to its burst size. Every packet entering the meter is offered to
// every band, highest rate first: a band whose bucket can pay for the packet is paid, and of the
// bands that cannot, the one with the highest rate is applied (drop, or dscp_remark: the packet's
// DSCP gets `prec_level` more drop precedence, see RemarkDscpValue). To let packets larger than
// the burst through at all, a bucket pays when it holds at least min(cost, burst) and may then
// go into debt; the long-run rate is unchanged. A burst of 0 means one second of the rate, as in
// Open vSwitch's userspace datapath.
//
// Counters: packets and bytes entering the meter (kept across Set() on an existing meter), and
// per band the packets and bytes it was applied to (new bands count from zero).
//
// Threading: Set/Del/Stats are control-side calls (serialised inside). Run() is the fast path,
// safe from any number of PMD threads at once: no lock, no allocation, no syscall. The time is
// taken by compare-and-swap on the meter's last-refill time (so each interval is credited
// once), each band's bucket is updated by compare-and-swap. A meter replaced or deleted is
// freed through the Reclaimer once no PMD can still be reading it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "sluice/result.h"

namespace sluice::dp {

class Reclaimer;

inline constexpr uint32_t kMaxMeters = 65536;  // datapath meter ids 0..kMaxMeters-1
inline constexpr size_t kMaxMeterBands = 16;

enum class MeterBandKind : uint8_t { kDrop = 1, kDscpRemark = 2 };

struct MeterBandConfig {
  MeterBandKind kind = MeterBandKind::kDrop;
  uint8_t prec_level = 0;  // kDscpRemark
  uint32_t rate = 0;       // kbit/s or packets/s; must not be 0
  uint32_t burst = 0;      // kbit or packets; 0: `rate` (one second's worth)
};

struct MeterConfig {
  bool pktps = false;  // false: kbit/s (a packet costs its length in bits, frame without FCS)
  std::vector<MeterBandConfig> bands;
};

struct MeterCount {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  bool operator==(const MeterCount&) const = default;
};

struct MeterStatsSnapshot {
  MeterCount in;                  // entered the meter
  std::vector<MeterCount> bands;  // applied, per band in configuration order
};

// DSCP after a dscp_remark band: for the Assured Forwarding code points (RFC 2597: class 1-4,
// drop precedence 1-3) the drop precedence rises by prec_level, capped at 3; other code points
// have no drop precedence to raise and come back unchanged.
uint8_t RemarkDscpValue(uint8_t dscp, uint8_t prec_level) noexcept;

// Rewrites the DSCP of an IPv4 (header checksum updated incrementally) or IPv6 packet with
// RemarkDscpValue; other packets are left unchanged. `d`, `len`: the packet's first segment.
void RemarkDscp(uint8_t* d, uint32_t len, uint8_t prec_level) noexcept;

class MeterTable {
 public:
  // `reclaimer` (nullptr: free at once, only when no Run() can be concurrent) must outlive the
  // table. Run() is given time in ticks of `ticks_per_sec` (rte_get_tsc_hz() for the TSC).
  MeterTable(Reclaimer* reclaimer, uint64_t ticks_per_sec);
  ~MeterTable();
  MeterTable(const MeterTable&) = delete;
  MeterTable& operator=(const MeterTable&) = delete;

  // Adds meter `id` or replaces its configuration (buckets full again, band counters new, the
  // meter's in-counters kept). Errors: id out of range, no or too many bands, a zero rate, an
  // unknown band kind.
  Result<void> Set(uint32_t id, const MeterConfig& cfg);
  // Errors: no such meter.
  Result<void> Del(uint32_t id);
  Result<MeterStatsSnapshot> Stats(uint32_t id) const;
  size_t size() const;

  // Fast path. Meters a packet of `pkt_len` bytes, whose first segment is (`d`, `data_len`),
  // through meter `id` at time `now` (ticks); returns false when the packet must be dropped (a
  // drop band applies, or there is no meter `id`: a flow naming a deleted meter is about to be
  // revalidated away and must not forward unmetered). A dscp_remark band rewrites the packet.
  bool Run(uint32_t id, uint64_t now, uint8_t* d, uint32_t data_len, uint32_t pkt_len) noexcept;

  // The metering decision alone, for a packet of `bytes`: the configuration index of the band
  // applied, -1 for none, -2 when there is no meter `id`. Counts like Run().
  int Meter(uint32_t id, uint64_t now, uint32_t bytes) noexcept;

 private:
  struct Impl;

  uint64_t ToNs(uint64_t ticks) const noexcept;
  int Apply(Impl& m, uint64_t now, uint32_t bytes) const noexcept;

  Reclaimer* reclaimer_;
  uint64_t ticks_per_sec_;
  uint64_t ns_mult_;  // ns = ticks * ns_mult_ >> 32
  mutable std::mutex mu_;
  size_t count_ = 0;
  std::unique_ptr<std::atomic<Impl*>[]> slots_;
};

}  // namespace sluice::dp
