#include "ovsdb/json_doc.h"

#include <charconv>
#include <cstring>
#include <unordered_map>

namespace sluice::db {

class JsonParser {
 public:
  JsonParser(JsonDoc& doc, std::string_view text)
      : doc_(doc), p_(text.data()), end_(p_ + text.size()) {}

  bool Run() {
    struct Frame {
      uint32_t node;
      size_t tmp_start;
    };
    std::vector<Frame> stack;
    std::vector<uint32_t> tmp;
    for (;;) {
      // A value starts here.
      SkipWs();
      if (p_ == end_) return false;
      uint32_t v;
      char c = *p_;
      if (c == '{' || c == '[') {
        bool object = c == '{';
        ++p_;
        v = NewNode(object ? JsonNode::Type::kObject : JsonNode::Type::kArray);
        SkipWs();
        if (p_ != end_ && *p_ == (object ? '}' : ']')) {
          ++p_;
          Close(v, tmp, tmp.size());
        } else {
          stack.push_back({v, tmp.size()});
          if (object && !Key(tmp)) return false;
          continue;
        }
      } else if (!Scalar(v)) {
        return false;
      }
      // A value ended: close the containers it completes.
      for (;;) {
        if (stack.empty()) {
          SkipWs();
          return p_ == end_;
        }
        tmp.push_back(v);
        Frame& f = stack.back();
        bool object = doc_.nodes_[f.node].type_ == JsonNode::Type::kObject;
        SkipWs();
        if (p_ == end_) return false;
        if (*p_ == ',') {
          ++p_;
          if (object && !Key(tmp)) return false;
          break;  // the next element or member value
        }
        if (*p_ != (object ? '}' : ']')) return false;
        ++p_;
        v = f.node;
        Close(v, tmp, f.tmp_start);
        stack.pop_back();
      }
    }
  }

 private:
  uint32_t NewNode(JsonNode::Type type) {
    JsonNode& n = doc_.nodes_.emplace_back();
    n.doc_ = &doc_;
    n.type_ = type;
    n.int_ = 0;
    return static_cast<uint32_t>(doc_.nodes_.size() - 1);
  }

  void Close(uint32_t node, std::vector<uint32_t>& tmp, size_t start) {
    JsonNode& n = doc_.nodes_[node];
    n.first_ = static_cast<uint32_t>(doc_.kids_.size());
    if (n.type_ == JsonNode::Type::kObject) DropDuplicateKeys(tmp, start);
    size_t count = tmp.size() - start;
    n.len_ = static_cast<uint32_t>(n.type_ == JsonNode::Type::kObject ? count / 2 : count);
    doc_.kids_.insert(doc_.kids_.end(), tmp.begin() + static_cast<ptrdiff_t>(start), tmp.end());
    tmp.resize(start);
  }

  // As with nlohmann::json, the last of several members with one key is the one that counts.
  void DropDuplicateKeys(std::vector<uint32_t>& tmp, size_t start) {
    size_t n = (tmp.size() - start) / 2;
    if (n < 2) return;
    auto key = [&](size_t i) { return doc_.nodes_[tmp[start + 2 * i]].str(); };
    std::vector<bool> drop(n, false);
    bool any = false;
    if (n <= 16) {
      for (size_t i = 0; i < n; ++i) {
        for (size_t j = i + 1; j < n && !drop[i]; ++j) drop[i] = key(i) == key(j);
        any = any || drop[i];
      }
    } else {
      std::unordered_map<std::string_view, size_t> last;
      last.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        auto [it, inserted] = last.try_emplace(key(i), i);
        if (!inserted) {
          drop[it->second] = any = true;
          it->second = i;
        }
      }
    }
    if (!any) return;
    size_t out = start;
    for (size_t i = 0; i < n; ++i) {
      if (drop[i]) continue;
      tmp[out++] = tmp[start + 2 * i];
      tmp[out++] = tmp[start + 2 * i + 1];
    }
    tmp.resize(out);
  }

  // An object member's key and the ':' after it.
  bool Key(std::vector<uint32_t>& tmp) {
    SkipWs();
    if (p_ == end_ || *p_ != '"') return false;
    uint32_t k;
    if (!String(k)) return false;
    tmp.push_back(k);
    SkipWs();
    if (p_ == end_ || *p_ != ':') return false;
    ++p_;
    return true;
  }

