// CRC-32C (Castagnoli), the checksum that frames every record of the OVSDB log.
#pragma once

#include <cstdint>
#include <string_view>

namespace sluice::db {

// Standard CRC-32C: reflected polynomial 0x82F63B78, initial value and final xor 0xFFFFFFFF
// (so Crc32c("123456789") == 0xE3069283). `crc` continues a previous call's result.
uint32_t Crc32c(std::string_view data, uint32_t crc = 0);

}  // namespace sluice::db
