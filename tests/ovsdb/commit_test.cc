// Commit-time semantics: references, garbage collection, maxRows, indexes, change sets,
// storage records and replay.
#include <filesystem>

#include <gtest/gtest.h>

#include "ovsdb/database.h"
#include "ovsdb/snapshot.h"
#include "tests/ovsdb/ovsdb_test_util.h"

namespace sluice::db {
namespace {

using nlohmann::json;

class CommitTest : public ::testing::Test {
 protected:
  CommitTest() : db_(test::TestSchema()) {}

  test::Outcome Exec(const std::string& ops) { return test::Run(db_, json::parse(ops)); }
  test::Outcome Ok(const std::string& ops) {
    test::Outcome o = Exec(ops);
    EXPECT_TRUE(o.committed) << ops << " -> " << o.reply.dump();
    return o;
  }
  json LastError(const test::Outcome& o) {
    EXPECT_FALSE(o.committed);
    return o.reply.empty() ? json() : o.reply.back();
  }
  size_t Count(const char* table) { return db_.GetTable(table)->size(); }
  static std::string U(const test::Outcome& o, size_t i) { return o.reply[i]["uuid"][1]; }

  Database db_;
};

TEST_F(CommitTest, StrongReferenceToMissingRowIsRejected) {
  json e = LastError(Exec(R"([{"op":"insert","table":"Root","row":{"name":"r",
      "kids":["uuid","aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"]}}])"));
  EXPECT_EQ(e["error"], "referential integrity violation");
  EXPECT_NE(e["details"].get<std::string>().find("references nonexistent row "
                                                 "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"),
            std::string::npos);
  EXPECT_EQ(Count("Root"), 0u);
}

TEST_F(CommitTest, DeletingAReferencedRowIsRejected) {
  test::Outcome o = Ok(R"([{"op":"insert","table":"Child","uuid-name":"c","row":{"tag":1}},
      {"op":"insert","table":"Root","row":{"name":"r","kids":["named-uuid","c"]}}])");
  std::string kid = U(o, 0);
  json e = LastError(Exec(R"([{"op":"delete","table":"Child","where":[]}])"));
  EXPECT_EQ(e["error"], "referential integrity violation");
  EXPECT_EQ(e["details"],
            "cannot delete Child row " + kid + " because of 1 remaining reference(s)");
  EXPECT_EQ(Count("Child"), 1u);
  EXPECT_EQ(db_.GetTable("Child")->RefCount(*Uuid::Parse(kid)), 1);
  // Dropping the reference in the same transaction makes the delete legal.
  Ok(R"([{"op":"update","table":"Root","where":[],"row":{"kids":["set",[]]}},
         {"op":"delete","table":"Child","where":[]}])");
  EXPECT_EQ(Count("Child"), 0u);
  EXPECT_EQ(db_.GetTable("Child")->RefCount(*Uuid::Parse(kid)), 0);
}

TEST_F(CommitTest, GarbageCollectsUnreferencedNonRootRows) {
  // A non-root row nobody references vanishes at commit.
  test::Outcome lone = Exec(R"([{"op":"insert","table":"Child","row":{"tag":1}}])");
  EXPECT_TRUE(lone.reply[0].contains("uuid"));
  EXPECT_EQ(Count("Child"), 0u);
  EXPECT_FALSE(lone.committed);

  Ok(R"([{"op":"insert","table":"Child","uuid-name":"c","row":{"tag":1,
                                                             "grandkid":["named-uuid","g"]}},
         {"op":"insert","table":"Child","uuid-name":"g","row":{"tag":2}},
         {"op":"insert","table":"Root","row":{"name":"r","kids":["named-uuid","c"]}}])");
  EXPECT_EQ(Count("Child"), 2u);
  // Dropping the root's reference cascades through the chain.
  test::Outcome o = Ok(R"([{"op":"mutate","table":"Root","where":[],
                        "mutations":[["kids","delete",["set",[]]]]},
                       {"op":"update","table":"Root","where":[],"row":{"kids":["set",[]]}}])");
  EXPECT_EQ(Count("Child"), 0u);
  EXPECT_EQ(o.changes["Child"].size(), 2u);
  EXPECT_EQ(o.record["Child"].size(), 2u);
  for (const auto& [uuid, v] : o.record["Child"].items()) EXPECT_TRUE(v.is_null());
  // Deleting the root row directly also collects its children.
  Ok(R"([{"op":"insert","table":"Child","uuid-name":"c","row":{"tag":1}},
         {"op":"insert","table":"Root","row":{"name":"r2","one_kid":["named-uuid","c"]}}])");
  EXPECT_EQ(Count("Child"), 1u);
  Ok(R"([{"op":"delete","table":"Root","where":[["name","==","r2"]]}])");
  EXPECT_EQ(Count("Child"), 0u);
}

