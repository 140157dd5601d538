// sluice-vsctl's command engine without a server: value syntax, argument parsing, record
// lookup, command semantics on a WorkDb, the transaction plan and output formatting.
#include <gtest/gtest.h>

#include "ovsdb/schemas/vswitch_schema.h"
#include "tools/vsctl/vsctl.h"
#include "tools/vsctl/vsctl_value.h"

namespace sluice::vsctl {
namespace {

using db::AtomicType;
using db::Datum;
using db::Type;

const db::DatabaseSchema& Schema() {
  static const db::DatabaseSchema schema = [] {
    auto s = db::DatabaseSchema::FromJson(nlohmann::json::parse(db::kVswitchSchema));
    EXPECT_TRUE(s.has_value());
    return std::move(*s);
  }();
  return schema;
}

const Type& ColType(const std::string& table, const std::string& col) {
  return Schema().FindTable(table)->FindColumn(col)->type;
}

// Runs one command line against `db` (no server) and returns output or "ERROR: msg". Like a
// committed transaction, the result becomes the database the next command line sees.
std::string Vsctl(std::unique_ptr<WorkDb>& db, std::vector<std::string> argv) {
  auto cl = ParseCommandLine(argv, "");
  if (!cl) return "ERROR: " + cl.error();
  if (auto r = ValidateCommands(cl->commands); !r) return "ERROR: " + r.error();
  Executor ex(*db, cl->options);
  if (auto r = ex.Run(cl->commands); !r) return "ERROR: " + r.error();
  auto next = std::make_unique<WorkDb>(Schema());
  for (const auto& [name, table] : Schema().tables) {
    for (Row* r : db->Rows(name)) next->Load(name, r->uuid, r->cols);
  }
  db = std::move(next);
  return ex.Output({});
}

std::unique_ptr<WorkDb> NewDb() { return std::make_unique<WorkDb>(Schema()); }

TEST(VsctlValue, Tokens) {
  std::string_view s = R"(abc:def)";
  EXPECT_EQ(*ParseToken(s), "abc");
  EXPECT_EQ(s, ":def");
  s = R"("a:b"=c)";
  EXPECT_EQ(*ParseToken(s), R"("a:b")");  // quotes kept for the atom parser
  EXPECT_EQ(s, "=c");
  s = R"(a\:b)";
  EXPECT_EQ(*ParseToken(s), "a:b");
  s = R"("abc)";
  EXPECT_FALSE(ParseToken(s).has_value());
}

TEST(VsctlValue, Atoms) {
  db::BaseType str;
  str.type = AtomicType::kString;
  EXPECT_EQ(std::get<std::string>(*AtomFromString(R"("52:54:00:aa:bb:cc")", str, nullptr)),
            "52:54:00:aa:bb:cc");
  EXPECT_EQ(std::get<std::string>(*AtomFromString("plain", str, nullptr)), "plain");
  EXPECT_EQ(std::get<std::string>(*AtomFromString(R"("")", str, nullptr)), "");
  EXPECT_EQ(AtomFromString("", str, nullptr).error(),
            "An empty string is not valid as input; use \"\" to represent the empty string");
  EXPECT_EQ(AtomFromString("\"b", str, nullptr).error(),
            "\"b: missing quote at end of quoted string");
  db::BaseType b;
  b.type = AtomicType::kBoolean;
  EXPECT_TRUE(std::get<bool>(*AtomFromString("true", b, nullptr)));
  EXPECT_FALSE(std::get<bool>(*AtomFromString("no", b, nullptr)));
  EXPECT_EQ(AtomFromString("maybe", b, nullptr).error(),
            "\"maybe\" is not a valid boolean (use \"true\" or \"false\")");
  db::BaseType u;
  u.type = AtomicType::kUuid;
  db::Uuid fixed = db::Uuid::Random();
  SymbolResolver res = [&](const std::string& n) {
    EXPECT_EQ(n, "@x");
    return fixed;
  };
  EXPECT_EQ(std::get<db::Uuid>(*AtomFromString("@x", u, &res)), fixed);
  EXPECT_EQ(AtomFromString("zz", u, nullptr).error(), "\"zz\" is not a valid UUID");
}

TEST(VsctlValue, Constraints) {
  EXPECT_EQ(DatumFromString("foo", ColType("Bridge", "fail_mode"), nullptr).error(),
            "constraint violation: foo is not one of the allowed values ([secure, standalone])");
  EXPECT_EQ(DatumFromString("-5", ColType("Interface", "mtu_request"), nullptr).error(),
            "constraint violation: -5 is less than minimum allowed value 1");
  EXPECT_EQ(DatumFromString("0", ColType("Interface", "ofport_request"), nullptr).error(),
            "constraint violation: 0 is not in the valid range 1 to 65279 (inclusive)");
  EXPECT_EQ(DatumFromString("abc", ColType("Port", "tag"), nullptr).error(),
            "\"abc\" is not a valid integer or range");
}

TEST(VsctlValue, Datums) {
  const Type& trunks = ColType("Port", "trunks");
  auto d = DatumFromString("1-3,7", trunks, nullptr);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(DatumToText(*d, trunks), "[1, 2, 3, 7]");
  EXPECT_EQ(DatumToBare(*d, trunks), "1 2 3 7");
  EXPECT_EQ(DatumFromString("[1,1]", trunks, nullptr).error(),
            "[1,1]: set contains duplicate value");
  EXPECT_EQ(DatumToText(*DatumFromString("[]", trunks, nullptr), trunks), "[]");
  const Type& ext = ColType("Bridge", "external_ids");
  auto m = DatumFromString(R"({b="x y", a=1})", ext, nullptr);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(DatumToText(*m, ext), R"({a="1", b="x y"})");
  EXPECT_EQ(DatumToBare(*m, ext), "a=1 b=x y");
  EXPECT_EQ(DatumToText(*DatumFromString("a=b", ext, nullptr), ext), "{a=b}");
  const Type& tag = ColType("Port", "tag");
  EXPECT_EQ(DatumToText(*DatumFromString("10", tag, nullptr), tag), "10");
  EXPECT_EQ(DatumToOutputJson(*DatumFromString("10", tag, nullptr), tag), nlohmann::json(10));
  EXPECT_EQ(DatumToOutputJson(Datum{}, tag).dump(), R"(["set",[]])");
}

TEST(VsctlValue, Quoting) {
  EXPECT_FALSE(StringNeedsQuotes("br0"));
  EXPECT_FALSE(StringNeedsQuotes("balance-slb"));
  EXPECT_TRUE(StringNeedsQuotes(""));
  EXPECT_TRUE(StringNeedsQuotes("3"));
  EXPECT_TRUE(StringNeedsQuotes("true"));
  EXPECT_TRUE(StringNeedsQuotes("tcp:1.2.3.4:6653"));
  EXPECT_TRUE(StringNeedsQuotes("01234567-89ab-cdef-0123-456789abcdef"));
  EXPECT_EQ(AtomToText(db::StringAtom("a\"b")), R"("a\"b")");
}

TEST(VsctlNames, Matching) {
  std::vector<std::string> names = {"name", "netflow", "external_ids", "Port"};
  EXPECT_EQ(MatchName(names, "name"), 0);
  EXPECT_EQ(MatchName(names, "n"), -2);
  EXPECT_EQ(MatchName(names, "net"), 1);
  EXPECT_EQ(MatchName(names, "external-ids"), 2);
  EXPECT_EQ(MatchName(names, "port"), 3);
  EXPECT_EQ(MatchName(names, "zzz"), -1);
  EXPECT_EQ(*MatchTable(Schema(), "bridge"), "Bridge");
  EXPECT_EQ(MatchTable(Schema(), "Nope").error(), "unknown table \"Nope\"");
  EXPECT_EQ(MatchColumn(*Schema().FindTable("Bridge"), "n").error(),
            "Bridge contains more than one column whose name matches \"n\": name, netflow");
}

TEST(VsctlCommandLine, GlobalAndLocalOptions) {
  auto cl = ParseCommandLine({"--timeout=5", "--", "--may-exist", "add-port", "br0", "vnet0", "--",
                              "set", "Interface", "vnet0", "external-ids:a=b"},
                             "unix:/env.sock");
  ASSERT_TRUE(cl.has_value());
  EXPECT_EQ(cl->options.timeout, 5);
  EXPECT_EQ(cl->options.db, "unix:/env.sock");
  ASSERT_EQ(cl->commands.size(), 2u);
  EXPECT_EQ(cl->commands[0].name, "add-port");
  EXPECT_TRUE(cl->commands[0].options.count("--may-exist"));
  EXPECT_EQ(cl->commands[1].args.size(), 3u);
  // Command options given before the first command belong to it.
  cl =
      ParseCommandLine({"--db=tcp:1.2.3.4:6640", "--columns=name", "--bare", "list", "Bridge"}, "");
  ASSERT_TRUE(cl.has_value());
  EXPECT_EQ(cl->options.db, "tcp:1.2.3.4:6640");
  EXPECT_EQ(cl->commands[0].options.at("--columns"), "name");
  EXPECT_EQ(cl->options.data, "bare");
  EXPECT_FALSE(cl->options.headings);
  EXPECT_EQ(ParseCommandLine({"--foo", "list-br"}, "").error(), "unrecognized option '--foo'");
  EXPECT_EQ(ParseCommandLine({}, "").error(), "missing command name (use --help for help)");
  EXPECT_EQ(ParseCommandLine({"list-br"}, "")->options.db, "unix:/var/run/sluice/db.sock");
  auto bad = ParseCommandLine({"--may-exist", "list-br"}, "");
  EXPECT_EQ(ValidateCommands(bad->commands).error(),
            "'list-br' command has no '--may-exist' option");
  bad = ParseCommandLine({"add-br"}, "");
  EXPECT_EQ(ValidateCommands(bad->commands).error(),
            "'add-br' command requires at least 1 arguments");
}

TEST(VsctlCommands, BridgesPortsAndFakeBridges) {
  auto db = NewDb();
  EXPECT_EQ(Vsctl(db, {"add-br", "br0"}), "");
  EXPECT_EQ(Vsctl(db, {"add-br", "fb", "br0", "20"}), "");
  EXPECT_EQ(Vsctl(db, {"add-port", "br0", "p1", "tag=10"}), "");
  EXPECT_EQ(Vsctl(db, {"add-port", "fb", "p3"}), "");
  EXPECT_EQ(Vsctl(db, {"add-bond", "br0", "bond0", "e1", "e2"}), "");
  EXPECT_EQ(Vsctl(db, {"list-br"}), "br0\nfb\n");
  EXPECT_EQ(Vsctl(db, {"list-ports", "br0"}), "bond0\np1\n");
  EXPECT_EQ(Vsctl(db, {"list-ports", "fb"}), "p3\n");
  EXPECT_EQ(Vsctl(db, {"list-ifaces", "br0"}), "e1\ne2\np1\n");
  EXPECT_EQ(Vsctl(db, {"br-to-vlan", "fb"}), "20\n");
  EXPECT_EQ(Vsctl(db, {"br-to-parent", "fb"}), "br0\n");
  EXPECT_EQ(Vsctl(db, {"port-to-br", "p3"}), "fb\n");
  EXPECT_EQ(Vsctl(db, {"iface-to-br", "e2"}), "br0\n");
  EXPECT_EQ(Vsctl(db, {"get", "Port", "p3", "tag"}), "20\n");
  EXPECT_EQ(Vsctl(db, {"get", "Port", "fb", "fake_bridge", "tag"}), "true\n20\n");
  EXPECT_EQ(Vsctl(db, {"add-br", "br0"}),
            "ERROR: cannot create a bridge named br0 because a bridge named br0 already exists");
  EXPECT_EQ(Vsctl(db, {"--may-exist", "add-br", "br0"}), "");
  EXPECT_EQ(Vsctl(db, {"add-port", "br0", "e1"}),
            "ERROR: cannot create a port named e1 because an interface named e1 already exists on "
            "bridge br0");
  EXPECT_EQ(Vsctl(db, {"del-port", "br0", "p3"}),
            "ERROR: bridge br0 does not have a port p3 (although its child bridge fb does)");
  EXPECT_EQ(Vsctl(db, {"set-controller", "fb", "tcp:1.1.1.1:1"}), "ERROR: fb is a fake bridge");
  EXPECT_EQ(Vsctl(db, {"br-set-external-id", "fb", "k", "v"}), "");
  EXPECT_EQ(Vsctl(db, {"get", "Port", "fb", "external_ids"}), "{fake-bridge-k=v}\n");
  EXPECT_EQ(Vsctl(db, {"br-get-external-id", "fb"}), "k=v\n");
  EXPECT_EQ(Vsctl(db, {"del-br", "fb"}), "");
  EXPECT_EQ(Vsctl(db, {"list-br"}), "br0\n");
  EXPECT_EQ(Vsctl(db, {"port-to-br", "p3"}), "ERROR: no port named p3");
  EXPECT_EQ(Vsctl(db, {"--with-iface", "del-port", "e1"}), "");
  EXPECT_EQ(Vsctl(db, {"list-ports", "br0"}), "p1\n");
  EXPECT_EQ(Vsctl(db, {"del-br", "br0"}), "");
  EXPECT_EQ(Vsctl(db, {"list-br"}), "");
  EXPECT_EQ(Vsctl(db, {"del-br", "br9"}), "ERROR: no bridge named br9");
  EXPECT_EQ(Vsctl(db, {"--if-exists", "del-br", "br9"}), "");
}

TEST(VsctlCommands, DatabaseCommandsAndRecords) {
  auto db = NewDb();
  Vsctl(db, {"add-br", "br0"});
  Vsctl(db, {"set-controller", "br0", "tcp:1.2.3.4:6653"});
  Vsctl(db, {"set-manager", "ptcp:6640"});
  EXPECT_EQ(Vsctl(db, {"get", "Controller", "br0", "target"}), "\"tcp:1.2.3.4:6653\"\n");
  EXPECT_EQ(Vsctl(db, {"get", "Manager", "ptcp:6640", "target"}), "\"ptcp:6640\"\n");
  EXPECT_EQ(Vsctl(db, {"get", "Open_vSwitch", ".", "manager_options"}).size(), 39u);
  EXPECT_EQ(Vsctl(db, {"set", "Bridge", "br0", "other_config:a=\"x y\"", "fail_mode=secure"}), "");
  EXPECT_EQ(Vsctl(db, {"get", "Bridge", "br0", "other_config:a", "fail_mode"}),
            "\"x y\"\nsecure\n");
  EXPECT_EQ(Vsctl(db, {"get", "Bridge", "br0", "other_config:b"}),
            "ERROR: no key \"b\" in Bridge record \"br0\" column other_config");
  EXPECT_EQ(Vsctl(db, {"add", "Bridge", "br0", "flood_vlans", "5", "3"}), "");
  EXPECT_EQ(Vsctl(db, {"remove", "Bridge", "br0", "flood_vlans", "5"}), "");
  EXPECT_EQ(Vsctl(db, {"get", "Bridge", "br0", "flood_vlans"}), "[3]\n");
  EXPECT_EQ(Vsctl(db, {"clear", "Bridge", "br0", "flood_vlans", "other_config"}), "");
  EXPECT_EQ(Vsctl(db, {"get", "Bridge", "br0", "flood_vlans", "other_config"}), "[]\n{}\n");
  EXPECT_EQ(Vsctl(db, {"set", "Bridge", "br0", "name=x"}),
            "ERROR: cannot modify read-only column name in table Bridge");
  EXPECT_EQ(Vsctl(db, {"get", "Bridge", "br9", "name"}), "ERROR: no row \"br9\" in table Bridge");
  EXPECT_EQ(Vsctl(db, {"clear", "Port", "br0", "interfaces"}),
            "ERROR: \"clear\" operation cannot be applied to column interfaces of table Port, "
            "which is not allowed to be empty");
  // --id and create in one transaction.
  std::string out = Vsctl(db, {"--", "--id=@q", "create", "QoS", "type=linux-htb", "--", "set",
                               "Port", "br0", "qos=@q"});
  EXPECT_EQ(out.size(), 37u);
  EXPECT_EQ(Vsctl(db, {"get", "QoS", "br0", "type"}), "linux-htb\n");
  EXPECT_EQ(Vsctl(db, {"set", "Port", "br0", "qos=@nope"}),
            "ERROR: row id \"@nope\" is referenced but never created (e.g. with \"-- --id=@nope "
            "create ...\")");
  // find with operators; UUID prefixes.
  Vsctl(db, {"add-port", "br0", "p1", "tag=10"});
  Vsctl(db, {"add-port", "br0", "p2", "tag=20", "trunks=1,2"});
  EXPECT_EQ(Vsctl(db, {"--bare", "--columns=name", "find", "Port", "tag>=15"}), "p2\n");
  EXPECT_EQ(Vsctl(db, {"--bare", "--columns=name", "find", "Port", "trunks{>=}[2]"}), "p2\n");
  EXPECT_EQ(Vsctl(db, {"--bare", "--columns=name", "find", "Port", "tag=10"}), "p1\n");
  std::string uuid = Vsctl(db, {"get", "Port", "p1", "_uuid"});
  EXPECT_EQ(Vsctl(db, {"get", "Port", uuid.substr(0, 8), "name"}), "p1\n");
  // wait-until that does not hold asks to try again.
  auto cl = ParseCommandLine({"wait-until", "Port", "p1", "tag=11"}, "");
  Executor ex(*db, cl->options);
  ASSERT_TRUE(ex.Run(cl->commands).has_value());
  EXPECT_TRUE(ex.try_again());
}

TEST(VsctlCommands, BrExistsStatus) {
  auto db = NewDb();
  auto cl = ParseCommandLine({"br-exists", "nope"}, "");
  Executor ex(*db, cl->options);
  auto r = ex.Run(cl->commands);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), "");
  EXPECT_EQ(ex.exit_code(), 2);
}

