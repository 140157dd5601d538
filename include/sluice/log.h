// Logging facade: one named spdlog logger per module, levels changeable at run time
// (unixctl vlog/set). Modules call sluice::log::Get("datapath") once and keep the pointer.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

namespace sluice::log {

// Returns the logger for `module`, creating it (with the process-wide sinks) on first use.
std::shared_ptr<spdlog::logger> Get(const std::string& module);

// Process set-up: log to stderr (console) and optionally to a file.
void Init(const std::string& log_file, spdlog::level::level_enum level);

// Names of all modules registered so far, sorted.
std::vector<std::string> Modules();

// Sets `module`'s level ("ANY" for all). Returns false if the module or level is unknown.
bool SetLevel(const std::string& module, const std::string& level);

// Reopen the log file (after rotation).
void Reopen();

}  // namespace sluice::log
