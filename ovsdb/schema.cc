#include "ovsdb/schema.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "ovsdb/datum.h"

namespace sluice::db {

using nlohmann::json;

namespace {

std::unexpected<Error> Invalid(std::string msg) {
  return MakeError(Errc::kInvalid, std::move(msg));
}

// Schemas are strict: OVS rejects members it does not know, and so do we, so typos surface.
Result<void> OnlyMembers(const json& j, std::initializer_list<std::string_view> allowed,
                         const std::string& where) {
  for (const auto& [key, _] : j.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return Invalid(where + ": member \"" + key + "\" is present but not allowed here");
    }
  }
  return {};
}

// "x.y.z" with decimal components and no leading zeros, as OVS requires.
bool IsVersion(const std::string& s) {
  int parts = 0;
  size_t i = 0;
  while (i <= s.size()) {
    size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start || (s[start] == '0' && i - start > 1)) return false;
    ++parts;
    if (i == s.size()) break;
    if (s[i] != '.') return false;
    ++i;
  }
  return parts == 3;
}

bool IsId(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

Result<int64_t> GetInt(const json& j, const char* name) {
  if (!j.is_number_integer() || (j.is_number_unsigned() && j.get<uint64_t>() > INT64_MAX)) {
    return Invalid(std::string(name) + " must be an integer");
  }
  return j.get<int64_t>();
}

Result<uint64_t> GetCount(const json& j, const char* name) {
  auto v = GetInt(j, name);
  if (!v) return std::unexpected(v.error());
  if (*v < 0) return Invalid(std::string(name) + " must not be negative");
  return static_cast<uint64_t>(*v);
}

ColumnSchema Implicit(const char* name, size_t index) {
  ColumnSchema c;
  c.name = name;
  c.type = Type::Scalar(AtomicType::kUuid);
  c.is_mutable = false;
  c.implicit = true;
  c.index = index;
  return c;
}

Result<TableSchema> TableFromJson(const std::string& name, const json& j) {
  std::string where = "table " + name;
  if (!j.is_object()) return Invalid(where + ": table schema must be an object");
  if (auto r = OnlyMembers(j, {"columns", "maxRows", "isRoot", "indexes"}, where); !r) {
    return std::unexpected(r.error());
  }
  TableSchema t;
  t.name = name;
  t.columns.push_back(Implicit("_uuid", kUuidColumn));
  t.columns.push_back(Implicit("_version", kVersionColumn));
  if (!j.contains("columns") || !j["columns"].is_object()) {
    return Invalid(where + ": \"columns\" object is required");
  }
  if (j["columns"].empty()) return Invalid(where + ": table must have at least one column");
  for (const auto& [cname, cj] : j["columns"].items()) {
    std::string cwhere = where + " column " + cname;
    if (!IsId(cname)) return Invalid(cwhere + ": column name must be an identifier");
    if (cname[0] == '_') return Invalid(cwhere + ": names beginning with \"_\" are reserved");
    if (!cj.is_object()) return Invalid(cwhere + ": column schema must be an object");
    if (auto r = OnlyMembers(cj, {"type", "ephemeral", "mutable"}, cwhere); !r) {
      return std::unexpected(r.error());
    }
    if (!cj.contains("type")) return Invalid(cwhere + ": \"type\" is required");
    auto type = Type::FromJson(cj["type"]);
    if (!type) return Invalid(cwhere + ": " + type.error().message);
    ColumnSchema c;
    c.name = cname;
    c.type = std::move(*type);
    for (const char* flag : {"ephemeral", "mutable"}) {
      if (!cj.contains(flag)) continue;
      if (!cj[flag].is_boolean()) return Invalid(cwhere + ": \"" + flag + "\" must be a boolean");
    }
    c.ephemeral = cj.value("ephemeral", false);
    c.is_mutable = cj.value("mutable", true);
    c.index = t.columns.size();
    t.columns.push_back(std::move(c));
  }
  for (const ColumnSchema& c : t.columns) t.by_name.emplace(c.name, c.index);
  if (j.contains("maxRows")) {
    auto v = GetCount(j["maxRows"], "maxRows");
    if (!v) return Invalid(where + ": " + v.error().message);
    if (*v == 0) return Invalid(where + ": maxRows must be at least 1");
    t.max_rows = *v;
  }
  if (j.contains("isRoot")) {
    if (!j["isRoot"].is_boolean()) return Invalid(where + ": \"isRoot\" must be a boolean");
    t.is_root = j["isRoot"].get<bool>();
  }
  if (j.contains("indexes")) {
    if (!j["indexes"].is_array()) return Invalid(where + ": \"indexes\" must be an array");
    for (const json& ij : j["indexes"]) {
      if (!ij.is_array() || ij.empty()) {
        return Invalid(where + ": each index must be a non-empty array of column names");
      }
      std::vector<size_t> idx;
      for (const json& cn : ij) {
        const ColumnSchema* c = cn.is_string() ? t.FindColumn(cn.get<std::string>()) : nullptr;
        if (!c) return Invalid(where + ": index refers to unknown column " + cn.dump());
        if (c->implicit) return Invalid(where + ": column " + c->name + " cannot be indexed");
        if (c->ephemeral) {
          return Invalid(where + ": ephemeral columns (such as " + c->name +
                         ") may not be indexed");
        }
        if (std::find(idx.begin(), idx.end(), c->index) != idx.end()) {
          return Invalid(where + ": index lists column " + c->name + " twice");
        }
        idx.push_back(c->index);
      }
      t.indexes.push_back(std::move(idx));
    }
  }
  return t;
}

}  // namespace