TEST(VsctlPlan, InsertsUseNamedUuidsAndVerifyWhatTheyChange) {
  auto db = NewDb();
  db::Uuid ovs = db::Uuid::Random();
  db->Load("Open_vSwitch", ovs, {});
  EXPECT_TRUE(db->Plan().empty());
  auto cl = ParseCommandLine({"add-br", "br0"}, "");
  Executor ex(*db, cl->options);
  ASSERT_TRUE(ex.Run(cl->commands).has_value());
  TxnPlan plan = db->Plan();
  int inserts = 0, updates = 0;
  for (const auto& op : plan.ops) {
    if (op["op"] == "insert") {
      ++inserts;
      if (op["table"] == "Bridge") {
        EXPECT_EQ(op["row"]["ports"][0], "named-uuid");
      }
    }
    if (op["op"] == "update") {
      ++updates;
      EXPECT_EQ(op["table"], "Open_vSwitch");
      EXPECT_EQ(op["row"]["bridges"][0], "named-uuid");
    }
  }
  EXPECT_EQ(inserts, 3);
  EXPECT_EQ(updates, 1);
  EXPECT_EQ(plan.names.size(), 3u);
  ASSERT_FALSE(plan.verifies.empty());
  EXPECT_EQ(plan.verifies[0].table, "Open_vSwitch");
  EXPECT_EQ(plan.verifies[0].columns, std::vector<std::string>{"bridges"});
}

