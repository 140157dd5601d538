#include "datapath/actions/meter.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <string>

#include "datapath/packet/parse.h"
#include "datapath/reclaimer.h"

namespace sluice::dp {
namespace {

// Token amounts are in nano-units (1e-9 packet or 1e-9 kilobit), so a band's rate in units per
// second is exactly its refill in nano-units per nanosecond.
constexpr int64_t kNano = 1'000'000'000;
// A kilobit is 1000 bits: one byte costs 8 / 1000 kilobit = 8'000'000 nano-kilobits.
constexpr int64_t kNanoKbitPerByte = 8'000'000;

constexpr uint16_t kEthIpv4Be = std::endian::native == std::endian::little ? 0x0008 : 0x0800;
constexpr uint16_t kEthIpv6Be = std::endian::native == std::endian::little ? 0xdd86 : 0x86dd;

}  // namespace

struct MeterTable::Impl {
  struct InCounter {
    std::atomic<uint64_t> packets{0};
    std::atomic<uint64_t> bytes{0};
  };
  struct Band {
    MeterBandKind kind;
    uint8_t prec_level;
    uint64_t rate;     // nano-units per ns
    int64_t capacity;  // nano-units
  };

  struct alignas(64) BandState {  // written by every PMD metering through the band
    std::atomic<int64_t> tokens{0};
    std::atomic<uint64_t> packets{0};
    std::atomic<uint64_t> bytes{0};
  };

  bool pktps = false;
  uint32_t n_bands = 0;
  std::array<Band, kMaxMeterBands> bands{};
  std::array<uint8_t, kMaxMeterBands> by_rate{};  // band indexes, highest rate first
  // Shared with the meter's next configuration, so a Set() keeps the in-counts even while a PMD
  // still counts into the old one.
  std::shared_ptr<InCounter> in;
  std::atomic<uint64_t> last_ns{0};
  std::array<BandState, kMaxMeterBands> state;
};

uint8_t RemarkDscpValue(uint8_t dscp, uint8_t prec_level) noexcept {
  // AFcd is binary ccc dd0 with class ccc in 1..4 and drop precedence dd in 1..3.
  const unsigned cls = (dscp >> 3) & 7;
  const unsigned drop = (dscp >> 1) & 3;
  if (cls < 1 || cls > 4 || drop == 0 || (dscp & 1) != 0 || dscp > 63) return dscp;
  const unsigned raised = std::min(3u, drop + prec_level);
  return static_cast<uint8_t>((cls << 3) | (raised << 1));
}

void RemarkDscp(uint8_t* d, uint32_t len, uint8_t prec_level) noexcept {
  FlowKey key;
  PacketLayout lay;
  ParsePacket(d, len, &key, &lay);
  if (lay.l3_ofs == 0) return;
  uint8_t* ip = d + lay.l3_ofs;
  if (lay.eth_type == kEthIpv4Be) {
    const uint8_t tos = ip[1];
    const uint8_t new_tos =
        static_cast<uint8_t>(RemarkDscpValue(tos >> 2, prec_level) << 2 | (tos & 3));
    if (new_tos == tos) return;
    // RFC 1624 eqn. 3 on the 16-bit word holding version/IHL and TOS: HC' = ~(~HC + ~m + m').
    const uint16_t old_word = static_cast<uint16_t>(ip[0] << 8 | tos);
    const uint16_t new_word = static_cast<uint16_t>(ip[0] << 8 | new_tos);
    uint32_t sum = static_cast<uint16_t>(~(ip[10] << 8 | ip[11]));
    sum += static_cast<uint16_t>(~old_word);
    sum += new_word;
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    const uint16_t csum = static_cast<uint16_t>(~sum);
    ip[1] = new_tos;
    ip[10] = static_cast<uint8_t>(csum >> 8);
    ip[11] = static_cast<uint8_t>(csum);
  } else if (lay.eth_type == kEthIpv6Be) {
    // Version (4 bits), traffic class (8: DSCP 6, ECN 2), flow label (20). No checksum covers
    // the traffic class.
    const uint8_t tclass = static_cast<uint8_t>((ip[0] & 0x0f) << 4 | ip[1] >> 4);
    const uint8_t new_tc =
        static_cast<uint8_t>(RemarkDscpValue(tclass >> 2, prec_level) << 2 | (tclass & 3));
    ip[0] = static_cast<uint8_t>((ip[0] & 0xf0) | new_tc >> 4);
    ip[1] = static_cast<uint8_t>((ip[1] & 0x0f) | (new_tc & 0x0f) << 4);
  }
}

MeterTable::MeterTable(Reclaimer* reclaimer, uint64_t ticks_per_sec)
    : reclaimer_(reclaimer),
      ticks_per_sec_(ticks_per_sec == 0 ? 1 : ticks_per_sec),
      ns_mult_(static_cast<uint64_t>((static_cast<unsigned __int128>(kNano) << 32) /
                                     (ticks_per_sec == 0 ? 1 : ticks_per_sec))),
      slots_(std::make_unique<std::atomic<Impl*>[]>(kMaxMeters)) {}

MeterTable::~MeterTable() {
  // No reader is left.
  for (uint32_t i = 0; i < kMaxMeters; ++i) delete slots_[i].load(std::memory_order_relaxed);
}

uint64_t MeterTable::ToNs(uint64_t ticks) const noexcept {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(ticks) * ns_mult_) >> 32);
}

