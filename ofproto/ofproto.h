// One OpenFlow switch (a bridge): its identity, ports as OpenFlow sees them, switch
// configuration, flow tables, groups and meters, and the answers to controller and management
// messages. What needs the datapath (packet-out, revalidation before a barrier reply, the lock
// shared with the upcall handler) goes through OfprotoHooks, which ofproto-dpif (ofproto/dpif/)
// provides; without hooks, packet-out gets an explicit OFPT_ERROR, never a silent success.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <asio.hpp>

#include "common/ordered_mutex.h"
#include "ofproto/codec/messages.h"
#include "ofproto/connmgr/connmgr.h"
#include "ofproto/group/group_table.h"
#include "ofproto/meter/meter_table.h"
#include "ofproto/table/flow_table.h"

namespace sluice::ofp {

struct OfPort {
  PortDesc desc;
  PortStats stats;  // refreshed by the owner before stats replies
};

// What an Ofproto asks of its owner (ofproto-dpif). All calls but Lock() are made with the lock
// held.
class OfprotoHooks {
 public:
  virtual ~OfprotoHooks() = default;
  // Serialises this bridge's state against the datapath's upcall handler thread.
  virtual std::unique_lock<OrderedMutex> Lock() = 0;
  // Tables, groups, meters or port configuration changed: megaflows need revalidating.
  virtual void Changed() = 0;
  // A barrier: make every earlier change visible in the datapath before returning.
  virtual void Sync() = 0;
  virtual std::optional<OfpError> PacketOut(const PacketOut& po) = 0;
  // Before flow, aggregate, table, group or meter statistics are read: pull the datapath's
  // counters.
  virtual void RefreshStats() = 0;
  // Meter `meter` was added or modified in the meter table: enforce its configuration in the
  // datapath. An error refuses the METER_MOD (an added meter is then taken out again).
  virtual std::optional<OfpError> MeterSet(const Meter& meter) = 0;
  // Meter `meter_id` was deleted from the meter table.
  virtual void MeterDel(uint32_t meter_id) = 0;
};

class Ofproto : public OfHandler {
 public:
  Ofproto(asio::io_context& io, std::string name, uint64_t datapath_id);
  ~Ofproto() override;

  const std::string& name() const { return name_; }
  uint64_t datapath_id() const { return datapath_id_; }
  ConnectionManager& connmgr() { return connmgr_; }

  // The bridge's own port (OFPP_LOCAL) is always present.
  void SetPorts(std::vector<OfPort> ports);
  const std::vector<OfPort>& ports() const { return ports_; }
  const SwitchConfig& config() const { return config_; }
  const Pipeline& pipeline() const { return pipeline_; }
  // For the translator, whose lookups count in the table statistics (ofproto-dpif lock held).
  Pipeline& mutable_pipeline() { return pipeline_; }
  const GroupTable& groups() const { return groups_; }
  GroupTable& mutable_groups() { return groups_; }  // tests and ofproto-dpif (lock held)
  const MeterTable& meters() const { return meters_; }
  void SetHooks(OfprotoHooks* hooks) { hooks_ = hooks; }
  // Sends a packet-in to the controllers whose role and async configuration ask for it.
  void SendPacketIn(const PacketIn& pi);
  // Port configuration (OFPPC_*) as set by port-mod.
  uint32_t PortConfig(uint32_t port_no) const;
  // Called before answering port stats, so the owner can refresh counters.
  void OnPortStatsRequest(std::function<void(std::vector<OfPort>&)> fn) {
    refresh_stats_ = std::move(fn);
  }

  // Fail mode (Bridge fail_mode). A standalone bridge whose controllers have all been out of
  // touch for three inactivity probe intervals (at once if the interval is 0) "fails open": it
  // forwards as a learning switch, every packet going to NORMAL as if a hidden catch-all flow
  // above every OpenFlow priority matched in table 0, until a controller connects. Its flows are
  // kept (and not shown the hidden behaviour). A secure bridge never fails open.
  void SetFailMode(bool secure);
  bool fail_open() const { return fail_open_; }
  // Re-evaluates fail-open now (the expiry timer does it every 250 ms); lock held.
  void RunFailOpen();

  // OfHandler
  void OnMessage(OfConnection& conn, Message msg, ByteSpan raw) override;
  void OnConnected(OfConnection& conn) override;

 private:
  void HandleFlowMod(OfConnection& conn, const Message& msg, const FlowMod& fm, ByteSpan raw);
  void HandleGroupMod(OfConnection& conn, const GroupMod& gm, ByteSpan raw);
  void HandleMeterMod(OfConnection& conn, const MeterMod& mm, ByteSpan raw);
  std::optional<OfpError> ValidateInstructions(const InstructionList& insts) const;
  std::optional<OfpError> ValidateActions(const ActionList& actions) const;
  void Removed(const std::vector<RemovedRule>& removed);
  void ArmExpiry();
  void HandleMultipart(OfConnection& conn, const Message& msg, const MultipartRequest& req,
                       ByteSpan raw);
  void HandlePacketOut(OfConnection& conn, const PacketOut& po, ByteSpan raw);
  void HandlePortMod(OfConnection& conn, const PortMod& pm, ByteSpan raw);
  void SendPortStatus(PortReason reason, const PortDesc& desc);
  void NotifyChanged() {
    if (hooks_) hooks_->Changed();
  }
  void HandleRole(OfConnection& conn, const Message& msg, const RoleRequest& req, ByteSpan raw);
  void Reply(OfConnection& conn, uint32_t xid, MessageBody body);
  void ReplyMultipart(OfConnection& conn, uint32_t xid, MultipartReply reply);

  asio::io_context& io_;
  std::string name_;
  uint64_t datapath_id_;
  ConnectionManager connmgr_;
  std::vector<OfPort> ports_;
  SwitchConfig config_;
  std::optional<uint64_t> generation_id_;  // last master/slave generation seen
  std::chrono::steady_clock::time_point created_;
  std::function<void(std::vector<OfPort>&)> refresh_stats_;
  Pipeline pipeline_;
  GroupTable groups_;
  MeterTable meters_;
  asio::steady_timer expiry_timer_;
  // False once destroyed: cancel() cannot stop a timer callback that is already queued to run
  // (the timer fired just before a del-br), so the callback checks this before touching *this.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  OfprotoHooks* hooks_ = nullptr;
  bool secure_ = false;
  bool fail_open_ = false;
  bool of10_omission_logged_ = false;
};

}  // namespace sluice::ofp
