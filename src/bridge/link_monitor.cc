#include "bridge/link_monitor.h"

#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

#include <vector>

#include "sluice/log.h"

namespace sluice::bridge {
namespace {

auto Log() {
  static auto l = log::Get("bridge");
  return l;
}

KernelLink FromObject(rtnl_link* l) {
  KernelLink k;
  k.ifindex = rtnl_link_get_ifindex(l);
  if (const char* n = rtnl_link_get_name(l)) k.name = n;
  k.mtu = rtnl_link_get_mtu(l);
  k.flags = rtnl_link_get_flags(l);
  if (nl_addr* a = rtnl_link_get_addr(l); a && nl_addr_get_len(a) == 6) {
    char buf[64];
    nl_addr2str(a, buf, sizeof buf);
    k.mac = buf;
  }
  return k;
}

}  // namespace

bool KernelLink::admin_up() const { return flags & IFF_UP; }
bool KernelLink::running() const { return (flags & IFF_UP) && (flags & IFF_RUNNING); }

LinkMonitor::LinkMonitor(asio::io_context& io) : io_(io) {}

LinkMonitor::~LinkMonitor() {
  *alive_ = false;
  if (sd_) {
    std::error_code ec;
    sd_->cancel(ec);
    sd_->release();  // the descriptor belongs to sock_
  }
  if (sock_) nl_socket_free(sock_);
}

Result<void> LinkMonitor::Start(ChangeFn fn) {
  fn_ = std::move(fn);
  sock_ = nl_socket_alloc();
  if (!sock_) return MakeError(Errc::kNoSpace, "netlink: cannot allocate a socket");
  nl_socket_disable_seq_check(sock_);
  nl_socket_modify_cb(sock_, NL_CB_VALID, NL_CB_CUSTOM, &LinkMonitor::OnMessage, this);
  if (int rc = nl_connect(sock_, NETLINK_ROUTE); rc < 0) {
    return MakeError(Errc::kIo, std::string("netlink: connect: ") + nl_geterror(rc));
  }
  if (int rc = nl_socket_add_membership(sock_, RTNLGRP_LINK); rc < 0) {
    return MakeError(Errc::kIo, std::string("netlink: join RTNLGRP_LINK: ") + nl_geterror(rc));
  }
  nl_socket_set_buffer_size(sock_, 4 << 20, 0);
  nl_socket_set_nonblocking(sock_);
  if (auto r = Dump(false); !r) return r;
  sd_ = std::make_unique<asio::posix::stream_descriptor>(io_, nl_socket_get_fd(sock_));
  Arm();
  return {};
}

const KernelLink* LinkMonitor::Find(const std::string& name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return nullptr;
  auto l = by_index_.find(it->second);
  return l == by_index_.end() ? nullptr : &l->second;
}

void LinkMonitor::Arm() {
  sd_->async_wait(asio::posix::stream_descriptor::wait_read,
                  [this, alive = alive_](std::error_code ec) {
                    if (!*alive || ec) return;
                    for (;;) {
                      int rc = nl_recvmsgs_default(sock_);
                      if (rc == -NLE_AGAIN) break;
                      if (rc < 0) {
                        // Typically ENOBUFS: notifications were lost; re-read everything.
                        Log()->warn("netlink: {}; resynchronising links", nl_geterror(rc));
                        if (auto r = Dump(true); !r) Log()->warn("{}", r.error().message);
                        break;
                      }
                    }
                    Arm();
                  });
}

int LinkMonitor::OnMessage(nl_msg* msg, void* arg) {
  static_cast<LinkMonitor*>(arg)->Handle(msg);
  return NL_OK;
}

void LinkMonitor::Handle(nl_msg* msg) {
  int type = nlmsg_hdr(msg)->nlmsg_type;
  if (type != RTM_NEWLINK && type != RTM_DELLINK) return;
  ++events_;
  struct Ctx {
    LinkMonitor* self;
    int type;
  } ctx{this, type};
  nl_msg_parse(
      msg,
      [](nl_object* obj, void* arg) {
        auto* c = static_cast<Ctx*>(arg);
        KernelLink k = FromObject(reinterpret_cast<rtnl_link*>(obj));
        if (c->type == RTM_DELLINK)
          c->self->Remove(k.ifindex);
        else
          c->self->Update(k);
      },
      &ctx);
}

void LinkMonitor::Update(const KernelLink& link) {
  if (link.ifindex <= 0 || link.name.empty()) return;
  auto it = by_index_.find(link.ifindex);
  if (it != by_index_.end()) {
    if (it->second == link) return;
    if (it->second.name != link.name) {  // renamed: the old name is gone
      std::string old = it->second.name;
      by_name_.erase(old);
      by_index_.erase(it);
      if (fn_) fn_(old, nullptr);
    }
  }
  by_index_[link.ifindex] = link;
  by_name_[link.name] = link.ifindex;
  if (fn_) fn_(link.name, &by_index_[link.ifindex]);
}

void LinkMonitor::Remove(int ifindex) {
  auto it = by_index_.find(ifindex);
  if (it == by_index_.end()) return;
  std::string name = it->second.name;
  by_index_.erase(it);
  if (auto n = by_name_.find(name); n != by_name_.end() && n->second == ifindex) by_name_.erase(n);
  if (fn_) fn_(name, nullptr);
}

Result<void> LinkMonitor::Dump(bool report) {
  nl_sock* s = nl_socket_alloc();
  if (!s) return MakeError(Errc::kNoSpace, "netlink: cannot allocate a socket");
  nl_cache* cache = nullptr;
  int rc = nl_connect(s, NETLINK_ROUTE);
  if (rc >= 0) rc = rtnl_link_alloc_cache(s, AF_UNSPEC, &cache);
  if (rc < 0) {
    nl_socket_free(s);
    return MakeError(Errc::kIo, std::string("netlink: link dump: ") + nl_geterror(rc));
  }
  std::vector<KernelLink> links;
  nl_cache_foreach(
      cache,
      [](nl_object* obj, void* arg) {
        static_cast<std::vector<KernelLink>*>(arg)->push_back(
            FromObject(reinterpret_cast<rtnl_link*>(obj)));
      },
      &links);
  nl_cache_free(cache);
  nl_socket_free(s);
  if (!report) {
    by_index_.clear();
    by_name_.clear();
    for (const auto& l : links) {
      by_index_[l.ifindex] = l;
      by_name_[l.name] = l.ifindex;
    }
    return {};
  }
  std::map<int, bool> present;
  for (const auto& l : links) present[l.ifindex] = true;
  std::vector<int> gone;
  for (const auto& [idx, l] : by_index_) {
    if (!present.count(idx)) gone.push_back(idx);
  }
  for (int idx : gone) Remove(idx);
  for (const auto& l : links) Update(l);
  return {};
}

}  // namespace sluice::bridge
