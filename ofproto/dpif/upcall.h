// Upcall handling, ofproto-dpif's UpcallSink: a missed packet is translated through its
// bridge's tables (ofproto/xlate), the resulting megaflow installed in the datapath and the
// packet executed; packets the control side's execution recirculates go through the pipeline
// again as misses of their own; userspace(pid=kUserspacePidController) copies become
// packet-ins, posted to the control loop. Packet-out runs here too (the same execution path).
//
// HandleUpcall runs on the datapath's handler thread, holding the sink lock; it takes the
// ofproto-dpif lock itself. The *Locked methods need the ofproto-dpif lock.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "datapath/dpif.h"
#include "ofproto/codec/messages.h"
#include "ofproto/xlate/xlate.h"

namespace sluice::ofp {

class Backer;
struct BridgeState;

class UpcallHandler final : public dp::UpcallSink {
 public:
  explicit UpcallHandler(Backer& b) : b_(b) {}

  // dp::UpcallSink (the datapath's handler thread).
  void HandleUpcall(dp::Upcall& upcall) override;

  // OpenFlow packet-out on bridge `br` (control thread, lock held).
  std::optional<OfpError> PacketOutLocked(BridgeState& br, const PacketOut& po);

 private:
  struct PendingPacketIn {
    std::string bridge;
    PacketIn pi;
  };
  struct Recirculated {
    uint32_t id;
    dp::DpPacket packet;
  };
  class Collector;

  // Translates a miss, installs the megaflow and executes the packet.
  void MissLocked(dp::DpPacket packet, const dp::FlowKey& key, std::vector<PendingPacketIn>* pins,
                  std::vector<Recirculated>* recircs);
  void ExecuteLocked(dp::DpPacket packet, const dp::ActionBuilder& actions,
                     std::vector<PendingPacketIn>* pins, std::vector<Recirculated>* recircs);
  // Packets the control side's execution recirculated run through the pipeline again as misses
  // with their recirc_id (as the PMDs do with their own), to the datapath's depth limit.
  void RecirculateLocked(std::vector<Recirculated> recircs, std::vector<PendingPacketIn>* pins);
  void CollectPacketInLocked(uint32_t ctx_id, const dp::DpPacket& packet,
                             std::vector<PendingPacketIn>* out);
  void DeliverPacketIns(std::vector<PendingPacketIn> pins);
  void InstallLocked(const dp::FlowKey& key, const XlateResult& r);

  Backer& b_;
};

}  // namespace sluice::ofp
