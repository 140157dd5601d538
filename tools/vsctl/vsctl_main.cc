// sluice-vsctl: ovs-vsctl's command language against Sluice's configuration database.
// Connects with the OVSDB IDL (a replica of every table), runs the commands against a working
// copy, commits the result as one transaction (retrying on conflicts), and unless --no-wait
// waits until sluice-switchd reports the new configuration applied (cur_cfg >= next_cfg).
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <set>

#include "common/stream/tls_config.h"
#include "ovsdb/idl/idl.h"
#include "sluice/log.h"
#include "tools/vsctl/vsctl.h"

namespace {

using namespace sluice;
using namespace sluice::vsctl;
using Json = nlohmann::json;

[[noreturn]] void Fatal(const std::string& msg, int code = 1) {
  if (!msg.empty()) std::cerr << kProgram << ": " << msg << "\n";
  std::exit(code);
}

// --timeout: like ovs-vsctl, SIGALRM ends the process (status 128+14 in a shell).
void OnAlarm(int) {
  char ts[32];
  std::time_t now = std::time(nullptr);
  struct tm tmv;
  gmtime_r(&now, &tmv);
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tmv);
  char msg[160];
  int n = std::snprintf(
      msg, sizeof msg, "%s|00001|fatal_signal|WARN|terminating with signal 14 (Alarm clock)\n", ts);
  if (n > 0) (void)!write(STDERR_FILENO, msg, static_cast<size_t>(n));
  std::signal(SIGALRM, SIG_DFL);
  std::raise(SIGALRM);
}

const std::vector<std::string> kTables = {"Open_vSwitch", "Bridge",     "Port",
                                          "Interface",    "Controller", "Manager",
                                          "SSL",          "Mirror",     "Flow_Table",
                                          "QoS",          "Queue",      "NetFlow",
                                          "sFlow",        "IPFIX",      "Flow_Sample_Collector_Set",
                                          "Datapath",     "CT_Zone",    "CT_Timeout_Policy",
                                          "AutoAttach"};

// Open vSwitch's SSL options (-p, -c, -C, --bootstrap-ca-cert, ...) are taken out of the leading
// options before the rest is parsed; the other options that take a separate value are passed
// over with it.
Result<TlsOptions> TakeTlsOptions(std::vector<std::string>& args) {
  static const std::set<std::string> kValued = {"--db",     "-t", "--timeout", "-f",
                                                "--format", "-d", "--data"};
  TlsOptions tls;
  std::vector<std::string> rest;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--" || a.empty() || a[0] != '-' || a == "-") break;
    size_t j = i;
    auto taken = ParseTlsArg(args, &j, &tls);
    if (!taken) return std::unexpected(taken.error());
    if (*taken) {
      i = j;
      continue;
    }
    rest.push_back(a);
    if (kValued.count(a) && i + 1 < args.size()) rest.push_back(args[++i]);
  }
  rest.insert(rest.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  args = std::move(rest);
  return tls;
}

