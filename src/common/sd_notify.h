// systemd's readiness protocol (sd_notify(3)) without libsystemd: a service started with
// Type=notify sends "READY=1" (and "STATUS=...", "STOPPING=1") as one datagram to the AF_UNIX
// socket named by $NOTIFY_SOCKET: a file system path, or "@name" for the abstract namespace.
#pragma once

#include <string>
#include <string_view>

#include "sluice/result.h"

namespace sluice {

// Sends `state` (newline-separated KEY=VALUE assignments) to `socket_name` (as in
// $NOTIFY_SOCKET). Errors: an unusable name, or the send failed.
Result<void> SdNotifyTo(const std::string& socket_name, std::string_view state);

// Sends `state` to $NOTIFY_SOCKET. Returns false, doing nothing, when the variable is unset
// (the process was not started by systemd as a notify service); true once sent.
Result<bool> SdNotify(std::string_view state);

}  // namespace sluice
