#include "ofproto/codec/ofp_error.h"

namespace sluice::ofp {

std::string_view OfpErrName(OfpErr e) {
  switch (e) {
#define SLUICE_OFP_ERR_NAME(id, type, code, name, text) \
  case OfpErr::id:                                      \
    return name;
    SLUICE_OFP_ERROR_TABLE(SLUICE_OFP_ERR_NAME)
#undef SLUICE_OFP_ERR_NAME
  }
  return "";
}

std::string_view OfpErrTypeName(uint16_t type) {
  static constexpr std::string_view kNames[] = {"OFPET_HELLO_FAILED",
                                                "OFPET_BAD_REQUEST",
                                                "OFPET_BAD_ACTION",
                                                "OFPET_BAD_INSTRUCTION",
                                                "OFPET_BAD_MATCH",
                                                "OFPET_FLOW_MOD_FAILED",
                                                "OFPET_GROUP_MOD_FAILED",
                                                "OFPET_PORT_MOD_FAILED",
                                                "OFPET_TABLE_MOD_FAILED",
                                                "OFPET_QUEUE_OP_FAILED",
                                                "OFPET_SWITCH_CONFIG_FAILED",
                                                "OFPET_ROLE_REQUEST_FAILED",
                                                "OFPET_METER_MOD_FAILED",
                                                "OFPET_TABLE_FEATURES_FAILED"};
  if (type < std::size(kNames)) return kNames[type];
  return type == 0xffff ? "OFPET_EXPERIMENTER" : "";
}

Error ToError(const OfpError& e) {
  std::string_view name = OfpErrName(e.err);
  std::string msg =
      name.empty()
          ? "OpenFlow error type " + std::to_string(e.type()) + " code " + std::to_string(e.code())
          : std::string(name) + " (" + std::string(OfpErrTypeName(e.type())) + ")";
  if (!e.detail.empty()) msg += ": " + e.detail;
  return Error{Errc::kProtocol, std::move(msg), 0};
}

}  // namespace sluice::ofp