TEST_F(CommitTest, SharedChildSurvivesWhileReferenced) {
  Ok(R"([{"op":"insert","table":"Child","uuid-name":"c","row":{"tag":1}},
         {"op":"insert","table":"Root","row":{"name":"a","kids":["named-uuid","c"]}},
         {"op":"insert","table":"Root","row":{"name":"b","one_kid":["named-uuid","c"]}}])");
  Ok(R"([{"op":"delete","table":"Root","where":[["name","==","a"]]}])");
  EXPECT_EQ(Count("Child"), 1u);
  Ok(R"([{"op":"delete","table":"Root","where":[["name","==","b"]]}])");
  EXPECT_EQ(Count("Child"), 0u);
}

TEST_F(CommitTest, WeakReferencesToDeletedRowsAreRemoved) {
  test::Outcome o = Ok(R"([{"op":"insert","table":"Leaf","uuid-name":"l1","row":{"v":1}},
      {"op":"insert","table":"Leaf","uuid-name":"l2","row":{"v":2}},
      {"op":"insert","table":"Root","row":{"name":"r",
          "weak":["set",[["named-uuid","l1"],["named-uuid","l2"]]]}},
      {"op":"insert","table":"Holder","row":{"weak1":["set",[["named-uuid","l1"],
          ["named-uuid","l2"]]], "wmap":["map",[["a",["named-uuid","l1"]],
          ["b",["named-uuid","l2"]]]]}}])");
  std::string l2 = U(o, 1);
  test::Outcome d = Ok(R"([{"op":"delete","table":"Leaf","where":[["v","==",1]]}])");
  const Table* root = db_.GetTable("Root");
  const Row& r = **root->rows().begin();
  EXPECT_EQ(r.Get(root->schema().FindColumn("weak")->index).ToJson(), json::array({"uuid", l2}));
  const Table* holder = db_.GetTable("Holder");
  const Row& h = **holder->rows().begin();
  EXPECT_EQ(h.Get(holder->schema().FindColumn("wmap")->index).ToJson(),
            json::parse(R"(["map",[["b",["uuid",")" + l2 + R"("]]]])"));
  // The weak-ref cleanup shows up as modifications in the change set and the record.
  EXPECT_TRUE(d.changes.contains("Root"));
  EXPECT_TRUE(d.record["Holder"].is_object());
  // Removing the last element of a min:1 weak column breaks its constraint.
  json e = LastError(Exec(R"([{"op":"delete","table":"Leaf","where":[]}])"));
  EXPECT_EQ(e["error"], "constraint violation");
  EXPECT_NE(e["details"].get<std::string>().find("weak1"), std::string::npos);
  EXPECT_EQ(Count("Leaf"), 1u);
}

TEST_F(CommitTest, WeakReferenceToNeverExistingRowIsDropped) {
  Ok(R"([{"op":"insert","table":"Root","row":{"name":"r",
      "weak":["uuid","aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"]}}])");
  const Table* root = db_.GetTable("Root");
  EXPECT_TRUE((*root->rows().begin())->Get(root->schema().FindColumn("weak")->index).empty());
}

TEST_F(CommitTest, MaxRows) {
  Ok(R"([{"op":"insert","table":"Single","row":{"x":1}}])");
  json e = LastError(Exec(R"([{"op":"insert","table":"Single","row":{"x":2}}])"));
  EXPECT_EQ(e["error"], "constraint violation");
  EXPECT_NE(e["details"].get<std::string>().find("limit of 1 row"), std::string::npos);
  // Replacing the single row within one transaction is fine.
  Ok(R"([{"op":"delete","table":"Single","where":[]},
         {"op":"insert","table":"Single","row":{"x":2}}])");
  EXPECT_EQ(Count("Single"), 1u);
}

