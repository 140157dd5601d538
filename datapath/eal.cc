#include "datapath/eal.h"

#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include <cstdio>
#include <cstdlib>

#include "datapath/dpdk_log.h"
#include "sluice/log.h"

namespace sluice::dp {

namespace {

// A plain array: exit handlers may run after static objects are destroyed.
char g_runtime_dir[4096];

// DPDK leaves its runtime directory (/var/run/dpdk/<file-prefix>) behind; with --no-shconf it
// holds only the telemetry socket, which DPDK removes in an exit handler of its own. This one is
// registered before rte_eal_init and so runs after it.
void RemoveRuntimeDir() {
  if (g_runtime_dir[0]) ::rmdir(g_runtime_dir);
}

}  // namespace

std::vector<std::string> SplitArgs(const std::string& args) {
  std::vector<std::string> out;
  std::string cur;
  bool have = false;
  char quote = 0;
  for (char c : args) {
    if (quote) {
      if (c == quote)
        quote = 0;
      else
        cur += c;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      have = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (have) out.push_back(cur);
      cur.clear();
      have = false;
    } else {
      cur += c;
      have = true;
    }
  }
  if (have) out.push_back(cur);
  return out;
}

Result<void> InitEal(const std::string& args, const std::string& file_prefix) {
  static bool done = false;
  if (done) return {};
  std::vector<std::string> argv_s = {"sluice-switchd"};
  for (auto& a : SplitArgs(args)) argv_s.push_back(a);
  bool has_prefix = false, has_lcores = false;
  for (auto& a : argv_s) {
    if (a.starts_with("--file-prefix")) has_prefix = true;
    if (a == "-l" || a == "-c" || a.starts_with("--lcores")) has_lcores = true;
  }
  if (!has_prefix && !file_prefix.empty()) argv_s.push_back("--file-prefix=" + file_prefix);
  // The EAL's own main lcore is the control thread's CPU; PMD threads register themselves.
  if (!has_lcores) argv_s.insert(argv_s.begin() + 1, {"-l", "0"});
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  std::string joined;
  for (auto& a : argv_s) joined += a + " ";
  log::Get("dpdk")->info("EAL args: {}", joined);
  RedirectDpdkLog();
  std::atexit(RemoveRuntimeDir);
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
    return MakeError(Errc::kIo, std::string("rte_eal_init failed: ") + rte_strerror(rte_errno));
  }
  done = true;
  std::snprintf(g_runtime_dir, sizeof g_runtime_dir, "%s", rte_eal_get_runtime_dir());
  return {};
}

void ShutdownEal() { rte_eal_cleanup(); }

Result<rte_mempool*> PacketPool(unsigned n_mbufs) {
  static rte_mempool* pool = nullptr;
  if (pool) return pool;
  pool = rte_pktmbuf_pool_create("sluice_mbufs", n_mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                 SOCKET_ID_ANY);
  if (!pool) {
    return MakeError(Errc::kNoSpace,
                     std::string("cannot create mbuf pool: ") + rte_strerror(rte_errno));
  }
  return pool;
}

}  // namespace sluice::dp
