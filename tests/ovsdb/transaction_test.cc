#include "ovsdb/database.h"

#include <gtest/gtest.h>

#include "tests/ovsdb/ovsdb_test_util.h"

namespace sluice::db {
namespace {

using nlohmann::json;

class TransactionTest : public ::testing::Test {
 protected:
  TransactionTest() : db_(test::TestSchema()) {}

  test::Outcome Exec(const std::string& ops, const TxnContext& ctx = {}) {
    return test::Run(db_, json::parse(ops), ctx);
  }
  // Runs `ops` expecting success; returns the reply array.
  json Ok(const std::string& ops) {
    test::Outcome o = Exec(ops);
    for (const json& r : o.reply) {
      EXPECT_FALSE(r.is_object() && r.contains("error")) << ops << " -> " << o.reply.dump();
    }
    return o.reply;
  }
  // Runs `ops` expecting the reply's last element to be an error; returns that error.
  json Err(const std::string& ops) {
    test::Outcome o = Exec(ops);
    EXPECT_FALSE(o.committed) << ops;
    for (const json& r : o.reply) {
      if (r.is_object() && r.contains("error")) return r;
    }
    ADD_FAILURE() << "no error in " << o.reply.dump();
    return json();
  }
  std::string InsertRoot(const std::string& name, const std::string& extra = "") {
    json r = Ok(R"([{"op":"insert","table":"Root","row":{"name":")" + name + "\"" + extra + "}}]");
    return r[0]["uuid"][1].get<std::string>();
  }
  json SelectAll(const std::string& table, const std::string& columns = "") {
    std::string cols = columns.empty() ? "" : R"(,"columns":)" + columns;
    return Ok(R"([{"op":"select","table":")" + table + R"(","where":[])" + cols + "}]")[0]["rows"];
  }

  Database db_;
};

TEST_F(TransactionTest, InsertAndSelect) {
  test::Outcome o = Exec(R"([{"op":"insert","table":"Root","row":{"name":"a","i":7,
      "smap":["map",[["k","v"]]]}}])");
  ASSERT_TRUE(o.committed) << o.reply.dump();
  ASSERT_EQ(o.reply.size(), 1u);
  ASSERT_EQ(o.reply[0]["uuid"][0], "uuid");
  std::string uuid = o.reply[0]["uuid"][1];
  json rows = SelectAll("Root");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["_uuid"], json::array({"uuid", uuid}));
  EXPECT_EQ(rows[0]["_version"][0], "uuid");
  EXPECT_EQ(rows[0]["i"], 7);
  EXPECT_EQ(rows[0]["b"], false);  // default
  EXPECT_EQ(rows[0]["smap"], json::parse(R"(["map",[["k","v"]]])"));
  json some = SelectAll("Root", R"(["name","_uuid"])");
  EXPECT_EQ(some[0], json({{"name", "a"}, {"_uuid", json::array({"uuid", uuid})}}));
  json by_uuid = Ok(R"([{"op":"select","table":"Root","where":[["_uuid","==",["uuid",")" + uuid +
                    R"("]]],"columns":["i"]}])");
  EXPECT_EQ(by_uuid[0]["rows"], json::parse(R"([{"i":7}])"));
  json none = Ok(R"([{"op":"select","table":"Root","where":[["i",">",7]]}])");
  EXPECT_EQ(none[0]["rows"], json::array());
}

TEST_F(TransactionTest, InsertWithExplicitUuid) {
  const std::string u = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
  json r = Ok(R"([{"op":"insert","table":"Root","uuid":")" + u + R"(","row":{"name":"x"}}])");
  EXPECT_EQ(r[0]["uuid"][1], u);
  json dup = Err(R"([{"op":"insert","table":"Root","uuid":")" + u + R"(","row":{"name":"y"}}])");
  EXPECT_EQ(dup["error"], "duplicate uuid");
  // Deleted in the same transaction still counts as a duplicate.
  json dup2 = Err(R"([{"op":"delete","table":"Root","where":[]},
      {"op":"insert","table":"Root","uuid":")" +
                  u + R"(","row":{"name":"y"}}])");
  EXPECT_EQ(dup2["error"], "duplicate uuid");
  EXPECT_EQ(Err(R"([{"op":"insert","table":"Root","uuid":"zz"}])")["error"], "syntax error");
}

