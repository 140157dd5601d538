#include <string>
#include <type_traits>

#include "ofproto/codec/actions.h"

namespace sluice::ofp {
namespace {

constexpr uint8_t kTableMax = 0xfe;  // OFPTT_MAX

OfpResult<Instruction> DecodeOne(uint16_t type, uint16_t len, ByteSpan body, uint8_t table_id) {
  Reader r(body);
  switch (static_cast<InstructionType>(type)) {
    case InstructionType::kGotoTable: {
      if (len != 8) break;
      uint8_t next = r.U8();
      // Goto may only move forward, which is what keeps the pipeline loop-free.
      if (next <= table_id || next > kTableMax) {
        return Fail(OfpErr::kBadInstBadTableId, "goto_table " + std::to_string(next) +
                                                    " from table " + std::to_string(table_id));
      }
      return InstGotoTable{next};
    }
    case InstructionType::kWriteMetadata: {
      if (len != 24) break;
      r.Skip(4);
      InstWriteMetadata m;
      m.metadata = r.U64();
      m.mask = r.U64();
      return m;
    }
    case InstructionType::kWriteActions:
    case InstructionType::kApplyActions: {
      r.Skip(4);
      OfpResult<ActionList> acts = DecodeActions(r.Rest());
      if (!acts) return std::unexpected(std::move(acts.error()));
      if (static_cast<InstructionType>(type) == InstructionType::kWriteActions) {
        return InstWriteActions{std::move(*acts)};
      }
      return InstApplyActions{std::move(*acts)};
    }
    case InstructionType::kClearActions:
      if (len != 8) break;  // carries no actions
      return InstClearActions{};
    case InstructionType::kMeter:
      if (len != 8) break;
      return InstMeter{r.U32()};
    case InstructionType::kExperimenter: {
      InstExperimenter e;
      e.experimenter = r.U32();
      ByteSpan rest = r.Rest();
      e.data.assign(rest.begin(), rest.end());
      return e;
    }
    default:
      return Fail(OfpErr::kBadInstUnknownInst, "instruction type " + std::to_string(type));
  }
  return Fail(OfpErr::kBadInstBadLen,
              "instruction type " + std::to_string(type) + " length " + std::to_string(len));
}

}  // namespace

OfpResult<InstructionList> DecodeInstructions(ByteSpan data, uint8_t table_id) {
  InstructionList out;
  uint32_t seen = 0;  // bit per instruction type 1..6, bit 7 for experimenter
  Reader r(data);
  while (r.remaining() > 0) {
    if (r.remaining() < 4) return Fail(OfpErr::kBadInstBadLen, "truncated instruction header");
    uint16_t type = r.U16();
    uint16_t len = r.U16();
    if (len < 8 || len % 8 != 0 || len - 4u > r.remaining()) {
      return Fail(OfpErr::kBadInstBadLen, "instruction length " + std::to_string(len));
    }
    OfpResult<Instruction> inst = DecodeOne(type, len, r.Take(len - 4u), table_id);
    if (!inst) return std::unexpected(std::move(inst.error()));
    uint32_t bit = uint32_t{1} << (type == 0xffff ? 7 : type);
    if (seen & bit) return Fail(OfpErr::kBadInstDupInst, "type " + std::to_string(type));
    seen |= bit;
    out.push_back(std::move(*inst));
  }
  return out;
}

void EncodeInstructions(const InstructionList& insts, Writer& w) {
  for (const Instruction& inst : insts) {
    size_t start = w.size();
    std::visit(
        [&](const auto& i) {
          using T = std::decay_t<decltype(i)>;
          w.U16(0);
          w.U16(0);
          InstructionType type = InstructionType::kExperimenter;
          if constexpr (std::is_same_v<T, InstGotoTable>) {
            type = InstructionType::kGotoTable;
            w.U8(i.table_id);
            w.Zeros(3);
          } else if constexpr (std::is_same_v<T, InstWriteMetadata>) {
            type = InstructionType::kWriteMetadata;
            w.Zeros(4);
            w.U64(i.metadata);
            w.U64(i.mask);
          } else if constexpr (std::is_same_v<T, InstWriteActions> ||
                               std::is_same_v<T, InstApplyActions>) {
            type = std::is_same_v<T, InstWriteActions> ? InstructionType::kWriteActions
                                                       : InstructionType::kApplyActions;
            w.Zeros(4);
            EncodeActions(i.actions, w);
          } else if constexpr (std::is_same_v<T, InstClearActions>) {
            type = InstructionType::kClearActions;
            w.Zeros(4);
          } else if constexpr (std::is_same_v<T, InstMeter>) {
            type = InstructionType::kMeter;
            w.U32(i.meter_id);
          } else {
            w.U32(i.experimenter);
            w.Append(i.data);
          }
          w.PatchU16(start, static_cast<uint16_t>(type));
        },
        inst);
    w.PadTo8(start);
    w.PatchU16(start + 2, static_cast<uint16_t>(w.size() - start));
  }
}

}  // namespace sluice::ofp
