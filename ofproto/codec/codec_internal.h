// Per-message body codecs behind DecodeMessage()/EncodeMessage(). Internal to the codec.
// Every Decode* takes the body (the bytes after the 8-byte header) and checks its length.
#pragma once

#include "ofproto/codec/messages.h"

namespace sluice::ofp::internal {

// message_codec.cc: setup and symmetric messages.
OfpResult<Hello> DecodeHello(ByteSpan body);
OfpResult<ErrorMsg> DecodeErrorMsg(ByteSpan body);
OfpResult<ExperimenterMsg> DecodeExperimenterMsg(ByteSpan body);
OfpResult<FeaturesReply> DecodeFeaturesReply(ByteSpan body);
OfpResult<SwitchConfig> DecodeSwitchConfig(ByteSpan body, bool is_set);
OfpResult<RoleBody> DecodeRole(ByteSpan body, bool is_request);
OfpResult<AsyncConfig> DecodeAsync(ByteSpan body);
void EncodeBody(const Hello& m, Writer& w);
void EncodeBody(const ErrorMsg& m, Writer& w);
void EncodeBody(const EchoRequest& m, Writer& w);
void EncodeBody(const EchoReply& m, Writer& w);
void EncodeBody(const ExperimenterMsg& m, Writer& w);
void EncodeBody(const FeaturesRequest& m, Writer& w);
void EncodeBody(const FeaturesReply& m, Writer& w);
void EncodeBody(const GetConfigRequest& m, Writer& w);
void EncodeBody(const SwitchConfig& m, Writer& w);
void EncodeBody(const BarrierRequest& m, Writer& w);
void EncodeBody(const BarrierReply& m, Writer& w);
void EncodeBody(const RoleBody& m, Writer& w);
void EncodeBody(const GetAsyncRequest& m, Writer& w);
void EncodeBody(const AsyncConfig& m, Writer& w);

// flow_codec.cc
OfpResult<FlowMod> DecodeFlowMod(ByteSpan body);
OfpResult<PacketIn> DecodePacketIn(ByteSpan body);
OfpResult<PacketOut> DecodePacketOut(ByteSpan body);
OfpResult<FlowRemoved> DecodeFlowRemoved(ByteSpan body);
void EncodeBody(const FlowMod& m, Writer& w);
void EncodeBody(const PacketIn& m, Writer& w);
void EncodeBody(const PacketOut& m, Writer& w);
void EncodeBody(const FlowRemoved& m, Writer& w);

// switch_codec.cc: ports, tables, groups, meters, and the structures multipart shares.
inline constexpr size_t kPortDescLen = 64;
void DecodePortDesc(Reader& r, PortDesc* p);  // caller checked kPortDescLen bytes remain
void EncodePortDesc(const PortDesc& p, Writer& w);
// `bad_len` is the error for a malformed bucket (OFPGMFC_BAD_BUCKET in GROUP_MOD).
OfpResult<std::vector<Bucket>> DecodeBuckets(ByteSpan data, OfpErr bad_len);
void EncodeBuckets(const std::vector<Bucket>& buckets, Writer& w);
OfpResult<std::vector<MeterBand>> DecodeBands(ByteSpan data);
void EncodeBands(const std::vector<MeterBand>& bands, Writer& w);
OfpResult<PortStatus> DecodePortStatus(ByteSpan body);
OfpResult<PortMod> DecodePortMod(ByteSpan body);
OfpResult<TableMod> DecodeTableMod(ByteSpan body);
OfpResult<GroupMod> DecodeGroupMod(ByteSpan body);
OfpResult<MeterMod> DecodeMeterMod(ByteSpan body);
void EncodeBody(const PortStatus& m, Writer& w);
void EncodeBody(const PortMod& m, Writer& w);
void EncodeBody(const TableMod& m, Writer& w);
void EncodeBody(const GroupMod& m, Writer& w);
void EncodeBody(const MeterMod& m, Writer& w);

// multipart_codec.cc
OfpResult<MultipartRequest> DecodeMultipartRequest(ByteSpan body);
// Bodies laid out the same in OpenFlow 1.0 and 1.3 (the 1.0 codec uses them too).
OfpResult<DescReply> DecodeDesc(ByteSpan body);
void EncodeDesc(const DescReply& d, Writer& w);
OfpResult<AggregateReply> DecodeAggregate(ByteSpan body);
void EncodeAggregate(const AggregateReply& a, Writer& w);
// The twelve ofp_port_stats counters, in wire order (the same in 1.0 and 1.3); `s` is a
// PortStats, const or not.
template <class F>
void ForEachPortCounter(F&& f, auto& s) {
  for (auto* c : {&s.rx_packets, &s.tx_packets, &s.rx_bytes, &s.tx_bytes, &s.rx_dropped,
                  &s.tx_dropped, &s.rx_errors, &s.tx_errors, &s.rx_frame_err, &s.rx_over_err,
                  &s.rx_crc_err, &s.collisions}) {
    f(*c);
  }
}
OfpResult<MultipartReply> DecodeMultipartReply(ByteSpan body);
void EncodeBody(const MultipartRequest& m, Writer& w);
void EncodeBody(const MultipartReply& m, Writer& w);

// table_features_codec.cc: a sequence of ofp_table_features (a TABLE_FEATURES body).
OfpResult<std::vector<TableFeatures>> DecodeTableFeatures(ByteSpan body);
void EncodeTableFeatures(const TableFeatures& t, Writer& w);

// queue_codec.cc: OFPT_QUEUE_GET_CONFIG_* in their OpenFlow 1.3 layout.
OfpResult<QueueGetConfigRequest> DecodeQueueGetConfigRequest(ByteSpan body);
OfpResult<QueueGetConfigReply> DecodeQueueGetConfigReply(ByteSpan body);
void EncodeBody(const QueueGetConfigRequest& m, Writer& w);
void EncodeBody(const QueueGetConfigReply& m, Writer& w);
// Queue properties, shared by 1.0 and 1.3 (same layout).
OfpResult<std::vector<QueueProp>> DecodeQueueProps(ByteSpan data);
void EncodeQueueProps(const std::vector<QueueProp>& props, Writer& w);

// of10_codec.cc: the OpenFlow 1.0 wire codec (whole messages, header included).
OfpResult<Message> DecodeOf10(const Header& h, ByteSpan body);
Result<Bytes> EncodeOf10(const Message& msg);

// Fixed-size string fields (port names, descriptions): NUL-padded on the wire.
std::string ReadFixedString(Reader& r, size_t n);
void WriteFixedString(const std::string& s, size_t n, Writer& w);

}  // namespace sluice::ofp::internal
