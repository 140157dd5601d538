// OVSDB datums: sets and maps of atoms in canonical (sorted) order, with RFC 7047 JSON notation.
#pragma once

#include <concepts>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ovsdb/atom.h"
#include "ovsdb/error.h"
#include "ovsdb/schema.h"

namespace sluice::db {

class JsonNode;

// Named UUIDs of one transaction. A reference may precede the insert that defines the name
// (OVS clients emit inserts in arbitrary order), so looking a name up creates its UUID.
class SymbolTable {
 public:
  struct Symbol {
    Uuid uuid;
    bool created = false;  // an insert used this uuid-name
  };
  Symbol& Lookup(const std::string& name);
  Symbol* Find(const std::string& name);

 private:
  std::map<std::string, Symbol> symbols_;
};

struct Datum {
  std::vector<Atom> keys;    // sorted, unique
  std::vector<Atom> values;  // parallel to keys for maps, empty for sets
  bool is_map = false;

  size_t size() const { return keys.size(); }
  bool empty() const { return keys.empty(); }
  bool operator==(const Datum&) const = default;
  auto operator<=>(const Datum& o) const {
    if (auto c = keys <=> o.keys; c != 0) return c;
    return values <=> o.values;
  }

  static Datum Default(const Type& type);
  static Datum Scalar(Atom atom);
  // Index of `key` or -1.
  ptrdiff_t Find(const Atom& key) const;
  bool Contains(const Atom& key) const { return Find(key) >= 0; }
  // Set: every element of `sub` is present. Map: every pair of `sub` is present.
  bool Includes(const Datum& sub) const;
  // No element (set) or pair (map) of `other` is present.
  bool Excludes(const Datum& other) const;
  // Restores canonical order after in-place edits; false if keys are duplicated.
  bool Sort();

  nlohmann::json ToJson() const;
};

// Parses a datum for `type`, checking element count, duplicates and atom constraints.
// `symtab` enables ["named-uuid", ...]; without it named UUIDs are a syntax error.
// The same for a JsonNode (the server's request documents).
DbResult<Atom> AtomFromJson(const nlohmann::json& json, const BaseType& base, SymbolTable* symtab);
template <std::same_as<JsonNode> J>
DbResult<Atom> AtomFromJson(const J& json, const BaseType& base, SymbolTable* symtab);
DbResult<void> CheckAtom(const Atom& atom, const BaseType& base);
DbResult<Datum> DatumFromJson(const nlohmann::json& json, const Type& type, SymbolTable* symtab);
template <std::same_as<JsonNode> J>
DbResult<Datum> DatumFromJson(const J& json, const Type& type, SymbolTable* symtab);
// Element count and atom constraints of an already-built datum.
DbResult<void> CheckDatum(const Datum& datum, const Type& type);

// The "diff" form of a change (OVSDB update2 "modify" and diff log records): for a scalar
// column the new value; for sets the elements added or removed; for maps the pairs added or
// removed and, for a key whose value changed, the new pair.
Datum DiffDatum(const Type& type, const Datum& old_value, const Datum& new_value);
// Applies a diff made by DiffDatum to `old_value`.
Datum ApplyDatumDiff(const Type& type, const Datum& old_value, const Datum& diff);
// A diff may hold more elements than the column allows: the type to parse one with.
Type DiffType(const Type& type);

}  // namespace sluice::db
