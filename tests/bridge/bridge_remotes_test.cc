// The Controller and Manager status columns switchd writes back: what the connection reports,
// refusals of targets outside the run directory, and sec_since_* refreshed only when something
// else changed or every few seconds (an idle connection costs no transaction a second).
#include "bridge/bridge_remotes.h"

#include <gtest/gtest.h>

#include "common/clock.h"

namespace sluice::bridge {
namespace {

TEST(BridgeRemotesTest, ControllerStatusTimesSettle) {
  clock::Stop();
  BridgeRemotes r({"/var/run/sluice"}, nullptr, {});
  ofp::ControllerStatus st;
  st.target = "tcp:192.0.2.1:6653";
  st.connected = true;
  st.role = ofp::ControllerRole::kMaster;
  st.status = {{"state", "ACTIVE"}, {"sec_since_connect", "1"}};
  auto row = [&] { return r.ControllerRow("br0", st.target, {st}); };
  auto a = row();
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->connected);
  EXPECT_EQ(a->role, "master");
  EXPECT_EQ(a->status.at("sec_since_connect"), "1");
  // Only the time moved: the row keeps what was written.
  clock::Warp(1000);
  st.status["sec_since_connect"] = "2";
  EXPECT_EQ(row()->status.at("sec_since_connect"), "1");
  // Something else changed: written with the current time.
  st.status["state"] = "IDLE";
  EXPECT_EQ(row()->status, st.status);
  // Unchanged for kTimesRefreshMs: the times are refreshed.
  clock::Warp(BridgeRemotes::kTimesRefreshMs);
  st.status["sec_since_connect"] = "7";
  EXPECT_EQ(row()->status.at("sec_since_connect"), "7");
  // Not connected: no role.
  st.connected = false;
  st.status["state"] = "BACKOFF";
  EXPECT_EQ(row()->role, "");
  // A target the connection manager does not know has not been applied yet.
  EXPECT_FALSE(r.ControllerRow("br0", "tcp:192.0.2.2:6653", {st}));
  EXPECT_FALSE(r.ControllerRow("br1", st.target, {}));
}

TEST(BridgeRemotesTest, ManagerStatusWithoutEmbeddedServer) {
  BridgeRemotes r({"/var/run/sluice"}, nullptr, {});
  EXPECT_FALSE(r.has_managers());
  db::RemoteStatus rs;
  rs.remote = "pssl:6640";
  rs.connected = true;
  rs.bound_port = 6640;
  rs.n_connections = 2;
  auto m = r.ManagerRow("pssl:6640", {rs});
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->connected);
  EXPECT_EQ(m->status.at("bound_port"), "6640");
  EXPECT_EQ(m->status.at("n_connections"), "2");
  EXPECT_FALSE(r.ManagerRow("ptcp:6640", {rs}));
}

}  // namespace
}  // namespace sluice::bridge
