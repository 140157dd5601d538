// DPDK's log lines through Sluice's logger: levels mapped, lines split and joined, net_tap's
// harmless qdisc errors demoted to debug; and EAL's own output really takes that path.
#include "datapath/dpdk_log.h"

#include <rte_log.h>

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "common/eal_env.h"
#include "sluice/log.h"

namespace sluice::dp {
namespace {

std::string ReadFile(const std::string& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(DpdkLog, LevelsMapToSluiceLevels) {
  EXPECT_EQ(DpdkLevel(RTE_LOG_ERR), spdlog::level::err);
  EXPECT_EQ(DpdkLevel(RTE_LOG_CRIT), spdlog::level::critical);
  EXPECT_EQ(DpdkLevel(RTE_LOG_WARNING), spdlog::level::warn);
  EXPECT_EQ(DpdkLevel(RTE_LOG_NOTICE), spdlog::level::info);
  EXPECT_EQ(DpdkLevel(RTE_LOG_INFO), spdlog::level::debug);
  EXPECT_EQ(DpdkLevel(RTE_LOG_DEBUG), spdlog::level::debug);
}

TEST(DpdkLog, BenignTapMessages) {
  EXPECT_NE(BenignReason("qdisc_create_multiq(): Could not add multiq qdisc (2): No such file"),
            nullptr);
  EXPECT_NE(BenignReason("eth_dev_tap_create(): br0: failed to create multiq qdisc."), nullptr);
  EXPECT_EQ(BenignReason("eth_dev_tap_create(): Unable to create tap0"), nullptr);
}

TEST(DpdkLog, LinesAreSplitJoinedAndLeveled) {
  std::string path = "/tmp/sluice-dpdklog-test-" + std::to_string(getpid()) + ".log";
  ASSERT_TRUE(log::Init(path, spdlog::level::info).has_value());
  ASSERT_TRUE(log::SetDestinationLevel("console", spdlog::level::off).has_value());
  DpdkLogWrite("EAL: first part ", spdlog::level::err);
  DpdkLogWrite("and the rest\nEAL: second line\n", spdlog::level::err);
  DpdkLogWrite("EAL: detail\n", spdlog::level::debug);  // below the module's level
  DpdkLogWrite("qdisc_create_multiq(): Could not add multiq qdisc (2)\n", spdlog::level::err);
  log::Get("dpdk")->flush();
  std::string text = ReadFile(path);
  EXPECT_NE(text.find("|dpdk|error|EAL: first part and the rest\n"), std::string::npos) << text;
  EXPECT_NE(text.find("|dpdk|error|EAL: second line\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("EAL: detail"), std::string::npos) << text;
  EXPECT_EQ(text.find("multiq"), std::string::npos) << "harmless line logged above debug";
  ASSERT_TRUE(log::Init("", spdlog::level::info).has_value());
  unlink(path.c_str());
}

TEST(DpdkLog, RteLogGoesThroughTheStream) {
  test::Eal();
  RedirectDpdkLog();
  std::string path = "/tmp/sluice-dpdklog-rte-" + std::to_string(getpid()) + ".log";
  ASSERT_TRUE(log::Init(path, spdlog::level::info).has_value());
  ASSERT_TRUE(log::SetDestinationLevel("console", spdlog::level::off).has_value());
  rte_log(RTE_LOG_ERR, RTE_LOGTYPE_EAL, "EAL: sluice test message %d\n", 42);
  log::Get("dpdk")->flush();
  std::string text = ReadFile(path);
  EXPECT_NE(text.find("|dpdk|error|EAL: sluice test message 42"), std::string::npos) << text;
  rte_openlog_stream(nullptr);
  ASSERT_TRUE(log::Init("", spdlog::level::info).has_value());
  unlink(path.c_str());
}

}  // namespace
}  // namespace sluice::dp
