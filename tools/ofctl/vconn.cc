#include "tools/ofctl/vconn.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "ofproto/text/ofp_text.h"

namespace sluice::ofctl {

using namespace sluice::ofp;

std::string ResolveTarget(const std::string& target, const std::string& rundir) {
  if (target.starts_with("unix:") || target.starts_with("tcp:")) return target;
  if (target.find('/') != std::string::npos) return "unix:" + target;
  return "unix:" + rundir + "/" + target + ".mgmt";
}

Vconn::~Vconn() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

Error SysError(const std::string& what) {
  return Error{Errc::kIo, fmt::format("{} ({})", what, std::strerror(errno)), errno};
}

Result<int> ConnectUnix(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) {
    return MakeError(Errc::kInvalid, fmt::format("{}: socket path too long", path));
  }
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::unexpected(SysError("socket"));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    Error e = SysError(fmt::format("unix:{}: failed to connect to socket", path));
    ::close(fd);
    return std::unexpected(e);
  }
  return fd;
}

Result<int> ConnectTcp(const std::string& hostport) {
  size_t colon = hostport.rfind(':');
  std::string host = hostport.substr(0, colon);
  std::string port = colon == std::string::npos ? "6653" : hostport.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return MakeError(Errc::kInvalid,
                     fmt::format("tcp:{}: bad address ({})", hostport, gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(res, freeaddrinfo);
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::unexpected(SysError("socket"));
  if (::connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    Error e = SysError(fmt::format("tcp:{}: failed to connect", hostport));
    ::close(fd);
    return std::unexpected(e);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace

Result<std::unique_ptr<Vconn>> Vconn::Open(const std::string& name, uint8_t version, int timeout_s,
                                           VersionSet also) {
  Result<int> fd = name.starts_with("unix:") ? ConnectUnix(name.substr(5))
                   : name.starts_with("tcp:")
                       ? ConnectTcp(name.substr(4))
                       : MakeError(Errc::kInvalid, fmt::format("{}: unknown connection "
                                                               "type (use unix: or tcp:)",
                                                               name));
  if (!fd) return std::unexpected(fd.error());
  if (timeout_s > 0) {
    timeval tv{timeout_s, 0};
    setsockopt(*fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(*fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  std::unique_ptr<Vconn> vc(new Vconn(*fd, name));
  vc->version_ = version;
  VersionSet ours = VersionBit(version) | also;
  for (uint8_t v = 31; v > 0; --v) {
    if (ours & VersionBit(v)) {
      version = v;  // the header carries the highest
      break;
    }
  }
  Message hello{version, vc->NextXid(), Hello{ours}};
  if (auto ok = vc->Send(hello); !ok) return std::unexpected(ok.error());
  // The first message must be the peer's HELLO.
  uint8_t hdr[kHeaderLen];
  if (auto ok = vc->ReadExact(hdr, kHeaderLen); !ok) return std::unexpected(ok.error());
  size_t len = size_t{hdr[2]} << 8 | hdr[3];
  if (len < kHeaderLen) return MakeError(Errc::kProtocol, name + ": bad message length");
  Bytes msg(hdr, hdr + kHeaderLen);
  msg.resize(len);
  if (auto ok = vc->ReadExact(msg.data() + kHeaderLen, len - kHeaderLen); !ok) {
    return std::unexpected(ok.error());
  }
  OfpResult<Message> m = DecodeMessage(msg);
  if (!m || !std::holds_alternative<Hello>(m->body)) {
    if (m && std::holds_alternative<ErrorMsg>(m->body)) {
      return MakeError(Errc::kProtocol, text::FormatMessage(*m));
    }
    return MakeError(Errc::kProtocol, name + ": peer did not start with HELLO");
  }
  VersionSet theirs = PeerVersions(hdr[0], std::get<Hello>(m->body).versions);
  auto common = HighestCommonVersion(ours, theirs);
  if (!common) {
    return MakeError(Errc::kProtocol,
                     fmt::format("{}: version negotiation failed (we support version {:#04x}, "
                                 "peer supports versions {:#x})",
                                 name, version, theirs));
  }
  vc->version_ = *common;
  return vc;
}

Result<void> Vconn::SendRaw(const Bytes& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(SysError(name_ + ": send failed"));
    }
    off += static_cast<size_t>(n);
  }
  return {};
}

Result<void> Vconn::Send(const Message& msg) {
  Result<Bytes> b = EncodeMessage(msg);
  if (!b) return std::unexpected(b.error());
  return SendRaw(*b);
}

Result<void> Vconn::ReadExact(uint8_t* buf, size_t n) {
  size_t off = 0;
  while (off < n) {
    ssize_t r = ::recv(fd_, buf + off, n - off, 0);
    if (r == 0) return MakeError(Errc::kIo, name_ + ": connection closed by peer");
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return MakeError(Errc::kIo, name_ + ": timeout waiting for a reply");
      }
      return std::unexpected(SysError(name_ + ": receive failed"));
    }
    off += static_cast<size_t>(r);
  }
  return {};
}

Result<Bytes> Vconn::RecvRaw() {
  uint8_t hdr[kHeaderLen];
  if (auto ok = ReadExact(hdr, kHeaderLen); !ok) return std::unexpected(ok.error());
  size_t len = size_t{hdr[2]} << 8 | hdr[3];
  if (len < kHeaderLen) return MakeError(Errc::kProtocol, name_ + ": bad message length");
  Bytes msg(hdr, hdr + kHeaderLen);
  msg.resize(len);
  if (auto ok = ReadExact(msg.data() + kHeaderLen, len - kHeaderLen); !ok) {
    return std::unexpected(ok.error());
  }
  return msg;
}

Result<Message> Vconn::Recv(Bytes* raw) {
  while (true) {
    Result<Bytes> msg = RecvRaw();
    if (!msg) return std::unexpected(msg.error());
    OfpResult<Message> m = DecodeMessage(*msg);
    if (!m) {
      return MakeError(Errc::kProtocol,
                       fmt::format("received a message that does not decode "
                                   "({}):\n{}",
                                   OfpErrName(m.error().err), text::FormatRawMessage(*msg)));
    }
    if (auto* echo = std::get_if<EchoRequest>(&m->body)) {
      Message reply{m->version, m->xid, EchoReply{echo->data}};
      if (auto ok = Send(reply); !ok) return std::unexpected(ok.error());
      continue;
    }
    if (raw) *raw = std::move(*msg);
    return *m;
  }
}

Result<std::vector<Message>> Vconn::Transact(MessageBody request) {
  uint32_t xid = NextXid();
  if (auto ok = Send(Message{version_, xid, std::move(request)}); !ok) {
    return std::unexpected(ok.error());
  }
  std::vector<Message> replies;
  while (true) {
    Result<Message> m = Recv();
    if (!m) return std::unexpected(m.error());
    if (m->xid != xid) continue;  // asynchronous or stale: not ours
    bool more = false;
    if (auto* mr = std::get_if<MultipartReply>(&m->body)) more = mr->flags & kMultipartMore;
    bool is_error = std::holds_alternative<ErrorMsg>(m->body);
    replies.push_back(std::move(*m));
    if (is_error) return std::vector<Message>{std::move(replies.back())};
    if (!more) return replies;
  }
}

Result<std::optional<Message>> Vconn::TransactNoReply(std::vector<MessageBody> requests) {
  // Pipelined: the requests go out back to back, then one barrier; the replies (errors) are
  // matched up afterwards.
  // Between chunks, replies that already arrived are read so that neither side can block on
  // a full socket buffer.
  std::optional<Message> first_error;
  auto drain = [&]() -> Result<void> {
    pollfd pfd{fd_, POLLIN, 0};
    while (::poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN)) {
      Result<Message> m = Recv();
      if (!m) return std::unexpected(m.error());
      if (std::holds_alternative<ErrorMsg>(m->body) && !first_error) first_error = std::move(*m);
    }
    return {};
  };
  Bytes out;
  for (MessageBody& body : requests) {
    Result<Bytes> b = EncodeMessage(Message{version_, NextXid(), std::move(body)});
    if (!b) return std::unexpected(b.error());
    out.insert(out.end(), b->begin(), b->end());
    if (out.size() >= 64 * 1024) {
      if (auto ok = SendRaw(out); !ok) return std::unexpected(ok.error());
      out.clear();
      if (auto ok = drain(); !ok) return std::unexpected(ok.error());
    }
  }
  uint32_t barrier_xid = NextXid();
  Result<Bytes> b = EncodeMessage(Message{version_, barrier_xid, BarrierRequest{}});
  if (!b) return std::unexpected(b.error());
  out.insert(out.end(), b->begin(), b->end());
  if (auto ok = SendRaw(out); !ok) return std::unexpected(ok.error());
  while (true) {
    Result<Message> m = Recv();
    if (!m) return std::unexpected(m.error());
    if (std::holds_alternative<ErrorMsg>(m->body) && !first_error) first_error = std::move(*m);
    if (m->xid == barrier_xid && std::holds_alternative<BarrierReply>(m->body)) break;
  }
  return first_error;
}

}  // namespace sluice::ofctl
