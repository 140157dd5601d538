#include "datapath/dpdk_log.h"

#include <rte_log.h>

#include <cstdio>
#include <memory>
#include <string>

#include "sluice/log.h"

namespace sluice::dp {
namespace {

std::shared_ptr<spdlog::logger>& DpdkLogger() {
  static std::shared_ptr<spdlog::logger> logger = log::Get("dpdk");
  return logger;
}

// Lines DPDK logs as errors that are not errors for Sluice (matched by a fragment of the text):
// logged at debug level instead, so that the log keeps only what an operator must act on.
struct Benign {
  const char* fragment;
  const char* why;
};
constexpr Benign kBenign[] = {
    // net_tap (internal and tap ports) prepares rte_flow support with a multiq and an ingress
    // qdisc on every tap; on a kernel without sch_multiq/sch_ingress the driver goes on without
    // rte_flow, which Sluice does not use.
    {"Specified qdisc kind is unknown", "kernel lacks the qdisc; tap rte_flow is not used"},
    {"Could not add multiq qdisc", "kernel lacks sch_multiq; tap rte_flow is not used"},
    {"failed to create multiq qdisc", "kernel lacks sch_multiq; tap rte_flow is not used"},
    {"Could not add ingress qdisc", "kernel lacks sch_ingress; tap rte_flow is not used"},
    {"failed to create ingress qdisc", "kernel lacks sch_ingress; tap rte_flow is not used"},
    {"Disabling rte flow support", "tap rte_flow is not used"},
    // With --no-shconf there is no multi-process channel; net_tap still tells secondaries.
    {"Failed to send start req to secondary", "no secondary processes (--no-shconf)"},
    {"Failed to send stop req to secondary", "no secondary processes (--no-shconf)"},
    // The legacy telemetry socket needs callbacks nothing registers; the v2 socket is there.
    {"No legacy callbacks, legacy socket not created", "the telemetry v2 socket is served"},
};

ssize_t CookieWrite(void*, const char* buf, size_t size) {
  DpdkLogWrite(std::string_view(buf, size), DpdkLevel(rte_log_cur_msg_loglevel()));
  return static_cast<ssize_t>(size);
}

}  // namespace

spdlog::level::level_enum DpdkLevel(int rte_level) {
  switch (rte_level) {
    case RTE_LOG_EMERG:
    case RTE_LOG_ALERT:
    case RTE_LOG_CRIT:
      return spdlog::level::critical;
    case RTE_LOG_ERR:
      return spdlog::level::err;
    case RTE_LOG_WARNING:
      return spdlog::level::warn;
    case RTE_LOG_NOTICE:
      return spdlog::level::info;
    case RTE_LOG_INFO:
    case RTE_LOG_DEBUG:
    default:
      return spdlog::level::debug;
  }
}

const char* BenignReason(std::string_view line) {
  for (const auto& b : kBenign) {
    if (line.find(b.fragment) != std::string_view::npos) return b.why;
  }
  return nullptr;
}

void DpdkLogWrite(std::string_view text, spdlog::level::level_enum level) {
  thread_local std::string pending;
  auto& logger = DpdkLogger();
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      pending.append(text.substr(start));
      return;
    }
    pending.append(text.substr(start, nl - start));
    if (!pending.empty() && pending.back() == '\r') pending.pop_back();
    const char* benign = level >= spdlog::level::warn && level <= spdlog::level::err
                             ? BenignReason(pending)
                             : nullptr;
    if (!pending.empty() && benign) {
      logger->debug("{} (harmless: {})", pending, benign);
    } else if (!pending.empty() && logger->should_log(level)) {
      logger->log(level, "{}", pending);
    }
    pending.clear();
    start = nl + 1;
  }
}

void RedirectDpdkLog() {
  static FILE* stream = [] {
    cookie_io_functions_t io{};
    io.write = CookieWrite;
    FILE* f = fopencookie(nullptr, "w", io);
    if (f) {
      // Unbuffered: each message reaches CookieWrite in the thread that logs it, while DPDK's
      // per-thread "current message level" is still that message's.
      setvbuf(f, nullptr, _IONBF, 0);
      rte_openlog_stream(f);
    }
    return f;
  }();
  (void)stream;
}

}  // namespace sluice::dp
