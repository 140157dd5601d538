// kill -9 durability tests for the OVSDB log: a forked child appends durable records and reports
// each acknowledged one through a pipe; the parent SIGKILLs it at a random moment and checks that
// the log still opens and holds every acknowledged record, in order.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ovsdb/log_test_util.h"
#include "ovsdb/storage/log.h"

namespace sluice::db {
namespace {

using nlohmann::json;

const json kSchema = {{"name", "crash"}, {"tables", json::object()}};

// Child exit codes, so the parent can say what went wrong instead of just "not killed".
enum ChildExit { kOpenFailed = 2, kAppendFailed = 3, kCompactFailed = 4, kPipeFailed = 5 };

// The next sequence number a log's records call for: records are {"seq": n, ...}, optionally
// preceded by a snapshot {"through": n} that stands for 0..n.
int64_t NextSeq(const std::vector<json>& records) {
  if (records.empty()) return 0;
  const json& last = records.back();
  return (last.contains("through") ? last["through"] : last["seq"]).get<int64_t>() + 1;
}

constexpr int64_t kReady = -1;  // sent once the child has opened (and repaired) the log

// Runs in the forked child; never returns. Appends records with random padding (so that a kill
// can land inside a multi-page write) and, if compact_every > 0, compacts every that many records.
[[noreturn]] void AppendUntilKilled(const std::string& path, int ack_fd, int compact_every,
                                    uint32_t seed) {
  auto r = Log::Open(path);
  if (!r) ::_exit(kOpenFailed);
  Log log = std::move(r->log);
  int64_t seq = NextSeq(r->records);
  if (::write(ack_fd, &kReady, sizeof(kReady)) != sizeof(kReady)) ::_exit(kPipeFailed);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pad_len(0, 16 << 10);
  for (;; ++seq) {
    if (compact_every > 0 && seq > 0 && seq % compact_every == 0) {
      if (!log.Compact(kSchema, json{{"through", seq - 1}})) ::_exit(kCompactFailed);
    }
    json rec = {{"seq", seq},
                {"pad", std::string(pad_len(rng), static_cast<char>('a' + seq % 26))}};
    if (!log.Append(rec, /*durable=*/true)) ::_exit(kAppendFailed);
    if (::write(ack_fd, &seq, sizeof(seq)) != sizeof(seq)) ::_exit(kPipeFailed);
  }
}

class LogCrashTest : public test::LogDirTest {
 protected:
  void RunRounds(int rounds, int compact_every) {
    ASSERT_TRUE(Log::Create(path_, kSchema));
    uint32_t seed = std::random_device{}();
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> sleep_us(0, 20000);
    int64_t acked_total = 0;
    int torn = 0;
    for (int round = 0; round < rounds; ++round) {
      SCOPED_TRACE("round " + std::to_string(round));
      int fds[2];
      ASSERT_EQ(::pipe(fds), 0);
      pid_t pid = ::fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        ::close(fds[0]);
        AppendUntilKilled(path_, fds[1], compact_every, rng());
      }
      ::close(fds[1]);
      // Half the rounds time the kill from the fork, so it may hit Open's repair of the previous
      // round's tail; the other half from the child's first append, so it hits the append loop.
      std::vector<int64_t> acks;
      int64_t a;
      if (round % 2 == 1 && ::read(fds[0], &a, sizeof(a)) == sizeof(a)) acks.push_back(a);
      std::this_thread::sleep_for(std::chrono::microseconds(sleep_us(rng)));
      ASSERT_EQ(::kill(pid, SIGKILL), 0);
      int status = 0;
      ASSERT_EQ(::waitpid(pid, &status, 0), pid);
      ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
          << "child exited on its own with status " << WEXITSTATUS(status);
      while (::read(fds[0], &a, sizeof(a)) == sizeof(a)) acks.push_back(a);
      if (!acks.empty() && acks.front() == kReady) acks.erase(acks.begin());
      ::close(fds[0]);

      auto r = Log::Open(path_);
      ASSERT_TRUE(r) << r.error().message;
      if (!r->tail_error.empty()) ++torn;
      EXPECT_EQ(r->schema, kSchema);
      // Records must form one gap-free, ordered sequence (a snapshot may stand for its prefix).
      int64_t expect = 0;
      for (size_t i = 0; i < r->records.size(); ++i) {
        const json& rec = r->records[i];
        if (rec.contains("through")) {
          ASSERT_EQ(i, 0u) << "snapshot record not first";
          ASSERT_GE(rec["through"].get<int64_t>(), expect - 1);
          expect = rec["through"].get<int64_t>() + 1;
        } else {
          ASSERT_EQ(rec["seq"].get<int64_t>(), expect) << "record " << i;
          ++expect;
        }
      }
      // Every acknowledged record is present: acks are consecutive and below the log's end.
      for (size_t i = 1; i < acks.size(); ++i) ASSERT_EQ(acks[i], acks[i - 1] + 1);
      if (!acks.empty()) {
        ASSERT_LT(acks.back(), expect) << "acknowledged record lost";
      }
      acked_total += static_cast<int64_t>(acks.size());
    }
    // Sanity: the children did real work, otherwise the test proves nothing.
    EXPECT_GT(acked_total, 0);
    std::printf("[          ] %d rounds, %lld acknowledged appends, %d torn tails repaired\n",
                rounds, static_cast<long long>(acked_total), torn);
  }
};

TEST_F(LogCrashTest, KillDuringDurableAppends) { RunRounds(50, 0); }

TEST_F(LogCrashTest, KillDuringAppendsAndCompactions) { RunRounds(50, 20); }

}  // namespace
}  // namespace sluice::db
