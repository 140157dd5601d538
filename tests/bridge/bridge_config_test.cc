#include "bridge/bridge_config.h"

#include <gtest/gtest.h>

namespace sluice::bridge {
namespace {

using db::Datum;
using db::IdlRow;
using db::Uuid;

Datum Str(const std::string& s) { return Datum::Scalar(db::StringAtom(s)); }
Datum Int(int64_t v) { return Datum::Scalar(db::IntAtom(v)); }
Datum Ints(std::vector<int64_t> v) {
  Datum d;
  for (auto i : v) d.keys.push_back(db::IntAtom(i));
  d.Sort();
  return d;
}
Datum Uuids(std::vector<Uuid> v) {
  Datum d;
  for (auto u : v) d.keys.push_back(db::UuidAtom(u));
  d.Sort();
  return d;
}
Datum Map(std::map<std::string, std::string> m) {
  Datum d;
  d.is_map = true;
  for (auto& [k, v] : m) {
    d.keys.push_back(db::StringAtom(k));
    d.values.push_back(db::StringAtom(v));
  }
  return d;
}

// A tiny in-memory database for BuildDesiredConfig.
struct FakeDb {
  std::map<std::string, std::map<Uuid, IdlRow>> tables;
  uint64_t next = 1;
  Uuid Add(const std::string& table, std::map<std::string, Datum> cols) {
    Uuid u{0, next++};
    IdlRow r;
    r.uuid = u;
    r.columns = std::move(cols);
    tables[table][u] = std::move(r);
    return u;
  }
  TableRows Rows() {
    return [this](const std::string& t) -> const std::map<Uuid, IdlRow>& { return tables[t]; };
  }
  Uuid Iface(const std::string& name, const std::string& type = "",
             std::map<std::string, std::string> options = {}) {
    return Add("Interface", {{"name", Str(name)}, {"type", Str(type)}, {"options", Map(options)}});
  }
  Uuid Port(const std::string& name, std::vector<Uuid> ifaces,
            std::map<std::string, Datum> extra = {}) {
    extra["name"] = Str(name);
    extra["interfaces"] = Uuids(ifaces);
    return Add("Port", std::move(extra));
  }
};

TEST(BridgeConfig, MacAndDatapathId) {
  auto m = ParseMac("52:54:00:AB:cd:0f");
  ASSERT_TRUE(m);
  EXPECT_EQ(FormatMac(*m), "52:54:00:ab:cd:0f");
  EXPECT_FALSE(ParseMac("52:54:00:ab:cd"));
  EXPECT_FALSE(ParseMac("52-54-00-ab-cd-0f"));
  EXPECT_FALSE(ParseMac("52:54:00:ab:cd:0g"));
  EXPECT_EQ(DatapathIdFromMac(*m), 0x525400abcd0fULL);
  EXPECT_EQ(ParseDatapathId("00000000000000aa"), 0xaaULL);
  EXPECT_EQ(ParseDatapathId("0x0000000000000abc"), 0xabcULL);
  EXPECT_FALSE(ParseDatapathId("aa"));
  EXPECT_FALSE(ParseDatapathId("000000000000000z"));
  EXPECT_EQ(FormatDatapathId(0xaa), "00000000000000aa");
  auto a = DefaultBridgeMac("br0"), b = DefaultBridgeMac("br0"), c = DefaultBridgeMac("br1");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(a[0] & 0x03, 0x02);  // unicast, locally administered
}

TEST(BridgeConfig, IfaceTypes) {
  EXPECT_EQ(*ClassifyIfaceType(""), IfaceKind::kSystem);
  EXPECT_EQ(*ClassifyIfaceType("system"), IfaceKind::kSystem);
  EXPECT_EQ(*ClassifyIfaceType("dpdk"), IfaceKind::kDpdk);
  EXPECT_EQ(*ClassifyIfaceType("internal"), IfaceKind::kInternal);
  EXPECT_EQ(*ClassifyIfaceType("tap"), IfaceKind::kTap);
  EXPECT_EQ(*ClassifyIfaceType("patch"), IfaceKind::kPatch);
  auto bogus = ClassifyIfaceType("bogus");
  ASSERT_FALSE(bogus);
  EXPECT_NE(bogus.error().message.find("unsupported interface type 'bogus'"), std::string::npos);
  EXPECT_FALSE(ClassifyIfaceType("vxlan"));
}

TEST(BridgeConfig, DatapathPortSpecs) {
  IfaceConfig c;
  c.name = "p1";
  c.type = "dpdk";
  EXPECT_FALSE(DatapathPortSpec(c, IfaceKind::kDpdk));  // no devargs
  c.options["dpdk-devargs"] = "net_null0";
  auto s = DatapathPortSpec(c, IfaceKind::kDpdk);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->type, "dpdk");
  EXPECT_EQ(s->options.at("dpdk-devargs"), "net_null0");

