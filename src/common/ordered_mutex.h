// A mutex with a place in the lock order. Each lock of a layered system gets a level; a thread
// may take a lock only while every lock it already holds has a lower level. In builds without
// NDEBUG (Sluice's RelWithDebInfo and Debug builds both keep assertions) every thread remembers
// the OrderedMutexes it holds and a lock() that breaks the order aborts with both names, so a
// wrong order shows on the first run that takes the locks that way, not on the rare run that
// deadlocks. With NDEBUG it is a plain std::mutex. Control-path locks only: the PMDs take none.
//
// The levels in use are stated where the locks are: datapath/dpif.h (the upcall sink lock and
// the dpif's own lock) and ofproto/dpif/ofproto_dpif.h (the ofproto-dpif lock between them).
#pragma once

#include <mutex>

namespace sluice {

class OrderedMutex {
 public:
  OrderedMutex(int level, const char* name) noexcept : level_(level), name_(name) {}
  OrderedMutex(const OrderedMutex&) = delete;
  OrderedMutex& operator=(const OrderedMutex&) = delete;

  // Lockable, for std::lock_guard / std::unique_lock.
  void lock();
  void unlock();
  bool try_lock();

  // Debug builds: aborts unless the calling thread holds this mutex. Release builds: nothing.
  void AssertHeld() const;
  // Debug builds: aborts if the calling thread holds this mutex or any of a higher level, i.e.
  // if it could not take this one now (for functions that take it themselves, or that wait for
  // a thread that does).
  void AssertNotHeld() const;

  int level() const noexcept { return level_; }
  const char* name() const noexcept { return name_; }

 private:
  std::mutex mu_;
  const int level_;
  const char* const name_;
};

}  // namespace sluice
