// The operator's views of ofproto-dpif: fdb/show|flush|add|stats-show, coverage/show,
// memory/show, bridge/dump-flows.
#include <fmt/format.h>

#include <cstdio>

#include "common/clock.h"
#include "ofproto/dpif/backer.h"
#include "ofproto/dpif/ofproto_dpif.h"
#include "ofproto/text/ofp_text.h"

namespace sluice::ofp {
namespace {

std::string MacText(const Mac& m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4],
                     m[5]);
}

}  // namespace

std::string OfprotoDpif::FdbShow(const std::string& bridge) const {
  std::lock_guard lk(b_->mu);
  BridgeState* br = b_->BridgeOf(bridge);
  if (!br) return "";
  std::string out = " port  VLAN  MAC                Age\n";
  int64_t now = clock::NowMs();
  for (const auto& e : br->mac.Entries()) {
    if (!e.is_static && now - e.learned_ms >= br->mac.aging_ms()) continue;
    std::string port = e.port == kPortLocal ? "LOCAL" : std::to_string(e.port);
    out += fmt::format(
        "{:>5}  {:>4}  {}  {:>3}\n", port, e.vlan, MacText(e.mac),
        e.is_static ? std::string("static") : std::to_string((now - e.learned_ms) / 1000));
  }
  return out;
}

Result<void> OfprotoDpif::FdbFlush(const std::string& bridge) {
  std::lock_guard lk(b_->mu);
  if (!bridge.empty() && !b_->BridgeOf(bridge)) {
    return MakeError(Errc::kNotFound, "no such bridge");
  }
  for (auto& [n, br] : b_->bridges) {
    if (bridge.empty() || n == bridge) br->mac.Flush();
  }
  b_->reval.MarkDirtyLocked();
  return {};
}

Result<void> OfprotoDpif::FdbAddStatic(const std::string& bridge, const std::string& port,
                                       uint16_t vlan, const Mac& mac) {
  std::lock_guard lk(b_->mu);
  BridgeState* br = b_->BridgeOf(bridge);
  if (!br) return MakeError(Errc::kNotFound, "no such bridge");
  auto it = br->ports.find(port);
  if (it == br->ports.end()) return MakeError(Errc::kNotFound, "no such port " + port);
  br->mac.AddStatic(vlan, mac, it->second.spec.ofport);
  b_->reval.MarkDirtyLocked();
  return {};
}

std::string OfprotoDpif::FdbStats(const std::string& bridge) const {
  std::lock_guard lk(b_->mu);
  BridgeState* br = b_->BridgeOf(bridge);
  if (!br) return "";
  const auto& s = br->mac.stats();
  return fmt::format(
      "Statistics for bridge \"{}\":\n  Current/maximum MAC entries in the table: {}/{}\n"
      "  Total number of learned MAC entries     : {}\n"
      "  Total number of expired MAC entries     : {}\n"
      "  Total number of evicted MAC entries     : {}\n"
      "  Total number of port moved MAC entries  : {}\n",
      bridge, br->mac.size(), br->mac.max_entries(), s.learned, s.expired, s.evicted, s.moved);
}

OfprotoDpifCounters OfprotoDpif::counters() const {
  std::lock_guard lk(b_->mu);
  return b_->ctr;
}

std::string OfprotoDpif::CoverageText() const {
  OfprotoDpifCounters c = counters();
  std::string out = "Event coverage (totals since start):\n";
  auto line = [&](const char* name, uint64_t v) { out += fmt::format("{:<28} {}\n", name, v); };
  line("upcall_miss", c.upcalls);
  line("upcall_action", c.action_upcalls);
  line("upcall_no_bridge", c.upcall_no_bridge);
  line("xlate", c.xlates);
  line("xlate_error", c.xlate_errors);
  line("megaflow_install", c.megaflow_installs);
  line("megaflow_install_fail", c.megaflow_install_fail);
  line("megaflow_cap_hit", c.megaflow_cap_hits);
  line("revalidate_pass", c.revalidations);
  line("revalidate_flow", c.revalidated_flows);
  line("revalidate_modified", c.revalidate_modified);
  line("revalidate_deleted", c.revalidate_deleted);
  line("packet_in", c.packet_ins);
  line("packet_out", c.packet_outs);
  std::lock_guard lk(b_->mu);
  line("upcall_recirc_missing", c.upcall_recirc_missing);
  line("recirc_states_dropped", c.recirc_states_dropped);
  line("megaflows_tracked", b_->megaflows.size());
  line("packet_in_contexts", b_->pin_registry.size());
  line("recirc_states", b_->recirc_registry.size());
  return out;
}

Result<std::string> OfprotoDpif::DumpFlowsText(const std::string& bridge) {
  std::lock_guard lk(b_->mu);
  BridgeState* br = b_->BridgeOf(bridge);
  if (!br) return MakeError(Errc::kNotFound, "no bridge named " + bridge);
  b_->stats.PushLocked();
  auto stats = br->ofp->pipeline().FlowStatsQuery(FlowStatsFilter{}, clock::NowMs());
  if (!stats) return MakeError(Errc::kInvalid, stats.error().detail);
  std::string out;
  for (const auto& fs : stats->entries) out += text::FormatFlowStats(fs) + "\n";
  return out;
}

std::string OfprotoDpif::MemoryText() const {
  std::lock_guard lk(b_->mu);
  size_t ports = 0, rules = 0, macs = 0;
  for (const auto& [n, br] : b_->bridges) {
    ports += br->ports.size();
    macs += br->mac.size();
    const Pipeline& pl = br->ofp->pipeline();
    for (size_t t = 0; t < pl.n_tables(); ++t)
      rules += pl.table(static_cast<uint8_t>(t))->active_count();
  }
  long rss_kb = 0;
  if (FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, f)) {
      if (std::sscanf(line, "VmRSS: %ld", &rss_kb) == 1) break;
    }
    std::fclose(f);
  }
  return fmt::format(
      "bridges:{} ports:{} rules:{} megaflows:{} mac_entries:{} packet_in_contexts:{} "
      "recirc_states:{} rss_kb:{}\n",
      b_->bridges.size(), ports, rules, b_->megaflows.size(), macs, b_->pin_registry.size(),
      b_->recirc_registry.size(), rss_kb);
}

size_t OfprotoDpif::TrackedCount() const {
  std::lock_guard lk(b_->mu);
  return b_->megaflows.size();
}

size_t OfprotoDpif::RecircStateCount() const {
  std::lock_guard lk(b_->mu);
  return b_->recirc_registry.size();
}

}  // namespace sluice::ofp
