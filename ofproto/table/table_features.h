// What Sluice's flow tables support, as the OFPMP_TABLE_FEATURES reply describes it.
#pragma once

#include <cstdint>

#include "ofproto/codec/multipart.h"
#include "ofproto/codec/oxm.h"

namespace sluice::ofp {

// Largest flow count reported per table: Sluice's tables have no limit of their own.
inline constexpr uint32_t kTableMaxEntries = 0xffffffff;

// The features of tables 0..n_tables-1: no names (as Open vSwitch reports unnamed tables),
// every metadata bit matchable and writable, every instruction (goto-table only where a later
// table exists, next tables are the later ones), every OpenFlow 1.3 action in write and apply
// sets, every settable field in set-field, all 40 OXM fields in match (masked where the field
// is maskable) and in wildcards. Table-miss flows support the same, so each _MISS property
// equals its regular one.
TableFeaturesReply SupportedTableFeatures(uint8_t n_tables);

// Fields a set-field action may rewrite: those the translation can commit as datapath set
// actions (Ethernet, VLAN, IP addresses/DSCP/ECN/flow label, TCP/UDP/SCTP ports, ICMP and
// ICMPv6 type/code, ARP, IPv6 ND target/sll/tll). Not eth_type, ip_proto, MPLS, PBB or
// tunnel_id.
bool SettableByDatapath(OxmField f);

}  // namespace sluice::ofp
