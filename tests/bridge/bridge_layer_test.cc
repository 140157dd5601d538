// The bridge layer on the in-memory datapath (tests/common/in_memory_dpif.h): an embedded
// configuration database, the bridge layer following it over its unix socket, ofproto-dpif
// between the two. No DPDK, no EAL: what the database asks for must reach the datapath through
// ofproto-dpif, and status must come back to the database.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bridge/bridge.h"
#include "ofproto/dpif/ofproto_dpif.h"
#include "ovsdb/schemas/vswitch_schema.h"
#include "ovsdb/server/server.h"
#include "tests/common/in_memory_dpif.h"

namespace sluice::bridge {
namespace {

using nlohmann::json;

class BridgeLayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = "/tmp/sluice-bridge-layer-test-" + std::to_string(getpid());
    ::mkdir(dir_.c_str(), 0755);
    // A bridge name no kernel device on the host has (the LOCAL port is checked against them).
    br_ = "tbr" + std::to_string(getpid() % 100000);
    auto schema = db::DatabaseSchema::FromJson(json::parse(db::kVswitchSchema));
    ASSERT_TRUE(schema.has_value());
    ASSERT_TRUE(ovsdb_.AddDatabase(std::make_unique<db::Database>(std::move(*schema))));
    ASSERT_TRUE(ovsdb_.AddRemote("punix:" + dir_ + "/db.sock"));
    ofproto_ = std::make_unique<ofp::OfprotoDpif>(io_, dpif_, dir_);
    BridgeLayerOptions o;
    o.db_remote = "unix:" + dir_ + "/db.sock";
    o.embedded = &ovsdb_;
    o.on_configured = [this] { configured_ = true; };
    bridges_ = std::make_unique<BridgeLayer>(io_, *ofproto_, o);
    bridges_->Start();
  }
  void TearDown() override {
    bridges_.reset();
    ofproto_.reset();
    (void)std::system(("rm -rf " + dir_).c_str());
  }

  json Transact(const json& ops) {
    auto out = ovsdb_.Transact("Open_vSwitch", ops);
    EXPECT_TRUE(out.committed) << out.reply.dump();
    return out.reply;
  }
  json Select(const std::string& table, const std::string& name) {
    json where = json::array({json::array({"name", "==", name})});
    auto out = ovsdb_.Transact(
        "Open_vSwitch", json::array({{{"op", "select"}, {"table", table}, {"where", where}}}));
    const json& rows = out.reply.at(0).at("rows");
    return rows.empty() ? json() : rows.at(0);
  }
  // Runs the event loop until `done` holds (bounded generously for a loaded machine).
  bool RunUntil(const std::function<bool()>& done, int ms = 20000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.run_for(std::chrono::milliseconds(5));
    }
    return true;
  }
  bool HasDpPort(const std::string& name) { return dpif_.PortQueryByName(name).has_value(); }
  // A column of the Interface row named `name`, as the database holds it.
  json IfaceColumn(const std::string& name, const std::string& column) {
    json row = Select("Interface", name);
    return row.is_null() ? json() : row.at(column);
  }
  int64_t CurCfg() {
    auto out = ovsdb_.Transact(
        "Open_vSwitch",
        json::array({{{"op", "select"}, {"table", "Open_vSwitch"}, {"where", json::array()}}}));
    const json& rows = out.reply.at(0).at("rows");
    return rows.empty() ? -1 : rows.at(0).at("cur_cfg").get<int64_t>();
  }
  // Inserts the root row with bridge br_ (standalone) and its LOCAL port, and dummy ports
  // `ports` on it.
  void AddBridge(const std::vector<std::string>& ports) {
    json ops = json::array();
    json port_refs = json::array({json::array({"named-uuid", "plocal"})});
    ops.push_back({{"op", "insert"},
                   {"table", "Interface"},
                   {"uuid-name", "ilocal"},
                   {"row", {{"name", br_}, {"type", "internal"}}}});
    ops.push_back(
        {{"op", "insert"},
         {"table", "Port"},
         {"uuid-name", "plocal"},
         {"row", {{"name", br_}, {"interfaces", json::array({"named-uuid", "ilocal"})}}}});
    for (size_t i = 0; i < ports.size(); ++i) {
      std::string in = "i" + std::to_string(i), pn = "p" + std::to_string(i);
      ops.push_back({{"op", "insert"},
                     {"table", "Interface"},
                     {"uuid-name", in},
                     {"row", {{"name", ports[i]}, {"type", "dummy"}}}});
      ops.push_back(
          {{"op", "insert"},
           {"table", "Port"},
           {"uuid-name", pn},
           {"row", {{"name", ports[i]}, {"interfaces", json::array({"named-uuid", in})}}}});
      port_refs.push_back(json::array({"named-uuid", pn}));
    }
    ops.push_back({{"op", "insert"},
                   {"table", "Bridge"},
                   {"uuid-name", "br"},
                   {"row", {{"name", br_}, {"ports", json::array({"set", port_refs})}}}});
    ops.push_back({{"op", "insert"},
                   {"table", "Open_vSwitch"},
                   {"row", {{"bridges", json::array({"named-uuid", "br"})}, {"next_cfg", 1}}}});
    auto out = ovsdb_.Transact("Open_vSwitch", ops);
    ASSERT_TRUE(out.committed) << out.reply.dump();
  }

  asio::io_context io_;
  test::InMemoryDpif dpif_;
  db::OvsdbServer ovsdb_{io_};
  std::unique_ptr<ofp::OfprotoDpif> ofproto_;
  std::unique_ptr<BridgeLayer> bridges_;
  std::string dir_, br_;
  bool configured_ = false;
};

