#include "ofproto/text/text_util.h"

#include <arpa/inet.h>

#include <fmt/format.h>
#include <cctype>
#include <cstdio>

namespace sluice::ofp::text::internal {
namespace {

bool IsSep(char c) { return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Length of a value ending at a top-level character of `delims`, nested parentheses skipped.
size_t ValueLen(std::string_view s, std::string_view delims, bool* unbalanced) {
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (depth == 0 && delims.find(c) != std::string_view::npos) return i;
    if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (depth == 0) {
        *unbalanced = true;
        return i;
      }
      --depth;
    }
  }
  if (depth != 0) *unbalanced = true;
  return s.size();
}

int PrefixLen32(uint32_t mask) {
  // -1 unless the mask is a CIDR prefix.
  int n = 0;
  while (n < 32 && (mask & (0x80000000u >> n))) ++n;
  uint32_t want = n == 0 ? 0 : ~uint32_t{0} << (32 - n);
  return mask == want ? n : -1;
}

}  // namespace

bool KeyValueLexer::Next(KeyValue* kv) {
  while (pos_ < s_.size() && IsSep(s_[pos_])) ++pos_;
  if (pos_ >= s_.size()) return false;
  size_t start = pos_;
  while (pos_ < s_.size() && !IsSep(s_[pos_]) && s_[pos_] != ':' && s_[pos_] != '=' &&
         s_[pos_] != '(') {
    ++pos_;
  }
  *kv = KeyValue{s_.substr(start, pos_ - start), {}, false};
  if (pos_ >= s_.size()) return true;
  char delim = s_[pos_++];
  std::string_view delims;
  if (delim == ':' || delim == '=') {
    delims = ", \t\r\n";
  } else if (delim == '(') {
    delims = ")";
  } else {
    return true;
  }
  bool unbalanced = false;
  std::string_view rest = s_.substr(pos_);
  size_t n = ValueLen(rest, delims, &unbalanced);
  if (delim == '(' && n == rest.size()) unbalanced = true;
  if (unbalanced) {
    error_ = fmt::format("{}: unbalanced parentheses", kv->key);
    pos_ = s_.size();
    return false;
  }
  kv->value = rest.substr(0, n);
  kv->has_value = true;
  kv->delim = delim;
  pos_ += n;
  if (pos_ < s_.size()) ++pos_;  // the delimiter
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

Result<uint64_t> ParseUint(std::string_view s, uint64_t max, std::string_view what) {
  std::string_view t = s;
  int base = 10;
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
    base = 16;
    t.remove_prefix(2);
  }
  if (t.empty()) return MakeError(Errc::kInvalid, fmt::format("invalid {} \"{}\"", what, s));
  uint64_t v = 0;
  for (char c : t) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (base == 16 && c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return MakeError(Errc::kInvalid, fmt::format("invalid {} \"{}\"", what, s));
    }
    if (v > (~uint64_t{0} - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base)) {
      return MakeError(Errc::kInvalid, fmt::format("invalid {} \"{}\"", what, s));
    }
    v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  if (v > max) {
    return MakeError(Errc::kInvalid, fmt::format("invalid {} \"{}\" (at most {})", what, s, max));
  }
  return v;
}

Result<MaskedUint> ParseMaskedUint(std::string_view s, uint64_t max, std::string_view what) {
  MaskedUint r;
  size_t slash = s.find('/');
  auto v = ParseUint(s.substr(0, slash), max, what);
  if (!v) return std::unexpected(v.error());
  r.value = *v;
  if (slash != std::string_view::npos) {
    auto m = ParseUint(s.substr(slash + 1), max, what);
    if (!m) return std::unexpected(m.error());
    r.mask = *m;
    r.has_mask = true;
    r.value &= r.mask;
  } else {
    r.mask = max;
  }
  return r;
}

Result<std::array<uint8_t, 6>> ParseMac(std::string_view s) {
  std::array<uint8_t, 6> mac{};
  unsigned b[6];
  char tail;
  std::string str(s);
  if (std::sscanf(str.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
                  &b[5], &tail) != 6) {
    return MakeError(Errc::kInvalid, fmt::format("{}: invalid Ethernet address", s));
  }
  for (int i = 0; i < 6; ++i) mac[static_cast<size_t>(i)] = static_cast<uint8_t>(b[i]);
  return mac;
}

Result<uint32_t> ParseIpv4(std::string_view s) {
  in_addr a{};
  std::string str(s);
  if (inet_pton(AF_INET, str.c_str(), &a) != 1) {
    return MakeError(Errc::kInvalid, fmt::format("{}: invalid IP address", s));
  }
  return ntohl(a.s_addr);
}

