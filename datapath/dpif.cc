#include "datapath/dpif.h"

#include <algorithm>

namespace sluice::dp {

std::vector<uint8_t> DpPacket::Bytes(uint32_t max) const {
  std::vector<uint8_t> out(std::min(size(), max));
  if (!out.empty()) store_->Read(p_, 0, static_cast<uint32_t>(out.size()), out.data());
  return out;
}

}  // namespace sluice::dp
