// Monitors (RFC 7047 §4.1.5 "monitor", and Open vSwitch's "monitor_cond" / "monitor_cond_since"
// extensions): what a client watches, and how a committed ChangeSet becomes the table-updates
// object of an "update", "update2" or "update3" notification.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ovsdb/condition.h"
#include "ovsdb/database.h"
#include "ovsdb/error.h"

namespace sluice::db {

// One table's part of a monitor. Several monitor-requests for one table are merged.
struct TableMonitor {
  const TableSchema* table = nullptr;
  std::vector<size_t> columns;  // sorted column indexes reported
  bool initial = true, insert = true, remove = true, modify = true;
  // monitor_cond: a row is reported when it matches ANY clause; an empty list matches all.
  std::vector<Clause> where;
  bool has_where = false;  // a "where" was given (so [] means: match nothing? no: all)
};

class Monitor {
 public:
  // version 1: "monitor" (update), 2: "monitor_cond" (update2), 3: "monitor_cond_since" (update3)
  static DbResult<Monitor> Parse(const Database& db, const nlohmann::json& requests, int version);

  int version() const { return version_; }
  // The initial contents, as table-updates (v1) or table-updates2 (v2, v3).
  nlohmann::json Initial(const Database& db) const;
  // What `changes` means for this monitor; empty object when nothing is reported.
  nlohmann::json Updates(const ChangeSet& changes) const;
  // monitor_cond_change: replaces the conditions of the named tables; returns the rows that
  // enter (as "insert"/"initial") or leave (as "delete") the monitored set.
  DbResult<nlohmann::json> ChangeConditions(const Database& db, const nlohmann::json& requests);

 private:
  bool RowMatches(const TableMonitor& tm, const Row& row) const;
  nlohmann::json RowJson(const TableMonitor& tm, const Row& row, bool skip_defaults) const;

  int version_ = 1;
  std::map<std::string, TableMonitor> tables_;
};

}  // namespace sluice::db
