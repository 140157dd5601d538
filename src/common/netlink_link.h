// Kernel link configuration through libnl-route (control thread only): a kernel-interface
// utility below both the datapath (which configures the taps of its internal ports) and the
// bridge layer (the LOCAL port's MAC and MTU, kernel interfaces' link state).
#pragma once

#include <optional>
#include <string>

#include "sluice/result.h"

namespace sluice::netlink {

struct LinkInfo {
  int ifindex = 0;
  unsigned mtu = 0;
  bool admin_up = false;
  bool carrier = false;
  std::string mac;  // "aa:bb:cc:dd:ee:ff"
};

Result<LinkInfo> GetLink(const std::string& ifname);
// Changes only the attributes given.
Result<void> SetLink(const std::string& ifname, std::optional<std::string> mac,
                     std::optional<unsigned> mtu, std::optional<bool> up);

}  // namespace sluice::netlink
