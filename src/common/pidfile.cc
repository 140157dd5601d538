#include "common/pidfile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace sluice {
namespace {

std::string Errno(const std::string& what, int err) { return what + ": " + std::strerror(err); }

flock WholeFileWriteLock() {
  flock l{};
  l.l_type = F_WRLCK;
  l.l_whence = SEEK_SET;
  l.l_start = 0;
  l.l_len = 0;
  return l;
}

// The pid written in the file, or -1 if it holds none.
pid_t ParsePid(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return -1;
  char* end = nullptr;
  long v = std::strtol(buf, &end, 10);
  if (end == buf || v <= 0 || (*end != '\n' && *end != '\0')) return -1;
  return static_cast<pid_t>(v);
}

}  // namespace

Result<pid_t> ReadPidfile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return 0;
    return MakeError(Errc::kIo, Errno(path, errno), errno);
  }
  flock l = WholeFileWriteLock();
  int rc = ::fcntl(fd, F_GETLK, &l);
  int err = errno;
  pid_t written = ParsePid(fd);
  ::close(fd);
  if (rc < 0) return MakeError(Errc::kIo, Errno(path + ": fcntl", err), err);
  if (l.l_type == F_UNLCK) return 0;  // nobody holds it: stale
  if (l.l_pid != written) return 0;   // being replaced by another process
  return l.l_pid;
}

Result<std::unique_ptr<Pidfile>> Pidfile::Create(const std::string& path) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return MakeError(Errc::kIo, Errno(path, errno), errno);
    flock l = WholeFileWriteLock();
    if (::fcntl(fd, F_SETLK, &l) < 0) {
      int err = errno;
      flock who = WholeFileWriteLock();
      bool held = (err == EAGAIN || err == EACCES) && ::fcntl(fd, F_GETLK, &who) == 0 &&
                  who.l_type != F_UNLCK;
      ::close(fd);
      if (held) {
        return MakeError(Errc::kBusy,
                         path + ": already running as pid " + std::to_string(who.l_pid), err);
      }
      return MakeError(Errc::kIo, Errno(path + ": fcntl", err), err);
    }
    // We hold a lock on the inode we opened; make sure it is still the one named `path` (another
    // process may have removed its pidfile between our open and our lock).
    struct stat by_fd, by_name;
    if (::fstat(fd, &by_fd) < 0 || ::stat(path.c_str(), &by_name) < 0 ||
        by_fd.st_ino != by_name.st_ino || by_fd.st_dev != by_name.st_dev) {
      ::close(fd);
      continue;
    }
    std::string text = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) < 0 ||
        ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
      int err = errno;
      ::close(fd);
      return MakeError(Errc::kIo, Errno(path + ": write", err), err);
    }
    return std::unique_ptr<Pidfile>(new Pidfile(path, fd));
  }
  return MakeError(Errc::kBusy, path + ": replaced by other processes while being locked");
}

Pidfile::~Pidfile() {
  struct stat by_fd, by_name;
  if (::fstat(fd_, &by_fd) == 0 && ::stat(path_.c_str(), &by_name) == 0 &&
      by_fd.st_ino == by_name.st_ino && by_fd.st_dev == by_name.st_dev) {
    ::unlink(path_.c_str());
  }
  ::close(fd_);
}

}  // namespace sluice
