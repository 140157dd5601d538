// ovs-ofctl's text syntax for OpenFlow: parses flows, actions, groups and meters into the
// codec's typed messages, and prints messages the way ovs-ofctl does (dump-flows lines,
// dump-groups, meters, port and table statistics, OFPT_ERROR, async messages).
//
// Everything here is pure (no I/O). Parsers return sluice::Result with kInvalid and a message
// ovs-ofctl users recognise ("1.2.3.4/33: IPv4 network prefix bits not between 0 and 32");
// well-formed requests the chosen OpenFlow version cannot express are kUnsupported.
//
// Versions: only OpenFlow 1.3 is spoken today. Every entry point takes the version so that
// OpenFlow 1.0 can be added without changing callers; asking for another version is an error.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ofproto/codec/messages.h"
#include "sluice/result.h"

namespace sluice::ofp::text {

// Port name -> OpenFlow port number (e.g. from a PORT_DESC reply); nullopt when unknown.
using PortResolver = std::function<std::optional<uint32_t>(std::string_view name)>;

struct ParseOptions {
  uint8_t version = kOfp13;
  PortResolver resolve_port;  // empty: only numbers and reserved names are accepted
};

// "OpenFlow13" / "OF13" / "openflow13" ... -> kOfp13; an unknown or unsupported name fails.
Result<uint8_t> ParseVersionName(std::string_view name);
std::string VersionName(uint8_t version);  // "OF1.3" as ovs-ofctl prints it

// ---- Parsing -----------------------------------------------------------------------------

// An OpenFlow port: a number, a reserved name (IN_PORT, TABLE, NORMAL, FLOOD, ALL,
// CONTROLLER, LOCAL, ANY/NONE) or a port name through opts.resolve_port.
Result<uint32_t> ParsePort(std::string_view s, const ParseOptions& opts);

// A flow as ovs-ofctl takes it for add-flow/mod-flows/del-flows. `command` decides what is
// allowed: actions are required for add and ignored-but-parsed for modify; delete forbids
// them. Timeouts, flags and priority are taken for every command, as ovs-ofctl does.
Result<FlowMod> ParseFlowMod(std::string_view text, FlowModCommand command,
                             const ParseOptions& opts);

// The filter of dump-flows / dump-aggregate (match, table=, cookie=V/M, out_port=,
// out_group=). An empty string matches everything.
Result<FlowStatsFilter> ParseFlowFilter(std::string_view text, const ParseOptions& opts);

// Only a match (no flow keywords), e.g. "tcp,nw_dst=10.0.0.0/8".
Result<Match> ParseMatch(std::string_view text, const ParseOptions& opts);

// An action list as written after "actions=", turned into OpenFlow 1.3 instructions the way
// ovs-ofctl -O OpenFlow13 does (plain actions -> apply-actions; meter:, clear_actions,
// write_actions(...), write_metadata:, goto_table: -> their instructions). `match` decides
// whether mod_vlan_vid / mod_vlan_pcp need a push_vlan first.
Result<InstructionList> ParseInstructions(std::string_view text, const Match& match,
                                          const ParseOptions& opts);
// A plain action list (packet-out, group buckets): instructions are an error.
Result<ActionList> ParseActions(std::string_view text, const ParseOptions& opts);

// "group_id=1,type=select,bucket=weight:10,actions=output:1,bucket=..." For delete only
// group_id= (or nothing: all groups) is allowed.
Result<GroupMod> ParseGroupMod(std::string_view text, GroupModCommand command,
                               const ParseOptions& opts);
// "meter=1,kbps,burst,stats,bands=type=drop,rate=1000,burst_size=100". For delete only
// meter= (or nothing, or meter=all).
Result<MeterMod> ParseMeterMod(std::string_view text, MeterModCommand command,
                               const ParseOptions& opts);
// "group_id=N" / "N" / "all" (dump-group-stats, dump-groups).
Result<uint32_t> ParseGroupId(std::string_view text);
// "meter=N" / "N" / "all" (dump-meters, meter-stats).
Result<uint32_t> ParseMeterId(std::string_view text);

// A packet as hex digits (spaces and a 0x prefix allowed).
Result<Bytes> ParseHexBytes(std::string_view text);

// ---- Formatting --------------------------------------------------------------------------

// A port as ovs-ofctl prints it: "1", "LOCAL", "CONTROLLER", ... or, inside a PortNameScope
// that knows it, its name ("p1"; quoted as a JSON string unless it is a letter followed by
// letters and digits, "\"br-int\"").
std::string FormatPort(uint32_t port);
// Always the number (or reserved name), as port descriptions print it before "(name)".
std::string FormatPortNumber(uint32_t port);

// Port number -> name, for printing names instead of numbers (ovs-ofctl --names).
using PortNameMap = std::map<uint32_t, std::string>;
// From (number, name) pairs of a PORT_DESC reply; a name two ports share, or a port listed
// under two names, is left out (printed as a number), as ovs-ofctl does.
PortNameMap MakePortNameMap(const std::vector<std::pair<uint32_t, std::string>>& ports);
// While alive, FormatPort() and everything printing ports on this thread use `names`
// (nullptr: numbers); scopes nest.
class PortNameScope {
 public:
  explicit PortNameScope(const PortNameMap* names);
  ~PortNameScope();
  PortNameScope(const PortNameScope&) = delete;
  PortNameScope& operator=(const PortNameScope&) = delete;

