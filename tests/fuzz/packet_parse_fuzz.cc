// libFuzzer target: arbitrary bytes as a received frame, through the datapath's packet parser.
//
// ParsePacket must never read outside the frame (ASan checks every byte), its layout offsets
// must lie inside the frame and in order, the L2-only parse must agree with the full one on the
// L2 words, and the parsed key must survive the datapath flow syntax: the packet's exact flow
// (FormatOdpFlow under PacketKeyMask, as ofproto/trace prints it) parses back (ParseOdpFlow) to
// the same flow.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "datapath/flow/odp_text.h"
#include "datapath/packet/parse.h"

namespace {

using namespace sluice::dp;

[[noreturn]] void Die(const char* what, const uint8_t* data, size_t size) {
  fprintf(stderr, "packet_parse_fuzz: %s; frame (%zu bytes):", what, size);
  for (size_t i = 0; i < size; ++i) fprintf(stderr, "%s%02x", i % 32 ? "" : "\n  ", data[i]);
  fprintf(stderr, "\n");
  abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 9216) return 0;  // jumbo frames at most
  // A private copy of exactly `size` bytes, so that ASan sees any read past the end.
  std::vector<uint8_t> frame(data, data + size);
  FlowKey key;
  key.Clear();
  PacketLayout layout;
  ParsePacket(frame.data(), static_cast<uint32_t>(size), &key, &layout);
  if (layout.l3_ofs > size || layout.l4_ofs > size || layout.l4_end > size) {
    Die("layout offset past the end of the frame", data, size);
  }
  if (layout.l4_ofs && (layout.l4_ofs < layout.l3_ofs || layout.l4_end < layout.l4_ofs)) {
    Die("layout offsets out of order", data, size);
  }
  // The L2-only parse (the PMD's fast path) agrees on what it fills.
  FlowKey l2;
  l2.Clear();
  ParsePacketL2(frame.data(), static_cast<uint32_t>(size), &l2);
  if (std::memcmp(l2.words() + kFlowL2Word, key.words() + kFlowL2Word,
                  (kFlowL3Word - kFlowL2Word) * 8) != 0) {
    Die("ParsePacketL2 disagrees with ParsePacket", data, size);
  }
  // The key in dpctl's syntax and back.
  FlowMask mask = PacketKeyMask(key);
  std::string text = FormatOdpFlow(key, mask);
  FlowKey key2;
  FlowMask mask2;
  auto parsed = ParseOdpFlow(text, &key2, &mask2);
  if (!parsed) {
    fprintf(stderr, "text: %s\nerror: %s\n", text.c_str(), parsed.error().message.c_str());
    Die("a formatted parsed packet does not parse", data, size);
  }
  if (FormatOdpFlow(key2, mask2) != text) {
    fprintf(stderr, "text:  %s\nagain: %s\n", text.c_str(), FormatOdpFlow(key2, mask2).c_str());
    Die("the flow text of a parsed packet does not round-trip", data, size);
  }
  return 0;
}
