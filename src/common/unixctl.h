// The unixctl server: JSON-RPC 1.0 over a unix socket, wire-compatible with Open vSwitch's
// unixctl so that both sluice-appctl and Debian's ovs-appctl drive the daemon.
// Request:  {"method":"dpctl/show","params":["arg1"],"id":0}
// Reply:    {"id":0,"result":"text","error":null} or {"id":0,"result":null,"error":"text"}
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <asio.hpp>

#include "common/jsonrpc.h"

#include "sluice/result.h"

namespace sluice {

class UnixctlServer {
 public:
  using Args = std::vector<std::string>;
  // Synchronous command: returns the reply text or an error (sent as the JSON-RPC error).
  using Handler = std::function<Result<std::string>(const Args&)>;
  // Asynchronous command: call `done` (on the io_context) once; may outlive the call.
  using Done = std::function<void(Result<std::string>)>;
  using AsyncHandler = std::function<void(const Args&, Done)>;

  explicit UnixctlServer(asio::io_context& io);
  ~UnixctlServer();

  void Register(const std::string& name, const std::string& usage, int min_args, int max_args,
                Handler h);
  void RegisterAsync(const std::string& name, const std::string& usage, int min_args, int max_args,
                     AsyncHandler h);

  // Serves the commands on the unix socket `path`; may be called again to serve them on more
  // paths (path() stays the first).
  Result<void> Listen(const std::string& path);
  void Close();
  const std::string& path() const { return path_; }

 private:
  struct Command {
    std::string usage;
    int min_args;
    int max_args;
    AsyncHandler handler;
  };
  void Handle(const std::shared_ptr<JsonRpcConnection>& conn, nlohmann::json req);
  std::string ListCommands() const;

  asio::io_context& io_;
  std::vector<std::unique_ptr<StreamListener>> listeners_;
  std::set<std::shared_ptr<JsonRpcConnection>> conns_;
  std::map<std::string, Command> commands_;
  std::string path_;
};

// version, exit, vlog/list, vlog/set, vlog/reopen: what every Sluice daemon answers.
// `exit` stops `io`.
void RegisterCommonCommands(UnixctlServer& server, asio::io_context& io,
                            const std::string& program);

}  // namespace sluice
