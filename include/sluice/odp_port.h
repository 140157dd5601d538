// Datapath port numbers (Open vSwitch's odp_port_t): what a datapath calls its ports, as
// opposed to OpenFlow port numbers, which each bridge hands out. Shared by the datapath and
// the layers above it (the minimal form of the shared vocabulary; a strong type may follow).
#pragma once

#include <cstdint>

namespace sluice {

using OdpPort = uint32_t;
// No datapath port: a patch port, or a port not (yet) in the datapath.
inline constexpr OdpPort kOdpPortNone = UINT32_MAX;

}  // namespace sluice
