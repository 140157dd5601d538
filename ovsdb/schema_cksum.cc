#include "ovsdb/schema_cksum.h"

#include <array>
#include <cstdint>
#include <regex>

namespace sluice::db {
namespace {

// CRC-32 with polynomial 0x04C11DB7, most significant bit first, as POSIX cksum.
const std::array<uint32_t, 256>& Table() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i << 24;
      for (int k = 0; k < 8; ++k) c = c & 0x80000000u ? (c << 1) ^ 0x04C11DB7u : c << 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

}  // namespace

std::string PosixCksum(std::string_view data) {
  const auto& t = Table();
  uint32_t crc = 0;
  for (unsigned char c : data) crc = (crc << 8) ^ t[((crc >> 24) ^ c) & 0xff];
  // The length, least significant byte first, without its leading zero bytes.
  for (uint64_t n = data.size(); n; n >>= 8)
    crc = (crc << 8) ^ t[((crc >> 24) ^ (n & 0xff)) & 0xff];
  return std::to_string(~crc) + " " + std::to_string(data.size());
}

std::string SchemaCksum(std::string_view text) {
  static const std::regex kLine("\"cksum\": *\"[0-9][0-9]* [0-9][0-9]*\",");
  std::string kept;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    end = end == std::string_view::npos ? text.size() : end + 1;
    std::string line(text.substr(pos, end - pos));
    if (!std::regex_search(line, kLine)) kept += line;
    pos = end;
  }
  return PosixCksum(kept);
}

}  // namespace sluice::db