  void SkipWs() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool Literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size())) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  bool Scalar(uint32_t& v) {
    switch (*p_) {
      case '"':
        return String(v);
      case 't':
      case 'f': {
        bool b = *p_ == 't';
        if (!Literal(b ? "true" : "false")) return false;
        v = NewNode(JsonNode::Type::kBool);
        doc_.nodes_[v].bool_ = b;
        return true;
      }
      case 'n':
        if (!Literal("null")) return false;
        v = NewNode(JsonNode::Type::kNull);
        return true;
      default:
        return Number(v);
    }
  }

  bool Number(uint32_t& v) {
    const char* start = p_;
    bool neg = p_ != end_ && *p_ == '-';
    if (neg) ++p_;
    auto digit = [this] { return p_ != end_ && *p_ >= '0' && *p_ <= '9'; };
    if (!digit()) return false;
    if (*p_ == '0') {
      ++p_;
    } else {
      while (digit()) ++p_;
    }
    bool integer = true;
    if (p_ != end_ && *p_ == '.') {
      integer = false;
      ++p_;
      if (!digit()) return false;
      while (digit()) ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      integer = false;
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!digit()) return false;
      while (digit()) ++p_;
    }
    if (integer) {
      if (neg) {
        int64_t i;
        if (std::from_chars(start, p_, i).ec == std::errc()) {
          v = NewNode(JsonNode::Type::kInt);
          doc_.nodes_[v].int_ = i;
          return true;
        }
      } else {
        uint64_t u;
        if (std::from_chars(start, p_, u).ec == std::errc()) {
          v = NewNode(JsonNode::Type::kUint);
          doc_.nodes_[v].uint_ = u;
          return true;
        }
      }
    }
    double d;
    auto r = std::from_chars(start, p_, d);
    if (r.ec != std::errc() || r.ptr != p_) return false;  // e.g. out of range: let nlohmann decide
    v = NewNode(JsonNode::Type::kReal);
    doc_.nodes_[v].real_ = d;
    return true;
  }

  static int Hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool Hex4(uint32_t& out) {
    if (end_ - p_ < 4) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      int h = Hex(p_[i]);
      if (h < 0) return false;
      out = out << 4 | static_cast<uint32_t>(h);
    }
    p_ += 4;
    return true;
  }

  void PutUtf8(uint32_t cp) {
    std::string& s = doc_.strings_;
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s.push_back(static_cast<char>(0xc0 | cp >> 6));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      s.push_back(static_cast<char>(0xe0 | cp >> 12));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      s.push_back(static_cast<char>(0xf0 | cp >> 18));
      s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }

  // Length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0.
  size_t Utf8Seq(const unsigned char* p) const {
    size_t left = static_cast<size_t>(reinterpret_cast<const unsigned char*>(end_) - p);
    unsigned char c = p[0];
    auto cont = [&](size_t i) { return i < left && (p[i] & 0xc0) == 0x80; };
    if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
      if (!cont(1) || !cont(2)) return 0;
      if (c == 0xe0 && p[1] < 0xa0) return 0;  // overlong
      if (c == 0xed && p[1] > 0x9f) return 0;  // surrogate
      return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
      if (!cont(1) || !cont(2) || !cont(3)) return 0;
      if (c == 0xf0 && p[1] < 0x90) return 0;  // overlong
      if (c == 0xf4 && p[1] > 0x8f) return 0;  // above U+10FFFF
      return 4;
    }
    return 0;
  }

  bool String(uint32_t& v) {
    ++p_;  // the opening quote
    std::string& s = doc_.strings_;
    size_t begin = s.size();
    for (;;) {
      const char* run = p_;
      while (p_ != end_ && static_cast<unsigned char>(*p_) >= 0x20 && *p_ != '"' && *p_ != '\\' &&
             static_cast<unsigned char>(*p_) < 0x80) {
        ++p_;
      }
      s.append(run, static_cast<size_t>(p_ - run));
      if (p_ == end_) return false;
      unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        break;
      }
      if (c < 0x20) return false;  // control characters must be escaped
      if (c >= 0x80) {
        size_t n = Utf8Seq(reinterpret_cast<const unsigned char*>(p_));
        if (!n) return false;
        s.append(p_, n);
        p_ += n;
        continue;
      }
      // A backslash escape.
      if (++p_ == end_) return false;
      char e = *p_++;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          s.push_back(e);
          break;
        case 'b':
          s.push_back('\b');
          break;
        case 'f':
          s.push_back('\f');
          break;
        case 'n':
          s.push_back('\n');
          break;
        case 'r':
          s.push_back('\r');
          break;
        case 't':
          s.push_back('\t');
          break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(cp)) return false;
          if (cp >= 0xdc00 && cp <= 0xdfff) return false;  // a lone low surrogate
          if (cp >= 0xd800 && cp <= 0xdbff) {
            uint32_t lo;
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            if (!Hex4(lo) || lo < 0xdc00 || lo > 0xdfff) return false;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
          PutUtf8(cp);
          break;
        }
        default:
          return false;
      }
    }
    v = NewNode(JsonNode::Type::kString);
    JsonNode& n = doc_.nodes_[v];
    n.text_ = s.data() + begin;
    n.len_ = static_cast<uint32_t>(s.size() - begin);
    return true;
  }

  JsonDoc& doc_;
  const char* p_;
  const char* end_;
};

