#include "ovsdb/storage/log_format.h"

#include <charconv>

#include <fmt/format.h>

#include "ovsdb/storage/crc32c.h"

namespace sluice::db::logfmt {
namespace {

using nlohmann::json;

// "REC " + at most 10 length digits + " " + 8 hex digits + "\n".
constexpr size_t kMaxRecordHeader = 4 + 10 + 1 + 8 + 1;

struct Decoded {
  json value;
  uint64_t end = 0;
};

// Reads one record at `off`. The error string is the reason only; the caller adds the offset.
std::expected<Decoded, std::string> DecodeOne(std::string_view data, uint64_t off) {
  std::string_view rest = data.substr(off);
  size_t nl = rest.substr(0, kMaxRecordHeader).find('\n');
  if (nl == std::string_view::npos) {
    if (rest.size() < kMaxRecordHeader) {
      return std::unexpected(fmt::format("record header truncated ({} bytes left)", rest.size()));
    }
    return std::unexpected(std::string("malformed record header (no newline)"));
  }
  std::string_view line = rest.substr(0, nl);
  // Split "REC <len> <crc>" strictly: any deviation means the bytes are not ours.
  if (!line.starts_with(kRecordTag) || line.size() < kRecordTag.size() + 1 ||
      line[kRecordTag.size()] != ' ') {
    return std::unexpected(std::string("malformed record header (bad tag)"));
  }
  std::string_view fields = line.substr(kRecordTag.size() + 1);
  size_t sp = fields.find(' ');
  std::string_view len_text = fields.substr(0, sp);
  std::string_view crc_text = sp == std::string_view::npos ? "" : fields.substr(sp + 1);
  uint64_t len = 0;
  auto [lp, lec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (len_text.empty() || lec != std::errc() || lp != len_text.data() + len_text.size() ||
      len_text.size() > 10) {
    return std::unexpected(std::string("malformed record header (bad length)"));
  }
  if (len == 0 || len > kMaxRecordLength) {
    return std::unexpected(fmt::format("bad record length {}", len));
  }
  uint32_t stored = 0;
  bool crc_ok = crc_text.size() == 8;
  for (char c : crc_text) crc_ok = crc_ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (crc_ok) {
    std::from_chars(crc_text.data(), crc_text.data() + crc_text.size(), stored, 16);
  } else {
    return std::unexpected(std::string("malformed record header (bad checksum field)"));
  }
  uint64_t body = nl + 1;
  if (rest.size() - body < len + 1) {
    return std::unexpected(
        fmt::format("record of {} bytes runs past end of file ({} left)", len, rest.size() - body));
  }
  std::string_view text = rest.substr(body, len);
  uint32_t computed = Crc32c(text);
  if (computed != stored) {
    return std::unexpected(
        fmt::format("checksum mismatch (stored {:08x}, computed {:08x})", stored, computed));
  }
  if (rest[body + len] != '\n') {
    return std::unexpected(std::string("record not terminated by newline"));
  }
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return std::unexpected(std::string("record is not valid JSON"));
  }
  return Decoded{std::move(value), off + body + len + 1};
}

}  // namespace

std::string FileHeader() { return fmt::format("{} {}\n", kMagic, kVersion); }

std::string FrameRecord(std::string_view json_text) {
  std::string out = fmt::format("{} {} {:08x}\n", kRecordTag, json_text.size(), Crc32c(json_text));
  out.reserve(out.size() + json_text.size() + 1);
  out.append(json_text);
  out.push_back('\n');
  return out;
}

Result<std::string> EncodeRecord(const json& record) {
  std::string text;
  try {
    text = record.dump(-1, ' ', false, json::error_handler_t::strict);
  } catch (const json::exception& e) {
    return MakeError(Errc::kInvalid, std::string("record cannot be serialized: ") + e.what());
  }
  if (text.size() > kMaxRecordLength) {
    return MakeError(Errc::kInvalid,
                     fmt::format("record of {} bytes exceeds the log's {} byte limit", text.size(),
                                 kMaxRecordLength));
  }
  return FrameRecord(text);
}

Result<ScanResult> Scan(std::string_view data, const RecordFn& on_record,
                        const RecordFn& on_schema) {
  size_t nl = data.substr(0, 64).find('\n');
  if (!data.starts_with(kMagic) || nl == std::string_view::npos || data[kMagic.size()] != ' ') {
    return MakeError(Errc::kInvalid, "not a Sluice OVSDB log (bad file header)");
  }
  std::string_view ver = data.substr(kMagic.size() + 1, nl - kMagic.size() - 1);
  int version = 0;
  auto [vp, vec] = std::from_chars(ver.data(), ver.data() + ver.size(), version);
  if (vec != std::errc() || vp != ver.data() + ver.size()) {
    return MakeError(Errc::kInvalid, "not a Sluice OVSDB log (bad version field)");
  }
  if (version != kVersion) {
    return MakeError(
        Errc::kUnsupported,
        fmt::format("log format version {} is not supported (expected {})", version, kVersion));
  }
  uint64_t off = nl + 1;
  auto schema = DecodeOne(data, off);
  if (!schema) {
    return MakeError(Errc::kInvalid,
                     fmt::format("schema record unreadable: offset {}: {}", off, schema.error()));
  }
  ScanResult r;
  r.schema = std::move(schema->value);
  if (on_schema) {
    if (auto ok = on_schema(nlohmann::json(r.schema)); !ok) return std::unexpected(ok.error());
  }
  r.schema_end = r.first_record_end = r.valid_end = off = schema->end;
  while (off < data.size()) {
    auto rec = DecodeOne(data, off);
    if (!rec) {
      r.tail_error = fmt::format("offset {}: {}", off, rec.error());
      break;
    }
    if (on_record) {
      if (auto ok = on_record(std::move(rec->value)); !ok) return std::unexpected(ok.error());
    } else {
      r.records.push_back(std::move(rec->value));
    }
    off = r.valid_end = rec->end;
    if (++r.n_records == 1) r.first_record_end = off;
  }
  return r;
}

}  // namespace sluice::db::logfmt
