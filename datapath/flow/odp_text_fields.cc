// Lexing and per-field value syntax shared by the flow and action text parsers.
#include <arpa/inet.h>

#include <cctype>
#include <charconv>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "datapath/flow/odp_text_internal.h"

namespace sluice::dp::odp_text {

std::unexpected<Error> Fail(std::string_view ctx, std::string_view msg) {
  std::string m;
  if (!ctx.empty()) {
    m.append(ctx);
    m.append(": ");
  }
  m.append(msg);
  return MakeError(Errc::kInvalid, std::move(m));
}

void Appendf(std::string* out, const char* fmt, ...) {
  char buf[128];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (n > 0) out->append(buf, std::min<size_t>(static_cast<size_t>(n), sizeof(buf) - 1));
}

// ---- Scanner ---------------------------------------------------------------------------------

void Scanner::SkipSpace() {
  while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
}

bool Scanner::AtEnd() {
  SkipSpace();
  return pos_ >= text_.size();
}

char Scanner::Peek() { return AtEnd() ? '\0' : text_[pos_]; }

bool Scanner::TryConsume(char c) {
  if (Peek() != c || c == '\0') return false;
  ++pos_;
  return true;
}

std::string_view Scanner::ReadName() {
  SkipSpace();
  size_t start = pos_;
  while (pos_ < text_.size() &&
         (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) {
    ++pos_;
  }
  return text_.substr(start, pos_ - start);
}

std::string_view Scanner::ReadToken() {
  SkipSpace();
  size_t start = pos_;
  while (pos_ < text_.size()) {
    char c = text_[pos_];
    if (c == ',' || c == '(' || c == ')' || std::isspace(static_cast<unsigned char>(c))) break;
    ++pos_;
  }
  return text_.substr(start, pos_ - start);
}

std::string_view Scanner::Context() {
  SkipSpace();
  std::string_view rest = text_.substr(pos_);
  return rest.substr(0, std::min<size_t>(rest.size(), 16));
}

Result<void> Scanner::Expect(char c, std::string_view ctx) {
  if (TryConsume(c)) return {};
  std::string msg = "expected '";
  msg.push_back(c);
  if (AtEnd()) {
    msg += "' but the text ended";
  } else {
    msg += "' at '";
    msg.append(Context());
    msg += "'";
  }
  return Fail(ctx, msg);
}

// ---- numbers ---------------------------------------------------------------------------------

Result<uint64_t> ParseUint(std::string_view tok, uint64_t max, std::string_view ctx) {
  if (tok.empty()) return Fail(ctx, "missing number");
  std::string_view digits = tok;
  int base = 10;
  if (tok.size() > 2 && tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X')) {
    digits = tok.substr(2);
    base = 16;
  }
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
  if (ec == std::errc::result_out_of_range) {
    return Fail(ctx, "value '" + std::string(tok) + "' out of range");
  }
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    return Fail(ctx, "bad number '" + std::string(tok) + "'");
  }
  if (v > max) return Fail(ctx, "value '" + std::string(tok) + "' out of range");
  return v;
}

Result<std::pair<uint64_t, uint64_t>> ParseMaskedUint(std::string_view tok, uint64_t max,
                                                      uint64_t full_mask, std::string_view ctx) {
  size_t slash = tok.find('/');
  auto v = ParseUint(tok.substr(0, slash), max, ctx);
  if (!v) return std::unexpected(v.error());
  uint64_t m = full_mask;
  if (slash != std::string_view::npos) {
    auto pm = ParseUint(tok.substr(slash + 1), max, ctx);
    if (!pm) return std::unexpected(pm.error());
    m = *pm;
  }
  return std::pair<uint64_t, uint64_t>{*v & m, m};
}

void AppendHex(std::string* out, uint64_t v) {
  if (v == 0) {
    out->push_back('0');
  } else {
    Appendf(out, "0x%llx", static_cast<unsigned long long>(v));
  }
}

// ---- addresses -------------------------------------------------------------------------------

namespace {

bool ParseIpv4(std::string_view tok, uint8_t out[4]) {
  if (tok.size() > 15) return false;
  std::string s(tok);
  return inet_pton(AF_INET, s.c_str(), out) == 1;
}

bool ParseIpv6(std::string_view tok, uint8_t out[16]) {
  if (tok.size() >= INET6_ADDRSTRLEN) return false;
  std::string s(tok);
  return inet_pton(AF_INET6, s.c_str(), out) == 1;
}

bool ParseMac(std::string_view tok, uint8_t out[6]) {
  size_t pos = 0;
  for (int i = 0; i < 6; ++i) {
    if (i > 0) {
      if (pos >= tok.size() || tok[pos] != ':') return false;
      ++pos;
    }
    size_t start = pos;
    while (pos < tok.size() && pos - start < 2 &&
           std::isxdigit(static_cast<unsigned char>(tok[pos]))) {
      ++pos;
    }
    if (pos == start) return false;
    unsigned v = 0;
    std::from_chars(tok.data() + start, tok.data() + pos, v, 16);
    out[i] = static_cast<uint8_t>(v);
  }
  return pos == tok.size();
}

// A prefix length as a mask of n bytes.
bool ParsePrefix(std::string_view tok, size_t n, uint8_t* out) {
  unsigned len = 0;
  auto [end, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), len, 10);
  if (tok.empty() || ec != std::errc() || end != tok.data() + tok.size() || len > n * 8) {
    return false;
  }
  for (size_t i = 0; i < n; ++i) {
    unsigned bits = len > i * 8 ? std::min(8u, static_cast<unsigned>(len - i * 8)) : 0;
    out[i] = static_cast<uint8_t>(0xff00 >> bits);
  }
  return true;
}

void AppendMac(std::string* out, const uint8_t* m) {
  Appendf(out, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

void AppendIpv4(std::string* out, const uint8_t* a) {
  Appendf(out, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

void AppendIpv6(std::string* out, const uint8_t* a) {
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, a, buf, sizeof(buf))) out->append(buf);
}

bool AllBytes(const uint8_t* p, size_t n, uint8_t v) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != v) return false;
  }
  return true;
}

