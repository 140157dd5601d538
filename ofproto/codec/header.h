// OpenFlow header, stream framing and version negotiation: the parts of the protocol that are
// the same in every version, so a connection can frame and negotiate before it knows which codec
// to use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "ofproto/codec/ofp_error.h"
#include "ofproto/codec/wire.h"

namespace sluice::ofp {

inline constexpr uint8_t kOfp10 = 0x01;
inline constexpr uint8_t kOfp13 = 0x04;
inline constexpr uint8_t kOfp14 = 0x05;
inline constexpr uint8_t kOfp15 = 0x06;

inline constexpr size_t kHeaderLen = 8;
inline constexpr size_t kMaxMessageLen = 0xffff;
// An OFPT_ERROR carries at most this much of the message that caused it.
inline constexpr size_t kErrorDataMax = 64;

// OpenFlow 1.3 message types (ofp_type).
enum class MsgType : uint8_t {
  kHello = 0,
  kError = 1,
  kEchoRequest = 2,
  kEchoReply = 3,
  kExperimenter = 4,
  kFeaturesRequest = 5,
  kFeaturesReply = 6,
  kGetConfigRequest = 7,
  kGetConfigReply = 8,
  kSetConfig = 9,
  kPacketIn = 10,
  kFlowRemoved = 11,
  kPortStatus = 12,
  kPacketOut = 13,
  kFlowMod = 14,
  kGroupMod = 15,
  kPortMod = 16,
  kTableMod = 17,
  kMultipartRequest = 18,
  kMultipartReply = 19,
  kBarrierRequest = 20,
  kBarrierReply = 21,
  kQueueGetConfigRequest = 22,
  kQueueGetConfigReply = 23,
  kRoleRequest = 24,
  kRoleReply = 25,
  kGetAsyncRequest = 26,
  kGetAsyncReply = 27,
  kSetAsync = 28,
  kMeterMod = 29,
};

struct Header {
  uint8_t version = kOfp13;
  uint8_t type = 0;
  uint16_t length = kHeaderLen;
  uint32_t xid = 0;

  bool operator==(const Header&) const = default;
};

// Reads the first 8 bytes. Fails with OFPBRC_BAD_LEN when fewer than 8 bytes are given or the
// length field is below 8; does not compare the length field with data.size().
OfpResult<Header> DecodeHeader(ByteSpan data);
void EncodeHeader(const Header& h, Writer& w);

// Cuts a TCP/TLS byte stream into whole messages. A length field below 8 can never be
// resynchronised, so it is a permanent error: the caller must close the connection (after
// sending the OFPT_ERROR).
class MessageSplitter {
 public:
  void Feed(ByteSpan data);

  // The next whole message (header included), or nullopt until more bytes arrive. The span stays
  // valid until the next Feed().
  OfpResult<std::optional<ByteSpan>> Next();

  // Bytes received but not yet returned by Next().
  size_t buffered() const { return buf_.size() - consumed_; }

 private:
  Bytes buf_;
  size_t consumed_ = 0;
  bool broken_ = false;
};

// Version sets are bitmaps with bit v set for wire version v, as in the HELLO version-bitmap
// element; 32 bits cover every version defined so far (1.5 is 0x06).
using VersionSet = uint32_t;

constexpr VersionSet VersionBit(uint8_t version) {
  return version < 32 ? VersionSet{1} << version : 0;
}

// What this codec can speak today; 1.4/1.5 join by adding their bits.
inline constexpr VersionSet kSupportedVersions = VersionBit(kOfp10) | VersionBit(kOfp13);

// The versions a peer offers: its bitmap element when it sent one, otherwise (as OpenFlow 1.0
// peers do) every version up to the one in its header.
VersionSet PeerVersions(uint8_t header_version, const std::optional<VersionSet>& bitmap);

// Highest version in both sets, nullopt when they share none (reply OFPHFC_INCOMPATIBLE).
std::optional<uint8_t> HighestCommonVersion(VersionSet ours, VersionSet theirs);

}  // namespace sluice::ofp
