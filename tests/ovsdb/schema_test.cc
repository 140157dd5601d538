#include "ovsdb/schema.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "ovsdb/datum.h"
#include "tests/ovsdb/ovsdb_test_util.h"

namespace sluice::db {
namespace {

using nlohmann::json;

Result<DatabaseSchema> ParseWithColumn(const json& column) {
  return DatabaseSchema::FromJson(
      {{"name", "D"}, {"tables", {{"T", {{"columns", {{"c", column}}}}}}}});
}

std::string ColumnError(const json& column) {
  auto s = ParseWithColumn(column);
  return s ? "" : s.error().message;
}

TEST(SchemaTest, ParsesEveryTypeRule) {
  DatabaseSchema s = test::TestSchema();
  EXPECT_EQ(s.name, "Test");
  EXPECT_EQ(s.version, "1.2.3");
  EXPECT_EQ(s.cksum, "123 456");
  const TableSchema* root = s.FindTable("Root");
  ASSERT_NE(root, nullptr);
  EXPECT_TRUE(root->is_root);
  EXPECT_FALSE(s.FindTable("Child")->is_root);
  EXPECT_EQ(s.FindTable("Single")->max_rows, 1u);

  ASSERT_NE(root->FindColumn("_uuid"), nullptr);
  EXPECT_EQ(root->FindColumn("_uuid")->index, kUuidColumn);
  EXPECT_EQ(root->FindColumn("_version")->index, kVersionColumn);
  EXPECT_TRUE(root->FindColumn("_version")->implicit);
  EXPECT_FALSE(root->FindColumn("_uuid")->is_mutable);

  const ColumnSchema* i = root->FindColumn("i");
  EXPECT_EQ(i->type.key.type, AtomicType::kInteger);
  EXPECT_EQ(i->type.key.min_integer, -100);
  EXPECT_EQ(i->type.key.max_integer, 100);
  EXPECT_TRUE(i->type.IsScalar());
  const ColumnSchema* r = root->FindColumn("r");
  EXPECT_DOUBLE_EQ(r->type.key.min_real, -10.5);
  EXPECT_TRUE(r->type.IsOptionalScalar());
  EXPECT_EQ(root->FindColumn("reals")->type.max, kUnlimited);
  EXPECT_EQ(root->FindColumn("ints")->type.max, 3u);
  const ColumnSchema* color = root->FindColumn("color");
  ASSERT_TRUE(color->type.key.enum_values.has_value());
  EXPECT_EQ(color->type.key.enum_values->size(), 2u);
  EXPECT_EQ(root->FindColumn("short")->type.key.max_length, 3u);
  EXPECT_TRUE(root->FindColumn("smap")->type.IsMap());
  EXPECT_TRUE(root->FindColumn("kids")->type.key.IsStrongRef());
  EXPECT_TRUE(root->FindColumn("weak")->type.key.IsWeakRef());
  EXPECT_FALSE(root->FindColumn("u")->type.key.IsRef());
  EXPECT_TRUE(root->FindColumn("stats")->ephemeral);
  EXPECT_FALSE(root->FindColumn("name")->is_mutable);
  ASSERT_EQ(root->indexes.size(), 1u);
  EXPECT_EQ(root->indexes[0][0], root->FindColumn("name")->index);
  EXPECT_EQ(s.FindTable("Leaf")->indexes[0].size(), 2u);
}

TEST(SchemaTest, ToJsonRoundTrips) {
  DatabaseSchema s = test::TestSchema();
  json once = s.ToJson();
  auto again = DatabaseSchema::FromJson(once);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->ToJson(), once);
  EXPECT_EQ(once["tables"]["Root"]["columns"]["b"]["type"], "boolean");
  EXPECT_EQ(once["tables"]["Root"]["columns"]["name"]["mutable"], false);
  EXPECT_EQ(once["tables"]["Root"]["columns"]["stats"]["ephemeral"], true);
  EXPECT_EQ(once["tables"]["Root"]["columns"]["reals"]["type"]["max"], "unlimited");
  EXPECT_EQ(once["tables"]["Root"]["columns"]["weak"]["type"]["key"]["refType"], "weak");
  EXPECT_EQ(once["tables"]["Single"]["maxRows"], 1);
  EXPECT_EQ(once["tables"]["Root"]["indexes"], json::parse(R"([["name"]])"));
  EXPECT_FALSE(once["tables"]["Root"]["columns"].contains("_uuid"));
}

TEST(SchemaTest, NoRootTablesMeansAllRoot) {
  auto s = DatabaseSchema::FromJson(json::parse(
      R"({"name":"D","tables":{"A":{"columns":{"x":{"type":"integer"}}},
                              "B":{"columns":{"y":{"type":"string"}}}}})"));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(s->FindTable("A")->is_root);
  EXPECT_TRUE(s->FindTable("B")->is_root);
}

