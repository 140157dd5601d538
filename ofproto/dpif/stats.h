// The statistics push: every stats_interval_ms (1 s), and before any flow, table, group or
// meter statistics reply, the datapath's megaflow counters are read with a flow dump and the
// deltas credited to the rules, groups (and buckets) and table lookup/match counters of each
// megaflow's translation; meter counters go to the OpenFlow meter tables. Megaflows the
// datapath no longer has (idle expiry) are forgotten, and so are the recirculation states no
// remembered megaflow names once they have been unused for recirc_grace_ms. MAC learning ages
// here too. PushLocked needs the ofproto-dpif lock.
#pragma once

#include <cstdint>

#include <asio.hpp>

namespace sluice::ofp {

class Backer;

class StatsPusher {
 public:
  explicit StatsPusher(Backer& b);
  void Start();  // arms the periodic push
  void Stop();
  void PushLocked();

 private:
  void Arm();
  void SweepRecircLocked();

  Backer& b_;
  asio::steady_timer timer_;
};

}  // namespace sluice::ofp
