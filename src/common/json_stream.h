// Splits a byte stream into complete JSON texts (objects or arrays), as Open vSwitch's JSON-RPC
// streams send them back to back without a delimiter. Tracks nesting depth, strings and escapes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sluice {

class JsonStreamSplitter {
 public:
  explicit JsonStreamSplitter(size_t max_message = 64 << 20) : max_(max_message) {}

  // Appends bytes; returns false if the current message exceeds the bound (the caller should
  // report an error and drop the connection: the stream cannot be resynchronised).
  bool Feed(std::string_view data);

  // Pops the next complete JSON text, if any. Leading whitespace between texts is skipped.
  std::optional<std::string> Next();

  // Non-JSON garbage (a byte outside a text that is not '{', '[' or whitespace) was seen.
  bool garbage() const { return garbage_; }

 private:
  std::string buf_;
  size_t scan_ = 0;  // how far buf_ has been scanned
  size_t start_ = std::string::npos;
  int depth_ = 0;
  bool in_string_ = false;
  bool escape_ = false;
  bool garbage_ = false;
  size_t max_;
};

}  // namespace sluice