Result<void> MeterTable::Set(uint32_t id, const MeterConfig& cfg) {
  if (id >= kMaxMeters) {
    return MakeError(Errc::kInvalid, "meter id " + std::to_string(id) + " out of range");
  }
  if (cfg.bands.empty() || cfg.bands.size() > kMaxMeterBands) {
    return MakeError(Errc::kInvalid, std::to_string(cfg.bands.size()) + " meter bands");
  }
  auto m = std::make_unique<Impl>();
  m->pktps = cfg.pktps;
  m->n_bands = static_cast<uint32_t>(cfg.bands.size());
  for (size_t i = 0; i < cfg.bands.size(); ++i) {
    const MeterBandConfig& b = cfg.bands[i];
    if (b.kind != MeterBandKind::kDrop && b.kind != MeterBandKind::kDscpRemark) {
      return MakeError(Errc::kUnsupported,
                       "meter band kind " + std::to_string(static_cast<unsigned>(b.kind)));
    }
    if (b.rate == 0) return MakeError(Errc::kInvalid, "meter band rate 0");
    const uint64_t burst = b.burst ? b.burst : b.rate;
    m->bands[i] = Impl::Band{b.kind, b.prec_level, b.rate, static_cast<int64_t>(burst) * kNano};
    m->state[i].tokens.store(m->bands[i].capacity, std::memory_order_relaxed);
    m->by_rate[i] = static_cast<uint8_t>(i);
  }
  std::stable_sort(m->by_rate.begin(), m->by_rate.begin() + m->n_bands,
                   [&](uint8_t a, uint8_t b) { return m->bands[a].rate > m->bands[b].rate; });

  std::lock_guard lk(mu_);
  Impl* old = slots_[id].load(std::memory_order_relaxed);
  m->in = old ? old->in : std::make_shared<Impl::InCounter>();
  slots_[id].store(m.release(), std::memory_order_release);
  if (!old) {
    ++count_;
  } else if (reclaimer_) {
    reclaimer_->Defer([old] { delete old; });
  } else {
    delete old;
  }
  return {};
}

Result<void> MeterTable::Del(uint32_t id) {
  std::lock_guard lk(mu_);
  Impl* old = id < kMaxMeters ? slots_[id].load(std::memory_order_relaxed) : nullptr;
  if (!old) return MakeError(Errc::kNotFound, "no datapath meter " + std::to_string(id));
  slots_[id].store(nullptr, std::memory_order_release);
  --count_;
  if (reclaimer_) {
    reclaimer_->Defer([old] { delete old; });
  } else {
    delete old;
  }
  return {};
}

