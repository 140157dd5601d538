// A process-wide monotonic clock in milliseconds that tests can stop and warp
// (unixctl time/stop, time/warp MS), as Open vSwitch's timeval does. Everything that ages
// (megaflow idle expiry, "used" times, later MAC aging and flow timeouts) reads this clock.
// Lock-free: safe to read from PMD threads.
#pragma once

#include <cstdint>

namespace sluice::clock {

int64_t NowMs() noexcept;  // monotonic ms, adjusted by stop/warp
// The unadjusted monotonic time (ms), and NowMs() for a given such time: for a PMD that keeps
// its own real time from the TSC and should not read the system clock per burst.
int64_t RealMs() noexcept;
int64_t FromRealMs(int64_t real_ms) noexcept;
void Stop() noexcept;            // freeze time at its current value
void Warp(int64_t ms) noexcept;  // advance time by ms (works stopped or running)
bool Stopped() noexcept;

}  // namespace sluice::clock