std::string CommentText(int argc, char** argv) {
  std::string s = std::string(kProgram) + ":";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool quote = a.empty() || a.find_first_of(" \t\"'\\$") != std::string::npos;
    s += " ";
    if (quote) {
      s += "\"";
      for (char c : a) {
        if (c == '"' || c == '\\') s += '\\';
        s += c;
      }
      s += "\"";
    } else {
      s += a;
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto tls = TakeTlsOptions(args);
  if (!tls) Fatal(tls.error().message);
  DefaultTlsConfig()->Set(*tls);
  const char* env = std::getenv("SLUICE_DB");
  auto cl = ParseCommandLine(args, env ? env : "");
  if (!cl) Fatal(cl.error());
  if (cl->help) {
    std::cout << UsageText() << "\n" << TlsUsage();
    return 0;
  }
  if (cl->version) {
    std::cout << kProgram << " (Sluice) " << SLUICE_VERSION << "\n";
    return 0;
  }
  const Options& opts = cl->options;
  if (auto r = ValidateCommands(cl->commands); !r) Fatal(r.error());
  if (opts.timeout > 0) {
    std::signal(SIGALRM, OnAlarm);
    alarm(static_cast<unsigned>(opts.timeout));
  }
  log::Get("ovsdb_idl")->set_level(spdlog::level::off);
  log::Get("jsonrpc")->set_level(spdlog::level::off);

  asio::io_context io;
  std::map<std::string, std::vector<std::string>> want;
  for (const auto& t : kTables) want[t] = {};
  db::Idl idl(io, opts.db, "Open_vSwitch", want);
  idl.Start();
  auto connect_failed = [&] {
    std::string why = idl.last_error();
    if (why.starts_with(opts.db + ": ")) why = why.substr(opts.db.size() + 2);
    Fatal(opts.db + ": database connection failed (" + why + ")");
  };
  if (!idl.last_error().empty()) connect_failed();
  while (!idl.connected()) {
    io.run_one();
    // A connection that bootstrapped the CA certificate is made again at once.
    if (!idl.connected() && !idl.last_error().empty() && idl.last_error_code() != Errc::kBusy) {
      connect_failed();
    }
  }
  const db::DatabaseSchema& schema = *idl.schema();

  bool writes = AnyWrite(cl->commands);
  for (;;) {
    uint64_t seq = idl.seqno();
    WorkDb wdb(schema);
    for (const auto& t : kTables) {
      for (const auto& [u, row] : idl.Rows(t)) wdb.Load(t, u, row.columns);
    }
    Executor ex(wdb, opts);
    if (auto r = ex.Run(cl->commands); !r) Fatal(r.error(), ex.exit_code());
    auto wait_for_change = [&] {
      while (idl.seqno() == seq || !idl.connected()) io.run_one();
    };
    if (ex.try_again()) {
      wait_for_change();
      continue;
    }
    TxnPlan plan = wdb.Plan();
    if (opts.dry_run || plan.empty() || !writes) {
      std::cout << ex.Output({});
      return 0;
    }
    db::IdlTxn txn(idl);
    for (const auto& v : plan.verifies) txn.Verify(v.table, v.uuid, v.columns);
    std::vector<std::string> insert_names;
    for (const auto& op : plan.ops) {
      std::string o = op["op"];
      if (o == "insert") {
        txn.Insert(op["table"], op["row"], op["uuid-name"]);
        insert_names.push_back(op["uuid-name"]);
      } else {
        txn.Raw(op);
      }
    }
    const db::IdlRow* ovs = nullptr;
    for (const auto& [u, row] : idl.Rows("Open_vSwitch")) {
      ovs = &row;
      break;
    }
    // A new Open_vSwitch row (empty database) is inserted by the plan; waiting then is moot.
    bool wait = !opts.no_wait && ovs != nullptr;
    if (wait) {
      Json where =
          Json::array({Json::array({"_uuid", "==", Json::array({"uuid", ovs->uuid.ToString()})})});
      txn.Raw(Json{{"op", "mutate"},
                   {"table", "Open_vSwitch"},
                   {"where", where},
                   {"mutations", Json::array({Json::array({"next_cfg", "+=", 1})})}});
      txn.Raw(Json{{"op", "select"},
                   {"table", "Open_vSwitch"},
                   {"where", where},
                   {"columns", Json::array({"next_cfg"})}});
    }
    txn.Comment(CommentText(argc, argv));
    std::optional<db::TxnResult> result;
    txn.Commit([&](db::TxnResult r) { result = std::move(r); });
    while (!result) io.run_one();
    switch (result->status) {
      case db::TxnStatus::kTryAgain:
      case db::TxnStatus::kNotConnected:
        wait_for_change();
        continue;
      case db::TxnStatus::kError: {
        std::string err = result->error;
        if (result->reply.is_array()) {
          for (const auto& one : result->reply) {
            if (one.is_object() && one.contains("error")) {
              err = one.dump();
              break;
            }
          }
        }
        Fatal("transaction error: " + err);
      }
      case db::TxnStatus::kUnchanged:
      case db::TxnStatus::kSuccess:
        break;
    }
    std::map<db::Uuid, db::Uuid> real;
    for (const auto& [name, local] : plan.names) {
      auto it = result->inserted.find(name);
      if (it != result->inserted.end()) real[local] = it->second;
    }
    if (wait && result->status == db::TxnStatus::kSuccess) {
      int64_t next_cfg = 0;
      for (const auto& one : result->reply) {
        if (one.is_object() && one.contains("rows") && one["rows"].is_array() &&
            !one["rows"].empty() && one["rows"][0].contains("next_cfg")) {
          next_cfg = one["rows"][0]["next_cfg"].get<int64_t>();
        }
      }
      for (;;) {
        const db::IdlRow* row = nullptr;
        for (const auto& [u, r] : idl.Rows("Open_vSwitch")) {
          row = &r;
          break;
        }
        if (row && row->GetInt("cur_cfg") >= next_cfg) break;
        io.run_one();
      }
      for (const auto& name : ex.added_ifaces()) {
        const db::IdlRow* iface = idl.FindBy("Interface", "name", name);
        if (!iface) continue;
        std::string error = iface->GetString("error");
        if (!error.empty()) {
          std::cerr << kProgram << ": Error detected while setting up '" << name << "': " << error
                    << ".  See sluice-switchd log for details.\n";
        }
      }
    }
    std::cout << ex.Output(real);
    return 0;
  }
}
