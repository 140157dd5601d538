// MULTIPART_REQUEST / MULTIPART_REPLY bodies and SplitMultipartReply().
#include <string>
#include <type_traits>

#include "ofproto/codec/codec_internal.h"

namespace sluice::ofp {
namespace internal {
namespace {

constexpr size_t kMultipartHeader = 8;  // type, flags, pad after the OpenFlow header
constexpr size_t kFlowFilterFixed = 32;
constexpr size_t kFlowStatsFixed = 48;
constexpr size_t kTableStatsLen = 24;
constexpr size_t kPortStatsLen = 112;
constexpr size_t kQueueStatsLen = 40;
constexpr size_t kGroupStatsFixed = 40;
constexpr size_t kGroupDescFixed = 8;
constexpr size_t kMeterStatsFixed = 40;
constexpr size_t kMeterConfigFixed = 8;
constexpr size_t kCounterLen = 16;

// Multipart type of each alternative, in variant order (the same for requests and replies).
constexpr MultipartType kTypes[] = {
    MultipartType::kDesc,          MultipartType::kFlow,         MultipartType::kAggregate,
    MultipartType::kTable,         MultipartType::kPortStats,    MultipartType::kPortDesc,
    MultipartType::kQueue,         MultipartType::kGroup,        MultipartType::kGroupDesc,
    MultipartType::kGroupFeatures, MultipartType::kMeter,        MultipartType::kMeterConfig,
    MultipartType::kMeterFeatures, MultipartType::kTableFeatures};
static_assert(std::size(kTypes) == std::variant_size_v<MultipartRequestBody>);
static_assert(std::size(kTypes) == std::variant_size_v<MultipartReplyBody>);

OfpErr BadLen() { return OfpErr::kBadRequestBadLen; }

OfpResult<void> ExpectLen(ByteSpan body, size_t want) {
  if (body.size() != want) return Fail(BadLen(), "multipart body length");
  return {};
}

// Finds the variant alternative for a wire type; BAD_MULTIPART (or BAD_EXPERIMENTER) if none.
OfpResult<size_t> IndexOf(uint16_t type) {
  for (size_t i = 0; i < std::size(kTypes); ++i) {
    if (static_cast<uint16_t>(kTypes[i]) == type) return i;
  }
  if (type == static_cast<uint16_t>(MultipartType::kExperimenter)) {
    return Fail(OfpErr::kBadRequestBadExperimenter, "experimenter multipart");
  }
  return Fail(OfpErr::kBadRequestBadMultipart, "multipart type " + std::to_string(type));
}

OfpResult<FlowStatsFilter> DecodeFilter(ByteSpan body) {
  if (body.size() < kFlowFilterFixed + 4) return Fail(BadLen(), "short flow stats request");
  Reader r(body);
  FlowStatsFilter f;
  f.table_id = r.U8();
  r.Skip(3);
  f.out_port = r.U32();
  f.out_group = r.U32();
  r.Skip(4);
  f.cookie = r.U64();
  f.cookie_mask = r.U64();
  size_t match_len = 0;
  OfpResult<Match> m = DecodeMatch(body.subspan(kFlowFilterFixed), &match_len);
  if (!m) return std::unexpected(std::move(m.error()));
  if (kFlowFilterFixed + match_len != body.size()) return Fail(BadLen(), "bytes after match");
  f.match = std::move(*m);
  return f;
}

void EncodeFilter(const FlowStatsFilter& f, Writer& w) {
  w.U8(f.table_id);
  w.Zeros(3);
  w.U32(f.out_port);
  w.U32(f.out_group);
  w.Zeros(4);
  w.U64(f.cookie);
  w.U64(f.cookie_mask);
  EncodeMatch(f.match, w);
}

OfpResult<uint32_t> DecodeId8(ByteSpan body) {  // a 32-bit id and 4 bytes of pad
  if (auto ok = ExpectLen(body, 8); !ok) return std::unexpected(ok.error());
  return Reader(body).U32();
}

// ---- Reply entries: Decode(Reader&, T*) reads one entry (the reader holds at least the
// remaining reply), Encode(const T&, Writer&) writes one.

// Reads an entry's 16-bit length at `r`'s position without consuming it and checks it.
OfpResult<ByteSpan> TakeEntry(Reader& r, size_t fixed, size_t len_offset) {
  if (r.remaining() < fixed) return Fail(BadLen(), "truncated multipart entry");
  Reader peek = r;
  peek.Skip(len_offset);
  uint16_t len = peek.U16();
  if (len < fixed || len > r.remaining() || len % 8 != 0) {
    return Fail(BadLen(), "multipart entry length " + std::to_string(len));
  }
  return r.Take(len);
}

OfpResult<void> Decode(Reader& r, FlowStats* s) {
  OfpResult<ByteSpan> e = TakeEntry(r, kFlowStatsFixed + 8, 0);
  if (!e) return std::unexpected(std::move(e.error()));
  Reader er(*e);
  er.Skip(2);
  s->table_id = er.U8();
  er.Skip(1);
  s->duration_sec = er.U32();
  s->duration_nsec = er.U32();
  s->priority = er.U16();
  s->idle_timeout = er.U16();
  s->hard_timeout = er.U16();
  s->flags = er.U16();
  er.Skip(4);
  s->cookie = er.U64();
  s->packet_count = er.U64();
  s->byte_count = er.U64();
  size_t match_len = 0;
  OfpResult<Match> m = DecodeMatch(e->subspan(kFlowStatsFixed), &match_len);
  if (!m) return std::unexpected(std::move(m.error()));
  s->match = std::move(*m);
  OfpResult<InstructionList> insts =
      DecodeInstructions(e->subspan(kFlowStatsFixed + match_len), s->table_id);
  if (!insts) return std::unexpected(std::move(insts.error()));
  s->instructions = std::move(*insts);
  return {};
}

void Encode(const FlowStats& s, Writer& w) {
  size_t start = w.size();
  w.U16(0);
  w.U8(s.table_id);
  w.Zeros(1);
  w.U32(s.duration_sec);
  w.U32(s.duration_nsec);
  w.U16(s.priority);
  w.U16(s.idle_timeout);
  w.U16(s.hard_timeout);
  w.U16(s.flags);
  w.Zeros(4);
  w.U64(s.cookie);
  w.U64(s.packet_count);
  w.U64(s.byte_count);
  EncodeMatch(s.match, w);
  EncodeInstructions(s.instructions, w);
  w.PatchU16(start, static_cast<uint16_t>(w.size() - start));
}

OfpResult<void> Decode(Reader& r, TableStats* s) {
  if (r.remaining() < kTableStatsLen) return Fail(BadLen(), "truncated table stats");
  s->table_id = r.U8();
  r.Skip(3);
  s->active_count = r.U32();
  s->lookup_count = r.U64();
  s->matched_count = r.U64();
  return {};
}

void Encode(const TableStats& s, Writer& w) {
  w.U8(s.table_id);
  w.Zeros(3);
  w.U32(s.active_count);
  w.U64(s.lookup_count);
  w.U64(s.matched_count);
}

OfpResult<void> Decode(Reader& r, PortStats* s) {
  if (r.remaining() < kPortStatsLen) return Fail(BadLen(), "truncated port stats");
  s->port_no = r.U32();
  r.Skip(4);
  ForEachPortCounter([&r](uint64_t& c) { c = r.U64(); }, *s);
  s->duration_sec = r.U32();
  s->duration_nsec = r.U32();
  return {};
}

void Encode(const PortStats& s, Writer& w) {
  w.U32(s.port_no);
  w.Zeros(4);
  ForEachPortCounter([&w](uint64_t c) { w.U64(c); }, s);
  w.U32(s.duration_sec);
  w.U32(s.duration_nsec);
}

OfpResult<void> Decode(Reader& r, PortDesc* p) {
  if (r.remaining() < kPortDescLen) return Fail(BadLen(), "truncated port description");
  DecodePortDesc(r, p);
  return {};
}

void Encode(const PortDesc& p, Writer& w) { EncodePortDesc(p, w); }

OfpResult<void> Decode(Reader& r, QueueStats* s) {
  if (r.remaining() < kQueueStatsLen) return Fail(BadLen(), "truncated queue stats");
  s->port_no = r.U32();
  s->queue_id = r.U32();
  s->tx_bytes = r.U64();
  s->tx_packets = r.U64();
  s->tx_errors = r.U64();
  s->duration_sec = r.U32();
  s->duration_nsec = r.U32();
  return {};
}

void Encode(const QueueStats& s, Writer& w) {
  w.U32(s.port_no);
  w.U32(s.queue_id);
  w.U64(s.tx_bytes);
  w.U64(s.tx_packets);
  w.U64(s.tx_errors);
  w.U32(s.duration_sec);
  w.U32(s.duration_nsec);
}

std::vector<BucketCounter> DecodeCounters(Reader& r) {
  std::vector<BucketCounter> out;
  while (r.remaining() >= kCounterLen) {
    BucketCounter c;
    c.packet_count = r.U64();
    c.byte_count = r.U64();
    out.push_back(c);
  }
  return out;
}

void EncodeCounters(const std::vector<BucketCounter>& cs, Writer& w) {
  for (const BucketCounter& c : cs) {
    w.U64(c.packet_count);
    w.U64(c.byte_count);
  }
}

OfpResult<void> Decode(Reader& r, GroupStats* s) {
  OfpResult<ByteSpan> e = TakeEntry(r, kGroupStatsFixed, 0);
  if (!e) return std::unexpected(std::move(e.error()));
  if ((e->size() - kGroupStatsFixed) % kCounterLen != 0) return Fail(BadLen(), "group stats");
  Reader er(*e);
  er.Skip(4);
  s->group_id = er.U32();
  s->ref_count = er.U32();
  er.Skip(4);
  s->packet_count = er.U64();
  s->byte_count = er.U64();
  s->duration_sec = er.U32();
  s->duration_nsec = er.U32();
  s->buckets = DecodeCounters(er);
  return {};
}

void Encode(const GroupStats& s, Writer& w) {
  size_t start = w.size();
  w.U16(0);
  w.Zeros(2);
  w.U32(s.group_id);
  w.U32(s.ref_count);
  w.Zeros(4);
  w.U64(s.packet_count);
  w.U64(s.byte_count);
  w.U32(s.duration_sec);
  w.U32(s.duration_nsec);
  EncodeCounters(s.buckets, w);
  w.PatchU16(start, static_cast<uint16_t>(w.size() - start));
}

OfpResult<void> Decode(Reader& r, GroupDesc* d) {
  OfpResult<ByteSpan> e = TakeEntry(r, kGroupDescFixed, 0);
  if (!e) return std::unexpected(std::move(e.error()));
  Reader er(*e);
  er.Skip(2);
  d->type = er.U8();
  er.Skip(1);
  d->group_id = er.U32();
  OfpResult<std::vector<Bucket>> b = DecodeBuckets(er.Rest(), BadLen());
  if (!b) return std::unexpected(std::move(b.error()));
  d->buckets = std::move(*b);
  return {};
}

void Encode(const GroupDesc& d, Writer& w) {
  size_t start = w.size();
  w.U16(0);
  w.U8(d.type);
  w.Zeros(1);
  w.U32(d.group_id);
  EncodeBuckets(d.buckets, w);
  w.PatchU16(start, static_cast<uint16_t>(w.size() - start));
}

OfpResult<void> Decode(Reader& r, MeterStats* s) {
  OfpResult<ByteSpan> e = TakeEntry(r, kMeterStatsFixed, 4);
  if (!e) return std::unexpected(std::move(e.error()));
  if ((e->size() - kMeterStatsFixed) % kCounterLen != 0) return Fail(BadLen(), "meter stats");
  Reader er(*e);
  s->meter_id = er.U32();
  er.Skip(8);
  s->flow_count = er.U32();
  s->packet_in_count = er.U64();
  s->byte_in_count = er.U64();
  s->duration_sec = er.U32();
  s->duration_nsec = er.U32();
  s->bands = DecodeCounters(er);
  return {};
}

void Encode(const MeterStats& s, Writer& w) {
  size_t start = w.size();
  w.U32(s.meter_id);
  w.U16(0);
  w.Zeros(6);
  w.U32(s.flow_count);
  w.U64(s.packet_in_count);
  w.U64(s.byte_in_count);
  w.U32(s.duration_sec);
  w.U32(s.duration_nsec);
  EncodeCounters(s.bands, w);
  w.PatchU16(start + 4, static_cast<uint16_t>(w.size() - start));
}

OfpResult<void> Decode(Reader& r, MeterConfig* c) {
  OfpResult<ByteSpan> e = TakeEntry(r, kMeterConfigFixed, 0);
  if (!e) return std::unexpected(std::move(e.error()));
  Reader er(*e);
  er.Skip(2);
  c->flags = er.U16();
  c->meter_id = er.U32();
  OfpResult<std::vector<MeterBand>> b = DecodeBands(er.Rest());
  if (!b) return std::unexpected(std::move(b.error()));
  c->bands = std::move(*b);
  return {};
}

void Encode(const MeterConfig& c, Writer& w) {
  size_t start = w.size();
  w.U16(0);
  w.U16(c.flags);
  w.U32(c.meter_id);
  EncodeBands(c.bands, w);
  w.PatchU16(start, static_cast<uint16_t>(w.size() - start));
}

void Encode(const TableFeatures& t, Writer& w) { EncodeTableFeatures(t, w); }

template <class Reply>
OfpResult<Reply> DecodeEntries(ByteSpan body) {
  Reply reply;
  Reader r(body);
  while (r.remaining() > 0) {
    typename decltype(reply.entries)::value_type entry;
    if (OfpResult<void> ok = Decode(r, &entry); !ok) return std::unexpected(ok.error());
    reply.entries.push_back(std::move(entry));
  }
  return reply;
}

template <class T>
OfpResult<MultipartReplyBody> Lift(OfpResult<T>&& r) {
  if (!r) return std::unexpected(std::move(r.error()));
  return MultipartReplyBody(std::move(*r));
}

OfpResult<MultipartReplyBody> DecodeReplyBody(size_t index, ByteSpan body) {
  Reader r(body);
  switch (kTypes[index]) {
    case MultipartType::kDesc:
      return Lift(DecodeDesc(body));
    case MultipartType::kFlow:
      return Lift(DecodeEntries<FlowStatsReply>(body));
    case MultipartType::kAggregate:
      return Lift(DecodeAggregate(body));
    case MultipartType::kTable:
      return Lift(DecodeEntries<TableStatsReply>(body));
    case MultipartType::kPortStats:
      return Lift(DecodeEntries<PortStatsReply>(body));
    case MultipartType::kPortDesc:
      return Lift(DecodeEntries<PortDescReply>(body));
    case MultipartType::kQueue:
      return Lift(DecodeEntries<QueueStatsReply>(body));
    case MultipartType::kGroup:
      return Lift(DecodeEntries<GroupStatsReply>(body));
    case MultipartType::kGroupDesc:
      return Lift(DecodeEntries<GroupDescReply>(body));
    case MultipartType::kGroupFeatures: {
      if (auto ok = ExpectLen(body, 40); !ok) return std::unexpected(ok.error());
      GroupFeaturesReply g;
      g.types = r.U32();
      g.capabilities = r.U32();
      for (uint32_t& v : g.max_groups) v = r.U32();
      for (uint32_t& v : g.actions) v = r.U32();
      return g;
    }
    case MultipartType::kMeter:
      return Lift(DecodeEntries<MeterStatsReply>(body));
    case MultipartType::kMeterConfig:
      return Lift(DecodeEntries<MeterConfigReply>(body));
    case MultipartType::kMeterFeatures: {
      if (auto ok = ExpectLen(body, 16); !ok) return std::unexpected(ok.error());
      MeterFeaturesReply f;
      f.max_meter = r.U32();
      f.band_types = r.U32();
      f.capabilities = r.U32();
      f.max_bands = r.U8();
      f.max_color = r.U8();
      return f;
    }
    case MultipartType::kTableFeatures: {
      auto t = DecodeTableFeatures(body);
      if (!t) return std::unexpected(std::move(t.error()));
      return TableFeaturesReply{std::move(*t)};
    }
    default:
      break;
  }
  return Fail(OfpErr::kBadRequestBadMultipart, "multipart reply type");
}

void EncodeReplyBody(const MultipartReplyBody& body, Writer& w) {
  std::visit(
      [&w](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, DescReply>) {
          EncodeDesc(b, w);
        } else if constexpr (std::is_same_v<T, AggregateReply>) {
          EncodeAggregate(b, w);
        } else if constexpr (std::is_same_v<T, GroupFeaturesReply>) {
          w.U32(b.types);
          w.U32(b.capabilities);
          for (uint32_t v : b.max_groups) w.U32(v);
          for (uint32_t v : b.actions) w.U32(v);
        } else if constexpr (std::is_same_v<T, MeterFeaturesReply>) {
          w.U32(b.max_meter);
          w.U32(b.band_types);
          w.U32(b.capabilities);
          w.U8(b.max_bands);
          w.U8(b.max_color);
          w.Zeros(2);
        } else {
          for (const auto& e : b.entries) Encode(e, w);
        }
      },
      body);
}

template <class T>
OfpResult<MultipartRequestBody> LiftReq(OfpResult<T>&& r) {
  if (!r) return std::unexpected(std::move(r.error()));
  return MultipartRequestBody(std::move(*r));
}

template <class T>
OfpResult<MultipartRequestBody> Empty(ByteSpan body) {
  if (auto ok = ExpectLen(body, 0); !ok) return std::unexpected(ok.error());
  return T{};
}

OfpResult<MultipartRequestBody> DecodeRequestBody(size_t index, ByteSpan body) {
  switch (kTypes[index]) {
    case MultipartType::kDesc:
      return Empty<DescRequest>(body);
    case MultipartType::kFlow:
    case MultipartType::kAggregate: {
      OfpResult<FlowStatsFilter> f = DecodeFilter(body);
      if (!f) return std::unexpected(std::move(f.error()));
      if (kTypes[index] == MultipartType::kFlow) return FlowStatsRequest{std::move(*f)};
      return AggregateRequest{std::move(*f)};
    }
    case MultipartType::kTable:
      return Empty<TableStatsRequest>(body);
    case MultipartType::kPortStats: {
      OfpResult<uint32_t> id = DecodeId8(body);
      if (!id) return std::unexpected(std::move(id.error()));
      return PortStatsRequest{*id};
    }
    case MultipartType::kPortDesc:
      return Empty<PortDescRequest>(body);
    case MultipartType::kQueue: {
      if (auto ok = ExpectLen(body, 8); !ok) return std::unexpected(ok.error());
      Reader r(body);
      QueueStatsRequest q;
      q.port_no = r.U32();
      q.queue_id = r.U32();
      return q;
    }
    case MultipartType::kGroup: {
      OfpResult<uint32_t> id = DecodeId8(body);
      if (!id) return std::unexpected(std::move(id.error()));
      return GroupStatsRequest{*id};
    }
    case MultipartType::kGroupDesc:
      return Empty<GroupDescRequest>(body);
    case MultipartType::kGroupFeatures:
      return Empty<GroupFeaturesRequest>(body);
    case MultipartType::kMeter:
    case MultipartType::kMeterConfig: {
      OfpResult<uint32_t> id = DecodeId8(body);
      if (!id) return std::unexpected(std::move(id.error()));
      if (kTypes[index] == MultipartType::kMeter) return MeterStatsRequest{*id};
      return MeterConfigRequest{*id};
    }
    case MultipartType::kMeterFeatures:
      return Empty<MeterFeaturesRequest>(body);
    case MultipartType::kTableFeatures: {
      auto t = DecodeTableFeatures(body);
      if (!t) return std::unexpected(std::move(t.error()));
      return TableFeaturesRequest{std::move(*t)};
    }
    default:
      break;
  }
  return Fail(OfpErr::kBadRequestBadMultipart, "multipart request type");
}

void EncodeRequestBody(const MultipartRequestBody& body, Writer& w) {
  std::visit(
      [&w](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_base_of_v<FlowStatsFilter, T>) {
          EncodeFilter(b, w);
        } else if constexpr (std::is_same_v<T, PortStatsRequest>) {
          w.U32(b.port_no);
          w.Zeros(4);
        } else if constexpr (std::is_same_v<T, QueueStatsRequest>) {
          w.U32(b.port_no);
          w.U32(b.queue_id);
        } else if constexpr (std::is_same_v<T, GroupStatsRequest>) {
          w.U32(b.group_id);
          w.Zeros(4);
        } else if constexpr (std::is_same_v<T, MeterStatsRequest> ||
                             std::is_same_v<T, MeterConfigRequest>) {
          w.U32(b.meter_id);
          w.Zeros(4);
        } else if constexpr (std::is_same_v<T, TableFeaturesRequest>) {
          for (const TableFeatures& t : b.entries) EncodeTableFeatures(t, w);
        }
      },
      body);
}

struct MpHeader {
  size_t index;
  uint16_t flags;
};

OfpResult<MpHeader> DecodeMpHeader(ByteSpan body) {
  if (body.size() < kMultipartHeader) return Fail(BadLen(), "short multipart header");
  Reader r(body);
  uint16_t type = r.U16();
  uint16_t flags = r.U16();
  OfpResult<size_t> index = IndexOf(type);
  if (!index) return std::unexpected(std::move(index.error()));
  return MpHeader{*index, flags};
}

void EncodeMpHeader(size_t index, uint16_t flags, Writer& w) {
  w.U16(static_cast<uint16_t>(kTypes[index]));
  w.U16(flags);
  w.Zeros(4);
}

}  // namespace

