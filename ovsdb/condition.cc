#include "ovsdb/condition.h"

#include <string_view>

#include "ovsdb/json_doc.h"

namespace sluice::db {

using nlohmann::json;

namespace {

struct FunctionName {
  std::string_view name;
  Function function;
};

constexpr FunctionName kFunctions[] = {
    {"<", Function::kLt},
    {"<=", Function::kLe},
    {"==", Function::kEq},
    {"!=", Function::kNe},
    {">=", Function::kGe},
    {">", Function::kGt},
    {"includes", Function::kIncludes},
    {"excludes", Function::kExcludes},
};

bool IsOrdering(Function f) {
  return f == Function::kLt || f == Function::kLe || f == Function::kGe || f == Function::kGt;
}

}  // namespace

namespace {

template <class J>
DbResult<Condition> ParseConditionT(const J& where, const TableSchema& table, SymbolTable* symtab) {
  if (!where.is_array()) return SyntaxErr("\"where\" must be an array of clauses");
  Condition cond;
  for (const auto& cj : where) {
    Clause clause;
    if (cj.is_boolean()) {
      clause.function = BoolOf(cj) ? Function::kTrue : Function::kFalse;
      cond.clauses.push_back(std::move(clause));
      continue;
    }
    if (!cj.is_array() || cj.size() != 3 || !cj[0].is_string() || !cj[1].is_string()) {
      return SyntaxErr("clause must be [column, function, value], got " + cj.dump());
    }
    std::string cname(StrOf(cj[0]));
    const ColumnSchema* col = table.FindColumn(cname);
    if (!col)
      return DbErr("unknown column", "No column " + cname + " in table " + table.name + ".");
    std::string fname(StrOf(cj[1]));
    const FunctionName* fn = nullptr;
    for (const auto& f : kFunctions) {
      if (f.name == fname) fn = &f;
    }
    if (!fn) return DbErr("unknown function", "No function named " + fname + ".");
    clause.function = fn->function;
    clause.column = col->index;
    // Arguments are compared, not stored, so value constraints do not apply to them.
    Type arg_type;
    arg_type.key = col->type.key.Unconstrained();
    arg_type.value = col->type.value.Unconstrained();
    if (IsOrdering(fn->function)) {
      const Type& t = col->type;
      if (!(t.IsScalar() || t.IsOptionalScalar()) ||
          (t.key.type != AtomicType::kInteger && t.key.type != AtomicType::kReal)) {
        return SyntaxErr("Type mismatch: \"" + fname + "\" operator may not be applied to column " +
                         cname + " of type " + t.ToEnglish() + ".");
      }
    } else if (fn->function == Function::kEq || fn->function == Function::kNe) {
      arg_type.min = 0;
      arg_type.max = col->type.max;
    } else {
      arg_type.min = 0;
      arg_type.max = kUnlimited;
    }
    auto arg = DatumFromJson(cj[2], arg_type, symtab);
    if (!arg) return std::unexpected(arg.error());
    clause.arg = std::move(*arg);
    cond.clauses.push_back(std::move(clause));
  }
  return cond;
}

}  // namespace

DbResult<Condition> ParseCondition(const json& where, const TableSchema& table,
                                   SymbolTable* symtab) {
  return ParseConditionT(where, table, symtab);
}

template <std::same_as<JsonNode> J>
DbResult<Condition> ParseCondition(const J& where, const TableSchema& table, SymbolTable* symtab) {
  return ParseConditionT(where, table, symtab);
}
template DbResult<Condition> ParseCondition(const JsonNode& where, const TableSchema& table,
                                            SymbolTable* symtab);

bool ClauseHolds(const Clause& clause, const Datum& value) {
  switch (clause.function) {
    case Function::kTrue:
      return true;
    case Function::kFalse:
      return false;
    case Function::kEq:
      return value == clause.arg;
    case Function::kNe:
      return value != clause.arg;
    case Function::kIncludes:
      return value.Includes(clause.arg);
    case Function::kExcludes:
      return value.Excludes(clause.arg);
    default:
      break;
  }
  // Ordering on an empty optional scalar is false for every function, as in OVS.
  if (value.empty()) return false;
  const Atom& a = value.keys[0];
  const Atom& b = clause.arg.keys[0];
  switch (clause.function) {
    case Function::kLt:
      return a < b;
    case Function::kLe:
      return a <= b;
    case Function::kGe:
      return a >= b;
    case Function::kGt:
      return a > b;
    default:
      return false;
  }
}

bool ClauseHoldsForUuid(const Clause& clause, const Uuid& uuid) {
  const Datum& arg = clause.arg;
  bool one = arg.size() == 1 && std::get<Uuid>(arg.keys[0]) == uuid;
  switch (clause.function) {
    case Function::kTrue:
      return true;
    case Function::kFalse:
      return false;
    case Function::kEq:
    case Function::kIncludes:
      // A scalar includes an argument when every element of it is the scalar.
      return clause.function == Function::kEq ? one : arg.empty() || one;
    case Function::kNe:
      return !one;
    case Function::kExcludes:
      return !arg.Contains(UuidAtom(uuid));
    default:
      return false;  // ordering functions are refused for uuids at parse time
  }
}

bool Matches(const Clause& clause, const Row& row) {
  if (clause.function == Function::kTrue) return true;
  if (clause.function == Function::kFalse) return false;
  if (clause.column == kUuidColumn) return ClauseHoldsForUuid(clause, row.uuid());
  if (clause.column == kVersionColumn) return ClauseHoldsForUuid(clause, row.version());
  return ClauseHolds(clause, row.Get(clause.column));
}

bool Matches(const Condition& condition, const Row& row) {
  for (const Clause& c : condition.clauses) {
    if (!Matches(c, row)) return false;
  }
  return true;
}

}  // namespace sluice::db
