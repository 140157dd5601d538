// sluice-vsctl's database commands: get, set, add, remove, clear, list, find, create, destroy,
// wait-until and show, with ovs-vsctl's "COLUMN[:KEY]OP VALUE" argument syntax.
#include <algorithm>
#include <ctime>
#include <iostream>

#include "tools/vsctl/vsctl_commands.h"

namespace sluice::vsctl {

using db::Atom;
using db::Datum;
using db::Type;
using db::Uuid;

namespace {

void LogWarn(const std::string& module, const std::string& text) {
  char ts[32];
  std::time_t now = std::time(nullptr);
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::cerr << ts << "|00001|" << module << "|WARN|" << text << "\n";
}

// Parses "COLUMN[:KEY][OP VALUE]" (OP "=" unless `ops`), as ovs-vsctl's argument syntax.
struct ColumnArg {
  std::string column;
  std::optional<std::string> key;    // raw key token
  std::optional<std::string> value;  // raw text after the operator
  std::string op;
};

Res<ColumnArg> ParseColumnArg(const db::TableSchema& ts, const std::string& arg, bool want_value,
                              bool ops) {
  ColumnArg out;
  std::string_view s = arg;
  auto col = ParseToken(s);
  if (!col) return std::unexpected(col.error());
  auto cname = MatchColumn(ts, *col);
  if (!cname) return std::unexpected(cname.error());
  out.column = *cname;
  if (!s.empty() && s[0] == ':') {
    s.remove_prefix(1);
    auto key = ParseToken(s);
    if (!key) return std::unexpected(key.error());
    out.key = *key;
  }
  if (want_value) {
    static const std::vector<std::string> kOps = {"{!=}", "{<=}", "{>=}", "{=}", "{<}", "{>}",
                                                  "!=",   "<=",   ">=",   "=",   "<",   ">"};
    bool matched = false;
    if (ops) {
      for (const auto& op : kOps) {
        if (s.starts_with(op)) {
          out.op = op;
          s.remove_prefix(op.size());
          matched = true;
          break;
        }
      }
    } else if (!s.empty() && s[0] == '=') {
      out.op = "=";
      s.remove_prefix(1);
      matched = true;
    }
    if (!matched || s.empty()) {
      if (ops && !matched) {
        return Fail(
            arg +
            ": argument does not end in \"=\", \"!=\", \"<\", \">\", \"<=\", \">=\", "
            "\"{=}\", \"{!=}\", \"{<}\", \"{>}\", \"{<=}\", or \"{>=}\" followed by a value.");
      }
      return Fail(arg + ": argument does not end in \"=\" followed by a value.");
    }
    out.value = std::string(s);
  } else if (!s.empty()) {
    return Fail(arg + ": trailing garbage \"" + std::string(s) + "\" in argument");
  }
  return out;
}

Res<const db::TableSchema*> GetTable(WorkDb& db, const std::string& name) {
  auto t = MatchTable(db.schema(), name);
  if (!t) return std::unexpected(t.error());
  return db.schema().FindTable(*t);
}

Res<Row*> GetRecord(WorkDb& db, const db::TableSchema& ts, const std::string& id, bool must_exist) {
  auto r = FindRecord(db, ts.name, id);
  if (!r) return r;
  if (!*r && must_exist) return Fail("no row \"" + id + "\" in table " + ts.name);
  return r;
}

}  // namespace

Res<void> SetColumnArg(Ctx& c, Row* row, const std::string& arg, bool creating) {
  WorkDb& db = c.db;
  const db::TableSchema* ts = db.schema().FindTable(row->table);
  auto ca = ParseColumnArg(*ts, arg, true, false);
  if (!ca) return std::unexpected(ca.error());
  const db::ColumnSchema* cs = ts->FindColumn(ca->column);
  if (cs->implicit)
    return Fail("cannot modify read-only column " + cs->name + " in table " + ts->name);
  if (!cs->is_mutable && !creating && !row->inserted) {
    return Fail("cannot modify read-only column " + cs->name + " in table " + ts->name);
  }
  auto resolver = c.Resolver();
  if (ca->key) {
    if (!cs->type.IsMap()) {
      return Fail("cannot specify key to set for non-map column " + cs->name);
    }
    auto k = AtomFromString(*ca->key, cs->type.key, &resolver);
    if (!k) return std::unexpected(k.error());
    auto v = AtomFromString(*ca->value, cs->type.value, &resolver);
    if (!v) return std::unexpected(v.error());
    Datum d = db.Col(row, cs->name);
    auto i = d.Find(*k);
    if (i >= 0) {
      d.values[i] = *v;
    } else {
      d.keys.push_back(*k);
      d.values.push_back(*v);
      d.Sort();
    }
    if (d.size() > cs->type.max) {
      return Fail("\"set\" operation would put " + std::to_string(d.size()) + " pairs in column " +
                  cs->name + " of table " + ts->name + " but the maximum number is " +
                  std::to_string(cs->type.max));
    }
    db.Verify(row, cs->name);
    db.Set(row, cs->name, std::move(d));
    return {};
  }
  auto d = DatumFromString(*ca->value, cs->type, &resolver);
  if (!d) return std::unexpected(d.error());
  db.Set(row, cs->name, std::move(*d));
  return {};
}

namespace {

Res<void> CmdSet(Ctx& c, Cache&) {
  auto ts = GetTable(c.db, c.Arg(0));
  if (!ts) return std::unexpected(ts.error());
  auto row = GetRecord(c.db, **ts, c.Arg(1), !c.Has("--if-exists"));
  if (!row) return std::unexpected(row.error());
  if (!*row) return {};
  for (size_t i = 2; i < c.N(); ++i) {
    if (auto r = SetColumnArg(c, *row, c.Arg(i), false); !r) return r;
  }
  return {};
}

Res<void> CmdGet(Ctx& c, Cache&) {
  auto ts = GetTable(c.db, c.Arg(0));
  if (!ts) return std::unexpected(ts.error());
  bool if_exists = c.Has("--if-exists");
  auto row = GetRecord(c.db, **ts, c.Arg(1), !if_exists);
  if (!row) return std::unexpected(row.error());
  if (!*row) return {};
  if (c.Has("--id")) {
    auto s = c.DefineSymbol(c.Opt("--id"), (*row)->uuid);
    if (!s) return std::unexpected(s.error());
  }
  for (size_t i = 2; i < c.N(); ++i) {
    auto ca = ParseColumnArg(**ts, c.Arg(i), false, false);
    if (!ca) return std::unexpected(ca.error());
    const db::ColumnSchema* cs = (*ts)->FindColumn(ca->column);
    if (cs->name == "_uuid") {
      c.out += (*row)->uuid.ToString() + "\n";
      continue;
    }
    if (cs->implicit) {
      c.out += "\n";
      continue;
    }
    c.db.Verify(*row, cs->name);
    const Datum& d = c.db.Col(*row, cs->name);
    if (ca->key) {
      if (!cs->type.IsMap())
        return Fail("cannot specify key to get for non-map column " + cs->name);
      auto k = AtomFromString(*ca->key, cs->type.key, nullptr);
      if (!k) return std::unexpected(k.error());
      auto idx = d.Find(*k);
      if (idx < 0) {
        if (if_exists) {
          c.out += "\n";
          continue;
        }
        return Fail("no key \"" + *ca->key + "\" in " + (*ts)->name + " record \"" + c.Arg(1) +
                    "\" column " + cs->name);
      }
      c.out += AtomToText(d.values[idx]) + "\n";
    } else {
      c.out += DatumToText(d, cs->type) + "\n";
    }
  }
  return {};
}

Res<std::vector<std::string>> OutputColumns(Ctx& c, const db::TableSchema& ts) {
  std::vector<std::string> cols;
  if (c.Has("--columns")) {
    std::string spec = c.Opt("--columns");
    size_t pos = 0;
    while (pos <= spec.size()) {
      size_t comma = spec.find(',', pos);
      std::string name =
          spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      auto m = MatchColumn(ts, name);
      if (!m) return std::unexpected(m.error());
      cols.push_back(*m);
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
    return cols;
  }
  cols.push_back("_uuid");
  std::vector<std::string> rest;
  for (const auto& col : ts.columns) {
    if (!col.implicit) rest.push_back(col.name);
  }
  std::sort(rest.begin(), rest.end());
  cols.insert(cols.end(), rest.begin(), rest.end());
  return cols;
}

void AddOutputRow(WorkDb& db, OutputTable& t, Row* row, const std::vector<std::string>& cols) {
  std::vector<std::pair<Datum, Type>> cells;
  for (const auto& col : cols) {
    if (col == "_uuid") {
      cells.push_back(
          {Datum::Scalar(db::UuidAtom(row->uuid)), Type::Scalar(db::AtomicType::kUuid)});
    } else if (col == "_version") {
      cells.push_back({Datum{}, Type::Scalar(db::AtomicType::kUuid)});
    } else {
      cells.push_back({db.Col(row, col), db.TypeOf(row->table, col)});
    }
  }
  t.rows.push_back(std::move(cells));
}

// list and find: the table (argument 0) and the output's columns (--columns, else all).
struct Listing {
  const db::TableSchema* ts;
  std::vector<std::string> cols;
  OutputTable out;
};
Res<Listing> StartListing(Ctx& c) {
  auto ts = GetTable(c.db, c.Arg(0));
  if (!ts) return std::unexpected(ts.error());
  auto cols = OutputColumns(c, **ts);
  if (!cols) return std::unexpected(cols.error());
  Listing l{*ts, *cols, {}};
  l.out.headings = *cols;
  return l;
}

Res<void> CmdList(Ctx& c, Cache&) {
  auto l = StartListing(c);
  if (!l) return std::unexpected(l.error());
  if (c.N() == 1) {
    for (Row* r : c.db.Rows(l->ts->name)) AddOutputRow(c.db, l->out, r, l->cols);
  } else {
    for (size_t i = 1; i < c.N(); ++i) {
      auto row = GetRecord(c.db, *l->ts, c.Arg(i), !c.Has("--if-exists"));
      if (!row) return std::unexpected(row.error());
      if (*row) AddOutputRow(c.db, l->out, *row, l->cols);
    }
  }
  c.out = FormatTable(l->out, c.opts());
  return {};
}

// One find / wait-until condition against a row.
Res<bool> ConditionHolds(Ctx& c, Row* row, const std::string& arg) {
  const db::TableSchema* ts = c.db.schema().FindTable(row->table);
  auto ca = ParseColumnArg(*ts, arg, true, true);
  if (!ca) return std::unexpected(ca.error());
  const db::ColumnSchema* cs = ts->FindColumn(ca->column);
  auto resolver = c.Resolver();
  Datum have;
  Type type = cs->type;
  if (cs->name == "_uuid") {
    have = Datum::Scalar(db::UuidAtom(row->uuid));
  } else {
    have = c.db.Col(row, cs->name);
  }
  if (ca->key) {
    if (!cs->type.IsMap())
      return Fail("cannot specify key to check for non-map column " + cs->name);
    auto k = AtomFromString(*ca->key, cs->type.key, &resolver);
    if (!k) return std::unexpected(k.error());
    Datum v;
    if (auto i = have.Find(*k); i >= 0) v.keys.push_back(have.values[i]);
    have = v;
    type = Type{};
    type.key = cs->type.value;
    type.min = 0;
    type.max = 1;
  }
  Type want_type = type;
  want_type.min = 0;
  if (ca->op.starts_with("{") || ca->op == "=" || ca->op == "!=") want_type.max = db::kUnlimited;
  auto want = DatumFromString(*ca->value, want_type, &resolver);
  if (!want) return std::unexpected(want.error());
  have.is_map = want->is_map;
  const std::string& op = ca->op;
  if (op == "=" || op == "{=}") return have == *want;
  if (op == "!=" || op == "{!=}") return !(have == *want);
  if (op == "<") return have < *want;
  if (op == ">") return have > *want;
  if (op == "<=") return have <= *want;
  if (op == ">=") return have >= *want;
  if (op == "{<}") return want->Includes(have) && !(have == *want);
  if (op == "{>}") return have.Includes(*want) && !(have == *want);
  if (op == "{<=}") return want->Includes(have);
  if (op == "{>=}") return have.Includes(*want);
  return Fail("unknown operator " + op);
}

Res<void> CmdFind(Ctx& c, Cache&) {
  auto l = StartListing(c);
  if (!l) return std::unexpected(l.error());
  for (Row* r : c.db.Rows(l->ts->name)) {
    bool all = true;
    for (size_t i = 1; i < c.N() && all; ++i) {
      auto ok = ConditionHolds(c, r, c.Arg(i));
      if (!ok) return std::unexpected(ok.error());
      all = *ok;
    }
    if (all) AddOutputRow(c.db, l->out, r, l->cols);
  }
  c.out = FormatTable(l->out, c.opts());
  return {};
}

Res<void> CmdWaitUntil(Ctx& c, Cache&) {
  auto ts = GetTable(c.db, c.Arg(0));
  if (!ts) return std::unexpected(ts.error());
  auto row = FindRecord(c.db, (*ts)->name, c.Arg(1));
  if (!row) return std::unexpected(row.error());
  if (!*row) {
    c.TryAgain();
    return {};
  }
  for (size_t i = 2; i < c.N(); ++i) {
    auto ok = ConditionHolds(c, *row, c.Arg(i));
    if (!ok) return std::unexpected(ok.error());
    if (!*ok) {
      c.TryAgain();
      return {};
    }
  }
  return {};
}

Res<std::pair<const db::TableSchema*, Row*>> TableAndRecord(Ctx& c) {
  auto ts = GetTable(c.db, c.Arg(0));
  if (!ts) return std::unexpected(ts.error());
  auto row = GetRecord(c.db, **ts, c.Arg(1), !c.Has("--if-exists"));
  if (!row) return std::unexpected(row.error());
  return std::make_pair(*ts, *row);
}

std::string CountNoun(const Type& t) { return t.IsMap() ? "pairs" : "values"; }

// "add" and "remove": the row and column (arguments 0-2), then `edit` applies each further
// argument (parsed with `any`: the column's type with any number of elements) to a copy of the
// column's value, which is stored unless it breaks the column's bounds (`op` names the command).
template <class Edit>
Res<void> EditColumn(Ctx& c, const char* op, Edit edit) {
  auto tr = TableAndRecord(c);
  if (!tr) return std::unexpected(tr.error());
  auto [ts, row] = *tr;
  if (!row) return {};
  auto col = MatchColumn(*ts, c.Arg(2));
  if (!col) return std::unexpected(col.error());
  const db::ColumnSchema* cs = ts->FindColumn(*col);
  if (!cs->is_mutable && !row->inserted) {
    return Fail("cannot modify read-only column " + cs->name + " in table " + ts->name);
  }
  Type any = cs->type;
  any.min = 0;
  any.max = db::kUnlimited;
  auto resolver = c.Resolver();
  Datum d = c.db.Col(row, cs->name);
  d.is_map = cs->type.IsMap();
  for (size_t i = 3; i < c.N(); ++i) {
    if (auto r = edit(d, *cs, any, c.Arg(i), resolver); !r) return r;
  }
  const Type& t = cs->type;
  bool over = d.size() > t.max;
  if (over || d.size() < t.min) {
    return Fail(std::string("\"") + op + "\" operation would put " + std::to_string(d.size()) +
                " " + CountNoun(t) + " in column " + cs->name + " of table " + ts->name +
                (over ? " but the maximum number is " + std::to_string(t.max)
                      : " but the minimum number is " + std::to_string(t.min)));
  }
  c.db.Verify(row, cs->name);
  c.db.Set(row, cs->name, std::move(d));
  return {};
}

Res<void> CmdAdd(Ctx& c, Cache&) {
  return EditColumn(c, "add",
                    [](Datum& d, const db::ColumnSchema&, const Type& any, const std::string& arg,
                       const SymbolResolver& resolver) -> Res<void> {
                      auto add = DatumFromString(arg, any, &resolver);
                      if (!add) return std::unexpected(add.error());
                      for (size_t k = 0; k < add->size(); ++k) {
                        auto at = d.Find(add->keys[k]);
                        if (at >= 0) {
                          if (d.is_map) d.values[at] = add->values[k];
                          continue;
                        }
                        d.keys.push_back(add->keys[k]);
                        if (d.is_map) d.values.push_back(add->values[k]);
                        d.Sort();
                      }
                      return {};
                    });
}

// Removes `key` (and its value) from `d` if there.
void EraseKey(Datum& d, const Atom& key) {
  auto at = d.Find(key);
  if (at < 0) return;
  d.keys.erase(d.keys.begin() + at);
  if (d.is_map) d.values.erase(d.values.begin() + at);
}

Res<void> CmdRemove(Ctx& c, Cache&) {
  return EditColumn(c, "remove",
                    [](Datum& d, const db::ColumnSchema& cs, const Type& any,
                       const std::string& arg, const SymbolResolver& resolver) -> Res<void> {
                      auto rm = DatumFromString(arg, any, &resolver);
                      if (rm && d.is_map) {  // key=value pairs
                        for (size_t k = 0; k < rm->size(); ++k) {
                          auto at = d.Find(rm->keys[k]);
                          if (at >= 0 && d.values[at] == rm->values[k]) EraseKey(d, rm->keys[k]);
                        }
                        return {};
                      }
                      if (d.is_map) {  // a set of keys
                        Type keys;
                        keys.key = cs.type.key;
                        keys.min = 0;
                        keys.max = db::kUnlimited;
                        rm = DatumFromString(arg, keys, &resolver);
                      }
                      if (!rm) return std::unexpected(rm.error());
                      for (const auto& k : rm->keys) EraseKey(d, k);
                      return {};
                    });
}

Res<void> CmdClear(Ctx& c, Cache&) {
  auto tr = TableAndRecord(c);
  if (!tr) return std::unexpected(tr.error());
  auto [ts, row] = *tr;
  if (!row) return {};
  for (size_t i = 2; i < c.N(); ++i) {
    auto col = MatchColumn(*ts, c.Arg(i));
    if (!col) return std::unexpected(col.error());
    const db::ColumnSchema* cs = ts->FindColumn(*col);
    if (!cs->is_mutable && !row->inserted) {
      return Fail("cannot modify read-only column " + cs->name + " in table " + ts->name);
    }
    if (cs->type.min > 0) {
      return Fail("\"clear\" operation cannot be applied to column " + cs->name + " of table " +
                  ts->name + ", which is not allowed to be empty");
    }
    c.db.Clear(row, cs->name);
  }
  return {};
}

Res<void> CmdCreate(Ctx& c, Cache&) {
  auto ts = GetTable(c.db, c.Arg(0));
  if (!ts) return std::unexpected(ts.error());
  std::optional<Uuid> uuid;
  if (c.Has("--id")) {
    auto s = c.DefineSymbol(c.Opt("--id"), std::nullopt);
    if (!s) return std::unexpected(s.error());
    uuid = *s;
  } else if (!(*ts)->is_root) {
    LogWarn("db_ctl_base", "applying \"create\" command to table " + (*ts)->name +
                               " without --id option will have no effect");
  }
  Row* row = c.db.Insert((*ts)->name, uuid);
  for (size_t i = 1; i < c.N(); ++i) {
    if (auto r = SetColumnArg(c, row, c.Arg(i), true); !r) return r;
  }
  c.Created(row->uuid);
  return {};
}

Res<void> CmdDestroy(Ctx& c, Cache&) {
  auto ts = GetTable(c.db, c.Arg(0));
  if (!ts) return std::unexpected(ts.error());
  bool all = c.Has("--all");
  if (all && c.N() > 1) return Fail("--all and records argument should not be specified together");
  if (!all && c.N() == 1) return Fail("either --all or records argument should be specified");
  if (all) {
    for (Row* r : c.db.Rows((*ts)->name)) c.db.Delete(r);
    return {};
  }
  for (size_t i = 1; i < c.N(); ++i) {
    auto row = GetRecord(c.db, **ts, c.Arg(i), !c.Has("--if-exists"));
    if (!row) return std::unexpected(row.error());
    if (*row) c.db.Delete(*row);
  }
  return {};
}

Res<void> CmdShow(Ctx& c, Cache&) {
  c.out = Show(c.db);
  return {};
}

}  // namespace

void AddDbCommands(std::map<std::string, Handler>& out) {
  out.insert({
      {"show", CmdShow},
      {"get", CmdGet},
      {"list", CmdList},
      {"find", CmdFind},
      {"set", CmdSet},
      {"add", CmdAdd},
      {"remove", CmdRemove},
      {"clear", CmdClear},
      {"create", CmdCreate},
      {"destroy", CmdDestroy},
      {"wait-until", CmdWaitUntil},
  });
}

}  // namespace sluice::vsctl
