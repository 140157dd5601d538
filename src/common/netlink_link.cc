#include "common/netlink_link.h"

#include <net/if.h>

#include <memory>

#include <netlink/netlink.h>
#include <netlink/route/link.h>

namespace sluice::netlink {
namespace {

struct SockDel {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
};
struct LinkDel {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
struct AddrDel {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};

Result<std::unique_ptr<nl_sock, SockDel>> Connect() {
  std::unique_ptr<nl_sock, SockDel> sock(nl_socket_alloc());
  if (!sock) return MakeError(Errc::kIo, "netlink: out of memory");
  int rc = nl_connect(sock.get(), NETLINK_ROUTE);
  if (rc < 0) return MakeError(Errc::kIo, std::string("netlink: connect: ") + nl_geterror(rc));
  return sock;
}

}  // namespace

Result<LinkInfo> GetLink(const std::string& ifname) {
  auto sock = Connect();
  if (!sock) return std::unexpected(sock.error());
  rtnl_link* raw = nullptr;
  int rc = rtnl_link_get_kernel(sock->get(), 0, ifname.c_str(), &raw);
  if (rc < 0) {
    return MakeError(Errc::kNotFound, "netlink: no interface '" + ifname + "': " + nl_geterror(rc));
  }
  std::unique_ptr<rtnl_link, LinkDel> link(raw);
  LinkInfo info;
  info.ifindex = rtnl_link_get_ifindex(link.get());
  info.mtu = rtnl_link_get_mtu(link.get());
  unsigned flags = rtnl_link_get_flags(link.get());
  info.admin_up = flags & IFF_UP;
  info.carrier = rtnl_link_get_carrier(link.get()) != 0;
  if (nl_addr* a = rtnl_link_get_addr(link.get())) {
    char buf[64];
    nl_addr2str(a, buf, sizeof buf);
    info.mac = buf;
  }
  return info;
}

Result<void> SetLink(const std::string& ifname, std::optional<std::string> mac,
                     std::optional<unsigned> mtu, std::optional<bool> up) {
  auto sock = Connect();
  if (!sock) return std::unexpected(sock.error());
  rtnl_link* raw = nullptr;
  int rc = rtnl_link_get_kernel(sock->get(), 0, ifname.c_str(), &raw);
  if (rc < 0) {
    return MakeError(Errc::kNotFound, "netlink: no interface '" + ifname + "': " + nl_geterror(rc));
  }
  std::unique_ptr<rtnl_link, LinkDel> link(raw);
  std::unique_ptr<rtnl_link, LinkDel> change(rtnl_link_alloc());
  if (mac) {
    nl_addr* a = nullptr;
    rc = nl_addr_parse(mac->c_str(), AF_LLC, &a);
    if (rc < 0) return MakeError(Errc::kInvalid, "bad MAC address '" + *mac + "'");
    std::unique_ptr<nl_addr, AddrDel> addr(a);
    rtnl_link_set_addr(change.get(), addr.get());
  }
  if (mtu) rtnl_link_set_mtu(change.get(), *mtu);
  if (up) {
    if (*up)
      rtnl_link_set_flags(change.get(), IFF_UP);
    else
      rtnl_link_unset_flags(change.get(), IFF_UP);
  }
  rc = rtnl_link_change(sock->get(), link.get(), change.get(), 0);
  if (rc < 0) {
    return MakeError(Errc::kIo, "netlink: cannot change '" + ifname + "': " + nl_geterror(rc));
  }
  return {};
}

}  // namespace sluice::netlink