TEST_F(CommitTest, UniqueIndexes) {
  Ok(R"([{"op":"insert","table":"Leaf","row":{"v":1,"w":"a"}},
         {"op":"insert","table":"Leaf","row":{"v":1,"w":"b"}}])");
  json e = LastError(Exec(R"([{"op":"insert","table":"Leaf","row":{"v":1,"w":"a"}}])"));
  EXPECT_EQ(e["error"], "constraint violation");
  EXPECT_NE(e["details"].get<std::string>().find("index on column(s) v, w"), std::string::npos);
  json e2 = LastError(Exec(R"([{"op":"update","table":"Leaf","where":[["w","==","b"]],
                              "row":{"w":"a"}}])"));
  EXPECT_EQ(e2["error"], "constraint violation");
  // Swapping values within one transaction keeps the index unique.
  Ok(R"([{"op":"update","table":"Leaf","where":[["w","==","a"]],"row":{"w":"tmp"}},
         {"op":"update","table":"Leaf","where":[["w","==","b"]],"row":{"w":"a"}},
         {"op":"update","table":"Leaf","where":[["w","==","tmp"]],"row":{"w":"b"}}])");
  // Keys freed by deletes or updates are reusable later.
  Ok(R"([{"op":"delete","table":"Leaf","where":[["w","==","a"]]}])");
  Ok(R"([{"op":"insert","table":"Leaf","row":{"v":1,"w":"a"}}])");
  Ok(R"([{"op":"update","table":"Leaf","where":[["w","==","a"]],"row":{"w":"c"}}])");
  Ok(R"([{"op":"insert","table":"Leaf","row":{"v":1,"w":"a"}}])");
  // A replayed database enforces the same index.
  Database copy(test::TestSchema());
  ASSERT_TRUE(copy.ApplyRecord(db_.Snapshot()));
  test::Outcome again =
      test::Run(copy, json::parse(R"([{"op":"insert","table":"Leaf","row":{"v":1,"w":"c"}}])"));
  EXPECT_EQ(again.reply.back()["error"], "constraint violation");
  json dup_in_txn = LastError(Exec(R"([{"op":"insert","table":"Root","row":{"name":"x"}},
                                      {"op":"insert","table":"Root","row":{"name":"x"}}])"));
  EXPECT_NE(dup_in_txn["details"].get<std::string>().find("\"Root\" table"), std::string::npos);
}

TEST_F(CommitTest, ChangeSetAndRecordShapes) {
  test::Outcome ins = Ok(R"([{"op":"insert","table":"Root","row":{"name":"r","i":3,
      "stats":["map",[["rx",1]]]}}, {"op":"comment","comment":"hello"}])");
  std::string u = U(ins, 0);
  json rc = ins.changes["Root"][u];
  EXPECT_TRUE(rc["old"].is_null());
  ASSERT_TRUE(rc["new"].is_object());
  // Storage records hold non-default persistent columns only; ephemeral ones are omitted.
  EXPECT_EQ(ins.record["Root"][u], json({{"name", "r"}, {"i", 3}}));
  EXPECT_EQ(ins.record["_comment"], "hello");
  EXPECT_TRUE(ins.record["_date"].is_number_integer());

  test::Outcome upd = Ok(R"([{"op":"update","table":"Root","where":[],"row":{"i":4,"b":true}}])");
  json uc = upd.changes["Root"][u];
  ASSERT_TRUE(uc["old"].is_object() && uc["new"].is_object());
  EXPECT_EQ(uc["changed"], json::parse(R"(["b","i"])"));
  EXPECT_EQ(uc["old"]["i"], 3);
  EXPECT_EQ(uc["old"]["b"], false);
  EXPECT_EQ(uc["new"]["i"], 4);
  EXPECT_EQ(upd.record["Root"][u], json({{"i", 4}, {"b", true}}));
  EXPECT_FALSE(upd.record.contains("_comment"));

  // Ephemeral-only changes reach monitors but not storage.
  test::Outcome eph = Ok(R"([{"op":"mutate","table":"Root","where":[],
                          "mutations":[["stats","insert",["map",[["tx",2]]]]]}])");
  EXPECT_TRUE(eph.changes.contains("Root"));
  EXPECT_TRUE(eph.record.is_null());

  test::Outcome del = Ok(R"([{"op":"delete","table":"Root","where":[]}])");
  json dj = del.changes["Root"][u];
  EXPECT_TRUE(dj["old"].is_object());
  EXPECT_TRUE(dj["new"].is_null());
  EXPECT_TRUE(del.record["Root"][u].is_null());
  EXPECT_EQ(dj["old"]["name"], "r");
  EXPECT_EQ(dj["old"]["_uuid"], json::array({"uuid", u}));
  EXPECT_FALSE(dj["changed"].empty());
  EXPECT_EQ(db_.generation(), 4u);
}

