#include "ofproto/connmgr/pinsched.h"

#include <algorithm>

#include "common/clock.h"

namespace sluice::ofp {

PacketInScheduler::PacketInScheduler(int rate, int burst)
    : rate_(std::max(rate, 1)),
      burst_(std::max(burst, 1)),
      tokens_(int64_t{burst_} * 1000),
      last_refill_ms_(clock::NowMs()) {}

void PacketInScheduler::Refill() {
  int64_t now = clock::NowMs();
  if (now <= last_refill_ms_) return;
  int64_t cap = int64_t{burst_} * 1000;
  // rate packets a second = rate thousandths of a packet a millisecond.
  int64_t elapsed = std::min<int64_t>(now - last_refill_ms_, cap / rate_ + 1);
  tokens_ = std::min(cap, tokens_ + elapsed * rate_);
  last_refill_ms_ = now;
}

bool PacketInScheduler::TakeToken() {
  Refill();
  if (tokens_ < 1000) return false;
  tokens_ -= 1000;
  return true;
}

void PacketInScheduler::Submit(uint32_t in_port, Message msg, const SendFn& send) {
  if (queues_.empty() && TakeToken()) {
    ++stats_.bypassed;
    send(std::move(msg));
    return;
  }
  if (stats_.backlog >= static_cast<uint64_t>(burst_)) {
    // Full: the longest queue (the noisiest port) loses its oldest packet.
    auto longest = std::max_element(
        queues_.begin(), queues_.end(),
        [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
    longest->second.pop_front();
    if (longest->second.empty()) queues_.erase(longest);
    --stats_.backlog;
    ++stats_.dropped;
  }
  queues_[in_port].push_back(std::move(msg));
  ++stats_.backlog;
  ++stats_.queued;
}

int64_t PacketInScheduler::Run(const SendFn& send) {
  while (!queues_.empty()) {
    if (!TakeToken()) return (1000 - tokens_ + rate_ - 1) / rate_;
    // The first port at or after the round-robin position.
    auto it = queues_.lower_bound(next_port_);
    if (it == queues_.end()) it = queues_.begin();
    Message msg = std::move(it->second.front());
    it->second.pop_front();
    next_port_ = it->first + 1;
    if (it->second.empty()) queues_.erase(it);
    --stats_.backlog;
    send(std::move(msg));
  }
  return -1;
}

}  // namespace sluice::ofp
