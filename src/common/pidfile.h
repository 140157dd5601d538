// Pidfiles as Open vSwitch keeps them, so that its tools (ovs-appctl without -t) find the
// daemon: the file holds the pid and a newline, and the daemon holds an fcntl write lock on the
// whole file for as long as it runs. A file nobody has locked, or one locked by a process other
// than the one it names, is stale.
//
// fcntl locks belong to the process and are dropped when it closes *any* descriptor of the
// file, so a daemon never reads its own pidfile with ReadPidfile.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "sluice/result.h"

namespace sluice {

class Pidfile {
 public:
  // Creates (or takes over a stale) `path` holding this process's pid, locked. Errors: kBusy
  // with "already running as pid N" when a live process holds it; kIo otherwise.
  static Result<std::unique_ptr<Pidfile>> Create(const std::string& path);
  ~Pidfile();  // removes the file if it is still ours, then releases the lock
  Pidfile(const Pidfile&) = delete;
  Pidfile& operator=(const Pidfile&) = delete;

  const std::string& path() const { return path_; }

 private:
  Pidfile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;
};

// The pid of the live process that holds `path` (as written above); 0 when the file is missing
// or stale. Errors: the file exists but cannot be opened or read.
Result<pid_t> ReadPidfile(const std::string& path);

}  // namespace sluice
