// Datapath actions, encoded as a compact immutable byte string of 8-byte-aligned TLVs.
// Built on the control path (ActionBuilder), walked on the fast path without allocation.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "datapath/flow/flow_key.h"

namespace sluice::dp {

enum class ActionType : uint16_t {
  kOutput = 1,  // ActOutput
  kUserspace,   // ActUserspace: hand the packet to the upcall handler
  kPushVlan,    // ActPushVlan
  kPopVlan,     // no payload
  kSetMasked,   // ActSetMasked: header fields, value and mask
  kRecirc,      // ActRecirc: re-run lookup with recirc_id (hook for tunnels)
  kDrop,        // explicit drop (no payload); ends processing
  kMeter,       // ActMeter: meter the packet (datapath/actions/meter.h); may drop or remark it
  kPushMpls,    // ActPushMpls: insert a label stack entry after the VLAN tags
  kPopMpls,     // ActPopMpls: remove the outermost label stack entry
};

struct ActionHeader {
  uint16_t type;  // ActionType
  uint16_t len;   // total length including this header, multiple of 8
  uint32_t pad;
};

struct ActOutput {
  uint32_t port;  // datapath port number
  uint32_t pad;
};

struct ActUserspace {
  uint32_t pid;  // opaque to the datapath; OVS syntax userspace(pid=N)
  uint32_t pad;
  uint64_t cookie;
};

struct ActPushVlan {
  uint16_t tpid;  // network order (0x8100 or 0x88a8)
  uint16_t tci;   // network order; the CFI bit is not written to the wire
  uint32_t pad;
};

struct ActPushMpls {
  uint32_t lse;        // network order, written as is (label, tc, bos, ttl computed above)
  uint16_t ethertype;  // network order: 0x8847 or 0x8848
  uint16_t pad;
};

struct ActPopMpls {
  uint16_t ethertype;  // network order: the ethertype of what the popped entry carried
  uint16_t pad0;
  uint32_t pad1;
};

struct ActRecirc {
  uint32_t recirc_id;
  uint32_t pad;
};

struct ActMeter {
  uint32_t meter_id;  // datapath meter id
  uint32_t pad;
};

// Which header a masked set rewrites. Values and masks use the OdpKey* structs below.
enum class SetHeader : uint16_t {
  kEthernet = 1,
  kIpv4,
  kIpv6,
  kTcp,
  kUdp,
  kSctp,
  kMpls,      // OdpKeyMpls: the outermost label stack entry
  kArp = 16,  // OdpKeyArp
  kIcmp,      // OdpKeyIcmp, ICMP over IPv4
  kIcmpv6,    // OdpKeyIcmp, ICMPv6
  kNd,        // OdpKeyNd: IPv6 neighbour solicitation/advertisement
};

struct OdpKeyEthernet {
  MacAddr src;
  MacAddr dst;
};
struct OdpKeyIpv4 {
  uint32_t src;  // network order
  uint32_t dst;  // network order
  uint8_t proto;
  uint8_t tos;
  uint8_t ttl;
  uint8_t frag;  // not settable; present for key formatting symmetry
};
struct OdpKeyIpv6 {
  In6Addr src;
  In6Addr dst;
  uint32_t label;  // network order, low 20 bits
  uint8_t proto;
  uint8_t tclass;
  uint8_t hlimit;
  uint8_t frag;
};
struct OdpKeyMpls {
  uint32_t lse;  // network order; the mask selects label/tc/bos/ttl bits
};
struct OdpKeyPorts {  // tcp, udp, sctp
  uint16_t src;       // network order
  uint16_t dst;       // network order
};

// Ethernet/IPv4 ARP. The opcode is the full 16 bits (the flow key keeps only the low 8).
struct OdpKeyArp {
  uint32_t sip;  // network order
  uint32_t tip;  // network order
  uint16_t op;   // network order
  MacAddr sha;
  MacAddr tha;
};
struct OdpKeyIcmp {  // icmp, icmpv6
  uint8_t type;
  uint8_t code;
};
struct OdpKeyNd {
  In6Addr target;
  MacAddr sll;  // source link-layer address option
  MacAddr tll;  // target link-layer address option
};

struct ActSetMasked {
  uint16_t header;  // SetHeader
  uint16_t pad0;
  uint32_t pad1;
  union {
    OdpKeyEthernet eth;
    OdpKeyIpv4 ipv4;
    OdpKeyIpv6 ipv6;
    OdpKeyPorts ports;
    OdpKeyArp arp;
    OdpKeyIcmp icmp;
    OdpKeyNd nd;
    OdpKeyMpls mpls;
    uint8_t raw[48];
  } value, mask;
};

// A read-only view over encoded actions; iteration yields (header, payload).
class ActionView {
 public:
  ActionView() = default;
  ActionView(const uint8_t* data, size_t len) : data_(data), len_(len) {}

