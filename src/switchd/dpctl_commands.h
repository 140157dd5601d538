#pragma once

#include "common/unixctl.h"
#include "datapath/dpif_netdev/datapath.h"

namespace sluice {

// Registers dpctl/*, dpif-netdev/pmd-stats-*, netdev-dummy/* and time/* on `server`.
void RegisterDpctlCommands(UnixctlServer& server, dp::Datapath& dp);

}  // namespace sluice
