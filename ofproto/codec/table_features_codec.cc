// OFPMP_TABLE_FEATURES bodies: ofp_table_features and its properties (OpenFlow 1.3 §7.3.5.5).
#include <string>

#include "ofproto/codec/codec_internal.h"

namespace sluice::ofp {

OxmId OxmId::Of(OxmField f, bool has_mask) {
  uint32_t len = FieldInfo(f).len * (has_mask ? 2u : 1u);
  return OxmId{(uint32_t{kOxmClassBasic} << 16) | (uint32_t{static_cast<uint8_t>(f)} << 9) |
                   (has_mask ? 0x100u : 0u) | len,
               0};
}

namespace internal {
namespace {

constexpr size_t kTableFeaturesFixed = 64;
constexpr size_t kTableNameLen = 32;
constexpr uint16_t kExperimenterId = 0xffff;  // instruction/action type, OXM class

using P = TableFeaturePropType;

enum class PropKind { kIds, kTables, kOxms, kExperimenter, kUnknown };

PropKind KindOf(uint16_t type) {
  switch (static_cast<P>(type)) {
    case P::kInstructions:
    case P::kInstructionsMiss:
    case P::kWriteActions:
    case P::kWriteActionsMiss:
    case P::kApplyActions:
    case P::kApplyActionsMiss:
      return PropKind::kIds;
    case P::kNextTables:
    case P::kNextTablesMiss:
      return PropKind::kTables;
    case P::kMatch:
    case P::kWildcards:
    case P::kWriteSetfield:
    case P::kWriteSetfieldMiss:
    case P::kApplySetfield:
    case P::kApplySetfieldMiss:
      return PropKind::kOxms;
    case P::kExperimenter:
    case P::kExperimenterMiss:
      return PropKind::kExperimenter;
  }
  return PropKind::kUnknown;
}

OfpErr BadLen() { return OfpErr::kTableFeaturesBadLen; }

OfpResult<void> DecodeIds(ByteSpan data, std::vector<FeatureId>* out) {
  Reader r(data);
  while (r.remaining() > 0) {
    if (r.remaining() < 4) return Fail(BadLen(), "truncated instruction/action id");
    FeatureId id;
    id.type = r.U16();
    uint16_t len = r.U16();
    bool exp = id.type == kExperimenterId;
    if (len < (exp ? 8 : 4) || (!exp && len != 4) || len - 4u > r.remaining()) {
      return Fail(BadLen(),
                  "id of type " + std::to_string(id.type) + " length " + std::to_string(len));
    }
    ByteSpan rest = r.Take(len - 4u);
    id.data.assign(rest.begin(), rest.end());
    out->push_back(std::move(id));
  }
  return {};
}

OfpResult<void> DecodeOxmIds(ByteSpan data, std::vector<OxmId>* out) {
  Reader r(data);
  while (r.remaining() > 0) {
    if (r.remaining() < 4) return Fail(BadLen(), "truncated OXM id");
    OxmId id;
    id.header = r.U32();
    if (id.header >> 16 == kExperimenterId) {
      if (r.remaining() < 4) return Fail(BadLen(), "truncated experimenter OXM id");
      id.experimenter = r.U32();
    }
    out->push_back(id);
  }
  return {};
}

OfpResult<TableFeatureProp> DecodeProp(uint16_t type, ByteSpan payload) {
  TableFeatureProp p;
  p.type = static_cast<P>(type);
  switch (KindOf(type)) {
    case PropKind::kIds:
      if (auto ok = DecodeIds(payload, &p.ids); !ok) return std::unexpected(ok.error());
      return p;
    case PropKind::kTables:
      p.tables.assign(payload.begin(), payload.end());
      return p;
    case PropKind::kOxms:
      if (auto ok = DecodeOxmIds(payload, &p.oxms); !ok) return std::unexpected(ok.error());
      return p;
    case PropKind::kExperimenter: {
      if (payload.size() < 8) return Fail(BadLen(), "short experimenter property");
      Reader r(payload);
      p.experimenter = r.U32();
      p.exp_type = r.U32();
      ByteSpan rest = r.Rest();
      p.data.assign(rest.begin(), rest.end());
      return p;
    }
    case PropKind::kUnknown:
      break;
  }
  return Fail(OfpErr::kTableFeaturesBadType, "property type " + std::to_string(type));
}

void EncodeProp(const TableFeatureProp& p, Writer& w) {
  size_t start = w.size();
  w.U16(static_cast<uint16_t>(p.type));
  w.U16(0);
  switch (KindOf(static_cast<uint16_t>(p.type))) {
    case PropKind::kIds:
      for (const FeatureId& id : p.ids) {
        w.U16(id.type);
        w.U16(static_cast<uint16_t>(4 + id.data.size()));
        w.Append(id.data);
      }
      break;
    case PropKind::kTables:
      w.Append(p.tables);
      break;
    case PropKind::kOxms:
      for (const OxmId& id : p.oxms) {
        w.U32(id.header);
        if (id.header >> 16 == kExperimenterId) w.U32(id.experimenter);
      }
      break;
    case PropKind::kExperimenter:
      w.U32(p.experimenter);
      w.U32(p.exp_type);
      w.Append(p.data);
      break;
    case PropKind::kUnknown:
      break;
  }
  // The length excludes the padding that follows.
  w.PatchU16(start + 2, static_cast<uint16_t>(w.size() - start));
  w.PadTo8(start);
}

OfpResult<TableFeatures> DecodeOne(ByteSpan entry) {
  Reader r(entry);
  TableFeatures t;
  r.Skip(2);  // length, checked by the caller
  t.table_id = r.U8();
  r.Skip(5);
  t.name = ReadFixedString(r, kTableNameLen);
  t.metadata_match = r.U64();
  t.metadata_write = r.U64();
  t.config = r.U32();
  t.max_entries = r.U32();
  while (r.remaining() > 0) {
    if (r.remaining() < 4) return Fail(BadLen(), "truncated property header");
    uint16_t type = r.U16();
    uint16_t len = r.U16();
    if (len < 4 || len - 4u > r.remaining()) {
      return Fail(BadLen(), "property length " + std::to_string(len));
    }
    ByteSpan payload = r.Take(len - 4u);
    r.Skip(std::min(RoundUp8(len) - len, r.remaining()));
    OfpResult<TableFeatureProp> p = DecodeProp(type, payload);
    if (!p) return std::unexpected(std::move(p.error()));
    t.properties.push_back(std::move(*p));
  }
  return t;
}

}  // namespace

OfpResult<std::vector<TableFeatures>> DecodeTableFeatures(ByteSpan body) {
  std::vector<TableFeatures> out;
  Reader r(body);
  while (r.remaining() > 0) {
    if (r.remaining() < kTableFeaturesFixed) {
      return Fail(OfpErr::kBadRequestBadLen, "truncated table features");
    }
    Reader peek = r;
    uint16_t len = peek.U16();
    if (len < kTableFeaturesFixed || len > r.remaining() || len % 8 != 0) {
      return Fail(OfpErr::kBadRequestBadLen, "table features length " + std::to_string(len));
    }
    OfpResult<TableFeatures> t = DecodeOne(r.Take(len));
    if (!t) return std::unexpected(std::move(t.error()));
    out.push_back(std::move(*t));
  }
  return out;
}

void EncodeTableFeatures(const TableFeatures& t, Writer& w) {
  size_t start = w.size();
  w.U16(0);
  w.U8(t.table_id);
  w.Zeros(5);
  WriteFixedString(t.name, kTableNameLen, w);
  w.U64(t.metadata_match);
  w.U64(t.metadata_write);
  w.U32(t.config);
  w.U32(t.max_entries);
  for (const TableFeatureProp& p : t.properties) EncodeProp(p, w);
  w.PatchU16(start, static_cast<uint16_t>(w.size() - start));
}

}  // namespace internal
}  // namespace sluice::ofp
