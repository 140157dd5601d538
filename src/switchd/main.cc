// sluice-switchd: the daemon. Parses options, starts DPDK and the datapath, serves unixctl on
// <rundir>/sluice-switchd.ctl, and runs the control thread's event loop until told to exit.
// Under systemd (Type=notify) it reports READY=1 once the configuration first read from the
// database is applied, and STOPPING=1 when it starts to shut down.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include <CLI/CLI.hpp>
#include <asio.hpp>

#include "bridge/bridge.h"
#include "common/fd_limit.h"
#include "common/pidfile.h"
#include "common/sd_notify.h"
#include "common/stream/tls_cli.h"
#include "common/unixctl.h"
#include "datapath/dpif_netdev/dpif_netdev.h"
#include "datapath/eal.h"
#include "ofproto/dpif/ofproto_dpif.h"
#include "ovsdb/schemas/vswitch_schema.h"
#include "ovsdb/server/server.h"
#include "sluice/log.h"
#include "switchd/dpctl_commands.h"
#include "switchd/ofproto_commands.h"
#include "switchd/ovs_drop_in.h"

namespace {

struct Options {
  std::string rundir = "/var/run/sluice";
  std::string log_file;
  bool verbose = false;
  bool detach = false;
  std::string pidfile;
  std::string dpdk = sluice::dp::kDefaultEalArgs;
  std::string pmd_cores;
  std::string unixctl;
  unsigned n_mbufs = 32767;
  std::string db_file;                  // embedded database file (default <rundir>/conf.db)
  std::vector<std::string> remotes;     // extra OVSDB remotes
  std::string db;                       // --db: follow this database instead of the embedded one
  std::vector<std::string> log_levels;  // --log-level specs, applied in order
  bool ovs_drop_in = false;
  std::string ovs_rundir = sluice::switchd::DefaultOvsRundir();
};

std::vector<unsigned> ParseCoreList(const std::string& s) {
  std::vector<unsigned> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t comma = s.find(',', pos);
    std::string tok = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t dash = tok.find('-');
    if (dash == std::string::npos) {
      out.push_back(static_cast<unsigned>(std::stoul(tok)));
    } else {
      unsigned a = std::stoul(tok.substr(0, dash)), b = std::stoul(tok.substr(dash + 1));
      for (unsigned c = a; c <= b; ++c) out.push_back(c);
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

void Daemonize() {
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    std::exit(1);
  }
  if (pid > 0) std::_Exit(0);
  setsid();
  int fd = open("/dev/null", O_RDWR);
  if (fd >= 0) {
    dup2(fd, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    if (fd > 2) close(fd);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"sluice-switchd: a userspace virtual switch on DPDK"};
  app.add_option("--rundir", o.rundir, "Directory for sockets and pid files")
      ->capture_default_str();
  app.add_option("--log-file", o.log_file, "Also log to this file");
  app.add_flag("-v,--verbose", o.verbose, "Log at debug level");
  app.add_option("--log-level", o.log_levels,
                 "Log levels as vlog/set takes them: LEVEL, MODULE:LEVEL, console:LEVEL, "
                 "file:LEVEL (repeatable, applied in order)");
  app.add_flag("--detach", o.detach, "Run in the background");
  app.add_option("--pidfile", o.pidfile, "Write the process id to this file");
  app.add_option("--dpdk", o.dpdk, "DPDK EAL arguments")->capture_default_str();
  app.add_option("--pmd-cores", o.pmd_cores, "CPUs for PMD threads, e.g. 1 or 1,2 or 1-3");
  app.add_option("--db-file", o.db_file,
                 "Embedded configuration database (default <rundir>/conf.db; created if missing)");
  app.add_option("--remote", o.remotes,
                 "Extra OVSDB remote: punix:PATH, ptcp:[PORT][:IP], pssl:[PORT][:IP] or an "
                 "active one (repeatable); punix:<rundir>/db.sock is always served");
  app.add_option("--db", o.db,
                 "Follow the database at unix:PATH, tcp:IP[:PORT] or ssl:IP[:PORT] instead of "
                 "serving one");
  // Used for --db ssl: and as the defaults of the SSL table (which takes precedence).
  sluice::TlsCli tls_cli;
  sluice::AddTlsOptions(app, &tls_cli);
  app.add_option("--n-mbufs", o.n_mbufs, "Packet buffers in the shared pool")
      ->capture_default_str();
  app.add_option("--unixctl", o.unixctl, "unixctl socket (default <rundir>/sluice-switchd.ctl)");
  app.add_flag("--ovs-drop-in", o.ovs_drop_in,
               "Also answer on Open vSwitch's default paths (db.sock, <bridge>.mgmt, "
               "ovs-vswitchd.pid and its unixctl socket) in --ovs-rundir; refused while Open "
               "vSwitch runs there");
  app.add_option("--ovs-rundir", o.ovs_rundir, "Open vSwitch's run directory for --ovs-drop-in")
      ->capture_default_str();
  app.set_config("--config", "",
                 "Read options from this file: one `option = value` per line (option names "
                 "without dashes; repeatable ones as [\"a\", \"b\"]), # for comments; the "
                 "command line overrides it");
  app.add_flag_callback("-V,--version", [] {
    std::printf("sluice-switchd %s\n", SLUICE_VERSION);
    std::exit(0);
  });
  CLI11_PARSE(app, argc, argv);

  sluice::RaiseFdLimit();
  sluice::DefaultTlsConfig()->Set(tls_cli.Options());
  if (auto p = sluice::ParseTlsProtocols(tls_cli.opts.protocols); !p) {
    std::fprintf(stderr, "--ssl-protocols: %s\n", p.error().message.c_str());
    return 1;
  }
  std::error_code ec;
  std::filesystem::create_directories(o.rundir, ec);
  if (ec) {
    std::fprintf(stderr, "cannot create %s: %s\n", o.rundir.c_str(), ec.message().c_str());
    return 1;
  }
  if (o.unixctl.empty()) o.unixctl = o.rundir + "/sluice-switchd.ctl";
  if (o.db_file.empty()) o.db_file = o.rundir + "/conf.db";
  // Refuse before detaching, so that the message reaches the terminal.
  if (o.ovs_drop_in) {
    if (auto r = sluice::switchd::CheckOvsPathsFree(o.ovs_rundir, o.db.empty()); !r) {
      std::fprintf(stderr, "sluice-switchd: --ovs-drop-in: %s\n", r.error().message.c_str());
      return 1;
    }
  }
  if (o.detach) Daemonize();
  auto log_ok =
      sluice::log::Init(o.log_file, o.verbose ? spdlog::level::debug : spdlog::level::info);
  auto logger = sluice::log::Get("switchd");
  if (!log_ok) {
    logger->error("{}", log_ok.error().message);
    return 1;
  }
  // Register the module loggers up front so that vlog/list shows them all and --log-level
  // can name them.
  for (const char* m : {"bridge", "connmgr", "dpdk", "dpif_netdev", "jsonrpc", "netdev_dpdk",
                        "ofproto", "ofproto_dpif", "ovsdb", "ovsdb_idl", "ovsdb_server", "stream",
                        "stream_ssl", "unixctl"})
    sluice::log::Get(m);
  for (const auto& spec : o.log_levels) {
    if (auto r = sluice::log::ApplySpec(spec); !r) {
      logger->error("--log-level: {}", r.error().message);
      return 1;
    }
  }
  std::unique_ptr<sluice::Pidfile> pidfile;
  if (!o.pidfile.empty()) {
    auto pf = sluice::Pidfile::Create(o.pidfile);
    if (!pf) {
      logger->error("{}", pf.error().message);
      return 1;
    }
    pidfile = std::move(*pf);
  }
  std::unique_ptr<sluice::switchd::OvsDropIn> drop_in;
  if (o.ovs_drop_in) {
    auto d = sluice::switchd::OvsDropIn::Claim(o.ovs_rundir, o.db.empty());
    if (!d) {
      logger->error("--ovs-drop-in: {}", d.error().message);
      return 1;
    }
    drop_in = std::move(*d);
  }

  std::vector<unsigned> cores;
  if (!o.pmd_cores.empty()) {
    try {
      cores = ParseCoreList(o.pmd_cores);
    } catch (...) {
      logger->error("bad --pmd-cores '{}'", o.pmd_cores);
      return 1;
    }
  } else {
    unsigned n = std::thread::hardware_concurrency();
    cores = {n > 1 ? n - 1 : 0};
  }

  std::string prefix = "sluice-" + std::to_string(getpid());
  if (auto r = sluice::dp::InitEal(o.dpdk, prefix); !r) {
    logger->error("{}", r.error().message);
    return 1;
  }
  auto pool = sluice::dp::PacketPool(o.n_mbufs);
  if (!pool) {
    logger->error("{}", pool.error().message);
    return 1;
  }
  sluice::dp::DpifNetdevConfig cfg;
  cfg.pmd_cores = cores;
  auto dp = sluice::dp::DpifNetdev::Create(cfg, *pool);
  if (!dp) {
    logger->error("datapath: {}", dp.error().message);
    return 1;
  }

  asio::io_context io;
  sluice::UnixctlServer unixctl(io);
  sluice::RegisterCommonCommands(unixctl, io, "sluice-switchd");
  sluice::RegisterDpctlCommands(unixctl, **dp);
  // The OpenFlow bridges on the datapath (ofproto-dpif), joined to it through the dpif.
  sluice::ofp::OfprotoDpifOptions of_opts;
  if (drop_in) of_opts.extra_rundirs.push_back(drop_in->dir());
  auto ofproto = std::make_unique<sluice::ofp::OfprotoDpif>(io, **dp, o.rundir, of_opts);
  sluice::RegisterOfprotoCommands(unixctl, *ofproto, **dp);

  // The embedded configuration database (unless --db names another server), on a thread of its
  // own (started below), so its clients never wait for the bridge layer's reconfiguration.
  asio::io_context db_io;
  sluice::db::OvsdbServer ovsdb(db_io);
  if (o.db.empty()) {
    if (auto r = ovsdb.AddOrCreateDatabaseFromSchemaText(o.db_file, sluice::db::kVswitchSchema);
        !r) {
      logger->error("database {}: {}", o.db_file, r.error().message);
      return 1;
    }
    o.remotes.insert(o.remotes.begin(), "punix:" + o.rundir + "/db.sock");
    if (drop_in) o.remotes.insert(o.remotes.begin() + 1, drop_in->DbRemote());
    for (const auto& remote : o.remotes) {
      if (auto r = ovsdb.AddRemote(remote); !r) {
        logger->error("{}", r.error().message);
        return 1;
      }
    }
  }
  // A fresh database gets its root row, as `ovs-vsctl init` would create it.
  if (auto* db = ovsdb.FindDatabase("Open_vSwitch");
      db && db->GetTable("Open_vSwitch") && db->GetTable("Open_vSwitch")->size() == 0) {
    auto out = ovsdb.Transact("Open_vSwitch", nlohmann::json::parse(R"([{"op":"insert",
        "table":"Open_vSwitch","row":{}},{"op":"comment","comment":"sluice-switchd: init"}])"));
    if (!out.committed) logger->warn("could not initialise the database: {}", out.reply.dump());
  }
  sluice::db::RegisterOvsdbServerCommands(unixctl, io, ovsdb);
  ovsdb.StartThread();

  // Bridges and ports follow the database.
  sluice::bridge::BridgeLayerOptions bo;
  bo.db_remote = o.db.empty() ? "unix:" + o.rundir + "/db.sock" : o.db;
  bo.embedded = o.db.empty() ? &ovsdb : nullptr;
  bo.rundirs = {o.rundir};
  if (drop_in) bo.rundirs.push_back(drop_in->dir());
  bo.on_configured = [&] {
    logger->info("sluice-switchd {} ready: unixctl {}, {} PMD thread(s){}", SLUICE_VERSION,
                 o.unixctl, cores.size(),
                 drop_in ? ", drop-in for Open vSwitch in " + drop_in->dir() : "");
    if (auto r = sluice::SdNotify("READY=1\nSTATUS=configuration applied"); !r) {
      logger->warn("cannot report readiness to systemd: {}", r.error().message);
    }
  };
  auto bridges = std::make_unique<sluice::bridge::BridgeLayer>(io, *ofproto, bo);
  bridges->RegisterCommands(unixctl);
  bridges->Start();

  std::vector<std::string> unixctl_paths = {o.unixctl};
  if (drop_in) {
    for (const auto& p : drop_in->UnixctlPaths()) unixctl_paths.push_back(p);
  }
  for (const auto& path : unixctl_paths) {
    if (auto r = unixctl.Listen(path); !r) {
      logger->error("{}", r.error().message);
      return 1;
    }
  }
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code, int sig) {
    logger->info("caught signal {}, exiting", sig);
    (void)sluice::SdNotify("STOPPING=1");
    io.stop();
  });
  std::signal(SIGPIPE, SIG_IGN);
  io.run();

  (void)sluice::SdNotify("STOPPING=1");
  unixctl.Close();
  bridges.reset();
  ofproto.reset();
  dp->reset();
  sluice::dp::ShutdownEal();
  drop_in.reset();
  pidfile.reset();
  logger->info("exited");
  spdlog::shutdown();
  return 0;
}
