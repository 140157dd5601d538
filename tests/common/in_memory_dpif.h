// InMemoryDpif: the dpif contract (datapath/dpif.h) implemented in memory, so that ofproto-dpif
// and the bridge layer are tested without DPDK, an EAL or datapath threads. It is a datapath,
// only a small single-threaded one, not a mock: ports are named byte queues; Inject() hands a
// packet to a port's receive side and processes it at once on the calling thread as a PMD
// would (parse, megaflow lookup, actions, recirculation up to the depth limit, or an upcall to
// the registered sink, which runs under the sink lock as on a handler thread); TakeTx() returns
// what left a port. Megaflows are kept by id and matched linearly (they never overlap). Actions
// run through the same odp_execute.h code as the DPDK datapath's, meters through the same
// MeterTable (clock::NowMs() time). Synchronize() returns at once: no datapath thread exists
// that could still hold a removed flow.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/ordered_mutex.h"
#include "datapath/actions/meter.h"
#include "datapath/dpif.h"
#include "datapath/packet/packet_buffer.h"

namespace sluice::test {

class InMemoryDpif final : public dp::Dpif {
 public:
  struct Counters {
    uint64_t received = 0;  // packets injected
    uint64_t hits = 0;      // matched a megaflow (recirculation passes included)
    uint64_t misses = 0;
    uint64_t upcalls = 0;          // misses and userspace() actions given to the sink
    uint64_t upcalls_dropped = 0;  // no sink
    uint64_t dropped = 0;          // by actions, bad output ports, the recirculation limit
    uint64_t executes = 0;
  };

  static dp::DpifLimits DefaultLimits();
  explicit InMemoryDpif(dp::DpifLimits limits = DefaultLimits());
  ~InMemoryDpif() override;

  // ---- dp::Dpif ----
  dp::DpifInfo Info() const override { return {"netdev", "", false}; }
  dp::DpifLimits Limits() const override { return limits_; }
  Result<OdpPort> PortAdd(const dp::PortSpec& spec, OdpPort requested = 0) override;
  Result<void> PortDel(OdpPort port) override;
  Result<dp::DpifPort> PortQuery(OdpPort port) const override;
  Result<dp::DpifPort> PortQueryByName(std::string_view name) const override;
  std::vector<dp::DpifPort> PortDump() const override;
  Result<void> FlowPut(const dp::FlowKey& key, const dp::FlowMask& mask, dp::ActionView actions,
                       unsigned flags) override;
  Result<void> FlowDel(const dp::FlowKey& key, const dp::FlowMask& mask) override;
  std::vector<dp::DpifFlow> FlowGet(const dp::FlowKey& key,
                                    const dp::FlowMask& mask) const override;
  Result<dp::DpifFlowStats> FlowStats(const dp::FlowKey& key,
                                      const dp::FlowMask& mask) const override;
  void FlowFlush() override;
  size_t FlowCount() const override;
  std::unique_ptr<dp::DpifFlowDump> FlowDumpStart(const dp::FlowDumpOptions& options) override;
  void SetMaxIdle(int64_t ms) override;
  Result<dp::DpPacket> PacketFromBytes(std::span<const uint8_t> bytes, OdpPort in_port) override;
  void Execute(dp::DpPacket packet, dp::ActionView actions, dp::ExecuteSink* sink,
               dp::ExecuteMode mode) override;
  void SetUpcallSink(dp::UpcallSink* sink) override;
  Result<void> MeterSet(uint32_t id, const dp::MeterConfig& cfg) override;
  Result<void> MeterDel(uint32_t id) override;
  Result<dp::MeterStatsSnapshot> MeterStats(uint32_t id) const override;
  void Synchronize() override {}

  // ---- the test side ----
  // A packet arrives on `port` (a recirc_id other than 0: a packet between two passes, as the
  // datapath would look it up again) and is processed before this returns.
  Result<void> Inject(const std::string& port, std::span<const uint8_t> bytes,
                      uint32_t recirc_id = 0);
  // The packets transmitted on `port` since the last call (none for an unknown port).
  std::vector<std::vector<uint8_t>> TakeTx(const std::string& port);
  void SetLink(const std::string& port, bool up);
  // Removes the kFlowExpires megaflows idle for the max-idle time; returns how many.
  size_t ExpireIdle();
  Counters counters() const;

 private:
  struct PortRec {
    dp::PortSpec spec;
    dp::PortStats stats;
    bool link_up = true;
    std::deque<std::vector<uint8_t>> tx;
  };
  struct Flow {
    dp::FlowKey key;  // masked
    dp::FlowMask mask;
    dp::ActionBuilder actions;
    uint64_t packets = 0, bytes = 0;
    int64_t used_ms = 0;
    uint16_t tcp_flags = 0;
    int64_t created_ms = 0;
    bool expires = false;
  };
  class Dump;
  class ExecSink;
  friend class Dump;
  friend class ExecSink;

  std::map<uint64_t, Flow>::iterator FindLocked(const dp::FlowKey& key, const dp::FlowMask& mask);
  std::map<uint64_t, Flow>::const_iterator FindLocked(const dp::FlowKey& key,
                                                      const dp::FlowMask& mask) const;
  dp::DpifPort PortInfoLocked(OdpPort no) const;
  dp::DpifFlow ToFlow(uint64_t id, const Flow& f, bool actions) const;
  // One pass of a received packet (the sink lock held, not mu_).
  void Process(dp::PacketBuffer* p, uint32_t recirc_id, unsigned depth);
  void Transmit(OdpPort port, dp::PacketBuffer* p);
  void Deliver(dp::Upcall& u);

  const dp::DpifLimits limits_;
  mutable OrderedMutex mu_{dp::kLockLevelDpif, "in-memory dpif"};
  OrderedMutex sink_mu_{dp::kLockLevelUpcallSink, "in-memory dpif upcall sink"};
  dp::UpcallSink* sink_ = nullptr;  // guarded by sink_mu_
  std::map<OdpPort, PortRec> ports_;
  std::map<uint64_t, Flow> flows_;  // by id
  uint64_t next_id_ = 1;
  int64_t max_idle_ms_ = 10000;
  dp::MeterTable meters_{nullptr, 1000};
  Counters ctr_;
};

}  // namespace sluice::test
