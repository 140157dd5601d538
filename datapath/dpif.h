// The datapath interface (dpif): the one boundary between OpenFlow (ofproto/) and a datapath,
// as Open vSwitch's lib/dpif-provider.h is. What crosses it is datapath vocabulary only: flow
// keys and masks (datapath/flow/flow_key.h), encoded datapath actions
// (datapath/actions/action_list.h), datapath port numbers, meter configurations and packet
// handles. Nothing here names DPDK: ofproto, the bridge layer and their tests build and run
// against any implementation, DpifNetdev (datapath/dpif_netdev/, DPDK poll-mode threads) in
// the daemon, the in-memory test datapath (tests/common/in_memory_dpif.h) in unit tests.
//
// The contract, in short:
//   ports     PortAdd / PortDel / PortQuery / PortQueryByName / PortDump (stats and link state)
//   flows     FlowPut (create, modify, zero stats) / FlowDel / FlowGet / FlowStats / FlowFlush,
//             and FlowDumpStart: a cursor; each Next() copies one bounded batch, so a sweep over
//             200k megaflows never holds a datapath lock across the whole table
//   packets   DpPacket, an owning handle (an rte_mbuf in DpifNetdev, never visible here);
//             PacketFromBytes makes one; Execute runs actions on one
//   upcalls   misses and userspace() actions go to the UpcallSink that ofproto registers
//   meters    MeterSet / MeterDel / MeterStats (the meter(N) action)
//   limits    Limits(): recirculation depth, megaflow table size, port and meter id ranges
//   barrier   Synchronize(): returns once no datapath thread can still use a flow, action list
//             or port that was removed or replaced before the call
//
// Megaflows are identified by (masked key, mask): the datapath keeps no two flows with the same
// pair and, as in OVS, installed megaflows never overlap (the layer above installs only what
// its translation of a missed packet covers). in_port and recirc_id always match exactly.
//
// Threads and locks. Every method may be called from any non-datapath thread. The datapath
// calls the UpcallSink from its own handler thread(s), holding the sink lock (level
// kLockLevelUpcallSink) for the duration of the call, so that SetUpcallSink can wait for a
// sink to be out of use. A sink may call any dpif method except SetUpcallSink. Each dpif method
// takes the datapath's own lock (level kLockLevelDpif) at most for a bounded amount of work and
// calls out to nothing while it holds it (Execute gives its ExecuteSink the packets handed back
// after releasing it). The lock order is therefore
//     upcall sink lock (10)  ->  [the caller's own locks, e.g. ofproto-dpif (20)]  ->  dpif (30)
// and common/ordered_mutex.h asserts it in builds without NDEBUG (the default ones).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "datapath/actions/action_list.h"
#include "datapath/actions/meter.h"
#include "datapath/flow/flow_key.h"
#include "sluice/odp_port.h"
#include "sluice/result.h"

