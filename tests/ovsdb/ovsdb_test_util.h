// Shared fixtures for the OVSDB core tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ovsdb/database.h"
#include "ovsdb/schema.h"

namespace sluice::db::test {

// A schema exercising every type rule, reference kind, index, maxRows and GC.
inline nlohmann::json TestSchemaJson() {
  return nlohmann::json::parse(R"({
    "name": "Test", "version": "1.2.3", "cksum": "123 456",
    "tables": {
      "Root": {
        "isRoot": true,
        "columns": {
          "name": {"type": "string", "mutable": false},
          "i": {"type": {"key": {"type": "integer", "minInteger": -100, "maxInteger": 100}}},
          "r": {"type": {"key": {"type": "real", "minReal": -10.5, "maxReal": 10.5},
                         "min": 0, "max": 1}},
          "ints": {"type": {"key": "integer", "min": 0, "max": 3}},
          "reals": {"type": {"key": "real", "min": 0, "max": "unlimited"}},
          "b": {"type": "boolean"},
          "color": {"type": {"key": {"type": "string", "enum": ["set", ["red", "green"]]},
                             "min": 0, "max": 1}},
          "short": {"type": {"key": {"type": "string", "minLength": 1, "maxLength": 3},
                             "min": 0, "max": 1}},
          "smap": {"type": {"key": "string", "value": "string", "min": 0,
                            "max": "unlimited"}},
          "kids": {"type": {"key": {"type": "uuid", "refTable": "Child"}, "min": 0,
                            "max": "unlimited"}},
          "one_kid": {"type": {"key": {"type": "uuid", "refTable": "Child"}, "min": 0,
                               "max": 1}},
          "weak": {"type": {"key": {"type": "uuid", "refTable": "Leaf", "refType": "weak"},
                            "min": 0, "max": "unlimited"}},
          "u": {"type": {"key": "uuid", "min": 0, "max": "unlimited"}},
          "stats": {"type": {"key": "string", "value": "integer", "min": 0,
                             "max": "unlimited"}, "ephemeral": true}
        },
        "indexes": [["name"]]
      },
      "Child": {
        "columns": {
          "tag": {"type": "integer"},
          "grandkid": {"type": {"key": {"type": "uuid", "refTable": "Child"}, "min": 0,
                                "max": 1}}
        }
      },
      "Leaf": {
        "isRoot": true,
        "columns": {"v": {"type": "integer"}, "w": {"type": "string"}},
        "indexes": [["v", "w"]]
      },
      "Holder": {
        "isRoot": true,
        "columns": {
          "weak1": {"type": {"key": {"type": "uuid", "refTable": "Leaf", "refType": "weak"},
                             "min": 1, "max": 2}},
          "wmap": {"type": {"key": "string",
                            "value": {"type": "uuid", "refTable": "Leaf", "refType": "weak"},
                            "min": 0, "max": "unlimited"}}
        }
      },
      "Single": {
        "isRoot": true, "maxRows": 1,
        "columns": {"x": {"type": "integer"}}
      }
    }
  })");
}

// A transaction's outcome with what it committed captured for assertions: the change set as
// ChangesToJson renders it and the storage record parsed (both null when nothing changed).
struct Outcome {
  nlohmann::json reply;
  bool committed = false;
  bool blocked = false;
  std::optional<int64_t> block_timeout_ms;
  bool durable = false;
  nlohmann::json changes;
  nlohmann::json record;
};

inline Outcome Run(Database& db, const nlohmann::json& ops, TxnContext ctx = {}) {
  Outcome o;
  ctx.on_commit = [&o](const ChangeSet& cs) { o.changes = ChangesToJson(cs); };
  TxnOutcome t = db.Execute(ops, ctx);
  o.reply = t.reply;
  o.committed = t.committed;
  o.blocked = t.blocked;
  o.block_timeout_ms = t.block_timeout_ms;
  o.durable = t.durable;
  if (!t.record.empty()) o.record = nlohmann::json::parse(t.record);
  return o;
}

inline DatabaseSchema TestSchema() {
  auto s = DatabaseSchema::FromJson(TestSchemaJson());
  if (!s) ADD_FAILURE() << s.error().message;
  return *s;
}

// Debian ships vswitch.ovsschema in /usr/share/openvswitch; SLUICE_VSWITCH_SCHEMA overrides.
inline std::string VswitchSchemaPath() {
  if (const char* env = std::getenv("SLUICE_VSWITCH_SCHEMA")) return env;
  return "/usr/share/openvswitch/vswitch.ovsschema";
}

}  // namespace sluice::db::test
