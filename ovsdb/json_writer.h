// Direct JSON text output for the server's hot paths (monitor updates, storage records, initial
// monitor contents): appends compact JSON to a std::string without building a nlohmann DOM.
// The text parses back to what nlohmann::json would have produced for the same value (strings
// escaped as nlohmann does with ensure_ascii off; reals always carry a '.' or an exponent).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ovsdb/atom.h"
#include "ovsdb/datum.h"
#include "ovsdb/uuid.h"

namespace sluice::db {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  std::string& out() { return out_; }
  void Raw(std::string_view text) { out_.append(text); }
  void Char(char c) { out_.push_back(c); }
  void String(std::string_view s);
  void Int(int64_t v);
  void Real(double v);
  void Bool(bool v) { out_.append(v ? "true" : "false"); }
  void Null() { out_.append("null"); }
  // "8-4-4-4-12" as a JSON string.
  void UuidString(const Uuid& u);
  // An object key: "key":
  void Key(std::string_view key) {
    String(key);
    out_.push_back(':');
  }
  // RFC 7047 notation, as AtomToJson / Datum::ToJson produce it.
  void Atom(const db::Atom& atom);
  void Datum(const db::Datum& datum);

 private:
  std::string& out_;
};

// Appends the 36 characters of `u` in canonical form.
void AppendUuid(std::string& out, const Uuid& u);

}  // namespace sluice::db