namespace sluice::dp {

// Lock levels (common/ordered_mutex.h) of the locks on either side of this boundary.
inline constexpr int kLockLevelUpcallSink = 10;  // held while an UpcallSink runs
inline constexpr int kLockLevelDpif = 30;        // a dpif's own lock

// ---------------------------------------------------------------------------------- ports

struct PortSpec {
  std::string name;
  std::string type = "system";                 // system | dpdk | internal | dummy
  std::map<std::string, std::string> options;  // dpdk-devargs, n_rxq, mac, mtu, pcap ...
};

struct PortStats {
  uint64_t rx_packets = 0, rx_bytes = 0, rx_dropped = 0, rx_errors = 0;
  uint64_t tx_packets = 0, tx_bytes = 0, tx_dropped = 0, tx_errors = 0;
};

struct DpifPort {
  OdpPort port_no = kOdpPortNone;
  std::string name;
  std::string type;
  std::string detail;  // kind-specific detail for dpctl/show (devargs ...)
  PortStats stats;
  bool link_up = true;
};

// ---------------------------------------------------------------------------------- flows

enum FlowPutFlags : unsigned {
  kFlowCreate = 1 << 0,  // create if absent
  kFlowModify = 1 << 1,  // modify if present
  kFlowZeroStats = 1 << 2,
  kFlowExpires = 1 << 3,  // subject to idle expiry (installed for an upcall)
};

struct DpifFlowStats {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  int64_t used_ms = 0;  // clock::NowMs() of the last hit; 0: never
  uint16_t tcp_flags = 0;
};

// One megaflow as a datapath thread holds it. A datapath with several threads may hold one copy
// per thread (DpifNetdev installs every flow on every PMD): `pmd`, `core` say whose.
struct DpifFlow {
  FlowKey key;  // masked
  FlowMask mask;
  ActionBuilder actions;  // empty when dumped without actions
  uint64_t packets = 0;
  uint64_t bytes = 0;
  int64_t used_ms = 0;  // 0: never
  uint16_t tcp_flags = 0;
  unsigned pmd = 0;
  int core = -1;
  uint64_t id = 0;  // datapath-unique (a stand-in for OVS's ufid)
};

struct FlowDumpOptions {
  bool actions = true;  // copy each flow's actions (a statistics sweep does not need them)
};

// A dump in progress: a cursor over the datapath's flows. Flows present for the whole dump are
// returned exactly once; flows added or deleted meanwhile may or may not be. Each Next() takes
// the datapath's lock for one batch only.
class DpifFlowDump {
 public:
  virtual ~DpifFlowDump() = default;
  // Appends up to `max` flows to `out`; returns how many (0: the dump is over).
  virtual size_t Next(std::vector<DpifFlow>& out, size_t max) = 0;
};

// ---------------------------------------------------------------------------------- packets

// How a datapath's packets are read and freed; each datapath has one (DpifNetdev's reads
// rte_mbufs). Control-side only: the fast path never sees a DpPacket.
class PacketStore {
 public:
  virtual ~PacketStore() = default;
  virtual void Free(void* packet) const noexcept = 0;
  virtual uint32_t Length(const void* packet) const noexcept = 0;
  // The first contiguous bytes (at least the headers, what the datapath's parser looks at).
  virtual std::span<const uint8_t> Head(const void* packet) const noexcept = 0;
  // Copies `n` bytes from `offset` (offset + n <= Length).
  virtual void Read(const void* packet, uint32_t offset, uint32_t n,
                    uint8_t* out) const noexcept = 0;
  virtual OdpPort InPort(const void* packet) const noexcept = 0;
};

// An owned packet on the control side of the boundary: a missed packet handed up with its
// upcall, a packet-out or trace packet made by PacketFromBytes, a copy the actions hand back.
// Move-only; frees the packet unless it was passed on.
class DpPacket {
 public:
  DpPacket() = default;
  DpPacket(void* packet, const PacketStore* store) noexcept : p_(packet), store_(store) {}
  DpPacket(DpPacket&& o) noexcept : p_(o.p_), store_(o.store_) { o.p_ = nullptr; }
  DpPacket& operator=(DpPacket&& o) noexcept {
    if (this != &o) {
      reset();
      p_ = o.p_;
      store_ = o.store_;
      o.p_ = nullptr;
    }
    return *this;
  }
  DpPacket(const DpPacket&) = delete;
  DpPacket& operator=(const DpPacket&) = delete;
  ~DpPacket() { reset(); }

  explicit operator bool() const noexcept { return p_ != nullptr; }
  uint32_t size() const noexcept { return p_ ? store_->Length(p_) : 0; }
  std::span<const uint8_t> head() const noexcept {
    return p_ ? store_->Head(p_) : std::span<const uint8_t>();
  }
  // The first min(size(), max) bytes.
  std::vector<uint8_t> Bytes(uint32_t max = UINT32_MAX) const;
  OdpPort in_port() const noexcept { return p_ ? store_->InPort(p_) : kOdpPortNone; }
  void reset() noexcept {
    if (p_) store_->Free(p_);
    p_ = nullptr;
  }

  // For the datapath that made it.
  void* get() const noexcept { return p_; }
  const PacketStore* store() const noexcept { return store_; }
  void* release() noexcept {
    void* p = p_;
    p_ = nullptr;
    return p;
  }