TEST(SchemaTest, InvalidSchemasGiveClearErrors) {
  EXPECT_FALSE(DatabaseSchema::FromJson(json::array()));
  EXPECT_NE(DatabaseSchema::FromJson({{"tables", json::object()}}).error().message.find("name"),
            std::string::npos);
  EXPECT_NE(DatabaseSchema::FromJson({{"name", "D"}}).error().message.find("tables"),
            std::string::npos);
  EXPECT_NE(
      DatabaseSchema::FromJson({{"name", "D"}, {"version", "1.2"}, {"tables", json::object()}})
          .error()
          .message.find("x.y.z"),
      std::string::npos);
  for (const char* bad : {"1.2.3.4", "01.2.3", "1..3", "1.2.", "a.b.c", ""}) {
    EXPECT_FALSE(
        DatabaseSchema::FromJson({{"name", "D"}, {"version", bad}, {"tables", json::object()}}))
        << bad;
  }
  EXPECT_TRUE(DatabaseSchema::FromJson(
      {{"name", "D"}, {"version", "10.0.20"}, {"tables", json::object()}}));
  EXPECT_NE(DatabaseSchema::FromJson({{"name", "D"}, {"bogus", 1}, {"tables", json::object()}})
                .error()
                .message.find("bogus"),
            std::string::npos);
  EXPECT_NE(ColumnError({{"type", "int"}}).find("unknown atomic type"), std::string::npos);
  EXPECT_NE(ColumnError({{"type", {{"key", "integer"}, {"min", 2}}}}).find("min must be 0 or 1"),
            std::string::npos);
  EXPECT_NE(ColumnError({{"type", {{"key", "integer"}, {"min", 1}, {"max", 0}}}}).find("max"),
            std::string::npos);
  EXPECT_NE(ColumnError({{"type", {{"key", "integer"}, {"max", "lots"}}}}).find("unlimited"),
            std::string::npos);
  EXPECT_NE(ColumnError(
                {{"type", {{"key", {{"type", "integer"}, {"minInteger", 5}, {"maxInteger", 4}}}}}})
                .find("minInteger exceeds maxInteger"),
            std::string::npos);
  EXPECT_NE(ColumnError({{"type", {{"key", {{"type", "string"}, {"minInteger", 5}}}}}})
                .find("minInteger"),
            std::string::npos);
  EXPECT_NE(ColumnError({{"type", {{"key", {{"type", "uuid"}, {"refTable", "Nope"}}}}}})
                .find("nonexistent table Nope"),
            std::string::npos);
  EXPECT_NE(
      ColumnError({{"type", {{"key", {{"type", "uuid"}, {"refTable", "T"}, {"refType", "soft"}}}}}})
          .find("refType"),
      std::string::npos);
  EXPECT_NE(ColumnError({{"type", {{"key", {{"type", "integer"}, {"enum", "x"}}}}}}).find("enum"),
            std::string::npos);
  EXPECT_NE(ColumnError({{"type", "integer"}, {"ephemeral", "yes"}}).find("boolean"),
            std::string::npos);
  EXPECT_NE(ColumnError({{"typo", "integer"}}).find("typo"), std::string::npos);
  auto reserved = DatabaseSchema::FromJson(
      {{"name", "D"}, {"tables", {{"T", {{"columns", {{"_x", {{"type", "integer"}}}}}}}}}});
  EXPECT_NE(reserved.error().message.find("reserved"), std::string::npos);
  auto bad_index = DatabaseSchema::FromJson(json::parse(
      R"({"name":"D","tables":{"T":{"columns":{"x":{"type":"integer"}},"indexes":[["y"]]}}})"));
  EXPECT_NE(bad_index.error().message.find("unknown column"), std::string::npos);
  auto eph_index = DatabaseSchema::FromJson(json::parse(
      R"({"name":"D","tables":{"T":{"columns":{"x":{"type":"integer","ephemeral":true}},
          "indexes":[["x"]]}}})"));
  EXPECT_NE(eph_index.error().message.find("ephemeral"), std::string::npos);
  auto max_rows = DatabaseSchema::FromJson(json::parse(
      R"({"name":"D","tables":{"T":{"columns":{"x":{"type":"integer"}},"maxRows":0}}})"));
  EXPECT_FALSE(max_rows);
}

TEST(SchemaTest, LoadsDebianVswitchSchema) {
  std::string path = test::VswitchSchemaPath();
  if (!std::filesystem::exists(path)) {
    GTEST_SKIP() << path << " not installed (package openvswitch-switch); set "
                 << "SLUICE_VSWITCH_SCHEMA to a copy";
  }
  auto s = DatabaseSchema::FromFile(path);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->name, "Open_vSwitch");
  EXPECT_FALSE(s->version.empty());
  const TableSchema* ovs = s->FindTable("Open_vSwitch");
  ASSERT_NE(ovs, nullptr);
  EXPECT_TRUE(ovs->is_root);
  EXPECT_EQ(ovs->max_rows, 1u);
  EXPECT_TRUE(ovs->FindColumn("statistics")->ephemeral);
  EXPECT_FALSE(s->FindTable("Port")->is_root);
  EXPECT_TRUE(s->FindTable("Bridge")->FindColumn("ports")->type.key.IsStrongRef());
  EXPECT_FALSE(s->FindTable("Bridge")->indexes.empty());
  json once = s->ToJson();
  auto again = DatabaseSchema::FromJson(once);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->ToJson(), once);
}

TEST(SchemaTest, FromFileReportsMissingAndBadFiles) {
  EXPECT_EQ(DatabaseSchema::FromFile("/nonexistent/x.ovsschema").error().code, Errc::kIo);
}

}  // namespace
}  // namespace sluice::db
