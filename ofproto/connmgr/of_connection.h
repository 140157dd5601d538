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

#include "common/stream/budget.h"
#include "common/stream/connect.h"
#include "common/stream/stream.h"
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
  static std::shared_ptr<OfMonitor> Create(StreamPtr stream);
  void Start(uint8_t version);
  void Copy(ByteSpan msg);
  void Close(const std::string& reason);
  bool closed() const { return closed_; }
  const std::string& peer() const { return stream_->peer(); }
  uint64_t dropped = 0;

 private:
  explicit OfMonitor(StreamPtr stream);
  void Read();

  StreamPtr stream_;
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
  bool is_controller = false;                // primary controller vs service (management) client
  // Packet-ins that may wait in the output queue (Controller controller_queue_size); more are
  // dropped and counted.
  size_t packet_in_queue = 100;
  // Back-pressure: no input is read while more output than this waits (a peer that sends
  // requests but does not read the replies stops being served), and output that makes no
  // progress for stall_timeout_ms closes the connection.
  size_t pause_backlog = 1 << 20;
  int stall_timeout_ms = 60000;
  // A message (at most 64 KiB) must arrive whole within this: a peer trickling one is dropped.
  int partial_timeout_ms = 15000;
  std::shared_ptr<MemoryBudget> budget;  // shared by a bridge's connections
};

class OfConnection : public std::enable_shared_from_this<OfConnection> {
 public:
  static std::shared_ptr<OfConnection> Create(asio::io_context& io, StreamPtr stream,
                                              OfHandler* handler, ConnOptions opts);
  ~OfConnection();

  void Start();
  void Send(const Message& msg);
  // Sends a packet-in unless controller_queue_size packet-ins already wait to be written; false
  // (and counted in packet_ins_dropped) when it was dropped.
  bool SendPacketIn(const Message& msg);
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
  const std::string& peer() const { return stream_->peer(); }
  Stream& stream() const { return *stream_; }
  bool closed() const { return closed_; }
  bool is_controller() const { return opts_.is_controller; }
  // An inactivity probe is outstanding (the peer has been silent for one interval).
  bool probing() const { return probe_outstanding_; }
  // Why the connection closed (empty while open).
  const std::string& close_reason() const { return close_reason_; }
  // Live changes of the controller options.
  void SetProbeInterval(int ms);
  void SetPacketInQueue(size_t n) { opts_.packet_in_queue = n; }
  size_t backlog_bytes() const { return writer_.backlog(); }
  uint32_t NextXid() { return next_xid_++; }

  // Per-connection state the switch keeps (OpenFlow 1.3 §6.3.6, §7.3.9, §7.3.10).
  ControllerRole role = ControllerRole::kEqual;
  AsyncConfig async;
  uint64_t rx_messages = 0, tx_messages = 0, errors_sent = 0, packet_ins_dropped = 0;

 private:
  OfConnection(asio::io_context& io, StreamPtr stream, OfHandler* handler, ConnOptions opts);
  void Read();
  void Handle(ByteSpan raw);
  void ArmProbe();
  void Write(const Message& msg, int tag = 0);
  void CopyToMonitors(ByteSpan msg);
  void Account();
  void CloseNow(const std::string& reason);

  asio::io_context& io_;
  StreamPtr stream_;
  OfHandler* handler_;
  ConnOptions opts_;
  MessageSplitter splitter_;
  std::array<uint8_t, 16384> buf_;
  StreamWriter writer_;
  std::unique_ptr<BudgetAccount> account_;
  bool closed_ = false;
  std::string close_reason_;
  bool reading_ = false;
  bool paused_ = false;
  int64_t partial_since_ms_ = -1;
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