  IfaceConfig i;
  i.name = "vif1";
  i.type = "internal";
  i.mac = "02:00:00:00:00:01";
  i.mtu_request = 9000;
  s = DatapathPortSpec(i, IfaceKind::kInternal);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->type, "internal");
  EXPECT_EQ(s->options.at("mac"), "02:00:00:00:00:01");
  EXPECT_EQ(s->options.at("mtu"), "9000");
  i.mac = "nonsense";
  EXPECT_FALSE(DatapathPortSpec(i, IfaceKind::kInternal));

  IfaceConfig sys;
  sys.name = "eth1";
  s = DatapathPortSpec(sys, IfaceKind::kSystem);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->type, "system");
  EXPECT_FALSE(DatapathPortSpec(sys, IfaceKind::kPatch));
}

TEST(BridgeConfig, SameDatapathConfigIgnoresOfport) {
  IfaceConfig a;
  a.name = "p";
  a.type = "internal";
  IfaceConfig b = a;
  b.ofport_request = 7;
  b.ofport_stored = 3;
  EXPECT_TRUE(SameDatapathConfig(a, b));
  b.mtu_request = 1400;
  EXPECT_FALSE(SameDatapathConfig(a, b));
  b = a;
  b.options["peer"] = "x";
  EXPECT_FALSE(SameDatapathConfig(a, b));
}

TEST(BridgeConfig, Vlan) {
  using Mode = ofp::PortVlan::Mode;
  std::string w;
  IdlRow p;
  p.columns["tag"] = Int(10);
  auto v = VlanFromPortRow(p, &w);
  EXPECT_EQ(v.mode, Mode::kAccess);
  EXPECT_EQ(v.tag, 10);
  EXPECT_TRUE(w.empty());

  IdlRow t;
  t.columns["trunks"] = Ints({20, 10});
  v = VlanFromPortRow(t, &w);
  EXPECT_EQ(v.mode, Mode::kTrunk);
  EXPECT_EQ(v.tag, -1);
  EXPECT_EQ(v.trunks, (std::vector<uint16_t>{10, 20}));

  IdlRow n;
  n.columns["tag"] = Int(5);
  n.columns["trunks"] = Ints({6});
  n.columns["vlan_mode"] = Str("native-untagged");
  v = VlanFromPortRow(n, &w);
  EXPECT_EQ(v.mode, Mode::kNativeUntagged);
  EXPECT_EQ(v.tag, 5);
  EXPECT_EQ(v.trunks, (std::vector<uint16_t>{6}));

  IdlRow q;
  q.columns["tag"] = Int(7);
  q.columns["vlan_mode"] = Str("dot1q-tunnel");
  q.columns["cvlans"] = Ints({100, 200});
  w.clear();
  std::string err;
  v = VlanFromPortRow(q, &w, &err);
  EXPECT_TRUE(w.empty());
  EXPECT_TRUE(err.empty());
  EXPECT_EQ(v.mode, Mode::kDot1qTunnel);
  EXPECT_EQ(v.tag, 7);
  EXPECT_EQ(v.cvlans, (std::vector<uint16_t>{100, 200}));
  EXPECT_EQ(v.qinq_tpid, 0x88a8);
  q.columns["other_config"] = Map({{"qinq-ethtype", "802.1q"}});
  v = VlanFromPortRow(q, &w, &err);
  EXPECT_EQ(v.qinq_tpid, 0x8100);
}

