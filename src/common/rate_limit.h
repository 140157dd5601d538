// Rate limiting for log messages that a peer can trigger at will (refused connections, dropped
// peers): a few go through at once, then one per interval, and the next message that goes
// through says how many were left out, so a flood of misbehaving peers cannot flood the log.
// Not thread-safe: one limiter per thread (SLUICE_WARN_RL keeps one per call site and thread).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace sluice {

class LogRateLimiter {
 public:
  explicit LogRateLimiter(int burst = 5,
                          std::chrono::milliseconds interval = std::chrono::milliseconds(1000))
      : burst_(burst), interval_(interval), tokens_(burst) {}

  // Whether a message may be logged now. When it may, Suffix() tells about those suppressed.
  bool Allow() {
    auto now = std::chrono::steady_clock::now();
    if (tokens_ >= burst_) {
      last_ = now;  // full: refilling starts with the first message taken
    } else if (int64_t add = (now - last_) / interval_; add > 0) {
      tokens_ = std::min<int64_t>(burst_, tokens_ + add);
      last_ += add * interval_;
    }
    if (tokens_ <= 0) {
      ++suppressed_;
      return false;
    }
    --tokens_;
    return true;
  }
  // " (N similar messages suppressed)" once after messages were left out, else "".
  std::string Suffix() {
    if (!suppressed_) return {};
    std::string s = " (" + std::to_string(suppressed_) + " similar messages suppressed)";
    suppressed_ = 0;
    return s;
  }

 private:
  int burst_;
  std::chrono::milliseconds interval_;
  int64_t tokens_;
  std::chrono::steady_clock::time_point last_{};
  uint64_t suppressed_ = 0;
};

// Logs a warning if `limiter` allows it, with the count of those it held back.
template <class... Args>
void WarnLimited(const std::shared_ptr<spdlog::logger>& log, LogRateLimiter& limiter,
                 fmt::format_string<Args...> format, Args&&... args) {
  if (!limiter.Allow()) return;
  log->warn("{}{}", fmt::format(format, std::forward<Args>(args)...), limiter.Suffix());
}

}  // namespace sluice

// A warning rate-limited at its call site (each site has its own limiter in every thread: the
// JSON-RPC code runs on switchd's control thread and on the database server's).
#define SLUICE_WARN_RL(logger, ...)                              \
  do {                                                           \
    static thread_local ::sluice::LogRateLimiter sluice_rl_(20); \
    ::sluice::WarnLimited(logger, sluice_rl_, __VA_ARGS__);      \
  } while (0)
