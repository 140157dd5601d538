#include "common/stream_writer.h"

namespace sluice {

void StreamWriter::Write(std::string data, std::shared_ptr<void> keepalive) {
  if (cleared_) return;
  backlog_ += data.size();
  out_.push_back(std::move(data));
  if (!writing_) Next(std::move(keepalive));
}

void StreamWriter::Next(std::shared_ptr<void> keepalive) {
  if (out_.empty() || cleared_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  asio::async_write(sock_, asio::buffer(out_.front()),
                    [this, keepalive](std::error_code ec, size_t) {
                      if (cleared_) return;
                      if (ec) {
                        writing_ = false;
                        on_error_(ec);
                        return;
                      }
                      backlog_ -= out_.front().size();
                      out_.pop_front();
                      Next(keepalive);
                    });
}

void StreamWriter::FlushAndClear() {
  if (cleared_) return;
  cleared_ = true;
  std::error_code ec;
  if (!out_.empty()) {
    sock_.non_blocking(true, ec);
    for (const auto& b : out_) {
      if (asio::write(sock_, asio::buffer(b), ec) != b.size() || ec) break;
    }
  }
  out_.clear();
  backlog_ = 0;
}

}  // namespace sluice
