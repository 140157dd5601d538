// OpenFlow 1.3 actions and instructions: typed forms, decoding with the spec's OFPBAC_* and
// OFPBIC_* errors, and encoding.
#pragma once

#include <cstdint>
#include <variant>
#include <vector>

#include "ofproto/codec/ofp_error.h"
#include "ofproto/codec/oxm.h"
#include "ofproto/codec/wire.h"

namespace sluice::ofp {

// Port numbers (ofp_port_no).
inline constexpr uint32_t kPortMax = 0xffffff00;
inline constexpr uint32_t kPortInPort = 0xfffffff8;
inline constexpr uint32_t kPortTable = 0xfffffff9;
inline constexpr uint32_t kPortNormal = 0xfffffffa;
inline constexpr uint32_t kPortFlood = 0xfffffffb;
inline constexpr uint32_t kPortAll = 0xfffffffc;
inline constexpr uint32_t kPortController = 0xfffffffd;
inline constexpr uint32_t kPortLocal = 0xfffffffe;
inline constexpr uint32_t kPortAny = 0xffffffff;
inline constexpr uint32_t kQueueAll = 0xffffffff;  // OFPQ_ALL

// Group numbers (ofp_group).
inline constexpr uint32_t kGroupMax = 0xffffff00;
inline constexpr uint32_t kGroupAll = 0xfffffffc;
inline constexpr uint32_t kGroupAny = 0xffffffff;

inline constexpr uint16_t kControllerMaxLen = 0xffe5;    // OFPCML_MAX
inline constexpr uint16_t kControllerNoBuffer = 0xffff;  // OFPCML_NO_BUFFER

enum class ActionType : uint16_t {
  kOutput = 0,
  kCopyTtlOut = 11,
  kCopyTtlIn = 12,
  kSetMplsTtl = 15,
  kDecMplsTtl = 16,
  kPushVlan = 17,
  kPopVlan = 18,
  kPushMpls = 19,
  kPopMpls = 20,
  kSetQueue = 21,
  kGroup = 22,
  kSetNwTtl = 23,
  kDecNwTtl = 24,
  kSetField = 25,
  kPushPbb = 26,
  kPopPbb = 27,
  kExperimenter = 0xffff,
};

struct ActOutput {
  uint32_t port = 0;
  uint16_t max_len = 0;  // bytes sent to the controller when port is CONTROLLER
  bool operator==(const ActOutput&) const = default;
};
struct ActCopyTtlOut {
  bool operator==(const ActCopyTtlOut&) const = default;
};
struct ActCopyTtlIn {
  bool operator==(const ActCopyTtlIn&) const = default;
};
struct ActSetMplsTtl {
  uint8_t ttl = 0;
  bool operator==(const ActSetMplsTtl&) const = default;
};
struct ActDecMplsTtl {
  bool operator==(const ActDecMplsTtl&) const = default;
};
struct ActPushVlan {
  uint16_t ethertype = 0x8100;  // 0x8100 or 0x88a8
  bool operator==(const ActPushVlan&) const = default;
};
struct ActPopVlan {
  bool operator==(const ActPopVlan&) const = default;
};
struct ActPushMpls {
  uint16_t ethertype = 0x8847;  // 0x8847 or 0x8848
  bool operator==(const ActPushMpls&) const = default;
};
struct ActPopMpls {
  uint16_t ethertype = 0x0800;  // of the payload after the last label is gone
  bool operator==(const ActPopMpls&) const = default;
};
struct ActSetQueue {
  uint32_t queue_id = 0;
  bool operator==(const ActSetQueue&) const = default;
};
struct ActGroup {
  uint32_t group_id = 0;
  bool operator==(const ActGroup&) const = default;
};
struct ActSetNwTtl {
  uint8_t ttl = 0;
  bool operator==(const ActSetNwTtl&) const = default;
};
struct ActDecNwTtl {
  bool operator==(const ActDecNwTtl&) const = default;
};
struct ActSetField {
  OxmEntry field;  // never masked in OpenFlow 1.3
  bool operator==(const ActSetField&) const = default;
};
struct ActPushPbb {
  uint16_t ethertype = 0x88e7;
  bool operator==(const ActPushPbb&) const = default;
};
struct ActPopPbb {
  bool operator==(const ActPopPbb&) const = default;
};
// Carried opaquely so a switch can report OFPBAC_BAD_EXPERIMENTER with the right context.
struct ActExperimenter {
  uint32_t experimenter = 0;
  Bytes data;  // after the experimenter id, padding included (length stays a multiple of 8)
  bool operator==(const ActExperimenter&) const = default;
};

using Action =
    std::variant<ActOutput, ActCopyTtlOut, ActCopyTtlIn, ActSetMplsTtl, ActDecMplsTtl, ActPushVlan,
                 ActPopVlan, ActPushMpls, ActPopMpls, ActSetQueue, ActGroup, ActSetNwTtl,
                 ActDecNwTtl, ActSetField, ActPushPbb, ActPopPbb, ActExperimenter>;
using ActionList = std::vector<Action>;

// Decodes a whole action list (every byte of `data` must belong to an action).
OfpResult<ActionList> DecodeActions(ByteSpan data);
// One action of an encoded list: its type, length (header included) and the bytes after the
// 4-byte header. OpenFlow 1.0 and 1.3 share this framing.
struct ActionTlv {
  uint16_t type;
  uint16_t len;
  ByteSpan body;
};
// Reads the next action from `r` (which has bytes left), checking its length (a multiple of 8,
// at least 8, within `r`): OFPBAC_BAD_LEN otherwise.
OfpResult<ActionTlv> NextActionTlv(Reader& r);
void EncodeActions(const ActionList& actions, Writer& w);
size_t EncodedActionsLen(const ActionList& actions);

enum class InstructionType : uint16_t {
  kGotoTable = 1,
  kWriteMetadata = 2,
  kWriteActions = 3,
  kApplyActions = 4,
  kClearActions = 5,
  kMeter = 6,
  kExperimenter = 0xffff,
};

struct InstGotoTable {
  uint8_t table_id = 0;
  bool operator==(const InstGotoTable&) const = default;
};
struct InstWriteMetadata {
  uint64_t metadata = 0;
  uint64_t mask = 0;
  bool operator==(const InstWriteMetadata&) const = default;
};
struct InstWriteActions {
  ActionList actions;
  bool operator==(const InstWriteActions&) const = default;
};
struct InstApplyActions {
  ActionList actions;
  bool operator==(const InstApplyActions&) const = default;
};
struct InstClearActions {
  bool operator==(const InstClearActions&) const = default;
};
struct InstMeter {
  uint32_t meter_id = 0;
  bool operator==(const InstMeter&) const = default;
};
struct InstExperimenter {
  uint32_t experimenter = 0;
  Bytes data;
  bool operator==(const InstExperimenter&) const = default;
};

using Instruction = std::variant<InstGotoTable, InstWriteMetadata, InstWriteActions,
                                 InstApplyActions, InstClearActions, InstMeter, InstExperimenter>;
using InstructionList = std::vector<Instruction>;

// Decodes the instructions of a flow in table `table_id`: a goto-table must point to a later
// table (OFPBIC_BAD_TABLE_ID), and each instruction type may appear once (OFPBIC_DUP_INST).
OfpResult<InstructionList> DecodeInstructions(ByteSpan data, uint8_t table_id);
void EncodeInstructions(const InstructionList& insts, Writer& w);

}  // namespace sluice::ofp