TEST_F(CommitTest, SnapshotReplaysIntoAFreshDatabase) {
  Ok(R"([{"op":"insert","table":"Child","uuid-name":"c","row":{"tag":7}},
         {"op":"insert","table":"Leaf","uuid-name":"l","row":{"v":1,"w":"x"}},
         {"op":"insert","table":"Root","row":{"name":"r","i":-5,"r":1.5,
            "reals":["set",[0.25,2]],"smap":["map",[["a","b"]]],"kids":["named-uuid","c"],
            "weak":["named-uuid","l"],"stats":["map",[["rx",1]]],"color":"red"}},
         {"op":"insert","table":"Single","row":{"x":1}}])");
  json snap = db_.Snapshot();
  EXPECT_FALSE(snap.dump().find("\"stats\"") != std::string::npos);
  Database copy(test::TestSchema());
  size_t tables = 0;
  auto changes =
      copy.ApplyRecord(snap, [&tables](const ChangeSet& cs) { tables = cs.tables.size(); });
  ASSERT_TRUE(changes) << changes.error().message;
  EXPECT_EQ(tables, 4u);
  json again = copy.Snapshot();
  snap.erase("_date");
  again.erase("_date");
  EXPECT_EQ(again, snap);
  // Reference counts were rebuilt, so integrity and GC keep working after replay.
  EXPECT_EQ(test::Run(copy, json::parse(R"([{"op":"delete","table":"Child","where":[]}])"))
                .reply.back()["error"],
            "referential integrity violation");
  test::Outcome gc = test::Run(copy, json::parse(R"([{"op":"delete","table":"Root","where":[]}])"));
  EXPECT_TRUE(gc.committed);
  EXPECT_EQ(copy.GetTable("Child")->size(), 0u);
}

TEST_F(CommitTest, ExecuteRecordsReplayIncrementally) {
  Database replica(test::TestSchema());
  for (const char* ops :
       {R"([{"op":"insert","table":"Root","row":{"name":"r","i":1}}])",
        R"([{"op":"mutate","table":"Root","where":[],"mutations":[["i","+=",2]]}])",
        R"([{"op":"insert","table":"Leaf","row":{"v":3}}])",
        R"([{"op":"delete","table":"Leaf","where":[]}])"}) {
    test::Outcome o = Ok(ops);
    ASSERT_TRUE(replica.ApplyRecord(o.record)) << o.record.dump();
  }
  json a = db_.Snapshot(), b = replica.Snapshot();
  a.erase("_date");
  b.erase("_date");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a["Root"].begin().value()["i"], 3);
}

TEST_F(CommitTest, ApplyRecordRejectsBadRecords) {
  EXPECT_FALSE(db_.ApplyRecord(json::array()));
  EXPECT_FALSE(db_.ApplyRecord(json::parse(R"({"Nope":{}})")));
  EXPECT_FALSE(db_.ApplyRecord(json::parse(R"({"Leaf":{"bad-uuid":{}}})")));
  EXPECT_FALSE(db_.ApplyRecord(
      json::parse(R"({"Leaf":{"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee":{"zz":1}}})")));
  EXPECT_FALSE(db_.ApplyRecord(
      json::parse(R"({"Leaf":{"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee":{"v":"x"}}})")));
  EXPECT_FALSE(
      db_.ApplyRecord(json::parse(R"({"Leaf":{"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee":null}})")));
  EXPECT_EQ(Count("Leaf"), 0u);
}

TEST_F(CommitTest, MonitorHelpers) {
  Ok(R"([{"op":"insert","table":"Leaf","row":{"v":1}},
         {"op":"insert","table":"Leaf","row":{"v":2}},
         {"op":"insert","table":"Leaf","row":{"v":3}}])");
  const Table& leaf = *db_.GetTable("Leaf");
  auto cond = ParseCondition(json::parse(R"([["v",">=",2]])"), leaf.schema(), nullptr);
  ASSERT_TRUE(cond);
  auto rows = db_.Select(leaf, *cond);
  EXPECT_EQ(rows.size(), 2u);
  for (const Row* r : rows) EXPECT_TRUE(Matches(*cond, *r));
  auto cols = ParseColumnList(json::parse(R"(["v"])"), leaf.schema());
  ASSERT_TRUE(cols);
  EXPECT_EQ(RowToJson(*rows[0], &*cols).size(), 1u);
  Uuid first = (*leaf.rows().begin())->uuid();
  auto by_uuid =
      ParseCondition(json::array({json::array({"_uuid", "==", AtomToJson(UuidAtom(first))})}),
                     leaf.schema(), nullptr);
  ASSERT_EQ(db_.Select(leaf, *by_uuid).size(), 1u);
  EXPECT_EQ(db_.Select(leaf, *by_uuid)[0]->uuid(), first);
}

