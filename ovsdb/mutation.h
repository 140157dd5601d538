// OVSDB mutations (RFC 7047 §5.1 <mutation>) for the "mutate" operation.
#pragma once

#include <concepts>
#include <vector>

#include <nlohmann/json.hpp>

#include "ovsdb/datum.h"
#include "ovsdb/error.h"
#include "ovsdb/schema.h"

namespace sluice::db {

class JsonNode;

enum class Mutator { kAdd, kSub, kMul, kDiv, kMod, kInsert, kDelete };

struct Mutation {
  size_t column = 0;
  Mutator mutator = Mutator::kAdd;
  Datum arg;
};

DbResult<std::vector<Mutation>> ParseMutations(const nlohmann::json& mutations,
                                               const TableSchema& table, SymbolTable* symtab);
template <std::same_as<JsonNode> J>
DbResult<std::vector<Mutation>> ParseMutations(const J& mutations, const TableSchema& table,
                                               SymbolTable* symtab);
// "insert" and "delete" (which a transaction may keep as a DatumDelta) vs. arithmetic.
bool IsSetMutator(Mutator m);
// Applies `m` to `d`, the value of column `m.column` of `table`, and checks the result against
// the column's type. On error `d` may be partly mutated (the transaction is abandoned anyway).
DbResult<void> ApplyMutation(const Mutation& m, const TableSchema& table, Datum& d);
// The error of a mutation whose result breaks the column's constraints (`cause`: CheckDatum's).
OvsdbError MutationError(const Mutation& m, const TableSchema& table, const OvsdbError& cause);
// Element count of a column after a mutation, as CheckDatum reports it when out of range.
DbResult<void> CheckSize(const Type& type, size_t n);

}  // namespace sluice::db
