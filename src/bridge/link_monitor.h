// Kernel network interfaces as rtnetlink reports them: a table of links kept current by
// RTNLGRP_LINK notifications (RTM_NEWLINK / RTM_DELLINK) read on the control thread's
// io_context, with a full dump at start and after the notification socket overflows.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <asio.hpp>

#include "sluice/result.h"

struct nl_sock;
struct nl_msg;

namespace sluice::bridge {

struct KernelLink {
  int ifindex = 0;
  std::string name;
  unsigned mtu = 0;
  unsigned flags = 0;  // IFF_*
  std::string mac;     // "aa:bb:cc:dd:ee:ff" ("" if the link has none)
  bool admin_up() const;
  bool running() const;  // carrier (IFF_RUNNING)
  bool operator==(const KernelLink&) const = default;
};

class LinkMonitor {
 public:
  // `link` is null when the interface went away.
  using ChangeFn = std::function<void(const std::string& name, const KernelLink* link)>;

  explicit LinkMonitor(asio::io_context& io);
  ~LinkMonitor();
  LinkMonitor(const LinkMonitor&) = delete;
  LinkMonitor& operator=(const LinkMonitor&) = delete;

  // Subscribes, dumps the current links (without reporting them) and starts listening.
  Result<void> Start(ChangeFn fn);
  const KernelLink* Find(const std::string& name) const;
  uint64_t events() const { return events_; }

 private:
  static int OnMessage(nl_msg* msg, void* arg);
  void Handle(nl_msg* msg);
  void Update(const KernelLink& link);
  void Remove(int ifindex);
  Result<void> Dump(bool report);
  void Arm();

  asio::io_context& io_;
  nl_sock* sock_ = nullptr;
  std::unique_ptr<asio::posix::stream_descriptor> sd_;
  std::map<int, KernelLink> by_index_;
  std::map<std::string, int> by_name_;
  ChangeFn fn_;
  uint64_t events_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sluice::bridge
