// The life of an active connection that is made again whenever it fails or ends, as Open
// vSwitch's reconnect state machine runs it for controllers, managers and database clients:
// CONNECTING -> ACTIVE (IDLE while an inactivity probe is unanswered) -> BACKOFF -> CONNECTING...
// The wait before the next attempt starts at min_backoff and doubles up to max_backoff; a
// connection that stayed up at least as long as the current back-off resets it. The state,
// last error and times since the last connect/disconnect are what Controller.status and
// Manager.status report.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <asio.hpp>

namespace sluice {

class Reconnect {
 public:
  enum class State { kVoid, kBackoff, kConnecting, kActive, kIdle };

  // `dial` starts one attempt; its outcome comes back through Connected() or Failed().
  Reconnect(asio::io_context& io, std::function<void()> dial);
  ~Reconnect();
  Reconnect(const Reconnect&) = delete;
  Reconnect& operator=(const Reconnect&) = delete;

  void SetBackoff(int min_ms, int max_ms);
  int max_backoff_ms() const { return max_backoff_ms_; }

  void Start();  // dials now
  void Stop();   // VOID: no further attempts
  void Connected();
  // An attempt failed or the connection ended: back off, then dial again.
  void Failed(const std::string& why);
  void SetIdle(bool idle);  // ACTIVE <-> IDLE (an inactivity probe is outstanding)

  State state() const { return state_; }
  const char* StateName() const;
  bool connected() const { return state_ == State::kActive || state_ == State::kIdle; }
  const std::string& last_error() const { return last_error_; }
  int backoff_ms() const { return backoff_ms_; }
  // state, last_error, sec_since_connect, sec_since_disconnect (as Open vSwitch reports them).
  std::map<std::string, std::string> Status() const;

 private:
  static int64_t NowMs();

  asio::steady_timer timer_;
  std::function<void()> dial_;
  State state_ = State::kVoid;
  int min_backoff_ms_ = 1000;
  int max_backoff_ms_ = 8000;
  int backoff_ms_ = 0;
  std::string last_error_;
  int64_t last_connected_ms_ = -1;
  int64_t last_disconnected_ms_ = -1;
};

}  // namespace sluice
