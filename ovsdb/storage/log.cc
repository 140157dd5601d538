#include "ovsdb/storage/log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include <fmt/format.h>

#include "ovsdb/storage/log_format.h"
#include "sluice/log.h"

namespace sluice::db {
namespace {

using nlohmann::json;

constexpr mode_t kFileMode = 0640;  // databases may hold credentials (SSL, managers)

spdlog::logger& Logger() {
  static auto logger = log::Get("ovsdb");
  return *logger;
}

Error SysError(std::string_view what, const std::string& path, int err) {
  Errc code = err == ENOENT ? Errc::kNotFound : err == EEXIST ? Errc::kExists : Errc::kIo;
  return Error{code, fmt::format("{} {}: {}", what, path, std::strerror(err)), err};
}

std::string TmpPath(const std::string& path) { return path + ".tmp"; }
std::string LockPath(const std::string& path) { return path + ".lock"; }

// Owns a descriptor until released, so early error returns cannot leak it.
class FdGuard {
 public:
  explicit FdGuard(int fd = -1) : fd_(fd) {}
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

Result<void> WriteAllAt(int fd, std::string_view data, uint64_t off, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(off));
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(SysError("write", path, errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
    off += static_cast<uint64_t>(n);
  }
  return {};
}

// The file's contents, mapped read-only (a large log is not copied into memory).
class Mapping {
 public:
  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (addr_) ::munmap(addr_, size_);
  }
  Result<void> Map(int fd, const std::string& path) {
    struct stat st;
    if (::fstat(fd, &st) != 0) return std::unexpected(SysError("stat", path, errno));
    size_ = static_cast<size_t>(st.st_size);
    if (size_ == 0) return {};
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) return std::unexpected(SysError("map", path, errno));
    addr_ = p;
    ::madvise(addr_, size_, MADV_SEQUENTIAL);
    return {};
  }
  std::string_view data() const {
    return addr_ ? std::string_view(static_cast<const char*>(addr_), size_) : std::string_view();
  }

 private:
  void* addr_ = nullptr;
  size_t size_ = 0;
};

// Copies [from, to) of `in` to `out` at `out_off`; returns the bytes copied.
Result<uint64_t> CopyRange(int in, uint64_t from, uint64_t to, int out, uint64_t out_off,
                           const std::string& path) {
  std::string buf;
  uint64_t done = 0;
  while (from + done < to) {
    buf.resize(static_cast<size_t>(std::min<uint64_t>(to - from - done, 1 << 20)));
    ssize_t n = ::pread(in, buf.data(), buf.size(), static_cast<off_t>(from + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::unexpected(SysError("read", path, errno));
    if (n == 0) return MakeError(Errc::kIo, fmt::format("read {}: unexpected end of file", path));
    buf.resize(static_cast<size_t>(n));
    if (auto w = WriteAllAt(out, buf, out_off + done, TmpPath(path)); !w) {
      return std::unexpected(w.error());
    }
    done += static_cast<uint64_t>(n);
  }
  return done;
}

// Makes a rename/link/unlink in the file's directory durable.
Result<void> FsyncDir(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  std::string d = dir.empty() ? "." : dir.string();
  FdGuard fd(::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return std::unexpected(SysError("open directory", d, errno));
  if (::fsync(fd.get()) != 0) return std::unexpected(SysError("fsync directory", d, errno));
  return {};
}

Result<int> AcquireLock(const std::string& path) {
  std::string lock = LockPath(path);
  FdGuard fd(::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, kFileMode));
  if (fd.get() < 0) return std::unexpected(SysError("open lock file", lock, errno));
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) {
      return MakeError(Errc::kBusy, fmt::format("log {} is locked by another writer", path));
    }
    return std::unexpected(SysError("lock", lock, errno));
  }
  return fd.release();
}

// Writes `data` into a fresh "<path>.tmp" and fsyncs it; returns the open descriptor. The caller
// links or renames it into place.
Result<int> WriteTmp(const std::string& path, std::string_view data) {
  std::string tmp = TmpPath(path);
  FdGuard fd(::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, kFileMode));
  if (fd.get() < 0) return std::unexpected(SysError("create", tmp, errno));
  auto fail = [&](Error e) -> Result<int> {
    ::unlink(tmp.c_str());
    return std::unexpected(std::move(e));
  };
  if (auto w = WriteAllAt(fd.get(), data, 0, tmp); !w) return fail(w.error());
  if (::fsync(fd.get()) != 0) return fail(SysError("fsync", tmp, errno));
  return fd.release();
}

}  // namespace

