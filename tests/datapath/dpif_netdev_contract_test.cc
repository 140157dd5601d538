// The dpif contract (tests/common/dpif_contract.h) on the DPDK datapath, one PMD thread.
#include "common/eal_env.h"
#include "datapath/dpif_netdev/dpif_netdev.h"
#include "tests/common/dpif_contract.h"

namespace sluice::dp::contract {
namespace {

struct NetdevFactory {
  static std::unique_ptr<Dpif> Make() {
    DpifNetdevConfig cfg;
    cfg.pmd_cores = {1};
    auto d = DpifNetdev::Create(cfg, test::Eal());
    EXPECT_TRUE(d.has_value());
    return d ? std::move(*d) : nullptr;
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(DpifNetdev, DpifContractTest, NetdevFactory);

}  // namespace
}  // namespace sluice::dp::contract