 private:
  void* p_ = nullptr;
  const PacketStore* store_ = nullptr;
};

// ---------------------------------------------------------------------------------- upcalls

// Why a packet went up. As in OVS's dpif, the datapath knows two kinds; what an action upcall
// is for (a packet-in, later sFlow/IPFIX samples, slow-path processing) is ofproto's business,
// told by the userspace() action's pid and cookie, which the datapath passes on untouched.
enum class UpcallKind : uint8_t {
  kMiss,    // no megaflow matched
  kAction,  // a userspace() action
};

struct Upcall {
  UpcallKind kind = UpcallKind::kMiss;
  DpPacket packet;  // the sink owns it
  // The packet's flow key as the datapath parsed it (in_port, recirc_id and every header).
  FlowKey key;
  unsigned pmd = 0;          // the datapath thread it came from
  ActUserspace userspace{};  // kAction: the action's pid and cookie
};

// Where misses and userspace() actions go; ofproto registers one.
class UpcallSink {
 public:
  virtual ~UpcallSink() = default;
  // On a datapath handler thread, with the sink lock held. The sink owns `upcall.packet`.
  virtual void HandleUpcall(Upcall& upcall) = 0;
};

// ---------------------------------------------------------------------------------- execute

// What happens to the packets a control-side Execute hands back.
class ExecuteSink {
 public:
  virtual ~ExecuteSink() = default;
  // A userspace() action: the packet as the actions before it left it (a copy unless last).
  virtual void Userspace(const ActUserspace& action, DpPacket packet) = 0;
  // A recirc() action: the packet to run through the datapath again with `recirc_id` (the
  // caller does that, after Execute returns, as a miss of its own).
  virtual void Recirc(uint32_t recirc_id, DpPacket packet) = 0;
};

enum class ExecuteMode : uint8_t {
  kForward,  // outputs transmit, meters meter
  kTrace,    // nothing leaves and nothing is counted: outputs and userspace copies are
             // discarded, meters let everything pass; recirc() still reaches the sink
};

// ---------------------------------------------------------------------------------- the dpif

struct DpifLimits {
  unsigned max_recirc_depth = 0;  // recirc() passes a packet may take after the first
  size_t max_flows = 0;           // megaflows a datapath thread holds at most
  OdpPort max_ports = 0;          // port numbers are below this
  uint32_t max_meters = 0;        // meter ids are below this
};

struct DpifInfo {
  std::string type;     // Open_vSwitch.datapath_types: "netdev"
  std::string version;  // e.g. "DPDK 22.11.1" (Open_vSwitch.dpdk_version); empty if none
  bool dpdk_initialized = false;
};

class Dpif {
 public:
  virtual ~Dpif() = default;

  virtual DpifInfo Info() const = 0;
  virtual DpifLimits Limits() const = 0;

  // ---- ports ----
  // Adds and starts a port; `requested` 0 picks the lowest free number >= 1.
  virtual Result<OdpPort> PortAdd(const PortSpec& spec, OdpPort requested = 0) = 0;
  // Returns once no datapath thread polls or sends to the port any more.
  virtual Result<void> PortDel(OdpPort port) = 0;
  virtual Result<DpifPort> PortQuery(OdpPort port) const = 0;
  virtual Result<DpifPort> PortQueryByName(std::string_view name) const = 0;
  virtual std::vector<DpifPort> PortDump() const = 0;

  // ---- flows ----
  // kFlowCreate and/or kFlowModify say what may happen; all-or-nothing across datapath threads.
  // Errors: kExists (present, no kFlowModify), kNotFound (absent, no kFlowCreate), kNoSpace.
  virtual Result<void> FlowPut(const FlowKey& key, const FlowMask& mask, ActionView actions,
                               unsigned flags) = 0;
  virtual Result<void> FlowDel(const FlowKey& key, const FlowMask& mask) = 0;
  // The flow with exactly this (key, mask): one entry per datapath thread holding it.
  virtual std::vector<DpifFlow> FlowGet(const FlowKey& key, const FlowMask& mask) const = 0;
  // Its counters summed over the datapath threads (used_ms: the latest). kNotFound if absent.
  virtual Result<DpifFlowStats> FlowStats(const FlowKey& key, const FlowMask& mask) const = 0;
  virtual void FlowFlush() = 0;
  virtual size_t FlowCount() const = 0;
  virtual std::unique_ptr<DpifFlowDump> FlowDumpStart(const FlowDumpOptions& options = {}) = 0;
  // Idle expiry of kFlowExpires flows (Open_vSwitch other_config:max-idle); <= 0: never.
  virtual void SetMaxIdle(int64_t ms) = 0;

  // ---- packets ----
  // A packet with these bytes, arriving on `in_port` (kNoSpace when buffers run out, kInvalid
  // when too long).
  virtual Result<DpPacket> PacketFromBytes(std::span<const uint8_t> bytes, OdpPort in_port) = 0;
  // Runs `actions` on `packet` from the calling (non-datapath) thread. userspace() copies and
  // recirculated packets go to `sink` (without one they are dropped).
  virtual void Execute(DpPacket packet, ActionView actions, ExecuteSink* sink,
                       ExecuteMode mode = ExecuteMode::kForward) = 0;

  // ---- upcalls ----
  // Returns once the previous sink is no longer running (its owner may then be destroyed).
  // nullptr: misses are dropped and counted.
  virtual void SetUpcallSink(UpcallSink* sink) = 0;

  // ---- meters (the meter(N) action, N < Limits().max_meters) ----
  virtual Result<void> MeterSet(uint32_t id, const MeterConfig& config) = 0;
  virtual Result<void> MeterDel(uint32_t id) = 0;
  virtual Result<MeterStatsSnapshot> MeterStats(uint32_t id) const = 0;

  // ---- the barrier ----
  // Returns once no datapath thread can still use a flow, action list, meter or port removed
  // or replaced before the call (after a FlowPut that modified a flow, no packet runs the old
  // actions any more).
  virtual void Synchronize() = 0;
};

}  // namespace sluice::dp
