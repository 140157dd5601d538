// Packet-in rate limiting for one controller connection and one kind of packet-in (table misses,
// or packets sent by an OpenFlow action), as Open vSwitch's Controller controller_rate_limit and
// controller_burst_limit specify: up to `rate` packets a second pass straight through (a token
// bucket `burst` packets deep); past that they wait in one queue per input port, and the queues
// are served round-robin at `rate` so that a flood arriving on one port cannot crowd out the
// others. At most `burst` packets wait in all; a packet arriving at a full backlog pushes out the
// oldest one of the longest queue. Statistics as Controller.status reports them.
//
// Time is clock::NowMs (warpable in tests). Control thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>

#include "ofproto/codec/messages.h"

namespace sluice::ofp {

struct PacketInStats {
  uint64_t bypassed = 0;  // sent at once, the rate not exceeded
  uint64_t queued = 0;    // put in the backlog to be sent later
  uint64_t dropped = 0;   // pushed out of a full backlog
  uint64_t backlog = 0;   // waiting now
};

class PacketInScheduler {
 public:
  using SendFn = std::function<void(Message&&)>;

  // rate: packets per second (>= 1); burst: bucket depth and backlog limit (>= 1).
  PacketInScheduler(int rate, int burst);

  // Sends `msg` (through `send`) now if the rate allows and nothing waits, else queues it.
  void Submit(uint32_t in_port, Message msg, const SendFn& send);
  // Sends what the rate allows from the backlog. Returns the ms until the next waiting packet
  // may go, or -1 when nothing waits.
  int64_t Run(const SendFn& send);

  const PacketInStats& stats() const { return stats_; }
  int rate() const { return rate_; }
  int burst() const { return burst_; }

 private:
  bool TakeToken();
  void Refill();

  int rate_;
  int burst_;
  int64_t tokens_;  // thousandths of a packet
  int64_t last_refill_ms_;
  std::map<uint32_t, std::deque<Message>> queues_;  // by in_port, non-empty only
  uint32_t next_port_ = 0;                          // round-robin position
  PacketInStats stats_;
};

}  // namespace sluice::ofp
