// Control-path error vocabulary: Result<T> = std::expected<T, Error>. Never on the fast path.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace sluice {

enum class Errc : uint16_t {
  kOk = 0,
  kInvalid,      // malformed argument or input
  kNotFound,     // no such object
  kExists,       // already exists
  kNoSpace,      // a bound was reached
  kBusy,         // try again later
  kIo,           // system or device error (see sys_errno)
  kProtocol,     // peer violated a protocol
  kUnsupported,  // well-formed, but not implemented: an explicit error, never silent success
};

struct Error {
  Errc code = Errc::kInvalid;
  std::string message;
  int sys_errno = 0;
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> MakeError(Errc code, std::string message, int sys_errno = 0) {
  return std::unexpected<Error>(Error{code, std::move(message), sys_errno});
}

}  // namespace sluice