Result<MeterStatsSnapshot> MeterTable::Stats(uint32_t id) const {
  std::lock_guard lk(mu_);
  // Under the writer lock the current configuration cannot be replaced or freed.
  const Impl* m = id < kMaxMeters ? slots_[id].load(std::memory_order_acquire) : nullptr;
  if (!m) return MakeError(Errc::kNotFound, "no datapath meter " + std::to_string(id));
  MeterStatsSnapshot s;
  s.in = {m->in->packets.load(std::memory_order_relaxed),
          m->in->bytes.load(std::memory_order_relaxed)};
  for (uint32_t i = 0; i < m->n_bands; ++i) {
    s.bands.push_back({m->state[i].packets.load(std::memory_order_relaxed),
                       m->state[i].bytes.load(std::memory_order_relaxed)});
  }
  return s;
}

size_t MeterTable::size() const {
  std::lock_guard lk(mu_);
  return count_;
}

int MeterTable::Apply(Impl& m, uint64_t now, uint32_t bytes) const noexcept {
  // Claim the time since the last refill; whoever wins the exchange credits that interval.
  const uint64_t now_ns = ToNs(now);
  uint64_t prev = m.last_ns.load(std::memory_order_relaxed);
  uint64_t elapsed = 0;
  while (now_ns > prev) {
    if (m.last_ns.compare_exchange_weak(prev, now_ns, std::memory_order_relaxed)) {
      elapsed = now_ns - prev;
      break;
    }
  }

  const int64_t cost = m.pktps ? kNano : int64_t{bytes} * kNanoKbitPerByte;
  int applied = -1;
  for (uint32_t j = 0; j < m.n_bands; ++j) {
    const uint8_t k = m.by_rate[j];
    const Impl::Band& b = m.bands[k];
    std::atomic<int64_t>& tokens = m.state[k].tokens;
    // 128 bits: a long idle gap times a high rate overflows 64.
    const __int128 add = static_cast<__int128>(elapsed) * b.rate;
    const int64_t need = std::min(cost, b.capacity);
    int64_t t = tokens.load(std::memory_order_relaxed);
    bool pay;
    for (;;) {
      __int128 nt = static_cast<__int128>(t) + add;
      if (nt > b.capacity) nt = b.capacity;
      pay = nt >= need;
      const int64_t want = static_cast<int64_t>(pay ? nt - cost : nt);
      if (tokens.compare_exchange_weak(t, want, std::memory_order_relaxed)) break;
    }
    if (!pay && applied < 0) applied = k;  // highest rate first: the highest exceeded band
  }

  m.in->packets.fetch_add(1, std::memory_order_relaxed);
  m.in->bytes.fetch_add(bytes, std::memory_order_relaxed);
  if (applied >= 0) {
    m.state[applied].packets.fetch_add(1, std::memory_order_relaxed);
    m.state[applied].bytes.fetch_add(bytes, std::memory_order_relaxed);
  }
  return applied;
}

int MeterTable::Meter(uint32_t id, uint64_t now, uint32_t bytes) noexcept {
  Impl* m = id < kMaxMeters ? slots_[id].load(std::memory_order_acquire) : nullptr;
  if (m == nullptr) return -2;
  return Apply(*m, now, bytes);
}

bool MeterTable::Run(uint32_t id, uint64_t now, uint8_t* d, uint32_t data_len,
                     uint32_t pkt_len) noexcept {
  Impl* m = id < kMaxMeters ? slots_[id].load(std::memory_order_acquire) : nullptr;
  if (m == nullptr) return false;
  const int band = Apply(*m, now, pkt_len);
  if (band < 0) return true;
  const Impl::Band& b = m->bands[static_cast<size_t>(band)];
  if (b.kind == MeterBandKind::kDrop) return false;
  RemarkDscp(d, data_len, b.prec_level);
  return true;
}

}  // namespace sluice::dp
