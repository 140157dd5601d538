// OFPT_QUEUE_GET_CONFIG_REQUEST / _REPLY (OpenFlow 1.3 §7.3.6) and the queue properties that
// OpenFlow 1.0 shares.
#include <string>

#include "ofproto/codec/codec_internal.h"

namespace sluice::ofp::internal {
namespace {

constexpr size_t kQueueFixed = 16;
constexpr size_t kPropHeader = 8;
constexpr size_t kRatePropLen = 16;

OfpErr BadLen() { return OfpErr::kBadRequestBadLen; }

}  // namespace

OfpResult<std::vector<QueueProp>> DecodeQueueProps(ByteSpan data) {
  std::vector<QueueProp> out;
  Reader r(data);
  while (r.remaining() > 0) {
    if (r.remaining() < kPropHeader) return Fail(BadLen(), "truncated queue property");
    QueueProp p;
    uint16_t type = r.U16();
    uint16_t len = r.U16();
    r.Skip(4);
    if (len < kPropHeader || len % 8 != 0 || len - kPropHeader > r.remaining()) {
      return Fail(BadLen(), "queue property length " + std::to_string(len));
    }
    Reader pr(r.Take(len - kPropHeader));
    p.type = static_cast<QueuePropType>(type);
    switch (p.type) {
      case QueuePropType::kMinRate:
      case QueuePropType::kMaxRate:
        if (len != kRatePropLen) return Fail(BadLen(), "rate property length");
        p.rate = pr.U16();
        break;
      case QueuePropType::kExperimenter: {
        if (len < 16) return Fail(BadLen(), "experimenter queue property length");
        p.experimenter = pr.U32();
        pr.Skip(4);
        ByteSpan rest = pr.Rest();
        p.data.assign(rest.begin(), rest.end());
        break;
      }
      default:
        return Fail(BadLen(), "queue property type " + std::to_string(type));
    }
    out.push_back(std::move(p));
  }
  return out;
}

void EncodeQueueProps(const std::vector<QueueProp>& props, Writer& w) {
  for (const QueueProp& p : props) {
    size_t start = w.size();
    w.U16(static_cast<uint16_t>(p.type));
    w.U16(0);
    w.Zeros(4);
    if (p.type == QueuePropType::kExperimenter) {
      w.U32(p.experimenter);
      w.Zeros(4);
      w.Append(p.data);
      w.PadTo8(start);
    } else {
      w.U16(p.rate);
      w.Zeros(6);
    }
    w.PatchU16(start + 2, static_cast<uint16_t>(w.size() - start));
  }
}

OfpResult<QueueGetConfigRequest> DecodeQueueGetConfigRequest(ByteSpan body) {
  if (body.size() != 8) return Fail(BadLen(), "queue_get_config_request length");
  QueueGetConfigRequest q{Reader(body).U32()};
  if (q.port == 0 || (q.port > kPortMax && q.port != kPortAny)) {
    return Fail(OfpErr::kQueueOpBadPort, "port " + std::to_string(q.port));
  }
  return q;
}

void EncodeBody(const QueueGetConfigRequest& m, Writer& w) {
  w.U32(m.port);
  w.Zeros(4);
}

OfpResult<QueueGetConfigReply> DecodeQueueGetConfigReply(ByteSpan body) {
  if (body.size() < 8) return Fail(BadLen(), "short queue_get_config_reply");
  Reader r(body);
  QueueGetConfigReply q;
  q.port = r.U32();
  r.Skip(4);
  while (r.remaining() > 0) {
    if (r.remaining() < kQueueFixed) return Fail(BadLen(), "truncated queue");
    PacketQueue pq;
    pq.queue_id = r.U32();
    pq.port = r.U32();
    uint16_t len = r.U16();
    r.Skip(6);
    if (len < kQueueFixed || len % 8 != 0 || len - kQueueFixed > r.remaining()) {
      return Fail(BadLen(), "queue length " + std::to_string(len));
    }
    auto props = DecodeQueueProps(r.Take(len - kQueueFixed));
    if (!props) return std::unexpected(std::move(props.error()));
    pq.properties = std::move(*props);
    q.queues.push_back(std::move(pq));
  }
  return q;
}

void EncodeBody(const QueueGetConfigReply& m, Writer& w) {
  w.U32(m.port);
  w.Zeros(4);
  for (const PacketQueue& q : m.queues) {
    size_t start = w.size();
    w.U32(q.queue_id);
    w.U32(q.port);
    w.U16(0);
    w.Zeros(6);
    EncodeQueueProps(q.properties, w);
    w.PatchU16(start + 8, static_cast<uint16_t>(w.size() - start));
  }
}

}  // namespace sluice::ofp::internal
