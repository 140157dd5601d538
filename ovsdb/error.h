// OVSDB error objects ({"error": ..., "details": ...}) as carried in transaction replies.
#pragma once

#include <expected>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "sluice/result.h"

namespace sluice::db {

struct OvsdbError {
  std::string error;    // RFC 7047 error tag, e.g. "constraint violation"
  std::string details;  // human-readable explanation

  nlohmann::json ToJson() const {
    nlohmann::json j = {{"error", error}};
    if (!details.empty()) j["details"] = details;
    return j;
  }
  // For APIs that report through sluice::Result (schema loading, log replay).
  Error ToError() const { return Error{Errc::kInvalid, error + ": " + details}; }
};

template <class T>
using DbResult = std::expected<T, OvsdbError>;

inline std::unexpected<OvsdbError> DbErr(std::string error, std::string details) {
  return std::unexpected<OvsdbError>(OvsdbError{std::move(error), std::move(details)});
}

inline std::unexpected<OvsdbError> SyntaxErr(std::string details) {
  return DbErr("syntax error", std::move(details));
}

}  // namespace sluice::db
