// Schema checksums: POSIX cksum, and Sluice's vswitch schema carries the right one (so that the
// schema served to clients has its cksum, as Open vSwitch's do).
#include "ovsdb/schema_cksum.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ovsdb/schema.h"
#include "ovsdb/schemas/vswitch_schema.h"

namespace sluice::db {
namespace {

TEST(SchemaCksumTest, PosixCksum) {
  // Values from coreutils' cksum.
  EXPECT_EQ(PosixCksum(""), "4294967295 0");
  EXPECT_EQ(PosixCksum("a"), "1220704766 1");
  EXPECT_EQ(PosixCksum("123456789"), "930766865 9");
}

TEST(SchemaCksumTest, VswitchSchemaCarriesItsCksum) {
  auto j = nlohmann::json::parse(kVswitchSchema);
  ASSERT_TRUE(j.contains("cksum"));
  EXPECT_EQ(j["cksum"], SchemaCksum(kVswitchSchema))
      << "ovsdb/schemas/vswitch.ovsschema changed: update its cksum to the output of\n"
         "  sed '/\"cksum\": *\"[0-9][0-9]* [0-9][0-9]*\",/d' ovsdb/schemas/vswitch.ovsschema | "
         "cksum";
  auto schema = DatabaseSchema::FromJson(j);
  ASSERT_TRUE(schema);
  EXPECT_EQ(schema->ToJson()["cksum"], j["cksum"]);  // served with it
}

}  // namespace
}  // namespace sluice::db
