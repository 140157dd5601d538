#include "common/unixctl.h"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <deque>

#include <nlohmann/json.hpp>

#include "common/json_stream.h"
#include "sluice/log.h"

namespace sluice {

using json = nlohmann::json;
using asio::local::stream_protocol;

class UnixctlServer::Conn : public std::enable_shared_from_this<UnixctlServer::Conn> {
 public:
  Conn(UnixctlServer* server, stream_protocol::socket sock)
      : server_(server), sock_(std::move(sock)), splitter_(1 << 20) {}

  void Start() { Read(); }

 private:
  void Read() {
    auto self = shared_from_this();
    sock_.async_read_some(asio::buffer(buf_), [this, self](std::error_code ec, size_t n) {
      if (ec) return;
      if (!splitter_.Feed(std::string_view(buf_.data(), n))) {
        SendRaw(json{{"id", nullptr}, {"result", nullptr}, {"error", "message too long"}});
        closing_ = true;
        return;
      }
      while (auto msg = splitter_.Next()) Handle(*msg);
      if (splitter_.garbage()) {
        SendRaw(json{{"id", nullptr}, {"result", nullptr}, {"error", "syntax error"}});
        closing_ = true;
        return;
      }
      Read();
    });
  }

  void Handle(const std::string& text) {
    json req = json::parse(text, nullptr, false);
    if (req.is_discarded() || !req.is_object()) {
      SendRaw(json{{"id", nullptr}, {"result", nullptr}, {"error", "invalid JSON-RPC request"}});
      return;
    }
    json id = req.contains("id") ? req["id"] : json(nullptr);
    auto reply_error = [&](const std::string& e) {
      SendRaw(json{{"id", id}, {"result", nullptr}, {"error", e}});
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
      SendRaw(json{{"id", id}, {"result", server_->ListCommands()}, {"error", nullptr}});
      return;
    }
    auto it = server_->commands_.find(method);
    if (it == server_->commands_.end()) {
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
    auto self = shared_from_this();
    cmd.handler(args, [self, id](Result<std::string> r) {
      if (r) {
        self->SendRaw(json{{"id", id}, {"result", *r}, {"error", nullptr}});
      } else {
        std::string msg = r.error().message;
        if (msg.empty() || msg.back() != '\n') msg += '\n';
        self->SendRaw(json{{"id", id}, {"result", nullptr}, {"error", msg}});
      }
    });
  }

  void SendRaw(const json& j) {
    out_.push_back(j.dump(-1, ' ', false, json::error_handler_t::replace));
    if (out_.size() == 1) Write();
  }

  void Write() {
    auto self = shared_from_this();
    asio::async_write(sock_, asio::buffer(out_.front()), [this, self](std::error_code ec, size_t) {
      if (ec) return;
      out_.pop_front();
      if (!out_.empty())
        Write();
      else if (closing_)
        sock_.close();
    });
  }

  UnixctlServer* server_;
  stream_protocol::socket sock_;
  std::array<char, 16384> buf_;
  JsonStreamSplitter splitter_;
  std::deque<std::string> out_;
  bool closing_ = false;
};

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
  ::unlink(path.c_str());
  std::error_code ec;
  auto acc = std::make_unique<stream_protocol::acceptor>(io_);
  acc->open(stream_protocol(), ec);
  if (!ec) acc->bind(stream_protocol::endpoint(path), ec);
  if (!ec) acc->listen(64, ec);
  if (ec) return MakeError(Errc::kIo, "unixctl: cannot listen on " + path + ": " + ec.message());
  acceptor_ = std::move(acc);
  path_ = path;
  Accept();
  return {};
}

void UnixctlServer::Accept() {
  acceptor_->async_accept([this](std::error_code ec, stream_protocol::socket sock) {
    if (ec) return;  // closed
    std::make_shared<Conn>(this, std::move(sock))->Start();
    Accept();
  });
}

void UnixctlServer::Close() {
  if (acceptor_) {
    std::error_code ec;
    acceptor_->close(ec);
    acceptor_.reset();
    ::unlink(path_.c_str());
  }
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
    std::string out =
        "                 console    syslog    file\n"
        "                 -------    ------    ------\n";
    for (const auto& m : log::Modules()) {
      auto l = spdlog::get(m);
      std::string lvl(spdlog::level::to_string_view(l->level()).data());
      char line[128];
      std::snprintf(line, sizeof line, "%-16s %-10s %-9s %s\n", m.c_str(), lvl.c_str(), "off",
                    lvl.c_str());
      out += line;
    }
    return out;
  });
  server.Register(
      "vlog/set", "{spec | PATTERN:destination:pattern}", 1, 8,
      [](const Args& a) -> Result<std::string> {
        // Accepts "module:level", "module:dest:level", "level", "ANY:level".
        for (const auto& spec : a) {
          std::vector<std::string> parts;
          size_t pos = 0;
          while (true) {
            size_t c = spec.find(':', pos);
            parts.push_back(spec.substr(pos, c == std::string::npos ? c : c - pos));
            if (c == std::string::npos) break;
            pos = c + 1;
          }
          std::string module = "ANY", level;
          if (parts.size() == 1)
            level = parts[0];
          else {
            module = parts[0];
            level = parts.back();
          }
          if (parts.size() == 2 && (level == "console" || level == "file" || level == "syslog")) {
            return MakeError(Errc::kInvalid, "missing level in '" + spec + "'");
          }
          if (!log::SetLevel(module, level)) {
            return MakeError(Errc::kInvalid, "unknown module or level in '" + spec + "'");
          }
        }
        return std::string();
      });
  server.Register("vlog/reopen", "", 0, 0, [](const Args&) -> Result<std::string> {
    log::Reopen();
    return std::string();
  });
}

}  // namespace sluice
