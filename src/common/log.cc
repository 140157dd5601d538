#include "sluice/log.h"

#include <algorithm>
#include <mutex>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

namespace sluice::log {
namespace {

struct State {
  std::mutex mu;
  std::vector<spdlog::sink_ptr> sinks;
  std::string file;
  spdlog::level::level_enum level = spdlog::level::info;
};

State& St() {
  static State s;
  return s;
}

void EnsureSinksLocked(State& s) {
  if (s.sinks.empty()) s.sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
}

}  // namespace

std::shared_ptr<spdlog::logger> Get(const std::string& module) {
  State& s = St();
  std::lock_guard lk(s.mu);
  if (auto l = spdlog::get(module)) return l;
  EnsureSinksLocked(s);
  auto l = std::make_shared<spdlog::logger>(module, s.sinks.begin(), s.sinks.end());
  l->set_level(s.level);
  l->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ|%n|%l|%v", spdlog::pattern_time_type::utc);
  spdlog::register_logger(l);
  return l;
}

void Init(const std::string& log_file, spdlog::level::level_enum level) {
  State& s = St();
  std::lock_guard lk(s.mu);
  s.sinks.clear();
  s.sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  if (!log_file.empty()) {
    s.sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_file));
    s.file = log_file;
  }
  s.level = level;
  spdlog::apply_all([&](std::shared_ptr<spdlog::logger> l) {
    l->sinks() = s.sinks;
    l->set_level(level);
  });
  spdlog::flush_every(std::chrono::seconds(1));
}

std::vector<std::string> Modules() {
  std::vector<std::string> out;
  spdlog::apply_all([&](std::shared_ptr<spdlog::logger> l) { out.push_back(l->name()); });
  std::sort(out.begin(), out.end());
  out.erase(std::remove(out.begin(), out.end(), std::string()), out.end());
  return out;
}

bool SetLevel(const std::string& module, const std::string& level_name) {
  // Accept both spdlog names and Open vSwitch's (emer, err, warn, info, dbg, off).
  std::string n = level_name;
  std::transform(n.begin(), n.end(), n.begin(), ::tolower);
  spdlog::level::level_enum lvl;
  if (n == "emer")
    lvl = spdlog::level::critical;
  else if (n == "err")
    lvl = spdlog::level::err;
  else if (n == "dbg")
    lvl = spdlog::level::debug;
  else {
    lvl = spdlog::level::from_str(n);
    if (lvl == spdlog::level::off && n != "off") return false;
  }
  if (module == "ANY" || module == "any") {
    spdlog::apply_all([&](std::shared_ptr<spdlog::logger> l) { l->set_level(lvl); });
    std::lock_guard lk(St().mu);
    St().level = lvl;
    return true;
  }
  auto l = spdlog::get(module);
  if (!l) return false;
  l->set_level(lvl);
  return true;
}

void Reopen() {
  State& s = St();
  std::string file;
  spdlog::level::level_enum level;
  {
    std::lock_guard lk(s.mu);
    file = s.file;
    level = s.level;
  }
  if (!file.empty()) Init(file, level);
}

}  // namespace sluice::log
