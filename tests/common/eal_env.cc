#include "common/eal_env.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <rte_eal.h>
#include <rte_mbuf.h>

namespace sluice::test {

rte_mempool* Eal() {
  static rte_mempool* pool = [] {
    std::string prefix = "--file-prefix=sluice-test-" + std::to_string(getpid());
    std::vector<std::string> args = {
        "sluice-test", "--no-huge", "--no-shconf", "--no-pci", "-m",
        "256",         "-l",        "0",           prefix,     "--log-level=error"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
      std::fprintf(stderr, "rte_eal_init failed\n");
      std::abort();
    }
    return rte_pktmbuf_pool_create("test_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                   SOCKET_ID_ANY);
  }();
  return pool;
}

}  // namespace sluice::test