Log::Log(std::string path, LogMode mode, int fd, int lock_fd)
    : path_(std::move(path)), mode_(mode), fd_(fd), lock_fd_(lock_fd) {}

Log::Log(Log&& other) noexcept
    : path_(std::move(other.path_)),
      mode_(other.mode_),
      fd_(std::exchange(other.fd_, -1)),
      lock_fd_(std::exchange(other.lock_fd_, -1)),
      failed_(other.failed_),
      size_(other.size_),
      records_(other.records_),
      snapshot_size_(other.snapshot_size_),
      compactions_(other.compactions_),
      policy_(other.policy_),
      job_(std::exchange(other.job_, nullptr)) {}

Log& Log::operator=(Log&& other) noexcept {
  if (this != &other) {
    Close();
    path_ = std::move(other.path_);
    mode_ = other.mode_;
    fd_ = std::exchange(other.fd_, -1);
    lock_fd_ = std::exchange(other.lock_fd_, -1);
    failed_ = other.failed_;
    size_ = other.size_;
    records_ = other.records_;
    snapshot_size_ = other.snapshot_size_;
    compactions_ = other.compactions_;
    policy_ = other.policy_;
    job_ = std::exchange(other.job_, nullptr);
  }
  return *this;
}

Log::~Log() { Close(); }

void Log::Close() {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  // Closing the lock file's descriptor releases the flock.
  if (lock_fd_ >= 0) ::close(std::exchange(lock_fd_, -1));
}

Error Log::Fail(Error e) {
  failed_ = true;
  Logger().error("log {}: {}; refusing further writes until reopened", path_, e.message);
  return e;
}

Result<void> Log::CheckWritable(const char* op) const {
  if (mode_ != LogMode::kReadWrite) {
    return MakeError(Errc::kInvalid, fmt::format("{} on read-only log {}", op, path_));
  }
  if (fd_ < 0) return MakeError(Errc::kInvalid, fmt::format("{} on closed log", op));
  if (failed_) {
    return MakeError(Errc::kIo,
                     fmt::format("{} on log {} after an earlier write failure", op, path_));
  }
  return {};
}

Result<OpenResult> Log::Open(const std::string& path, LogMode mode,
                             const logfmt::RecordFn& on_record, const logfmt::RecordFn& on_schema) {
  bool rw = mode == LogMode::kReadWrite;
  Result<int> lock_fd = -1;
  if (rw && !(lock_fd = AcquireLock(path))) return std::unexpected(lock_fd.error());
  FdGuard lock(*lock_fd);
  FdGuard fd(::open(path.c_str(), (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC));
  if (fd.get() < 0) return std::unexpected(SysError("open log", path, errno));
  if (rw) {
    // Only a compaction (or Create) that crashed before its rename leaves a .tmp, and we hold the
    // lock, so nobody is writing it now.
    std::string tmp = TmpPath(path);
    if (::unlink(tmp.c_str()) == 0) {
      Logger().info("log {}: removed {} left by an interrupted compaction", path, tmp);
    } else if (errno != ENOENT) {
      Logger().warn("log {}: cannot remove stale {}: {}", path, tmp, std::strerror(errno));
    }
  }
  uint64_t file_size;
  Result<logfmt::ScanResult> scan;
  {
    Mapping data;
    if (auto m = data.Map(fd.get(), path); !m) return std::unexpected(m.error());
    file_size = data.data().size();
    scan = logfmt::Scan(data.data(), on_record, on_schema);
  }
  if (!scan) {
    Error e = scan.error();
    e.message = fmt::format("log {}: {}", path, e.message);
    return std::unexpected(std::move(e));
  }
  uint64_t discarded = file_size - scan->valid_end;
  if (!scan->tail_error.empty()) {
    Logger().warn("log {}: {}; {} {} bytes after offset {}", path, scan->tail_error,
                  rw ? "truncating" : "ignoring", discarded, scan->valid_end);
    if (rw) {
      if (::ftruncate(fd.get(), static_cast<off_t>(scan->valid_end)) != 0) {
        return std::unexpected(SysError("truncate", path, errno));
      }
      if (::fsync(fd.get()) != 0) return std::unexpected(SysError("fsync", path, errno));
    }
  }
  Log log(path, mode, fd.release(), lock.release());
  log.size_ = scan->valid_end;
  log.records_ = scan->n_records;
  log.snapshot_size_ = scan->first_record_end;
  return OpenResult{std::move(scan->schema),
                    std::move(scan->records),
                    std::move(scan->tail_error),
                    scan->valid_end,
                    discarded,
                    std::move(log)};
}

Result<Log> Log::Create(const std::string& path, const json& schema) {
  auto lock = AcquireLock(path);
  if (!lock) return std::unexpected(lock.error());
  FdGuard lock_guard(*lock);
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) return std::unexpected(SysError("create", path, EEXIST));
  auto rec = logfmt::EncodeRecord(schema);
  if (!rec) return std::unexpected(rec.error());
  std::string data = logfmt::FileHeader() + *rec;
  auto tmp_fd = WriteTmp(path, data);
  if (!tmp_fd) return std::unexpected(tmp_fd.error());
  FdGuard fd(*tmp_fd);
  std::string tmp = TmpPath(path);
  // link() rather than rename(): it refuses to replace an existing file, atomically.
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return std::unexpected(SysError("create", path, err));
  }
  ::unlink(tmp.c_str());
  if (auto s = FsyncDir(path); !s) return std::unexpected(s.error());
  Log log(path, LogMode::kReadWrite, fd.release(), lock_guard.release());
  log.size_ = log.snapshot_size_ = data.size();
  return log;
}

