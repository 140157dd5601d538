// Drop-in mode (sluice-switchd --ovs-drop-in): Sluice also answers on Open vSwitch's default
// paths, so that ovs-vsctl, ovs-ofctl, ovs-appctl, libvirt and ovn-controller work against it
// without options. In the Open vSwitch run directory DIR (--ovs-rundir, default $OVS_RUNDIR or
// /var/run/openvswitch):
//
//   DIR/db.sock                      the embedded configuration database (an extra remote)
//   DIR/<bridge>.mgmt, <bridge>.snoop  every bridge's management and snoop listeners
//   DIR/ovs-vswitchd.pid             locked, as ovs-appctl's default target expects
//   DIR/ovs-vswitchd.<pid>.ctl       the unixctl server
//   DIR/ovsdb-server.pid, ovsdb-server.<pid>.ctl   the same, for `ovs-appctl -t ovsdb-server`
//                                    (only with the embedded database)
//
// Refused, before anything is created, when a live process owns one of those paths: Open
// vSwitch's daemons (their pidfiles are locked) or anything answering on their sockets.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/pidfile.h"
#include "sluice/result.h"

namespace sluice::switchd {

// The default Open vSwitch run directory: $OVS_RUNDIR, else /var/run/openvswitch.
std::string DefaultOvsRundir();

// Succeeds when no live process owns Open vSwitch's paths in `dir` (missing or stale ones are
// fine: they are replaced). Without `embedded_db` (switchd follows another server with --db,
// which may well be Open vSwitch's ovsdb-server on DIR/db.sock) only ovs-vswitchd's paths are
// checked. The error names the process or socket and what to do.
Result<void> CheckOvsPathsFree(const std::string& dir, bool embedded_db);

class OvsDropIn {
 public:
  // Checks the paths again, creates `dir` if needed and takes the pidfiles (ovsdb-server's too
  // when `embedded_db`). The unixctl sockets are the caller's (UnixctlPaths()).
  static Result<std::unique_ptr<OvsDropIn>> Claim(const std::string& dir, bool embedded_db);

  const std::string& dir() const { return dir_; }
  std::string DbRemote() const { return "punix:" + dir_ + "/db.sock"; }
  std::vector<std::string> UnixctlPaths() const;

 private:
  explicit OvsDropIn(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
  std::vector<std::string> daemons_;  // ovs-vswitchd [, ovsdb-server]
  std::vector<std::unique_ptr<Pidfile>> pidfiles_;
};

}  // namespace sluice::switchd