bool BaseType::HasConstraints() const {
  return enum_values || min_integer != std::numeric_limits<int64_t>::min() ||
         max_integer != std::numeric_limits<int64_t>::max() ||
         min_real != std::numeric_limits<double>::lowest() ||
         max_real != std::numeric_limits<double>::max() || min_length != 0 ||
         max_length != kUnlimited || IsRef();
}

BaseType BaseType::Unconstrained() const {
  BaseType b;
  b.type = type;
  b.ref_table = ref_table;
  b.ref_type = ref_type;
  return b;
}

Result<BaseType> BaseType::FromJson(const json& j) {
  BaseType b;
  if (j.is_string()) {
    auto t = ParseAtomicType(j.get<std::string>());
    if (!t) return Invalid("unknown atomic type " + j.dump());
    b.type = *t;
    return b;
  }
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    return Invalid("base type must be an atomic type name or an object with \"type\"");
  }
  auto t = ParseAtomicType(j["type"].get<std::string>());
  if (!t) return Invalid("unknown atomic type " + j["type"].dump());
  b.type = *t;
  Result<void> members;
  switch (b.type) {
    case AtomicType::kInteger:
      members = OnlyMembers(j, {"type", "enum", "minInteger", "maxInteger"}, "integer type");
      break;
    case AtomicType::kReal:
      members = OnlyMembers(j, {"type", "enum", "minReal", "maxReal"}, "real type");
      break;
    case AtomicType::kString:
      members = OnlyMembers(j, {"type", "enum", "minLength", "maxLength"}, "string type");
      break;
    case AtomicType::kUuid:
      members = OnlyMembers(j, {"type", "enum", "refTable", "refType"}, "uuid type");
      break;
    default:
      members = OnlyMembers(j, {"type", "enum"}, std::string(AtomicTypeName(b.type)) + " type");
  }
  if (!members) return std::unexpected(members.error());
  if (j.contains("minInteger")) {
    auto v = GetInt(j["minInteger"], "minInteger");
    if (!v) return std::unexpected(v.error());
    b.min_integer = *v;
  }
  if (j.contains("maxInteger")) {
    auto v = GetInt(j["maxInteger"], "maxInteger");
    if (!v) return std::unexpected(v.error());
    b.max_integer = *v;
  }
  if (b.min_integer > b.max_integer) return Invalid("minInteger exceeds maxInteger");
  for (auto [name, field] : {std::pair{"minReal", &b.min_real}, {"maxReal", &b.max_real}}) {
    if (!j.contains(name)) continue;
    if (!j[name].is_number()) return Invalid(std::string(name) + " must be a number");
    *field = j[name].get<double>();
  }
  if (b.min_real > b.max_real) return Invalid("minReal exceeds maxReal");
  for (auto [name, field] : {std::pair{"minLength", &b.min_length}, {"maxLength", &b.max_length}}) {
    if (!j.contains(name)) continue;
    auto v = GetCount(j[name], name);
    if (!v) return std::unexpected(v.error());
    *field = *v;
  }
  if (b.min_length > b.max_length) return Invalid("minLength exceeds maxLength");
  if (j.contains("refTable")) {
    if (!j["refTable"].is_string() || !IsId(j["refTable"].get<std::string>())) {
      return Invalid("refTable must be a table name");
    }
    b.ref_table = j["refTable"].get<std::string>();
  }
  if (j.contains("refType")) {
    if (b.ref_table.empty()) return Invalid("refType is only allowed with refTable");
    if (j["refType"] == "strong") {
      b.ref_type = RefType::kStrong;
    } else if (j["refType"] == "weak") {
      b.ref_type = RefType::kWeak;
    } else {
      return Invalid("refType must be \"strong\" or \"weak\", not " + j["refType"].dump());
    }
  }
  if (j.contains("enum")) {
    Type et;
    et.key = b.Unconstrained();
    et.key.ref_table.clear();
    et.min = 1;
    et.max = kUnlimited;
    auto d = DatumFromJson(j["enum"], et, nullptr);
    if (!d) return Invalid("invalid enum: " + d.error().details);
    b.enum_values = std::move(d->keys);
  }
  return b;
}

