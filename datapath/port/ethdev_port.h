// A port backed by a DPDK ethdev: kind "dpdk" (any devargs: PCI address, net_ring, net_null,
// net_pcap, net_tap, net_vhost ...), kind "system" (a kernel interface through a hot-plugged
// net_af_packet vdev) and kind "internal" (a kernel tap created through net_tap, configured with
// libnl). Devices are hot-plugged with rte_dev_probe and removed with rte_dev_remove.
#pragma once

#include <string>

#include <rte_spinlock.h>

#include "datapath/port/port.h"

namespace sluice::dp {

class EthdevPort : public Port {
 public:
  // `symmetric_queues`: the driver needs as many tx as rx queues (net_tap), so the tx queues
  // are capped at n_rxq and the last one is shared.
  EthdevPort(std::string name, std::string kind, std::string devargs, uint16_t n_rxq,
             bool symmetric_queues = false);
  ~EthdevPort() override;

  std::string_view Type() const override { return kind_; }
  bool SlowPoll() const override { return kind_ == "internal"; }
  Result<void> Start(const PortEnv& env) override;
  void Stop() override;
  uint16_t RxBurst(uint16_t qid, rte_mbuf** pkts, uint16_t n) noexcept override;
  void TxBurst(uint16_t qid, rte_mbuf** pkts, uint16_t n) noexcept override;
  uint16_t n_rxq() const override { return n_rxq_; }
  uint16_t n_txq() const override { return n_txq_; }
  PortStats Stats() const override;
  std::string Describe() const override;
  bool LinkUp() const override;

  uint16_t ethdev_id() const { return port_id_; }
  const std::string& devargs() const { return devargs_; }

 private:
  std::string kind_;
  std::string devargs_;
  std::string dev_name_;  // ethdev name: the devargs up to the first ','
  uint16_t port_id_ = UINT16_MAX;
  uint16_t n_rxq_;
  uint16_t n_txq_ = 1;
  bool symmetric_queues_;
  bool probed_by_us_ = false;
  bool started_ = false;
  rte_spinlock_t shared_txq_lock_ = RTE_SPINLOCK_INITIALIZER;
};

}  // namespace sluice::dp
