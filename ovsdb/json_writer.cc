#include "ovsdb/json_writer.h"

#include <charconv>
#include <cmath>

namespace sluice::db {

void AppendUuid(std::string& out, const Uuid& u) {
  static constexpr char kHex[] = "0123456789abcdef";
  char buf[36];
  char* p = buf;
  auto put = [&p](uint64_t word, int from_nibble, int to_nibble) {
    for (int i = from_nibble; i > to_nibble; --i) *p++ = kHex[(word >> (4 * (i - 1))) & 0xf];
  };
  put(u.hi, 16, 8);
  *p++ = '-';
  put(u.hi, 8, 4);
  *p++ = '-';
  put(u.hi, 4, 0);
  *p++ = '-';
  put(u.lo, 16, 12);
  *p++ = '-';
  put(u.lo, 12, 0);
  out.append(buf, sizeof(buf));
}

void JsonWriter::String(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out_.push_back('"');
  size_t run = 0;  // start of the current stretch that needs no escaping
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out_.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out_.append("\\\"");
        break;
      case '\\':
        out_.append("\\\\");
        break;
      case '\b':
        out_.append("\\b");
        break;
      case '\f':
        out_.append("\\f");
        break;
      case '\n':
        out_.append("\\n");
        break;
      case '\r':
        out_.append("\\r");
        break;
      case '\t':
        out_.append("\\t");
        break;
      default: {
        char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
        out_.append(esc, sizeof(esc));
      }
    }
  }
  out_.append(s.data() + run, s.size() - run);
  out_.push_back('"');
}

void JsonWriter::Int(int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out_.append(buf, r.ptr);
}

void JsonWriter::Real(double v) {
  if (!std::isfinite(v)) {  // not representable in JSON; nlohmann writes null
    out_.append("null");
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  std::string_view text(buf, r.ptr - buf);
  out_.append(text);
  if (text.find_first_of(".e") == std::string_view::npos) out_.append(".0");
}

void JsonWriter::UuidString(const Uuid& u) {
  out_.push_back('"');
  AppendUuid(out_, u);
  out_.push_back('"');
}

void JsonWriter::Atom(const db::Atom& atom) {
  switch (atom.index()) {
    case 0:
      Int(std::get<int64_t>(atom));
      break;
    case 1:
      Real(std::get<double>(atom));
      break;
    case 2:
      Bool(std::get<bool>(atom));
      break;
    case 3:
      String(std::get<std::string>(atom));
      break;
    default:
      out_.append("[\"uuid\",\"");
      AppendUuid(out_, std::get<Uuid>(atom));
      out_.append("\"]");
  }
}

void JsonWriter::Datum(const db::Datum& d) {
  if (d.is_map) {
    out_.append("[\"map\",[");
    for (size_t i = 0; i < d.keys.size(); ++i) {
      if (i) out_.push_back(',');
      out_.push_back('[');
      Atom(d.keys[i]);
      out_.push_back(',');
      Atom(d.values[i]);
      out_.push_back(']');
    }
    out_.append("]]");
    return;
  }
  if (d.keys.size() == 1) {
    Atom(d.keys[0]);
    return;
  }
  out_.append("[\"set\",[");
  for (size_t i = 0; i < d.keys.size(); ++i) {
    if (i) out_.push_back(',');
    Atom(d.keys[i]);
  }
  out_.append("]]");
}

}  // namespace sluice::db