TEST_F(TransactionTest, NamedUuidsResolveAcrossTheTransaction) {
  test::Outcome o = Exec(R"([
      {"op":"insert","table":"Root","row":{"name":"r","kids":["named-uuid","kid"],
                                           "u":["named-uuid","kid"]}},
      {"op":"insert","table":"Child","uuid-name":"kid","row":{"tag":1}},
      {"op":"select","table":"Child","where":[["_uuid","==",["named-uuid","kid"]]]}])");
  ASSERT_TRUE(o.committed) << o.reply.dump();
  json kid = o.reply[1]["uuid"];
  EXPECT_EQ(o.reply[2]["rows"][0]["_uuid"], kid);
  json root = SelectAll("Root")[0];
  EXPECT_EQ(root["kids"], kid);
  EXPECT_EQ(root["u"], kid);
  json dup = Err(R"([{"op":"insert","table":"Leaf","uuid-name":"a"},
                     {"op":"insert","table":"Leaf","uuid-name":"a","row":{"v":1}}])");
  EXPECT_EQ(dup["error"], "duplicate uuid-name");
  // A named-uuid that no insert defines dangles, which strong references reject at commit.
  json dangling = Err(R"([{"op":"insert","table":"Root","row":{"name":"q",
                                                            "kids":["named-uuid","ghost"]}}])");
  EXPECT_EQ(dangling["error"], "referential integrity violation");
}

TEST_F(TransactionTest, UuidNameWithExplicitUuid) {
  const std::string u = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
  test::Outcome o = Exec(R"([{"op":"insert","table":"Child","uuid":")" + u +
                         R"(","uuid-name":"c","row":{"tag":1}},
      {"op":"insert","table":"Root","row":{"name":"r","one_kid":["named-uuid","c"]}}])");
  ASSERT_TRUE(o.committed) << o.reply.dump();
  EXPECT_EQ(SelectAll("Root")[0]["one_kid"], json::array({"uuid", u}));
  // After a forward reference fixed the name's UUID, a different explicit "uuid" is refused.
  json e = Err(R"([{"op":"insert","table":"Root","row":{"name":"s","one_kid":["named-uuid","d"]}},
      {"op":"insert","table":"Child","uuid":"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeee0",
       "uuid-name":"d"}])");
  EXPECT_EQ(e["error"], "syntax error");
}

TEST_F(TransactionTest, Update) {
  InsertRoot("a", R"(,"i":1)");
  InsertRoot("b", R"(,"i":2)");
  json r = Ok(R"([{"op":"update","table":"Root","where":[["i","<=",2]],"row":{"b":true,"i":3}}])");
  EXPECT_EQ(r[0]["count"], 2);
  for (const json& row : SelectAll("Root")) {
    EXPECT_EQ(row["b"], true);
    EXPECT_EQ(row["i"], 3);
  }
  EXPECT_EQ(
      Ok(R"([{"op":"update","table":"Root","where":[["i","==",9]],"row":{"b":false}}])")[0]
                                                                                        ["count"],
      0);
  json imm = Err(R"([{"op":"update","table":"Root","where":[],"row":{"name":"z"}}])");
  EXPECT_EQ(imm["error"], "constraint violation");
  EXPECT_EQ(imm["details"], "Cannot update immutable column name in table Root.");
  EXPECT_EQ(Err(R"([{"op":"update","table":"Root","where":[],"row":{"_uuid":["uuid",
      "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"]}}])")["error"],
            "constraint violation");
  EXPECT_EQ(Err(R"([{"op":"update","table":"Root","where":[],"row":{"zz":1}}])")["error"],
            "unknown column");
  EXPECT_EQ(Err(R"([{"op":"update","table":"Root","where":[],"row":{"i":1000}}])")["error"],
            "constraint violation");
  EXPECT_EQ(Err(R"([{"op":"update","table":"Root","where":[]}])")["error"], "syntax error");
}

