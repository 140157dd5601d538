#include "datapath/port/port.h"

#include <charconv>

#include "datapath/port/dummy_port.h"
#include "datapath/port/ethdev_port.h"

namespace sluice::dp {

PortStats Port::Stats() const {
  PortStats s;
  for (const auto& c : rxc_) {
    s.rx_packets += c.packets.load(std::memory_order_relaxed);
    s.rx_bytes += c.bytes.load(std::memory_order_relaxed);
    s.rx_dropped += c.dropped.load(std::memory_order_relaxed);
  }
  for (const auto& c : txc_) {
    s.tx_packets += c.packets.load(std::memory_order_relaxed);
    s.tx_bytes += c.bytes.load(std::memory_order_relaxed);
    s.tx_dropped += c.dropped.load(std::memory_order_relaxed);
  }
  return s;
}

namespace {

bool ValidIfName(const std::string& n) {
  if (n.empty() || n.size() > 15) return false;
  for (char c : n) {
    if (c == '/' || c == ',' || c == '=' || c == ' ' || c == ':') return false;
  }
  return true;
}

uint16_t OptRxq(const PortSpec& spec) {
  auto it = spec.options.find("n_rxq");
  if (it == spec.options.end()) return 1;
  unsigned v = 1;
  std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  return static_cast<uint16_t>(v == 0 ? 1 : v);
}

}  // namespace

Result<PortPtr> CreatePort(const PortSpec& spec) {
  const std::string& t = spec.type;
  if (t == "dummy") {
    auto it = spec.options.find("pcap");
    return std::make_unique<DummyPort>(spec.name, it == spec.options.end() ? "" : it->second);
  }
  if (t == "dpdk") {
    auto it = spec.options.find("dpdk-devargs");
    if (it == spec.options.end() || it->second.empty()) {
      return MakeError(Errc::kInvalid, spec.name + ": type dpdk requires option dpdk-devargs");
    }
    return std::make_unique<EthdevPort>(spec.name, "dpdk", it->second, OptRxq(spec));
  }
  if (t == "system" || t.empty()) {
    if (!ValidIfName(spec.name)) {
      return MakeError(Errc::kInvalid, "'" + spec.name + "' is not a valid interface name");
    }
    // One rx/tx queue pair: with more, the kernel fans packets out over sockets by hash.
    std::string devargs = "net_af_packet_" + spec.name + ",iface=" + spec.name + ",qpairs=1";
    return std::make_unique<EthdevPort>(spec.name, "system", devargs, 1);
  }
  if (t == "internal") {
    if (!ValidIfName(spec.name)) {
      return MakeError(Errc::kInvalid, "'" + spec.name + "' is not a valid interface name");
    }
    std::string devargs = "net_tap_" + spec.name + ",iface=" + spec.name;
    return std::make_unique<EthdevPort>(spec.name, "internal", devargs, OptRxq(spec), true);
  }
  return MakeError(Errc::kUnsupported, spec.name + ": unsupported port type '" + t + "'");
}

}  // namespace sluice::dp
