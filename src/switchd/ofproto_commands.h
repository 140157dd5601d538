#pragma once

#include <map>
#include <memory>
#include <string>

#include <asio.hpp>

#include "common/unixctl.h"
#include "datapath/dpif_netdev/datapath.h"
#include "ofproto/ofproto.h"

namespace sluice {

// OpenFlow bridges created through unixctl, until the bridge layer creates them from the
// database: ofproto/add-br, ofproto/del-br, ofproto/list, ofproto/set-controller.
// A bridge made this way presents every datapath port as the OpenFlow port of the same number.
class OfprotoRegistry {
 public:
  OfprotoRegistry(asio::io_context& io, dp::Datapath& dp, std::string rundir)
      : io_(io), dp_(dp), rundir_(std::move(rundir)) {}
  void Register(UnixctlServer& server);

 private:
  std::vector<ofp::OfPort> DatapathPorts() const;

  asio::io_context& io_;
  dp::Datapath& dp_;
  std::string rundir_;
  std::map<std::string, std::unique_ptr<ofp::Ofproto>> bridges_;
};

}  // namespace sluice
