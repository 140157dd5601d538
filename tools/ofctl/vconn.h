// sluice-ofctl's blocking OpenFlow client connection: connect (unix:/tcp:/ssl:/bridge name),
// HELLO negotiation, request/reply transactions with multipart reassembly, echo answering. The
// connection is a Stream driven by a private event loop, run while the caller waits; input is
// read all the time (also while sending), so neither side can block the other on a full socket.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio.hpp>

#include "common/stream/stream.h"
#include "ofproto/codec/messages.h"
#include "sluice/result.h"

namespace sluice::ofctl {

// "br0" -> unix:<rundir>/br0.mgmt; "unix:PATH", "tcp:HOST[:PORT]", "ssl:HOST[:PORT]" as given;
// a path with a '/' -> unix:PATH.
std::string ResolveTarget(const std::string& target, const std::string& rundir);

class Vconn {
 public:
  ~Vconn();
  Vconn(const Vconn&) = delete;
  Vconn& operator=(const Vconn&) = delete;

  // Connects and negotiates `version` (the only one offered, unless `also` adds others: then
  // the highest common one). timeout_s 0: no timeout.
  static Result<std::unique_ptr<Vconn>> Open(const std::string& name, uint8_t version,
                                             int timeout_s, ofp::VersionSet also = 0);

  const std::string& name() const { return name_; }
  uint8_t version() const { return version_; }
  uint32_t NextXid() { return next_xid_++; }

  Result<void> Send(const ofp::Message& msg);
  Result<void> SendRaw(const ofp::Bytes& bytes);
  // The next message from the switch (echo requests are answered and skipped). `raw`, if
  // given, receives its bytes. A message that does not decode is returned as an error whose
  // text is the formatted raw message.
  Result<ofp::Message> Recv(ofp::Bytes* raw = nullptr);
  // The next message as received, echo requests included (nothing is answered).
  Result<ofp::Bytes> RecvRaw();

  // Sends `request` (its xid is assigned) and returns the replies carrying its xid: one, or
  // every part of a multipart reply. An OFPT_ERROR reply is returned as the only element.
  Result<std::vector<ofp::Message>> Transact(ofp::MessageBody request);

  // Sends every request, then a barrier, and waits for the barrier reply. Returns the first
  // OFPT_ERROR that answered any of them (nullopt when all succeeded).
  Result<std::optional<ofp::Message>> TransactNoReply(std::vector<ofp::MessageBody> requests);

 private:
  Vconn(std::string name, int timeout_s) : name_(std::move(name)), timeout_s_(timeout_s) {}
  Result<void> ReadExact(uint8_t* buf, size_t n);
  void StartRead();
  // Runs the loop for one event, up to the deadline; false on timeout.
  bool RunOnce(std::chrono::steady_clock::time_point deadline);
  bool HasMessage() const;  // a whole message is buffered

  asio::io_context io_;
  StreamPtr stream_;
  std::string name_;
  int timeout_s_ = 0;
  ofp::Bytes in_;
  size_t in_off_ = 0;
  std::array<uint8_t, 65536> rbuf_;
  bool reading_ = false;
  std::string read_error_;
  uint8_t version_ = ofp::kOfp13;
  uint32_t next_xid_ = 1;
};

}  // namespace sluice::ofctl
