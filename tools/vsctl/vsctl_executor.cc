// sluice-vsctl's executor: runs each command against the working copy with a freshly built
// cache, checks "@name" references, and assembles the output.
#include "tools/vsctl/vsctl_commands.h"

namespace sluice::vsctl {

using db::Uuid;

namespace {

Res<void> CmdNothing(Ctx&, Cache&) { return {}; }

const std::map<std::string, Handler>& Handlers() {
  static const std::map<std::string, Handler> kHandlers = [] {
    std::map<std::string, Handler> h = {{"init", CmdNothing}, {"comment", CmdNothing}};
    AddBridgeCommands(h);
    AddDbCommands(h);
    return h;
  }();
  return kHandlers;
}

}  // namespace

Res<void> Executor::Run(const std::vector<Command>& commands) {
  outputs_.assign(commands.size(), "");
  created_.assign(commands.size(), std::nullopt);
  added_ifaces_.clear();
  symbols_.clear();
  try_again_ = false;
  exit_code_ = 1;
  if (db_.Rows("Open_vSwitch").empty()) db_.Insert("Open_vSwitch");
  for (size_t i = 0; i < commands.size(); ++i) {
    if (auto r = RunOne(commands[i], i); !r) return r;
    if (try_again_) return {};
  }
  for (const auto& [name, sym] : symbols_) {
    if (!sym.second) {
      return Fail("row id \"" + name + "\" is referenced but never created (e.g. with \"-- --id=" +
                  name + " create ...\")");
    }
  }
  return {};
}

std::string Executor::Output(const std::map<Uuid, Uuid>& real) const {
  std::string out;
  for (size_t i = 0; i < outputs_.size(); ++i) {
    std::string o = outputs_[i];
    if (created_[i]) {
      auto it = real.find(*created_[i]);
      o = (it == real.end() ? *created_[i] : it->second).ToString() + "\n";
    }
    if (opts_.oneline) {
      if (!o.empty() && o.back() == '\n') o.pop_back();
      std::string e;
      for (char c : o) {
        if (c == '\n')
          e += "\\n";
        else if (c == '\\')
          e += "\\\\";
        else
          e += c;
      }
      out += e + "\n";
    } else {
      out += o;
    }
  }
  return out;
}

Res<void> Executor::RunOne(const Command& cmd, size_t index) {
  auto h = Handlers().find(cmd.name);
  if (h == Handlers().end()) return Fail("unknown command '" + cmd.name + "'; use --help for help");
  Cache cache = BuildCache(db_);
  Ctx ctx{*this, db_, cmd, index, outputs_[index]};
  return h->second(ctx, cache);
}

}  // namespace sluice::vsctl
