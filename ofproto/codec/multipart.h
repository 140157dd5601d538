// OpenFlow 1.3 multipart (statistics and description) requests and replies, and the shared
// structures they carry (ofp_port, meter bands, table features). OFPMP_EXPERIMENTER is not
// decoded: it fails with OFPBRC_BAD_EXPERIMENTER.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "ofproto/codec/actions.h"
#include "ofproto/codec/header.h"
#include "ofproto/codec/oxm.h"
#include "sluice/result.h"

namespace sluice::ofp {

struct Message;

// ofp_port: a port's description, in PORT_STATUS and the PORT_DESC reply.
struct PortDesc {
  uint32_t port_no = 0;
  std::array<uint8_t, 6> hw_addr{};
  std::string name;  // at most 15 characters: the wire field is 16 bytes, NUL-terminated
  uint32_t config = 0;
  uint32_t state = 0;
  uint32_t curr = 0;
  uint32_t advertised = 0;
  uint32_t supported = 0;
  uint32_t peer = 0;
  uint32_t curr_speed = 0;  // kbps
  uint32_t max_speed = 0;
  bool operator==(const PortDesc&) const = default;
};

struct Bucket {
  uint16_t weight = 0;  // select groups only
  uint32_t watch_port = kPortAny;
  uint32_t watch_group = kGroupAny;
  ActionList actions;
  bool operator==(const Bucket&) const = default;
};

enum class MeterBandType : uint16_t { kDrop = 1, kDscpRemark = 2, kExperimenter = 0xffff };

struct MeterBand {
  MeterBandType type = MeterBandType::kDrop;
  uint32_t rate = 0;
  uint32_t burst_size = 0;
  uint8_t prec_level = 0;     // kDscpRemark only
  uint32_t experimenter = 0;  // kExperimenter only
  bool operator==(const MeterBand&) const = default;
};

enum class MultipartType : uint16_t {
  kDesc = 0,
  kFlow = 1,
  kAggregate = 2,
  kTable = 3,
  kPortStats = 4,
  kQueue = 5,
  kGroup = 6,
  kGroupDesc = 7,
  kGroupFeatures = 8,
  kMeter = 9,
  kMeterConfig = 10,
  kMeterFeatures = 11,
  kTableFeatures = 12,
  kPortDesc = 13,
  kExperimenter = 0xffff,
};

// OFPMPF_REQ_MORE / OFPMPF_REPLY_MORE.
inline constexpr uint16_t kMultipartMore = 1;

// ---- Requests ----

struct DescRequest {
  bool operator==(const DescRequest&) const = default;
};
struct FlowStatsFilter {
  uint8_t table_id = 0xff;  // OFPTT_ALL
  uint32_t out_port = kPortAny;
  uint32_t out_group = kGroupAny;
  uint64_t cookie = 0;
  uint64_t cookie_mask = 0;
  Match match;
  bool operator==(const FlowStatsFilter&) const = default;
};
struct FlowStatsRequest : FlowStatsFilter {};
struct AggregateRequest : FlowStatsFilter {};
struct TableStatsRequest {
  bool operator==(const TableStatsRequest&) const = default;
};
struct PortStatsRequest {
  uint32_t port_no = kPortAny;
  bool operator==(const PortStatsRequest&) const = default;
};
struct PortDescRequest {
  bool operator==(const PortDescRequest&) const = default;
};
struct QueueStatsRequest {
  uint32_t port_no = kPortAny;
  uint32_t queue_id = kQueueAll;
  bool operator==(const QueueStatsRequest&) const = default;
};
struct GroupStatsRequest {
  uint32_t group_id = kGroupAll;
  bool operator==(const GroupStatsRequest&) const = default;
};
struct GroupDescRequest {
  bool operator==(const GroupDescRequest&) const = default;
};
struct GroupFeaturesRequest {
  bool operator==(const GroupFeaturesRequest&) const = default;
};
struct MeterStatsRequest {
  uint32_t meter_id = 0xffffffff;  // OFPM_ALL
  bool operator==(const MeterStatsRequest&) const = default;
};
struct MeterConfigRequest {
  uint32_t meter_id = 0xffffffff;
  bool operator==(const MeterConfigRequest&) const = default;
};
struct MeterFeaturesRequest {
  bool operator==(const MeterFeaturesRequest&) const = default;
};

// ---- Table features (OpenFlow 1.3 §7.3.5.5) ----

enum class TableFeaturePropType : uint16_t {
  kInstructions = 0,
  kInstructionsMiss = 1,
  kNextTables = 2,
  kNextTablesMiss = 3,
  kWriteActions = 4,
  kWriteActionsMiss = 5,
  kApplyActions = 6,
  kApplyActionsMiss = 7,
  kMatch = 8,
  kWildcards = 10,
  kWriteSetfield = 12,
  kWriteSetfieldMiss = 13,
  kApplySetfield = 14,
  kApplySetfieldMiss = 15,
  kExperimenter = 0xfffe,
  kExperimenterMiss = 0xffff,
};

// An instruction or action id (ofp_instruction / ofp_action_header without a body): its type
// and, for experimenter ids (type 0xffff), the bytes after the 4-byte header (the experimenter
// id first). Other ids are exactly 4 bytes on the wire.
struct FeatureId {
  uint16_t type = 0;
  Bytes data;
  bool operator==(const FeatureId&) const = default;
};

// An OXM id: the 32-bit OXM header (class, field, hasmask, length); experimenter OXMs (class
// 0xffff) are followed by their 32-bit experimenter id.
struct OxmId {
  uint32_t header = 0;
  uint32_t experimenter = 0;  // class 0xffff only
  // The basic-class id of `f` (length doubled when has_mask, as on the wire).
  static OxmId Of(OxmField f, bool has_mask);
  bool operator==(const OxmId&) const = default;
};

// One ofp_table_feature_prop. Which member is used depends on `type`: `ids` for instructions
// and write/apply actions, `tables` for next tables, `oxms` for match, wildcards and
// write/apply set-field, experimenter/exp_type/data for the experimenter properties (each with
// its _MISS variant).
struct TableFeatureProp {
  TableFeaturePropType type = TableFeaturePropType::kInstructions;
  std::vector<FeatureId> ids;
  std::vector<uint8_t> tables;
  std::vector<OxmId> oxms;
  uint32_t experimenter = 0;
  uint32_t exp_type = 0;
  Bytes data;
  bool operator==(const TableFeatureProp&) const = default;
};

struct TableFeatures {
  uint8_t table_id = 0;
  std::string name;  // at most 31 characters (OFP_MAX_TABLE_NAME_LEN is 32 with the NUL)
  uint64_t metadata_match = 0;
  uint64_t metadata_write = 0;
  uint32_t config = 0;
  uint32_t max_entries = 0;
  std::vector<TableFeatureProp> properties;
  bool operator==(const TableFeatures&) const = default;
};

// An empty request asks for the features; a non-empty one asks the switch to reconfigure its
// tables to exactly these.
struct TableFeaturesRequest {
  std::vector<TableFeatures> entries;
  bool operator==(const TableFeaturesRequest&) const = default;
};

using MultipartRequestBody =
    std::variant<DescRequest, FlowStatsRequest, AggregateRequest, TableStatsRequest,
                 PortStatsRequest, PortDescRequest, QueueStatsRequest, GroupStatsRequest,
                 GroupDescRequest, GroupFeaturesRequest, MeterStatsRequest, MeterConfigRequest,
                 MeterFeaturesRequest, TableFeaturesRequest>;

struct MultipartRequest {
  static constexpr MsgType kType = MsgType::kMultipartRequest;
  uint16_t flags = 0;
  MultipartRequestBody body;
  bool operator==(const MultipartRequest&) const = default;
};

// ---- Replies ----

struct DescReply {
  std::string mfr_desc;    // each string is cut to its wire field minus the NUL:
  std::string hw_desc;     // 255 characters,
  std::string sw_desc;     // 255,
  std::string serial_num;  // 31,
  std::string dp_desc;     // 255
  bool operator==(const DescReply&) const = default;
};

struct FlowStats {
  uint8_t table_id = 0;
  uint32_t duration_sec = 0;
  uint32_t duration_nsec = 0;
  uint16_t priority = 0;
  uint16_t idle_timeout = 0;
  uint16_t hard_timeout = 0;
  uint16_t flags = 0;
  uint64_t cookie = 0;
  uint64_t packet_count = 0;
  uint64_t byte_count = 0;
  Match match;
  InstructionList instructions;
  bool operator==(const FlowStats&) const = default;
};
struct FlowStatsReply {
  std::vector<FlowStats> entries;
  bool operator==(const FlowStatsReply&) const = default;
};

struct AggregateReply {
  uint64_t packet_count = 0;
  uint64_t byte_count = 0;
  uint32_t flow_count = 0;
  bool operator==(const AggregateReply&) const = default;
};

struct TableStats {
  uint8_t table_id = 0;
  uint32_t active_count = 0;
  uint64_t lookup_count = 0;
  uint64_t matched_count = 0;
  bool operator==(const TableStats&) const = default;
};
struct TableStatsReply {
  std::vector<TableStats> entries;
  bool operator==(const TableStatsReply&) const = default;
};

struct PortStats {
  uint32_t port_no = 0;
  uint64_t rx_packets = 0, tx_packets = 0, rx_bytes = 0, tx_bytes = 0;
  uint64_t rx_dropped = 0, tx_dropped = 0, rx_errors = 0, tx_errors = 0;
  uint64_t rx_frame_err = 0, rx_over_err = 0, rx_crc_err = 0, collisions = 0;
  uint32_t duration_sec = 0;
  uint32_t duration_nsec = 0;
  bool operator==(const PortStats&) const = default;
};
struct PortStatsReply {
  std::vector<PortStats> entries;
  bool operator==(const PortStatsReply&) const = default;
};

struct PortDescReply {
  std::vector<PortDesc> entries;
  bool operator==(const PortDescReply&) const = default;
};

struct QueueStats {
  uint32_t port_no = 0;
  uint32_t queue_id = 0;
  uint64_t tx_bytes = 0, tx_packets = 0, tx_errors = 0;
  uint32_t duration_sec = 0;
  uint32_t duration_nsec = 0;
  bool operator==(const QueueStats&) const = default;
};
struct QueueStatsReply {
  std::vector<QueueStats> entries;
  bool operator==(const QueueStatsReply&) const = default;
};

struct BucketCounter {
  uint64_t packet_count = 0;
  uint64_t byte_count = 0;
  bool operator==(const BucketCounter&) const = default;
};
struct GroupStats {
  uint32_t group_id = 0;
  uint32_t ref_count = 0;
  uint64_t packet_count = 0;
  uint64_t byte_count = 0;
  uint32_t duration_sec = 0;
  uint32_t duration_nsec = 0;
  std::vector<BucketCounter> buckets;
  bool operator==(const GroupStats&) const = default;
};
struct GroupStatsReply {
  std::vector<GroupStats> entries;
  bool operator==(const GroupStatsReply&) const = default;
};

struct GroupDesc {
  uint8_t type = 0;  // GroupType
  uint32_t group_id = 0;
  std::vector<Bucket> buckets;
  bool operator==(const GroupDesc&) const = default;
};
struct GroupDescReply {
  std::vector<GroupDesc> entries;
  bool operator==(const GroupDescReply&) const = default;
};

struct GroupFeaturesReply {
  uint32_t types = 0;  // bit n: group type n supported
  uint32_t capabilities = 0;
  std::array<uint32_t, 4> max_groups{};
  std::array<uint32_t, 4> actions{};  // bit n: action type n supported, per group type
  bool operator==(const GroupFeaturesReply&) const = default;
};

struct MeterStats {
  uint32_t meter_id = 0;
  uint32_t flow_count = 0;
  uint64_t packet_in_count = 0;
  uint64_t byte_in_count = 0;
  uint32_t duration_sec = 0;
  uint32_t duration_nsec = 0;
  std::vector<BucketCounter> bands;  // packet_band_count, byte_band_count
  bool operator==(const MeterStats&) const = default;
};
struct MeterStatsReply {
  std::vector<MeterStats> entries;
  bool operator==(const MeterStatsReply&) const = default;
};

struct MeterConfig {
  uint16_t flags = 0;
  uint32_t meter_id = 0;
  std::vector<MeterBand> bands;
  bool operator==(const MeterConfig&) const = default;
};
struct MeterConfigReply {
  std::vector<MeterConfig> entries;
  bool operator==(const MeterConfigReply&) const = default;
};

struct MeterFeaturesReply {
  uint32_t max_meter = 0;
  uint32_t band_types = 0;  // bit n: band type n supported
  uint32_t capabilities = 0;
  uint8_t max_bands = 0;
  uint8_t max_color = 0;
  bool operator==(const MeterFeaturesReply&) const = default;
};

struct TableFeaturesReply {
  std::vector<TableFeatures> entries;
  bool operator==(const TableFeaturesReply&) const = default;
};

using MultipartReplyBody =
    std::variant<DescReply, FlowStatsReply, AggregateReply, TableStatsReply, PortStatsReply,
                 PortDescReply, QueueStatsReply, GroupStatsReply, GroupDescReply,
                 GroupFeaturesReply, MeterStatsReply, MeterConfigReply, MeterFeaturesReply,
                 TableFeaturesReply>;

struct MultipartReply {
  static constexpr MsgType kType = MsgType::kMultipartReply;
  uint16_t flags = 0;
  MultipartReplyBody body;
  bool operator==(const MultipartReply&) const = default;
};

// Cuts a reply into as many messages as needed so that each encodes to at most 65535 bytes in
// `version`; all but the last carry OFPMPF_REPLY_MORE. Fixed-size replies (desc, aggregate,
// features) come back as one message. Fails (kNoSpace) when a single entry cannot fit in a
// message.
Result<std::vector<Message>> SplitMultipartReply(uint32_t xid, const MultipartReply& reply,
                                                 uint8_t version = kOfp13);

}  // namespace sluice::ofp
