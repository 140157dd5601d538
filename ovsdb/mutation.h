// OVSDB mutations (RFC 7047 §5.1 <mutation>) for the "mutate" operation.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "ovsdb/datum.h"
#include "ovsdb/error.h"
#include "ovsdb/row.h"
#include "ovsdb/schema.h"

namespace sluice::db {

enum class Mutator { kAdd, kSub, kMul, kDiv, kMod, kInsert, kDelete };

struct Mutation {
  size_t column = 0;
  Mutator mutator = Mutator::kAdd;
  Datum arg;
};

DbResult<std::vector<Mutation>> ParseMutations(const nlohmann::json& mutations,
                                               const TableSchema& table, SymbolTable* symtab);
// Applies all mutations to `row` in order; on error `row` may be partly mutated (the caller's
// transaction is abandoned anyway).
DbResult<void> ApplyMutations(const std::vector<Mutation>& mutations, const TableSchema& table,
                              Row& row);

}  // namespace sluice::db
