// libFuzzer target: arbitrary bytes as an OpenFlow byte stream.
//
// The bytes go through MessageSplitter (fed in two pieces, cut where the first byte says, so
// partial headers and bodies are exercised too), and every framed message through
// DecodeMessage. Whatever decodes must re-encode with EncodeMessage, and the encoding must
// decode back to an equal Message whose own encoding is byte-identical (the codec has one
// canonical form). What fails to decode must still yield an OFPT_ERROR reply that encodes, in
// OpenFlow 1.3 and in 1.0 (whose error codes are mapped). The whole input is also decoded as one
// message, as it is and with its version byte forced to 1.0 and to 1.3, so every input reaches
// both wire codecs (the 1.0 one converts to the same typed messages, so the round trip checks
// that conversion too). Nothing may crash, leak or trip ASan/UBSan.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "ofproto/codec/header.h"
#include "ofproto/codec/messages.h"

namespace {

using namespace sluice;
using namespace sluice::ofp;

[[noreturn]] void Die(const char* what, ByteSpan msg) {
  fprintf(stderr, "ofp_codec_fuzz: %s; message (%zu bytes):", what, msg.size());
  for (size_t i = 0; i < msg.size(); ++i) fprintf(stderr, "%s%02x", i % 32 ? "" : "\n  ", msg[i]);
  fprintf(stderr, "\n");
  abort();
}

void CheckOne(ByteSpan msg) {
  OfpResult<Message> m = DecodeMessage(msg);
  if (!m) {
    for (uint8_t version : {kOfp13, kOfp10}) {
      Message reply = MakeErrorReply(m.error(), msg, version);
      if (!EncodeMessage(reply)) Die("the OFPT_ERROR reply does not encode", msg);
    }
    return;
  }
  // Multipart replies are the only messages the switch may send in several parts.
  Result<std::vector<Bytes>> parts = EncodeMessages(*m);
  if (!parts || parts->empty()) Die("EncodeMessages fails where EncodeMessage did not", msg);
  Result<Bytes> again = EncodeMessage(*m);
  if (!again) Die("a decoded message does not re-encode", msg);
  OfpResult<Message> m2 = DecodeMessage(*again);
  if (!m2) Die("a re-encoded message does not decode", *again);
  if (!(*m2 == *m)) Die("decode(encode(decode(x))) != decode(x)", msg);
  Result<Bytes> third = EncodeMessage(*m2);
  if (!third || *third != *again) Die("encoding is not stable", *again);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan all(data, size);
  size_t cut = size ? data[0] % (size + 1) : 0;

  MessageSplitter splitter;
  int n = 0;
  for (ByteSpan piece : {all.subspan(0, cut), all.subspan(cut)}) {
    splitter.Feed(piece);
    while (n < 256) {
      auto next = splitter.Next();
      if (!next) {
        // A permanent framing error: the reply must still be buildable.
        (void)EncodeMessage(MakeErrorReply(next.error(), all.subspan(0, size < 8 ? size : 8)));
        n = 256;
        break;
      }
      if (!*next) break;
      ++n;
      CheckOne(**next);
    }
  }
  // Also the whole input as one message (DecodeMessage checks the length field itself), in its
  // own version and in each version with a wire codec of its own.
  if (size >= kHeaderLen) {
    CheckOne(all);
    Bytes copy(all.begin(), all.end());
    for (uint8_t version : {kOfp10, kOfp13}) {
      if (copy[0] == version) continue;
      copy[0] = version;
      CheckOne(copy);
    }
  }
  return 0;
}
