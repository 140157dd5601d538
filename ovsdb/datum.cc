#include "ovsdb/datum.h"

#include "ovsdb/json_doc.h"

#include <map>

#include <algorithm>
#include <numeric>

namespace sluice::db {

using nlohmann::json;

namespace {

constexpr std::string_view kAtomicNames[] = {"void",    "integer", "real",
                                             "boolean", "string",  "uuid"};

size_t Utf8Length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

template <class J>
std::string Abbrev(const J& j) {
  std::string s = j.dump();
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

}  // namespace

std::string_view AtomicTypeName(AtomicType type) { return kAtomicNames[static_cast<int>(type)]; }

std::optional<AtomicType> ParseAtomicType(std::string_view name) {
  for (int i = 1; i < 6; ++i) {
    if (kAtomicNames[i] == name) return static_cast<AtomicType>(i);
  }
  return std::nullopt;
}

AtomicType TypeOf(const Atom& atom) { return static_cast<AtomicType>(atom.index() + 1); }

Atom DefaultAtom(AtomicType type) {
  switch (type) {
    case AtomicType::kInteger:
      return IntAtom(0);
    case AtomicType::kReal:
      return RealAtom(0.0);
    case AtomicType::kBoolean:
      return BoolAtom(false);
    case AtomicType::kString:
      return StringAtom("");
    case AtomicType::kUuid:
    case AtomicType::kVoid:
      break;
  }
  return UuidAtom(Uuid{});
}

json AtomToJson(const Atom& atom) {
  return std::visit(
      [](const auto& v) -> json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Uuid>) {
          return json::array({"uuid", v.ToString()});
        } else {
          return json(v);
        }
      },
      atom);
}

std::string AtomToString(const Atom& atom) {
  if (auto* u = std::get_if<Uuid>(&atom)) return u->ToString();
  return AtomToJson(atom).dump();
}

SymbolTable::Symbol& SymbolTable::Lookup(const std::string& name) {
  auto [it, inserted] = symbols_.try_emplace(name);
  if (inserted) it->second.uuid = Uuid::Random();
  return it->second;
}

SymbolTable::Symbol* SymbolTable::Find(const std::string& name) {
  auto it = symbols_.find(name);
  return it == symbols_.end() ? nullptr : &it->second;
}

Datum Datum::Default(const Type& type) {
  Datum d;
  d.is_map = type.IsMap();
  if (type.min > 0) {
    d.keys.push_back(DefaultAtom(type.key.type));
    if (d.is_map) d.values.push_back(DefaultAtom(type.value.type));
  }
  return d;
}

Datum Datum::Scalar(Atom atom) {
  Datum d;
  d.keys.push_back(std::move(atom));
  return d;
}

ptrdiff_t Datum::Find(const Atom& key) const {
  auto it = std::lower_bound(keys.begin(), keys.end(), key);
  if (it == keys.end() || *it != key) return -1;
  return it - keys.begin();
}

bool Datum::Includes(const Datum& sub) const {
  for (size_t i = 0; i < sub.size(); ++i) {
    ptrdiff_t j = Find(sub.keys[i]);
    if (j < 0) return false;
    if (is_map && sub.is_map && values[j] != sub.values[i]) return false;
  }
  return true;
}

bool Datum::Excludes(const Datum& other) const {
  for (size_t i = 0; i < other.size(); ++i) {
    ptrdiff_t j = Find(other.keys[i]);
    if (j < 0) continue;
    if (!(is_map && other.is_map) || values[j] == other.values[i]) return false;
  }
  return true;
}

