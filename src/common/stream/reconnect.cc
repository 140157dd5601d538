#include "common/stream/reconnect.h"

#include <algorithm>
#include <chrono>

namespace sluice {

Reconnect::Reconnect(asio::io_context& io, std::function<void()> dial)
    : timer_(io), dial_(std::move(dial)) {}

Reconnect::~Reconnect() { timer_.cancel(); }

int64_t Reconnect::NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Reconnect::SetBackoff(int min_ms, int max_ms) {
  min_backoff_ms_ = std::max(1, min_ms);
  max_backoff_ms_ = std::max(min_backoff_ms_, max_ms);
  backoff_ms_ = std::min(backoff_ms_, max_backoff_ms_);
}

void Reconnect::Start() {
  timer_.cancel();
  state_ = State::kConnecting;
  dial_();
}

void Reconnect::Stop() {
  timer_.cancel();
  state_ = State::kVoid;
}

void Reconnect::Connected() {
  timer_.cancel();
  state_ = State::kActive;
  last_connected_ms_ = NowMs();
}

void Reconnect::SetIdle(bool idle) {
  if (!connected()) return;
  state_ = idle ? State::kIdle : State::kActive;
}

void Reconnect::Failed(const std::string& why) {
  if (state_ == State::kVoid) return;
  int64_t now = NowMs();
  if (connected()) {
    last_disconnected_ms_ = now;
    // A connection that lasted longer than the back-off was healthy: start over.
    if (now - last_connected_ms_ >= backoff_ms_) backoff_ms_ = 0;
  }
  last_error_ = why;
  state_ = State::kBackoff;
  backoff_ms_ = backoff_ms_ == 0 ? min_backoff_ms_ : std::min(backoff_ms_ * 2, max_backoff_ms_);
  timer_.expires_after(std::chrono::milliseconds(backoff_ms_));
  timer_.async_wait([this](std::error_code ec) {
    if (ec || state_ != State::kBackoff) return;
    state_ = State::kConnecting;
    dial_();
  });
}

const char* Reconnect::StateName() const {
  switch (state_) {
    case State::kVoid:
      return "VOID";
    case State::kBackoff:
      return "BACKOFF";
    case State::kConnecting:
      return "CONNECTING";
    case State::kActive:
      return "ACTIVE";
    case State::kIdle:
      return "IDLE";
  }
  return "VOID";
}

std::map<std::string, std::string> Reconnect::Status() const {
  std::map<std::string, std::string> out;
  int64_t now = NowMs();
  out["state"] = StateName();
  if (!last_error_.empty()) out["last_error"] = last_error_;
  if (last_connected_ms_ >= 0)
    out["sec_since_connect"] = std::to_string((now - last_connected_ms_) / 1000);
  if (last_disconnected_ms_ >= 0) {
    out["sec_since_disconnect"] = std::to_string((now - last_disconnected_ms_) / 1000);
  }
  return out;
}

}  // namespace sluice