TEST_F(TransactionTest, MutateCountsMatchedRows) {
  InsertRoot("a", R"(,"i":1)");
  InsertRoot("b", R"(,"i":2)");
  json r = Ok(R"([{"op":"mutate","table":"Root","where":[],
      "mutations":[["i","+=",10],["smap","insert",["map",[["k","v"]]]]]}])");
  EXPECT_EQ(r[0]["count"], 2);
  for (const json& row : SelectAll("Root")) {
    EXPECT_GE(row["i"].get<int>(), 11);
    EXPECT_EQ(row["smap"], json::parse(R"(["map",[["k","v"]]])"));
  }
  EXPECT_EQ(
      Err(R"([{"op":"mutate","table":"Root","where":[],"mutations":[["i","/=",0]]}])")["error"],
      "domain error");
  EXPECT_EQ(
      Err(R"([{"op":"mutate","table":"Root","where":[],"mutations":[["i","*=",10]]}])")["error"],
      "constraint violation");
  // Nothing of a failed mutate remains.
  for (const json& row : SelectAll("Root")) EXPECT_LE(row["i"].get<int>(), 12);
}

TEST_F(TransactionTest, Delete) {
  InsertRoot("a", R"(,"i":1)");
  InsertRoot("b", R"(,"i":2)");
  EXPECT_EQ(Ok(R"([{"op":"delete","table":"Root","where":[["i","==",1]]}])")[0]["count"], 1);
  EXPECT_EQ(SelectAll("Root").size(), 1u);
  EXPECT_EQ(Ok(R"([{"op":"delete","table":"Root","where":[]}])")[0]["count"], 1);
  EXPECT_EQ(SelectAll("Root").size(), 0u);
}

TEST_F(TransactionTest, AtomicityAndResultShape) {
  InsertRoot("keep");
  test::Outcome o = Exec(R"([
      {"op":"insert","table":"Root","row":{"name":"new"}},
      {"op":"delete","table":"Root","where":[["name","==","keep"]]},
      {"op":"insert","table":"Nope"},
      {"op":"insert","table":"Root","row":{"name":"never"}}])");
  EXPECT_FALSE(o.committed);
  EXPECT_TRUE(o.record.is_null());
  EXPECT_TRUE(o.changes.is_null());
  ASSERT_EQ(o.reply.size(), 4u);
  EXPECT_TRUE(o.reply[0].contains("uuid"));
  EXPECT_EQ(o.reply[1]["count"], 1);
  EXPECT_EQ(o.reply[2], json({{"error", "unknown table"}, {"details", "No table named Nope."}}));
  EXPECT_TRUE(o.reply[3].is_null());
  json rows = SelectAll("Root", R"(["name"])");
  EXPECT_EQ(rows, json::parse(R"([{"name":"keep"}])"));

  // A commit-time failure appends an extra element.
  test::Outcome c = Exec(R"([{"op":"insert","table":"Root","row":{"name":"keep"}}])");
  ASSERT_EQ(c.reply.size(), 2u);
  EXPECT_TRUE(c.reply[0].contains("uuid"));
  EXPECT_EQ(c.reply[1]["error"], "constraint violation");
  EXPECT_FALSE(c.committed);
}

TEST_F(TransactionTest, SyntaxErrors) {
  EXPECT_EQ(Exec("{}").reply[0]["error"], "syntax error");
  EXPECT_EQ(Exec("[]").reply, json::array());
  EXPECT_EQ(Err(R"([1])")["error"], "syntax error");
  EXPECT_EQ(Err(R"([{"table":"Root"}])")["error"], "syntax error");
  EXPECT_EQ(Err(R"([{"op":"frobnicate"}])")["error"], "unknown operation");
  EXPECT_EQ(Err(R"([{"op":"insert"}])")["error"], "syntax error");
  EXPECT_EQ(Err(R"([{"op":"insert","table":3}])")["error"], "syntax error");
  EXPECT_EQ(Err(R"([{"op":"select","table":"Root"}])")["details"],
            "Required 'where' member is missing.");
  EXPECT_EQ(Err(R"([{"op":"select","table":"Root","where":[],"bogus":1}])")["details"],
            "Member 'bogus' is present but not allowed here.");
  EXPECT_EQ(Err(R"([{"op":"select","table":"Root","where":[],"columns":["nope"]}])")["error"],
            "unknown column");
  EXPECT_EQ(Err(R"([{"op":"insert","table":"Root","row":{"nope":1}}])")["details"],
            "No column nope in table Root.");
  EXPECT_EQ(Err(R"([{"op":"insert","table":"Root","row":{"i":"x"}}])")["error"], "syntax error");
  EXPECT_EQ(Err(R"([{"op":"insert","table":"Root","row":{"_uuid":["uuid",
      "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"]}}])")["error"],
            "constraint violation");
  EXPECT_EQ(Err(R"([{"op":"insert","table":"Root","row":{"color":"blue"}}])")["error"],
            "constraint violation");
  EXPECT_EQ(Err(R"([{"op":"delete","table":"Root","where":[["i","===",1]]}])")["error"],
            "unknown function");
  EXPECT_EQ(Err(R"([{"op":"commit"}])")["error"], "syntax error");
  EXPECT_EQ(Err(R"([{"op":"comment","comment":5}])")["error"], "syntax error");
}

