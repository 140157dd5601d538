// Pidfiles as Open vSwitch keeps them (locked while the daemon runs), systemd's notification
// protocol, and log specs (vlog/set, --log-level) with destination levels.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "common/pidfile.h"
#include "common/sd_notify.h"
#include "sluice/log.h"

namespace sluice {
namespace {

std::string TempPath(const std::string& name) {
  return "/tmp/sluice-daemon-test-" + std::to_string(getpid()) + "-" + name;
}

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  return text;
}

TEST(Pidfile, CreateLocksAndRemoves) {
  std::string path = TempPath("a.pid");
  {
    auto pf = Pidfile::Create(path);
    ASSERT_TRUE(pf.has_value()) << pf.error().message;
    // Another process sees it locked by us, as ovs-appctl's read_pidfile does. (Not this one:
    // closing any descriptor of the file would drop our lock.)
    pid_t child = fork();
    if (child == 0) {
      auto pid = ReadPidfile(path);
      bool ok = pid && *pid == getppid() && FirstLine(path) == std::to_string(getppid());
      std::_Exit(ok ? 0 : 1);
    }
    int status = 0;
    waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    // And cannot take it.
    child = fork();
    if (child == 0) {
      auto again = Pidfile::Create(path);
      bool refused = !again && again.error().code == Errc::kBusy &&
                     again.error().message.find("already running as pid " +
                                                std::to_string(getppid())) != std::string::npos;
      std::_Exit(refused ? 0 : 1);
    }
    waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_NE(access(path.c_str(), F_OK), 0) << "pidfile left behind";
}

TEST(Pidfile, StaleFilesAreNotRunningAndAreTakenOver) {
  std::string path = TempPath("stale.pid");
  std::ofstream(path) << "999999\n";  // nobody holds a lock on it
  auto pid = ReadPidfile(path);
  ASSERT_TRUE(pid.has_value());
  EXPECT_EQ(*pid, 0);
  auto pf = Pidfile::Create(path);
  ASSERT_TRUE(pf.has_value()) << pf.error().message;
  EXPECT_EQ(FirstLine(path), std::to_string(getpid()));
  pf->reset();
  auto missing = ReadPidfile(TempPath("missing.pid"));
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(*missing, 0);
}

TEST(Pidfile, UnwritableDirectoryIsAnError) {
  auto pf = Pidfile::Create("/proc/sluice-no-such-dir/x.pid");
  ASSERT_FALSE(pf.has_value());
  EXPECT_EQ(pf.error().code, Errc::kIo);
}

// A NOTIFY_SOCKET listener: what systemd receives.
class NotifyListener {
 public:
  explicit NotifyListener(const std::string& name) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    socklen_t len = offsetof(sockaddr_un, sun_path) + name.size();
    if (name[0] == '@') {
      addr.sun_path[0] = '\0';
    } else {
      len += 1;
      unlink(name.c_str());
    }
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0;
    timeval tv{2, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifyListener() { close(fd_); }
  bool bound() const { return bound_; }
  std::string Receive() {
    char buf[512];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }

 private:
  int fd_;
  bool bound_ = false;
};

TEST(SdNotify, PathAndAbstractSockets) {
  std::string path = TempPath("notify.sock");
  NotifyListener by_path(path);
  ASSERT_TRUE(by_path.bound());
  ASSERT_TRUE(SdNotifyTo(path, "READY=1\nSTATUS=ok").has_value());
  EXPECT_EQ(by_path.Receive(), "READY=1\nSTATUS=ok");
  unlink(path.c_str());

  std::string abstract = "@sluice-notify-test-" + std::to_string(getpid());
  NotifyListener by_name(abstract);
  ASSERT_TRUE(by_name.bound());
  setenv("NOTIFY_SOCKET", abstract.c_str(), 1);
  auto sent = SdNotify("STOPPING=1");
  unsetenv("NOTIFY_SOCKET");
  ASSERT_TRUE(sent.has_value()) << sent.error().message;
  EXPECT_TRUE(*sent);
  EXPECT_EQ(by_name.Receive(), "STOPPING=1");
}

TEST(SdNotify, UnsetIsANoOpAndBadNamesAreErrors) {
  unsetenv("NOTIFY_SOCKET");
  auto r = SdNotify("READY=1");
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(*r);
  EXPECT_FALSE(SdNotifyTo("relative/path", "READY=1").has_value());
  EXPECT_FALSE(SdNotifyTo(TempPath("nobody-listens.sock"), "READY=1").has_value());
}

TEST(LogSpec, ModulesDestinationsAndErrors) {
  auto l = log::Get("spec_test_module");
  ASSERT_TRUE(log::ApplySpec("spec_test_module:dbg").has_value());
  EXPECT_EQ(l->level(), spdlog::level::debug);
  ASSERT_TRUE(log::ApplySpec("spec_test_module:console:warn").has_value());
  EXPECT_EQ(l->level(), spdlog::level::warn);
  ASSERT_TRUE(log::ApplySpec("console:err").has_value());
  EXPECT_EQ(log::DestinationLevel("console"), spdlog::level::err);
  ASSERT_TRUE(log::ApplySpec("ANY:console:info").has_value());
  EXPECT_EQ(log::DestinationLevel("console"), spdlog::level::info);
  EXPECT_EQ(l->level(), spdlog::level::warn);  // a destination level leaves modules alone

  EXPECT_FALSE(log::ApplySpec("no_such_module:dbg").has_value());
  EXPECT_FALSE(log::ApplySpec("spec_test_module:loud").has_value());
  EXPECT_FALSE(log::ApplySpec("console").has_value());
  EXPECT_FALSE(log::ApplySpec("a:b:c:d").has_value());
  auto syslog = log::ApplySpec("syslog:info");
  ASSERT_FALSE(syslog.has_value());
  EXPECT_EQ(syslog.error().code, Errc::kUnsupported);
  if (!log::HasLogFile()) {
    EXPECT_FALSE(log::ApplySpec("file:info").has_value());
  }
  log::SetLevel("spec_test_module", "info");
}

TEST(LogFile, ReopenAfterRotation) {
  std::string path = TempPath("reopen.log");
  ASSERT_TRUE(log::Init(path, spdlog::level::info).has_value());
  auto l = log::Get("reopen_test");
  ASSERT_TRUE(log::SetDestinationLevel("console", spdlog::level::off).has_value());
  l->info("before rotation");
  l->flush();
  ASSERT_EQ(rename(path.c_str(), (path + ".1").c_str()), 0);
  ASSERT_TRUE(log::Reopen().has_value());
  l->info("after rotation");
  l->flush();
  auto read = [](const std::string& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_NE(read(path + ".1").find("before rotation"), std::string::npos);
  EXPECT_EQ(read(path + ".1").find("after rotation"), std::string::npos);
  EXPECT_NE(read(path).find("|reopen_test|info|after rotation"), std::string::npos);
  ASSERT_TRUE(log::Init("", spdlog::level::info).has_value());
  unlink(path.c_str());
  unlink((path + ".1").c_str());
  EXPECT_FALSE(log::Init("/proc/sluice-no-such-dir/x.log", spdlog::level::info).has_value());
  ASSERT_TRUE(log::Init("", spdlog::level::info).has_value());
}

}  // namespace
}  // namespace sluice