// A broadcast frame from 02:00:00:00:00:01.
std::vector<uint8_t> Broadcast() {
  std::vector<uint8_t> f = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5};
  f.resize(60, 0);
  return f;
}

TEST_F(BridgeLayerTest, ConfigurationReachesTheDatapathThroughOfprotoDpif) {
  AddBridge({"d1", "d2"});
  ASSERT_TRUE(RunUntil([&] { return HasDpPort(br_) && HasDpPort("d1") && HasDpPort("d2"); }));
  // Status goes back: OpenFlow port numbers, the applied configuration, readiness.
  ASSERT_TRUE(RunUntil([&] { return IfaceColumn("d1", "ofport").is_number(); }));
  ASSERT_TRUE(RunUntil([&] { return IfaceColumn("d2", "ofport").is_number(); }));
  EXPECT_NE(IfaceColumn("d1", "ofport"), IfaceColumn("d2", "ofport"));
  EXPECT_EQ(IfaceColumn(br_, "ofport"), json(65534));
  ASSERT_TRUE(RunUntil([&] { return CurCfg() == 1; }));
  EXPECT_TRUE(configured_);

  // A standalone bridge forwards with NORMAL: a broadcast from d1 floods to d2 and LOCAL.
  ASSERT_TRUE(dpif_.Inject("d1", Broadcast()).has_value());
  EXPECT_EQ(dpif_.TakeTx("d2").size(), 1u);
  EXPECT_EQ(dpif_.TakeTx(br_).size(), 1u);
  EXPECT_TRUE(dpif_.TakeTx("d1").empty());

  // Removing d2 from the bridge removes its datapath port and leaves the others alone.
  const OdpPort d1_no = dpif_.PortQueryByName("d1")->port_no;
  const json d2_port = Select("Port", "d2").at("_uuid");
  Transact(json::array(
      {{{"op", "mutate"},
        {"table", "Bridge"},
        {"where", json::array({json::array({"name", "==", br_})})},
        {"mutations", json::array({json::array(
                          {"ports", "delete", json::array({"set", json::array({d2_port})})})})}}}));
  ASSERT_TRUE(RunUntil([&] { return !HasDpPort("d2"); }));
  ASSERT_TRUE(HasDpPort("d1"));
  EXPECT_EQ(dpif_.PortQueryByName("d1")->port_no, d1_no);
  // The flood still reaches LOCAL.
  ASSERT_TRUE(dpif_.Inject("d1", Broadcast()).has_value());
  EXPECT_EQ(dpif_.TakeTx(br_).size(), 1u);

  // Deleting the bridge removes its ports from the datapath.
  Transact(json::array({{{"op", "update"},
                         {"table", "Open_vSwitch"},
                         {"where", json::array()},
                         {"row", {{"bridges", json::array({"set", json::array()})}}}}}));
  ASSERT_TRUE(RunUntil([&] { return dpif_.PortDump().empty(); }));
  EXPECT_EQ(ofproto_->BridgeNames().size(), 0u);
}

}  // namespace
}  // namespace sluice::bridge
