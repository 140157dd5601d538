// OpenFlow 1.0 stats request/reply bodies (desc, flow, aggregate, table, port, queue) <-> the
// 1.3 multipart messages.
#include <type_traits>

#include "ofproto/codec/of10_internal.h"

namespace sluice::ofp {
namespace internal::of10 {
namespace {

enum class Stats10 : uint16_t {
  kDesc = 0,
  kFlow = 1,
  kAggregate = 2,
  kTable = 3,
  kPort = 4,
  kQueue = 5,
  kVendor = 0xffff
};

constexpr size_t kFlowStats10Fixed = 88;
constexpr size_t kTableStats10Len = 64;
constexpr size_t kPortStats10Len = 104;
constexpr size_t kQueueStats10Len = 32;

OfpResult<FlowStatsFilter> DecodeFilter10(ByteSpan body) {
  if (auto ok = ExpectLen(body, kMatch10Len + 4); !ok) return std::unexpected(ok.error());
  Reader r(body);
  FlowStatsFilter f;
  f.match = DecodeMatch10(r);
  f.table_id = r.U8();
  r.Skip(1);
  f.out_port = PortFrom10(r.U16());
  return f;
}

OfpResult<MultipartRequestBody> DecodeStatsRequestBody(uint16_t type, ByteSpan body) {
  auto empty = [&body](auto v) -> OfpResult<MultipartRequestBody> {
    if (auto ok = ExpectLen(body, 0); !ok) return std::unexpected(ok.error());
    return v;
  };
  switch (static_cast<Stats10>(type)) {
    case Stats10::kDesc:
      return empty(DescRequest{});
    case Stats10::kTable:
      return empty(TableStatsRequest{});
    case Stats10::kFlow:
    case Stats10::kAggregate: {
      OfpResult<FlowStatsFilter> f = DecodeFilter10(body);
      if (!f) return std::unexpected(std::move(f.error()));
      if (static_cast<Stats10>(type) == Stats10::kFlow) return FlowStatsRequest{std::move(*f)};
      return AggregateRequest{std::move(*f)};
    }
    case Stats10::kPort: {
      if (auto ok = ExpectLen(body, 8); !ok) return std::unexpected(ok.error());
      return PortStatsRequest{PortFrom10(Reader(body).U16())};
    }
    case Stats10::kQueue: {
      if (auto ok = ExpectLen(body, 8); !ok) return std::unexpected(ok.error());
      Reader r(body);
      uint16_t port = r.U16();
      r.Skip(2);
      QueueStatsRequest q;
      q.port_no = port == kPort10All ? kPortAny : PortFrom10(port);
      q.queue_id = r.U32();
      return q;
    }
    case Stats10::kVendor:
      return Fail(OfpErr::kBadRequestBadExperimenter, "vendor stats");
  }
  return Fail(OfpErr::kBadRequestBadMultipart, "stats type " + std::to_string(type));
}

// Reads the entries of a variable-length stats reply; `fixed` is the smallest entry.
template <class Entry, class Fn>
OfpResult<std::vector<Entry>> FixedEntries(ByteSpan body, size_t len, Fn read) {
  if (body.size() % len != 0) return Fail(BadLen(), "stats entry length");
  std::vector<Entry> out;
  Reader r(body);
  while (r.remaining() > 0) {
    Entry e;
    read(r, e);
    out.push_back(std::move(e));
  }
  return out;
}

OfpResult<FlowStatsReply> DecodeFlowStats10(ByteSpan body) {
  FlowStatsReply reply;
  Reader r(body);
  while (r.remaining() > 0) {
    if (r.remaining() < kFlowStats10Fixed) return Fail(BadLen(), "truncated flow stats");
    Reader peek = r;
    uint16_t len = peek.U16();
    if (len < kFlowStats10Fixed || len > r.remaining() || len % 8 != 0) {
      return Fail(BadLen(), "flow stats length " + std::to_string(len));
    }
    Reader e(r.Take(len));
    FlowStats s;
    e.Skip(2);
    s.table_id = e.U8();
    e.Skip(1);
    s.match = DecodeMatch10(e);
    s.duration_sec = e.U32();
    s.duration_nsec = e.U32();
    s.priority = e.U16();
    s.idle_timeout = e.U16();
    s.hard_timeout = e.U16();
    e.Skip(6);
    s.cookie = e.U64();
    s.packet_count = e.U64();
    s.byte_count = e.U64();
    OfpResult<ActionList> acts = DecodeActions10(e.Rest(), &s.match);
    if (!acts) return std::unexpected(std::move(acts.error()));
    s.instructions = InstructionsOf(std::move(*acts));
    reply.entries.push_back(std::move(s));
  }
  return reply;
}

OfpResult<MultipartReplyBody> DecodeStatsReplyBody(uint16_t type, ByteSpan body) {
  Reader r(body);
  switch (static_cast<Stats10>(type)) {
    case Stats10::kDesc: {
      auto d = DecodeDesc(body);
      if (!d) return std::unexpected(std::move(d.error()));
      return std::move(*d);
    }
    case Stats10::kFlow: {
      auto f = DecodeFlowStats10(body);
      if (!f) return std::unexpected(std::move(f.error()));
      return std::move(*f);
    }
    case Stats10::kAggregate: {
      auto a = DecodeAggregate(body);
      if (!a) return std::unexpected(std::move(a.error()));
      return *a;
    }
    case Stats10::kTable: {
      auto t = FixedEntries<TableStats>(body, kTableStats10Len, [](Reader& er, TableStats& s) {
        s.table_id = er.U8();
        er.Skip(3 + 32 + 4 + 4);  // pad, name, wildcards, max_entries
        s.active_count = er.U32();
        s.lookup_count = er.U64();
        s.matched_count = er.U64();
      });
      if (!t) return std::unexpected(std::move(t.error()));
      return TableStatsReply{std::move(*t)};
    }
    case Stats10::kPort: {
      auto p = FixedEntries<PortStats>(body, kPortStats10Len, [](Reader& er, PortStats& s) {
        s.port_no = PortFrom10(er.U16());
        er.Skip(6);
        ForEachPortCounter([&er](uint64_t& c) { c = er.U64(); }, s);
      });
      if (!p) return std::unexpected(std::move(p.error()));
      return PortStatsReply{std::move(*p)};
    }
    case Stats10::kQueue: {
      auto q = FixedEntries<QueueStats>(body, kQueueStats10Len, [](Reader& er, QueueStats& s) {
        s.port_no = PortFrom10(er.U16());
        er.Skip(2);
        s.queue_id = er.U32();
        s.tx_bytes = er.U64();
        s.tx_packets = er.U64();
        s.tx_errors = er.U64();
      });
      if (!q) return std::unexpected(std::move(q.error()));
      return QueueStatsReply{std::move(*q)};
    }
    case Stats10::kVendor:
      return Fail(OfpErr::kBadRequestBadExperimenter, "vendor stats");
  }
  return Fail(OfpErr::kBadRequestBadMultipart, "stats type " + std::to_string(type));
}

template <class M, class BodyT>
OfpResult<M> DecodeStats(ByteSpan body,
                         OfpResult<BodyT> (*decode_body)(uint16_t type, ByteSpan body)) {
  if (body.size() < 4) return Fail(BadLen(), "short stats header");
  Reader r(body);
  uint16_t type = r.U16();
  uint16_t flags = r.U16();
  OfpResult<BodyT> b = decode_body(type, r.Rest());
  if (!b) return std::unexpected(std::move(b.error()));
  return M{flags, std::move(*b)};
}

Result<void> EncodeFilter10(const FlowStatsFilter& f, Writer& w) {
  if (f.cookie_mask != 0) return Unsupported("a cookie filter");
  if (f.out_group != kGroupAny) return Unsupported("out_group");
  Result<uint16_t> out_port = Port10(f.out_port);
  if (!out_port) return std::unexpected(out_port.error());
  if (auto ok = EncodeMatch10(f.match, w); !ok) return ok;
  w.U8(f.table_id);
  w.Zeros(1);
  w.U16(*out_port);
  return {};
}

}  // namespace

OfpResult<MultipartRequest> DecodeStatsRequest10(ByteSpan body) {
  return DecodeStats<MultipartRequest>(body, &DecodeStatsRequestBody);
}

OfpResult<MultipartReply> DecodeStatsReply10(ByteSpan body) {
  return DecodeStats<MultipartReply>(body, &DecodeStatsReplyBody);
}

namespace {

// The stats header (type, flags) and a body: `encode` writes the body's entries and says its
// 1.0 stats type.
template <class M, class Fn>
Result<void> EncodeStats10(const M& m, Writer& w, Fn encode) {
  size_t type_at = w.size();
  w.U16(0);
  w.U16(m.flags);
  Result<Stats10> type = std::visit(encode, m.body);
  if (!type) return std::unexpected(type.error());
  w.PatchU16(type_at, static_cast<uint16_t>(*type));
  return {};
}

}  // namespace

Result<void> EncodeStatsRequest10(const MultipartRequest& m, Writer& w) {
  return EncodeStats10(m, w, [&w](const auto& b) -> Result<Stats10> {
    using T = std::decay_t<decltype(b)>;
    if constexpr (std::is_same_v<T, DescRequest>) {
      return Stats10::kDesc;
    } else if constexpr (std::is_same_v<T, TableStatsRequest>) {
      return Stats10::kTable;
    } else if constexpr (std::is_base_of_v<FlowStatsFilter, T>) {
      if (auto ok = EncodeFilter10(b, w); !ok) return std::unexpected(ok.error());
      return std::is_same_v<T, FlowStatsRequest> ? Stats10::kFlow : Stats10::kAggregate;
    } else if constexpr (std::is_same_v<T, PortStatsRequest>) {
      Result<uint16_t> port = Port10(b.port_no);
      if (!port) return std::unexpected(port.error());
      w.U16(*port);
      w.Zeros(6);
      return Stats10::kPort;
    } else if constexpr (std::is_same_v<T, QueueStatsRequest>) {
      w.U16(QueuePortTo10(b.port_no));
      w.Zeros(2);
      w.U32(b.queue_id);
      return Stats10::kQueue;
    } else {
      return Unsupported("this multipart request");
    }
  });
}

namespace {

Result<void> EncodeFlowStats10(const FlowStats& s, Writer& w) {
  Bytes tmp;
  Writer e(&tmp);
  e.U16(0);
  e.U8(s.table_id);
  e.Zeros(1);
  if (auto ok = EncodeMatch10(s.match, e); !ok) return ok;
  e.U32(s.duration_sec);
  e.U32(s.duration_nsec);
  e.U16(s.priority);
  e.U16(s.idle_timeout);
  e.U16(s.hard_timeout);
  e.Zeros(6);
  e.U64(s.cookie);
  e.U64(s.packet_count);
  e.U64(s.byte_count);
  if (auto ok = EncodeInstructions10(s.instructions, e); !ok) return ok;
  e.PatchU16(0, static_cast<uint16_t>(tmp.size()));
  w.Append(tmp);
  return {};
}

}  // namespace

Result<void> EncodeStatsReply10(const MultipartReply& m, Writer& w) {
  return EncodeStats10(m, w, [&w](const auto& b) -> Result<Stats10> {
    using T = std::decay_t<decltype(b)>;
    if constexpr (std::is_same_v<T, DescReply>) {
      EncodeDesc(b, w);
      return Stats10::kDesc;
    } else if constexpr (std::is_same_v<T, FlowStatsReply>) {
      // Flows 1.0 cannot describe (see of10_codec.cc) are left out.
      for (const FlowStats& s : b.entries) (void)EncodeFlowStats10(s, w);
      return Stats10::kFlow;
    } else if constexpr (std::is_same_v<T, AggregateReply>) {
      EncodeAggregate(b, w);
      return Stats10::kAggregate;
    } else if constexpr (std::is_same_v<T, TableStatsReply>) {
      for (const TableStats& s : b.entries) {
        w.U8(s.table_id);
        w.Zeros(3);
        WriteFixedString("", 32, w);
        w.U32(kWAll);
        w.U32(0xffffffff);  // no per-table flow limit
        w.U32(s.active_count);
        w.U64(s.lookup_count);
        w.U64(s.matched_count);
      }
      return Stats10::kTable;
    } else if constexpr (std::is_same_v<T, PortStatsReply>) {
      for (const PortStats& s : b.entries) {
        Result<uint16_t> port = Port10(s.port_no);
        if (!port) return std::unexpected(port.error());
        w.U16(*port);
        w.Zeros(6);
        ForEachPortCounter([&w](uint64_t c) { w.U64(c); }, s);
      }
      return Stats10::kPort;
    } else if constexpr (std::is_same_v<T, QueueStatsReply>) {
      for (const QueueStats& s : b.entries) {
        Result<uint16_t> port = Port10(s.port_no);
        if (!port) return std::unexpected(port.error());
        w.U16(*port);
        w.Zeros(2);
        w.U32(s.queue_id);
        w.U64(s.tx_bytes);
        w.U64(s.tx_packets);
        w.U64(s.tx_errors);
      }
      return Stats10::kQueue;
    } else {
      return Unsupported("this multipart reply");
    }
  });
}

}  // namespace internal::of10

Result<void> Of10CanDescribe(const FlowStats& flow) {
  Bytes tmp;
  Writer w(&tmp);
  return internal::of10::EncodeFlowStats10(flow, w);
}
}  // namespace sluice::ofp
