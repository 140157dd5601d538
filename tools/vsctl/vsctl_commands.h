// What every sluice-vsctl command sees (Executor::Ctx) and the command tables: bridge, port,
// controller and manager commands in vsctl_bridge_commands.cc, the generic database commands
// (get, set, list, find, create, ...) in vsctl_db_commands.cc.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "tools/vsctl/vsctl.h"
#include "tools/vsctl/vsctl_cache.h"

namespace sluice::vsctl {

struct Executor::Ctx {
  Executor& ex;
  WorkDb& db;
  const Command& cmd;
  size_t index;
  std::string& out;
  bool Has(const std::string& opt) const { return cmd.options.count(opt) > 0; }
  std::string Opt(const std::string& opt) const {
    auto it = cmd.options.find(opt);
    return it == cmd.options.end() ? std::string() : it->second;
  }
  const std::string& Arg(size_t i) const { return cmd.args[i]; }
  size_t N() const { return cmd.args.size(); }
  void AddedIface(const std::string& name) { ex.added_ifaces_.push_back(name); }
  void Created(const db::Uuid& u) { ex.created_[index] = u; }
  void TryAgain() { ex.try_again_ = true; }
  void ExitCode(int code) { ex.exit_code_ = code; }
  const Options& opts() const { return ex.opts_; }
  // "@name" references: the uuid for the name, made up on first use.
  db::Uuid Symbol(const std::string& name) {
    auto [it, fresh] = ex.symbols_.try_emplace(name, db::Uuid::Random(), false);
    return it->second.first;
  }
  SymbolResolver Resolver() {
    return [this](const std::string& name) { return Symbol(name); };
  }
  // Defines "@name" (--id) as `uuid` (nullopt: keep the one made up by earlier references).
  Res<db::Uuid> DefineSymbol(const std::string& name, std::optional<db::Uuid> uuid) {
    if (name.empty() || name[0] != '@') {
      return Fail("row id \"" + name + "\" does not begin with \"@\"");
    }
    auto it = ex.symbols_.find(name);
    if (it != ex.symbols_.end()) {
      if (it->second.second) {
        return Fail("row id \"" + name + "\" may only be specified on one --id option");
      }
      if (uuid) {
        return Fail("row id \"" + name + "\" specified on \"" + cmd.name +
                    "\" command was used before it was defined");
      }
      it->second.second = true;
      return it->second.first;
    }
    db::Uuid u = uuid ? *uuid : db::Uuid::Random();
    ex.symbols_[name] = {u, true};
    return u;
  }
};

using Ctx = Executor::Ctx;
using Handler = Res<void> (*)(Ctx&, Cache&);

// Adds the handlers of each group of commands to `out` (name -> handler).
void AddBridgeCommands(std::map<std::string, Handler>& out);
void AddDbCommands(std::map<std::string, Handler>& out);

// Applies one "COLUMN[:KEY]=VALUE" argument to `row` (add-port/add-bond settings, set, create).
Res<void> SetColumnArg(Ctx& c, Row* row, const std::string& arg, bool creating);

}  // namespace sluice::vsctl
