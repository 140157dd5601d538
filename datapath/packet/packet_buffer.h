// A packet in ordinary memory, with headroom for pushed headers as an rte_mbuf has: what a
// datapath without DPDK (the in-memory test datapath) keeps packets in, and runs
// ExecuteActions() on (PacketOps<PacketBuffer*> below). Control-path and test use: it allocates.
#pragma once

#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <vector>

#include "datapath/actions/odp_execute.h"
#include "sluice/odp_port.h"

namespace sluice::dp {

class PacketBuffer {
 public:
  static constexpr uint32_t kHeadroom = 128;  // as RTE_PKTMBUF_HEADROOM

  explicit PacketBuffer(std::span<const uint8_t> bytes, OdpPort in_port = 0)
      : buf_(kHeadroom + bytes.size()),
        off_(kHeadroom),
        len_(static_cast<uint32_t>(bytes.size())),
        in_port_(in_port) {
    if (!bytes.empty()) std::memcpy(buf_.data() + off_, bytes.data(), bytes.size());
  }

  uint8_t* data() noexcept { return buf_.data() + off_; }
  const uint8_t* data() const noexcept { return buf_.data() + off_; }
  uint32_t size() const noexcept { return len_; }
  std::span<const uint8_t> bytes() const noexcept { return {data(), len_}; }
  std::vector<uint8_t> ToVector() const { return {data(), data() + len_}; }
  OdpPort in_port() const noexcept { return in_port_; }
  void set_in_port(OdpPort p) noexcept { in_port_ = p; }

  // n more bytes at the front (uninitialised); nullptr when the headroom is used up.
  uint8_t* Prepend(uint32_t n) noexcept {
    if (n > off_) return nullptr;
    off_ -= n;
    len_ += n;
    return data();
  }
  // Drops n bytes at the front (at most all of them).
  void Adj(uint32_t n) noexcept {
    if (n > len_) n = len_;
    off_ += n;
    len_ -= n;
  }

 private:
  std::vector<uint8_t> buf_;
  uint32_t off_;
  uint32_t len_;
  OdpPort in_port_;
};

template <>
struct PacketOps<PacketBuffer*> {
  static uint8_t* Data(PacketBuffer* m) noexcept { return m->data(); }
  static uint32_t DataLen(PacketBuffer* m) noexcept { return m->size(); }
  static uint8_t* Prepend(PacketBuffer* m, uint16_t n) noexcept { return m->Prepend(n); }
  static void Adj(PacketBuffer* m, uint16_t n) noexcept { m->Adj(n); }
  static void Free(PacketBuffer* m) noexcept { delete m; }
  template <class Sink>
  static PacketBuffer* Copy(PacketBuffer* m, Sink&) noexcept {
    return new (std::nothrow) PacketBuffer(*m);
  }
};

}  // namespace sluice::dp
