// One OpenFlow switch (a bridge): its identity, ports as OpenFlow sees them, switch
// configuration, flow tables, groups and meters, and the answers to controller and management
// messages. Packet-out, port-mod and table-mod need the datapath translation layer and get an
// explicit OFPT_ERROR until it exists, never a silent success.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio.hpp>

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
  const GroupTable& groups() const { return groups_; }
  const MeterTable& meters() const { return meters_; }
  // Called before answering port stats, so the owner can refresh counters.
  void OnPortStatsRequest(std::function<void(std::vector<OfPort>&)> fn) {
    refresh_stats_ = std::move(fn);
  }

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
};

}  // namespace sluice::ofp
