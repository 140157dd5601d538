#include "common/json_stream.h"

#include <fmt/format.h>

namespace sluice {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Show(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return fmt::format("'{}'", c);
  return fmt::format("byte 0x{:02x}", u);
}

}  // namespace

bool JsonStreamSplitter::Feed(std::string_view data) {
  buf_.append(data);
  size_t pending = start_ == std::string::npos ? buf_.size() - scan_ : buf_.size() - start_;
  return pending <= max_;
}

bool JsonStreamSplitter::Fail(char c, const char* expected) {
  error_ = fmt::format("byte {}: unexpected {} ({})", offset_ + scan_, Show(c), expected);
  return false;
}

// A value (or, in an object, a key) has ended: what may follow depends on the container.
bool JsonStreamSplitter::EndValue() {
  lex_ = Lex::kNone;
  if (in_key_) {
    in_key_ = false;
    expect_ = Expect::kColon;
    return true;
  }
  if (stack_.empty()) {
    complete_ = true;
    return true;
  }
  expect_ = Expect::kCommaOrClose;
  return true;
}

// `c` starts a value.
bool JsonStreamSplitter::Value(char c) {
  switch (c) {
    case '{':
    case '[':
      if (stack_.size() >= kMaxDepth) {
        error_ = fmt::format("byte {}: nesting deeper than {} levels", offset_ + scan_, kMaxDepth);
        return false;
      }
      stack_.push_back(c == '{');
      expect_ = c == '{' ? Expect::kKeyOrClose : Expect::kValueOrClose;
      return true;
    case '"':
      lex_ = Lex::kString;
      return true;
    case '-':
      lex_ = Lex::kNumMinus;
      return true;
    case '0':
      lex_ = Lex::kNumZero;
      return true;
    case 't':
      literal_ = "true";
      break;
    case 'f':
      literal_ = "false";
      break;
    case 'n':
      literal_ = "null";
      break;
    default:
      if (c >= '1' && c <= '9') {
        lex_ = Lex::kNumInt;
        return true;
      }
      return Fail(c, "expected a value");
  }
  lex_ = Lex::kLiteral;
  literal_pos_ = 1;
  return true;
}

