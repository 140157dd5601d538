// The value language of ovs-vsctl: tokens with JSON-style quoting, atoms and datums written as
// `{k=v, ...}` / `[a, b]` / bare atoms, and their rendering back to text (normal, bare and JSON).
// Schema-driven (ovsdb/schema.h types); no database access here.
#pragma once

#include <expected>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ovsdb/datum.h"
#include "ovsdb/schema.h"

namespace sluice::vsctl {

template <class T>
using Res = std::expected<T, std::string>;

inline std::unexpected<std::string> Fail(std::string msg) {
  return std::unexpected<std::string>(std::move(msg));
}

// Resolves "@name" references in uuid atoms (record ids given with --id). Returns the uuid for
// the name, creating one on first use.
using SymbolResolver = std::function<db::Uuid(const std::string& name)>;

// Delimiters that end an unquoted token.
bool IsTokenDelim(char c);
// Reads one token from `s` (advancing it). Double quotes are kept (the atom parser unescapes
// them); outside quotes a backslash takes the next character literally.
Res<std::string> ParseToken(std::string_view& s);

// One atom from a token. `symbols` may be null (then "@name" is not valid).
Res<db::Atom> AtomFromString(const std::string& token, const db::BaseType& base,
                             const SymbolResolver* symbols);
// A whole datum: "[a,b]", "{k=v}", a bare atom, or for integer sets also ranges "1-5".
Res<db::Datum> DatumFromString(std::string_view text, const db::Type& type,
                               const SymbolResolver* symbols);
// Constraint check with ovs-vsctl's wording ("constraint violation: ...").
Res<void> CheckAtomConstraints(const db::Atom& atom, const db::BaseType& base);
Res<void> CheckDatumConstraints(const db::Datum& datum, const db::Type& type);

// Rendering.
bool StringNeedsQuotes(std::string_view s);
std::string QuoteString(std::string_view s);  // JSON string syntax
std::string AtomToText(const db::Atom& atom);
std::string AtomToBare(const db::Atom& atom);
std::string DatumToText(const db::Datum& datum, const db::Type& type);
std::string DatumToBare(const db::Datum& datum, const db::Type& type);
// RFC 7047 JSON, except that a scalar or one-element optional is written as the atom itself.
nlohmann::json DatumToOutputJson(const db::Datum& datum, const db::Type& type);

// Name matching as ovs-vsctl does it for tables and columns: exact beats case-insensitive
// (with '-' and '_' equal) beats unique prefix. Returns the index into `names` or an error
// code: -1 none, -2 ambiguous (`best` lists the tied names).
int MatchName(const std::vector<std::string>& names, std::string_view want,
              std::vector<std::string>* tied = nullptr);

}  // namespace sluice::vsctl
