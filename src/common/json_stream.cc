#include "common/json_stream.h"

namespace sluice {

bool JsonStreamSplitter::Feed(std::string_view data) {
  buf_.append(data);
  size_t pending = start_ == std::string::npos ? buf_.size() - scan_ : buf_.size() - start_;
  return pending <= max_;
}

std::optional<std::string> JsonStreamSplitter::Next() {
  while (scan_ < buf_.size()) {
    char c = buf_[scan_];
    if (start_ == std::string::npos) {
      if (c == '{' || c == '[') {
        start_ = scan_;
        depth_ = 1;
      } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
        garbage_ = true;
      }
      ++scan_;
      continue;
    }
    ++scan_;
    if (in_string_) {
      if (escape_)
        escape_ = false;
      else if (c == '\\')
        escape_ = true;
      else if (c == '"')
        in_string_ = false;
      continue;
    }
    if (c == '"')
      in_string_ = true;
    else if (c == '{' || c == '[')
      ++depth_;
    else if (c == '}' || c == ']') {
      if (--depth_ == 0) {
        std::string msg = buf_.substr(start_, scan_ - start_);
        buf_.erase(0, scan_);
        scan_ = 0;
        start_ = std::string::npos;
        return msg;
      }
    }
  }
  if (start_ == std::string::npos) {
    buf_.clear();
    scan_ = 0;
  }
  return std::nullopt;
}

}  // namespace sluice
