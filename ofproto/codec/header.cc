#include "ofproto/codec/header.h"

#include <bit>

namespace sluice::ofp {

OfpResult<Header> DecodeHeader(ByteSpan data) {
  if (data.size() < kHeaderLen) return Fail(OfpErr::kBadRequestBadLen, "short header");
  Reader r(data);
  Header h;
  h.version = r.U8();
  h.type = r.U8();
  h.length = r.U16();
  h.xid = r.U32();
  if (h.length < kHeaderLen) return Fail(OfpErr::kBadRequestBadLen, "header length below 8");
  return h;
}

void EncodeHeader(const Header& h, Writer& w) {
  w.U8(h.version);
  w.U8(h.type);
  w.U16(h.length);
  w.U32(h.xid);
}

void MessageSplitter::Feed(ByteSpan data) {
  // Compact lazily: moving the tail once per Feed keeps Next() spans stable in between.
  if (consumed_ > 0) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(consumed_));
    consumed_ = 0;
  }
  buf_.insert(buf_.end(), data.begin(), data.end());
}

OfpResult<std::optional<ByteSpan>> MessageSplitter::Next() {
  if (broken_) return Fail(OfpErr::kBadRequestBadLen, "stream already failed framing");
  ByteSpan rest = ByteSpan(buf_).subspan(consumed_);
  if (rest.size() < kHeaderLen) return std::nullopt;
  size_t len = (size_t{rest[2]} << 8) | rest[3];
  if (len < kHeaderLen) {
    broken_ = true;
    return Fail(OfpErr::kBadRequestBadLen, "message length below 8");
  }
  if (rest.size() < len) return std::nullopt;
  consumed_ += len;
  return rest.first(len);
}

VersionSet PeerVersions(uint8_t header_version, const std::optional<VersionSet>& bitmap) {
  if (bitmap) return *bitmap;
  if (header_version >= 31) return ~VersionSet{1};
  // Versions 1..header_version; wire version 0 does not exist.
  return ((VersionSet{1} << (header_version + 1)) - 1) & ~VersionSet{1};
}

std::optional<uint8_t> HighestCommonVersion(VersionSet ours, VersionSet theirs) {
  VersionSet common = ours & theirs;
  if (common == 0) return std::nullopt;
  return static_cast<uint8_t>(31 - std::countl_zero(common));
}

}  // namespace sluice::ofp
