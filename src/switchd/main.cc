// sluice-switchd: the daemon. Parses options, starts DPDK and the datapath, serves unixctl on
// <rundir>/sluice-switchd.ctl, and runs the control thread's event loop until told to exit.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <asio.hpp>

#include "bridge/bridge.h"
#include "common/unixctl.h"
#include "datapath/dpif_netdev/dpif_netdev.h"
#include "datapath/eal.h"
#include "ofproto/dpif/ofproto_dpif.h"
#include "ovsdb/schemas/vswitch_schema.h"
#include "ovsdb/server/server.h"
#include "sluice/log.h"
#include "switchd/dpctl_commands.h"
#include "switchd/ofproto_commands.h"

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
  std::string db_file;               // embedded database file (default <rundir>/conf.db)
  std::vector<std::string> remotes;  // extra OVSDB remotes
  std::string db;                    // --db: follow this database instead of the embedded one
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
  app.add_flag("--detach", o.detach, "Run in the background");
  app.add_option("--pidfile", o.pidfile, "Write the process id to this file");
  app.add_option("--dpdk", o.dpdk, "DPDK EAL arguments")->capture_default_str();
  app.add_option("--pmd-cores", o.pmd_cores, "CPUs for PMD threads, e.g. 1 or 1,2 or 1-3");
  app.add_option("--db-file", o.db_file,
                 "Embedded configuration database (default <rundir>/conf.db; created if missing)");
  app.add_option("--remote", o.remotes,
                 "Extra OVSDB remote: punix:PATH or ptcp:PORT[:IP] (repeatable); "
                 "punix:<rundir>/db.sock is always served");
  app.add_option("--db", o.db,
                 "Follow the database at unix:PATH or tcp:IP:PORT instead of serving one");
  app.add_option("--n-mbufs", o.n_mbufs, "Packet buffers in the shared pool")
      ->capture_default_str();
  app.add_option("--unixctl", o.unixctl, "unixctl socket (default <rundir>/sluice-switchd.ctl)");
  app.add_flag_callback("-V,--version", [] {
    std::printf("sluice-switchd %s\n", SLUICE_VERSION);
    std::exit(0);
  });
  CLI11_PARSE(app, argc, argv);

  std::error_code ec;
  std::filesystem::create_directories(o.rundir, ec);
  if (ec) {
    std::fprintf(stderr, "cannot create %s: %s\n", o.rundir.c_str(), ec.message().c_str());
    return 1;
  }
  if (o.unixctl.empty()) o.unixctl = o.rundir + "/sluice-switchd.ctl";
  if (o.db_file.empty()) o.db_file = o.rundir + "/conf.db";
  if (o.detach) Daemonize();
  if (!o.pidfile.empty()) {
    std::ofstream(o.pidfile) << getpid() << "\n";
  }
  sluice::log::Init(o.log_file, o.verbose ? spdlog::level::debug : spdlog::level::info);
  auto logger = sluice::log::Get("switchd");
  // Register the module loggers up front so vlog/list shows them all.
  for (const char* m : {"dpdk", "dpif_netdev", "netdev_dpdk", "unixctl", "ofproto", "ofproto_dpif"})
    sluice::log::Get(m);

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
  auto ofproto = std::make_unique<sluice::ofp::OfprotoDpif>(io, **dp, o.rundir);
  sluice::RegisterOfprotoCommands(unixctl, *ofproto, **dp);

  // The embedded configuration database (unless --db names another server).
  sluice::db::OvsdbServer ovsdb(io);
  if (o.db.empty()) {
    if (auto r = ovsdb.AddOrCreateDatabaseFromSchemaText(o.db_file, sluice::db::kVswitchSchema);
        !r) {
      logger->error("database {}: {}", o.db_file, r.error().message);
      return 1;
    }
    o.remotes.insert(o.remotes.begin(), "punix:" + o.rundir + "/db.sock");
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
  sluice::db::RegisterOvsdbServerCommands(unixctl, ovsdb);

  // Bridges and ports follow the database.
  sluice::bridge::BridgeLayerOptions bo;
  bo.db_remote = o.db.empty() ? "unix:" + o.rundir + "/db.sock" : o.db;
  bo.embedded = o.db.empty() ? &ovsdb : nullptr;
  auto bridges = std::make_unique<sluice::bridge::BridgeLayer>(io, *ofproto, bo);
  bridges->RegisterCommands(unixctl);
  bridges->Start();

  if (auto r = unixctl.Listen(o.unixctl); !r) {
    logger->error("{}", r.error().message);
    return 1;
  }
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code, int sig) {
    logger->info("caught signal {}, exiting", sig);
    io.stop();
  });
  std::signal(SIGPIPE, SIG_IGN);
  logger->info("sluice-switchd {} ready: unixctl {}, {} PMD thread(s)", SLUICE_VERSION, o.unixctl,
               cores.size());
  io.run();

  unixctl.Close();
  bridges.reset();
  ofproto.reset();
  dp->reset();
  if (!o.pidfile.empty()) std::filesystem::remove(o.pidfile, ec);
  logger->info("exited");
  spdlog::shutdown();
  return 0;
}
