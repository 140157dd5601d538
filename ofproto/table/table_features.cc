#include "ofproto/table/table_features.h"

#include "ofproto/codec/actions.h"

namespace sluice::ofp {
namespace {

using P = TableFeaturePropType;

// What the translation can carry out in the datapath; flow mods with other actions are refused
// with OFPBAC_BAD_TYPE, and set-fields outside SettableByDatapath with OFPBAC_BAD_SET_TYPE.
constexpr ActionType kActions[] = {
    ActionType::kOutput,   ActionType::kPushVlan, ActionType::kPopVlan,    ActionType::kSetQueue,
    ActionType::kGroup,    ActionType::kSetNwTtl, ActionType::kDecNwTtl,   ActionType::kSetField,
    ActionType::kPushMpls, ActionType::kPopMpls,  ActionType::kSetMplsTtl, ActionType::kDecMplsTtl,
};

TableFeatureProp Ids(P type, std::vector<FeatureId> ids) {
  TableFeatureProp p;
  p.type = type;
  p.ids = std::move(ids);
  return p;
}

TableFeatureProp Oxms(P type, std::vector<OxmId> oxms) {
  TableFeatureProp p;
  p.type = type;
  p.oxms = std::move(oxms);
  return p;
}

}  // namespace

bool SettableByDatapath(OxmField f) {
  switch (f) {
    case OxmField::kEthDst:
    case OxmField::kEthSrc:
    case OxmField::kVlanVid:
    case OxmField::kVlanPcp:
    case OxmField::kIpDscp:
    case OxmField::kIpEcn:
    case OxmField::kIpv4Src:
    case OxmField::kIpv4Dst:
    case OxmField::kIpv6Src:
    case OxmField::kIpv6Dst:
    case OxmField::kIpv6Flabel:
    case OxmField::kTcpSrc:
    case OxmField::kTcpDst:
    case OxmField::kUdpSrc:
    case OxmField::kUdpDst:
    case OxmField::kSctpSrc:
    case OxmField::kSctpDst:
    case OxmField::kIcmpv4Type:
    case OxmField::kIcmpv4Code:
    case OxmField::kTunnelId:  // pipeline metadata only until tunnel ports exist
    case OxmField::kArpOp:
    case OxmField::kArpSpa:
    case OxmField::kArpTpa:
    case OxmField::kArpSha:
    case OxmField::kArpTha:
    case OxmField::kIcmpv6Type:
    case OxmField::kIcmpv6Code:
    case OxmField::kIpv6NdTarget:
    case OxmField::kIpv6NdSll:
    case OxmField::kIpv6NdTll:
    case OxmField::kMplsLabel:
    case OxmField::kMplsTc:
    case OxmField::kMplsBos:
      return true;
    default:
      return false;
  }
}

TableFeaturesReply SupportedTableFeatures(uint8_t n_tables) {
  std::vector<FeatureId> actions;
  for (ActionType a : kActions) actions.push_back(FeatureId{static_cast<uint16_t>(a), {}});
  std::vector<OxmId> match, wildcards, setfield;
  for (size_t i = 0; i < kNumOxmFields; ++i) {
    auto f = static_cast<OxmField>(i);
    const OxmFieldInfo& info = FieldInfo(f);
    match.push_back(OxmId::Of(f, info.maskable));
    wildcards.push_back(OxmId::Of(f, false));
    if (info.settable && SettableByDatapath(f)) setfield.push_back(OxmId::Of(f, false));
  }

  TableFeaturesReply reply;
  for (unsigned t = 0; t < n_tables; ++t) {
    bool last = t + 1 == n_tables;
    std::vector<FeatureId> insts;
    for (InstructionType i : {InstructionType::kGotoTable, InstructionType::kWriteMetadata,
                              InstructionType::kWriteActions, InstructionType::kApplyActions,
                              InstructionType::kClearActions, InstructionType::kMeter}) {
      if (i == InstructionType::kGotoTable && last) continue;
      insts.push_back(FeatureId{static_cast<uint16_t>(i), {}});
    }
    TableFeatureProp next;
    next.type = P::kNextTables;
    for (unsigned n = t + 1; n < n_tables; ++n) next.tables.push_back(static_cast<uint8_t>(n));
    TableFeatureProp next_miss = next;
    next_miss.type = P::kNextTablesMiss;

    TableFeatures tf;
    tf.table_id = static_cast<uint8_t>(t);
    tf.metadata_match = ~uint64_t{0};
    tf.metadata_write = ~uint64_t{0};
    tf.max_entries = kTableMaxEntries;
    tf.properties = {
        Ids(P::kInstructions, insts),
        std::move(next),
        Ids(P::kWriteActions, actions),
        Oxms(P::kWriteSetfield, setfield),
        Ids(P::kApplyActions, actions),
        Oxms(P::kApplySetfield, setfield),
        Ids(P::kInstructionsMiss, insts),
        std::move(next_miss),
        Ids(P::kWriteActionsMiss, actions),
        Oxms(P::kWriteSetfieldMiss, setfield),
        Ids(P::kApplyActionsMiss, actions),
        Oxms(P::kApplySetfieldMiss, setfield),
        Oxms(P::kMatch, match),
        Oxms(P::kWildcards, wildcards),
    };
    reply.entries.push_back(std::move(tf));
  }
  return reply;
}

}  // namespace sluice::ofp
