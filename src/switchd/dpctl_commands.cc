// unixctl commands over the datapath, in Open vSwitch's syntax and output shapes:
// dpctl/*, dpif-netdev/pmd-stats-*, netdev-dummy/*.
#include "switchd/dpctl_commands.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <optional>

#include "common/clock.h"
#include "datapath/flow/odp_text.h"
#include "datapath/port/dummy_port.h"

namespace sluice {
namespace {

using Args = UnixctlServer::Args;

constexpr const char* kDpName = "netdev@sluice-netdev";

bool IsDpName(const std::string& s) {
  return s.find('@') != std::string::npos || s == "sluice-netdev" || s == "ovs-netdev" ||
         s == "sluice" || s == "system@sluice";
}

// Splits flags (leading '-') from positional arguments and drops an optional datapath name
// when more positionals than `max_pos` were given or it looks like one.
struct Parsed {
  std::vector<std::string> flags;
  std::vector<std::string> pos;
  bool Has(std::initializer_list<const char*> names) const {
    for (auto& f : flags)
      for (auto* n : names)
        if (f == n) return true;
    return false;
  }
};

Parsed ParseArgs(const Args& args, size_t max_pos) {
  Parsed p;
  for (const auto& a : args) {
    if (a.size() > 1 && a[0] == '-' && p.pos.empty())
      p.flags.push_back(a);
    else
      p.pos.push_back(a);
  }
  if (!p.pos.empty() && (p.pos.size() > max_pos || IsDpName(p.pos[0]))) p.pos.erase(p.pos.begin());
  return p;
}

std::string FormatUsed(int64_t used_ms) {
  if (used_ms == 0) return "never";
  char buf[64];
  double s = static_cast<double>(clock::NowMs() - used_ms) / 1000.0;
  std::snprintf(buf, sizeof buf, "%.3fs", s < 0 ? 0.0 : s);
  return buf;
}

// The TCP flags seen, as OVS's packet_format_tcp_flags() prints them.
std::string FormatTcpFlags(uint16_t be_flags) {
  uint16_t f = static_cast<uint16_t>((be_flags >> 8) | (be_flags << 8)) & 0x0fff;
  static constexpr std::pair<uint16_t, const char*> kOrder[] = {
      {0x002, "S"}, {0x001, "F"},     {0x008, "P"},     {0x004, "R"},
      {0x020, "U"}, {0x010, "."},     {0x040, "E"},     {0x080, "C"},
      {0x100, "N"}, {0x200, "[200]"}, {0x400, "[400]"}, {0x800, "[800]"}};
  std::string s;
  for (const auto& [bit, text] : kOrder) {
    if (f & bit) s += text;
  }
  return s;
}

Result<std::vector<uint8_t>> ParseHex(const std::string& text) {
  std::vector<uint8_t> out;
  int nib = -1;
  for (char c : text) {
    int v;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v = c - 'A' + 10;
    else if (c == ' ' || c == '\n' || c == ':')
      continue;
    else
      return MakeError(Errc::kInvalid, std::string("bad hex digit '") + c + "' in packet");
    if (nib < 0)
      nib = v;
    else {
      out.push_back(static_cast<uint8_t>(nib << 4 | v));
      nib = -1;
    }
  }
  if (nib >= 0) return MakeError(Errc::kInvalid, "odd number of hex digits in packet");
  return out;
}

// "NAME[,type=T][,key=value]..." as in ovs-dpctl add-if.
Result<dp::PortSpec> ParseIfSpec(const std::string& arg) {
  dp::PortSpec spec;
  size_t pos = 0;
  bool first = true;
  while (pos <= arg.size()) {
    size_t comma = arg.find(',', pos);
    if (comma == std::string::npos) comma = arg.size();
    std::string tok = arg.substr(pos, comma - pos);
    pos = comma + 1;
    if (first) {
      spec.name = tok;
      first = false;
      continue;
    }
    if (tok.empty()) continue;
    size_t eq = tok.find('=');
    if (eq == std::string::npos) return MakeError(Errc::kInvalid, "bad option '" + tok + "'");
    std::string k = tok.substr(0, eq), v = tok.substr(eq + 1);
    if (k == "type")
      spec.type = v;
    else if (k == "port_no")
      spec.options["port_no"] = v;
    else
      spec.options[k] = v;
    // dpdk-devargs may itself contain commas: the rest of the string belongs to it.
    if (k == "dpdk-devargs") {
      while (pos < arg.size()) {
        size_t c2 = arg.find(',', pos);
        std::string rest = arg.substr(pos, c2 == std::string::npos ? std::string::npos : c2 - pos);
        if (rest.starts_with("type=") || rest.starts_with("port_no=") || rest.starts_with("n_rxq="))
          break;
        spec.options[k] += "," + rest;
        if (c2 == std::string::npos) {
          pos = arg.size() + 1;
          break;
        }
        pos = c2 + 1;
      }
    }
  }
  if (spec.name.empty()) return MakeError(Errc::kInvalid, "missing interface name");
  return spec;
}

Result<std::pair<dp::FlowKey, dp::FlowMask>> ParseFlowArg(const std::string& text) {
  dp::FlowKey key;
  dp::FlowMask mask;
  key.Clear();
  mask.Clear();
  if (auto r = dp::ParseOdpFlow(text, &key, &mask); !r) return std::unexpected(r.error());
  if (mask.bits.in_port == 0) return MakeError(Errc::kInvalid, "flow must specify in_port");
  // As in Open vSwitch's userspace datapath, in_port and recirc_id always match exactly.
  mask.bits.in_port = 0xffffffff;
  mask.bits.recirc_id = 0xffffffff;
  return std::make_pair(key, mask);
}

// One dump-flows line as OVS's format_dpif_flow() writes it; `more` (-m): the flow id, every
// field with its mask, and the datapath layer.
std::string FormatFlow(const dp::DpifFlow& e, bool more) {
  std::string s;
  if (more) s += "ufid:" + std::to_string(e.id) + ", ";
  s += dp::FormatOdpFlow(e.key, e.mask,
                         more ? dp::OdpVerbosity::kVerbose : dp::OdpVerbosity::kTerse);
  s += ", packets:" + std::to_string(e.packets) + ", bytes:" + std::to_string(e.bytes);
  s += ", used:" + FormatUsed(e.used_ms);
  if (e.tcp_flags) s += ", flags:" + FormatTcpFlags(e.tcp_flags);
  if (more) s += ", dp:ovs";
  s += ", actions:" + dp::FormatOdpActions(e.actions.view());
  return s + "\n";
}

std::string Pct(uint64_t part, uint64_t whole) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", whole ? 100.0 * part / whole : 0.0);
  return buf;
}

// Every flow of the datapath, dumped batch by batch.
std::vector<dp::DpifFlow> DumpAll(dp::Dpif& dp) {
  std::vector<dp::DpifFlow> out;
  auto dump = dp.FlowDumpStart();
  while (dump->Next(out, 1024) != 0) {
  }
  return out;
}

}  // namespace

