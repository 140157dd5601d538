#include "common/clock.h"

#include <atomic>
#include <chrono>

namespace sluice::clock {
namespace {
std::atomic<int64_t> g_offset{0};
std::atomic<int64_t> g_stopped_at{-1};
}  // namespace

int64_t RealMs() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t FromRealMs(int64_t real_ms) noexcept {
  int64_t stopped = g_stopped_at.load(std::memory_order_acquire);
  int64_t base = stopped >= 0 ? stopped : real_ms;
  return base + g_offset.load(std::memory_order_acquire);
}

int64_t NowMs() noexcept { return FromRealMs(RealMs()); }

void Stop() noexcept {
  int64_t expected = -1;
  g_stopped_at.compare_exchange_strong(expected, RealMs());
}

void Warp(int64_t ms) noexcept { g_offset.fetch_add(ms); }

bool Stopped() noexcept { return g_stopped_at.load() >= 0; }

}  // namespace sluice::clock
