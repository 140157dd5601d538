// One OpenFlow switch (a bridge): its identity, ports as OpenFlow sees them, switch
// configuration, and the answers to the controller/management messages that do not depend on
// the flow pipeline (features, config, barrier, roles, async config, desc, port desc, port
// stats). Messages whose subsystem is not built yet get an explicit OFPT_ERROR, never a silent
// success.
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
  // Called before answering port stats, so the owner can refresh counters.
  void OnPortStatsRequest(std::function<void(std::vector<OfPort>&)> fn) {
    refresh_stats_ = std::move(fn);
  }

  // OfHandler
  void OnMessage(OfConnection& conn, Message msg, ByteSpan raw) override;
  void OnConnected(OfConnection& conn) override;

 private:
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
};

}  // namespace sluice::ofp
