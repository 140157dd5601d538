// Logging facade: one named spdlog logger per module, levels changeable at run time
// (unixctl vlog/set). Modules call sluice::log::Get("datapath") once and keep the pointer.
//
// Two destinations, as Open vSwitch's console and file: stderr, and optionally a log file.
// A message is written to a destination when its level passes both its module's level and the
// destination's level (vlog/set console:warn keeps the console, e.g. systemd's journal, to
// warnings and errors while the file gets everything the modules log).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "sluice/result.h"

namespace sluice::log {

// Returns the logger for `module`, creating it (with the process-wide sinks) on first use.
std::shared_ptr<spdlog::logger> Get(const std::string& module);

// Process set-up: log to stderr (console) and optionally to a file (appended to). Errors: the
// file cannot be opened (the console is set up all the same).
Result<void> Init(const std::string& log_file, spdlog::level::level_enum level);

// Names of all modules registered so far, sorted.
std::vector<std::string> Modules();

// Sets `module`'s level ("ANY" for all). Returns false if the module or level is unknown.
bool SetLevel(const std::string& module, const std::string& level);

// Parses a level name: spdlog's (trace, debug, info, warn, err, critical, off) or Open
// vSwitch's (dbg, info, warn, err, emer, off).
std::optional<spdlog::level::level_enum> ParseLevel(const std::string& name);

// Sets a destination's level: "console" or "file". Errors: unknown destination (Sluice has no
// syslog destination), or no log file when `dest` is "file".
Result<void> SetDestinationLevel(const std::string& dest, spdlog::level::level_enum level);
spdlog::level::level_enum DestinationLevel(const std::string& dest);  // off if absent
bool HasLogFile();

// Applies one Open vSwitch vlog spec: "LEVEL", "MODULE:LEVEL", "DEST:LEVEL", or
// "MODULE:DEST:LEVEL" (MODULE may be ANY; with a named module the level applies to that module
// on every destination). Used by vlog/set and the daemons' --log-level.
Result<void> ApplySpec(const std::string& spec);

// Reopens the log file under the same name (after logrotate renamed it); safe while other
// threads log. Errors: the file cannot be reopened.
Result<void> Reopen();

}  // namespace sluice::log
