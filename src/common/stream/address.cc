#include "common/stream/address.h"

#include <charconv>

namespace sluice {
namespace {

Result<uint16_t> ParsePort(std::string_view s, std::string_view target, bool allow_zero) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v > 65535 ||
      (v == 0 && !allow_zero)) {
    return MakeError(Errc::kInvalid,
                     std::string(target) + ": bad port number \"" + std::string(s) + "\"");
  }
  return static_cast<uint16_t>(v);
}

// "HOST", "[HOST]" -> HOST; an unbracketed string with two or more colons is an IPv6 address.
Result<std::string> ParseHost(std::string_view s, std::string_view target) {
  if (s.starts_with('[')) {
    if (!s.ends_with(']') || s.size() < 3) {
      return MakeError(Errc::kInvalid, std::string(target) + ": unbalanced '[' in address");
    }
    return std::string(s.substr(1, s.size() - 2));
  }
  if (s.find_first_of("[]") != std::string_view::npos) {
    return MakeError(Errc::kInvalid, std::string(target) + ": bad address");
  }
  return std::string(s);
}

}  // namespace

bool IsPassiveTarget(std::string_view t) {
  return t.starts_with("ptcp:") || t.starts_with("pssl:") || t.starts_with("punix:");
}

bool IsStreamTarget(std::string_view t) {
  return IsPassiveTarget(t) || t.starts_with("tcp:") || t.starts_with("ssl:") ||
         t.starts_with("unix:");
}

std::string BracketHost(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

std::string StreamAddress::HostPort() const {
  if (kind == Kind::kUnix) return path;
  return BracketHost(host) + ":" + std::to_string(port);
}

std::string StreamAddress::ToString() const {
  std::string method = kind == Kind::kTcp ? "tcp" : kind == Kind::kSsl ? "ssl" : "unix";
  if (passive) method = "p" + method;
  if (kind == Kind::kUnix) return method + ":" + path;
  if (passive) return method + ":" + std::to_string(port) + ":" + BracketHost(host);
  return method + ":" + HostPort();
}

Result<StreamAddress> ParseStreamAddress(std::string_view target, uint16_t default_port) {
  StreamAddress a;
  std::string_view rest;
  auto method = [&](std::string_view m) {
    if (!target.starts_with(m)) return false;
    rest = target.substr(m.size());
    return true;
  };
  if (method("tcp:")) {
    a.kind = StreamAddress::Kind::kTcp;
  } else if (method("ssl:")) {
    a.kind = StreamAddress::Kind::kSsl;
  } else if (method("unix:")) {
    a.kind = StreamAddress::Kind::kUnix;
  } else if (method("ptcp:")) {
    a.kind = StreamAddress::Kind::kTcp;
    a.passive = true;
  } else if (method("pssl:")) {
    a.kind = StreamAddress::Kind::kSsl;
    a.passive = true;
  } else if (method("punix:")) {
    a.kind = StreamAddress::Kind::kUnix;
    a.passive = true;
  } else {
    return MakeError(Errc::kInvalid, std::string(target) +
                                         ": unknown connection method (expected tcp:, ssl:, "
                                         "unix:, ptcp:, pssl: or punix:)");
  }
  if (a.kind == StreamAddress::Kind::kUnix) {
    if (rest.empty()) return MakeError(Errc::kInvalid, std::string(target) + ": missing path");
    a.path = std::string(rest);
    return a;
  }
  if (!a.passive) {
    // HOST[:PORT]
    std::string_view host = rest, port;
    if (rest.starts_with('[')) {
      size_t close = rest.find(']');
      if (close == std::string_view::npos) {
        return MakeError(Errc::kInvalid, std::string(target) + ": unbalanced '[' in address");
      }
      host = rest.substr(0, close + 1);
      std::string_view after = rest.substr(close + 1);
      if (!after.empty()) {
        if (after[0] != ':')
          return MakeError(Errc::kInvalid, std::string(target) + ": bad address");
        port = after.substr(1);
      }
    } else if (size_t colon = rest.find(':'); colon != std::string_view::npos &&
                                              rest.find(':', colon + 1) == std::string_view::npos) {
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
    }
    auto h = ParseHost(host, target);
    if (!h) return std::unexpected(h.error());
    if (h->empty()) return MakeError(Errc::kInvalid, std::string(target) + ": missing host");
    a.host = std::move(*h);
    if (port.empty()) {
      a.port = default_port;
    } else {
      auto p = ParsePort(port, target, false);
      if (!p) return std::unexpected(p.error());
      a.port = *p;
    }
    return a;
  }
  // [PORT][:HOST]
  std::string_view port = rest, host;
  if (size_t colon = rest.find(':'); colon != std::string_view::npos) {
    port = rest.substr(0, colon);
    host = rest.substr(colon + 1);
  }
  if (port.empty()) {
    a.port = default_port;
  } else {
    auto p = ParsePort(port, target, true);
    if (!p) return std::unexpected(p.error());
    a.port = *p;
  }
  auto h = ParseHost(host, target);
  if (!h) return std::unexpected(h.error());
  a.host = h->empty() ? "0.0.0.0" : std::move(*h);
  return a;
}

}  // namespace sluice