uint16_t LoadBe16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t LoadBe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}
uint64_t LoadBe64(const uint8_t* p) {
  return static_cast<uint64_t>(LoadBe32(p)) << 32 | LoadBe32(p + 4);
}
void StoreBe(uint8_t* p, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(v >> (8 * (n - 1 - i)));
}

size_t FieldSize(FieldKind k) {
  switch (k) {
    case FieldKind::kU8:
    case FieldKind::kU8Hex:
    case FieldKind::kFrag:
      return 1;
    case FieldKind::kBe16:
    case FieldKind::kIcmp:
      return 2;
    case FieldKind::kIpv4:
    case FieldKind::kLabel:
      return 4;
    case FieldKind::kMac:
      return 6;
    case FieldKind::kBe64:
      return 8;
    case FieldKind::kIpv6:
      return 16;
  }
  return 0;
}

// Bytes-valued fields (addresses): value and optional mask, stored masked.
Result<void> ParseBytesField(const FieldDesc& f, std::string_view tok, std::string_view ctx,
                             uint8_t* key, uint8_t* mask) {
  size_t n = FieldSize(f.kind);
  size_t slash = tok.find('/');
  std::string_view val = tok.substr(0, slash);
  uint8_t v[16];
  uint8_t m[16];
  std::memset(m, 0xff, sizeof(m));
  const char* what = f.kind == FieldKind::kIpv4   ? "IPv4 address"
                     : f.kind == FieldKind::kIpv6 ? "IPv6 address"
                                                  : "MAC address";
  bool ok = f.kind == FieldKind::kIpv4   ? ParseIpv4(val, v)
            : f.kind == FieldKind::kIpv6 ? ParseIpv6(val, v)
                                         : ParseMac(val, v);
  if (!ok) return Fail(ctx, "bad " + std::string(what) + " '" + std::string(val) + "'");
  if (slash != std::string_view::npos) {
    std::string_view ms = tok.substr(slash + 1);
    if (f.kind == FieldKind::kIpv4) {
      ok = ms.find('.') != std::string_view::npos ? ParseIpv4(ms, m) : ParsePrefix(ms, 4, m);
    } else if (f.kind == FieldKind::kIpv6) {
      ok = ms.find(':') != std::string_view::npos ? ParseIpv6(ms, m) : ParsePrefix(ms, 16, m);
    } else {
      ok = ParseMac(ms, m);
    }
    if (!ok) return Fail(ctx, "bad " + std::string(what) + " mask '" + std::string(ms) + "'");
  }
  for (size_t i = 0; i < n; ++i) {
    key[f.offset + i] = v[i] & m[i];
    mask[f.offset + i] = m[i];
  }
  return {};
}

