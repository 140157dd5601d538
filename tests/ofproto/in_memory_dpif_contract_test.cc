// The dpif contract (tests/common/dpif_contract.h) on the in-memory datapath that the
// ofproto-dpif and bridge tests run on, so that what they rely on is what DpifNetdev does.
#include "tests/common/dpif_contract.h"
#include "tests/common/in_memory_dpif.h"

namespace sluice::dp::contract {
namespace {

struct InMemoryFactory {
  static std::unique_ptr<Dpif> Make() { return std::make_unique<test::InMemoryDpif>(); }
};

INSTANTIATE_TYPED_TEST_SUITE_P(InMemory, DpifContractTest, InMemoryFactory);

}  // namespace
}  // namespace sluice::dp::contract