// ovs-vsctl add-br br0, as the IDL sends it, against Debian's vswitch schema.
TEST(VswitchTest, AddBridgeTransaction) {
  std::string path = test::VswitchSchemaPath();
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not installed";
  auto schema = DatabaseSchema::FromFile(path);
  ASSERT_TRUE(schema) << schema.error().message;
  Database db(std::move(*schema));
  test::Outcome init = test::Run(db, json::parse(R"([{"op":"insert","table":"Open_vSwitch",
                                                "row":{"next_cfg":0}}])"));
  ASSERT_TRUE(init.committed) << init.reply.dump();
  std::string ovs = init.reply[0]["uuid"][1];
  test::Outcome add = test::Run(db, json::parse(R"([
    {"op":"wait","table":"Open_vSwitch","timeout":0,"columns":["bridges"],"until":"==",
     "rows":[{"bridges":["set",[]]}],"where":[["_uuid","==",["uuid",")" +
                                                ovs + R"("]]]},
    {"op":"insert","table":"Interface","uuid-name":"rowi",
     "row":{"name":"br0","type":"internal"}},
    {"op":"insert","table":"Port","uuid-name":"rowp",
     "row":{"name":"br0","interfaces":["named-uuid","rowi"]}},
    {"op":"insert","table":"Bridge","uuid-name":"rowb",
     "row":{"name":"br0","ports":["named-uuid","rowp"]}},
    {"op":"mutate","table":"Open_vSwitch","where":[["_uuid","==",["uuid",")" +
                                                ovs + R"("]]],
     "mutations":[["bridges","insert",["set",[["named-uuid","rowb"]]]]]},
    {"op":"mutate","table":"Open_vSwitch","where":[["_uuid","==",["uuid",")" +
                                                ovs + R"("]]],
     "mutations":[["next_cfg","+=",1]]},
    {"op":"select","table":"Open_vSwitch","where":[["_uuid","==",["uuid",")" +
                                                ovs + R"("]]],
     "columns":["next_cfg"]},
    {"op":"comment","comment":"ovs-vsctl: ovs-vsctl add-br br0"}])"));
  ASSERT_TRUE(add.committed) << add.reply.dump();
  ASSERT_EQ(add.reply.size(), 8u);
  EXPECT_EQ(add.reply[6]["rows"][0]["next_cfg"], 1);
  EXPECT_EQ(db.GetTable("Bridge")->size(), 1u);
  EXPECT_EQ(db.GetTable("Port")->size(), 1u);
  EXPECT_EQ(db.GetTable("Interface")->size(), 1u);
  EXPECT_EQ(add.record["_comment"], "ovs-vsctl: ovs-vsctl add-br br0");
  EXPECT_EQ(add.record["Bridge"].size(), 1u);
  // A second bridge with the same name violates Bridge's unique index.
  test::Outcome dup = test::Run(db, json::parse(R"([
    {"op":"insert","table":"Bridge","uuid-name":"b","row":{"name":"br0"}},
    {"op":"mutate","table":"Open_vSwitch","where":[],
     "mutations":[["bridges","insert",["set",[["named-uuid","b"]]]]]}])"));
  EXPECT_EQ(dup.reply.back()["error"], "constraint violation");
  // del-br: dropping the bridge from Open_vSwitch garbage-collects bridge, port, interface.
  test::Outcome del = test::Run(db, json::parse(R"([{"op":"update","table":"Open_vSwitch",
      "where":[],"row":{"bridges":["set",[]]}}])"));
  ASSERT_TRUE(del.committed) << del.reply.dump();
  EXPECT_EQ(db.GetTable("Bridge")->size(), 0u);
  EXPECT_EQ(db.GetTable("Port")->size(), 0u);
  EXPECT_EQ(db.GetTable("Interface")->size(), 0u);
  Database replay(*DatabaseSchema::FromFile(path));
  ASSERT_TRUE(replay.ApplyRecord(db.Snapshot()));
  EXPECT_EQ(replay.GetTable("Open_vSwitch")->size(), 1u);
}

}  // namespace
}  // namespace sluice::db