TEST(BridgeConfig, BuildDesired) {
  FakeDb db;
  Uuid lo = db.Iface("br0", "internal");
  Uuid v1 = db.Iface("veth1");
  Uuid b1 = db.Iface("bond-a"), b2 = db.Iface("bond-b");
  Uuid dup = db.Iface("veth1");  // a second row with the same name under another bridge
  Uuid pl = db.Port("br0", {lo});
  Uuid p1 = db.Port("veth1", {v1}, {{"tag", Int(3)}});
  Uuid pb = db.Port("bond0", {b1, b2});
  Uuid pd = db.Port("dup", {dup});
  Uuid vq = db.Iface("qinq1");
  Uuid pq = db.Port("qinq1", {vq}, {{"tag", Int(9)}, {"vlan_mode", Str("dot1q-tunnel")}});
  Uuid ctl = db.Add("Controller", {{"target", Str("tcp:127.0.0.1:6653")},
                                   {"max_backoff", Int(2000)},
                                   {"inactivity_probe", Int(0)}});
  Uuid br0 = db.Add("Bridge", {{"name", Str("br0")},
                               {"ports", Uuids({pl, p1, pb, pq})},
                               {"controller", Uuids({ctl})},
                               {"fail_mode", Str("secure")},
                               {"other_config", Map({{"hwaddr", "02:00:00:00:00:aa"}})}});
  Uuid br1 = db.Add("Bridge", {{"name", Str("br1")},
                               {"ports", Uuids({pd})},
                               {"other_config", Map({{"datapath-id", "00000000000000ff"}})}});
  Uuid mgr = db.Add("Manager", {{"target", Str("ptcp:6640:127.0.0.1")}});
  db.Add(
      "Open_vSwitch",
      {{"bridges", Uuids({br0, br1})}, {"manager_options", Uuids({mgr})}, {"next_cfg", Int(42)}});

  DesiredConfig d = BuildDesiredConfig(db.Rows());
  ASSERT_TRUE(d.root);
  EXPECT_EQ(d.next_cfg, 42);
  EXPECT_EQ(d.managers, (std::set<std::string>{"ptcp:6640:127.0.0.1"}));
  ASSERT_EQ(d.bridges.size(), 2u);
  const BridgeConfig& b0 = d.bridges.at("br0");
  EXPECT_TRUE(b0.secure);
  EXPECT_EQ(b0.dpid, 0x0200000000aaULL);
  ASSERT_EQ(b0.controllers.size(), 1u);
  EXPECT_EQ(b0.controllers[0].max_backoff_ms, 2000);
  EXPECT_EQ(b0.controllers[0].probe_interval_ms, 0);
  EXPECT_EQ(b0.ports.at("veth1").vlan.tag, 3);
  const auto& bond = b0.ports.at("bond0");
  ASSERT_EQ(bond.ifaces.size(), 2u);
  EXPECT_NE(bond.ifaces[0].config_error.find("bonds are not supported"), std::string::npos);
  // dot1q-tunnel is a port like the others, with its outer tag.
  EXPECT_TRUE(b0.ports.at("qinq1").ifaces.at(0).config_error.empty());
  EXPECT_EQ(b0.ports.at("qinq1").vlan.mode, ofp::PortVlan::Mode::kDot1qTunnel);
  EXPECT_EQ(b0.ports.at("qinq1").vlan.tag, 9);
  const BridgeConfig& b1c = d.bridges.at("br1");
  EXPECT_FALSE(b1c.secure);
  EXPECT_EQ(b1c.dpid, 0xffULL);
  EXPECT_EQ(b1c.mac, DefaultBridgeMac("br1"));
  // The duplicate veth1 (under br1) is left out and reported.
  EXPECT_TRUE(b1c.ports.at("dup").ifaces.empty());
  ASSERT_TRUE(d.rejected.count("veth1"));
  EXPECT_NE(d.rejected.at("veth1").find("bridge br0"), std::string::npos);
}

TEST(BridgeConfig, NoRootRow) {
  FakeDb db;
  DesiredConfig d = BuildDesiredConfig(db.Rows());
  EXPECT_FALSE(d.root);
  EXPECT_TRUE(d.bridges.empty());
}

TEST(BridgeConfig, MegaflowTuningFromOtherConfig) {
  auto build = [](std::map<std::string, std::string> oc) {
    FakeDb db;
    db.Add("Open_vSwitch", {{"other_config", Map(oc)}});
    return BuildDesiredConfig(db.Rows());
  };
  DesiredConfig d = build({});
  EXPECT_EQ(d.tuning.max_idle_ms, 10000);  // Open vSwitch's defaults
  EXPECT_EQ(d.tuning.max_megaflows, 200000u);
  d = build({{"max-idle", "2500"}, {"flow-limit", "1000"}});
  EXPECT_EQ(d.tuning.max_idle_ms, 2500);
  EXPECT_EQ(d.tuning.max_megaflows, 1000u);
  EXPECT_TRUE(d.warnings.empty());
  // Sluice's max-megaflows wins over flow-limit.
  d = build({{"flow-limit", "1000"}, {"max-megaflows", "2"}});
  EXPECT_EQ(d.tuning.max_megaflows, 2u);
  // Bad values are ignored with a warning: not a number, negative, max-idle below 500 ms.
  d = build({{"max-idle", "100"}, {"flow-limit", "-1"}, {"max-megaflows", "12x"}});
  EXPECT_EQ(d.tuning, DatapathTuning{});
  EXPECT_EQ(d.warnings.size(), 3u);
}

}  // namespace
}  // namespace sluice::bridge
