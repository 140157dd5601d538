#include "common/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace sluice {

Result<void> SdNotifyTo(const std::string& socket_name, std::string_view state) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_name.empty() || (socket_name[0] != '/' && socket_name[0] != '@')) {
    return MakeError(Errc::kInvalid, "NOTIFY_SOCKET '" + socket_name +
                                         "' is neither an absolute path nor an abstract name");
  }
  if (socket_name.size() >= sizeof addr.sun_path) {
    return MakeError(Errc::kInvalid, "NOTIFY_SOCKET '" + socket_name + "' is too long");
  }
  std::memcpy(addr.sun_path, socket_name.data(), socket_name.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_name.size());
  if (socket_name[0] == '@') {
    addr.sun_path[0] = '\0';  // abstract namespace: no terminating NUL counted
  } else {
    len += 1;
  }
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return MakeError(Errc::kIo, std::string("socket: ") + std::strerror(errno), errno);
  ssize_t n;
  do {
    n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr),
                 len);
  } while (n < 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (n < 0) {
    return MakeError(Errc::kIo, "NOTIFY_SOCKET " + socket_name + ": " + std::strerror(err), err);
  }
  if (static_cast<size_t>(n) != state.size()) {
    return MakeError(Errc::kIo, "NOTIFY_SOCKET " + socket_name + ": short send");
  }
  return {};
}

Result<bool> SdNotify(std::string_view state) {
  const char* name = std::getenv("NOTIFY_SOCKET");
  if (!name || !*name) return false;
  if (auto r = SdNotifyTo(name, state); !r) return std::unexpected(r.error());
  return true;
}

}  // namespace sluice
