// Monitors (RFC 7047 §4.1.5 "monitor", and Open vSwitch's "monitor_cond" / "monitor_cond_since"
// extensions): what a client watches, and how a committed ChangeSet becomes the table-updates
// object of an "update", "update2" or "update3" notification. Updates are written as JSON text
// directly; monitors with the same key() write the same text for every commit, which lets the
// server build it once per commit and share it between sessions.
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
  bool has_where = false;
};

class Monitor {
 public:
  // version 1: "monitor" (update), 2: "monitor_cond" (update2), 3: "monitor_cond_since" (update3)
  static DbResult<Monitor> Parse(const Database& db, const nlohmann::json& requests, int version);

  int version() const { return version_; }
  bool Watches(const std::string& table) const { return tables_.contains(table); }
  // What the monitor reports, canonically: two monitors with equal keys produce identical
  // updates for every change.
  const std::string& key() const { return key_; }

  // The initial contents, as table-updates (v1) or table-updates2 (v2, v3) JSON text.
  void WriteInitial(const Database& db, std::string& out) const;
  // Appends what `changes` means for this monitor as JSON text; returns false (and appends
  // nothing) when there is nothing to report.
  bool WriteUpdates(const ChangeSet& changes, std::string& out) const;
  // monitor_cond_change: replaces the conditions of the named tables; returns the rows that
  // enter (as "insert") or leave (as "delete") the monitored set.
  DbResult<nlohmann::json> ChangeConditions(const Database& db, const nlohmann::json& requests);

  // The same as JSON values (tests).
  nlohmann::json Initial(const Database& db) const;
  nlohmann::json Updates(const ChangeSet& changes) const;

 private:
  void ComputeKey();

  int version_ = 1;
  std::map<std::string, TableMonitor> tables_;
  std::string key_;
};

}  // namespace sluice::db
