// Per-packet cost of the fast-path classification chain: ParsePacket -> HashFlowKey -> EMC ->
// dpcls on an EMC miss, with 1, 100 and 10k megaflows spread over (up to) 10 subtables, and the
// EMC on (default insertion probability) or off.
#include <arpa/inet.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "datapath/cache/dpcls.h"
#include "datapath/cache/emc.h"
#include "datapath/flow/flow_key.h"
#include "datapath/packet/parse.h"

namespace sluice::dp {
namespace {

constexpr int kSubtables = 10;
constexpr size_t kPackets = 4096;  // distinct packets (and EMC keys) cycled through
constexpr uint32_t kInPort = 1;
constexpr uint16_t kUdpDst = 53;

uint32_t Prefix(int len) { return len == 0 ? 0 : htonl(~uint32_t{0} << (32 - len)); }

// Subtable s matches nw_src 10.s.0.0/16 (so subtables never overlap) and nw_dst/32 (which tells
// the flows of a subtable apart), plus a subtable-specific mix of other fields.
FlowMask SubtableMask(int s) {
  FlowMask m;
  m.Clear();
  m.bits.eth_type = 0xffff;
  m.bits.nw_src = Prefix(16);
  m.bits.nw_dst = ~0u;
  if (s & 1) m.bits.in_port = ~0u;
  if (s & 2) m.bits.nw_proto = 0xff;
  if (s & 4) m.bits.tp_dst = 0xffff;
  if (s & 8) m.bits.nw_frag = 0xff;
  if (s >= 5) m.bits.nw_src = Prefix(16 + s);  // still within 10.s/16
  return m;
}

uint32_t DstIp(uint32_t j) { return htonl(0x14000000u + j); }  // 20.0.0.0 + j
uint32_t SrcIp(int s, uint32_t low) { return htonl(0x0a000000u | (uint32_t(s) << 16) | low); }

// A 60-byte Ethernet/IPv4/UDP frame.
std::vector<uint8_t> UdpFrame(uint32_t src_be, uint32_t dst_be, uint16_t sport, uint16_t dport) {
  std::vector<uint8_t> p(60, 0);
  const uint8_t dmac[6] = {0x02, 0, 0, 0, 0, 0x02};
  const uint8_t smac[6] = {0x02, 0, 0, 0, 0, 0x01};
  std::memcpy(&p[0], dmac, 6);
  std::memcpy(&p[6], smac, 6);
  p[12] = 0x08;
  p[13] = 0x00;
  uint8_t* ip = &p[14];
  ip[0] = 0x45;
  const uint16_t tot = htons(46);
  std::memcpy(ip + 2, &tot, 2);
  ip[8] = 64;
  ip[9] = 17;
  std::memcpy(ip + 12, &src_be, 4);
  std::memcpy(ip + 16, &dst_be, 4);
  uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) sum += (uint32_t{ip[i]} << 8) | ip[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  const uint16_t csum = htons(static_cast<uint16_t>(~sum));
  std::memcpy(ip + 10, &csum, 2);
  uint8_t* udp = ip + 20;
  const uint16_t sp = htons(sport), dp = htons(dport), ulen = htons(26);
  std::memcpy(udp, &sp, 2);
  std::memcpy(udp + 2, &dp, 2);
  std::memcpy(udp + 4, &ulen, 2);
  return p;
}

struct Setup {
  Dpcls cls{nullptr};  // single-threaded: no reader runs concurrently with the writer
  std::vector<std::vector<uint8_t>> packets;
};

// n_flows megaflows round-robin over the subtables; packets spread uniformly over the flows, each
// with its own source address/port so the EMC sees kPackets distinct keys.
std::unique_ptr<Setup> Build(uint32_t n_flows) {
  auto st = std::make_unique<Setup>();
  std::mt19937 rng(1);
  for (uint32_t i = 0; i < n_flows; ++i) {
    const int s = static_cast<int>(i % kSubtables);
    const uint32_t j = i / kSubtables;
    FlowKey k;
    k.Clear();
    k.in_port = kInPort;
    k.eth_type = htons(0x0800);
    k.nw_src = SrcIp(s, 0);
    k.nw_dst = DstIp(j);
    k.nw_proto = 17;
    k.tp_dst = htons(kUdpDst);
    auto f = std::make_unique<Megaflow>();
    f->mask = SubtableMask(s);
    ApplyMask(k, f->mask, &f->key);
    f->id = i;
    if (!st->cls.Insert(std::move(f))) std::abort();
  }
  for (size_t p = 0; p < kPackets; ++p) {
    const uint32_t i = static_cast<uint32_t>(rng() % n_flows);
    const int s = static_cast<int>(i % kSubtables);
    // Low bits of nw_src stay below every subtable's prefix boundary (/16../25 -> 7 free bits).
    st->packets.push_back(UdpFrame(SrcIp(s, rng() % 128), DstIp(i / kSubtables),
                                   static_cast<uint16_t>(1024 + rng() % 60000), kUdpDst));
  }
  return st;
}

inline void ExtractKey(const std::vector<uint8_t>& pkt, FlowKey* key) {
  // ParsePacket leaves the metadata words to the caller.
  std::memset(key, 0, offsetof(FlowKey, eth_dst));
  key->in_port = kInPort;
  ParsePacket(pkt.data(), static_cast<uint32_t>(pkt.size()), key);
}

// Steady state: every packet's key offered to the EMC once at probability 1, then back to the
// default probability for the measured loop.
void WarmEmc(Setup& setup, Emc& emc) {
  emc.SetInsertInvProb(1);
  FlowKey key;
  for (const auto& pkt : setup.packets) {
    ExtractKey(pkt, &key);
    const uint32_t hash = HashFlowKey(key);
    if (!emc.Lookup(key, hash)) {
      if (Megaflow* f = setup.cls.Lookup(key)) emc.Insert(key, hash, f);
    }
  }
  emc.SetInsertInvProb(kEmcDefaultInsertInvProb);
}

void BM_ParseLookup(benchmark::State& state) {
  const uint32_t n_flows = static_cast<uint32_t>(state.range(0));
  const bool use_emc = state.range(1) != 0;
  auto setup = Build(n_flows);
  auto emc = std::make_unique<Emc>();
  if (use_emc) WarmEmc(*setup, *emc);
  Dpcls& cls = setup->cls;
  size_t idx = 0;
  uint64_t emc_hits = 0, misses = 0;
  FlowKey key;
  for (auto _ : state) {
    const auto& pkt = setup->packets[idx];
    idx = (idx + 1) & (kPackets - 1);
    ExtractKey(pkt, &key);
    const uint32_t hash = HashFlowKey(key);
    Megaflow* f = use_emc ? emc->Lookup(key, hash) : nullptr;
    if (f) {
      ++emc_hits;
    } else {
      f = cls.Lookup(key);
      if (f && use_emc) emc->Insert(key, hash, f);
    }
    misses += f == nullptr;
    benchmark::DoNotOptimize(f);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["emc_hit_rate"] =
      static_cast<double>(emc_hits) / static_cast<double>(std::max<int64_t>(1, state.iterations()));
  state.counters["misses"] = static_cast<double>(misses);
}

// The PMD's shape: a burst of 32 packets, EMC per packet, one LookupBatch for the EMC misses.
void BM_ParseLookupBurst(benchmark::State& state) {
  const uint32_t n_flows = static_cast<uint32_t>(state.range(0));
  const bool use_emc = state.range(1) != 0;
  auto setup = Build(n_flows);
  auto emc = std::make_unique<Emc>();
  if (use_emc) WarmEmc(*setup, *emc);
  Dpcls& cls = setup->cls;
  size_t idx = 0;
  FlowKey keys[kDpclsMaxBatch];
  uint32_t hashes[kDpclsMaxBatch];
  Megaflow* flows[kDpclsMaxBatch];
  const FlowKey* miss_keys[kDpclsMaxBatch];
  uint32_t miss_idx[kDpclsMaxBatch];
  Megaflow* miss_out[kDpclsMaxBatch];
  for (auto _ : state) {
    size_t n_miss = 0;
    for (uint32_t i = 0; i < kDpclsMaxBatch; ++i) {
      ExtractKey(setup->packets[idx], &keys[i]);
      idx = (idx + 1) & (kPackets - 1);
      hashes[i] = HashFlowKey(keys[i]);
      if (use_emc) emc->Prefetch(hashes[i]);
    }
    for (uint32_t i = 0; i < kDpclsMaxBatch; ++i) {
      flows[i] = use_emc ? emc->Lookup(keys[i], hashes[i]) : nullptr;
      if (!flows[i]) {
        miss_keys[n_miss] = &keys[i];
        miss_idx[n_miss++] = i;
      }
    }
    if (n_miss) {
      cls.LookupBatch(miss_keys, n_miss, miss_out);
      for (size_t m = 0; m < n_miss; ++m) {
        const uint32_t i = miss_idx[m];
        flows[i] = miss_out[m];
        if (flows[i] && use_emc) emc->Insert(keys[i], hashes[i], flows[i]);
      }
    }
    benchmark::DoNotOptimize(flows);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kDpclsMaxBatch);
}

void Args(benchmark::internal::Benchmark* b) {
  for (int64_t flows : {1, 100, 10000}) {
    for (int64_t emc : {1, 0}) b->Args({flows, emc});
  }
  b->ArgNames({"megaflows", "emc"});
}

BENCHMARK(BM_ParseLookup)->Apply(Args);
BENCHMARK(BM_ParseLookupBurst)->Apply(Args);

// Bench scenario s3's shape (NORMAL, 1k MAC pairs): one subtable masking in_port, recirc_id,
// both MACs and the VLAN words; packets parsed L2 only (as the PMD does with such a subtable set)
// and looked up 32 at a time; each packet's megaflow is then read as the PMD does (cached lone
// output, statistics).
void BM_L2MacPairsBurst(benchmark::State& state) {
  const uint32_t n_flows = static_cast<uint32_t>(state.range(0));
  Dpcls cls(nullptr);
  FlowMask mask;
  mask.Clear();
  mask.bits.in_port = ~0u;
  mask.bits.recirc_id = ~0u;
  mask.bits.eth_dst = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  mask.bits.eth_src = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  for (auto& v : mask.bits.vlans) v = {0xffff, 0xffff};
  std::vector<std::vector<uint8_t>> packets;
  for (uint32_t i = 0; i < n_flows; ++i) {
    auto pkt = UdpFrame(SrcIp(0, 1), DstIp(i), 1000, kUdpDst);
    pkt[5] = static_cast<uint8_t>(i);
    pkt[4] = static_cast<uint8_t>(i >> 8);
    pkt[11] = static_cast<uint8_t>(i);
    pkt[10] = static_cast<uint8_t>(i >> 8);
    FlowKey k;
    std::memset(&k, 0, sizeof k);
    k.in_port = kInPort;
    ParsePacket(pkt.data(), static_cast<uint32_t>(pkt.size()), &k);
    auto f = std::make_unique<Megaflow>();
    f->mask = mask;
    f->key = k;
    ActionBuilder b;
    b.Output(2);
    f->SetActions(MegaflowActions::From(b));
    if (!cls.Insert(std::move(f))) std::abort();
    packets.push_back(std::move(pkt));
  }
  cls.Sync();
  size_t idx = 0;
  FlowKey keys[kDpclsMaxBatch];
  const FlowKey* kp[kDpclsMaxBatch];
  Megaflow* out[kDpclsMaxBatch];
  for (uint32_t i = 0; i < kDpclsMaxBatch; ++i) kp[i] = &keys[i];
  uint64_t sum = 0;
  for (auto _ : state) {
    for (uint32_t i = 0; i < kDpclsMaxBatch; ++i) {
      const auto& pkt = packets[idx];
      idx = idx + 1 == n_flows ? 0 : idx + 1;
      keys[i].tun_id = 0;
      keys[i].in_port = kInPort;
      keys[i].recirc_id = 0;
      ParsePacketL2(pkt.data(), static_cast<uint32_t>(pkt.size()), &keys[i]);
    }
    cls.LookupBatch(kp, kDpclsMaxBatch, out, /*sync=*/false);
    for (uint32_t i = 0; i < kDpclsMaxBatch; ++i) {
      sum += out[i]->lone_output.load(std::memory_order_relaxed);
      out[i]->AddStats(1, 60, 1, 0);
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kDpclsMaxBatch);
}
BENCHMARK(BM_L2MacPairsBurst)->Arg(1000)->Arg(100000);

}  // namespace
}  // namespace sluice::dp

BENCHMARK_MAIN();
