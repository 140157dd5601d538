// sluice-appctl: sends one unixctl command to a running Sluice daemon and prints the reply,
// with ovs-appctl's interface: sluice-appctl [-t TARGET] [-T SECS] COMMAND [ARG...]
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <asio.hpp>
#include <nlohmann/json.hpp>

#include "common/json_stream.h"

int main(int argc, char** argv) {
  std::string target = "sluice-switchd";
  int timeout = 0;
  std::vector<std::string> command;
  CLI::App app{"sluice-appctl: run a command in a running Sluice daemon"};
  app.add_option("-t,--target", target, "Daemon name (socket <rundir>/NAME.ctl) or a socket path")
      ->capture_default_str();
  app.add_option("-T,--timeout", timeout, "Give up after this many seconds");
  app.add_option("command", command, "COMMAND [ARG...]")->required();
  app.prefix_command();  // everything after COMMAND is passed through, dashes included
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  for (auto& extra : app.remaining()) command.push_back(extra);

  std::string path = target;
  if (path.find('/') == std::string::npos) {
    const char* rundir = std::getenv("SLUICE_RUNDIR");
    path = std::string(rundir ? rundir : "/var/run/sluice") + "/" + target + ".ctl";
  }

  asio::io_context io;
  asio::local::stream_protocol::socket sock(io);
  std::error_code ec;
  sock.connect(asio::local::stream_protocol::endpoint(path), ec);
  if (ec) {
    std::fprintf(stderr, "sluice-appctl: cannot connect to \"%s\" (%s)\n", path.c_str(),
                 ec.message().c_str());
    return 1;
  }
  nlohmann::json req = {{"method", command[0]},
                        {"params", std::vector<std::string>(command.begin() + 1, command.end())},
                        {"id", 0}};
  std::string text = req.dump();
  asio::write(sock, asio::buffer(text), ec);
  if (ec) {
    std::fprintf(stderr, "sluice-appctl: write failed (%s)\n", ec.message().c_str());
    return 1;
  }
  if (timeout > 0) {
    timeval tv{timeout, 0};
    setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  sluice::JsonStreamSplitter splitter;
  char buf[65536];
  while (true) {
    size_t n = sock.read_some(asio::buffer(buf), ec);
    if (ec) {
      std::fprintf(stderr, "sluice-appctl: transaction error (%s)\n", ec.message().c_str());
      return 1;
    }
    splitter.Feed(std::string_view(buf, n));
    if (auto msg = splitter.Next()) {
      auto reply = nlohmann::json::parse(*msg, nullptr, false);
      if (reply.is_discarded() || !reply.is_object()) {
        std::fprintf(stderr, "sluice-appctl: malformed reply\n");
        return 1;
      }
      if (reply.contains("error") && !reply["error"].is_null()) {
        std::string err =
            reply["error"].is_string() ? reply["error"].get<std::string>() : reply["error"].dump();
        std::fputs(err.c_str(), stderr);
        if (err.empty() || err.back() != '\n') std::fputc('\n', stderr);
        std::fprintf(stderr, "sluice-appctl: %s: server returned an error\n", path.c_str());
        return 2;
      }
      if (reply.contains("result") && reply["result"].is_string()) {
        std::fputs(reply["result"].get<std::string>().c_str(), stdout);
      }
      return 0;
    }
  }
}
