// Lexing and value helpers shared by the OpenFlow text parsers and printers. Internal to
// ofproto/text.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/result.h"

namespace sluice::ofp::text::internal {

// ovs-ofctl's key/value lexer: pairs are separated by commas or white space; a key ends at
// ':', '=' or '(' (the value then runs to the next top-level ',' / white space, or to the
// matching ')'), or at a separator (no value).
struct KeyValue {
  std::string_view key;
  std::string_view value;
  bool has_value = false;
  char delim = 0;  // ':', '=' or '(' when has_value
};

class KeyValueLexer {
 public:
  explicit KeyValueLexer(std::string_view s) : s_(s) {}
  // False at the end of input; an unbalanced parenthesis is reported through error().
  bool Next(KeyValue* kv);
  const std::string& error() const { return error_; }
  std::string_view rest() const { return s_.substr(pos_); }

 private:
  std::string_view s_;
  size_t pos_ = 0;
  std::string error_;
};

std::string_view Trim(std::string_view s);
bool IEquals(std::string_view a, std::string_view b);

// Unsigned integer: decimal or 0x-hex, at most `max`. `what` names the value in errors.
Result<uint64_t> ParseUint(std::string_view s, uint64_t max, std::string_view what);
// "V" or "V/M" (both integers); has_mask is false for "V".
struct MaskedUint {
  uint64_t value = 0;
  uint64_t mask = 0;
  bool has_mask = false;
};
Result<MaskedUint> ParseMaskedUint(std::string_view s, uint64_t max, std::string_view what);

Result<std::array<uint8_t, 6>> ParseMac(std::string_view s);
Result<uint32_t> ParseIpv4(std::string_view s);
Result<std::array<uint8_t, 16>> ParseIpv6(std::string_view s);
// "a.b.c.d", "a.b.c.d/len", "a.b.c.d/m.m.m.m" -> value & mask, mask.
Result<std::pair<uint32_t, uint32_t>> ParseIpv4Masked(std::string_view s);
Result<std::pair<std::array<uint8_t, 16>, std::array<uint8_t, 16>>> ParseIpv6Masked(
    std::string_view s);
Result<std::pair<std::array<uint8_t, 6>, std::array<uint8_t, 6>>> ParseMacMasked(
    std::string_view s);

std::string FormatMac(const uint8_t* mac);
std::string FormatIpv4(uint32_t addr);
std::string FormatIpv6(const uint8_t* addr);
// CIDR when the mask is a prefix ("10.0.0.0/8"), otherwise "addr/mask"; plain when exact.
std::string FormatIpv4Masked(uint32_t addr, uint32_t mask);
std::string FormatIpv6Masked(const uint8_t* addr, const uint8_t* mask);
std::string Hex(uint64_t v);  // "0x1f"

}  // namespace sluice::ofp::text::internal