TEST(VsctlOutput, Formats) {
  OutputTable t;
  t.headings = {"name", "tag", "trunks"};
  const Type& tag = ColType("Port", "tag");
  const Type& trunks = ColType("Port", "trunks");
  const Type& name = ColType("Port", "name");
  t.rows.push_back({{Datum::Scalar(db::StringAtom("p1")), name},
                    {Datum::Scalar(db::IntAtom(10)), tag},
                    {*DatumFromString("1,2", trunks, nullptr), trunks}});
  t.rows.push_back(
      {{Datum::Scalar(db::StringAtom("p3")), name}, {Datum{}, tag}, {Datum{}, trunks}});
  Options o;
  EXPECT_EQ(FormatTable(t, o),
            "name                : p1\ntag                 : 10\ntrunks              : [1, 2]\n\n"
            "name                : p3\ntag                 : []\ntrunks              : []\n");
  o.format = "table";
  EXPECT_EQ(FormatTable(t, o), "name tag trunks\n---- --- ------\np1   10  [1, 2]\np3   []  []\n");
  o.format = "csv";
  EXPECT_EQ(FormatTable(t, o), "name,tag,trunks\np1,10,\"[1, 2]\"\np3,[],[]\n");
  o.format = "json";
  EXPECT_EQ(
      FormatTable(t, o),
      R"({"data":[["p1",10,["set",[1,2]]],["p3",["set",[]],["set",[]]]],"headings":["name","tag","trunks"]})"
      "\n");
  o.format = "list";
  o.data = "bare";
  o.headings = false;
  EXPECT_EQ(FormatTable(t, o), "p1\n10\n1 2\n\np3\n\n\n");
}

TEST(VsctlOutput, Show) {
  auto db = NewDb();
  Vsctl(db, {"add-br", "br0"});
  Vsctl(db, {"set-manager", "ptcp:6640"});
  Vsctl(db, {"add-port", "br0", "p1", "tag=10"});
  Vsctl(db, {"set", "Interface", "p1", "options:k=v"});
  std::string s = Show(*db);
  EXPECT_NE(s.find("\n    Manager \"ptcp:6640\"\n    Bridge br0\n"), std::string::npos) << s;
  EXPECT_NE(s.find("        Port p1\n            tag: 10\n            Interface p1\n"
                   "                options: {k=v}\n"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("            Interface br0\n                type: internal\n"),
            std::string::npos)
      << s;
}

}  // namespace
}  // namespace sluice::vsctl