Result<void> Log::Append(const json& record, bool durable) {
  if (auto w = CheckWritable("append"); !w) return w;
  auto rec = logfmt::EncodeRecord(record);
  if (!rec) return std::unexpected(rec.error());
  return WriteRecord(*rec, durable);
}

Result<void> Log::AppendText(std::string_view json_text, bool durable) {
  if (auto w = CheckWritable("append"); !w) return w;
  if (json_text.empty() || json_text.size() > logfmt::kMaxRecordLength) {
    return MakeError(Errc::kInvalid,
                     fmt::format("record of {} bytes cannot be logged", json_text.size()));
  }
  return WriteRecord(logfmt::FrameRecord(json_text), durable);
}

Result<void> Log::WriteRecord(const std::string& rec, bool durable) {
  if (auto w = WriteAllAt(fd_, rec, size_, path_); !w) {
    // Cut off whatever part of the record reached the file so the log stays well-formed; if even
    // that fails the file state is unknown.
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) return std::unexpected(Fail(w.error()));
    return w;
  }
  if (durable && ::fdatasync(fd_) != 0) {
    // After a failed fsync the kernel may have dropped the dirty pages: retrying cannot tell us
    // whether the data is on disk, so stop here.
    return std::unexpected(Fail(SysError("fdatasync", path_, errno)));
  }
  size_ += rec.size();
  if (++records_ == 1) snapshot_size_ = size_;
  if (job_) job_->published_.store(size_, std::memory_order_release);
  return {};
}

Result<void> Log::Compact(const json& schema, const json& snapshot_record) {
  if (auto w = CheckWritable("compact"); !w) return w;
  std::string schema_text, snapshot_text;
  try {
    schema_text = schema.dump(-1, ' ', false, json::error_handler_t::strict);
    snapshot_text = snapshot_record.dump(-1, ' ', false, json::error_handler_t::strict);
  } catch (const json::exception& e) {
    return MakeError(Errc::kInvalid, std::string("record cannot be serialized: ") + e.what());
  }
  auto job = BeginCompaction();
  if (!job) return std::unexpected(job.error());
  if (auto w = WriteCompaction(**job, schema_text, snapshot_text); !w) {
    AbortCompaction(std::move(*job));
    return w;
  }
  return FinishCompaction(std::move(*job));
}

CompactionJob::~CompactionJob() {
  if (old_fd_ >= 0) ::close(old_fd_);
  if (new_fd_ >= 0) ::close(new_fd_);
}

Result<std::unique_ptr<CompactionJob>> Log::BeginCompaction() {
  if (auto w = CheckWritable("compact"); !w) return std::unexpected(w.error());
  if (job_) return MakeError(Errc::kBusy, fmt::format("log {} is being compacted", path_));
  std::unique_ptr<CompactionJob> job(new CompactionJob());
  job->path_ = path_;
  std::string tmp = TmpPath(path_);
  job->new_fd_ = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, kFileMode);
  if (job->new_fd_ < 0) return std::unexpected(SysError("create", tmp, errno));
  job->old_fd_ = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
  if (job->old_fd_ < 0) {
    ::unlink(tmp.c_str());
    return std::unexpected(SysError("dup", path_, errno));
  }
  struct stat st;
  if (::fstat(fd_, &st) == 0) ::fchmod(job->new_fd_, st.st_mode & 07777);  // keep the old mode
  job->from_ = job->copied_to_ = size_;
  job->records_at_begin_ = records_;
  job->published_.store(size_);
  job_ = job.get();
  return job;
}

