#include "ovsdb/uuid.h"

#include <random>

#include "ovsdb/json_writer.h"

namespace sluice::db {

std::string Uuid::ToString() const {
  std::string s;
  s.reserve(36);
  AppendUuid(s, *this);
  return s;
}

std::optional<Uuid> Uuid::Parse(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  Uuid u;
  int nibbles = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return std::nullopt;
      continue;
    }
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    uint64_t& word = nibbles < 16 ? u.hi : u.lo;
    word = (word << 4) | static_cast<uint64_t>(v);
    ++nibbles;
  }
  return u;
}

Uuid Uuid::Random() {
  thread_local std::mt19937_64 rng{[] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }()};
  Uuid u{rng(), rng()};
  u.hi = (u.hi & ~0xf000ULL) | 0x4000ULL;                  // version 4
  u.lo = (u.lo & ~(0xc000ULL << 48)) | (0x8000ULL << 48);  // RFC 4122 variant
  return u;
}

}  // namespace sluice::db
