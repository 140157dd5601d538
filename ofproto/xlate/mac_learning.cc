#include "ofproto/xlate/mac_learning.h"

namespace sluice::ofp {

bool MacLearning::Learn(uint16_t vlan, const Mac& mac, uint32_t port, int64_t now_ms, bool* moved) {
  if (moved) *moved = false;
  if (mac[0] & 1) return false;  // multicast / broadcast sources are never learned
  Key k{vlan, mac};
  auto it = map_.find(k);
  if (it != map_.end()) {
    MacEntry& e = *it->second;
    if (e.is_static) return false;
    bool changed = e.port != port;
    // An aged entry is as good as absent: treat its refresh as a new entry.
    bool aged = now_ms - e.learned_ms >= aging_ms_;
    e.port = port;
    e.learned_ms = now_ms;
    lru_.splice(lru_.begin(), lru_, it->second);
    if (changed) {
      ++stats_.moved;
      if (moved) *moved = true;
    }
    return changed || aged;
  }
  EvictIfFull();
  lru_.push_front(MacEntry{vlan, mac, port, now_ms, false});
  map_[k] = lru_.begin();
  ++stats_.learned;
  return true;
}

void MacLearning::AddStatic(uint16_t vlan, const Mac& mac, uint32_t port) {
  Key k{vlan, mac};
  auto it = map_.find(k);
  if (it != map_.end()) {
    it->second->port = port;
    it->second->is_static = true;
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  EvictIfFull();
  lru_.push_front(MacEntry{vlan, mac, port, 0, true});
  map_[k] = lru_.begin();
}

std::optional<uint32_t> MacLearning::Lookup(uint16_t vlan, const Mac& mac, int64_t now_ms) const {
  auto it = map_.find(Key{vlan, mac});
  if (it == map_.end()) return std::nullopt;
  const MacEntry& e = *it->second;
  if (!e.is_static && now_ms - e.learned_ms >= aging_ms_) return std::nullopt;
  return e.port;
}

size_t MacLearning::Expire(int64_t now_ms) {
  size_t n = 0;
  // The least recently refreshed entries are at the back; statics are skipped.
  for (auto it = lru_.begin(); it != lru_.end();) {
    if (!it->is_static && now_ms - it->learned_ms >= aging_ms_) {
      map_.erase(Key{it->vlan, it->mac});
      it = lru_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  stats_.expired += n;
  return n;
}

size_t MacLearning::Flush(std::optional<uint32_t> port) {
  size_t n = 0;
  for (auto it = lru_.begin(); it != lru_.end();) {
    if (!port || it->port == *port) {
      map_.erase(Key{it->vlan, it->mac});
      it = lru_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

std::vector<MacEntry> MacLearning::Entries() const { return {lru_.begin(), lru_.end()}; }

void MacLearning::set_max_entries(size_t n) {
  max_ = n;
  while (map_.size() > max_) {
    auto last = std::prev(lru_.end());
    map_.erase(Key{last->vlan, last->mac});
    lru_.erase(last);
    ++stats_.evicted;
  }
}

void MacLearning::EvictIfFull() {
  if (max_ == 0) return;
  while (map_.size() >= max_) {
    // The least recently refreshed dynamic entry goes first.
    auto victim = lru_.end();
    for (auto it = lru_.rbegin(); it != lru_.rend(); ++it) {
      if (!it->is_static) {
        victim = std::prev(it.base());
        break;
      }
    }
    if (victim == lru_.end()) return;  // only statics: allow growth past the cap
    map_.erase(Key{victim->vlan, victim->mac});
    lru_.erase(victim);
    ++stats_.evicted;
  }
}

}  // namespace sluice::ofp
