// Daemons serve thousands of connections: the soft limit on open files is raised to the hard
// limit at start-up (running out of descriptors makes listeners pause; see stream/listener.h).
#pragma once

#include <sys/resource.h>

namespace sluice {

// Returns the new soft limit (unchanged if it could not be raised).
inline rlim_t RaiseFdLimit() {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (rl.rlim_cur < rl.rlim_max) {
    rlim_t want = rl.rlim_max;
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0) return want;
  }
  return rl.rlim_cur;
}

}  // namespace sluice
