// Helpers shared by the OpenFlow codec tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>

#include "ofproto/codec/messages.h"

namespace sluice::ofp::test {

inline Bytes Encode(const Message& m) {
  Result<Bytes> b = EncodeMessage(m);
  EXPECT_TRUE(b.has_value()) << b.error().message;
  return b.value_or(Bytes{});
}

inline Message Msg(MessageBody body, uint32_t xid = 0x12345678) {
  return Message{kOfp13, xid, std::move(body)};
}

// Encodes, checks the header's length and type, decodes and expects the same message.
inline void ExpectRoundTrip(const Message& m) {
  Bytes wire = Encode(m);
  ASSERT_GE(wire.size(), 8u);
  EXPECT_EQ((size_t{wire[2]} << 8 | wire[3]), wire.size());
  EXPECT_EQ(wire[1], static_cast<uint8_t>(TypeOf(m.body)));
  OfpResult<Message> back = DecodeMessage(wire);
  ASSERT_TRUE(back.has_value()) << OfpErrName(back.error().err) << " " << back.error().detail;
  EXPECT_EQ(*back, m);
  EXPECT_EQ(Encode(*back), wire);
}

// A message from its header type and body bytes (length filled in).
inline Bytes Raw(MsgType type, std::initializer_list<uint8_t> body, uint8_t version = kOfp13) {
  // Built byte by byte: GCC 12 misjudges the bounds of vector::insert from an initializer_list.
  Bytes b;
  b.reserve(8 + body.size());
  for (uint8_t v : {version, static_cast<uint8_t>(type), uint8_t{0}, uint8_t{0}, uint8_t{0},
                    uint8_t{0}, uint8_t{0}, uint8_t{1}}) {
    b.push_back(v);
  }
  for (uint8_t v : body) b.push_back(v);
  b[2] = static_cast<uint8_t>(b.size() >> 8);
  b[3] = static_cast<uint8_t>(b.size());
  return b;
}

inline OfpErr DecodeErr(ByteSpan wire) {
  OfpResult<Message> m = DecodeMessage(wire);
  EXPECT_FALSE(m.has_value());
  return m ? OfpErr{} : m.error().err;
}

}  // namespace sluice::ofp::test
