#include "tools/vsctl/vsctl_value.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cfloat>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace sluice::vsctl {
namespace {

using db::Atom;
using db::AtomicType;
using db::BaseType;
using db::Datum;
using db::Type;

void SkipSpaces(std::string_view& s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
}

bool ParseInt(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno || *end != '\0' || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  *out = v;
  return true;
}

bool ParseReal(const std::string& s, double* out) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (errno || *end != '\0') return false;
  *out = v;
  return true;
}

std::string RealToText(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", DBL_DIG, v);
  return buf;
}

std::string IntText(int64_t v) { return std::to_string(v); }

// Parses an integer token that may be a range "A-B" (when `ranges`); appends the atoms.
Res<void> ParseIntegerToken(const std::string& token, bool ranges, std::vector<Atom>* out) {
  int64_t v;
  if (ParseInt(token, &v)) {
    out->push_back(db::IntAtom(v));
    return {};
  }
  if (ranges) {
    // A '-' after the first character splits a range.
    size_t dash = token.find('-', 1);
    int64_t a, b;
    if (dash != std::string::npos && ParseInt(token.substr(0, dash), &a) &&
        ParseInt(token.substr(dash + 1), &b)) {
      if (b < a)
        return Fail("\"" + token + "\" is not a valid range. Range end cannot be before start.");
      if (b - a >= 4096)
        return Fail("\"" + token + "\" is not a valid range. Range size cannot exceed 4096.");
      for (int64_t i = a; i <= b; ++i) out->push_back(db::IntAtom(i));
      return {};
    }
    return Fail("\"" + token + "\" is not a valid integer or range");
  }
  return Fail("\"" + token + "\" is not a valid integer");
}

Res<Atom> AtomFromStringNoCheck(const std::string& s, const BaseType& base,
                                const SymbolResolver* symbols) {
  switch (base.type) {
    case AtomicType::kInteger: {
      std::vector<Atom> v;
      if (auto r = ParseIntegerToken(s, false, &v); !r) return std::unexpected(r.error());
      return v[0];
    }
    case AtomicType::kReal: {
      double d;
      if (!ParseReal(s, &d)) return Fail("\"" + s + "\" is not a valid real number");
      return db::RealAtom(d);
    }
    case AtomicType::kBoolean: {
      if (s == "true" || s == "yes" || s == "on" || s == "1") return db::BoolAtom(true);
      if (s == "false" || s == "no" || s == "off" || s == "0") return db::BoolAtom(false);
      return Fail("\"" + s + "\" is not a valid boolean (use \"true\" or \"false\")");
    }
    case AtomicType::kString: {
      if (s.empty()) {
        return Fail(
            "An empty string is not valid as input; use \"\" to represent the empty string");
      }
      if (s[0] == '"') {
        if (s.size() < 2 || s.back() != '"')
          return Fail(s + ": missing quote at end of quoted string");
        try {
          auto j = nlohmann::json::parse(s);
          if (!j.is_string()) return Fail(s + ": not a JSON string");
          return db::StringAtom(j.get<std::string>());
        } catch (const std::exception&) {
          return Fail(s + ": invalid string escape");
        }
      }
      return db::StringAtom(s);
    }
    case AtomicType::kUuid: {
      if (!s.empty() && s[0] == '@' && symbols) return db::UuidAtom((*symbols)(s));
      if (auto u = db::Uuid::Parse(s)) return db::UuidAtom(*u);
      return Fail("\"" + s + "\" is not a valid UUID");
    }
    case AtomicType::kVoid:
      break;
  }
  return Fail("void type has no values");
}

}  // namespace

bool IsTokenDelim(char c) {
  return std::string_view(":=, []{}!<>").find(c) != std::string_view::npos;
}

Res<std::string> ParseToken(std::string_view& s) {
  std::string out;
  bool in_quotes = false;
  std::string_view start = s;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\') {
      if (in_quotes) out.push_back('\\');
      if (i + 1 >= s.size()) return Fail(std::string(start) + ": backslash at end of argument");
      out.push_back(s[++i]);
    } else if (!in_quotes && IsTokenDelim(c)) {
      break;
    } else {
      out.push_back(c);
      if (c == '"') in_quotes = !in_quotes;
    }
  }
  if (in_quotes) return Fail(std::string(start) + ": quoted string extends past end of argument");
  s.remove_prefix(i);
  return out;
}

