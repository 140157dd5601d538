#include "sluice/log.h"

#include <algorithm>
#include <mutex>

#include <spdlog/details/file_helper.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

namespace sluice::log {
namespace {

// A file sink whose file can be reopened by name (after logrotate moved it away) while other
// threads log: the reopen holds the same mutex as every write.
class ReopenableFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ReopenableFileSink(const std::string& path) { file_.open(path, false); }
  void Reopen() {
    std::lock_guard lk(mutex_);
    file_.reopen(false);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    file_.write(buf);
  }
  void flush_() override { file_.flush(); }

 private:
  spdlog::details::file_helper file_;
};

constexpr const char* kPattern = "%Y-%m-%dT%H:%M:%S.%eZ|%n|%l|%v";

struct State {
  std::mutex mu;
  std::vector<spdlog::sink_ptr> sinks;
  spdlog::sink_ptr console;
  std::shared_ptr<ReopenableFileSink> file;
  spdlog::level::level_enum level = spdlog::level::info;
};

State& St() {
  static State s;
  return s;
}

void EnsureSinksLocked(State& s) {
  if (s.sinks.empty()) {
    s.console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    s.sinks.push_back(s.console);
  }
}

}  // namespace

std::shared_ptr<spdlog::logger> Get(const std::string& module) {
  State& s = St();
  std::lock_guard lk(s.mu);
  if (auto l = spdlog::get(module)) return l;
  EnsureSinksLocked(s);
  auto l = std::make_shared<spdlog::logger>(module, s.sinks.begin(), s.sinks.end());
  l->set_level(s.level);
  l->set_pattern(kPattern, spdlog::pattern_time_type::utc);
  l->flush_on(spdlog::level::warn);  // the rest is flushed every second (Init)
  spdlog::register_logger(l);
  return l;
}

Result<void> Init(const std::string& log_file, spdlog::level::level_enum level) {
  State& s = St();
  std::lock_guard lk(s.mu);
  s.sinks.clear();
  s.console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  s.sinks.push_back(s.console);
  s.file.reset();
  Result<void> result;
  if (!log_file.empty()) {
    try {
      s.file = std::make_shared<ReopenableFileSink>(log_file);
      s.sinks.push_back(s.file);
    } catch (const spdlog::spdlog_ex& e) {
      result = MakeError(Errc::kIo, std::string("log file: ") + e.what());
    }
  }
  s.level = level;
  spdlog::apply_all([&](std::shared_ptr<spdlog::logger> l) {
    l->sinks() = s.sinks;
    l->set_pattern(kPattern, spdlog::pattern_time_type::utc);  // the new sinks' format
    l->set_level(level);
  });
  spdlog::flush_every(std::chrono::seconds(1));
  return result;
}

std::vector<std::string> Modules() {
  std::vector<std::string> out;
  spdlog::apply_all([&](std::shared_ptr<spdlog::logger> l) { out.push_back(l->name()); });
  std::sort(out.begin(), out.end());
  out.erase(std::remove(out.begin(), out.end(), std::string()), out.end());
  return out;
}

std::optional<spdlog::level::level_enum> ParseLevel(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), ::tolower);
  if (n == "emer") return spdlog::level::critical;
  if (n == "err") return spdlog::level::err;
  if (n == "dbg") return spdlog::level::debug;
  auto lvl = spdlog::level::from_str(n);
  if (lvl == spdlog::level::off && n != "off") return std::nullopt;
  return lvl;
}

bool SetLevel(const std::string& module, const std::string& level_name) {
  auto lvl = ParseLevel(level_name);
  if (!lvl) return false;
  if (module == "ANY" || module == "any") {
    spdlog::apply_all([&](std::shared_ptr<spdlog::logger> l) { l->set_level(*lvl); });
    std::lock_guard lk(St().mu);
    St().level = *lvl;
    return true;
  }
  auto l = spdlog::get(module);
  if (!l) return false;
  l->set_level(*lvl);
  return true;
}

Result<void> SetDestinationLevel(const std::string& dest, spdlog::level::level_enum level) {
  State& s = St();
  std::lock_guard lk(s.mu);
  if (dest == "console") {
    EnsureSinksLocked(s);
    s.console->set_level(level);
    return {};
  }
  if (dest == "file") {
    if (!s.file) return MakeError(Errc::kInvalid, "no log file (start with --log-file)");
    s.file->set_level(level);
    return {};
  }
  if (dest == "syslog") {
    return MakeError(Errc::kUnsupported, "Sluice logs to the console and a file, not to syslog");
  }
  return MakeError(Errc::kInvalid, "unknown log destination '" + dest + "'");
}

spdlog::level::level_enum DestinationLevel(const std::string& dest) {
  State& s = St();
  std::lock_guard lk(s.mu);
  if (dest == "console") return s.console ? s.console->level() : spdlog::level::trace;
  if (dest == "file" && s.file) return s.file->level();
  return spdlog::level::off;
}

bool HasLogFile() {
  std::lock_guard lk(St().mu);
  return St().file != nullptr;
}

Result<void> ApplySpec(const std::string& spec) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (true) {
    size_t c = spec.find(':', pos);
    parts.push_back(spec.substr(pos, c == std::string::npos ? c : c - pos));
    if (c == std::string::npos) break;
    pos = c + 1;
  }
  auto is_dest = [](const std::string& p) {
    return p == "console" || p == "file" || p == "syslog";
  };
  if (parts.size() > 3) return MakeError(Errc::kInvalid, "malformed log spec '" + spec + "'");
  if (is_dest(parts.back())) return MakeError(Errc::kInvalid, "missing level in '" + spec + "'");
  auto lvl = ParseLevel(parts.back());
  if (!lvl) return MakeError(Errc::kInvalid, "unknown level in '" + spec + "'");
  std::string module = parts.size() == 1 ? "ANY" : parts[0];
  std::string dest = parts.size() == 3 ? parts[1] : "";
  if (parts.size() == 2 && is_dest(parts[0])) {
    module = "ANY";
    dest = parts[0];
  }
  bool any = module == "ANY" || module == "any";
  if (any && !dest.empty()) return SetDestinationLevel(dest, *lvl);
  if (!dest.empty() && !is_dest(dest)) {
    return MakeError(Errc::kInvalid, "unknown log destination '" + dest + "' in '" + spec + "'");
  }
  if (!SetLevel(module, parts.back())) {
    return MakeError(Errc::kInvalid, "unknown module '" + module + "' in '" + spec + "'");
  }
  return {};
}

Result<void> Reopen() {
  std::shared_ptr<ReopenableFileSink> file;
  {
    std::lock_guard lk(St().mu);
    file = St().file;
  }
  if (!file) return {};
  try {
    file->Reopen();
  } catch (const spdlog::spdlog_ex& e) {
    return MakeError(Errc::kIo, std::string("cannot reopen the log file: ") + e.what());
  }
  return {};
}

}  // namespace sluice::log
