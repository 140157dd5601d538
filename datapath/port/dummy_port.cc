#include "datapath/port/dummy_port.h"

#include <atomic>
#include <cstring>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "common/clock.h"

namespace sluice::dp {
namespace {
std::atomic<unsigned> g_ring_seq{0};
constexpr unsigned kRingSize = 4096;
}  // namespace

DummyPort::DummyPort(std::string name, std::string pcap_path)
    : Port(std::move(name)), pcap_path_(std::move(pcap_path)) {}

DummyPort::~DummyPort() { Stop(); }

Result<void> DummyPort::Start(const PortEnv& env) {
  pool_ = env.pool;
  unsigned seq = g_ring_seq++;
  std::string rx = "dummy_rx" + std::to_string(seq), tx = "dummy_tx" + std::to_string(seq);
  rx_ring_ = rte_ring_create(rx.c_str(), kRingSize, SOCKET_ID_ANY, RING_F_SC_DEQ);
  tx_ring_ = rte_ring_create(tx.c_str(), kRingSize, SOCKET_ID_ANY, RING_F_SC_DEQ);
  if (!rx_ring_ || !tx_ring_) {
    Stop();
    return MakeError(Errc::kNoSpace, "dummy port " + name_ + ": cannot create rings");
  }
  if (!pcap_path_.empty()) {
    pcap_ = std::fopen(pcap_path_.c_str(), "wb");
    if (!pcap_) {
      Stop();
      return MakeError(Errc::kIo, "dummy port " + name_ + ": cannot open " + pcap_path_);
    }
    // pcap global header: magic, v2.4, tz 0, sigfigs 0, snaplen 65535, linktype Ethernet.
    const uint32_t hdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    std::fwrite(hdr, sizeof hdr, 1, pcap_);
    std::fflush(pcap_);
  }
  return {};
}

void DummyPort::Stop() {
  auto drain = [](rte_ring*& r) {
    if (!r) return;
    void* m;
    while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    rte_ring_free(r);
    r = nullptr;
  };
  drain(rx_ring_);
  drain(tx_ring_);
  if (pcap_) {
    std::fclose(pcap_);
    pcap_ = nullptr;
  }
}

uint16_t DummyPort::RxBurst(uint16_t qid, rte_mbuf** pkts, uint16_t n) noexcept {
  unsigned got = rte_ring_dequeue_burst(rx_ring_, reinterpret_cast<void**>(pkts), n, nullptr);
  if (got) {
    uint64_t bytes = 0;
    for (unsigned i = 0; i < got; ++i) bytes += rte_pktmbuf_pkt_len(pkts[i]);
    rxc_[qid % kMaxQueues].Add(got, bytes);
  }
  return static_cast<uint16_t>(got);
}

void DummyPort::TxBurst(uint16_t qid, rte_mbuf** pkts, uint16_t n) noexcept {
  if (n == 0) return;
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < n; ++i) bytes += rte_pktmbuf_pkt_len(pkts[i]);
  unsigned sent = rte_ring_enqueue_burst(tx_ring_, reinterpret_cast<void**>(pkts), n, nullptr);
  for (unsigned i = sent; i < n; ++i) {
    bytes -= rte_pktmbuf_pkt_len(pkts[i]);
    rte_pktmbuf_free(pkts[i]);
  }
  auto& c = txc_[qid % kMaxQueues];
  if (sent < n) c.Drop(n - sent);
  c.Add(sent, bytes);
}

Result<void> DummyPort::Inject(const uint8_t* data, size_t len) {
  if (!rx_ring_) return MakeError(Errc::kInvalid, "port " + name_ + " is not started");
  if (len < 14 || len > 9216) return MakeError(Errc::kInvalid, "packet length out of range");
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (!m) return MakeError(Errc::kNoSpace, "out of mbufs");
  char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(len));
  if (!p) {
    // A frame longer than one mbuf segment: build a chain.
    rte_pktmbuf_free(m);
    return MakeError(Errc::kInvalid, "packet longer than one mbuf");
  }
  std::memcpy(p, data, len);
  if (rte_ring_enqueue(rx_ring_, m) != 0) {
    rte_pktmbuf_free(m);
    return MakeError(Errc::kNoSpace, "receive queue of " + name_ + " is full");
  }
  return {};
}

void DummyPort::DrainLocked() {
  void* objs[64];
  unsigned n;
  while ((n = rte_ring_dequeue_burst(tx_ring_, objs, 64, nullptr)) > 0) {
    for (unsigned i = 0; i < n; ++i) {
      auto* m = static_cast<rte_mbuf*>(objs[i]);
      std::vector<uint8_t> bytes(rte_pktmbuf_pkt_len(m));
      const void* d = rte_pktmbuf_read(m, 0, bytes.size(), bytes.data());
      if (d != bytes.data()) std::memcpy(bytes.data(), d, bytes.size());
      rte_pktmbuf_free(m);
      if (pcap_) {
        int64_t ms = clock::NowMs();
        uint32_t rec[4] = {
            static_cast<uint32_t>(ms / 1000), static_cast<uint32_t>((ms % 1000) * 1000),
            static_cast<uint32_t>(bytes.size()), static_cast<uint32_t>(bytes.size())};
        std::fwrite(rec, sizeof rec, 1, pcap_);
        std::fwrite(bytes.data(), bytes.size(), 1, pcap_);
        std::fflush(pcap_);
      }
      recorded_.push_back(std::move(bytes));
      if (recorded_.size() > kMaxRecorded) recorded_.pop_front();
    }
  }
}

std::vector<std::vector<uint8_t>> DummyPort::TakeTx() {
  std::lock_guard lk(mu_);
  if (tx_ring_) DrainLocked();
  std::vector<std::vector<uint8_t>> out(recorded_.begin(), recorded_.end());
  recorded_.clear();
  return out;
}

std::string DummyPort::Describe() const {
  return pcap_path_.empty() ? std::string() : "pcap=" + pcap_path_;
}

}  // namespace sluice::dp
