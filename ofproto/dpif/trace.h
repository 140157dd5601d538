// ofproto/trace: what a packet or flow would do in a bridge, table by table, with the megaflow
// and the datapath actions the translation gives. `flow` is
//   - a datapath flow in Open vSwitch's syntax: in_port(N),eth(...),...
//   - "in_port=PORT,HEXBYTES" (PORT a name or OpenFlow number): a packet
//   - a flow in ovs-ofctl's match syntax with an in_port ("in_port=p1,tcp,nw_dst=10.0.0.1,
//     tp_dst=80"): a packet with those field values, every other field zero.
// Datapath actions ending in recirc(N) are followed as Open vSwitch does: a packet runs
// through the actions in the datapath's trace mode (nothing leaves) and is parsed again, a flow
// gets the actions' effect on its key; the trace goes on with recirc_id=N from the frozen
// state, up to the datapath's recirculation depth.
#pragma once

#include <string>

#include "datapath/actions/action_list.h"
#include "datapath/flow/flow_key.h"
#include "sluice/result.h"

namespace sluice::ofp {

class Backer;

// Needs the ofproto-dpif lock.
Result<std::string> TraceLocked(Backer& b, const std::string& bridge, const std::string& flow);

// The key the datapath would parse after running `actions` on a packet with key `k`, for a
// trace given as a flow: there are no bytes beyond the key, so what the actions expose (the
// headers under a popped MPLS entry) keeps the values the flow gave, zero by default.
void ApplyActionsToKey(dp::ActionView actions, dp::FlowKey* k);

}  // namespace sluice::ofp
