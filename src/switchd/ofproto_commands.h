#pragma once

#include <string>

#include "common/unixctl.h"
#include "datapath/dpif.h"
#include "ofproto/dpif/ofproto_dpif.h"

namespace sluice {

// unixctl commands over ofproto-dpif: ofproto/trace, ofproto/list, fdb/show|flush|stats-show|
// add, coverage/show, revalidator/sync, and a test harness for bridges without the database:
// ofproto/add-br BRIDGE [DPID] [standalone|secure] (default secure: no default flow) attaches
// every datapath port not yet on a bridge as the OpenFlow port of the same number;
// ofproto/add-port BRIDGE DP_PORT_NAME [OFPORT] [tag=N|trunks=A,B|vlan_mode=M|peer=NAME...];
// ofproto/del-port, ofproto/del-br, ofproto/set-controller, ofproto/show-controllers.
void RegisterOfprotoCommands(UnixctlServer& server, ofp::OfprotoDpif& sw, dp::Dpif& dp);

}  // namespace sluice