Result<std::array<uint8_t, 16>> ParseIpv6(std::string_view s) {
  std::array<uint8_t, 16> out{};
  std::string str(s);
  if (inet_pton(AF_INET6, str.c_str(), out.data()) != 1) {
    return MakeError(Errc::kInvalid, fmt::format("{}: invalid IPv6 address", s));
  }
  return out;
}

Result<std::pair<uint32_t, uint32_t>> ParseIpv4Masked(std::string_view s) {
  size_t slash = s.find('/');
  auto addr = ParseIpv4(s.substr(0, slash));
  if (!addr) return std::unexpected(addr.error());
  uint32_t mask = ~uint32_t{0};
  if (slash != std::string_view::npos) {
    std::string_view m = s.substr(slash + 1);
    if (m.find('.') != std::string_view::npos) {
      auto mm = ParseIpv4(m);
      if (!mm) return std::unexpected(mm.error());
      mask = *mm;
    } else {
      auto bits = ParseUint(m, ~uint64_t{0}, "prefix length");
      if (!bits || *bits > 32) {
        return MakeError(Errc::kInvalid,
                         fmt::format("{}: IPv4 network prefix bits not between 0 and 32, "
                                     "inclusive",
                                     s));
      }
      mask = *bits == 0 ? 0 : ~uint32_t{0} << (32 - *bits);
    }
  }
  return std::pair{*addr & mask, mask};
}

Result<std::pair<std::array<uint8_t, 16>, std::array<uint8_t, 16>>> ParseIpv6Masked(
    std::string_view s) {
  size_t slash = s.find('/');
  auto addr = ParseIpv6(s.substr(0, slash));
  if (!addr) return std::unexpected(addr.error());
  std::array<uint8_t, 16> mask;
  mask.fill(0xff);
  if (slash != std::string_view::npos) {
    std::string_view m = s.substr(slash + 1);
    if (m.find(':') != std::string_view::npos) {
      auto mm = ParseIpv6(m);
      if (!mm) return std::unexpected(mm.error());
      mask = *mm;
    } else {
      auto bits = ParseUint(m, ~uint64_t{0}, "prefix length");
      if (!bits || *bits > 128) {
        return MakeError(Errc::kInvalid,
                         fmt::format("{}: IPv6 network prefix bits not between 0 and 128, "
                                     "inclusive",
                                     s));
      }
      for (size_t i = 0; i < 16; ++i) {
        int left = static_cast<int>(*bits) - static_cast<int>(i * 8);
        mask[i] = left >= 8 ? 0xff : left <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - left));
      }
    }
  }
  for (size_t i = 0; i < 16; ++i) (*addr)[i] &= mask[i];
  return std::pair{*addr, mask};
}

Result<std::pair<std::array<uint8_t, 6>, std::array<uint8_t, 6>>> ParseMacMasked(
    std::string_view s) {
  size_t slash = s.find('/');
  auto mac = ParseMac(s.substr(0, slash));
  if (!mac) return std::unexpected(mac.error());
  std::array<uint8_t, 6> mask;
  mask.fill(0xff);
  if (slash != std::string_view::npos) {
    auto m = ParseMac(s.substr(slash + 1));
    if (!m) return std::unexpected(m.error());
    mask = *m;
  }
  for (size_t i = 0; i < 6; ++i) (*mac)[i] &= mask[i];
  return std::pair{*mac, mask};
}

std::string FormatMac(const uint8_t* m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4],
                     m[5]);
}

std::string FormatIpv4(uint32_t a) {
  return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

std::string FormatIpv6(const uint8_t* addr) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, addr, buf, sizeof buf);
  return buf;
}

std::string FormatIpv4Masked(uint32_t addr, uint32_t mask) {
  if (mask == ~uint32_t{0}) return FormatIpv4(addr);
  int plen = PrefixLen32(mask);
  if (plen >= 0) return fmt::format("{}/{}", FormatIpv4(addr), plen);
  return FormatIpv4(addr) + "/" + FormatIpv4(mask);
}

std::string FormatIpv6Masked(const uint8_t* addr, const uint8_t* mask) {
  int plen = 0;
  bool cidr = true;
  bool ended = false;
  for (int i = 0; i < 128; ++i) {
    bool bit = (mask[i / 8] >> (7 - i % 8)) & 1;
    if (bit && ended) cidr = false;
    if (bit && !ended) ++plen;
    if (!bit) ended = true;
  }
  if (cidr && plen == 128) return FormatIpv6(addr);
  if (cidr) return fmt::format("{}/{}", FormatIpv6(addr), plen);
  return FormatIpv6(addr) + "/" + FormatIpv6(mask);
}

std::string Hex(uint64_t v) { return fmt::format("{:#x}", v); }

}  // namespace sluice::ofp::text::internal