bool JsonStreamSplitter::Step(char c) {
  auto u = static_cast<unsigned char>(c);
  switch (lex_) {
    case Lex::kNone:
      break;
    case Lex::kString:
      if (c == '"') return EndValue();
      if (c == '\\') {
        lex_ = Lex::kEscape;
        return true;
      }
      if (u < 0x20) return Fail(c, "control characters must be escaped in strings");
      if (u < 0x80) return true;
      // The first byte of a UTF-8 sequence (RFC 3629: no overlong forms, no surrogates).
      if (u >= 0xC2 && u <= 0xDF) {
        utf8_left_ = 1, utf8_lo_ = 0x80, utf8_hi_ = 0xBF;
      } else if (u == 0xE0) {
        utf8_left_ = 2, utf8_lo_ = 0xA0, utf8_hi_ = 0xBF;
      } else if (u == 0xED) {
        utf8_left_ = 2, utf8_lo_ = 0x80, utf8_hi_ = 0x9F;
      } else if (u >= 0xE1 && u <= 0xEF) {
        utf8_left_ = 2, utf8_lo_ = 0x80, utf8_hi_ = 0xBF;
      } else if (u == 0xF0) {
        utf8_left_ = 3, utf8_lo_ = 0x90, utf8_hi_ = 0xBF;
      } else if (u >= 0xF1 && u <= 0xF3) {
        utf8_left_ = 3, utf8_lo_ = 0x80, utf8_hi_ = 0xBF;
      } else if (u == 0xF4) {
        utf8_left_ = 3, utf8_lo_ = 0x80, utf8_hi_ = 0x8F;
      } else {
        return Fail(c, "invalid UTF-8 in a string");
      }
      lex_ = Lex::kUtf8;
      return true;
    case Lex::kUtf8:
      if (u < utf8_lo_ || u > utf8_hi_) return Fail(c, "invalid UTF-8 in a string");
      utf8_lo_ = 0x80, utf8_hi_ = 0xBF;
      if (--utf8_left_ == 0) lex_ = Lex::kString;
      return true;
    case Lex::kEscape:
      switch (c) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
          lex_ = Lex::kString;
          return true;
        case 'u':
          lex_ = Lex::kUnicode;
          hex_left_ = 4;
          code_unit_ = 0;
          return true;
        default:
          return Fail(c, "not a valid escape in a string");
      }
    case Lex::kUnicode: {
      int h = HexValue(c);
      if (h < 0) return Fail(c, "expected a hexadecimal digit of a \\u escape");
      code_unit_ = static_cast<uint16_t>(code_unit_ << 4 | h);
      if (--hex_left_) return true;
      bool high = code_unit_ >= 0xD800 && code_unit_ <= 0xDBFF;
      bool low = code_unit_ >= 0xDC00 && code_unit_ <= 0xDFFF;
      if (low_surrogate_ != low) {
        return Fail(c, low ? "a low surrogate without a high surrogate before it"
                           : "a high surrogate must be followed by a low surrogate");
      }
      low_surrogate_ = false;
      lex_ = high ? Lex::kLowSurrogateBackslash : Lex::kString;
      return true;
    }
    case Lex::kLowSurrogateBackslash:
      if (c != '\\') return Fail(c, "a high surrogate must be followed by a low surrogate");
      lex_ = Lex::kLowSurrogateU;
      return true;
    case Lex::kLowSurrogateU:
      if (c != 'u') return Fail(c, "a high surrogate must be followed by a low surrogate");
      lex_ = Lex::kUnicode;
      hex_left_ = 4;
      code_unit_ = 0;
      low_surrogate_ = true;
      return true;
    case Lex::kLiteral:
      if (c != literal_[literal_pos_]) return Fail(c, "expected true, false or null");
      if (literal_[++literal_pos_] == '\0') return EndValue();
      return true;
    case Lex::kNumMinus:
      if (c == '0') {
        lex_ = Lex::kNumZero;
        return true;
      }
      if (c >= '1' && c <= '9') {
        lex_ = Lex::kNumInt;
        return true;
      }
      return Fail(c, "expected a digit after '-'");
    case Lex::kNumInt:
      if (IsDigit(c)) return true;
      [[fallthrough]];
    case Lex::kNumZero:
      if (c == '.') {
        lex_ = Lex::kNumDot;
        return true;
      }
      if (c == 'e' || c == 'E') {
        lex_ = Lex::kNumE;
        return true;
      }
      if (!EndValue()) return false;
      break;  // `c` ends the number and is read as structure below
    case Lex::kNumDot:
      if (!IsDigit(c)) return Fail(c, "expected a digit after '.'");
      lex_ = Lex::kNumFrac;
      return true;
    case Lex::kNumFrac:
      if (IsDigit(c)) return true;
      if (c == 'e' || c == 'E') {
        lex_ = Lex::kNumE;
        return true;
      }
      if (!EndValue()) return false;
      break;
    case Lex::kNumE:
      if (c == '+' || c == '-') {
        lex_ = Lex::kNumESign;
        return true;
      }
      [[fallthrough]];
    case Lex::kNumESign:
      if (!IsDigit(c)) return Fail(c, "expected a digit in the exponent");
      lex_ = Lex::kNumExp;
      return true;
    case Lex::kNumExp:
      if (IsDigit(c)) return true;
      if (!EndValue()) return false;
      break;
  }
  // Structure: between tokens.
  if (IsSpace(c)) return true;
  if (complete_) return Fail(c, "expected the end of the text");
  switch (expect_) {
    case Expect::kValueOrClose:
      if (c == ']') break;
      [[fallthrough]];
    case Expect::kValue:
      return Value(c);
    case Expect::kKeyOrClose:
      if (c == '}') break;
      [[fallthrough]];
    case Expect::kKey:
      if (c != '"') return Fail(c, "expected a member name in quotes");
      lex_ = Lex::kString;
      in_key_ = true;
      return true;
    case Expect::kColon:
      if (c != ':') return Fail(c, "expected ':' after a member name");
      expect_ = Expect::kValue;
      return true;
    case Expect::kCommaOrClose:
      if (c == ',') {
        expect_ = stack_.back() ? Expect::kKey : Expect::kValue;
        return true;
      }
      if (c == (stack_.back() ? '}' : ']')) break;
      return Fail(c, stack_.back() ? "expected ',' or '}'" : "expected ',' or ']'");
  }
  // A container closes.
  stack_.pop_back();
  return EndValue();
}

std::optional<std::string> JsonStreamSplitter::Next() {
  if (!error_.empty()) return std::nullopt;
  while (scan_ < buf_.size()) {
    char c = buf_[scan_];
    if (start_ == std::string::npos) {
      if (IsSpace(c)) {
        ++scan_;
        continue;
      }
      if (c != '{' && c != '[') {
        Fail(c, "a JSON-RPC message must be an object");
        return std::nullopt;
      }
      start_ = scan_;
      expect_ = Expect::kValue;
      complete_ = false;
    }
    if (lex_ == Lex::kString) {
      // Most bytes are plain ASCII inside strings: skip them without the state machine.
      const char* p = buf_.data() + scan_;
      const char* end = buf_.data() + buf_.size();
      while (p < end) {
        auto u = static_cast<unsigned char>(*p);
        if (u == '"' || u == '\\' || u < 0x20 || u >= 0x80) break;
        ++p;
      }
      scan_ = static_cast<size_t>(p - buf_.data());
      if (p == end) break;
      c = *p;
    }
    if (!Step(c)) return std::nullopt;
    ++scan_;
    if (complete_) {
      std::string msg = buf_.substr(start_, scan_ - start_);
      offset_ += scan_;
      buf_.erase(0, scan_);
      scan_ = 0;
      start_ = std::string::npos;
      complete_ = false;
      return msg;
    }
  }
  if (start_ == std::string::npos) {
    offset_ += buf_.size();
    buf_.clear();
    scan_ = 0;
  }
  return std::nullopt;
}

}  // namespace sluice
