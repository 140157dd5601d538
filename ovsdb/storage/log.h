// Durable on-disk log for OVSDB databases.
//
// File format (Sluice's own, version 1). Text, so `less` and `show-log` can inspect it:
//
//   SLUICE-OVSDB-LOG 1\n                       file header: magic and format version
//   REC <len> <crc>\n<json>\n                  the schema record
//   REC <len> <crc>\n<json>\n                  one record per committed transaction ...
//
// <len> is the decimal byte length of <json> (1 .. 2^30), <crc> the CRC-32C of those bytes as
// exactly 8 lowercase hex digits, <json> compact JSON text (any JSON value; the log does not
// interpret it) followed by one '\n' that is not counted in <len>.
//
// After Compact() the file holds the header, the schema and exactly one "snapshot" record, then
// later appends. The log does not mark snapshots: callers should write a snapshot in the same
// shape as a transaction record (one that recreates the whole database from empty), so that
// replaying all records works whether or not the file was ever compacted.
//
// Crash safety:
//  - Create() writes the header and schema to "<path>.tmp", fsyncs, and link()s it into place, so
//    <path> never exists half-written.
//  - A write interrupted by a crash leaves a torn last record. Open() reads records up to the
//    first one that is short, malformed, fails its checksum or is not JSON, reports that offset
//    and reason, and (in read-write mode) truncates the file to the end of the last whole record.
//    Corruption in the middle of the file is indistinguishable from a torn tail and is cut the
//    same way, losing every record after it; the warning says how many bytes were discarded.
//  - Append(record, durable=true) returns only after fdatasync(), so an acknowledged commit
//    survives a crash or power loss. durable=false only write()s (survives a process crash, not
//    a kernel crash or power loss).
//  - Compact() writes "<path>.tmp", fsyncs it, rename()s it over <path> and fsyncs the directory:
//    a crash leaves either the old or the new complete file. Open() removes a leftover .tmp.
//    The same in the background (BeginCompaction / WriteCompaction / FinishCompaction): the
//    snapshot is written and fsynced on another thread while appends go on to the old file; the
//    records appended since Begin are copied after it (most of them on that thread too), and
//    only the last few records, one fdatasync and the rename happen on the log's thread. Until
//    the rename the old file is the log, so every acknowledged append survives a crash.
//  - A read-write Log holds an exclusive flock() on "<path>.lock" (created if needed, never
//    removed), so two processes cannot append to one log.
//  - After a failed write, truncate or fsync the Log refuses further writes (the on-disk state is
//    then unknown; fsync errors in particular cannot be retried safely). Reopen to recover.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ovsdb/storage/log_format.h"
#include "sluice/result.h"

namespace sluice::db {

enum class LogMode {
  kReadWrite,  // takes the lock, repairs a torn tail, allows Append/Compact
  kReadOnly,   // no lock, never modifies the file; Append/Compact return kInvalid
};

// When ShouldCompact() says yes. The exact rule, with S = current file size and
// B = size of the file up to and including the snapshot record (see LogStats::snapshot_size):
//   records_since_compaction >= min_records  AND  S >= min_size  AND  S > max_growth * B
// The record floor keeps small databases from compacting after every few commits; the size and
// growth terms bound the disk space and the replay time at open.
struct CompactionPolicy {
  uint64_t min_size = uint64_t{10} << 20;  // 10 MiB
  uint64_t min_records = 100;
  double max_growth = 4.0;
};

struct LogStats {
  uint64_t file_size = 0;  // bytes, including the header and the schema
  uint64_t records = 0;    // records after the schema currently in the file
  // The first record after the schema is taken to be the snapshot (after Compact() it is; in a
  // never-compacted log it is the first transaction). These count what follows it.
  uint64_t records_since_compaction = 0;
  uint64_t bytes_since_compaction = 0;  // file_size - snapshot_size
  uint64_t snapshot_size = 0;           // offset just past the snapshot record (or the schema)
  uint64_t compactions = 0;             // Compact() calls that succeeded on this Log
};

struct OpenResult;
class Log;

// A compaction in progress: created by Log::BeginCompaction on the log's thread, written by
// Log::WriteCompaction on any thread, ended by Log::FinishCompaction or AbortCompaction on the
// log's thread (until then the Log keeps a pointer to it).
class CompactionJob {
 public:
  CompactionJob(const CompactionJob&) = delete;
  CompactionJob& operator=(const CompactionJob&) = delete;
  ~CompactionJob();
  // Records appended since Begin that WriteCompaction already copied.
  uint64_t copied_bytes() const { return copied_to_ - from_; }

 private:
  friend class Log;
  CompactionJob() = default;

