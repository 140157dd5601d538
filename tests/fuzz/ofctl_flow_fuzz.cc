// libFuzzer target: arbitrary text in ovs-ofctl's flow, group and meter syntax (sluice-ofctl,
// ofproto/trace), through ofproto/text's parsers.
//
// A flow that parses must encode as an OpenFlow 1.3 FLOW_MOD that decodes to the same message;
// its match and actions printed the ovs-ofctl way must parse back to the same match and actions
// (and print the same again). Groups and meters must encode and decode. Errors are fine;
// crashes, leaks and undefined behaviour are not.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ofproto/text/ofp_text.h"

namespace {

using namespace sluice;
using namespace sluice::ofp;

[[noreturn]] void Die(const char* what, std::string_view in, const std::string& detail = {}) {
  fprintf(stderr, "ofctl_flow_fuzz: %s\ninput: %.*s\n%s\n", what, static_cast<int>(in.size()),
          in.data(), detail.c_str());
  abort();
}

template <class T>
void RoundTrip(const T& body, std::string_view in) {
  Message m{kOfp13, 1, body};
  auto bytes = EncodeMessage(m);
  if (!bytes) return;  // e.g. a message too long for the wire: refused, which is fine
  auto back = DecodeMessage(*bytes);
  if (!back) {
    // As with ovs-ofctl, a reserved group, meter or port number is the switch's to refuse
    // ("actions=0" parses as output:0 there too): the parser takes it, the switch's decoder
    // answers with the OpenFlow error.
    OfpErr e = back.error().err;
    if (e == OfpErr::kGroupModInvalidGroup || e == OfpErr::kMeterModInvalidMeter ||
        e == OfpErr::kBadActionBadOutPort || e == OfpErr::kBadActionBadOutGroup) {
      return;
    }
    Die("an encoded message does not decode", in, back.error().detail);
  }
  auto again = EncodeMessage(*back);
  if (!again || *again != *bytes) Die("encoding is not stable", in);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  text::ParseOptions opts;
  opts.resolve_port = [](std::string_view name) -> std::optional<uint32_t> {
    if (name == "p1") return 1;
    if (name == "br0") return kPortLocal;
    return std::nullopt;
  };
  if (auto fm = text::ParseFlowMod(text, FlowModCommand::kAdd, opts)) {
    RoundTrip(*fm, text);
    // Printed as ovs-ofctl prints a flow, it parses back to the same match and instructions.
    std::string m1 = text::FormatMatch(fm->match, fm->priority);
    std::string printed =
        m1 + (m1.empty() ? "" : ",") + "actions=" + text::FormatInstructions(fm->instructions);
    auto fm2 = text::ParseFlowMod(printed, FlowModCommand::kAdd, opts);
    if (!fm2) Die("a printed flow does not parse", text, printed + "\n" + fm2.error().message);
    if (!(fm2->match == fm->match)) Die("match does not round-trip", text, printed);
    if (!(fm2->instructions == fm->instructions)) Die("actions do not round-trip", text, printed);
    if (fm2->priority != fm->priority) Die("priority does not round-trip", text, printed);
  }
  (void)text::ParseFlowFilter(text, opts);
  if (auto g = text::ParseGroupMod(text, GroupModCommand::kAdd, opts)) RoundTrip(*g, text);
  if (auto mm = text::ParseMeterMod(text, MeterModCommand::kAdd, opts)) RoundTrip(*mm, text);
  return 0;
}