TEST_F(TransactionTest, CommitAbortCommentAssert) {
  test::Outcome o = Exec(R"([{"op":"insert","table":"Leaf","row":{"v":1}},
      {"op":"comment","comment":"first"},{"op":"comment","comment":"second"},
      {"op":"commit","durable":true}])");
  ASSERT_TRUE(o.committed);
  EXPECT_TRUE(o.durable);
  EXPECT_EQ(o.reply[1], json::object());
  EXPECT_EQ(o.reply[3], json::object());
  EXPECT_EQ(o.record["_comment"], "first\nsecond");
  EXPECT_FALSE(Exec(R"([{"op":"insert","table":"Leaf","row":{"v":2}},
                        {"op":"commit","durable":false}])")
                   .durable);

  test::Outcome a = Exec(R"([{"op":"insert","table":"Leaf","row":{"v":3}},{"op":"abort"}])");
  EXPECT_EQ(a.reply[1], json({{"error", "aborted"}, {"details", "Aborted by request."}}));
  EXPECT_FALSE(a.committed);
  EXPECT_EQ(SelectAll("Leaf").size(), 2u);

  EXPECT_EQ(Err(R"([{"op":"assert","lock":"L"}])")["error"], "not owner");
  TxnContext ctx;
  ctx.owns_lock = [](const std::string& lock) { return lock == "L"; };
  EXPECT_EQ(Exec(R"([{"op":"assert","lock":"L"}])", ctx).reply[0], json::object());
  EXPECT_EQ(Exec(R"([{"op":"assert","lock":"M"}])", ctx).reply[0]["error"], "not owner");
  EXPECT_EQ(Err(R"([{"op":"assert"}])")["error"], "syntax error");
}

TEST_F(TransactionTest, WaitSatisfiedBlockedAndTimedOut) {
  InsertRoot("a", R"(,"i":1)");
  const std::string eq =
      R"([{"op":"wait","table":"Root","where":[["name","==","a"]],"columns":["i"],"until":"==",
          "rows":[{"i":1}]TIMEOUT},{"op":"insert","table":"Leaf","row":{"v":9}}])";
  auto with_timeout = [&](const std::string& t) {
    std::string s = eq;
    s.replace(s.find("TIMEOUT"), 7, t);
    return s;
  };
  test::Outcome ok = Exec(with_timeout(""));
  EXPECT_FALSE(ok.blocked);
  EXPECT_EQ(ok.reply[0], json::object());
  EXPECT_TRUE(ok.committed);

  Ok(R"([{"op":"update","table":"Root","where":[],"row":{"i":2}}])");
  test::Outcome blocked = Exec(with_timeout(""));
  EXPECT_TRUE(blocked.blocked);
  EXPECT_FALSE(blocked.block_timeout_ms.has_value());
  EXPECT_TRUE(blocked.reply.is_null());
  EXPECT_FALSE(blocked.committed);
  EXPECT_EQ(SelectAll("Leaf").size(), 1u);  // the insert after the wait did not happen

  test::Outcome b2 = Exec(with_timeout(R"(,"timeout":1000)"));
  EXPECT_TRUE(b2.blocked);
  EXPECT_EQ(b2.block_timeout_ms, 1000);
  TxnContext late;
  late.waited_ms = 1000;
  test::Outcome expired = Exec(with_timeout(R"(,"timeout":1000)"), late);
  EXPECT_FALSE(expired.blocked);
  EXPECT_EQ(expired.reply[0]["error"], "timed out");
  EXPECT_TRUE(expired.reply[1].is_null());
  EXPECT_EQ(Exec(with_timeout(R"(,"timeout":0)")).reply[0]["error"], "timed out");

  // "!=" is satisfied as soon as the rows differ.
  test::Outcome ne = Exec(R"([{"op":"wait","table":"Root","where":[],"columns":["i"],"until":"!=",
                           "rows":[{"i":1}],"timeout":0}])");
  EXPECT_EQ(ne.reply[0], json::object());
  // Multiset comparison: two rows never equal one.
  InsertRoot("b", R"(,"i":2)");
  EXPECT_EQ(Exec(R"([{"op":"wait","table":"Root","where":[],"columns":["i"],"until":"==",
                     "rows":[{"i":2},{"i":2}],"timeout":0}])")
                .reply[0],
            json::object());
  EXPECT_EQ(Exec(R"([{"op":"wait","table":"Root","where":[],"columns":["i"],"until":"==",
                     "rows":[{"i":2}],"timeout":0}])")
                .reply[0]["error"],
            "timed out");
  EXPECT_EQ(Err(R"([{"op":"wait","table":"Root","where":[],"columns":["i"],"until":"<",
                     "rows":[]}])")["error"],
            "syntax error");
  EXPECT_EQ(Err(R"([{"op":"wait","table":"Root","where":[],"columns":["i"],"until":"==",
                     "rows":[{"b":true}]}])")["error"],
            "syntax error");
}

