// OVSDB conditions (RFC 7047 §5.1 <condition>), shared by transactions and monitor_cond.
#pragma once

#include <concepts>
#include <vector>

#include <nlohmann/json.hpp>

#include "ovsdb/datum.h"
#include "ovsdb/error.h"
#include "ovsdb/row.h"
#include "ovsdb/schema.h"

namespace sluice::db {

class JsonNode;

enum class Function { kTrue, kFalse, kLt, kLe, kEq, kNe, kGe, kGt, kIncludes, kExcludes };

struct Clause {
  Function function = Function::kTrue;
  size_t column = 0;
  Datum arg;
};

// Conjunction of clauses; empty matches every row.
struct Condition {
  std::vector<Clause> clauses;
};

// Parses a "where" array: [[column, function, value], ...] and, as OVS allows, true/false.
DbResult<Condition> ParseCondition(const nlohmann::json& where, const TableSchema& table,
                                   SymbolTable* symtab);
template <std::same_as<JsonNode> J>
DbResult<Condition> ParseCondition(const J& where, const TableSchema& table, SymbolTable* symtab);
bool Matches(const Condition& condition, const Row& row);
bool Matches(const Clause& clause, const Row& row);
// Whether `clause` (not kTrue/kFalse) holds for a column whose value is `value`.
bool ClauseHolds(const Clause& clause, const Datum& value);
// For clauses on _uuid or _version: whether it holds for that uuid.
bool ClauseHoldsForUuid(const Clause& clause, const Uuid& uuid);

}  // namespace sluice::db