json BaseType::ToJson() const {
  if (!HasConstraints()) return std::string(AtomicTypeName(type));
  json j = {{"type", AtomicTypeName(type)}};
  if (enum_values) {
    // Always the tagged form so a one-value enum reads as a set.
    json elems = json::array();
    for (const Atom& a : *enum_values) elems.push_back(AtomToJson(a));
    j["enum"] = json::array({"set", elems});
  }
  if (min_integer != std::numeric_limits<int64_t>::min()) j["minInteger"] = min_integer;
  if (max_integer != std::numeric_limits<int64_t>::max()) j["maxInteger"] = max_integer;
  if (min_real != std::numeric_limits<double>::lowest()) j["minReal"] = min_real;
  if (max_real != std::numeric_limits<double>::max()) j["maxReal"] = max_real;
  if (min_length != 0) j["minLength"] = min_length;
  if (max_length != kUnlimited) j["maxLength"] = max_length;
  if (IsRef()) {
    j["refTable"] = ref_table;
    if (ref_type == RefType::kWeak) j["refType"] = "weak";
  }
  return j;
}

Type Type::Scalar(AtomicType t) {
  Type type;
  type.key.type = t;
  return type;
}

Result<Type> Type::FromJson(const json& j) {
  Type t;
  if (j.is_string()) {
    auto k = BaseType::FromJson(j);
    if (!k) return std::unexpected(k.error());
    if (k->type == AtomicType::kVoid) return Invalid("column type may not be void");
    t.key = std::move(*k);
    return t;
  }
  if (!j.is_object()) return Invalid("type must be a string or an object");
  if (auto r = OnlyMembers(j, {"key", "value", "min", "max"}, "type"); !r) {
    return std::unexpected(r.error());
  }
  if (!j.contains("key")) return Invalid("type object requires \"key\"");
  auto k = BaseType::FromJson(j["key"]);
  if (!k) return std::unexpected(k.error());
  if (k->type == AtomicType::kVoid) return Invalid("key type may not be void");
  t.key = std::move(*k);
  if (j.contains("value")) {
    auto v = BaseType::FromJson(j["value"]);
    if (!v) return std::unexpected(v.error());
    if (v->type == AtomicType::kVoid) return Invalid("value type may not be void");
    t.value = std::move(*v);
  }
  if (j.contains("min")) {
    auto v = GetCount(j["min"], "min");
    if (!v) return std::unexpected(v.error());
    if (*v > 1) return Invalid("min must be 0 or 1");
    t.min = *v;
  }
  if (j.contains("max")) {
    if (j["max"] == "unlimited") {
      t.max = kUnlimited;
    } else {
      auto v = GetCount(j["max"], "max");
      if (!v) return Invalid("max must be a positive integer or \"unlimited\"");
      if (*v < 1) return Invalid("max must be at least 1");
      t.max = *v;
    }
  }
  if (t.max < t.min) return Invalid("max is less than min");
  return t;
}

json Type::ToJson() const {
  if (!IsMap() && min == 1 && max == 1 && !key.HasConstraints()) {
    return std::string(AtomicTypeName(key.type));
  }
  json j = {{"key", key.ToJson()}};
  if (IsMap()) j["value"] = value.ToJson();
  if (min != 1) j["min"] = min;
  if (max == kUnlimited) {
    j["max"] = "unlimited";
  } else if (max != 1) {
    j["max"] = max;
  }
  return j;
}