namespace sluice::db {
namespace {

// Changes to sets and maps of existing rows are logged as diffs and replay to the same state.
TEST_F(CommitTest, DiffRecordsCarryOnlyTheChange) {
  Database replica(test::TestSchema());
  auto step = [&](const char* ops) {
    test::Outcome o = Ok(ops);
    EXPECT_TRUE(replica.ApplyRecord(o.record)) << o.record.dump();
    return o.record;
  };
  step(R"([{"op":"insert","table":"Root","row":{"name":"r","reals":["set",[1,2,3]],
            "smap":["map",[["a","1"],["b","2"]]],"color":"red"}}])");
  json rec = step(R"([{"op":"mutate","table":"Root","where":[],"mutations":[
            ["reals","insert",["set",[4]]],["smap","delete",["set",["a"]]],
            ["smap","insert",["map",[["c","3"]]]]]}])");
  EXPECT_EQ(rec["_is_diff"], true);
  json row = rec["Root"].begin().value();
  EXPECT_EQ(row["reals"], 4.0);  // just the added element
  EXPECT_EQ(row["smap"], json::parse(R"(["map",[["a","1"],["c","3"]]])"));
  step(R"([{"op":"update","table":"Root","where":[],"row":{"smap":["map",[["b","9"]]],
            "color":"green"}}])");
  json a = db_.Snapshot(), b = replica.Snapshot();
  a.erase("_date");
  b.erase("_date");
  EXPECT_EQ(a, b);
  EXPECT_EQ(b["Root"].begin().value()["smap"], json::parse(R"(["map",[["b","9"]]])"));
  EXPECT_EQ(b["Root"].begin().value()["color"], "green");
}

}  // namespace
}  // namespace sluice::db

namespace sluice::db {
namespace {

// A DbSnapshot keeps the state it was taken in while commits go on: rows it holds are copied
// instead of being changed in place (what lets compaction serialize on another thread).
TEST_F(CommitTest, SnapshotKeepsItsStateWhileCommitsContinue) {
  Ok(R"([{"op":"insert","table":"Leaf","uuid-name":"l","row":{"v":1,"w":"x"}},
         {"op":"insert","table":"Root","row":{"name":"r","i":1,"reals":["set",[1,2,3]],
            "weak":["named-uuid","l"]}}])");
  json before = db_.Snapshot();
  before.erase("_date");
  DbSnapshot snap(db_);
  const Row* root_before = *db_.GetTable("Root")->rows().begin();
  Ok(R"([{"op":"mutate","table":"Root","where":[],"mutations":[["reals","insert",["set",[4]]],
            ["i","+=",1]]},
         {"op":"insert","table":"Leaf","row":{"v":2}},
         {"op":"delete","table":"Leaf","where":[["v","==",1]]}])");
  // The held row was copied, not changed; the table has the new one.
  EXPECT_NE(*db_.GetTable("Root")->rows().begin(), root_before);
  json held = json::parse(snap.Record(0));
  held.erase("_date");
  EXPECT_EQ(held, before);
  json now = db_.Snapshot();
  EXPECT_EQ(now["Root"].begin().value()["i"], 2);
  EXPECT_EQ(now["Root"].begin().value()["reals"], json::parse(R"(["set",[1.0,2.0,3.0,4.0]])"));
  EXPECT_FALSE(now["Root"].begin().value().contains("weak"));  // l was deleted
  EXPECT_EQ(now["Leaf"].size(), 1u);
}

// Without holders, a commit changes a row where it is.
TEST_F(CommitTest, UnsharedRowsChangeInPlace) {
  Ok(R"([{"op":"insert","table":"Root","row":{"name":"r","reals":["set",[1]]}}])");
  const Row* row = *db_.GetTable("Root")->rows().begin();
  Ok(R"([{"op":"mutate","table":"Root","where":[],"mutations":[["reals","insert",["set",[2]]]]}])");
  EXPECT_EQ(*db_.GetTable("Root")->rows().begin(), row);
  EXPECT_EQ(row->Get(db_.GetTable("Root")->schema().FindColumn("reals")->index).size(), 2u);
}

}  // namespace
}  // namespace sluice::db
