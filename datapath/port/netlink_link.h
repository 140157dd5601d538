// Kernel link configuration through libnl-route (control thread only): used for internal ports
// (taps the daemon owns) and to read kernel interfaces' state.
#pragma once

#include <optional>
#include <string>

#include "sluice/result.h"

namespace sluice::dp::netlink {

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

}  // namespace sluice::dp::netlink