std::string Type::ToEnglish() const {
  std::string k(AtomicTypeName(key.type));
  if (IsMap()) return "map of " + k + "-" + std::string(AtomicTypeName(value.type)) + " pairs";
  if (IsScalar()) return k;
  if (IsOptionalScalar()) return "optional " + k;
  std::string range = max == kUnlimited ? std::to_string(min) + " or more"
                                        : std::to_string(min) + " to " + std::to_string(max);
  return "set of " + range + " " + k + "s";
}

const ColumnSchema* TableSchema::FindColumn(std::string_view name) const {
  auto it = by_name.find(std::string(name));
  return it == by_name.end() ? nullptr : &columns[it->second];
}

json TableSchema::ToJson() const {
  json cols = json::object();
  for (const ColumnSchema& c : columns) {
    if (c.implicit) continue;
    json cj = {{"type", c.type.ToJson()}};
    if (c.ephemeral) cj["ephemeral"] = true;
    if (!c.is_mutable) cj["mutable"] = false;
    cols[c.name] = std::move(cj);
  }
  json j = {{"columns", std::move(cols)}};
  if (max_rows) j["maxRows"] = *max_rows;
  if (is_root) j["isRoot"] = true;
  if (!indexes.empty()) {
    json idx = json::array();
    for (const auto& index : indexes) {
      json names = json::array();
      for (size_t c : index) names.push_back(columns[c].name);
      idx.push_back(std::move(names));
    }
    j["indexes"] = std::move(idx);
  }
  return j;
}

const TableSchema* DatabaseSchema::FindTable(std::string_view name) const {
  auto it = tables.find(std::string(name));
  return it == tables.end() ? nullptr : &it->second;
}

Result<DatabaseSchema> DatabaseSchema::FromJson(const json& j) {
  if (!j.is_object()) return Invalid("database schema must be a JSON object");
  if (auto r = OnlyMembers(j, {"name", "version", "cksum", "tables"}, "database schema"); !r) {
    return std::unexpected(r.error());
  }
  DatabaseSchema s;
  if (!j.contains("name") || !j["name"].is_string() || !IsId(j["name"].get<std::string>())) {
    return Invalid("database schema: \"name\" must be an identifier");
  }
  s.name = j["name"].get<std::string>();
  if (j.contains("version")) {
    if (!j["version"].is_string() || !IsVersion(j["version"].get<std::string>())) {
      return Invalid("database schema: \"version\" must be of the form x.y.z");
    }
    s.version = j["version"].get<std::string>();
  }
  if (j.contains("cksum")) {
    if (!j["cksum"].is_string()) return Invalid("database schema: \"cksum\" must be a string");
    s.cksum = j["cksum"].get<std::string>();
  }
  if (!j.contains("tables") || !j["tables"].is_object()) {
    return Invalid("database schema: \"tables\" object is required");
  }
  for (const auto& [name, tj] : j["tables"].items()) {
    if (!IsId(name)) return Invalid("table name \"" + name + "\" is not an identifier");
    if (name[0] == '_')
      return Invalid("table " + name + ": names beginning with \"_\" are reserved");
    auto t = TableFromJson(name, tj);
    if (!t) return std::unexpected(t.error());
    s.tables.emplace(name, std::move(*t));
  }
  bool any_root = false;
  for (auto& [name, t] : s.tables) {
    any_root |= t.is_root;
    for (const ColumnSchema& c : t.columns) {
      for (const BaseType* b : {&c.type.key, &c.type.value}) {
        if (b->IsRef() && !s.tables.contains(b->ref_table)) {
          return Invalid("table " + name + " column " + c.name +
                         ": reference to nonexistent table " + b->ref_table);
        }
      }
    }
  }
  // Schemas predating isRoot had no garbage collection: treat every table as a root then.
  if (!any_root) {
    for (auto& [_, t] : s.tables) t.is_root = true;
  }
  return s;
}

Result<DatabaseSchema> DatabaseSchema::FromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return MakeError(Errc::kIo, "cannot open schema " + path, errno);
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded()) return Invalid(path + ": not valid JSON");
  auto s = FromJson(j);
  if (!s) return Invalid(path + ": " + s.error().message);
  return s;
}

json DatabaseSchema::ToJson() const {
  json tj = json::object();
  for (const auto& [name, t] : tables) tj[name] = t.ToJson();
  json j = {{"name", name}, {"tables", std::move(tj)}};
  if (!version.empty()) j["version"] = version;
  if (!cksum.empty()) j["cksum"] = cksum;
  return j;
}

bool IsIdentifier(const std::string& s) { return IsId(s); }

}  // namespace sluice::db