void RegisterDpctlCommands(UnixctlServer& server, dp::DpifNetdev& dp) {
  server.Register("dpctl/show", "[-s] [DP]", 0, 3, [&dp](const Args& a) -> Result<std::string> {
    Parsed p = ParseArgs(a, 0);
    bool stats = p.Has({"-s", "--statistics"});
    uint64_t hit = 0, missed = 0, lost = 0;
    for (auto& s : dp.PmdStats()) {
      hit += s.simple_hits + s.emc_hits + s.megaflow_hits;
      missed += s.misses;
      lost += s.lost;
    }
    std::string out = std::string(kDpName) + ":\n";
    out += "  lookups: hit:" + std::to_string(hit) + " missed:" + std::to_string(missed) +
           " lost:" + std::to_string(lost) + "\n";
    out += "  flows: " + std::to_string(dp.FlowCount()) + "\n";
    for (const auto& port : dp.PortDump()) {
      out += "  port " + std::to_string(port.port_no) + ": " + port.name + " (" + port.type;
      if (!port.detail.empty()) out += ": " + port.detail;
      out += ")\n";
      if (stats) {
        const auto& st = port.stats;
        out += "    RX packets:" + std::to_string(st.rx_packets) +
               " errors:" + std::to_string(st.rx_errors) +
               " dropped:" + std::to_string(st.rx_dropped) + "\n";
        out += "    TX packets:" + std::to_string(st.tx_packets) +
               " errors:" + std::to_string(st.tx_errors) +
               " dropped:" + std::to_string(st.tx_dropped) + "\n";
        out += "    RX bytes:" + std::to_string(st.rx_bytes) +
               "  TX bytes:" + std::to_string(st.tx_bytes) + "\n";
      }
    }
    return out;
  });

  server.Register("dpctl/add-if", "[DP] IFACE[,type=TYPE][,OPTION=VALUE]...", 1, 8,
                  [&dp](const Args& a) -> Result<std::string> {
                    Parsed p = ParseArgs(a, 64);
                    if (p.pos.empty()) return MakeError(Errc::kInvalid, "missing interface");
                    std::string out;
                    for (const auto& spec_text : p.pos) {
                      auto spec = ParseIfSpec(spec_text);
                      if (!spec) return std::unexpected(spec.error());
                      uint32_t no = 0;
                      if (auto it = spec->options.find("port_no"); it != spec->options.end()) {
                        no = static_cast<uint32_t>(std::stoul(it->second));
                      }
                      auto r = dp.PortAdd(*spec, no);
                      if (!r) {
                        return MakeError(r.error().code, "adding " + spec->name + " to " + kDpName +
                                                             " failed: " + r.error().message);
                      }
                    }
                    return out;
                  });

  server.Register("dpctl/del-if", "[DP] IFACE...", 1, 8,
                  [&dp](const Args& a) -> Result<std::string> {
                    Parsed p = ParseArgs(a, 64);
                    for (const auto& name : p.pos) {
                      auto port = dp.PortQueryByName(name);
                      if (!port) return MakeError(Errc::kNotFound, "no port named " + name);
                      if (auto r = dp.PortDel(port->port_no); !r) {
                        return std::unexpected(r.error());
                      }
                    }
                    return std::string();
                  });

  auto put = [&dp](const Args& a, unsigned base_flags) -> Result<std::string> {
    Parsed p = ParseArgs(a, 2);
    if (p.pos.size() != 2) return MakeError(Errc::kInvalid, "usage: [DP] FLOW ACTIONS");
    auto kv = ParseFlowArg(p.pos[0]);
    if (!kv) return std::unexpected(kv.error());
    auto acts = dp::ParseOdpActions(p.pos[1]);
    if (!acts) return std::unexpected(acts.error());
    unsigned flags = base_flags;
    if (p.Has({"--may-create"})) flags |= dp::kFlowCreate;
    if (p.Has({"--clear"})) flags |= dp::kFlowZeroStats;
    auto r = dp.FlowPut(kv->first, kv->second, acts->view(), flags);
    if (!r)
      return MakeError(r.error().code, "updating flow table failed (" + r.error().message + ")");
    return std::string();
  };
  server.Register("dpctl/add-flow", "[DP] FLOW ACTIONS", 2, 4,
                  [put](const Args& a) { return put(a, dp::kFlowCreate); });
  server.Register("dpctl/mod-flow", "[--clear] [--may-create] [DP] FLOW ACTIONS", 2, 5,
                  [put](const Args& a) { return put(a, dp::kFlowModify); });

  server.Register("dpctl/del-flow", "[DP] FLOW", 1, 2, [&dp](const Args& a) -> Result<std::string> {
    Parsed p = ParseArgs(a, 1);
    if (p.pos.size() != 1) return MakeError(Errc::kInvalid, "usage: [DP] FLOW");
    auto kv = ParseFlowArg(p.pos[0]);
    if (!kv) return std::unexpected(kv.error());
    if (auto r = dp.FlowDel(kv->first, kv->second); !r) {
      return MakeError(r.error().code, "deleting flow failed (" + r.error().message + ")");
    }
    return std::string();
  });

  server.Register("dpctl/del-flows", "[DP]", 0, 1, [&dp](const Args&) -> Result<std::string> {
    dp.FlowFlush();
    return std::string();
  });

  server.Register("dpctl/get-flow", "[DP] FLOW", 1, 2, [&dp](const Args& a) -> Result<std::string> {
    Parsed p = ParseArgs(a, 1);
    if (p.pos.size() != 1) return MakeError(Errc::kInvalid, "usage: [DP] FLOW");
    auto kv = ParseFlowArg(p.pos[0]);
    if (!kv) return std::unexpected(kv.error());
    auto flows = dp.FlowGet(kv->first, kv->second);
    if (flows.empty()) return MakeError(Errc::kNotFound, "flow does not exist");
    std::string out;
    for (auto& e : flows) out += FormatFlow(e, false);
    return out;
  });

  server.Register("dpctl/dump-flows", "[-m] [--names | --no-names] [DP] [FILTER]", 0, 5,
                  [&dp](const Args& a) -> Result<std::string> {
                    Parsed p = ParseArgs(a, 1);
                    bool more = p.Has({"-m", "--more"});
                    std::optional<std::pair<dp::FlowKey, dp::FlowMask>> filter;
                    if (!p.pos.empty()) {
                      dp::FlowKey k;
                      dp::FlowMask m;
                      k.Clear();
                      m.Clear();
                      if (auto r = dp::ParseOdpFlowFilter(p.pos[0], &k, &m); !r) {
                        return std::unexpected(r.error());
                      }
                      filter = std::make_pair(k, m);
                    }
                    auto flows = DumpAll(dp);
                    std::string out;
                    int last_core = -2;
                    for (const auto& e : flows) {
                      if (filter) {
                        // A flow passes if it agrees with the filter on every filtered bit.
                        const uint64_t* fk = filter->first.words();
                        const uint64_t* fm = filter->second.bits.words();
                        const uint64_t* k = e.key.words();
                        bool ok = true;
                        for (size_t i = 0; i < dp::FlowKey::kWords; ++i) {
                          if ((k[i] ^ fk[i]) & fm[i]) ok = false;
                        }
                        if (!ok) continue;
                      }
                      if (e.core != last_core) {
                        out += "flow-dump from pmd on cpu core: " + std::to_string(e.core) + "\n";
                        last_core = e.core;
                      }
                      out += FormatFlow(e, more);
                    }
                    return out;
                  });

  server.Register(
      "dpif-netdev/pmd-stats-show", "[-pmd core] [dp]", 0, 3,
      [&dp](const Args&) -> Result<std::string> {
        std::string out;
        for (const auto& s : dp.PmdStats()) {
          uint64_t cycles = s.busy_cycles + s.idle_cycles;
          auto line = [&](const std::string& k, const std::string& v) {
            out += "  " + k + ": " + v + "\n";
          };
          out += "pmd thread numa_id 0 core_id " + std::to_string(s.core) + ":\n";
          line("packets received", std::to_string(s.packets));
          line("simple match hits", std::to_string(s.simple_hits));
          line("emc hits", std::to_string(s.emc_hits));
          line("megaflow hits", std::to_string(s.megaflow_hits));
          line("misses queued to the handler", std::to_string(s.upcalls));
          line("misses not queued (lost)", std::to_string(s.lost));
          line("misses", std::to_string(s.misses));
          line("lost upcalls", std::to_string(s.lost));
          line("dropped by actions", std::to_string(s.dropped));
          line("megaflows",
               std::to_string(s.megaflows) + " in " + std::to_string(s.subtables) + " subtables");
          line("idle cycles",
               std::to_string(s.idle_cycles) + " (" + Pct(s.idle_cycles, cycles) + ")");
          line("processing cycles",
               std::to_string(s.busy_cycles) + " (" + Pct(s.busy_cycles, cycles) + ")");
          char buf[64];
          std::snprintf(buf, sizeof buf, "%.2f",
                        s.packets ? static_cast<double>(s.busy_cycles) / s.packets : 0.0);
          line("avg processing cycles per packet", buf);
        }
        const auto& c = dp.counters();
        out += "main thread:\n";
        out += "  upcalls handled: " + std::to_string(c.upcalls_handled.load()) + "\n";
        out +=
            "  upcalls dropped (no handler): " + std::to_string(c.upcalls_unhandled.load()) + "\n";
        out += "  megaflows expired: " + std::to_string(c.megaflows_expired.load()) + "\n";
        return out;
      });

  server.Register("dpif-netdev/pmd-rxq-show", "[-pmd core] [dp]", 0, 3,
                  [&dp](const Args&) -> Result<std::string> {
                    std::string out;
                    auto rxqs = dp.Rxqs();
                    for (const auto& s : dp.PmdStats()) {
                      out += "pmd thread numa_id 0 core_id " + std::to_string(s.core) + ":\n";
                      out += "  isolated : false\n";
                      for (const auto& q : rxqs) {
                        if (q.pmd != s.index) continue;
                        out += "  port: " + q.port + "  queue-id: " + std::to_string(q.qid) +
                               (q.slow ? " (enabled, polled every 50 us)" : " (enabled)") +
                               "  pmd usage: NOT AVAIL\n";
                      }
                    }
                    return out;
                  });
  server.Register("dpif-netdev/pmd-stats-clear", "[-pmd core] [dp]", 0, 3,
                  [&dp](const Args&) -> Result<std::string> {
                    dp.ClearPmdStats();
                    return std::string();
                  });

  server.Register("netdev-dummy/receive", "NAME PACKET...", 2, 64,
                  [&dp](const Args& a) -> Result<std::string> {
                    auto port = dp.Dummy(a[0]);
                    if (!port) return std::unexpected(port.error());
                    for (size_t i = 1; i < a.size(); ++i) {
                      auto bytes = ParseHex(a[i]);
                      if (!bytes) return std::unexpected(bytes.error());
                      if (auto r = (*port)->Inject(bytes->data(), bytes->size()); !r) {
                        return std::unexpected(r.error());
                      }
                    }
                    return std::string();
                  });

  server.Register("netdev-dummy/dump-tx", "NAME", 1, 1,
                  [&dp](const Args& a) -> Result<std::string> {
                    auto port = dp.Dummy(a[0]);
                    if (!port) return std::unexpected(port.error());
                    std::string out;
                    static const char* hex = "0123456789abcdef";
                    for (const auto& pkt : (*port)->TakeTx()) {
                      for (uint8_t b : pkt) {
                        out += hex[b >> 4];
                        out += hex[b & 15];
                      }
                      out += "\n";
                    }
                    return out;
                  });

  server.Register("time/stop", "", 0, 0, [](const Args&) -> Result<std::string> {
    clock::Stop();
    return std::string();
  });
  server.Register(
      "time/warp", "[large_msecs] msecs", 1, 2, [](const Args& a) -> Result<std::string> {
        int64_t ms = 0;
        try {
          ms = std::stoll(a.back());
        } catch (...) {
          return MakeError(Errc::kInvalid, "invalid number of milliseconds '" + a.back() + "'");
        }
        if (ms < 0) return MakeError(Errc::kInvalid, "time/warp takes a non-negative number");
        if (a.size() == 2) {
          // OVS form: time/warp LARGE STEP warps LARGE in STEP increments; the end state matters.
          try {
            ms = std::stoll(a[0]);
          } catch (...) {
            return MakeError(Errc::kInvalid, "invalid number of milliseconds '" + a[0] + "'");
          }
        }
        clock::Warp(ms);
        return std::string("warped\n");
      });
}

}  // namespace sluice
