// Encoding and decoding of the OVSDB log's on-disk framing (the format itself is described at the
// top of ovsdb/storage/log.h). Pure functions over bytes: no file I/O, so they are easy to test
// and shared by Log and the read-only tools.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sluice/result.h"

namespace sluice::db::logfmt {

inline constexpr std::string_view kMagic = "SLUICE-OVSDB-LOG";
inline constexpr int kVersion = 1;
inline constexpr std::string_view kRecordTag = "REC";
// Larger lengths are treated as corruption rather than attempted (a flipped digit must not make
// the reader believe in a multi-gigabyte record).
inline constexpr uint64_t kMaxRecordLength = uint64_t{1} << 30;

// "SLUICE-OVSDB-LOG 1\n".
std::string FileHeader();

// Frames already-serialized JSON text: "REC <len> <crc32c>\n" + text + "\n".
std::string FrameRecord(std::string_view json_text);

// Serializes `record` compactly and frames it. kInvalid if the JSON cannot be serialized (e.g. a
// string that is not valid UTF-8) or is longer than kMaxRecordLength.
Result<std::string> EncodeRecord(const nlohmann::json& record);

// Receives each whole record after the schema, in file order; an error stops the scan.
using RecordFn = std::function<Result<void>(nlohmann::json&& record)>;

struct ScanResult {
  nlohmann::json schema;
  std::vector<nlohmann::json> records;  // whole records after the schema (unless a RecordFn)
  uint64_t n_records = 0;               // whole records after the schema
  uint64_t schema_end = 0;              // offset just past the schema record
  uint64_t first_record_end = 0;        // offset just past records[0] (schema_end if none)
  uint64_t valid_end = 0;               // offset just past the last whole record
  // Empty if the data ends exactly on a record boundary; otherwise "offset N: reason" for the
  // first record that could not be read. Everything from valid_end on is unusable.
  std::string tail_error;
};

// Decodes a whole log image. A bad file header or an unreadable schema record is an error (there
// is nothing to salvage); any problem after the schema only ends the scan and sets tail_error.
// With `on_record`, records go to it instead of ScanResult::records (a large log is never held
// in memory as JSON all at once), after `on_schema` (if set) saw the schema; their errors are
// Scan's.
Result<ScanResult> Scan(std::string_view data, const RecordFn& on_record = nullptr,
                        const RecordFn& on_schema = nullptr);

}  // namespace sluice::db::logfmt