Result<void> Log::WriteCompaction(CompactionJob& job, std::string_view schema_text,
                                  std::string_view snapshot_text) {
  if (snapshot_text.size() > logfmt::kMaxRecordLength) {
    return MakeError(Errc::kInvalid, fmt::format("snapshot of {} bytes exceeds the log's {} byte "
                                                 "record limit",
                                                 snapshot_text.size(), logfmt::kMaxRecordLength));
  }
  std::string tmp = TmpPath(job.path_);
  std::string head = logfmt::FileHeader() + logfmt::FrameRecord(schema_text);
  std::string snap = logfmt::FrameRecord(snapshot_text);
  if (auto w = WriteAllAt(job.new_fd_, head, 0, tmp); !w) return w;
  if (auto w = WriteAllAt(job.new_fd_, snap, head.size(), tmp); !w) return w;
  job.new_size_ = job.snapshot_end_ = head.size() + snap.size();
  if (::fsync(job.new_fd_) != 0) return std::unexpected(SysError("fsync", tmp, errno));
  // Catch up with the appends made meanwhile, so that little is left for FinishCompaction.
  for (int round = 0; round < 8; ++round) {
    uint64_t end = job.published_.load(std::memory_order_acquire);
    if (end - job.copied_to_ < (64 << 10)) break;
    auto n = CopyRange(job.old_fd_, job.copied_to_, end, job.new_fd_, job.new_size_, job.path_);
    if (!n) return std::unexpected(n.error());
    job.copied_to_ += *n;
    job.new_size_ += *n;
  }
  return {};
}

void Log::AbortCompaction(std::unique_ptr<CompactionJob> job) {
  if (job_ == job.get()) job_ = nullptr;
  ::unlink(TmpPath(job->path_).c_str());
}

Result<void> Log::FinishCompaction(std::unique_ptr<CompactionJob> job) {
  if (auto w = CheckWritable("compact"); !w) {
    AbortCompaction(std::move(job));
    return w;
  }
  std::string tmp = TmpPath(path_);
  auto fail = [&](Error e) -> Result<void> {
    AbortCompaction(std::move(job));
    return std::unexpected(std::move(e));
  };
  // The records appended since the job's last copy, then everything to disk.
  auto n = CopyRange(job->old_fd_, job->copied_to_, size_, job->new_fd_, job->new_size_, path_);
  if (!n) return fail(n.error());
  job->new_size_ += *n;
  if (::fdatasync(job->new_fd_) != 0) return fail(SysError("fdatasync", tmp, errno));
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    int err = errno;
    return fail(SysError("rename over", path_, err));
  }
  // The new file is in place: from here on this Log writes to it.
  ::close(std::exchange(fd_, std::exchange(job->new_fd_, -1)));
  size_ = job->new_size_;
  snapshot_size_ = job->snapshot_end_;
  records_ = 1 + (records_ - job->records_at_begin_);
  ++compactions_;
  job_ = nullptr;
  if (auto s = FsyncDir(path_); !s) return std::unexpected(Fail(s.error()));
  return {};
}

bool Log::ShouldCompact() const {
  uint64_t since = records_ > 0 ? records_ - 1 : 0;
  if (since < policy_.min_records) return false;
  // Every condition must hold: once a database is bigger than min_size on its own, compacting on
  // size alone would rewrite it every min_records commits.
  return size_ >= policy_.min_size &&
         static_cast<double>(size_) > policy_.max_growth * static_cast<double>(snapshot_size_);
}

LogStats Log::Stats() const {
  LogStats s;
  s.file_size = size_;
  s.records = records_;
  s.records_since_compaction = records_ > 0 ? records_ - 1 : 0;
  s.snapshot_size = snapshot_size_;
  s.bytes_since_compaction = size_ - snapshot_size_;
  s.compactions = compactions_;
  return s;
}

Result<std::vector<json>> ReadAll(const std::string& path) {
  auto r = Log::Open(path, LogMode::kReadOnly);
  if (!r) return std::unexpected(r.error());
  std::vector<json> out;
  out.reserve(r->records.size() + 1);
  out.push_back(std::move(r->schema));
  for (auto& rec : r->records) out.push_back(std::move(rec));
  return out;
}

}  // namespace sluice::db
