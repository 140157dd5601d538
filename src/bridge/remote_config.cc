#include "bridge/remote_config.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "common/stream/address.h"

namespace sluice::bridge {
namespace {

// An optional integer column, or `dflt` when it is empty.
int64_t OptInt(const db::IdlRow& row, const std::string& column, int64_t dflt) {
  const db::Datum* d = row.Get(column);
  if (!d || d->keys.empty()) return dflt;
  return row.GetInt(column, dflt);
}

// `path` normalised (no "..", no "."), for comparing against the run directory.
std::string Normal(const std::string& path) {
  return std::filesystem::path(path).lexically_normal().string();
}

bool Inside(const std::string& path, const std::string& dir) {
  std::string p = Normal(path), d = Normal(dir);
  if (!d.ends_with('/')) d += '/';
  return p.starts_with(d) && p.find('/', d.size()) == std::string::npos;
}

}  // namespace

int ControllerQueueDefault(const std::map<std::string, std::string>& oc) {
  auto it = oc.find("controller-queue-size");
  if (it == oc.end()) return 100;
  int v = std::atoi(it->second.c_str());
  return v >= 1 && v <= 512 ? v : 100;
}

ofp::ControllerOptions ControllerOptionsFromRow(const db::IdlRow& row, int queue_default) {
  ofp::ControllerOptions o;
  o.target = row.GetString("target");
  std::string type = row.GetString("type");
  o.type = type == "primary"   ? ofp::ControllerOptions::Type::kPrimary
           : type == "service" ? ofp::ControllerOptions::Type::kService
                               : ofp::ControllerOptions::Type::kDefault;
  o.max_backoff_ms = static_cast<int>(std::max<int64_t>(OptInt(row, "max_backoff", 8000), 1000));
  int64_t probe = OptInt(row, "inactivity_probe", 5000);
  o.probe_interval_ms = probe <= 0 ? 0 : static_cast<int>(std::max<int64_t>(probe, 1000));
  int64_t rate = OptInt(row, "controller_rate_limit", 0);
  if (rate > 0) {
    o.rate_limit = static_cast<int>(std::max<int64_t>(rate, 100));
    int64_t burst = OptInt(row, "controller_burst_limit", 0);
    o.burst_limit = burst > 0 ? static_cast<int>(std::max<int64_t>(burst, 25)) : 0;
  }
  int64_t queue = OptInt(row, "controller_queue_size", queue_default);
  o.queue_size = static_cast<int>(std::clamp<int64_t>(queue, 1, 512));
  o.enable_async_messages = row.GetBool("enable_async_messages", true);
  auto oc = row.GetStringMap("other_config");
  if (auto it = oc.find("dscp"); it != oc.end()) {
    char* end = nullptr;
    long dscp = std::strtol(it->second.c_str(), &end, 10);
    if (end && *end == '\0' && dscp >= 0 && dscp <= 63) o.dscp = static_cast<int>(dscp);
  }
  return o;
}

db::RemoteOptions ManagerOptionsFromRow(const db::IdlRow& row) {
  db::RemoteOptions o;
  o.max_backoff_ms = static_cast<int>(std::max<int64_t>(OptInt(row, "max_backoff", 8000), 1000));
  int64_t probe = OptInt(row, "inactivity_probe", -1);
  o.inactivity_probe_ms = probe < 0    ? -1
                          : probe == 0 ? 0
                                       : static_cast<int>(std::max<int64_t>(probe, 1000));
  return o;
}

TlsOptions TlsOptionsFromDb(const db::IdlRow* ssl, const std::map<std::string, std::string>& oc,
                            const TlsOptions& defaults) {
  TlsOptions o = defaults;
  if (ssl) {
    o.private_key = ssl->GetString("private_key");
    o.certificate = ssl->GetString("certificate");
    o.ca_cert = ssl->GetString("ca_cert");
    o.bootstrap_ca_cert = ssl->GetBool("bootstrap_ca_cert", false);
  }
  if (auto it = oc.find("ssl-protocols"); it != oc.end()) o.protocols = it->second;
  if (auto it = oc.find("ssl-ciphers"); it != oc.end()) o.ciphers = it->second;
  if (auto it = oc.find("ssl-ciphersuites"); it != oc.end()) o.ciphersuites = it->second;
  return o;
}

Result<void> CheckControllerTarget(const std::string& target, const std::string& rundir,
                                   const std::string& bridge) {
  if (target.starts_with("punix:")) {
    std::string path = target.substr(6);
    std::string allowed = Normal(rundir) + "/" + bridge + ".";
    if (!Normal(path).starts_with(allowed) || !Inside(path, rundir)) {
      return MakeError(Errc::kInvalid,
                       "not adding Unix domain socket controller \"" + target +
                           "\": it could overwrite files; use a path starting with \"" + allowed +
                           "\" or connect to unix:" + rundir + "/" + bridge + ".mgmt");
    }
  } else if (target.starts_with("unix:")) {
    std::string path = target.substr(5);
    if (path.find('/') != std::string::npos && !Inside(path, rundir)) {
      return MakeError(Errc::kInvalid, "not connecting to socket controller \"" + target +
                                           "\": the socket must be in " + rundir);
    }
  }
  return {};
}

Result<void> CheckManagerTarget(const std::string& target, const std::string& rundir) {
  for (const char* method : {"punix:", "unix:"}) {
    if (!target.starts_with(method)) continue;
    std::string path = target.substr(std::string(method).size());
    if (!Inside(path, rundir)) {
      return MakeError(Errc::kInvalid, "manager \"" + target +
                                           "\" refused: Unix domain sockets of managers must be "
                                           "in " +
                                           rundir);
    }
  }
  return {};
}

std::string RoleName(ofp::ControllerRole role) {
  switch (role) {
    case ofp::ControllerRole::kMaster:
      return "master";
    case ofp::ControllerRole::kSlave:
      return "slave";
    default:
      return "other";
  }
}

std::map<std::string, std::string> ManagerStatus(const db::RemoteStatus& rs) {
  std::map<std::string, std::string> s;
  if (!rs.state.empty()) s["state"] = rs.state;
  if (rs.sec_since_connect >= 0) s["sec_since_connect"] = std::to_string(rs.sec_since_connect);
  if (rs.sec_since_disconnect >= 0) {
    s["sec_since_disconnect"] = std::to_string(rs.sec_since_disconnect);
  }
  if (!rs.last_error.empty()) s["last_error"] = rs.last_error;
  if (rs.n_connections > 1) s["n_connections"] = std::to_string(rs.n_connections);
  if (rs.bound_port) s["bound_port"] = std::to_string(rs.bound_port);
  return s;
}

}  // namespace sluice::bridge