  std::string path_;
  int old_fd_ = -1;    // the log file (a duplicate descriptor), read for the appended records
  int new_fd_ = -1;    // "<path>.tmp"
  uint64_t from_ = 0;  // log size at Begin: the snapshot's state; later records are copied
  uint64_t records_at_begin_ = 0;
  uint64_t copied_to_ = 0;  // old-log offset copied up to
  uint64_t new_size_ = 0;
  uint64_t snapshot_end_ = 0;
  std::atomic<uint64_t> published_{0};  // log size after its latest append
};

class Log {
 public:
  Log(Log&& other) noexcept;
  Log& operator=(Log&& other) noexcept;
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;
  ~Log();

  // Reads the log at `path` (see the format above). kNotFound if it does not exist, kInvalid if
  // it is not a log or its schema record is unreadable, kUnsupported for another format version,
  // kBusy if another Log holds it read-write, kIo for system errors.
  // With `on_record`, the records are passed to it one by one (after `on_schema` saw the
  // schema) instead of being returned in OpenResult::records; an error it returns fails Open.
  static Result<OpenResult> Open(const std::string& path, LogMode mode = LogMode::kReadWrite,
                                 const logfmt::RecordFn& on_record = nullptr,
                                 const logfmt::RecordFn& on_schema = nullptr);

  // Creates a new log holding `schema`; kExists if `path` already exists.
  static Result<Log> Create(const std::string& path, const nlohmann::json& schema);

  // Appends one record; see the header comment for what `durable` guarantees.
  Result<void> Append(const nlohmann::json& record, bool durable = true);
  // The same for a record already serialized as compact JSON text (valid UTF-8).
  Result<void> AppendText(std::string_view json_text, bool durable = true);

  // Replaces the whole log with `schema` + `snapshot_record` (atomically; see above) and keeps
  // appending to the new file. On failure before the rename the old file is untouched and this
  // Log remains usable.
  Result<void> Compact(const nlohmann::json& schema, const nlohmann::json& snapshot_record);

  // Compaction in the background (see the header comment). Begin on the log's thread, at the
  // moment the caller's snapshot of the database is taken; kBusy if one is in progress.
  Result<std::unique_ptr<CompactionJob>> BeginCompaction();
  // Any thread: writes the new file (header, schema, snapshot record), fsyncs it, and copies
  // the records appended since Begin so far.
  static Result<void> WriteCompaction(CompactionJob& job, std::string_view schema_text,
                                      std::string_view snapshot_text);
  // The log's thread: copies the remaining records, fdatasyncs, renames the new file over the
  // log and appends to it from now on. On failure the old file stays the log.
  Result<void> FinishCompaction(std::unique_ptr<CompactionJob> job);
  void AbortCompaction(std::unique_ptr<CompactionJob> job);
  bool compacting() const { return job_ != nullptr; }

  bool ShouldCompact() const;
  void SetCompactionPolicy(const CompactionPolicy& policy) { policy_ = policy; }
  const CompactionPolicy& compaction_policy() const { return policy_; }

  LogStats Stats() const;
  const std::string& path() const { return path_; }
  LogMode mode() const { return mode_; }

 private:
  Log(std::string path, LogMode mode, int fd, int lock_fd);
  void Close();
  Result<void> CheckWritable(const char* op) const;
  Result<void> WriteRecord(const std::string& framed, bool durable);
  // Marks the log unusable after a failure that leaves the file state uncertain.
  Error Fail(Error e);

  std::string path_;
  LogMode mode_ = LogMode::kReadOnly;
  int fd_ = -1;
  int lock_fd_ = -1;
  bool failed_ = false;
  uint64_t size_ = 0;           // end of the last whole record: where the next append goes
  uint64_t records_ = 0;        // records after the schema
  uint64_t snapshot_size_ = 0;  // see LogStats::snapshot_size
  uint64_t compactions_ = 0;
  CompactionPolicy policy_;
  CompactionJob* job_ = nullptr;  // in progress
};

struct OpenResult {
  nlohmann::json schema;
  std::vector<nlohmann::json> records;  // every whole record after the schema, in order
  // Empty if the file ended on a record boundary; otherwise "offset N: reason" for the first
  // unreadable record. In read-write mode the file was truncated to `valid_size`.
  std::string tail_error;
  uint64_t valid_size = 0;       // bytes of whole records (including header and schema)
  uint64_t discarded_bytes = 0;  // bytes after valid_size (removed in read-write mode)
  Log log;
};

// Every record of the log at `path`, the schema first, without modifying the file or taking the
// lock (for `show-log`). A torn or corrupt tail is logged as a warning and skipped; use
// Log::Open(path, LogMode::kReadOnly) to get the details.
Result<std::vector<nlohmann::json>> ReadAll(const std::string& path);

}  // namespace sluice::db