Res<void> CheckAtomConstraints(const Atom& atom, const BaseType& base) {
  const std::string cv = "constraint violation: ";
  if (base.enum_values) {
    const auto& e = *base.enum_values;
    if (!std::binary_search(e.begin(), e.end(), atom)) {
      std::string allowed = "[";
      for (size_t i = 0; i < e.size(); ++i) allowed += (i ? ", " : "") + AtomToText(e[i]);
      return Fail(cv + AtomToText(atom) + " is not one of the allowed values (" + allowed + "])");
    }
    return {};
  }
  auto range = [&](const std::string& v, bool has_min, bool has_max, const std::string& lo,
                   const std::string& hi, bool below, bool above) -> Res<void> {
    if (!below && !above) return {};
    if (has_min && has_max) {
      return Fail(cv + v + " is not in the valid range " + lo + " to " + hi + " (inclusive)");
    }
    if (below) return Fail(cv + v + " is less than minimum allowed value " + lo);
    return Fail(cv + v + " is greater than maximum allowed value " + hi);
  };
  switch (base.type) {
    case AtomicType::kInteger: {
      int64_t v = std::get<int64_t>(atom);
      bool has_min = base.min_integer != std::numeric_limits<int64_t>::min();
      bool has_max = base.max_integer != std::numeric_limits<int64_t>::max();
      return range(IntText(v), has_min, has_max, IntText(base.min_integer),
                   IntText(base.max_integer), v<base.min_integer, v> base.max_integer);
    }
    case AtomicType::kReal: {
      double v = std::get<double>(atom);
      bool has_min = base.min_real != std::numeric_limits<double>::lowest();
      bool has_max = base.max_real != std::numeric_limits<double>::max();
      return range(RealToText(v), has_min, has_max, RealToText(base.min_real),
                   RealToText(base.max_real), v<base.min_real, v> base.max_real);
    }
    case AtomicType::kString: {
      const std::string& s = std::get<std::string>(atom);
      size_t n = 0;
      for (unsigned char c : s) n += (c & 0xC0) != 0x80;
      if (n < base.min_length) {
        return Fail(cv + QuoteString(s) + " length " + std::to_string(n) +
                    " is less than minimum allowed length " + std::to_string(base.min_length));
      }
      if (n > base.max_length) {
        return Fail(cv + QuoteString(s) + " length " + std::to_string(n) +
                    " is greater than maximum allowed length " + std::to_string(base.max_length));
      }
      return {};
    }
    default:
      return {};
  }
}

Res<void> CheckDatumConstraints(const Datum& datum, const Type& type) {
  for (size_t i = 0; i < datum.keys.size(); ++i) {
    if (auto r = CheckAtomConstraints(datum.keys[i], type.key); !r) return r;
    if (datum.is_map) {
      if (auto r = CheckAtomConstraints(datum.values[i], type.value); !r) return r;
    }
  }
  return {};
}

Res<Atom> AtomFromString(const std::string& token, const BaseType& base,
                         const SymbolResolver* symbols) {
  auto a = AtomFromStringNoCheck(token, base, symbols);
  if (!a) return a;
  if (auto r = CheckAtomConstraints(*a, base); !r) return std::unexpected(r.error());
  return a;
}

Res<Datum> DatumFromString(std::string_view text, const Type& type, const SymbolResolver* symbols) {
  const std::string whole(text);
  Datum d;
  d.is_map = type.IsMap();
  std::string_view s = text;
  SkipSpaces(s);
  char end_delim = 0;
  if (!s.empty() && (s[0] == '[' || s[0] == '{')) {
    end_delim = s[0] == '[' ? ']' : '}';
    s.remove_prefix(1);
  }
  bool ranges = type.key.type == AtomicType::kInteger && !d.is_map;
  for (;;) {
    SkipSpaces(s);
    if (s.empty() || (end_delim && s[0] == end_delim)) break;
    auto tok = ParseToken(s);
    if (!tok) return std::unexpected(tok.error());
    if (ranges) {
      std::vector<Atom> atoms;
      if (auto r = ParseIntegerToken(*tok, true, &atoms); !r) return std::unexpected(r.error());
      for (auto& a : atoms) d.keys.push_back(a);
    } else {
      auto k = AtomFromStringNoCheck(*tok, type.key, symbols);
      if (!k) return std::unexpected(k.error());
      d.keys.push_back(*k);
    }
    if (d.is_map) {
      SkipSpaces(s);
      if (s.empty() || s[0] != '=')
        return Fail(whole + ": syntax error at \"" + std::string(s) + "\" (expected \"=\")");
      s.remove_prefix(1);
      SkipSpaces(s);
      auto vt = ParseToken(s);
      if (!vt) return std::unexpected(vt.error());
      auto v = AtomFromStringNoCheck(*vt, type.value, symbols);
      if (!v) return std::unexpected(v.error());
      d.values.push_back(*v);
    }
    SkipSpaces(s);
    if (!s.empty() && s[0] == ',') {
      s.remove_prefix(1);
    } else if (!s.empty() && !(end_delim && s[0] == end_delim)) {
      return Fail(whole + ": syntax error at \"" + std::string(s) + "\"");
    }
  }
  if (end_delim) {
    if (s.empty() || s[0] != end_delim) {
      return Fail(whole + ": missing \"" + std::string(1, end_delim) + "\" at end of value");
    }
    s.remove_prefix(1);
    SkipSpaces(s);
    if (!s.empty()) return Fail(whole + ": trailing garbage after value");
  }
  if (!d.Sort()) {
    return Fail(whole +
                (d.is_map ? ": map contains duplicate key" : ": set contains duplicate value"));
  }
  if (d.size() < type.min || d.size() > type.max) {
    std::string n = std::to_string(d.size());
    if (type.IsScalar()) return Fail(whole + ": requires exactly one value, not " + n);
    return Fail(whole + ": " + n + " values when type requires between " +
                std::to_string(type.min) + " and " +
                (type.max == db::kUnlimited ? std::string("unlimited") : std::to_string(type.max)));
  }
  if (auto r = CheckDatumConstraints(d, type); !r) return std::unexpected(r.error());
  return d;
}

