// Active connection methods: tcp:HOST[:PORT], ssl:HOST[:PORT], unix:PATH. The connection is made
// without blocking the event loop (names resolved asynchronously, TLS handshake done) within a
// timeout; the result is a Stream or why it failed, in words ("Connection refused",
// "certificate verify failed: unable to get local issuer certificate").
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <asio.hpp>

#include "common/stream/address.h"
#include "common/stream/stream.h"
#include "sluice/result.h"

namespace sluice {

struct ConnectOptions {
  uint16_t default_port = kOvsdbPort;
  std::shared_ptr<TlsConfig> tls;  // ssl: (null: DefaultTlsConfig())
  std::chrono::milliseconds timeout{10000};
};

// A connection attempt in progress. Destroying or cancelling it stops the attempt; `done` is
// then never called.
class PendingConnect {
 public:
  virtual ~PendingConnect() = default;
  virtual void Cancel() = 0;
};

using ConnectDone = std::function<void(Result<StreamPtr>)>;

// `done` runs on `io`, never inside this call. Errors carry just the reason (not the target).
std::unique_ptr<PendingConnect> AsyncConnect(asio::io_context& io, const std::string& target,
                                             ConnectOptions opts, ConnectDone done);

// Connects and waits for the outcome by running `io` (which nothing else may be running): for
// tools and tests. Errors carry the target ("tcp:10.0.0.1:6640: Connection refused").
Result<StreamPtr> Connect(asio::io_context& io, const std::string& target,
                          ConnectOptions opts = {});

// A plain tcp:/unix: socket connected synchronously (tests).
Result<StreamSocket> ConnectStream(asio::io_context& io, const std::string& remote);

}  // namespace sluice
