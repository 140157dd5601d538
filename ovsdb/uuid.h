// 128-bit UUIDs as used by OVSDB (_uuid, _version, uuid atoms).
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::db {

struct Uuid {
  uint64_t hi = 0;
  uint64_t lo = 0;

  auto operator<=>(const Uuid&) const = default;
  bool IsZero() const { return hi == 0 && lo == 0; }
  // Canonical lowercase 8-4-4-4-12 form; ordering of Uuid matches ordering of these strings.
  std::string ToString() const;
  static std::optional<Uuid> Parse(std::string_view text);
  // Random version-4 UUID.
  static Uuid Random();
};

struct UuidHash {
  size_t operator()(const Uuid& u) const { return u.hi ^ (u.lo * 0x9e3779b97f4a7c15ULL); }
};

}  // namespace sluice::db
