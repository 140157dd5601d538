// The lock-order checker: in debug builds a lock taken out of order aborts, naming both locks;
// in release builds OrderedMutex is a plain mutex.
#include "common/ordered_mutex.h"

#include <mutex>
#include <thread>

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(OrderedMutex, TakingLocksInOrderWorks) {
  OrderedMutex outer(10, "outer");
  OrderedMutex inner(20, "inner");
  {
    std::lock_guard a(outer);
    outer.AssertHeld();
    inner.AssertNotHeld();
    std::lock_guard b(inner);
    inner.AssertHeld();
  }
  // Released in any order, then taken again.
  std::unique_lock a(outer);
  std::unique_lock b(inner);
  a.unlock();
  b.unlock();
  EXPECT_TRUE(inner.try_lock());
  inner.unlock();
}

TEST(OrderedMutex, OtherThreadsHaveTheirOwnOrder) {
  OrderedMutex outer(10, "outer");
  OrderedMutex inner(20, "inner");
  std::lock_guard b(inner);
  std::thread t([&] {
    std::lock_guard a(outer);  // this thread holds nothing: fine
  });
  t.join();
}

#ifndef NDEBUG
TEST(OrderedMutexDeathTest, TakingAnOuterLockUnderAnInnerOneAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  OrderedMutex outer(10, "ofproto-dpif");
  OrderedMutex inner(30, "dpif");
  EXPECT_DEATH(
      {
        std::lock_guard b(inner);
        std::lock_guard a(outer);
      },
      "lock order violation: taking ofproto-dpif \\(level 10\\) while holding dpif");
  EXPECT_DEATH(
      {
        std::lock_guard a(outer);
        std::lock_guard again(outer);
      },
      "lock order violation");
  EXPECT_DEATH(outer.AssertHeld(), "not holding ofproto-dpif");
  EXPECT_DEATH(
      {
        std::lock_guard b(inner);
        outer.AssertNotHeld();
      },
      "must not hold");
}
#endif

}  // namespace
}  // namespace sluice