Result<void> ParseField(const FieldDesc& f, std::string_view tok, std::string_view ctx,
                        uint8_t* key, uint8_t* mask) {
  uint8_t* k = key + f.offset;
  uint8_t* m = mask + f.offset;
  switch (f.kind) {
    case FieldKind::kIpv4:
    case FieldKind::kIpv6:
    case FieldKind::kMac:
      return ParseBytesField(f, tok, ctx, key, mask);
    case FieldKind::kFrag: {
      static constexpr std::pair<std::string_view, uint8_t> kNames[] = {
          {"no", 0}, {"first", 1}, {"later", 3}};
      for (const auto& [name, bits] : kNames) {
        if (tok == name) {
          *k = bits;
          *m = 3;
          return {};
        }
      }
      if (tok.empty() || !std::isdigit(static_cast<unsigned char>(tok[0]))) {
        return Fail(ctx, "bad frag '" + std::string(tok) + "' (expected no, first or later)");
      }
      auto vm = ParseMaskedUint(tok, 0xff, 0xff, ctx);
      if (!vm) return std::unexpected(vm.error());
      *k = static_cast<uint8_t>(vm->first);
      *m = static_cast<uint8_t>(vm->second);
      return {};
    }
    case FieldKind::kIcmp: {
      auto vm = ParseMaskedUint(tok, 0xff, 0xff, ctx);
      if (!vm) return std::unexpected(vm.error());
      // An exact type/code also pins the (always zero) high byte, like OpenFlow's tp_src match.
      uint64_t mask16 = vm->second == 0xff ? 0xffff : vm->second;
      StoreBe(k, vm->first, 2);
      StoreBe(m, mask16, 2);
      return {};
    }
    default:
      break;
  }
  uint64_t max = 0;
  switch (f.kind) {
    case FieldKind::kU8:
    case FieldKind::kU8Hex:
      max = 0xff;
      break;
    case FieldKind::kBe16:
      max = 0xffff;
      break;
    case FieldKind::kLabel:
      max = 0xfffff;
      break;
    default:  // kBe64
      max = UINT64_MAX;
      break;
  }
  auto vm = ParseMaskedUint(tok, max, max, ctx);
  if (!vm) return std::unexpected(vm.error());
  StoreBe(k, vm->first, FieldSize(f.kind));
  StoreBe(m, vm->second, FieldSize(f.kind));
  return {};
}

// The part of a mask that the text form can express; a field is printed iff it is non-zero.
uint64_t SemanticMask(const FieldDesc& f, const uint8_t* m) {
  switch (f.kind) {
    case FieldKind::kU8:
    case FieldKind::kU8Hex:
    case FieldKind::kFrag:
      return *m;
    case FieldKind::kBe16:
      return LoadBe16(m);
    case FieldKind::kIcmp:
      return LoadBe16(m) & 0xff;
    case FieldKind::kLabel:
      return LoadBe32(m) & 0xfffff;
    case FieldKind::kBe64:
      return LoadBe64(m);
    case FieldKind::kIpv4:
    case FieldKind::kIpv6:
    case FieldKind::kMac:
      return AllBytes(m, FieldSize(f.kind), 0) ? 0 : 1;
  }
  return 0;
}