bool JsonDoc::Parse(std::string_view text) {
  nodes_.clear();
  kids_.clear();
  strings_.clear();
  // Unescaped strings are never longer than their source, so the arena never moves.
  strings_.reserve(text.size());
  nodes_.reserve(text.size() / 8 + 4);
  if (text.size() > UINT32_MAX) return false;
  return JsonParser(*this, text).Run();
}

size_t JsonNode::size() const {
  switch (type_) {
    case Type::kNull:
      return 0;
    case Type::kArray:
    case Type::kObject:
      return len_;
    default:
      return 1;
  }
}

JsonNode::const_iterator JsonNode::begin() const {
  if (!is_array() && !is_object()) return {};
  return {doc_, doc_->kids_.data() + first_, is_object() ? 2u : 1u};
}

JsonNode::const_iterator JsonNode::end() const {
  if (!is_array() && !is_object()) return {};
  uint32_t step = is_object() ? 2u : 1u;
  return {doc_, doc_->kids_.data() + first_ + step * len_, step};
}

JsonNode::const_iterator JsonNode::find(std::string_view key) const {
  if (!is_object()) return end();
  const uint32_t* slot = doc_->kids_.data() + first_;
  for (uint32_t i = 0; i < len_; ++i, slot += 2) {
    if (doc_->nodes_[slot[0]].str() == key) return {doc_, slot, 2};
  }
  return end();
}

bool JsonNode::contains(std::string_view key) const { return find(key) != end(); }

JsonNode::Members JsonNode::items() const {
  if (!is_object()) return {doc_, nullptr, nullptr};
  const uint32_t* b = doc_->kids_.data() + first_;
  return {doc_, b, b + 2 * len_};
}

template <>
std::string JsonNode::get<std::string>() const {
  return std::string(str());
}
template <>
int64_t JsonNode::get<int64_t>() const {
  return type_ == Type::kInt    ? int_
         : type_ == Type::kUint ? static_cast<int64_t>(uint_)
                                : static_cast<int64_t>(real_);
}
template <>
uint64_t JsonNode::get<uint64_t>() const {
  return type_ == Type::kUint  ? uint_
         : type_ == Type::kInt ? static_cast<uint64_t>(int_)
                               : static_cast<uint64_t>(real_);
}
template <>
double JsonNode::get<double>() const {
  return type_ == Type::kReal  ? real_
         : type_ == Type::kInt ? static_cast<double>(int_)
                               : static_cast<double>(uint_);
}
template <>
bool JsonNode::get<bool>() const {
  return bool_;
}

nlohmann::json JsonNode::ToJson() const {
  switch (type_) {
    case Type::kNull:
      return nullptr;
    case Type::kBool:
      return bool_;
    case Type::kInt:
      return int_;
    case Type::kUint:
      return uint_;
    case Type::kReal:
      return real_;
    case Type::kString:
      return std::string(str());
    case Type::kArray: {
      nlohmann::json a = nlohmann::json::array();
      for (const JsonNode& e : *this) a.push_back(e.ToJson());
      return a;
    }
    case Type::kObject: {
      nlohmann::json o = nlohmann::json::object();
      for (const auto& [k, v] : items()) o[std::string(k)] = v.ToJson();
      return o;
    }
  }
  return nullptr;
}

}  // namespace sluice::db