  class Iterator {
   public:
    Iterator(const uint8_t* p, const uint8_t* end) : p_(p), end_(end) {}
    const ActionHeader& operator*() const { return *reinterpret_cast<const ActionHeader*>(p_); }
    const ActionHeader* operator->() const { return reinterpret_cast<const ActionHeader*>(p_); }
    Iterator& operator++() {
      p_ += reinterpret_cast<const ActionHeader*>(p_)->len;
      if (p_ > end_) p_ = end_;
      return *this;
    }
    bool operator!=(const Iterator& o) const { return p_ != o.p_; }
    template <class T>
    const T& payload() const {
      return *reinterpret_cast<const T*>(p_ + sizeof(ActionHeader));
    }

   private:
    const uint8_t* p_;
    const uint8_t* end_;
  };

  Iterator begin() const { return {data_, data_ + len_}; }
  Iterator end() const { return {data_ + len_, data_ + len_}; }
  bool empty() const { return len_ == 0; }
  size_t size() const { return len_; }
  const uint8_t* data() const { return data_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t len_ = 0;
};

// Control-path builder; the result is an owned byte vector (8-byte aligned storage).
class ActionBuilder {
 public:
  void Output(uint32_t port) { Put(ActionType::kOutput, ActOutput{port, 0}); }
  void Userspace(uint32_t pid, uint64_t cookie = 0) {
    Put(ActionType::kUserspace, ActUserspace{pid, 0, cookie});
  }
  void PushVlan(uint16_t tpid_be, uint16_t tci_be) {
    Put(ActionType::kPushVlan, ActPushVlan{tpid_be, tci_be, 0});
  }
  void PopVlan() { PutEmpty(ActionType::kPopVlan); }
  void Recirc(uint32_t id) { Put(ActionType::kRecirc, ActRecirc{id, 0}); }
  void PushMpls(uint32_t lse_be, uint16_t ethertype_be) {
    Put(ActionType::kPushMpls, ActPushMpls{lse_be, ethertype_be, 0});
  }
  void PopMpls(uint16_t ethertype_be) { Put(ActionType::kPopMpls, ActPopMpls{ethertype_be, 0, 0}); }
  void Drop() { PutEmpty(ActionType::kDrop); }
  void Meter(uint32_t id) { Put(ActionType::kMeter, ActMeter{id, 0}); }
  void SetMasked(const ActSetMasked& s) { Put(ActionType::kSetMasked, s); }

  // A copy of already-encoded actions.
  static ActionBuilder FromBytes(const uint8_t* data, size_t len) {
    ActionBuilder b;
    if (len) b.Append(data, len);
    return b;
  }

  const std::vector<uint64_t>& storage() const { return buf_; }
  size_t size() const { return len_; }
  ActionView view() const { return {reinterpret_cast<const uint8_t*>(buf_.data()), len_}; }

 private:
  template <class T>
  void Put(ActionType t, const T& payload) {
    static_assert(sizeof(T) % 8 == 0);
    ActionHeader h{static_cast<uint16_t>(t), static_cast<uint16_t>(sizeof(h) + sizeof(T)), 0};
    Append(&h, sizeof(h));
    Append(&payload, sizeof(T));
  }
  void PutEmpty(ActionType t) {
    ActionHeader h{static_cast<uint16_t>(t), sizeof(ActionHeader), 0};
    Append(&h, sizeof(h));
  }
  void Append(const void* p, size_t n) {
    buf_.resize((len_ + n + 7) / 8);
    std::memcpy(reinterpret_cast<uint8_t*>(buf_.data()) + len_, p, n);
    len_ += n;
  }
  std::vector<uint64_t> buf_;
  size_t len_ = 0;
};

}  // namespace sluice::dp
