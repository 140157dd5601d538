// sluice-ovsdb-server: the OVSDB server on its own, with ovsdb-server's command line:
//   sluice-ovsdb-server [DATABASE...] [--remote=REMOTE]... [--unixctl=PATH] [--pidfile=PATH]
//                       [--log-file=PATH] [--detach]
//                       [-p KEY -c CERT (-C CACERT | --bootstrap-ca-cert=CACERT)]
//                       [--peer-ca-cert=FILE] [--ssl-protocols=P] [--ssl-ciphers=C]
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>

#include <CLI/CLI.hpp>
#include <asio.hpp>

#include "common/fd_limit.h"
#include "common/pidfile.h"
#include "common/stream/tls_cli.h"
#include "common/unixctl.h"
#include "ovsdb/server/server.h"
#include "sluice/log.h"

int main(int argc, char** argv) {
  std::vector<std::string> dbs, remotes;
  std::string unixctl_path, pidfile, log_file, rundir = "/var/run/sluice";
  bool detach = false, verbose = false;
  size_t max_message = 64 << 20;
  CLI::App app{"sluice-ovsdb-server: an OVSDB (RFC 7047) server"};
  app.add_option("database", dbs, "Database files (created with sluice-ovsdb-tool create)");
  app.add_option("--remote", remotes,
                 "punix:PATH, ptcp:[PORT][:IP], pssl:[PORT][:IP], unix:PATH, tcp:IP[:PORT] or "
                 "ssl:IP[:PORT] (repeatable)");
  app.add_option("--rundir", rundir, "Directory for the default unixctl socket")
      ->capture_default_str();
  app.add_option("--unixctl", unixctl_path,
                 "unixctl socket (default <rundir>/sluice-ovsdb-server.ctl)");
  app.add_option("--pidfile", pidfile, "Write the process id here");
  app.add_option("--log-file", log_file, "Also log to this file");
  app.add_option("--max-message", max_message, "Largest JSON-RPC message accepted, in bytes")
      ->capture_default_str();
  app.add_flag("--detach", detach, "Run in the background");
  sluice::TlsCli tls_cli;
  sluice::AddTlsOptions(app, &tls_cli);
  app.add_flag("-v,--verbose", verbose, "Log at debug level");
  CLI11_PARSE(app, argc, argv);

  std::error_code ec;
  std::filesystem::create_directories(rundir, ec);
  if (unixctl_path.empty()) unixctl_path = rundir + "/sluice-ovsdb-server.ctl";
  if (detach) {
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid > 0) return 0;
    setsid();
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
      dup2(fd, 0);
      dup2(fd, 1);
      dup2(fd, 2);
    }
  }
  sluice::log::Init(log_file, verbose ? spdlog::level::debug : spdlog::level::info);
  auto logger = sluice::log::Get("ovsdb_server");
  // Open vSwitch's locked pidfile (after the fork: the lock belongs to this process), so a
  // second server on the same file refuses and ovs-appctl can tell a stale file from ours.
  std::unique_ptr<sluice::Pidfile> pidfile_lock;
  if (!pidfile.empty()) {
    auto pf = sluice::Pidfile::Create(pidfile);
    if (!pf) {
      logger->error("{}", pf.error().message);
      return 1;
    }
    pidfile_lock = std::move(*pf);
  }

  asio::io_context io;
  sluice::db::ServerOptions opts;
  opts.limits.max_message = max_message;
  sluice::RaiseFdLimit();
  sluice::TlsOptions tls = tls_cli.Options();
  sluice::DefaultTlsConfig()->Set(tls);
  if (auto p = sluice::ParseTlsProtocols(tls.protocols); !p) {
    logger->error("--ssl-protocols: {}", p.error().message);
    return 1;
  }
  sluice::db::OvsdbServer server(io, opts);
  for (const auto& db : dbs) {
    if (auto r = server.AddDatabaseFile(db); !r) {
      logger->error("{}: {}", db, r.error().message);
      return 1;
    }
  }
  for (const auto& remote : remotes) {
    if (auto r = server.AddRemote(remote); !r) {
      logger->error("{}", r.error().message);
      return 1;
    }
  }
  sluice::UnixctlServer unixctl(io);
  sluice::RegisterCommonCommands(unixctl, io, "sluice-ovsdb-server");
  sluice::db::RegisterOvsdbServerCommands(unixctl, io, server);
  sluice::db::RegisterRemoteCommands(unixctl, server);
  if (auto r = unixctl.Listen(unixctl_path); !r) {
    logger->error("{}", r.error().message);
    return 1;
  }
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code, int) { io.stop(); });
  std::signal(SIGPIPE, SIG_IGN);
  logger->info("sluice-ovsdb-server ready");
  io.run();
  return 0;  // pidfile_lock removes the pidfile
}
