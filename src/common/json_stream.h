// Splits a byte stream into complete JSON texts (objects or arrays), as Open vSwitch's JSON-RPC
// streams send them back to back without a delimiter, and checks the JSON grammar (RFC 8259:
// structure, strings with their escapes and UTF-8, numbers, literals, nesting depth) byte by
// byte as it arrives: malformed input is reported at the byte that makes it malformed, not when
// (or if) the text would have closed, so a peer cannot hold a connection with a broken message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

class JsonStreamSplitter {
 public:
  static constexpr size_t kMaxDepth = 1024;

  explicit JsonStreamSplitter(size_t max_message = 64 << 20) : max_(max_message) {}

  // Appends bytes; returns false if the current message exceeds the bound (the caller should
  // report an error and drop the connection: the stream cannot be resynchronised).
  bool Feed(std::string_view data);

  // Pops the next complete JSON text, if any. Whitespace between texts is skipped. Once the
  // input is malformed, returns nothing more and error() says why.
  std::optional<std::string> Next();

  // The input is not JSON: why ("byte 17: unexpected '}' (expected a value)"); empty if fine.
  const std::string& error() const { return error_; }
  // Kept for callers of the older interface: the input is malformed.
  bool garbage() const { return !error_.empty(); }
  // Bytes of the message in progress (received, not yet a complete text).
  size_t pending() const { return start_ == std::string::npos ? 0 : buf_.size() - start_; }

 private:
  enum class Expect : uint8_t { kValue, kValueOrClose, kKey, kKeyOrClose, kColon, kCommaOrClose };
  enum class Lex : uint8_t {
    kNone,
    kString,
    kEscape,
    kUnicode,                // \uXXXX, hex_left_ digits to go
    kLowSurrogateBackslash,  // after a high surrogate: '\' must follow
    kLowSurrogateU,          // then 'u'
    kUtf8,                   // inside a multi-byte UTF-8 sequence
    kNumMinus,
    kNumZero,
    kNumInt,
    kNumDot,
    kNumFrac,
    kNumE,
    kNumESign,
    kNumExp,
    kLiteral,
  };

  bool Step(char c);  // false: malformed (error_ set)
  bool Value(char c);
  bool EndValue();
  bool Fail(char c, const char* expected);

  std::string buf_;
  size_t scan_ = 0;  // how far buf_ has been scanned
  size_t start_ = std::string::npos;
  uint64_t offset_ = 0;      // stream offset of buf_[0], for error messages
  std::vector<bool> stack_;  // open containers: true = object
  Expect expect_ = Expect::kValue;
  Lex lex_ = Lex::kNone;
  bool in_key_ = false;         // the string being lexed is an object key
  bool low_surrogate_ = false;  // the \u escape being read must be a low surrogate
  uint8_t hex_left_ = 0;
  uint16_t code_unit_ = 0;
  uint8_t utf8_left_ = 0;
  uint8_t utf8_lo_ = 0x80, utf8_hi_ = 0xBF;
  const char* literal_ = nullptr;  // "true", "false" or "null"
  uint8_t literal_pos_ = 0;
  bool complete_ = false;  // the text just closed
  std::string error_;
  size_t max_;
};

}  // namespace sluice