void FormatField(const FieldDesc& f, const uint8_t* key, const uint8_t* mask, std::string* out) {
  const uint8_t* m = mask + f.offset;
  uint8_t k[16];
  size_t n = FieldSize(f.kind);
  for (size_t i = 0; i < n; ++i) k[i] = key[f.offset + i] & m[i];
  out->append(f.name);
  out->push_back('=');
  switch (f.kind) {
    case FieldKind::kU8:
      Appendf(out, "%u", k[0]);
      if (*m != 0xff) Appendf(out, "/%#x", *m);
      break;
    case FieldKind::kU8Hex:
      AppendHex(out, k[0]);
      if (*m != 0xff) Appendf(out, "/%#x", *m);
      break;
    case FieldKind::kBe16:
      Appendf(out, "%u", LoadBe16(k));
      if (LoadBe16(m) != 0xffff) Appendf(out, "/%#x", LoadBe16(m));
      break;
    case FieldKind::kIcmp:
      Appendf(out, "%u", LoadBe16(k) & 0xff);
      if ((LoadBe16(m) & 0xff) != 0xff) Appendf(out, "/%#x", LoadBe16(m) & 0xff);
      break;
    case FieldKind::kLabel: {
      uint32_t lm = LoadBe32(m) & 0xfffff;
      AppendHex(out, LoadBe32(k) & 0xfffff);
      if (lm != 0xfffff) Appendf(out, "/%#x", lm);
      break;
    }
    case FieldKind::kBe64:
      Appendf(out, "0x%llx", static_cast<unsigned long long>(LoadBe64(k)));
      if (LoadBe64(m) != UINT64_MAX) {
        out->push_back('/');
        AppendHex(out, LoadBe64(m));
      }
      break;
    case FieldKind::kFrag:
      if (*m == 3 && (k[0] == 0 || k[0] == 1 || k[0] == 3)) {
        out->append(k[0] == 0 ? "no" : k[0] == 1 ? "first" : "later");
      } else {
        AppendHex(out, k[0]);
        out->push_back('/');
        AppendHex(out, *m);
      }
      break;
    case FieldKind::kIpv4:
      AppendIpv4(out, k);
      if (!AllBytes(m, 4, 0xff)) {
        out->push_back('/');
        AppendIpv4(out, m);
      }
      break;
    case FieldKind::kIpv6:
      AppendIpv6(out, k);
      if (!AllBytes(m, 16, 0xff)) {
        out->push_back('/');
        AppendIpv6(out, m);
      }
      break;
    case FieldKind::kMac:
      AppendMac(out, k);
      if (!AllBytes(m, 6, 0xff)) {
        out->push_back('/');
        AppendMac(out, m);
      }
      break;
  }
}

}  // namespace

Result<void> ParseFieldList(Scanner* s, std::string_view ctx, std::span<const FieldDesc> fields,
                            uint8_t* key, uint8_t* mask) {
  uint32_t seen = 0;
  if (s->TryConsume(')')) return {};
  while (true) {
    std::string_view name = s->ReadName();
    if (name.empty()) {
      if (s->AtEnd()) return Fail(ctx, "missing ')'");
      return Fail(ctx, "expected a field name at '" + std::string(s->Context()) + "'");
    }
    size_t i = 0;
    while (i < fields.size() && fields[i].name != name) ++i;
    if (i == fields.size()) return Fail(ctx, "unknown field '" + std::string(name) + "'");
    if (seen & (1u << i)) return Fail(ctx, "duplicate field '" + std::string(name) + "'");
    seen |= 1u << i;
    if (!s->TryConsume('=')) {
      return Fail(ctx, "expected '=' after '" + std::string(name) + "'");
    }
    std::string fctx = std::string(ctx) + "." + std::string(name);
    std::string_view tok = s->ReadToken();
    if (tok.empty()) return Fail(fctx, "missing value");
    auto r = ParseField(fields[i], tok, fctx, key, mask);
    if (!r) return r;
    if (s->TryConsume(')')) return {};
    if (!s->TryConsume(',')) {
      if (s->AtEnd()) return Fail(ctx, "missing ')'");
      return Fail(fctx, "unexpected '" + std::string(s->Context()) + "' after value");
    }
  }
}

void FormatFieldList(std::span<const FieldDesc> fields, const uint8_t* key, const uint8_t* mask,
                     std::string* out, bool verbose) {
  bool first = true;
  for (const FieldDesc& f : fields) {
    if (SemanticMask(f, mask + f.offset) == 0 && (!verbose || f.kind == FieldKind::kFrag)) {
      continue;
    }
    if (!first) out->push_back(',');
    first = false;
    FormatField(f, key, mask, out);
  }
}

bool AnyFieldMasked(std::span<const FieldDesc> fields, const uint8_t* mask) {
  for (const FieldDesc& f : fields) {
    if (SemanticMask(f, mask + f.offset) != 0) return true;
  }
  return false;
}

}  // namespace sluice::dp::odp_text