OfpResult<DescReply> DecodeDesc(ByteSpan body) {
  if (auto ok = ExpectLen(body, 1056); !ok) return std::unexpected(ok.error());
  Reader r(body);
  DescReply d;
  d.mfr_desc = ReadFixedString(r, 256);
  d.hw_desc = ReadFixedString(r, 256);
  d.sw_desc = ReadFixedString(r, 256);
  d.serial_num = ReadFixedString(r, 32);
  d.dp_desc = ReadFixedString(r, 256);
  return d;
}

void EncodeDesc(const DescReply& d, Writer& w) {
  WriteFixedString(d.mfr_desc, 256, w);
  WriteFixedString(d.hw_desc, 256, w);
  WriteFixedString(d.sw_desc, 256, w);
  WriteFixedString(d.serial_num, 32, w);
  WriteFixedString(d.dp_desc, 256, w);
}

OfpResult<AggregateReply> DecodeAggregate(ByteSpan body) {
  if (auto ok = ExpectLen(body, 24); !ok) return std::unexpected(ok.error());
  Reader r(body);
  AggregateReply a;
  a.packet_count = r.U64();
  a.byte_count = r.U64();
  a.flow_count = r.U32();
  return a;
}

void EncodeAggregate(const AggregateReply& a, Writer& w) {
  w.U64(a.packet_count);
  w.U64(a.byte_count);
  w.U32(a.flow_count);
  w.Zeros(4);
}

