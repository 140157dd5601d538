// OpenFlow messages as typed values, and the two entry points of the codec: DecodeMessage()
// (one framed message -> Message or the exact OFPT_ERROR to send back) and EncodeMessage() (its
// inverse). Decoding validates everything that can be judged from the message alone (lengths,
// enums, flags, reserved numbers, match prerequisites); what needs switch state (does the table,
// port, group or meter exist) is left to the caller.
//
// The typed values are OpenFlow 1.3's whatever the wire version: Message::version picks the wire
// codec (1.3 in message_codec.cc and friends, 1.0 in of10_codec.cc), and the 1.0 codec converts
// to and from the same structs (1.0 match <-> OXM, 1.0 actions <-> an apply-actions
// instruction, stats <-> multipart, 16-bit <-> 32-bit port numbers), so the switch logic is
// written once. A later version (1.4, 1.5) joins as one more wire codec.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "ofproto/codec/actions.h"
#include "ofproto/codec/header.h"
#include "ofproto/codec/multipart.h"
#include "ofproto/codec/ofp_error.h"
#include "ofproto/codec/oxm.h"
#include "sluice/result.h"

namespace sluice::ofp {

inline constexpr uint32_t kNoBuffer = 0xffffffff;  // OFP_NO_BUFFER
inline constexpr uint8_t kTableAll = 0xff;         // OFPTT_ALL
inline constexpr uint32_t kMeterMax = 0xffff0000;
inline constexpr uint32_t kMeterSlowpath = 0xfffffffd;
inline constexpr uint32_t kMeterController = 0xfffffffe;
inline constexpr uint32_t kMeterAll = 0xffffffff;

// ---- Symmetric and setup messages --------------------------------------------------------

struct Hello {
  static constexpr MsgType kType = MsgType::kHello;
  // The OFPHET_VERSIONBITMAP element, if sent. Only its first word is kept: it covers every
  // version up to 31. Other element types are skipped, as the spec requires.
  std::optional<VersionSet> versions;
  bool operator==(const Hello&) const = default;
};

struct ErrorMsg {
  static constexpr MsgType kType = MsgType::kError;
  uint16_t type = 0;
  uint16_t code = 0;          // exp_type when type is OFPET_EXPERIMENTER
  uint32_t experimenter = 0;  // only when type is OFPET_EXPERIMENTER
  Bytes data;
  bool operator==(const ErrorMsg&) const = default;
};

struct EchoRequest {
  static constexpr MsgType kType = MsgType::kEchoRequest;
  Bytes data;
  bool operator==(const EchoRequest&) const = default;
};
struct EchoReply {
  static constexpr MsgType kType = MsgType::kEchoReply;
  Bytes data;
  bool operator==(const EchoReply&) const = default;
};

struct ExperimenterMsg {
  static constexpr MsgType kType = MsgType::kExperimenter;
  uint32_t experimenter = 0;
  uint32_t exp_type = 0;
  Bytes data;
  bool operator==(const ExperimenterMsg&) const = default;
};

struct FeaturesRequest {
  static constexpr MsgType kType = MsgType::kFeaturesRequest;
  bool operator==(const FeaturesRequest&) const = default;
};
struct FeaturesReply {
  static constexpr MsgType kType = MsgType::kFeaturesReply;
  uint64_t datapath_id = 0;
  uint32_t n_buffers = 0;
  uint8_t n_tables = 0;
  uint8_t auxiliary_id = 0;
  uint32_t capabilities = 0;  // OFPC_*
  uint32_t reserved = 0;
  // OpenFlow 1.0 only: the ports travel inside the features reply. The 1.3 codec neither
  // writes nor reads them (1.3 has OFPMP_PORT_DESC); OfConnection fills them for 1.0 peers.
  std::vector<PortDesc> ports;
  bool operator==(const FeaturesReply&) const = default;
};

// OFPC_FRAG_* in the low two bits; 3 (OFPC_FRAG_MASK) is the largest valid flags value.
inline constexpr uint16_t kConfigFragMask = 3;

struct GetConfigRequest {
  static constexpr MsgType kType = MsgType::kGetConfigRequest;
  bool operator==(const GetConfigRequest&) const = default;
};
struct SwitchConfig {
  uint16_t flags = 0;
  uint16_t miss_send_len = 128;
  bool operator==(const SwitchConfig&) const = default;
};
struct GetConfigReply : SwitchConfig {
  static constexpr MsgType kType = MsgType::kGetConfigReply;
};
struct SetConfig : SwitchConfig {
  static constexpr MsgType kType = MsgType::kSetConfig;
};

struct BarrierRequest {
  static constexpr MsgType kType = MsgType::kBarrierRequest;
  bool operator==(const BarrierRequest&) const = default;
};
struct BarrierReply {
  static constexpr MsgType kType = MsgType::kBarrierReply;
  bool operator==(const BarrierReply&) const = default;
};

enum class ControllerRole : uint32_t { kNoChange = 0, kEqual = 1, kMaster = 2, kSlave = 3 };

struct RoleBody {
  ControllerRole role = ControllerRole::kNoChange;
  uint64_t generation_id = 0;
  bool operator==(const RoleBody&) const = default;
};
struct RoleRequest : RoleBody {
  static constexpr MsgType kType = MsgType::kRoleRequest;
};
struct RoleReply : RoleBody {
  static constexpr MsgType kType = MsgType::kRoleReply;
};

struct GetAsyncRequest {
  static constexpr MsgType kType = MsgType::kGetAsyncRequest;
  bool operator==(const GetAsyncRequest&) const = default;
};
// Index 0: as master or equal, index 1: as slave; bit n enables reason n.
struct AsyncConfig {
  std::array<uint32_t, 2> packet_in_mask{};
  std::array<uint32_t, 2> port_status_mask{};
  std::array<uint32_t, 2> flow_removed_mask{};
  bool operator==(const AsyncConfig&) const = default;
};
struct GetAsyncReply : AsyncConfig {
  static constexpr MsgType kType = MsgType::kGetAsyncReply;
};
struct SetAsync : AsyncConfig {
  static constexpr MsgType kType = MsgType::kSetAsync;
};

// ---- Flow and packet messages ------------------------------------------------------------

enum class FlowModCommand : uint8_t {
  kAdd = 0,
  kModify = 1,
  kModifyStrict = 2,
  kDelete = 3,
  kDeleteStrict = 4,
};

// OFPFF_* flags.
inline constexpr uint16_t kFlowSendFlowRem = 1 << 0;
inline constexpr uint16_t kFlowCheckOverlap = 1 << 1;
inline constexpr uint16_t kFlowResetCounts = 1 << 2;
inline constexpr uint16_t kFlowNoPktCounts = 1 << 3;
inline constexpr uint16_t kFlowNoBytCounts = 1 << 4;
inline constexpr uint16_t kFlowAllFlags = 0x1f;

struct FlowMod {
  static constexpr MsgType kType = MsgType::kFlowMod;
  uint64_t cookie = 0;
  uint64_t cookie_mask = 0;
  uint8_t table_id = 0;
  FlowModCommand command = FlowModCommand::kAdd;
  uint16_t idle_timeout = 0;
  uint16_t hard_timeout = 0;
  uint16_t priority = 0x8000;  // OFP_DEFAULT_PRIORITY
  uint32_t buffer_id = kNoBuffer;
  uint32_t out_port = kPortAny;
  uint32_t out_group = kGroupAny;
  uint16_t flags = 0;
  Match match;
  InstructionList instructions;
  bool operator==(const FlowMod&) const = default;
};

enum class PacketInReason : uint8_t { kNoMatch = 0, kAction = 1, kInvalidTtl = 2 };

struct PacketIn {
  static constexpr MsgType kType = MsgType::kPacketIn;
  uint32_t buffer_id = kNoBuffer;
  uint16_t total_len = 0;
  PacketInReason reason = PacketInReason::kNoMatch;
  uint8_t table_id = 0;
  uint64_t cookie = 0;
  Match match;
  Bytes data;
  bool operator==(const PacketIn&) const = default;
};

struct PacketOut {
  static constexpr MsgType kType = MsgType::kPacketOut;
  uint32_t buffer_id = kNoBuffer;
  uint32_t in_port = kPortController;
  ActionList actions;
  Bytes data;  // the packet, when buffer_id is kNoBuffer
  bool operator==(const PacketOut&) const = default;
};

enum class FlowRemovedReason : uint8_t {
  kIdleTimeout = 0,
  kHardTimeout = 1,
  kDelete = 2,
  kGroupDelete = 3,
};

struct FlowRemoved {
  static constexpr MsgType kType = MsgType::kFlowRemoved;
  uint64_t cookie = 0;
  uint16_t priority = 0;
  FlowRemovedReason reason = FlowRemovedReason::kIdleTimeout;
  uint8_t table_id = 0;
  uint32_t duration_sec = 0;
  uint32_t duration_nsec = 0;
  uint16_t idle_timeout = 0;
  uint16_t hard_timeout = 0;
  uint64_t packet_count = 0;
  uint64_t byte_count = 0;
  Match match;
  bool operator==(const FlowRemoved&) const = default;
};

// ---- Port, table, group, meter ----------------------------------------------------------

enum class PortReason : uint8_t { kAdd = 0, kDelete = 1, kModify = 2 };

struct PortStatus {
  static constexpr MsgType kType = MsgType::kPortStatus;
  PortReason reason = PortReason::kAdd;
  PortDesc desc;
  bool operator==(const PortStatus&) const = default;
};

struct PortMod {
  static constexpr MsgType kType = MsgType::kPortMod;
  uint32_t port_no = 0;
  std::array<uint8_t, 6> hw_addr{};
  uint32_t config = 0;     // OFPPC_*
  uint32_t mask = 0;       // which config bits to change
  uint32_t advertise = 0;  // OFPPF_*, 0 leaves it alone
  bool operator==(const PortMod&) const = default;
};

struct TableMod {
  static constexpr MsgType kType = MsgType::kTableMod;
  uint8_t table_id = 0;  // or kTableAll
  uint32_t config = 0;   // only OFPTC_DEPRECATED_MASK (3) bits exist in 1.3
  bool operator==(const TableMod&) const = default;
};

enum class GroupModCommand : uint16_t { kAdd = 0, kModify = 1, kDelete = 2 };
enum class GroupType : uint8_t { kAll = 0, kSelect = 1, kIndirect = 2, kFastFailover = 3 };

struct GroupMod {
  static constexpr MsgType kType = MsgType::kGroupMod;
  GroupModCommand command = GroupModCommand::kAdd;
  GroupType type = GroupType::kAll;
  uint32_t group_id = 0;
  std::vector<Bucket> buckets;
  bool operator==(const GroupMod&) const = default;
};

enum class MeterModCommand : uint16_t { kAdd = 0, kModify = 1, kDelete = 2 };

// OFPMF_* flags.
inline constexpr uint16_t kMeterKbps = 1 << 0;
inline constexpr uint16_t kMeterPktps = 1 << 1;
inline constexpr uint16_t kMeterBurst = 1 << 2;
inline constexpr uint16_t kMeterStats = 1 << 3;
inline constexpr uint16_t kMeterAllFlags = 0xf;

struct MeterMod {
  static constexpr MsgType kType = MsgType::kMeterMod;
  MeterModCommand command = MeterModCommand::kAdd;
  uint16_t flags = 0;
  uint32_t meter_id = 0;
  std::vector<MeterBand> bands;
  bool operator==(const MeterMod&) const = default;
};

// ---- Queue configuration ----------------------------------------------------------------

enum class QueuePropType : uint16_t { kMinRate = 1, kMaxRate = 2, kExperimenter = 0xffff };

struct QueueProp {
  QueuePropType type = QueuePropType::kMinRate;
  uint16_t rate = 0;          // min/max rate, in 1/10 of a percent; > 1000 means disabled
  uint32_t experimenter = 0;  // kExperimenter only
  Bytes data;                 // kExperimenter only: what follows the experimenter id
  bool operator==(const QueueProp&) const = default;
};

struct PacketQueue {
  uint32_t queue_id = 0;
  uint32_t port = 0;  // 1.3 carries it per queue; 1.0 has it only in the reply header
  std::vector<QueueProp> properties;
  bool operator==(const PacketQueue&) const = default;
};

struct QueueGetConfigRequest {
  static constexpr MsgType kType = MsgType::kQueueGetConfigRequest;
  uint32_t port = kPortAny;  // a port <= OFPP_MAX, or OFPP_ANY for all (1.0: OFPP_ALL)
  bool operator==(const QueueGetConfigRequest&) const = default;
};

struct QueueGetConfigReply {
  static constexpr MsgType kType = MsgType::kQueueGetConfigReply;
  uint32_t port = 0;
  std::vector<PacketQueue> queues;
  bool operator==(const QueueGetConfigReply&) const = default;
};

// ---- The message ------------------------------------------------------------------------

using MessageBody =
    std::variant<Hello, ErrorMsg, EchoRequest, EchoReply, ExperimenterMsg, FeaturesRequest,
                 FeaturesReply, GetConfigRequest, GetConfigReply, SetConfig, PacketIn, FlowRemoved,
                 PortStatus, PacketOut, FlowMod, GroupMod, PortMod, TableMod, MultipartRequest,
                 MultipartReply, BarrierRequest, BarrierReply, RoleRequest, RoleReply,
                 GetAsyncRequest, GetAsyncReply, SetAsync, MeterMod, QueueGetConfigRequest,
                 QueueGetConfigReply>;

struct Message {
  uint8_t version = kOfp13;
  uint32_t xid = 0;
  MessageBody body;
  bool operator==(const Message&) const = default;
};

MsgType TypeOf(const MessageBody& body);

// Decodes exactly one message (as MessageSplitter returns it): the header's length must equal
// data.size(). HELLO and ERROR are accepted in any version (negotiation needs them); any other
// message must be in a version of kSupportedVersions (OFPBRC_BAD_VERSION).
OfpResult<Message> DecodeMessage(ByteSpan data);

// Encodes in msg.version (versions other than 1.0 use the 1.3 layout, which is right for the
// HELLO and ERROR of any version). Fails with kNoSpace when the result would exceed 65535
// bytes, and with kUnsupported when the message or one of its parts (a match field, an
// action, an instruction) has no form in msg.version.
Result<Bytes> EncodeMessage(const Message& msg);

// Like EncodeMessage(), but a multipart reply too large for one message is cut into several
// (SplitMultipartReply) instead of failing; the last keeps msg's flags.
Result<std::vector<Bytes>> EncodeMessages(const Message& msg);

// The OFPT_ERROR answering `offending`: its xid, its first 64 bytes as data, and `version` (the
// negotiated one: the offending message's own version may be the problem). The error is given
// in OpenFlow 1.3's vocabulary and written as `version` spells it (Of10ErrorCode for 1.0).
Message MakeErrorReply(const OfpError& error, ByteSpan offending, uint8_t version = kOfp13);

// The OpenFlow 1.0 (type, code) for a 1.3 error. 1.0 has fewer types: BAD_REQUEST, BAD_ACTION
// and QUEUE_OP_FAILED codes keep their numbers where 1.0 has them, flow-mod and port-mod errors
// map onto their 1.0 namesakes, and what 1.0 cannot say becomes the closest permission error
// (OFPBRC_EPERM, OFPBAC_BAD_ARGUMENT, OFPFMFC_EPERM).
std::pair<uint16_t, uint16_t> Of10ErrorCode(OfpErr err);

// Whether OpenFlow 1.0 can describe a flow (its match and instructions); the error says what it
// cannot express. A 1.0 flow stats reply leaves such flows out.
Result<void> Of10CanDescribe(const FlowStats& flow);

}  // namespace sluice::ofp
