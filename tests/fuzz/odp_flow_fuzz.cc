// libFuzzer target: arbitrary text in Open vSwitch's datapath flow syntax (dpctl/add-flow,
// ofproto/trace): the match and the actions parsers.
//
// Whatever parses must format and parse back to the same value, and format the same again (one
// canonical text): for a match, the key and mask; for actions, the encoded bytes. Errors are
// fine; crashes, leaks and undefined behaviour are not.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "datapath/flow/odp_text.h"

namespace {

using namespace sluice::dp;

[[noreturn]] void Die(const char* what, std::string_view in, const std::string& a,
                      const std::string& b) {
  fprintf(stderr, "odp_flow_fuzz: %s\ninput:  %.*s\nfirst:  %s\nsecond: %s\n", what,
          static_cast<int>(in.size()), in.data(), a.c_str(), b.c_str());
  abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  FlowKey key;
  FlowMask mask;
  if (ParseOdpFlow(text, &key, &mask)) {
    std::string f1 = FormatOdpFlow(key, mask);
    FlowKey key2;
    FlowMask mask2;
    auto again = ParseOdpFlow(f1, &key2, &mask2);
    if (!again) Die("formatted match does not parse", text, f1, again.error().message);
    std::string f2 = FormatOdpFlow(key2, mask2);
    if (f1 != f2) Die("match text does not round-trip", text, f1, f2);
    if (!(key2 == key) || !(mask2.bits == mask.bits)) {
      Die("match value does not round-trip", text, f1, f2);
    }
  }
  if (auto acts = ParseOdpActions(text)) {
    std::string f1 = FormatOdpActions(acts->view());
    auto again = ParseOdpActions(f1);
    if (!again) Die("formatted actions do not parse", text, f1, again.error().message);
    std::string f2 = FormatOdpActions(again->view());
    if (f1 != f2) Die("actions text does not round-trip", text, f1, f2);
    if (again->size() != acts->size() ||
        (acts->size() &&
         std::memcmp(again->storage().data(), acts->storage().data(), acts->size()) != 0)) {
      Die("encoded actions do not round-trip", text, f1, f2);
    }
  }
  return 0;
}
