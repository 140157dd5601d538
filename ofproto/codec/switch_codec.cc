// PORT_STATUS, PORT_MOD, TABLE_MOD, GROUP_MOD and METER_MOD bodies, and the ofp_port, bucket and
// meter band structures that multipart replies reuse.
#include <string>

#include "ofproto/codec/codec_internal.h"

namespace sluice::ofp::internal {
namespace {

constexpr size_t kPortNameLen = 16;
constexpr size_t kBucketFixed = 16;
constexpr size_t kBandLen = 16;
constexpr uint32_t kTableConfigMask = 3;  // OFPTC_DEPRECATED_MASK, the only 1.3 bits

OfpResult<void> ExpectLen(ByteSpan body, size_t want) {
  if (body.size() != want) {
    return Fail(OfpErr::kBadRequestBadLen, "body is " + std::to_string(body.size()) +
                                               " bytes, expected " + std::to_string(want));
  }
  return {};
}

}  // namespace

void DecodePortDesc(Reader& r, PortDesc* p) {
  p->port_no = r.U32();
  r.Skip(4);
  for (uint8_t& b : p->hw_addr) b = r.U8();
  r.Skip(2);
  p->name = ReadFixedString(r, kPortNameLen);
  p->config = r.U32();
  p->state = r.U32();
  p->curr = r.U32();
  p->advertised = r.U32();
  p->supported = r.U32();
  p->peer = r.U32();
  p->curr_speed = r.U32();
  p->max_speed = r.U32();
}

void EncodePortDesc(const PortDesc& p, Writer& w) {
  w.U32(p.port_no);
  w.Zeros(4);
  w.Append(p.hw_addr);
  w.Zeros(2);
  WriteFixedString(p.name, kPortNameLen, w);
  for (uint32_t v :
       {p.config, p.state, p.curr, p.advertised, p.supported, p.peer, p.curr_speed, p.max_speed}) {
    w.U32(v);
  }
}

OfpResult<std::vector<Bucket>> DecodeBuckets(ByteSpan data, OfpErr bad_len) {
  std::vector<Bucket> out;
  Reader r(data);
  while (r.remaining() > 0) {
    if (r.remaining() < kBucketFixed) return Fail(bad_len, "truncated bucket");
    uint16_t len = r.U16();
    if (len < kBucketFixed || len % 8 != 0 || len - 2u > r.remaining()) {
      return Fail(bad_len, "bucket length " + std::to_string(len));
    }
    Bucket b;
    b.weight = r.U16();
    b.watch_port = r.U32();
    b.watch_group = r.U32();
    r.Skip(4);
    OfpResult<ActionList> acts = DecodeActions(r.Take(len - kBucketFixed));
    if (!acts) return std::unexpected(std::move(acts.error()));
    b.actions = std::move(*acts);
    out.push_back(std::move(b));
  }
  return out;
}

void EncodeBuckets(const std::vector<Bucket>& buckets, Writer& w) {
  for (const Bucket& b : buckets) {
    size_t start = w.size();
    w.U16(0);
    w.U16(b.weight);
    w.U32(b.watch_port);
    w.U32(b.watch_group);
    w.Zeros(4);
    EncodeActions(b.actions, w);
    w.PatchU16(start, static_cast<uint16_t>(w.size() - start));
  }
}

OfpResult<std::vector<MeterBand>> DecodeBands(ByteSpan data) {
  std::vector<MeterBand> out;
  Reader r(data);
  while (r.remaining() > 0) {
    if (r.remaining() < kBandLen) return Fail(OfpErr::kBadRequestBadLen, "truncated band");
    uint16_t type = r.U16();
    uint16_t len = r.U16();
    MeterBand b;
    b.type = static_cast<MeterBandType>(type);
    b.rate = r.U32();
    b.burst_size = r.U32();
    switch (b.type) {
      case MeterBandType::kDrop:
        r.Skip(4);
        break;
      case MeterBandType::kDscpRemark:
        b.prec_level = r.U8();
        r.Skip(3);
        break;
      case MeterBandType::kExperimenter:
        b.experimenter = r.U32();
        break;
      default:
        return Fail(OfpErr::kMeterModBadBand, "band type " + std::to_string(type));
    }
    // Experimenter bands with a body past the id are not understood: refuse rather than drop.
    if (len != kBandLen) {
      return Fail(b.type == MeterBandType::kExperimenter ? OfpErr::kMeterModBadBand
                                                         : OfpErr::kBadRequestBadLen,
                  "band length " + std::to_string(len));
    }
    out.push_back(b);
  }
  return out;
}

void EncodeBands(const std::vector<MeterBand>& bands, Writer& w) {
  for (const MeterBand& b : bands) {
    w.U16(static_cast<uint16_t>(b.type));
    w.U16(kBandLen);
    w.U32(b.rate);
    w.U32(b.burst_size);
    if (b.type == MeterBandType::kExperimenter) {
      w.U32(b.experimenter);
    } else {
      w.U8(b.type == MeterBandType::kDscpRemark ? b.prec_level : 0);
      w.Zeros(3);
    }
  }
}

OfpResult<PortStatus> DecodePortStatus(ByteSpan body) {
  if (auto ok = ExpectLen(body, 8 + kPortDescLen); !ok) return std::unexpected(ok.error());
  Reader r(body);
  PortStatus s;
  s.reason = static_cast<PortReason>(r.U8());
  r.Skip(7);
  DecodePortDesc(r, &s.desc);
  return s;
}

void EncodeBody(const PortStatus& m, Writer& w) {
  w.U8(static_cast<uint8_t>(m.reason));
  w.Zeros(7);
  EncodePortDesc(m.desc, w);
}

OfpResult<PortMod> DecodePortMod(ByteSpan body) {
  if (auto ok = ExpectLen(body, 32); !ok) return std::unexpected(ok.error());
  Reader r(body);
  PortMod p;
  p.port_no = r.U32();
  r.Skip(4);
  for (uint8_t& b : p.hw_addr) b = r.U8();
  r.Skip(2);
  p.config = r.U32();
  p.mask = r.U32();
  p.advertise = r.U32();
  if (p.port_no == 0 || (p.port_no >= kPortMax && p.port_no != kPortLocal)) {
    return Fail(OfpErr::kPortModBadPort, "port " + std::to_string(p.port_no));
  }
  return p;
}

void EncodeBody(const PortMod& m, Writer& w) {
  w.U32(m.port_no);
  w.Zeros(4);
  w.Append(m.hw_addr);
  w.Zeros(2);
  w.U32(m.config);
  w.U32(m.mask);
  w.U32(m.advertise);
  w.Zeros(4);
}

OfpResult<TableMod> DecodeTableMod(ByteSpan body) {
  if (auto ok = ExpectLen(body, 8); !ok) return std::unexpected(ok.error());
  Reader r(body);
  TableMod t;
  t.table_id = r.U8();
  r.Skip(3);
  t.config = r.U32();
  if (t.config & ~kTableConfigMask) {
    return Fail(OfpErr::kTableModBadConfig, "config " + std::to_string(t.config));
  }
  return t;
}

void EncodeBody(const TableMod& m, Writer& w) {
  w.U8(m.table_id);
  w.Zeros(3);
  w.U32(m.config);
}

OfpResult<GroupMod> DecodeGroupMod(ByteSpan body) {
  if (body.size() < 8) return Fail(OfpErr::kBadRequestBadLen, "short group_mod");
  Reader r(body);
  GroupMod g;
  uint16_t command = r.U16();
  uint8_t type = r.U8();
  r.Skip(1);
  g.group_id = r.U32();
  if (command > static_cast<uint16_t>(GroupModCommand::kDelete)) {
    return Fail(OfpErr::kGroupModBadCommand, "command " + std::to_string(command));
  }
  g.command = static_cast<GroupModCommand>(command);
  if (type > static_cast<uint8_t>(GroupType::kFastFailover)) {
    return Fail(OfpErr::kGroupModBadType, "type " + std::to_string(type));
  }
  g.type = static_cast<GroupType>(type);
  bool delete_all = g.command == GroupModCommand::kDelete && g.group_id == kGroupAll;
  if (g.group_id > kGroupMax && !delete_all) {
    return Fail(OfpErr::kGroupModInvalidGroup, "group " + std::to_string(g.group_id));
  }
  OfpResult<std::vector<Bucket>> b = DecodeBuckets(r.Rest(), OfpErr::kGroupModBadBucket);
  if (!b) return std::unexpected(std::move(b.error()));
  g.buckets = std::move(*b);
  return g;
}

void EncodeBody(const GroupMod& m, Writer& w) {
  w.U16(static_cast<uint16_t>(m.command));
  w.U8(static_cast<uint8_t>(m.type));
  w.Zeros(1);
  w.U32(m.group_id);
  EncodeBuckets(m.buckets, w);
}

OfpResult<MeterMod> DecodeMeterMod(ByteSpan body) {
  if (body.size() < 8) return Fail(OfpErr::kBadRequestBadLen, "short meter_mod");
  Reader r(body);
  MeterMod m;
  uint16_t command = r.U16();
  m.flags = r.U16();
  m.meter_id = r.U32();
  if (command > static_cast<uint16_t>(MeterModCommand::kDelete)) {
    return Fail(OfpErr::kMeterModBadCommand, "command " + std::to_string(command));
  }
  m.command = static_cast<MeterModCommand>(command);
  if (m.flags & ~kMeterAllFlags) {
    return Fail(OfpErr::kMeterModBadFlags, "flags " + std::to_string(m.flags));
  }
  bool virtual_meter = m.meter_id == kMeterSlowpath || m.meter_id == kMeterController ||
                       (m.meter_id == kMeterAll && m.command == MeterModCommand::kDelete);
  if (m.meter_id == 0 || (m.meter_id > kMeterMax && !virtual_meter)) {
    return Fail(OfpErr::kMeterModInvalidMeter, "meter " + std::to_string(m.meter_id));
  }
  OfpResult<std::vector<MeterBand>> bands = DecodeBands(r.Rest());
  if (!bands) return std::unexpected(std::move(bands.error()));
  m.bands = std::move(*bands);
  return m;
}

void EncodeBody(const MeterMod& m, Writer& w) {
  w.U16(static_cast<uint16_t>(m.command));
  w.U16(m.flags);
  w.U32(m.meter_id);
  EncodeBands(m.bands, w);
}

}  // namespace sluice::ofp::internal
