// Shared between the OpenFlow text parsers. Internal to ofproto/text.
#pragma once

#include <optional>
#include <string_view>

#include "ofproto/text/ofp_text.h"
#include "ofproto/text/text_util.h"

namespace sluice::ofp::text::internal {

// Builds an OXM match from ovs-ofctl keywords. Fields whose OXM form depends on other fields
// (tp_src on tcp/udp/sctp, nw_src on ip/arp, icmp_type on icmp/icmp6, the VLAN TCI) are
// resolved in Finish(), so keyword order does not matter, as in ovs-ofctl.
class MatchBuilder {
 public:
  explicit MatchBuilder(const ParseOptions& opts) : opts_(opts) {}

  // Result: true if `key` was a match keyword (and was applied), false if it is not one.
  Result<bool> Apply(std::string_view key, std::string_view value, bool has_value);
  Result<Match> Finish();

 private:
  Result<void> SetMasked(OxmField f, ByteSpan v, ByteSpan m, std::string_view key);
  Result<void> SetInt(OxmField f, uint64_t v, uint64_t m, bool has_mask, std::string_view key);

  const ParseOptions& opts_;
  Match m_;
  uint16_t tci_ = 0, tci_mask_ = 0;
  std::optional<MaskedUint> tp_src_, tp_dst_, nw_proto_, icmp_type_, icmp_code_, nw_tos_;
  std::optional<std::pair<uint32_t, uint32_t>> nw_src_, nw_dst_;
};

Result<void> CheckVersion(uint8_t version);

// set_field value parsing shared with actions: "VALUE->FIELD".
Result<OxmEntry> ParseSetField(std::string_view arg);

// OVS's name of an OXM field for set_field ("ip_src", "nw_ecn", "tun_id", ...).
std::string_view SetFieldName(OxmField f);
std::string FormatFieldValue(const OxmEntry& e);

}  // namespace sluice::ofp::text::internal
