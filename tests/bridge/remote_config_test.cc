// Controller, Manager and SSL rows read as Open vSwitch reads them; unix sockets confined to the
// run directory; Manager.status as ovsdb-server writes it.
#include "bridge/remote_config.h"

#include <gtest/gtest.h>

namespace sluice::bridge {
namespace {

using db::Datum;
using db::IdlRow;

Datum Str(const std::string& s) { return Datum::Scalar(db::StringAtom(s)); }
Datum Int(int64_t v) { return Datum::Scalar(db::IntAtom(v)); }
Datum Bool(bool v) { return Datum::Scalar(db::BoolAtom(v)); }
Datum Empty() { return Datum{}; }
Datum Map(std::map<std::string, std::string> m) {
  Datum d;
  d.is_map = true;
  for (auto& [k, v] : m) {
    d.keys.push_back(db::StringAtom(k));
    d.values.push_back(db::StringAtom(v));
  }
  return d;
}
IdlRow Row(std::map<std::string, Datum> cols) {
  IdlRow r;
  r.columns = std::move(cols);
  return r;
}

TEST(RemoteConfigTest, ControllerDefaultsAndLimits) {
  auto o = ControllerOptionsFromRow(
      Row({{"target", Str("ssl:10.0.0.1")}, {"max_backoff", Empty()}, {"other_config", Map({})}}),
      100);
  EXPECT_EQ(o.target, "ssl:10.0.0.1");
  EXPECT_EQ(o.type, ofp::ControllerOptions::Type::kDefault);
  EXPECT_EQ(o.max_backoff_ms, 8000);
  EXPECT_EQ(o.probe_interval_ms, 5000);
  EXPECT_EQ(o.rate_limit, 0);
  EXPECT_EQ(o.queue_size, 100);
  EXPECT_TRUE(o.enable_async_messages);
  EXPECT_EQ(o.dscp, 48);

  o = ControllerOptionsFromRow(Row({{"target", Str("ptcp:6653")},
                                    {"type", Str("primary")},
                                    {"max_backoff", Int(500)},  // at least 1000
                                    {"inactivity_probe", Int(300)},
                                    {"controller_rate_limit", Int(50)},  // at least 100
                                    {"controller_burst_limit", Int(5)},  // at least 25
                                    {"controller_queue_size", Int(9000)},
                                    {"enable_async_messages", Bool(false)},
                                    {"other_config", Map({{"dscp", "10"}})}}),
                               100);
  EXPECT_EQ(o.type, ofp::ControllerOptions::Type::kPrimary);
  EXPECT_EQ(o.max_backoff_ms, 1000);
  EXPECT_EQ(o.probe_interval_ms, 1000);
  EXPECT_EQ(o.rate_limit, 100);
  EXPECT_EQ(o.burst_limit, 25);
  EXPECT_EQ(o.queue_size, 512);
  EXPECT_FALSE(o.enable_async_messages);
  EXPECT_EQ(o.dscp, 10);

  o = ControllerOptionsFromRow(Row({{"target", Str("tcp:1.2.3.4")},
                                    {"type", Str("service")},
                                    {"inactivity_probe", Int(0)},
                                    {"other_config", Map({{"dscp", "99"}})}}),
                               ControllerQueueDefault({{"controller-queue-size", "7"}}));
  EXPECT_EQ(o.type, ofp::ControllerOptions::Type::kService);
  EXPECT_EQ(o.probe_interval_ms, 0);  // 0 disables probes
  EXPECT_EQ(o.queue_size, 7);
  EXPECT_EQ(o.dscp, 48);  // out of range: the default
  EXPECT_EQ(ControllerQueueDefault({{"controller-queue-size", "0"}}), 100);
}

TEST(RemoteConfigTest, ManagerOptions) {
  auto m = ManagerOptionsFromRow(Row({{"target", Str("ssl:1.2.3.4")}}));
  EXPECT_EQ(m.max_backoff_ms, 8000);
  EXPECT_EQ(m.inactivity_probe_ms, -1);  // the server's default for the method
  m = ManagerOptionsFromRow(Row({{"max_backoff", Int(30000)}, {"inactivity_probe", Int(0)}}));
  EXPECT_EQ(m.max_backoff_ms, 30000);
  EXPECT_EQ(m.inactivity_probe_ms, 0);
  m = ManagerOptionsFromRow(Row({{"inactivity_probe", Int(15000)}}));
  EXPECT_EQ(m.inactivity_probe_ms, 15000);
}

TEST(RemoteConfigTest, SslRowOverCommandLine) {
  TlsOptions cmdline;
  cmdline.private_key = "/etc/k.pem";
  cmdline.certificate = "/etc/c.pem";
  cmdline.ca_cert = "/etc/ca.pem";
  EXPECT_EQ(TlsOptionsFromDb(nullptr, {}, cmdline), cmdline);
  IdlRow ssl = Row({{"private_key", Str("/db/k.pem")},
                    {"certificate", Str("/db/c.pem")},
                    {"ca_cert", Str("/db/ca.pem")},
                    {"bootstrap_ca_cert", Bool(true)}});
  TlsOptions o =
      TlsOptionsFromDb(&ssl, {{"ssl-protocols", "TLSv1.3"}, {"ssl-ciphers", "HIGH"}}, cmdline);
  EXPECT_EQ(o.private_key, "/db/k.pem");
  EXPECT_EQ(o.certificate, "/db/c.pem");
  EXPECT_EQ(o.ca_cert, "/db/ca.pem");
  EXPECT_TRUE(o.bootstrap_ca_cert);
  EXPECT_EQ(o.protocols, "TLSv1.3");
  EXPECT_EQ(o.ciphers, "HIGH");
}

TEST(RemoteConfigTest, UnixSocketsStayInTheRunDirectory) {
  const std::string run = "/var/run/sluice";
  EXPECT_TRUE(CheckControllerTarget("punix:/var/run/sluice/br0.ctl", run, "br0"));
  EXPECT_TRUE(CheckControllerTarget("tcp:1.2.3.4", run, "br0"));
  EXPECT_TRUE(CheckControllerTarget("unix:/var/run/sluice/ctl.sock", run, "br0"));
  EXPECT_TRUE(CheckControllerTarget("unix:relative.sock", run, "br0"));
  for (const char* bad :
       {"punix:/etc/passwd", "punix:/var/run/sluice/br1.x",
        "punix:/var/run/sluice/br0.x/../../../etc/shadow", "punix:/var/run/sluice/sub/br0.x"}) {
    auto r = CheckControllerTarget(bad, run, "br0");
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("could overwrite files"), std::string::npos);
  }
  EXPECT_FALSE(CheckControllerTarget("unix:/tmp/ctl.sock", run, "br0"));
  EXPECT_TRUE(CheckManagerTarget("punix:/var/run/sluice/mgr.sock", run));
  EXPECT_TRUE(CheckManagerTarget("pssl:6640", run));
  EXPECT_FALSE(CheckManagerTarget("punix:/etc/passwd", run));
  EXPECT_FALSE(CheckManagerTarget("unix:/var/run/sluice/../x.sock", run));
}

TEST(RemoteConfigTest, ManagerStatusAsOvsdbServer) {
  db::RemoteStatus active;
  active.active = true;
  active.state = "BACKOFF";
  active.last_error = "Connection refused";
  active.sec_since_disconnect = 3;
  auto s = ManagerStatus(active);
  EXPECT_EQ(s, (std::map<std::string, std::string>{{"state", "BACKOFF"},
                                                   {"last_error", "Connection refused"},
                                                   {"sec_since_disconnect", "3"}}));
  db::RemoteStatus passive;
  passive.bound_port = 6640;
  passive.n_connections = 1;
  EXPECT_EQ(ManagerStatus(passive), (std::map<std::string, std::string>{{"bound_port", "6640"}}));
  passive.n_connections = 3;
  EXPECT_EQ(ManagerStatus(passive)["n_connections"], "3");
  EXPECT_EQ(RoleName(ofp::ControllerRole::kSlave), "slave");
  EXPECT_EQ(RoleName(ofp::ControllerRole::kEqual), "other");
}

}  // namespace
}  // namespace sluice::bridge
