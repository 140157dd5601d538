// OVSDB schema model (RFC 7047 §3.2) with OVS extensions (indexes, ephemeral, mutable).
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "ovsdb/atom.h"
#include "sluice/result.h"

namespace sluice::db {

inline constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();

enum class RefType { kStrong, kWeak };

struct BaseType {
  AtomicType type = AtomicType::kVoid;
  std::optional<std::vector<Atom>> enum_values;  // sorted, unique
  int64_t min_integer = std::numeric_limits<int64_t>::min();
  int64_t max_integer = std::numeric_limits<int64_t>::max();
  double min_real = std::numeric_limits<double>::lowest();
  double max_real = std::numeric_limits<double>::max();
  uint64_t min_length = 0;
  uint64_t max_length = kUnlimited;
  std::string ref_table;  // non-empty only for uuid
  RefType ref_type = RefType::kStrong;

  bool IsRef() const { return !ref_table.empty(); }
  bool IsStrongRef() const { return IsRef() && ref_type == RefType::kStrong; }
  bool IsWeakRef() const { return IsRef() && ref_type == RefType::kWeak; }
  bool HasConstraints() const;
  // Same atomic type and reference, no value constraints (used for condition arguments).
  BaseType Unconstrained() const;

  static Result<BaseType> FromJson(const nlohmann::json& json);
  nlohmann::json ToJson() const;
};

struct Type {
  BaseType key;
  BaseType value;  // type kVoid for sets
  uint64_t min = 1;
  uint64_t max = 1;  // kUnlimited for "unlimited"

  bool IsMap() const { return value.type != AtomicType::kVoid; }
  bool IsScalar() const { return min == 1 && max == 1 && !IsMap(); }
  bool IsOptionalScalar() const { return min == 0 && max == 1 && !IsMap(); }

  static Type Scalar(AtomicType t);
  static Result<Type> FromJson(const nlohmann::json& json);
  nlohmann::json ToJson() const;
  // "set of 0 to 5 integers" style text for error messages.
  std::string ToEnglish() const;
};

struct ColumnSchema {
  std::string name;
  Type type;
  bool is_mutable = true;
  bool ephemeral = false;
  bool implicit = false;  // _uuid and _version
  size_t index = 0;       // position in TableSchema::columns and Row::columns
};

inline constexpr size_t kUuidColumn = 0;
inline constexpr size_t kVersionColumn = 1;

struct TableSchema {
  std::string name;
  std::vector<ColumnSchema> columns;  // [0] = _uuid, [1] = _version, then declared columns
  std::optional<uint64_t> max_rows;
  bool is_root = false;
  std::vector<std::vector<size_t>> indexes;  // column indexes of each unique index

  const ColumnSchema* FindColumn(std::string_view name) const;
  nlohmann::json ToJson() const;

  std::unordered_map<std::string, size_t> by_name;
};

// An RFC 7047 <id>: [a-zA-Z_][a-zA-Z0-9_]* (table, column and lock names).
bool IsIdentifier(const std::string& s);

struct DatabaseSchema {
  std::string name;
  std::string version;
  std::string cksum;
  std::map<std::string, TableSchema> tables;

  const TableSchema* FindTable(std::string_view name) const;
  static Result<DatabaseSchema> FromJson(const nlohmann::json& json);
  static Result<DatabaseSchema> FromFile(const std::string& path);
  nlohmann::json ToJson() const;
};

}  // namespace sluice::db
