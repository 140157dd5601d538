#include "bridge/bridge_remotes.h"

#include <algorithm>

#include "bridge/remote_config.h"
#include "common/clock.h"
#include "ofproto/ofproto.h"
#include "ovsdb/server/server.h"
#include "sluice/log.h"

namespace sluice::bridge {
namespace {

auto Log() {
  static auto l = log::Get("bridge");
  return l;
}

const db::IdlRow* Root(const db::Idl& idl) {
  const auto& rows = idl.Rows("Open_vSwitch");
  return rows.empty() ? nullptr : &rows.begin()->second;
}

std::map<std::string, std::string> WithoutTimes(std::map<std::string, std::string> m) {
  m.erase("sec_since_connect");
  m.erase("sec_since_disconnect");
  return m;
}

}  // namespace

BridgeRemotes::BridgeRemotes(std::vector<std::string> rundirs, db::OvsdbServer* embedded,
                             TlsOptions tls_defaults)
    : rundirs_(std::move(rundirs)), embedded_(embedded), tls_defaults_(std::move(tls_defaults)) {}

void BridgeRemotes::WarnOnce(const std::string& msg) {
  if (warned_.size() > 4096) warned_.clear();
  if (warned_.insert(msg).second) Log()->warn("{}", msg);
}

bool BridgeRemotes::TargetAllowed(const std::string& target, const std::string& bridge,
                                  bool manager, std::string* why) const {
  for (const auto& dir : rundirs_) {
    auto r = manager ? CheckManagerTarget(target, dir) : CheckControllerTarget(target, dir, bridge);
    if (r) return true;
    if (why->empty()) *why = r.error().message;  // in terms of switchd's own run directory
  }
  return false;
}

void BridgeRemotes::ApplySsl(const db::Idl& idl) {
  const db::IdlRow* root = Root(idl);
  const db::IdlRow* ssl = nullptr;
  std::map<std::string, std::string> oc;
  if (root) {
    auto refs = root->GetUuids("ssl");
    if (!refs.empty()) ssl = idl.Find("SSL", refs.front());
    oc = root->GetStringMap("other_config");
  }
  TlsOptions want = TlsOptionsFromDb(ssl, oc, tls_defaults_);
  auto tls = DefaultTlsConfig();
  if (want == tls->options()) return;
  tls->Set(want);
  Log()->info("TLS for new ssl:/pssl: connections{}: private key {}, certificate {}, CA {}{}",
              ssl ? " (SSL table)" : " (command line)",
              want.private_key.empty() ? "(none)" : want.private_key,
              want.certificate.empty() ? "(none)" : want.certificate,
              want.ca_cert.empty() ? "(none)" : want.ca_cert,
              want.bootstrap_ca_cert ? " (bootstrap)" : "");
}

void BridgeRemotes::ApplyControllers(const db::Idl& idl, const std::string& bridge,
                                     const db::Uuid& bridge_uuid, ofp::Ofproto* ofproto) {
  if (!ofproto) return;
  const db::IdlRow* b = idl.Find("Bridge", bridge_uuid);
  std::vector<ofp::ControllerOptions> want;
  std::map<std::string, std::string> errors;
  if (b) {
    int queue_default = ControllerQueueDefault(b->GetStringMap("other_config"));
    for (const auto& cu : b->GetUuids("controller")) {
      const db::IdlRow* c = idl.Find("Controller", cu);
      if (!c) continue;
      ofp::ControllerOptions o = ControllerOptionsFromRow(*c, queue_default);
      if (o.target.empty()) continue;
      bool dup = std::any_of(want.begin(), want.end(),
                             [&](const auto& w) { return w.target == o.target; });
      if (dup || errors.count(o.target)) continue;  // one controller per target
      std::string why;
      if (!TargetAllowed(o.target, bridge, false, &why)) {
        WarnOnce("bridge " + bridge + ": " + why);
        errors[o.target] = why;
        continue;
      }
      want.push_back(std::move(o));
    }
  }
  std::sort(want.begin(), want.end(),
            [](const auto& x, const auto& y) { return x.target < y.target; });
  if (errors.empty()) {
    controller_errors_.erase(bridge);
  } else {
    controller_errors_[bridge] = std::move(errors);
  }
  auto it = controllers_.find(bridge);
  if (it != controllers_.end() && it->second == want) return;
  std::erase_if(written_, [&](const auto& w) {
    const std::string prefix = "c/" + bridge + "/";
    if (!w.first.starts_with(prefix)) return false;
    std::string target = w.first.substr(prefix.size());
    return std::none_of(want.begin(), want.end(),
                        [&](const auto& o) { return o.target == target; });
  });
  ofproto->connmgr().SetControllerOptions(want);
  Log()->info("bridge {}: {} controller(s)", bridge, want.size());
  controllers_[bridge] = std::move(want);
}

void BridgeRemotes::ForgetBridge(const std::string& bridge) {
  controllers_.erase(bridge);
  controller_errors_.erase(bridge);
  std::erase_if(written_, [&](const auto& w) { return w.first.starts_with("c/" + bridge + "/"); });
}

void BridgeRemotes::ApplyManagers(const db::Idl& idl) {
  if (!embedded_) return;
  std::map<std::string, db::RemoteOptions> want;
  if (const db::IdlRow* root = Root(idl)) {
    for (const auto& u : root->GetUuids("manager_options")) {
      const db::IdlRow* m = idl.Find("Manager", u);
      if (!m) continue;
      std::string target = m->GetString("target");
      if (!target.empty()) want.emplace(target, ManagerOptionsFromRow(*m));
    }
  }
  for (auto it = managers_.begin(); it != managers_.end();) {
    if (want.count(it->first)) {
      ++it;
      continue;
    }
    if (auto r = embedded_->RemoveRemote(it->first); !r) Log()->warn("{}", r.error().message);
    Log()->info("manager {} removed", it->first);
    written_.erase("m/" + it->first);
    it = managers_.erase(it);
  }
  std::erase_if(manager_errors_, [&](const auto& e) { return !want.count(e.first); });
  for (const auto& [target, opts] : want) {
    auto applied = managers_.find(target);
    if (applied != managers_.end() && applied->second == opts) continue;
    std::string why;
    if (!TargetAllowed(target, "", true, &why)) {
      WarnOnce(why);
      manager_errors_[target] = why;
      continue;
    }
    // Passive (ptcp:, pssl:, punix:) managers listen; active ones (tcp:, ssl:, unix:) are
    // dialled by the embedded server, which serves OVSDB on the connection and reconnects with
    // back-off. An existing remote takes the new options.
    if (auto r = embedded_->AddRemote(target, opts); !r) {
      WarnOnce("manager " + target + ": " + r.error().message);
      manager_errors_[target] = r.error().message;
      continue;
    }
    if (applied == managers_.end()) Log()->info("manager {} added", target);
    manager_errors_.erase(target);
    managers_[target] = opts;
  }
}

std::map<std::string, std::string> BridgeRemotes::Settle(const std::string& key,
                                                         std::map<std::string, std::string> now) {
  int64_t t = clock::NowMs();
  auto it = written_.find(key);
  if (it != written_.end() && WithoutTimes(it->second.status) == WithoutTimes(now) &&
      t - it->second.at_ms < kTimesRefreshMs) {
    return it->second.status;
  }
  written_[key] = Written{now, t};
  return now;
}

std::optional<RemoteRowStatus> BridgeRemotes::ControllerRow(
    const std::string& bridge, const std::string& target,
    const std::vector<ofp::ControllerStatus>& all) {
  if (auto b = controller_errors_.find(bridge); b != controller_errors_.end()) {
    if (auto e = b->second.find(target); e != b->second.end()) {
      return RemoteRowStatus{false, "", {{"last_error", e->second}}};
    }
  }
  auto st = std::find_if(all.begin(), all.end(),
                         [&](const ofp::ControllerStatus& s) { return s.target == target; });
  if (st == all.end()) return std::nullopt;
  RemoteRowStatus r;
  r.connected = st->connected;
  if (st->connected) r.role = RoleName(st->role);
  r.status = Settle("c/" + bridge + "/" + target, st->status);
  return r;
}

std::optional<RemoteRowStatus> BridgeRemotes::ManagerRow(const std::string& target,
                                                         const std::vector<db::RemoteStatus>& all) {
  if (auto e = manager_errors_.find(target); e != manager_errors_.end()) {
    return RemoteRowStatus{false, "", {{"last_error", e->second}}};
  }
  auto rs = std::find_if(all.begin(), all.end(),
                         [&](const db::RemoteStatus& r) { return r.remote == target; });
  if (rs == all.end()) return std::nullopt;
  return RemoteRowStatus{rs->connected, "", Settle("m/" + target, ManagerStatus(*rs))};
}

}  // namespace sluice::bridge
