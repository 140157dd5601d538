// One OpenFlow connection (controller or management client) on the control thread's event loop:
// framing, HELLO version negotiation, echo, inactivity probes, per-connection role and async
// configuration, and the OFPT_ERROR answer to anything malformed (the connection lives on).
//
// The handler always sees and sends the typed (OpenFlow 1.3) messages; the connection decodes
// and encodes them in the negotiated version (see messages.h). Where a 1.0 exchange has no
// one-to-one 1.3 counterpart, the connection bridges it: a 1.0 FEATURES_REQUEST is passed on as
// a PORT_DESC request plus the FEATURES_REQUEST, and the ports go into the features reply.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio.hpp>

#include "common/jsonrpc.h"
#include "common/stream_writer.h"
#include "ofproto/codec/header.h"
#include "ofproto/codec/messages.h"

namespace sluice::ofp {

class OfConnection;

// A snooper (ovs-ofctl snoop on punix:<rundir>/<bridge>.snoop): after a HELLO offering only the
// version of the connection it watches, it gets a copy of every OpenFlow message that connection
// receives or sends (HELLOs excepted), as Open vSwitch's connection monitors do. What the
// snooper sends is read and ignored. Copies a slow snooper cannot take (more than 1 MiB queued)
// are dropped, never delaying the watched connection.
class OfMonitor : public std::enable_shared_from_this<OfMonitor> {
 public:
  static std::shared_ptr<OfMonitor> Create(StreamSocket sock, std::string peer);
  void Start(uint8_t version);
  void Copy(ByteSpan msg);
  void Close(const std::string& reason);
  bool closed() const { return closed_; }
  const std::string& peer() const { return peer_; }
  uint64_t dropped = 0;

 private:
  OfMonitor(StreamSocket sock, std::string peer);
  void Read();

  StreamSocket sock_;
  std::string peer_;
  StreamWriter writer_;
  std::array<uint8_t, 4096> buf_;
  bool closed_ = false;
};

class OfHandler {
 public:
  virtual ~OfHandler() = default;
  // A decoded message after negotiation (HELLO and echo are handled by the connection).
  virtual void OnMessage(OfConnection& conn, Message msg, ByteSpan raw) = 0;
  virtual void OnConnected(OfConnection&) {}
  virtual void OnDisconnected(OfConnection&) {}
};

struct ConnOptions {
  VersionSet versions = kSupportedVersions;  // what we offer
  int probe_interval_ms = 5000;              // 0 disables the inactivity probe
  bool is_controller = false;                // active controller vs management (service) client
};

class OfConnection : public std::enable_shared_from_this<OfConnection> {
 public:
  static std::shared_ptr<OfConnection> Create(asio::io_context& io, StreamSocket sock,
                                              std::string peer, OfHandler* handler,
                                              ConnOptions opts);
  ~OfConnection();

  void Start();
  void Send(const Message& msg);
  // Answers `offending` with OFPT_ERROR; the connection stays up.
  void SendError(const OfpError& err, ByteSpan offending);
  void Close(const std::string& reason);
  void OnClosed(std::function<void(OfConnection&)> fn) { on_closed_ = std::move(fn); }
  // Starts copying this connection's traffic to `m` (at most kMaxMonitors at a time); false
  // when there is no room. Monitors are closed with the connection.
  bool AddMonitor(std::shared_ptr<OfMonitor> m);
  static constexpr size_t kMaxMonitors = 8;

  bool negotiated() const { return version_ != 0; }
  uint8_t version() const { return version_; }
  const std::string& peer() const { return peer_; }
  bool closed() const { return closed_; }
  bool is_controller() const { return opts_.is_controller; }
  uint32_t NextXid() { return next_xid_++; }

  // Per-connection state the switch keeps (OpenFlow 1.3 §6.3.6, §7.3.9, §7.3.10).
  ControllerRole role = ControllerRole::kEqual;
  AsyncConfig async;
  uint64_t rx_messages = 0, tx_messages = 0, errors_sent = 0;

 private:
  OfConnection(asio::io_context& io, StreamSocket sock, std::string peer, OfHandler* handler,
               ConnOptions opts);
  void Read();
  void Handle(ByteSpan raw);
  void ArmProbe();
  void Write(const Message& msg);
  void CopyToMonitors(ByteSpan msg);

  asio::io_context& io_;
  StreamSocket sock_;
  std::string peer_;
  OfHandler* handler_;
  ConnOptions opts_;
  MessageSplitter splitter_;
  std::array<uint8_t, 65536> buf_;
  StreamWriter writer_;
  bool closed_ = false;
  uint8_t version_ = 0;
  uint32_t next_xid_ = 1;
  asio::steady_timer probe_timer_;
  bool heard_since_probe_ = true;
  bool probe_outstanding_ = false;
  std::function<void(OfConnection&)> on_closed_;
  // While a 1.0 FEATURES_REQUEST is being answered: its xid and the ports collected so far.
  struct FeaturesCapture {
    uint32_t xid = 0;
    std::vector<PortDesc> ports;
  };
  std::optional<FeaturesCapture> features_capture_;
  std::vector<std::shared_ptr<OfMonitor>> monitors_;
};

// The default OFPC_* async masks of OpenFlow 1.3 §7.3.10 for a master/equal connection.
AsyncConfig DefaultAsyncConfig();

}  // namespace sluice::ofp
