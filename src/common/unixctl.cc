#include "common/unixctl.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "sluice/log.h"

namespace sluice {

using json = nlohmann::json;

// One request: reply with the command's text, or an error string (Open vSwitch's unixctl
// replies carry plain strings in both members).
void UnixctlServer::Handle(const std::shared_ptr<JsonRpcConnection>& conn, json req) {
  json id = req.contains("id") ? req["id"] : json(nullptr);
  auto reply_error = [&](const std::string& e) {
    conn->Send(json{{"id", id}, {"result", nullptr}, {"error", e}});
  };
  if (!req.contains("method") || !req["method"].is_string()) {
    reply_error("request has no method");
    return;
  }
  std::string method = req["method"];
  Args args;
  if (req.contains("params")) {
    if (!req["params"].is_array()) {
      reply_error("\"params\" must be an array");
      return;
    }
    for (const auto& p : req["params"]) {
      if (!p.is_string()) {
        reply_error("\"params\" must be an array of strings");
        return;
      }
      args.push_back(p.get<std::string>());
    }
  }
  if (method == "list-commands") {
    conn->Send(json{{"id", id}, {"result", ListCommands()}, {"error", nullptr}});
    return;
  }
  auto it = commands_.find(method);
  if (it == commands_.end()) {
    reply_error(
        "\"" + method +
        "\" is not a valid command (use \"list-commands\" to see a list of valid commands)");
    return;
  }
  const Command& cmd = it->second;
  int n = static_cast<int>(args.size());
  if (n < cmd.min_args) {
    reply_error("\"" + method + "\" command requires at least " + std::to_string(cmd.min_args) +
                " arguments");
    return;
  }
  if (n > cmd.max_args) {
    reply_error("\"" + method + "\" command takes at most " + std::to_string(cmd.max_args) +
                " arguments");
    return;
  }
  cmd.handler(args, [conn, id](Result<std::string> r) {
    if (r) {
      conn->Send(json{{"id", id}, {"result", *r}, {"error", nullptr}});
    } else {
      std::string msg = r.error().message;
      if (msg.empty() || msg.back() != '\n') msg += '\n';
      conn->Send(json{{"id", id}, {"result", nullptr}, {"error", msg}});
    }
  });
}

UnixctlServer::UnixctlServer(asio::io_context& io) : io_(io) {}

UnixctlServer::~UnixctlServer() { Close(); }

void UnixctlServer::Register(const std::string& name, const std::string& usage, int min_args,
                             int max_args, Handler h) {
  commands_[name] = Command{usage, min_args, max_args,
                            [h = std::move(h)](const Args& a, Done done) { done(h(a)); }};
}

void UnixctlServer::RegisterAsync(const std::string& name, const std::string& usage, int min_args,
                                  int max_args, AsyncHandler h) {
  commands_[name] = Command{usage, min_args, max_args, std::move(h)};
}

std::string UnixctlServer::ListCommands() const {
  std::string out = "The available commands are:\n";
  for (const auto& [name, cmd] : commands_) {
    std::string line = "  " + name;
    if (!cmd.usage.empty()) {
      if (line.size() < 23)
        line.resize(23, ' ');
      else
        line += ' ';
      line += cmd.usage;
    }
    out += line + "\n";
  }
  return out;
}

Result<void> UnixctlServer::Listen(const std::string& path) {
  auto l = StreamListener::Listen(io_, "punix:" + path, {}, [this](StreamPtr stream) {
    JsonRpcLimits limits;
    limits.max_message = 1 << 20;
    auto conn = JsonRpcConnection::Create(std::move(stream), limits);
    conns_.insert(conn);
    conn->OnMessage(
        [this, weak = std::weak_ptr<JsonRpcConnection>(conn)](JsonRpcConnection&, json msg) {
          if (auto c = weak.lock()) Handle(c, std::move(msg));
        });
    conn->OnClose([this, raw = conn.get()](JsonRpcConnection&, const std::string&) {
      // Deferred: we are inside the connection's own callback.
      asio::post(io_, [this, raw] {
        for (auto it = conns_.begin(); it != conns_.end(); ++it) {
          if (it->get() == raw) {
            conns_.erase(it);
            break;
          }
        }
      });
    });
    conn->Start();
  });
  if (!l)
    return MakeError(Errc::kIo, "unixctl: cannot listen on " + path + ": " + l.error().message);
  listeners_.push_back(std::move(*l));
  if (path_.empty()) path_ = path;
  return {};
}

void UnixctlServer::Close() {
  listeners_.clear();  // closes the sockets and removes their files
  for (const auto& c : conns_) {
    c->OnClose(nullptr);
    c->Close();
  }
  conns_.clear();
}

void RegisterCommonCommands(UnixctlServer& server, asio::io_context& io,
                            const std::string& program) {
  using Args = UnixctlServer::Args;
  server.Register("version", "", 0, 0, [program](const Args&) -> Result<std::string> {
    return program + " (Sluice) " + SLUICE_VERSION + "\n";
  });
  server.Register("exit", "[--cleanup]", 0, 1, [&io](const Args&) -> Result<std::string> {
    asio::post(io, [&io] { io.stop(); });
    return std::string();
  });
  server.Register("vlog/list", "", 0, 0, [](const Args&) -> Result<std::string> {
    // A module's level on a destination: the more severe of the module's and the destination's.
    auto name = [](spdlog::level::level_enum l) {
      return std::string(spdlog::level::to_string_view(l).data());
    };
    spdlog::level::level_enum console = log::DestinationLevel("console");
    spdlog::level::level_enum file = log::DestinationLevel("file");
    std::string out =
        "                 console    syslog    file\n"
        "                 -------    ------    ------\n";
    for (const auto& m : log::Modules()) {
      auto l = spdlog::get(m);
      char line[128];
      std::snprintf(line, sizeof line, "%-16s %-10s %-9s %s\n", m.c_str(),
                    name(std::max(l->level(), console)).c_str(), "off",
                    name(std::max(l->level(), file)).c_str());
      out += line;
    }
    return out;
  });
  server.Register("vlog/set", "{spec | PATTERN:destination:pattern}", 1, 8,
                  [](const Args& a) -> Result<std::string> {
                    // "LEVEL", "MODULE:LEVEL", "DEST:LEVEL", "MODULE:DEST:LEVEL".
                    for (const auto& spec : a) {
                      if (auto r = log::ApplySpec(spec); !r) return std::unexpected(r.error());
                    }
                    return std::string();
                  });
  server.Register("vlog/reopen", "", 0, 0, [](const Args&) -> Result<std::string> {
    if (auto r = log::Reopen(); !r) return std::unexpected(r.error());
    return std::string();
  });
}

}  // namespace sluice
