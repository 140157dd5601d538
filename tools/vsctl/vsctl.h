// sluice-vsctl's command engine: ovs-vsctl's command language run against a local working copy
// of the Open_vSwitch database. The working copy records what the commands changed, which
// becomes one OVSDB transaction; the network side (IDL, commit, waiting) is in vsctl_main.cc.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ovsdb/datum.h"
#include "ovsdb/schema.h"
#include "ovsdb/uuid.h"
#include "tools/vsctl/vsctl_value.h"

namespace sluice::vsctl {

inline constexpr const char* kProgram = "sluice-vsctl";

struct Row {
  std::string table;
  db::Uuid uuid;
  std::map<std::string, db::Datum> cols;
  bool inserted = false;
  bool deleted = false;
  std::set<std::string> modified;
};

// A planned transaction: rows to verify (table, uuid, columns), then operations in RFC 7047 form
// with rows this transaction inserts referred to as ["named-uuid", name].
struct TxnPlan {
  struct Verify {
    std::string table;
    db::Uuid uuid;
    std::vector<std::string> columns;
  };
  std::vector<Verify> verifies;
  nlohmann::json ops = nlohmann::json::array();
  std::map<std::string, db::Uuid> names;  // uuid-name -> local (temporary) uuid
  bool empty() const { return ops.empty(); }
};

class WorkDb {
 public:
  explicit WorkDb(const db::DatabaseSchema& schema) : schema_(schema) {}
  const db::DatabaseSchema& schema() const { return schema_; }

  // Adds an existing row; columns left out get their defaults.
  void Load(const std::string& table, const db::Uuid& uuid, std::map<std::string, db::Datum> cols);
  // Live rows of `table` in uuid order.
  std::vector<Row*> Rows(const std::string& table);
  Row* Get(const std::string& table, const db::Uuid& uuid);
  Row* Insert(const std::string& table, std::optional<db::Uuid> uuid = std::nullopt);
  void Delete(Row* row);
  const db::Datum& Col(const Row* row, const std::string& column) const;
  void Set(Row* row, const std::string& column, db::Datum value);
  void Verify(Row* row, const std::string& column);
  const db::Type& TypeOf(const std::string& table, const std::string& column) const;

  // Convenience accessors.
  std::string Str(const Row* row, const std::string& column) const;
  std::optional<int64_t> Int(const Row* row, const std::string& column) const;
  bool Bool(const Row* row, const std::string& column) const;
  std::vector<db::Uuid> Uuids(const Row* row, const std::string& column) const;
  std::map<std::string, std::string> StrMap(const Row* row, const std::string& column) const;
  void SetStr(Row* row, const std::string& column, const std::string& v);
  void SetInt(Row* row, const std::string& column, int64_t v);
  void SetBool(Row* row, const std::string& column, bool v);
  void Clear(Row* row, const std::string& column);
  void AddUuid(Row* row, const std::string& column, const db::Uuid& u);
  void RemoveUuid(Row* row, const std::string& column, const db::Uuid& u);
  void SetStrMap(Row* row, const std::string& column, const std::map<std::string, std::string>& m);

  TxnPlan Plan() const;

 private:
  const db::DatabaseSchema& schema_;
  std::map<std::string, std::map<db::Uuid, Row>> tables_;
  std::set<std::tuple<std::string, db::Uuid, std::string>> verified_;
};

struct Options {
  std::string db;
  int timeout = 0;
  bool no_wait = false;
  bool dry_run = false;
  std::string format = "list";  // list, table, csv, json
  std::string data = "string";  // string, bare, json
  bool headings = true;
  bool oneline = false;
  bool pretty = false;
};

struct Command {
  std::string name;
  std::vector<std::string> args;
  std::map<std::string, std::string> options;  // "--may-exist" -> "", "--id" -> "@x"
};

struct CommandLine {
  Options options;
  std::vector<Command> commands;
  bool help = false;
  bool version = false;
};

// Global options, then commands separated by "--"; command options precede each command name.
Res<CommandLine> ParseCommandLine(const std::vector<std::string>& argv, const std::string& env_db);

// Checks names, argument counts and options of every command before anything runs.
Res<void> ValidateCommands(const std::vector<Command>& commands);

// Whether any command may write (read-only sequences need no next_cfg wait).
bool AnyWrite(const std::vector<Command>& commands);

std::string UsageText();

// Runs one pass of all commands against `db`.
class Executor {
 public:
  Executor(WorkDb& db, const Options& options) : db_(db), opts_(options) {}

  // On failure the message is what to print after "sluice-vsctl: " (empty: print nothing) and
  // exit_code() tells the status.
  Res<void> Run(const std::vector<Command>& commands);
  // A wait-until was not satisfied: wait for the database to change and run again.
  bool try_again() const { return try_again_; }
  int exit_code() const { return exit_code_; }
  // Interfaces this pass created (to report their `error` after waiting).
  const std::vector<std::string>& added_ifaces() const { return added_ifaces_; }
  // Output of every command; `real` maps local uuids of inserted rows to their final uuids.
  std::string Output(const std::map<db::Uuid, db::Uuid>& real) const;

  struct Ctx;  // what one command sees (defined in vsctl_commands.h)

 private:
  Res<void> RunOne(const Command& cmd, size_t index);
  WorkDb& db_;
  const Options& opts_;
  bool try_again_ = false;
  int exit_code_ = 1;
  std::vector<std::string> outputs_;
  std::vector<std::optional<db::Uuid>> created_;  // per command (create)
  std::vector<std::string> added_ifaces_;
  std::map<std::string, std::pair<db::Uuid, bool>> symbols_;  // @name -> uuid, created
};

// Record lookup as ovs-vsctl does it (by UUID, by name per table, "." for Open_vSwitch, or a
// UUID prefix of at least 4 hex digits). Null if absent; an error for ambiguity.
Res<Row*> FindRecord(WorkDb& db, const std::string& table, const std::string& id);
// Table and column names with ovs-vsctl's abbreviation rules.
Res<std::string> MatchTable(const db::DatabaseSchema& schema, const std::string& name);
Res<std::string> MatchColumn(const db::TableSchema& table, const std::string& name);

// Output formatting of list/find results.
struct OutputTable {
  std::vector<std::string> headings;
  std::vector<std::vector<std::pair<db::Datum, db::Type>>> rows;
};
std::string FormatTable(const OutputTable& table, const Options& options);

// `show`.
std::string Show(WorkDb& db);

}  // namespace sluice::vsctl