OfpResult<MultipartRequest> DecodeMultipartRequest(ByteSpan body) {
  OfpResult<MpHeader> h = DecodeMpHeader(body);
  if (!h) return std::unexpected(std::move(h.error()));
  OfpResult<MultipartRequestBody> b = DecodeRequestBody(h->index, body.subspan(kMultipartHeader));
  if (!b) return std::unexpected(std::move(b.error()));
  return MultipartRequest{h->flags, std::move(*b)};
}

OfpResult<MultipartReply> DecodeMultipartReply(ByteSpan body) {
  OfpResult<MpHeader> h = DecodeMpHeader(body);
  if (!h) return std::unexpected(std::move(h.error()));
  OfpResult<MultipartReplyBody> b = DecodeReplyBody(h->index, body.subspan(kMultipartHeader));
  if (!b) return std::unexpected(std::move(b.error()));
  return MultipartReply{h->flags, std::move(*b)};
}

void EncodeBody(const MultipartRequest& m, Writer& w) {
  EncodeMpHeader(m.body.index(), m.flags, w);
  EncodeRequestBody(m.body, w);
}

void EncodeBody(const MultipartReply& m, Writer& w) {
  EncodeMpHeader(m.body.index(), m.flags, w);
  EncodeReplyBody(m.body, w);
}

}  // namespace internal

