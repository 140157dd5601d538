// Text form of datapath flows and actions, in the syntax of Open vSwitch's `ovs-dpctl`
// (`dpctl/add-flow` input, `dpctl/dump-flows` output), so that operators and scripts written
// for OVS read and write Sluice's datapath the same way. Control path only.
//
// Flow syntax: comma-separated attributes, each optional. A field named without "/mask" is an
// exact match, a field not named is wildcarded, and "/mask" is accepted on every field.
//
//   tunnel(tun_id=,src=,dst=) skb_mark(N) recirc_id(N) dp_hash(N) in_port(N)
//   packet_type(ns=0,id=0) eth(src=,dst=) eth_type(0x0800) vlan(vid=,pcp=,cfi=) encap(...)
//   ipv4(src=,dst=,proto=,tos=,ttl=,frag=) ipv6(src=,dst=,label=,proto=,tclass=,hlimit=,frag=)
//   tcp(src=,dst=) udp(...) sctp(...) icmp(type=,code=) icmpv6(...) tcp_flags(...)
//   arp(sip=,tip=,op=,sha=,tha=) nd(target=,sll=,tll=) mpls(label=,tc=,ttl=,bos=)
//
// VLANs nest as OVS prints 802.1Q: "eth_type(0x8100),vlan(vid=10),encap(eth_type(0x0800),
// ipv4(...))". The eth_type before a vlan() is that tag's TPID (0x8100 or 0x88a8; 0x0000 names
// a "no tag here" match), vlans[0] is the outermost tag, and an encap() may hold one more level.
// vlan() sets the CFI bit exactly unless "cfi=" says otherwise: "cfi=0" matches an absent tag,
// "cfi=0/0" leaves the bit wildcarded. As in Open vSwitch, a VLAN level the text leaves out
// (no vlan() at the top, or none inside the encap()) matches "no tag": TPID and TCI exactly
// zero, the mask of NORMAL's megaflows for untagged frames. Only a text that names nothing at
// all is all-wildcard. packet_type(ns=0,id=0) (Ethernet, the only kind Sluice handles) is
// accepted and printed as OVS prints it for Ethernet megaflows.
//
// Field mapping onto FlowKey: ICMP type/code -> tp_src/tp_dst = htons(v) (an exact type masks
// all 16 bits, a partial mask M masks htons(M)); ARP op -> nw_proto (so at most 255); ARP
// sip/tip -> nw_src/nw_dst; ND sll/tll -> arp_sha/arp_tha; skb_mark -> pkt_mark. frag=no|first|
// later set nw_frag under mask kFragAny|kFragLater; any other frag match prints as
// "frag=0xV/0xM". tcp_flags takes "syn|ack" (exact), "+syn-ack" (masked) or "0xV[/0xM]".
// FlowKey::metadata has no OVS syntax and is neither parsed nor printed.
//
// FormatOdpFlow prints what Open vSwitch 3.1's dpctl/dump-flows prints for the same match:
// its attribute order, fields left out when wildcarded, masks as "/mask", no vlan() for an
// untagged match, mpls() with all four subfields. Only the L3/L4 attributes that fit the flow's
// eth_type and IP protocol are printed; when those are not exact the attribute is inferred from
// which fields are masked. Tersely, a flow that does not care about VLAN tags (a megaflow OVS
// cannot have) also prints without vlan(), so it reads back as an untagged match; every other
// match reads back as itself. Verbose text (dump-flows -m) prints every field of every
// attribute with its mask ("src=0.0.0.0/0.0.0.0") and spells out any VLAN match other than
// "no tag"; it always reads back as the same key and mask.
//
// Action syntax: "N" or "output:N", "drop", "userspace(pid=N[,userdata(hex)])",
// "push_vlan([tpid=0x88a8,]vid=N,pcp=N[,cfi=0])", "pop_vlan", "recirc(N)",
// "set(eth|ipv4|ipv6|tcp|udp|sctp|mpls|arp|icmp|icmpv6|nd(field=value[/mask],...))" (always a
// masked set; arp(sip=,tip=,op=,sha=,tha=) takes the full 16-bit opcode, icmp/icmpv6(type=,
// code=), nd(target=,sll=,tll=)), "push_mpls(label=N,tc=N,ttl=N,bos=N,eth_type=0x8847)",
// "pop_mpls(eth_type=0x800)".
// "drop" on its own is the empty list, and an empty list prints as "drop".
#pragma once

#include <string>
#include <string_view>

#include "datapath/actions/action_list.h"
#include "datapath/flow/flow_key.h"
#include "sluice/result.h"

namespace sluice::dp {

// Parses a flow match. On success *key holds the values already ANDed with *mask. Leading
// "ufid:..." tokens are skipped. On error *key and *mask are unspecified.
Result<void> ParseOdpFlow(std::string_view text, FlowKey* key, FlowMask* mask);
// The same for a dump-flows filter: a VLAN level the text leaves out stays wildcarded, so that
// "ipv4(dst=10.0.0.1)" selects tagged flows too.
Result<void> ParseOdpFlowFilter(std::string_view text, FlowKey* key, FlowMask* mask);

enum class OdpVerbosity : uint8_t { kTerse, kVerbose };

// Formats a flow match as dpctl/dump-flows does (kVerbose: as dump-flows -m); an all-wildcard
// match is the empty string.
std::string FormatOdpFlow(const FlowKey& key, const FlowMask& mask,
                          OdpVerbosity verbosity = OdpVerbosity::kTerse);

// The mask that shows a parsed packet's whole key and nothing it does not have (absent VLAN
// tags, the MPLS entry of a non-MPLS packet): FormatOdpFlow(key, PacketKeyMask(key)) is the
// packet's exact flow, as ofproto/trace prints it.
FlowMask PacketKeyMask(const FlowKey& key);

Result<ActionBuilder> ParseOdpActions(std::string_view text);

// Never fails: malformed encodings print as "<malformed ...>" so that a dump still shows them.
std::string FormatOdpActions(ActionView actions);

}  // namespace sluice::dp
