#include "common/ordered_mutex.h"

#include <cstdio>
#include <cstdlib>

namespace sluice {

#ifndef NDEBUG
namespace {

// The OrderedMutexes the thread holds, in the order taken (so with increasing levels).
constexpr int kMaxHeld = 16;
thread_local const OrderedMutex* t_held[kMaxHeld];
thread_local int t_n_held = 0;

[[noreturn]] void Die(const char* what, const OrderedMutex& m, const OrderedMutex* other) {
  std::fprintf(stderr, "lock order violation: %s %s (level %d)%s%s\n", what, m.name(), m.level(),
               other ? " while holding " : "", other ? other->name() : "");
  std::abort();
}

const OrderedMutex* Highest() { return t_n_held ? t_held[t_n_held - 1] : nullptr; }

void CheckOrder(const OrderedMutex& m) {
  const OrderedMutex* top = Highest();
  if (top && top->level() >= m.level()) Die("taking", m, top);
}

void Push(const OrderedMutex& m) {
  if (t_n_held == kMaxHeld) Die("too many locks held at", m, nullptr);
  t_held[t_n_held++] = &m;
}

void Pop(const OrderedMutex& m) {
  for (int i = t_n_held - 1; i >= 0; --i) {
    if (t_held[i] != &m) continue;
    for (int j = i; j + 1 < t_n_held; ++j) t_held[j] = t_held[j + 1];
    --t_n_held;
    return;
  }
  Die("releasing a lock not held:", m, nullptr);
}

bool Holds(const OrderedMutex& m) {
  for (int i = 0; i < t_n_held; ++i) {
    if (t_held[i] == &m) return true;
  }
  return false;
}

}  // namespace

void OrderedMutex::lock() {
  CheckOrder(*this);
  mu_.lock();
  Push(*this);
}

void OrderedMutex::unlock() {
  Pop(*this);
  mu_.unlock();
}

bool OrderedMutex::try_lock() {
  // A try_lock cannot deadlock; it is recorded so that later locks are checked against it.
  if (!mu_.try_lock()) return false;
  Push(*this);
  return true;
}

void OrderedMutex::AssertHeld() const {
  if (!Holds(*this)) Die("not holding", *this, nullptr);
}

void OrderedMutex::AssertNotHeld() const {
  const OrderedMutex* top = Highest();
  if (top && top->level() >= level_) Die("must not hold a lock at or above", *this, top);
}

#else

void OrderedMutex::lock() { mu_.lock(); }
void OrderedMutex::unlock() { mu_.unlock(); }
bool OrderedMutex::try_lock() { return mu_.try_lock(); }
void OrderedMutex::AssertHeld() const {}
void OrderedMutex::AssertNotHeld() const {}

#endif

}  // namespace sluice
