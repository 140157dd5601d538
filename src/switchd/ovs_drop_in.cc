#include "switchd/ovs_drop_in.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

namespace sluice::switchd {
namespace {

namespace fs = std::filesystem;

const char* const kDaemons[] = {"ovs-vswitchd", "ovsdb-server"};

std::string ProcessName(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name.empty() ? "unknown process" : name;
}

// Whether a process accepts connections on the unix socket `path`.
bool SocketAnswers(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int err = errno;
  ::close(fd);
  // EAGAIN: a listener whose backlog is full, still a live one.
  return rc == 0 || err == EAGAIN || err == EINPROGRESS;
}

// Sockets Open vSwitch's daemons create in their run directory (the database's only when
// `db`).
bool IsOvsSocketName(const std::string& name, bool db) {
  auto ends = [&](std::string_view s) { return name.ends_with(s); };
  if (ends(".mgmt") || ends(".snoop") || (name.starts_with("ovs-vswitchd.") && ends(".ctl"))) {
    return true;
  }
  return db && (name == "db.sock" || (name.starts_with("ovsdb-server.") && ends(".ctl")));
}

}  // namespace

std::string DefaultOvsRundir() {
  const char* env = std::getenv("OVS_RUNDIR");
  return env && *env ? env : "/var/run/openvswitch";
}

Result<void> CheckOvsPathsFree(const std::string& dir, bool embedded_db) {
  const std::string hint =
      "; stop Open vSwitch (systemctl stop openvswitch-switch) or run Sluice without "
      "--ovs-drop-in";
  for (const char* daemon : kDaemons) {
    if (std::string_view(daemon) == "ovsdb-server" && !embedded_db) continue;
    std::string pidfile = dir + "/" + daemon + ".pid";
    auto pid = ReadPidfile(pidfile);
    if (!pid) {
      return MakeError(Errc::kBusy, "cannot check " + pidfile + ": " + pid.error().message);
    }
    if (*pid > 0) {
      return MakeError(Errc::kBusy, std::string(daemon) + " is running in " + dir + " (pid " +
                                        std::to_string(*pid) + ", " + ProcessName(*pid) +
                                        ", holds " + pidfile + ")" + hint);
    }
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::error_code sec;
    if (!entry.is_socket(sec)) continue;
    std::string name = entry.path().filename().string();
    if (!IsOvsSocketName(name, embedded_db)) continue;
    if (SocketAnswers(entry.path().string())) {
      return MakeError(Errc::kBusy, entry.path().string() +
                                        " is served by a running process (Open vSwitch?)" + hint);
    }
  }
  return {};
}

Result<std::unique_ptr<OvsDropIn>> OvsDropIn::Claim(const std::string& dir, bool embedded_db) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return MakeError(Errc::kIo, "cannot create " + dir + ": " + ec.message());
  if (auto r = CheckOvsPathsFree(dir, embedded_db); !r) return std::unexpected(r.error());
  std::unique_ptr<OvsDropIn> d(new OvsDropIn(dir));
  for (const char* daemon : kDaemons) {
    if (std::string_view(daemon) == "ovsdb-server" && !embedded_db) continue;
    auto pf = Pidfile::Create(dir + "/" + daemon + ".pid");
    if (!pf) return std::unexpected(pf.error());
    d->pidfiles_.push_back(std::move(*pf));
    d->daemons_.push_back(daemon);
  }
  return d;
}

std::vector<std::string> OvsDropIn::UnixctlPaths() const {
  std::vector<std::string> out;
  for (const auto& daemon : daemons_) {
    out.push_back(dir_ + "/" + daemon + "." + std::to_string(::getpid()) + ".ctl");
  }
  return out;
}

}  // namespace sluice::switchd