 private:
  const PortNameMap* saved_;
};

// The match as ovs-ofctl prints it (shorthands such as "tcp" for eth_type+ip_proto, "dl_vlan",
// CIDR masks), preceded by "priority=N," unless priority is 0x8000 (OFP_DEFAULT_PRIORITY).
// Pass priority = 0x8000 to omit it.
std::string FormatMatch(const Match& match, uint16_t priority = 0x8000);
// "output:1,set_field:..." or "drop" for an empty list.
std::string FormatActions(const ActionList& actions);
// Instructions after "actions=": apply-actions unwrapped, the others as meter:N,
// clear_actions, write_actions(...), write_metadata:V/M, goto_table:N; "drop" when empty.
std::string FormatInstructions(const InstructionList& insts);

// One dump-flows line (leading space included, no newline). without stats: as
// dump-flows --no-stats (no duration/counters; cookie and table only when non-zero).
std::string FormatFlowStats(const FlowStats& fs, bool show_stats = true);
// A flow as ovs-ofctl diff-flows prints it ("table=1 priority=5,ip cookie=0x1 actions=drop");
// add-flows reads it back. Counters and flags are not part of it.
std::string FormatFlowForFile(const FlowStats& fs);

// " group_id=1,type=all,bucket=actions=output:1" (dump-groups).
std::string FormatGroupDesc(const GroupDesc& g);
std::string FormatBucket(const Bucket& b, GroupType type);

// The tables of OFPMP_TABLE_FEATURES replies as ovs-ofctl dump-table-features prints them
// (Open vSwitch field and action names, "(same ...)" against the previous table, runs of
// identical tables as "tables A...B: ditto"); pass every table of one reply sequence at once.
// As Open vSwitch builds it, each table starts with a newline (a table identical to the one
// before but named ends at "ditto" without one); dump-table-features drops the first newline
// and adds one at the end.
std::string FormatTableFeatures(const std::vector<TableFeatures>& tables);

// Whole messages as ovs-ofctl prints them: the first line is
// "<NAME> (OF1.3) (xid=0x2):" followed by the body; ends with a newline.
std::string FormatMessage(const Message& msg);
// Decodes and formats; a message the codec cannot decode, or one cut short (as an OFPT_ERROR
// carries it), is printed as "(***truncated to N bytes from M***)" and a hex dump.
std::string FormatRawMessage(ByteSpan data);
// ovs-ofctl's hex dump: "00000000  01 02 ...-... |ascii|" lines.
std::string HexDump(ByteSpan data);

}  // namespace sluice::ofp::text
