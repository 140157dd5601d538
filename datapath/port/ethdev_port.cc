#include "datapath/port/ethdev_port.h"

#include <net/if.h>

#include <algorithm>
#include <cstdio>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "common/netlink_link.h"
#include "sluice/log.h"

namespace sluice::dp {
namespace {

auto Log() {
  static auto l = log::Get("netdev_dpdk");
  return l;
}

constexpr uint16_t kRxDesc = 1024;
constexpr uint16_t kTxDesc = 1024;

std::string ErrStr(int rc) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%s", rte_strerror(rc < 0 ? -rc : rc));
  return buf;
}

}  // namespace

EthdevPort::EthdevPort(std::string name, std::string kind, std::string devargs, uint16_t n_rxq,
                       bool symmetric_queues)
    : Port(std::move(name)),
      kind_(std::move(kind)),
      devargs_(std::move(devargs)),
      n_rxq_(std::clamp<uint16_t>(n_rxq, 1, kMaxQueues)),
      symmetric_queues_(symmetric_queues) {
  dev_name_ = devargs_.substr(0, devargs_.find(','));
}

EthdevPort::~EthdevPort() { Stop(); }

Result<void> EthdevPort::Start(const PortEnv& env) {
  uint16_t pid;
  if (rte_eth_dev_get_port_by_name(dev_name_.c_str(), &pid) != 0) {
    int rc = rte_dev_probe(devargs_.c_str());
    if (rc < 0 && rc != -EEXIST) {
      return MakeError(Errc::kIo, "could not probe device '" + devargs_ + "': " + ErrStr(rc));
    }
    if (rte_eth_dev_get_port_by_name(dev_name_.c_str(), &pid) != 0) {
      return MakeError(Errc::kNotFound,
                       "device '" + devargs_ + "' has no ethdev named '" + dev_name_ + "'");
    }
    probed_by_us_ = rc == 0;
  }
  port_id_ = pid;

  rte_eth_dev_info info{};
  int rc = rte_eth_dev_info_get(port_id_, &info);
  if (rc != 0) return MakeError(Errc::kIo, "rte_eth_dev_info_get: " + ErrStr(rc));
  n_rxq_ = std::min<uint16_t>(n_rxq_, std::max<uint16_t>(info.max_rx_queues, 1));
  n_txq_ = std::clamp<uint16_t>(env.n_txq_wanted, 1, std::max<uint16_t>(info.max_tx_queues, 1));
  n_txq_ = std::min<uint16_t>(n_txq_, kMaxQueues);
  if (symmetric_queues_) n_txq_ = n_rxq_;

  rte_eth_conf conf{};
  rc = rte_eth_dev_configure(port_id_, n_rxq_, n_txq_, &conf);
  if (rc != 0) return MakeError(Errc::kIo, "rte_eth_dev_configure: " + ErrStr(rc));
  uint16_t nb_rxd = kRxDesc, nb_txd = kTxDesc;
  rte_eth_dev_adjust_nb_rx_tx_desc(port_id_, &nb_rxd, &nb_txd);
  int socket = rte_eth_dev_socket_id(port_id_);
  if (socket < 0) socket = 0;
  for (uint16_t q = 0; q < n_rxq_; ++q) {
    rc = rte_eth_rx_queue_setup(port_id_, q, nb_rxd, socket, nullptr, env.pool);
    if (rc != 0) return MakeError(Errc::kIo, "rx queue setup: " + ErrStr(rc));
  }
  for (uint16_t q = 0; q < n_txq_; ++q) {
    rc = rte_eth_tx_queue_setup(port_id_, q, nb_txd, socket, nullptr);
    if (rc != 0) return MakeError(Errc::kIo, "tx queue setup: " + ErrStr(rc));
  }
  rc = rte_eth_dev_start(port_id_);
  if (rc != 0) return MakeError(Errc::kIo, "rte_eth_dev_start: " + ErrStr(rc));
  started_ = true;
  // A switch port must see every frame; not every driver supports it (e.g. net_null).
  rte_eth_promiscuous_enable(port_id_);
  Log()->info("{}: started {} ({}) ethdev {} with {} rxq, {} txq", name_, kind_, devargs_, port_id_,
              n_rxq_, n_txq_);
  return {};
}

void EthdevPort::Stop() {
  if (port_id_ == UINT16_MAX) return;
  if (started_) rte_eth_dev_stop(port_id_);
  started_ = false;
  if (probed_by_us_) {
    rte_eth_dev_info info{};
    rte_device* dev = nullptr;
    if (rte_eth_dev_info_get(port_id_, &info) == 0) dev = info.device;
    rte_eth_dev_close(port_id_);
    if (dev) rte_dev_remove(dev);
    probed_by_us_ = false;
  }
  port_id_ = UINT16_MAX;
}

uint16_t EthdevPort::RxBurst(uint16_t qid, rte_mbuf** pkts, uint16_t n) noexcept {
  uint16_t got = rte_eth_rx_burst(port_id_, qid, pkts, n);
  if (got) {
    uint64_t bytes = 0;
    for (uint16_t i = 0; i < got; ++i) bytes += rte_pktmbuf_pkt_len(pkts[i]);
    rxc_[qid].Add(got, bytes);
  }
  return got;
}

void EthdevPort::TxBurst(uint16_t qid, rte_mbuf** pkts, uint16_t n) noexcept {
  if (n == 0) return;
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < n; ++i) bytes += rte_pktmbuf_pkt_len(pkts[i]);
  // The last queue serves every sender beyond the per-PMD queues (non-PMD threads, or PMDs
  // when the device has too few queues), so it is the only one behind a lock.
  uint16_t q = static_cast<uint16_t>(std::min<uint32_t>(qid, n_txq_ - 1u));
  bool shared = q == n_txq_ - 1;
  uint16_t sent;
  if (shared) rte_spinlock_lock(&shared_txq_lock_);
  sent = rte_eth_tx_burst(port_id_, q, pkts, n);
  if (shared) rte_spinlock_unlock(&shared_txq_lock_);
  if (sent < n) {
    for (uint16_t i = sent; i < n; ++i) {
      bytes -= rte_pktmbuf_pkt_len(pkts[i]);
      rte_pktmbuf_free(pkts[i]);
    }
    txc_[q].Drop(n - sent);
  }
  txc_[q].Add(sent, bytes);
}

PortStats EthdevPort::Stats() const {
  PortStats s = Port::Stats();
  if (port_id_ != UINT16_MAX) {
    rte_eth_stats es{};
    if (rte_eth_stats_get(port_id_, &es) == 0) {
      s.rx_dropped += es.imissed + es.rx_nombuf;
      s.rx_errors += es.ierrors;
      s.tx_errors += es.oerrors;
    }
  }
  return s;
}

std::string EthdevPort::Describe() const {
  return "devargs=" + devargs_ + ", ethdev=" + std::to_string(port_id_) +
         ", n_rxq=" + std::to_string(n_rxq_) + ", n_txq=" + std::to_string(n_txq_);
}

bool EthdevPort::LinkUp() const {
  if (port_id_ == UINT16_MAX) return false;
  rte_eth_link link{};
  if (rte_eth_link_get_nowait(port_id_, &link) != 0) return false;
  return link.link_status == RTE_ETH_LINK_UP;
}

}  // namespace sluice::dp
