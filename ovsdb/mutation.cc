#include "ovsdb/mutation.h"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "ovsdb/json_doc.h"

namespace sluice::db {

using nlohmann::json;

namespace {

struct MutatorName {
  std::string_view name;
  Mutator mutator;
};

constexpr MutatorName kMutators[] = {
    {"+=", Mutator::kAdd},        {"-=", Mutator::kSub}, {"*=", Mutator::kMul},
    {"/=", Mutator::kDiv},        {"%=", Mutator::kMod}, {"insert", Mutator::kInsert},
    {"delete", Mutator::kDelete},
};

std::string_view NameOf(Mutator m) {
  for (const auto& n : kMutators) {
    if (n.mutator == m) return n.name;
  }
  return "?";
}

bool IsArithmetic(Mutator m) { return m != Mutator::kInsert && m != Mutator::kDelete; }

DbResult<int64_t> IntOp(Mutator m, int64_t a, int64_t b) {
  int64_t r = 0;
  bool overflow = false;
  switch (m) {
    case Mutator::kAdd:
      overflow = __builtin_add_overflow(a, b, &r);
      break;
    case Mutator::kSub:
      overflow = __builtin_sub_overflow(a, b, &r);
      break;
    case Mutator::kMul:
      overflow = __builtin_mul_overflow(a, b, &r);
      break;
    case Mutator::kDiv:
    case Mutator::kMod:
      if (b == 0) return DbErr("domain error", "Division by zero.");
      if (a == INT64_MIN && b == -1) {
        overflow = m == Mutator::kDiv;
        r = 0;
      } else {
        r = m == Mutator::kDiv ? a / b : a % b;
      }
      break;
    default:
      break;
  }
  if (overflow) {
    return DbErr("range error",
                 "Result of \"" + std::string(NameOf(m)) + "\" operation is out of range.");
  }
  return r;
}

DbResult<double> RealOp(Mutator m, double a, double b) {
  double r = 0;
  switch (m) {
    case Mutator::kAdd:
      r = a + b;
      break;
    case Mutator::kSub:
      r = a - b;
      break;
    case Mutator::kMul:
      r = a * b;
      break;
    case Mutator::kDiv:
      if (b == 0) return DbErr("domain error", "Division by zero.");
      r = a / b;
      break;
    default:
      break;
  }
  if (!std::isfinite(r)) {
    return DbErr("range error",
                 "Result of \"" + std::string(NameOf(m)) + "\" operation is out of range.");
  }
  return r;
}

void Insert(Datum& d, const Datum& arg) {
  for (size_t i = 0; i < arg.size(); ++i) {
    if (d.Contains(arg.keys[i])) continue;  // existing map keys keep their value
    auto pos = std::lower_bound(d.keys.begin(), d.keys.end(), arg.keys[i]) - d.keys.begin();
    d.keys.insert(d.keys.begin() + pos, arg.keys[i]);
    if (d.is_map) d.values.insert(d.values.begin() + pos, arg.values[i]);
  }
}

void Delete(Datum& d, const Datum& arg) {
  for (size_t i = 0; i < arg.size(); ++i) {
    ptrdiff_t j = d.Find(arg.keys[i]);
    if (j < 0) continue;
    if (d.is_map && arg.is_map && d.values[j] != arg.values[i]) continue;
    d.keys.erase(d.keys.begin() + j);
    if (d.is_map) d.values.erase(d.values.begin() + j);
  }
}

}  // namespace

namespace {

template <class J>
DbResult<std::vector<Mutation>> ParseMutationsT(const J& mutations, const TableSchema& table,
                                                SymbolTable* symtab) {
  if (!mutations.is_array()) return SyntaxErr("\"mutations\" must be an array");
  std::vector<Mutation> out;
  for (const auto& mj : mutations) {
    if (!mj.is_array() || mj.size() != 3 || !mj[0].is_string() || !mj[1].is_string()) {
      return SyntaxErr("mutation must be [column, mutator, value], got " + mj.dump());
    }
    std::string cname(StrOf(mj[0]));
    const ColumnSchema* col = table.FindColumn(cname);
    if (!col)
      return DbErr("unknown column", "No column " + cname + " in table " + table.name + ".");
    std::string mname(StrOf(mj[1]));
    const MutatorName* mn = nullptr;
    for (const auto& m : kMutators) {
      if (m.name == mname) mn = &m;
    }
    if (!mn) return DbErr("unknown mutator", "No mutator named " + mname + ".");
    if (!col->is_mutable) {
      return DbErr("constraint violation",
                   "Cannot mutate immutable column " + cname + " in table " + table.name + ".");
    }
    Mutation m;
    m.column = col->index;
    m.mutator = mn->mutator;
    const Type& t = col->type;
    Type arg_type;
    arg_type.key = t.key.Unconstrained();
    if (IsArithmetic(m.mutator)) {
      bool ok = !t.IsMap() && (t.key.type == AtomicType::kInteger ||
                               (t.key.type == AtomicType::kReal && m.mutator != Mutator::kMod));
      if (!ok) {
        return SyntaxErr("Type mismatch: \"" + mname + "\" operator may not be applied to column " +
                         cname + " of type " + t.ToEnglish() + ".");
      }
    } else {
      arg_type.min = 0;
      arg_type.max = kUnlimited;
      bool tagged_map = mj[2].is_array() && mj[2].size() == 2 && mj[2][0] == "map";
      // "delete" on a map takes either pairs to remove or a set of keys to remove.
      if (t.IsMap() && (m.mutator == Mutator::kInsert || tagged_map)) {
        arg_type.value = t.value.Unconstrained();
      }
    }
    auto arg = DatumFromJson(mj[2], arg_type, symtab);
    if (!arg) return std::unexpected(arg.error());
    m.arg = std::move(*arg);
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

DbResult<std::vector<Mutation>> ParseMutations(const json& mutations, const TableSchema& table,
                                               SymbolTable* symtab) {
  return ParseMutationsT(mutations, table, symtab);
}

template <std::same_as<JsonNode> J>
DbResult<std::vector<Mutation>> ParseMutations(const J& mutations, const TableSchema& table,
                                               SymbolTable* symtab) {
  return ParseMutationsT(mutations, table, symtab);
}
template DbResult<std::vector<Mutation>> ParseMutations(const JsonNode& mutations,
                                                        const TableSchema& table,
                                                        SymbolTable* symtab);

bool IsSetMutator(Mutator m) { return !IsArithmetic(m); }

OvsdbError MutationError(const Mutation& m, const TableSchema& table, const OvsdbError& cause) {
  return OvsdbError{"constraint violation",
                    "Column " + table.columns[m.column].name + " in table " + table.name +
                        " after \"" + std::string(NameOf(m.mutator)) + "\": " + cause.details};
}

DbResult<void> CheckSize(const Type& type, size_t n) {
  if (n < type.min || n > type.max) {
    std::string max = type.max == kUnlimited ? "unlimited" : std::to_string(type.max);
    return DbErr("constraint violation", type.ToEnglish() + " must have " +
                                             std::to_string(type.min) + " to " + max +
                                             " members but " + std::to_string(n) + " are present");
  }
  return {};
}

DbResult<void> ApplyMutation(const Mutation& m, const TableSchema& table, Datum& d) {
  const ColumnSchema& col = table.columns[m.column];
  if (IsArithmetic(m.mutator)) {
    for (Atom& a : d.keys) {
      if (auto* i = std::get_if<int64_t>(&a)) {
        auto r = IntOp(m.mutator, *i, std::get<int64_t>(m.arg.keys[0]));
        if (!r) return std::unexpected(r.error());
        *i = *r;
      } else {
        double& x = std::get<double>(a);
        auto r = RealOp(m.mutator, x, std::get<double>(m.arg.keys[0]));
        if (!r) return std::unexpected(r.error());
        x = *r;
      }
    }
    if (!d.Sort()) {
      return DbErr("constraint violation", "Result of \"" + std::string(NameOf(m.mutator)) +
                                               "\" operation on column " + col.name +
                                               " contains duplicate values.");
    }
  } else if (m.mutator == Mutator::kInsert) {
    Insert(d, m.arg);
  } else {
    Delete(d, m.arg);
  }
  if (auto r = CheckDatum(d, col.type); !r)
    return std::unexpected(MutationError(m, table, r.error()));
  return {};
}

}  // namespace sluice::db
