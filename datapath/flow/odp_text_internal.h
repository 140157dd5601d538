// Pieces shared by the flow and the action halves of the OVS datapath text syntax
// (odp_text_flow_*.cc, odp_text_actions.cc). Not part of the public API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "sluice/result.h"

namespace sluice::dp::odp_text {

// An error whose message is "ctx: msg" (or just msg when ctx is empty).
std::unexpected<Error> Fail(std::string_view ctx, std::string_view msg);

// printf-style append; only used with short, bounded output.
void Appendf(std::string* out, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// A cursor over the input text. Every reading method skips leading whitespace first.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  void SkipSpace();
  bool AtEnd();
  char Peek();  // '\0' at the end
  bool TryConsume(char c);
  // An identifier: letters, digits and '_'.
  std::string_view ReadName();
  // A value: everything up to ',', '(', ')', whitespace or the end.
  std::string_view ReadToken();
  // Up to 16 characters of what is left, for "unexpected ..." messages.
  std::string_view Context();
  // Requires c next, else fails naming what was found instead.
  Result<void> Expect(char c, std::string_view ctx);

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

// Numbers: decimal or 0x-prefixed hex; max bounds the value.
Result<uint64_t> ParseUint(std::string_view tok, uint64_t max, std::string_view ctx);
// "V" or "V/M"; a missing mask means full_mask. Values and masks above max are errors.
Result<std::pair<uint64_t, uint64_t>> ParseMaskedUint(std::string_view tok, uint64_t max,
                                                      uint64_t full_mask, std::string_view ctx);
// "%#x": 0 prints as "0", anything else as "0x..".
void AppendHex(std::string* out, uint64_t v);

// How a field's bytes are spelled. All multi-byte fields are in network byte order.
enum class FieldKind : uint8_t {
  kU8,     // decimal, partial mask in hex
  kU8Hex,  // tos/tclass: "%#x"
  kBe16,   // ports: decimal
  kIcmp,   // ICMP type/code held as htons(v)
  kBe64,   // tun_id: "0x.."
  kIpv4,   // dotted quad; mask dotted or /prefix
  kIpv6,   // RFC 5952; mask address or /prefix
  kMac,    // xx:xx:xx:xx:xx:xx
  kLabel,  // IPv6 flow label, low 20 bits of a be32
  kFrag,   // no|first|later, or 0xV/0xM
};

struct FieldDesc {
  std::string_view name;
  FieldKind kind;
  uint16_t offset;  // into both the key and the mask struct
};

// Parses "name=value[/mask],...)" (the opening '(' already consumed) into key/mask bytes at each
// field's offset. Named fields are overwritten, others left alone; the key is stored masked.
Result<void> ParseFieldList(Scanner* s, std::string_view ctx, std::span<const FieldDesc> fields,
                            uint8_t* key, uint8_t* mask);
// Appends "name=value[/mask],..." for every field whose mask is non-zero (no parentheses);
// `verbose`: for every field, "/0" showing a wildcard (but, as OVS, no frag when wildcarded).
void FormatFieldList(std::span<const FieldDesc> fields, const uint8_t* key, const uint8_t* mask,
                     std::string* out, bool verbose = false);
bool AnyFieldMasked(std::span<const FieldDesc> fields, const uint8_t* mask);

}  // namespace sluice::dp::odp_text

// ---- MPLS (odp_text_mpls.cc) -------------------------------------------------------------------
namespace sluice::dp {
class ActionBuilder;
struct ActionHeader;
}  // namespace sluice::dp

namespace sluice::dp::odp_text {

// Parses "label=N,tc=N,ttl=N,bos=N)" (the '(' already consumed, any subset, any order, each
// with an optional "/mask") into a network-order label stack entry and its mask. With
// `eth_type` non-null an "eth_type=0xNNNN" field is accepted too (push_mpls) and required.
Result<void> ParseMplsFields(Scanner* s, std::string_view ctx, uint32_t* lse_be, uint32_t* mask_be,
                             uint16_t* eth_type);
// Appends "label=N,tc=N,ttl=N,bos=N" for the subfields the mask covers ("/0x.." when partly).
void FormatMplsFields(uint32_t lse_be, uint32_t mask_be, std::string* out);

// push_mpls(label=,tc=,ttl=,bos=,eth_type=) and pop_mpls(eth_type=): `name` already read.
Result<void> ParseMplsAction(std::string_view name, Scanner* s, ActionBuilder* b);
// Formats a kPushMpls/kPopMpls action; false for other types.
bool FormatMplsAction(const ActionHeader& h, const uint8_t* payload, std::string* out);

}  // namespace sluice::dp::odp_text
