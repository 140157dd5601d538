// MacLearning: the NORMAL action's forwarding database, (VLAN, MAC) -> OpenFlow port, with
// aging and a size cap enforced by evicting the least recently refreshed entry.
//
// Not thread-safe; the ofproto-dpif lock serialises the upcall handler and the control thread.
#pragma once

#include <array>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace sluice::ofp {

using Mac = std::array<uint8_t, 6>;

struct MacEntry {
  uint16_t vlan = 0;
  Mac mac{};
  uint32_t port = 0;
  int64_t learned_ms = 0;  // last refresh
  bool is_static = false;
};

struct MacLearningStats {
  uint64_t learned = 0;
  uint64_t moved = 0;
  uint64_t expired = 0;
  uint64_t evicted = 0;
};

class MacLearning {
 public:
  explicit MacLearning(size_t max_entries = 8192, int64_t aging_ms = 300000)
      : max_(max_entries), aging_ms_(aging_ms) {}

  // Records `mac` on `port`. Returns true when the entry is new or moved to another port (the
  // caller revalidates megaflows that forwarded to the old location). Multicast sources are
  // not learned. A static entry is never moved by learning.
  bool Learn(uint16_t vlan, const Mac& mac, uint32_t port, int64_t now_ms, bool* moved = nullptr);
  // Adds or replaces a static entry (never ages out).
  void AddStatic(uint16_t vlan, const Mac& mac, uint32_t port);
  // The port for (vlan, mac), if known and not aged out.
  std::optional<uint32_t> Lookup(uint16_t vlan, const Mac& mac, int64_t now_ms) const;
  // Removes aged entries; returns how many.
  size_t Expire(int64_t now_ms);
  // Removes every entry on `port` (port deleted), or all when port is nullopt.
  size_t Flush(std::optional<uint32_t> port = std::nullopt);

  std::vector<MacEntry> Entries() const;  // most recently refreshed first
  size_t size() const { return map_.size(); }
  size_t max_entries() const { return max_; }
  int64_t aging_ms() const { return aging_ms_; }
  void set_aging_ms(int64_t ms) { aging_ms_ = ms; }
  void set_max_entries(size_t n);
  const MacLearningStats& stats() const { return stats_; }

 private:
  struct Key {
    uint16_t vlan;
    Mac mac;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      uint64_t v = k.vlan;
      for (uint8_t b : k.mac) v = (v << 8) | b;
      return std::hash<uint64_t>{}(v * 0x9e3779b97f4a7c15ULL);
    }
  };
  using Lru = std::list<MacEntry>;  // front: most recent

  void EvictIfFull();

  size_t max_;
  int64_t aging_ms_;
  Lru lru_;
  std::unordered_map<Key, Lru::iterator, KeyHash> map_;
  MacLearningStats stats_;
};

}  // namespace sluice::ofp
