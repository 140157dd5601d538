// Connection methods as Open vSwitch writes them, for OpenFlow and OVSDB alike:
//   active:  tcp:HOST[:PORT]   ssl:HOST[:PORT]   unix:PATH
//   passive: ptcp:[PORT][:HOST] pssl:[PORT][:HOST] punix:PATH
// HOST is an IP address (an IPv6 address in brackets, "tcp:[::1]:6653", "ptcp:6653:[::1]") or,
// for active methods, a DNS name. A missing PORT is the protocol's default (6653 for OpenFlow,
// 6640 for OVSDB); a passive method without HOST listens on every IPv4 address. Port 0 on a
// passive method binds an ephemeral port.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/result.h"

namespace sluice {

inline constexpr uint16_t kOpenFlowPort = 6653;
inline constexpr uint16_t kOvsdbPort = 6640;

struct StreamAddress {
  enum class Kind { kTcp, kSsl, kUnix };
  Kind kind = Kind::kTcp;
  bool passive = false;
  std::string host;  // without brackets; empty for unix
  uint16_t port = 0;
  std::string path;  // unix

  bool tls() const { return kind == Kind::kSsl; }
  bool unix_socket() const { return kind == Kind::kUnix; }
  // The method in canonical form ("tcp:10.0.0.1:6653", "pssl:6640:[::1]", "punix:/run/x").
  std::string ToString() const;
  // "10.0.0.1:6653", "[::1]:6640" (tcp/ssl), or the path.
  std::string HostPort() const;
};

// Parses `target`; `default_port` fills a missing port.
Result<StreamAddress> ParseStreamAddress(std::string_view target, uint16_t default_port);

// "ptcp:", "pssl:" or "punix:" (whether or not the rest is valid).
bool IsPassiveTarget(std::string_view target);
// Any of the six methods (whether or not the rest is valid).
bool IsStreamTarget(std::string_view target);

// Brackets an IPv6 address for use in a method string ("::1" -> "[::1]").
std::string BracketHost(const std::string& host);

}  // namespace sluice
