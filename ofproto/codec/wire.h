// Big-endian byte cursor and appender shared by the OpenFlow codec. Internal to the codec.
//
// Reader never reads past its span: a short read yields zeros and latches failed(), so decoders
// may check lengths once up front and still be safe against a length they forgot to check.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace sluice::ofp {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

class Reader {
 public:
  explicit Reader(ByteSpan data) : data_(data) {}

  size_t remaining() const { return data_.size() - pos_; }
  size_t pos() const { return pos_; }
  bool failed() const { return failed_; }

  uint8_t U8() { return static_cast<uint8_t>(ReadN(1)); }
  uint16_t U16() { return static_cast<uint16_t>(ReadN(2)); }
  uint32_t U32() { return static_cast<uint32_t>(ReadN(4)); }
  uint64_t U64() { return ReadN(8); }

  void Skip(size_t n) { (void)Take(n); }

  // Returns the next n bytes (empty and failed() when fewer remain).
  ByteSpan Take(size_t n) {
    if (n > remaining()) {
      failed_ = true;
      pos_ = data_.size();
      return {};
    }
    ByteSpan s = data_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  ByteSpan Rest() { return Take(remaining()); }

  template <size_t N>
  void Copy(uint8_t (&out)[N]) {
    ByteSpan s = Take(N);
    if (!s.empty()) std::memcpy(out, s.data(), N);
  }

 private:
  uint64_t ReadN(size_t n) {
    ByteSpan s = Take(n);
    uint64_t v = 0;
    for (uint8_t b : s) v = (v << 8) | b;
    return v;
  }

  ByteSpan data_;
  size_t pos_ = 0;
  bool failed_ = false;
};

class Writer {
 public:
  explicit Writer(Bytes* out) : out_(out) {}

  size_t size() const { return out_->size(); }

  void U8(uint8_t v) { out_->push_back(v); }
  void U16(uint16_t v) { WriteN(v, 2); }
  void U32(uint32_t v) { WriteN(v, 4); }
  void U64(uint64_t v) { WriteN(v, 8); }
  void Zeros(size_t n) { out_->insert(out_->end(), n, 0); }
  void Append(ByteSpan s) { out_->insert(out_->end(), s.begin(), s.end()); }
  // Zero-pads so that the bytes written since `start` are a multiple of 8.
  void PadTo8(size_t start) { Zeros((8 - (size() - start) % 8) % 8); }
  // Overwrites a big-endian 16-bit field written earlier (lengths known only at the end).
  void PatchU16(size_t at, uint16_t v) {
    (*out_)[at] = static_cast<uint8_t>(v >> 8);
    (*out_)[at + 1] = static_cast<uint8_t>(v);
  }

 private:
  void WriteN(uint64_t v, size_t n) {
    for (size_t i = n; i-- > 0;) out_->push_back(static_cast<uint8_t>(v >> (8 * i)));
  }

  Bytes* out_;
};

inline constexpr size_t RoundUp8(size_t n) { return (n + 7) & ~size_t{7}; }

}  // namespace sluice::ofp