Result<std::vector<Message>> SplitMultipartReply(uint32_t xid, const MultipartReply& reply,
                                                 uint8_t version) {
  std::vector<Message> out;
  auto emit = [&](MultipartReplyBody body) {
    out.push_back(Message{version, xid, MultipartReply{kMultipartMore, std::move(body)}});
  };
  // Sizes are measured in the target version (an entry's 1.0 form may be larger or smaller
  // than its 1.3 form): the reply with no entries, then each entry on its own.
  auto encoded_size = [&](MultipartReplyBody body) -> Result<size_t> {
    Result<Bytes> b = EncodeMessage(Message{version, xid, MultipartReply{0, std::move(body)}});
    if (!b) return std::unexpected(b.error());
    return b->size();
  };
  Result<void> status;
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (requires { b.entries; }) {
          Result<size_t> empty = encoded_size(T{});
          if (!empty) {
            status = std::unexpected(empty.error());
            return;
          }
          const size_t room = kMaxMessageLen - *empty;
          T chunk;
          size_t used = 0;
          for (const auto& e : b.entries) {
            T one;
            one.entries.push_back(e);
            Result<size_t> size = encoded_size(std::move(one));
            if (!size) {
              status = std::unexpected(size.error());
              return;
            }
            size_t len = *size - *empty;
            if (used + len > room) {
              emit(std::move(chunk));
              chunk = T{};
              used = 0;
            }
            chunk.entries.push_back(e);
            used += len;
          }
          emit(std::move(chunk));
        } else {
          emit(b);
        }
      },
      reply.body);
  if (!status) return std::unexpected(status.error());
  std::get<MultipartReply>(out.back().body).flags = 0;
  return out;
}

}  // namespace sluice::ofp
