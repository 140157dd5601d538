#pragma once

#include "common/unixctl.h"
#include "datapath/dpif_netdev/dpif_netdev.h"

namespace sluice {

// Registers dpctl/* (through the Dpif contract), dpif-netdev/pmd-* and netdev-dummy/* (DpifNetdev
// only) and time/* on `server`.
void RegisterDpctlCommands(UnixctlServer& server, dp::DpifNetdev& dp);

}  // namespace sluice