TEST_F(TransactionTest, WaitSeesEarlierOperations) {
  test::Outcome o = Exec(R"([{"op":"insert","table":"Leaf","row":{"v":5}},
      {"op":"wait","table":"Leaf","where":[],"columns":["v"],"until":"==","rows":[{"v":5}],
       "timeout":0}])");
  EXPECT_TRUE(o.committed) << o.reply.dump();
}

TEST_F(TransactionTest, UnchangedRowsAreNotChanges) {
  InsertRoot("a", R"(,"i":1)");
  test::Outcome o = Exec(R"([{"op":"update","table":"Root","where":[],"row":{"i":1}}])");
  EXPECT_EQ(o.reply[0]["count"], 1);
  EXPECT_FALSE(o.committed);
  EXPECT_TRUE(o.record.is_null());
  test::Outcome ro = Exec(R"([{"op":"select","table":"Root","where":[]}])");
  EXPECT_FALSE(ro.committed);
}

TEST_F(TransactionTest, VersionBumpsOnChange) {
  InsertRoot("a", R"(,"i":1)");
  json v1 = SelectAll("Root")[0]["_version"];
  Exec(R"([{"op":"update","table":"Root","where":[],"row":{"i":1}}])");
  EXPECT_EQ(SelectAll("Root")[0]["_version"], v1);
  Ok(R"([{"op":"update","table":"Root","where":[],"row":{"i":2}}])");
  EXPECT_NE(SelectAll("Root")[0]["_version"], v1);
}

TEST_F(TransactionTest, PersistHookRunsBeforeCommit) {
  json seen;
  TxnContext ctx;
  ctx.now_ms = 1234;
  ctx.persist = [&](std::string_view rec, bool durable) -> Result<void> {
    seen = json::parse(rec);
    EXPECT_FALSE(durable);
    return {};
  };
  test::Outcome o = Exec(R"([{"op":"insert","table":"Leaf","row":{"v":1}}])", ctx);
  EXPECT_TRUE(o.committed);
  EXPECT_EQ(seen, o.record);
  EXPECT_EQ(seen["_date"], 1234);
  ctx.persist = [](std::string_view, bool) -> Result<void> {
    return MakeError(Errc::kIo, "disk full");
  };
  test::Outcome f = Exec(R"([{"op":"insert","table":"Leaf","row":{"v":2}}])", ctx);
  EXPECT_FALSE(f.committed);
  ASSERT_EQ(f.reply.size(), 2u);
  EXPECT_EQ(f.reply[1], json({{"error", "I/O error"}, {"details", "disk full"}}));
  EXPECT_EQ(SelectAll("Leaf").size(), 1u);
}

}  // namespace
}  // namespace sluice::db
