// DPDK's own log lines through Sluice's logger. rte_openlog_stream() gets an unbuffered cookie
// stream (fopencookie) whose write function hands each line to the "dpdk" module logger at the
// level of the message being written (rte_log_cur_msg_loglevel(), kept per thread by DPDK), so
// EAL and driver messages carry Sluice's format and level, follow vlog/set, and go to the log
// file instead of straight to the console.
#pragma once

#include <string_view>

#include <spdlog/common.h>

namespace sluice::dp {

// Installs the stream once per process; call before rte_eal_init() so EAL's start-up lines
// take the same path.
void RedirectDpdkLog();

// The Sluice level of a DPDK message level (RTE_LOG_EMERG 1 ... RTE_LOG_DEBUG 8). INFO is
// DPDK's start-up chatter (cores detected, IOVA mode, memory layout): debug for Sluice, as an
// operator does not need it; NOTICE and above keep their meaning.
spdlog::level::level_enum DpdkLevel(int rte_level);

// Why `line` means nothing for Sluice although DPDK logs it as an error or warning (net_tap's
// qdisc set-up for rte_flow on kernels without sch_multiq, its messages to secondary processes
// that --no-shconf rules out), or null. Such lines are logged at debug level with the reason.
const char* BenignReason(std::string_view line);

// Splits what DPDK wrote into lines (a message may arrive in pieces or several at once) and
// logs each complete line at `level` (debug for benign ones); an incomplete tail waits for the next
// write from the same thread. Exposed for tests.
void DpdkLogWrite(std::string_view text, spdlog::level::level_enum level);

}  // namespace sluice::dp