bool StringNeedsQuotes(std::string_view s) {
  if (s.empty()) return true;
  unsigned char c = s[0];
  if (!std::isalpha(c) && c != '_') return true;
  for (unsigned char ch : s.substr(1)) {
    if (!std::isalnum(ch) && ch != '_' && ch != '-' && ch != '.') return true;
  }
  if (s == "true" || s == "false") return true;
  if (db::Uuid::Parse(s)) return true;
  return false;
}

std::string QuoteString(std::string_view s) { return nlohmann::json(std::string(s)).dump(); }

std::string AtomToText(const Atom& atom) {
  if (auto* s = std::get_if<std::string>(&atom))
    return StringNeedsQuotes(*s) ? QuoteString(*s) : *s;
  return AtomToBare(atom);
}

std::string AtomToBare(const Atom& atom) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) {
          return std::to_string(v);
        } else if constexpr (std::is_same_v<T, double>) {
          return RealToText(v);
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else {
          return v.ToString();
        }
      },
      atom);
}

std::string DatumToText(const Datum& datum, const Type& type) {
  std::string out;
  if (type.IsMap()) {
    out = "{";
    for (size_t i = 0; i < datum.size(); ++i) {
      if (i) out += ", ";
      out += AtomToText(datum.keys[i]) + "=" + AtomToText(datum.values[i]);
    }
    return out + "}";
  }
  if (type.max == 1 && datum.size() == 1) return AtomToText(datum.keys[0]);
  out = "[";
  for (size_t i = 0; i < datum.size(); ++i) {
    if (i) out += ", ";
    out += AtomToText(datum.keys[i]);
  }
  return out + "]";
}

std::string DatumToBare(const Datum& datum, const Type& type) {
  std::string out;
  for (size_t i = 0; i < datum.size(); ++i) {
    if (i) out += ' ';
    out += AtomToBare(datum.keys[i]);
    if (type.IsMap()) out += "=" + AtomToBare(datum.values[i]);
  }
  return out;
}

nlohmann::json DatumToOutputJson(const Datum& datum, const Type& type) {
  if (!type.IsMap() && datum.size() == 1) return db::AtomToJson(datum.keys[0]);
  return datum.ToJson();
}

int MatchName(const std::vector<std::string>& names, std::string_view want,
              std::vector<std::string>* tied) {
  auto norm = [](char c) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return c == '-' ? '_' : c;
  };
  constexpr size_t kExact = std::numeric_limits<size_t>::max();
  auto score = [&](const std::string& name) -> size_t {
    if (name == want) return kExact;
    size_t i = 0;
    while (i < name.size() && i < want.size() && norm(name[i]) == norm(want[i])) ++i;
    if (i == want.size()) return i == name.size() ? kExact - 1 : i;
    return 0;
  };
  size_t best = 0;
  std::vector<int> at;
  for (size_t i = 0; i < names.size(); ++i) {
    size_t sc = score(names[i]);
    if (sc == 0) continue;
    if (sc > best) {
      best = sc;
      at.assign(1, static_cast<int>(i));
    } else if (sc == best) {
      at.push_back(static_cast<int>(i));
    }
  }
  if (at.empty()) return -1;
  if (at.size() > 1) {
    if (tied) {
      for (int i : at) tied->push_back(names[i]);
    }
    return -2;
  }
  return at[0];
}

}  // namespace sluice::vsctl
