// OVSDB atomic values (RFC 7047 §5.1 <atom>).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "ovsdb/uuid.h"

namespace sluice::db {

enum class AtomicType { kVoid, kInteger, kReal, kBoolean, kString, kUuid };

std::string_view AtomicTypeName(AtomicType type);
std::optional<AtomicType> ParseAtomicType(std::string_view name);

// Within one column every atom holds the same alternative, so variant ordering (index first,
// then value) is the OVSDB canonical order: numeric, false<true, bytewise strings, uuid bits.
using Atom = std::variant<int64_t, double, bool, std::string, Uuid>;

inline Atom IntAtom(int64_t v) { return Atom(std::in_place_type<int64_t>, v); }
inline Atom RealAtom(double v) { return Atom(std::in_place_type<double>, v); }
inline Atom BoolAtom(bool v) { return Atom(std::in_place_type<bool>, v); }
inline Atom StringAtom(std::string v) {
  return Atom(std::in_place_type<std::string>, std::move(v));
}
inline Atom UuidAtom(Uuid v) { return Atom(std::in_place_type<Uuid>, v); }

AtomicType TypeOf(const Atom& atom);
Atom DefaultAtom(AtomicType type);
nlohmann::json AtomToJson(const Atom& atom);
// Rendering for error messages: strings quoted, uuids bare.
std::string AtomToString(const Atom& atom);

}  // namespace sluice::db
