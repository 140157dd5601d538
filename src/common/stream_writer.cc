#include "common/stream_writer.h"

namespace sluice {

StreamWriter::~StreamWriter() {
  stall_timer_.cancel();
  if (linger_timer_) linger_timer_->cancel();
}

void StreamWriter::Write(std::string data, std::shared_ptr<void> keepalive, int tag) {
  if (closing_ || data.empty()) return;
  if (out_.empty()) last_progress_ = std::chrono::steady_clock::now();
  backlog_ += data.size();
  ++tagged_[tag];
  out_.push_back(Buf{std::move(data), 0, tag});
  ArmStallTimer();
  if (!writing_) Next(std::move(keepalive));
}

void StreamWriter::Next(std::shared_ptr<void> keepalive) {
  if (out_.empty() || finished_) {
    writing_ = false;
    if (closing_) Finish();
    return;
  }
  writing_ = true;
  Buf& b = out_.front();
  stream_.AsyncWriteSome(b.data.data() + b.off, b.data.size() - b.off,
                         [this, keepalive](std::error_code ec, size_t n) {
                           if (finished_) return;
                           if (ec) {
                             writing_ = false;
                             if (closing_) return Finish();
                             on_error_(ec);
                             return;
                           }
                           last_progress_ = std::chrono::steady_clock::now();
                           Buf& front = out_.front();
                           front.off += n;
                           backlog_ -= n;
                           if (front.off == front.data.size()) {
                             --tagged_[front.tag];
                             out_.pop_front();
                           }
                           if (on_progress_ && !closing_) on_progress_();
                           Next(keepalive);
                         });
}

void StreamWriter::ArmStallTimer() {
  if (stall_timeout_.count() <= 0 || stall_armed_ || closing_) return;
  stall_armed_ = true;
  stall_timer_.expires_at(last_progress_ + stall_timeout_);
  stall_timer_.async_wait([this](std::error_code ec) {
    if (ec) return;  // cancelled (possibly after the writer is gone): touch nothing
    stall_armed_ = false;
    if (out_.empty() || closing_) return;
    if (std::chrono::steady_clock::now() - last_progress_ >= stall_timeout_) {
      on_error_(std::make_error_code(std::errc::timed_out));
      return;
    }
    ArmStallTimer();
  });
}

void StreamWriter::Close(std::shared_ptr<void> keepalive, std::chrono::milliseconds linger) {
  if (closing_) {
    if (linger.count() <= 0) Finish();  // stop lingering
    return;
  }
  closing_ = true;
  stall_timer_.cancel();
  if (!writing_ || linger.count() <= 0) return Finish();
  linger_timer_ = std::make_unique<asio::steady_timer>(stream_.executor());
  linger_timer_->expires_after(linger);
  linger_timer_->async_wait([this, keepalive](std::error_code ec) {
    if (!ec) Finish();
  });
}

void StreamWriter::Finish() {
  if (finished_) return;
  finished_ = true;
  if (linger_timer_) linger_timer_->cancel();
  out_.clear();
  backlog_ = 0;
  for (auto& t : tagged_) t = 0;
  stream_.Close();
}

}  // namespace sluice
