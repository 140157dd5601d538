// sluice-ovsdb-tool: offline operations on a database file, with ovsdb-tool's verbs:
//   create DB SCHEMA | compact DB | show-log DB | query DB TRANSACTION | transact DB TRANSACTION
//   | db-name DB | schema-name SCHEMA | db-version DB | schema-version SCHEMA | db-cksum DB
//   | schema-cksum SCHEMA
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "ovsdb/database.h"
#include "ovsdb/storage/log.h"

namespace {

using Json = nlohmann::json;
using namespace sluice::db;

int Fail(const std::string& msg) {
  std::fprintf(stderr, "sluice-ovsdb-tool: %s\n", msg.c_str());
  return 1;
}

int Usage() {
  std::fprintf(stderr,
               "usage: sluice-ovsdb-tool COMMAND ARG...\n"
               "  create DB SCHEMA          create DB from SCHEMA\n"
               "  compact DB                compact DB in place\n"
               "  show-log DB               print the records of DB\n"
               "  query DB TRANSACTION      run a read-only TRANSACTION on DB\n"
               "  transact DB TRANSACTION   run TRANSACTION on DB and commit it\n"
               "  db-name DB | db-version DB | schema-name SCHEMA | schema-version SCHEMA\n"
               "  db-cksum DB | schema-cksum SCHEMA   the schema's checksum (as ovsdb-tool)\n");
  return 1;
}

sluice::Result<Json> ReadJsonFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return sluice::MakeError(sluice::Errc::kNotFound, path + ": cannot open");
  Json j = Json::parse(in, nullptr, false);
  if (j.is_discarded()) return sluice::MakeError(sluice::Errc::kInvalid, path + ": not JSON");
  return j;
}

// Loads DB (log) into memory; keeps the Log for appending when `writable`.
struct Loaded {
  std::unique_ptr<Database> db;
  OpenResult opened;
};

sluice::Result<Loaded> Load(const std::string& path, bool writable) {
  auto opened = Log::Open(path, writable ? LogMode::kReadWrite : LogMode::kReadOnly);
  if (!opened) return std::unexpected(opened.error());
  auto schema = DatabaseSchema::FromJson(opened->schema);
  if (!schema) return std::unexpected(schema.error());
  auto db = std::make_unique<Database>(std::move(*schema));
  for (const auto& rec : opened->records) {
    if (auto r = db->ApplyRecord(rec); !r) return std::unexpected(r.error());
  }
  return Loaded{std::move(db), std::move(*opened)};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return Usage();
  std::string cmd = argv[1];
  std::string a1 = argv[2];
  if (cmd == "create" && argc == 4) {
    auto schema = ReadJsonFile(argv[3]);
    if (!schema) return Fail(schema.error().message);
    if (auto s = DatabaseSchema::FromJson(*schema); !s) return Fail(s.error().message);
    auto log = Log::Create(a1, *schema);
    if (!log) return Fail(log.error().message);
    return 0;
  }
  if (cmd == "schema-name" || cmd == "schema-version" || cmd == "schema-cksum") {
    auto schema = ReadJsonFile(a1);
    if (!schema) return Fail(schema.error().message);
    std::string member = cmd == "schema-name"      ? "name"
                         : cmd == "schema-version" ? "version"
                                                   : "cksum";
    std::cout << schema->value(member, "") << "\n";
    return 0;
  }
  if (cmd == "show-log" && argc == 3) {
    auto recs = ReadAll(a1);
    if (!recs) return Fail(recs.error().message);
    for (size_t i = 0; i < recs->size(); ++i) {
      const Json& r = (*recs)[i];
      if (i == 0) {
        std::cout << "record 0: \"" << r.value("name", "") << "\" schema, version=\""
                  << r.value("version", "") << "\"\n";
        continue;
      }
      std::cout << "record " << i << ":";
      if (r.contains("_comment")) std::cout << " \"" << r["_comment"].get<std::string>() << "\"";
      if (r.contains("_date")) std::cout << " " << r["_date"];
      std::cout << "\n";
      for (auto& [table, rows] : r.items()) {
        if (table.starts_with("_") || !rows.is_object()) continue;
        for (auto& [uuid, row] : rows.items()) {
          std::cout << "\ttable " << table << " row " << uuid.substr(0, 8) << ": "
                    << (row.is_null() ? "delete row" : row.dump()) << "\n";
        }
      }
    }
    return 0;
  }
  if ((cmd == "db-name" || cmd == "db-version" || cmd == "db-cksum") && argc == 3) {
    auto l = Load(a1, false);
    if (!l) return Fail(l.error().message);
    const DatabaseSchema& s = l->db->schema();
    std::cout << (cmd == "db-name" ? s.name : cmd == "db-version" ? s.version : s.cksum) << "\n";
    return 0;
  }
  if (cmd == "compact" && argc == 3) {
    auto l = Load(a1, true);
    if (!l) return Fail(l.error().message);
    if (auto r = l->opened.log.Compact(l->opened.schema, l->db->Snapshot()); !r) {
      return Fail(r.error().message);
    }
    return 0;
  }
  if ((cmd == "query" || cmd == "transact") && argc == 4) {
    bool write = cmd == "transact";
    auto l = Load(a1, write);
    if (!l) return Fail(l.error().message);
    Json txn = Json::parse(argv[3], nullptr, false);
    if (txn.is_discarded() || !txn.is_array() || txn.empty() || !txn[0].is_string()) {
      return Fail("TRANSACTION must be a JSON array [\"DB\", OPERATION...]");
    }
    if (txn[0] != l->db->schema().name) {
      return Fail("database name mismatch: " + txn[0].get<std::string>());
    }
    Json ops(txn.begin() + 1, txn.end());
    TxnContext ctx;
    if (write) {
      ctx.persist = [&](std::string_view rec, bool durable) {
        return l->opened.log.AppendText(rec, durable);
      };
    }
    TxnOutcome out = l->db->Execute(ops, ctx);
    if (out.blocked) return Fail("transaction blocked on \"wait\"");
    if (!write && out.committed) {
      // A query changes nothing on disk; say so if it tried to.
      std::cerr << "sluice-ovsdb-tool: query changed the database in memory only\n";
    }
    std::cout << out.reply.dump() << "\n";
    return 0;
  }
  return Usage();
}
