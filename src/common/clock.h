// A process-wide monotonic clock in milliseconds that tests can stop and warp
// (unixctl time/stop, time/warp MS), as Open vSwitch's timeval does. Everything that ages
// (megaflow idle expiry, "used" times, later MAC aging and flow timeouts) reads this clock.
// Lock-free: safe to read from PMD threads.
#pragma once

#include <cstdint>

namespace sluice::clock {

int64_t NowMs() noexcept;        // monotonic ms, adjusted by stop/warp
void Stop() noexcept;            // freeze time at its current value
void Warp(int64_t ms) noexcept;  // advance time by ms (works stopped or running)
bool Stopped() noexcept;

}  // namespace sluice::clock