bool Datum::Sort() {
  if (is_map) {
    std::vector<size_t> order(keys.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
    std::vector<Atom> k, v;
    k.reserve(keys.size());
    v.reserve(keys.size());
    for (size_t i : order) {
      k.push_back(std::move(keys[i]));
      v.push_back(std::move(values[i]));
    }
    keys = std::move(k);
    values = std::move(v);
  } else {
    std::sort(keys.begin(), keys.end());
  }
  return std::adjacent_find(keys.begin(), keys.end()) == keys.end();
}

json Datum::ToJson() const {
  if (is_map) {
    json pairs = json::array();
    for (size_t i = 0; i < keys.size(); ++i) {
      pairs.push_back(json::array({AtomToJson(keys[i]), AtomToJson(values[i])}));
    }
    return json::array({"map", std::move(pairs)});
  }
  if (keys.size() == 1) return AtomToJson(keys[0]);
  json elems = json::array();
  for (const Atom& a : keys) elems.push_back(AtomToJson(a));
  return json::array({"set", std::move(elems)});
}

namespace {

template <class J>
DbResult<Atom> AtomFromJsonT(const J& j, const BaseType& base, SymbolTable* symtab) {
  auto expected = [&]() {
    return SyntaxErr("expected " + std::string(AtomicTypeName(base.type)) + ", got " + Abbrev(j));
  };
  switch (base.type) {
    case AtomicType::kInteger:
      if (j.is_number_integer()) {
        if (j.is_number_unsigned() && UintOf(j) > uint64_t(INT64_MAX)) {
          return SyntaxErr("integer " + j.dump() + " out of range");
        }
        return IntAtom(IntOf(j));
      }
      return expected();
    case AtomicType::kReal:
      if (j.is_number()) return RealAtom(RealOf(j));
      return expected();
    case AtomicType::kBoolean:
      if (j.is_boolean()) return BoolAtom(BoolOf(j));
      return expected();
    case AtomicType::kString:
      if (j.is_string()) return StringAtom(std::string(StrOf(j)));
      return expected();
    case AtomicType::kUuid: {
      if (!j.is_array() || j.size() != 2 || !j[0].is_string() || !j[1].is_string()) {
        return expected();
      }
      std::string_view tag = StrOf(j[0]);
      std::string_view text = StrOf(j[1]);
      if (tag == "uuid") {
        auto u = Uuid::Parse(text);
        if (!u) return SyntaxErr("\"" + std::string(text) + "\" is not a valid UUID");
        return UuidAtom(*u);
      }
      if (tag == "named-uuid") {
        if (!symtab) {
          return SyntaxErr("named-uuid \"" + std::string(text) + "\" is not allowed here");
        }
        return UuidAtom(symtab->Lookup(std::string(text)).uuid);
      }
      return expected();
    }
    case AtomicType::kVoid:
      break;
  }
  return SyntaxErr("void type has no atoms");
}

}  // namespace

DbResult<void> CheckAtom(const Atom& atom, const BaseType& base) {
  if (base.enum_values) {
    const auto& e = *base.enum_values;
    if (!std::binary_search(e.begin(), e.end(), atom)) {
      Datum allowed;
      allowed.keys = e;
      return DbErr("constraint violation", AtomToString(atom) +
                                               " is not one of the allowed values (" +
                                               allowed.ToJson().dump() + ")");
    }
    return {};
  }
  switch (base.type) {
    case AtomicType::kInteger: {
      int64_t v = std::get<int64_t>(atom);
      if (v < base.min_integer || v > base.max_integer) {
        return DbErr("constraint violation", std::to_string(v) + " is not in the valid range " +
                                                 std::to_string(base.min_integer) + " to " +
                                                 std::to_string(base.max_integer) + " (inclusive)");
      }
      break;
    }
    case AtomicType::kReal: {
      double v = std::get<double>(atom);
      if (v < base.min_real || v > base.max_real) {
        return DbErr("constraint violation", json(v).dump() + " is not in the valid range " +
                                                 json(base.min_real).dump() + " to " +
                                                 json(base.max_real).dump() + " (inclusive)");
      }
      break;
    }
    case AtomicType::kString: {
      const std::string& s = std::get<std::string>(atom);
      size_t n = Utf8Length(s);
      if (n < base.min_length) {
        return DbErr("constraint violation", json(s).dump() + " length " + std::to_string(n) +
                                                 " is less than minimum allowed length " +
                                                 std::to_string(base.min_length));
      }
      if (n > base.max_length) {
        return DbErr("constraint violation", json(s).dump() + " length " + std::to_string(n) +
                                                 " is greater than maximum allowed length " +
                                                 std::to_string(base.max_length));
      }
      break;
    }
    default:
      break;
  }
  return {};
}

DbResult<void> CheckDatum(const Datum& d, const Type& type) {
  if (d.size() < type.min || d.size() > type.max) {
    std::string max = type.max == kUnlimited ? "unlimited" : std::to_string(type.max);
    return DbErr("constraint violation",
                 type.ToEnglish() + " must have " + std::to_string(type.min) + " to " + max +
                     " members but " + std::to_string(d.size()) + " are present");
  }
  for (size_t i = 0; i < d.size(); ++i) {
    if (auto r = CheckAtom(d.keys[i], type.key); !r) return r;
    if (d.is_map) {
      if (auto r = CheckAtom(d.values[i], type.value); !r) return r;
    }
  }
  return {};
}

namespace {

template <class J>
DbResult<Datum> DatumFromJsonT(const J& j, const Type& type, SymbolTable* symtab) {
  Datum d;
  d.is_map = type.IsMap();
  bool tagged =
      j.is_array() && j.size() == 2 && j[0].is_string() && (j[0] == "set" || j[0] == "map");
  if (d.is_map) {
    if (!tagged || j[0] != "map" || !j[1].is_array()) {
      return SyntaxErr("expected [\"map\", [...]] for " + type.ToEnglish() + ", got " + Abbrev(j));
    }
    d.keys.reserve(j[1].size());
    d.values.reserve(j[1].size());
    for (const auto& pair : j[1]) {
      if (!pair.is_array() || pair.size() != 2) {
        return SyntaxErr("map element must be a 2-element array, got " + Abbrev(pair));
      }
      auto k = AtomFromJsonT(pair[0], type.key, symtab);
      if (!k) return std::unexpected(k.error());
      auto v = AtomFromJsonT(pair[1], type.value, symtab);
      if (!v) return std::unexpected(v.error());
      d.keys.push_back(std::move(*k));
      d.values.push_back(std::move(*v));
    }
  } else if (tagged && j[0] == "set") {
    if (!j[1].is_array()) return SyntaxErr("expected array after \"set\", got " + Abbrev(j));
    d.keys.reserve(j[1].size());
    for (const auto& e : j[1]) {
      auto k = AtomFromJsonT(e, type.key, symtab);
      if (!k) return std::unexpected(k.error());
      d.keys.push_back(std::move(*k));
    }
  } else {
    auto k = AtomFromJsonT(j, type.key, symtab);
    if (!k) return std::unexpected(k.error());
    d.keys.push_back(std::move(*k));
  }
  if (d.size() < type.min || d.size() > type.max) {
    std::string max = type.max == kUnlimited ? "unlimited" : std::to_string(type.max);
    return SyntaxErr(type.ToEnglish() + " must have " + std::to_string(type.min) + " to " + max +
                     " members but " + std::to_string(d.size()) + " are present");
  }
  if (!d.Sort()) {
    return DbErr(
        "constraint violation",
        (d.is_map ? "map contains duplicate key: " : "set contains duplicate value: ") + Abbrev(j));
  }
  if (auto r = CheckDatum(d, type); !r) return std::unexpected(r.error());
  return d;
}

}  // namespace

DbResult<Atom> AtomFromJson(const json& j, const BaseType& base, SymbolTable* symtab) {
  return AtomFromJsonT(j, base, symtab);
}
template <std::same_as<JsonNode> J>
DbResult<Atom> AtomFromJson(const J& j, const BaseType& base, SymbolTable* symtab) {
  return AtomFromJsonT(j, base, symtab);
}
template DbResult<Atom> AtomFromJson(const JsonNode&, const BaseType&, SymbolTable*);
DbResult<Datum> DatumFromJson(const json& j, const Type& type, SymbolTable* symtab) {
  return DatumFromJsonT(j, type, symtab);
}
template <std::same_as<JsonNode> J>
DbResult<Datum> DatumFromJson(const J& j, const Type& type, SymbolTable* symtab) {
  return DatumFromJsonT(j, type, symtab);
}
template DbResult<Datum> DatumFromJson(const JsonNode&, const Type&, SymbolTable*);

Datum DiffDatum(const Type& type, const Datum& o, const Datum& n) {
  if (type.IsScalar()) return n;
  Datum d;
  d.is_map = type.IsMap();
  size_t i = 0, j = 0;
  while (i < o.keys.size() || j < n.keys.size()) {
    if (j == n.keys.size() || (i < o.keys.size() && o.keys[i] < n.keys[j])) {
      d.keys.push_back(o.keys[i]);  // removed
      if (d.is_map) d.values.push_back(o.values[i]);
      ++i;
    } else if (i == o.keys.size() || n.keys[j] < o.keys[i]) {
      d.keys.push_back(n.keys[j]);  // added
      if (d.is_map) d.values.push_back(n.values[j]);
      ++j;
    } else {
      if (d.is_map && o.values[i] != n.values[j]) {
        d.keys.push_back(n.keys[j]);  // value changed: the new pair
        d.values.push_back(n.values[j]);
      }
      ++i;
      ++j;
    }
  }
  return d;
}

Datum ApplyDatumDiff(const Type& type, const Datum& old_value, const Datum& diff) {
  if (type.IsScalar()) return diff;
  // Work on an ordered map so lookups stay valid while elements come and go.
  std::map<Atom, Atom> pairs;
  for (size_t i = 0; i < old_value.keys.size(); ++i) {
    pairs.emplace(old_value.keys[i], type.IsMap() ? old_value.values[i] : Atom());
  }
  for (size_t i = 0; i < diff.keys.size(); ++i) {
    auto it = pairs.find(diff.keys[i]);
    if (!type.IsMap()) {
      if (it != pairs.end())
        pairs.erase(it);
      else
        pairs.emplace(diff.keys[i], Atom());
    } else if (it == pairs.end()) {
      pairs.emplace(diff.keys[i], diff.values[i]);
    } else if (it->second == diff.values[i]) {
      pairs.erase(it);
    } else {
      it->second = diff.values[i];
    }
  }
  Datum out;
  out.is_map = type.IsMap();
  for (auto& [k, v] : pairs) {
    out.keys.push_back(k);
    if (out.is_map) out.values.push_back(v);
  }
  return out;
}

Type DiffType(const Type& type) {
  Type d = type;
  d.min = 0;
  d.max = kUnlimited;
  return d;
}

}  // namespace sluice::db
