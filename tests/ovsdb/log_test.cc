#include "ovsdb/storage/log.h"

#include <sys/stat.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ovsdb/log_test_util.h"
#include "ovsdb/storage/crc32c.h"
#include "ovsdb/storage/log_format.h"

namespace sluice::db {
namespace {

using nlohmann::json;
using test::LogDirTest;

json Schema(const std::string& name = "Open_vSwitch") {
  return {{"name", name},
          {"version", "8.3.0"},
          {"tables", {{"Bridge", {{"columns", json::object()}}}}}};
}

json Txn(int i) {
  return {{"Bridge", {{"uuid-" + std::to_string(i), {{"name", "br" + std::to_string(i)}}}}},
          {"_comment", "txn " + std::to_string(i)}};
}

// Bitwise reference implementation to check the table-driven one against.
uint32_t SlowCrc32c(std::string_view d) {
  uint32_t c = 0xFFFFFFFF;
  for (unsigned char b : d) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
  }
  return ~c;
}

TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);    // RFC 3720 B.4
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62A8AB43u);  // RFC 3720 B.4
  std::string s;
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(Crc32c(s), SlowCrc32c(s)) << "length " << i;
    s.push_back(static_cast<char>(i * 7 + 3));
  }
  // Continuing a checksum equals checksumming the concatenation.
  EXPECT_EQ(Crc32c(s.substr(13), Crc32c(s.substr(0, 13))), Crc32c(s));
}

TEST(LogFormatTest, Framing) {
  EXPECT_EQ(logfmt::FileHeader(), "SLUICE-OVSDB-LOG 1\n");
  char crc[9];
  std::snprintf(crc, sizeof(crc), "%08x", Crc32c("{\"a\":1}"));
  EXPECT_EQ(logfmt::FrameRecord("{\"a\":1}"), std::string("REC 7 ") + crc + "\n{\"a\":1}\n");
  auto enc = logfmt::EncodeRecord(json{{"a", 1}});
  ASSERT_TRUE(enc);
  EXPECT_EQ(*enc, logfmt::FrameRecord("{\"a\":1}"));
  auto scan = logfmt::Scan(logfmt::FileHeader() + *enc + *enc);
  ASSERT_TRUE(scan);
  EXPECT_EQ(scan->schema, (json{{"a", 1}}));
  EXPECT_EQ(scan->records.size(), 1u);
  EXPECT_TRUE(scan->tail_error.empty());
}

TEST(LogFormatTest, RejectsUnserializableRecord) {
  auto enc = logfmt::EncodeRecord(json{{"bad", std::string("\xff\xfe")}});
  ASSERT_FALSE(enc);
  EXPECT_EQ(enc.error().code, Errc::kInvalid);
}

class LogTest : public LogDirTest {
 protected:
  // Creates a log with `n` transactions; returns the file size before the last one.
  uint64_t Populate(int n) {
    auto log = Log::Create(path_, Schema());
    EXPECT_TRUE(log) << log.error().message;
    uint64_t before_last = 0;
    for (int i = 0; i < n; ++i) {
      before_last = log->Stats().file_size;
      EXPECT_TRUE(log->Append(Txn(i), i % 2 == 0));
    }
    return before_last;
  }
  std::vector<json> Txns(int from, int to) {
    std::vector<json> v;
    for (int i = from; i < to; ++i) v.push_back(Txn(i));
    return v;
  }
};

TEST_F(LogTest, RoundTrip) {
  Populate(100);
  auto r = Log::Open(path_);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->schema, Schema());
  EXPECT_EQ(r->records, Txns(0, 100));
  EXPECT_TRUE(r->tail_error.empty());
  EXPECT_EQ(r->discarded_bytes, 0u);
  EXPECT_EQ(r->valid_size, FileSize(path_));
  LogStats s = r->log.Stats();
  EXPECT_EQ(s.file_size, FileSize(path_));
  EXPECT_EQ(s.records, 100u);
  EXPECT_EQ(s.records_since_compaction, 99u);
  // Appending after reopen continues the same sequence.
  ASSERT_TRUE(r->log.Append(Txn(100)));
  r = Log::Open(path_, LogMode::kReadOnly);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->records, Txns(0, 101));
}

TEST_F(LogTest, FileIsReadableText) {
  Populate(1);
  std::string data = ReadBytes(path_);
  EXPECT_TRUE(data.starts_with("SLUICE-OVSDB-LOG 1\nREC ")) << data;
  EXPECT_NE(data.find("\n{\"Bridge\":{\"uuid-0\":{\"name\":\"br0\"}},\"_comment\":\"txn 0\"}\n"),
            std::string::npos)
      << data;
  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0027, 0u) << "no group write, no access for others";
}

TEST_F(LogTest, CreateAndOpenErrors) {
  auto missing = Log::Open(path_);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
  EXPECT_EQ(missing.error().sys_errno, ENOENT);
  Populate(0);
  auto again = Log::Create(path_, Schema());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kExists);
  EXPECT_FALSE(Exists(path_ + ".tmp"));
  auto r = Log::Open(path_);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->records.empty());
  EXPECT_FALSE(Log::Create(dir_ + "/no/such/dir/db", Schema()));
}

TEST_F(LogTest, NotALogIsAnError) {
  WriteBytes(path_, "this is not a database\n");
  auto r = Log::Open(path_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalid);
  WriteBytes(path_, "SLUICE-OVSDB-LOG 2\n");
  r = Log::Open(path_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kUnsupported);
  WriteBytes(path_, "");
  EXPECT_FALSE(Log::Open(path_));
  // A torn schema leaves nothing to salvage: refuse rather than truncate to an empty log.
  std::string whole = logfmt::FileHeader() + *logfmt::EncodeRecord(Schema());
  WriteBytes(path_, whole.substr(0, whole.size() - 3));
  r = Log::Open(path_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalid);
  EXPECT_NE(r.error().message.find("schema"), std::string::npos) << r.error().message;
  EXPECT_EQ(FileSize(path_), whole.size() - 3);
}

TEST_F(LogTest, TornTailAtEveryOffset) {
  uint64_t last_start = Populate(5);
  std::string full = ReadBytes(path_);
  ASSERT_GT(full.size(), last_start);
  for (uint64_t len = last_start; len < full.size(); ++len) {
    SCOPED_TRACE("file cut to " + std::to_string(len) + " of " + std::to_string(full.size()));
    WriteBytes(path_, full.substr(0, len));
    // Read-only: reports but leaves the file alone.
    auto ro = Log::Open(path_, LogMode::kReadOnly);
    ASSERT_TRUE(ro) << ro.error().message;
    EXPECT_EQ(ro->records, Txns(0, 4));
    EXPECT_EQ(FileSize(path_), len);
    {
      auto r = Log::Open(path_);
      ASSERT_TRUE(r) << r.error().message;
      EXPECT_EQ(r->records, Txns(0, 4));
      EXPECT_EQ(r->valid_size, last_start);
      EXPECT_EQ(r->discarded_bytes, len - last_start);
      if (len == last_start) {
        EXPECT_TRUE(r->tail_error.empty());
      } else {
        EXPECT_NE(r->tail_error.find("offset " + std::to_string(last_start) + ":"),
                  std::string::npos)
            << r->tail_error;
      }
      EXPECT_EQ(FileSize(path_), last_start);
      ASSERT_TRUE(r->log.Append(Txn(100)));
    }
    auto r = Log::Open(path_);
    ASSERT_TRUE(r);
    std::vector<json> want = Txns(0, 4);
    want.push_back(Txn(100));
    EXPECT_EQ(r->records, want);
    EXPECT_TRUE(r->tail_error.empty());
  }
}

TEST_F(LogTest, FlippedByteInLastRecordIsCut) {
  uint64_t last_start = Populate(5);
  std::string full = ReadBytes(path_);
  for (uint64_t pos = last_start; pos < full.size(); ++pos) {
    for (char mask : {'\x01', '\x40'}) {
      SCOPED_TRACE("flip at " + std::to_string(pos) + " mask " + std::to_string(mask));
      std::string bad = full;
      bad[pos] ^= mask;
      WriteBytes(path_, bad);
      auto r = Log::Open(path_);
      ASSERT_TRUE(r) << r.error().message;
      EXPECT_EQ(r->records, Txns(0, 4));
      EXPECT_FALSE(r->tail_error.empty());
      EXPECT_EQ(FileSize(path_), last_start);
    }
  }
}

TEST_F(LogTest, ChecksumMismatchIsReported) {
  uint64_t last_start = Populate(3);
  std::string data = ReadBytes(path_);
  size_t brace = data.find("\n{", last_start) + 1;
  data[brace + 3] ^= 0x01;  // inside the JSON text
  WriteBytes(path_, data);
  auto r = Log::Open(path_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->tail_error.find("offset " + std::to_string(last_start) + ": checksum mismatch"), 0u)
      << r->tail_error;
  EXPECT_EQ(r->records, Txns(0, 2));
}

TEST_F(LogTest, CorruptMiddleRecordCutsEverythingAfterIt) {
  Populate(6);
  auto ro = Log::Open(path_, LogMode::kReadOnly);
  ASSERT_TRUE(ro);
  std::string data = ReadBytes(path_);
  // Find the start of the third record (index 2).
  size_t off = data.find("REC ");
  for (int i = 0; i < 3; ++i) off = data.find("\nREC ", off) + 1;
  data[off + 20] ^= 0x04;
  WriteBytes(path_, data);
  auto r = Log::Open(path_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->records, Txns(0, 2));
  EXPECT_EQ(FileSize(path_), off);
}

TEST_F(LogTest, ValidChecksumButInvalidJsonIsCut) {
  Populate(2);
  uint64_t good = FileSize(path_);
  WriteBytes(path_, ReadBytes(path_) + logfmt::FrameRecord("{\"unterminated\": "));
  auto r = Log::Open(path_);
  ASSERT_TRUE(r);
  EXPECT_NE(r->tail_error.find("not valid JSON"), std::string::npos) << r->tail_error;
  EXPECT_EQ(r->records, Txns(0, 2));
  EXPECT_EQ(FileSize(path_), good);
}

TEST_F(LogTest, GarbageAfterValidRecordsIsCut) {
  Populate(3);
  uint64_t good = FileSize(path_);
  std::string valid = ReadBytes(path_);
  for (const std::string& junk :
       {std::string("hello world\n"), std::string(4096, '\0'), std::string("REC 99999999999 0\n"),
        std::string("REC 5 zzzzzzzz\nhello\n"), std::string("REC 2000000000 00000000\n{}\n"),
        std::string("R")}) {
    WriteBytes(path_, valid + junk);
    auto r = Log::Open(path_);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->tail_error.empty());
    EXPECT_EQ(r->records, Txns(0, 3));
    EXPECT_EQ(r->discarded_bytes, junk.size());
    EXPECT_EQ(FileSize(path_), good);
  }
}

TEST_F(LogTest, CompactReplacesHistory) {
  auto log = Log::Create(path_, Schema());
  ASSERT_TRUE(log);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(log->Append(Txn(i)));
  uint64_t before = log->Stats().file_size;
  json snapshot = {{"snapshot", Txns(0, 10)}};
  ASSERT_TRUE(log->Compact(Schema("v2"), snapshot));
  EXPECT_FALSE(Exists(path_ + ".tmp"));
  LogStats s = log->Stats();
  EXPECT_EQ(s.file_size, FileSize(path_));
  EXPECT_EQ(s.records, 1u);
  EXPECT_EQ(s.records_since_compaction, 0u);
  EXPECT_EQ(s.bytes_since_compaction, 0u);
  EXPECT_EQ(s.snapshot_size, s.file_size);
  EXPECT_EQ(s.compactions, 1u);
  EXPECT_LT(s.file_size, before + 2000);
  for (int i = 10; i < 13; ++i) ASSERT_TRUE(log->Append(Txn(i), false));
  s = log->Stats();
  EXPECT_EQ(s.records_since_compaction, 3u);
  EXPECT_EQ(s.bytes_since_compaction, s.file_size - s.snapshot_size);
  EXPECT_EQ(FileSize(path_), s.file_size);
  *log = std::move(*Log::Create(dir_ + "/other.db", Schema()));  // closes the compacted log
  auto r = Log::Open(path_);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->schema, Schema("v2"));
  std::vector<json> want = {snapshot};
  for (auto& t : Txns(10, 13)) want.push_back(t);
  EXPECT_EQ(r->records, want);
  EXPECT_EQ(r->log.Stats().records_since_compaction, 3u);
  EXPECT_EQ(r->log.Stats().snapshot_size, s.snapshot_size);
  // A second compaction on a reopened log works too.
  ASSERT_TRUE(r->log.Compact(Schema("v3"), json{{"snapshot", 2}}));
  ASSERT_TRUE(r->log.Append(Txn(20)));
  auto all = ReadAll(path_);
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, (std::vector<json>{Schema("v3"), json{{"snapshot", 2}}, Txn(20)}));
}

TEST_F(LogTest, CompactKeepsFileMode) {
  Populate(1);
  ASSERT_EQ(::chmod(path_.c_str(), 0600), 0);
  auto r = Log::Open(path_);
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->log.Compact(Schema(), json::object()));
  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(LogTest, LeftoverTmpFromCrashedCompactionIsIgnoredAndRemoved) {
  Populate(4);
  // What a compaction killed before its rename leaves: a partial new file.
  WriteBytes(path_ + ".tmp", logfmt::FileHeader() + "REC 10 0000");
  auto ro = Log::Open(path_, LogMode::kReadOnly);
  ASSERT_TRUE(ro);
  EXPECT_EQ(ro->records, Txns(0, 4));
  EXPECT_TRUE(Exists(path_ + ".tmp"));  // read-only never modifies anything
  auto r = Log::Open(path_);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->schema, Schema());
  EXPECT_EQ(r->records, Txns(0, 4));
  EXPECT_TRUE(r->tail_error.empty());
  EXPECT_FALSE(Exists(path_ + ".tmp"));
  ASSERT_TRUE(r->log.Compact(Schema(), json{{"snap", 1}}));
  EXPECT_EQ(*ReadAll(path_), (std::vector<json>{Schema(), json{{"snap", 1}}}));
}

TEST_F(LogTest, FailedCompactionLeavesOldFileUsable) {
  Populate(4);
  auto r = Log::Open(path_);
  ASSERT_TRUE(r);
  std::string before = ReadBytes(path_);
  // A directory where the tmp file must go makes its creation fail even for root.
  ASSERT_TRUE(std::filesystem::create_directory(path_ + ".tmp"));
  auto c = r->log.Compact(Schema("v2"), json{{"snap", 1}});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::kIo);
  EXPECT_NE(c.error().sys_errno, 0);
  EXPECT_EQ(ReadBytes(path_), before);
  EXPECT_EQ(r->log.Stats().compactions, 0u);
  ASSERT_TRUE(r->log.Append(Txn(4)));
  std::filesystem::remove(path_ + ".tmp");
  auto again = Log::Open(path_, LogMode::kReadOnly);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->schema, Schema());
  EXPECT_EQ(again->records, Txns(0, 5));
}

TEST_F(LogTest, ShouldCompactPolicy) {
  auto log = Log::Create(path_, Schema());
  ASSERT_TRUE(log);
  EXPECT_EQ(log->compaction_policy().min_size, uint64_t{10} << 20);
  EXPECT_EQ(log->compaction_policy().min_records, 100u);
  EXPECT_FALSE(log->ShouldCompact());
  ASSERT_TRUE(log->Append(json{{"snapshot", std::string(4000, 'x')}}, false));
  // Growth rule: 50 small records do not reach 4x the snapshot-sized base...
  log->SetCompactionPolicy({.min_size = 0, .min_records = 10, .max_growth = 4.0});
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(log->Append(Txn(i), false));
  LogStats s = log->Stats();
  ASSERT_LT(s.file_size, 4 * s.snapshot_size);
  EXPECT_FALSE(log->ShouldCompact());
  // ...but enough records do.
  while (log->Stats().file_size <= 4 * s.snapshot_size) {
    EXPECT_FALSE(log->ShouldCompact());
    ASSERT_TRUE(log->Append(Txn(0), false));
  }
  EXPECT_TRUE(log->ShouldCompact());
  // The record floor and the size floor apply as well.
  log->SetCompactionPolicy({.min_size = 0, .min_records = 100000, .max_growth = 4.0});
  EXPECT_FALSE(log->ShouldCompact());
  log->SetCompactionPolicy(
      {.min_size = log->Stats().file_size + 1, .min_records = 10, .max_growth = 4.0});
  EXPECT_FALSE(log->ShouldCompact());
  log->SetCompactionPolicy(
      {.min_size = log->Stats().file_size, .min_records = 10, .max_growth = 4.0});
  EXPECT_TRUE(log->ShouldCompact());
  // A big database that has not grown since its snapshot is not rewritten again and again.
  ASSERT_TRUE(log->Compact(Schema(), json{{"snapshot", std::string(4000, 'y')}}));
  log->SetCompactionPolicy({.min_size = 0, .min_records = 0, .max_growth = 4.0});
  EXPECT_FALSE(log->ShouldCompact());
  log->SetCompactionPolicy({.min_size = 0, .min_records = 0, .max_growth = 0});
  EXPECT_TRUE(log->ShouldCompact());
  log->SetCompactionPolicy({.min_size = 0, .min_records = 1, .max_growth = 0});
  EXPECT_FALSE(log->ShouldCompact());
}

TEST_F(LogTest, SecondWriterIsRefused) {
  Populate(1);
  auto a = Log::Open(path_);
  ASSERT_TRUE(a);
  auto b = Log::Open(path_);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, Errc::kBusy);
  auto c = Log::Create(path_, Schema());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::kBusy);
  EXPECT_TRUE(Log::Open(path_, LogMode::kReadOnly));
  EXPECT_TRUE(ReadAll(path_));
  { OpenResult gone = std::move(*a); }  // releases the lock
  EXPECT_TRUE(Log::Open(path_));
}

TEST_F(LogTest, ReadOnlyLogRefusesWrites) {
  Populate(2);
  auto r = Log::Open(path_, LogMode::kReadOnly);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->log.mode(), LogMode::kReadOnly);
  auto a = r->log.Append(Txn(9));
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, Errc::kInvalid);
  auto c = r->log.Compact(Schema(), json::object());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::kInvalid);
  EXPECT_EQ(*ReadAll(path_), (std::vector<json>{Schema(), Txn(0), Txn(1)}));
}

TEST_F(LogTest, BadRecordIsRejectedAndLogStaysUsable) {
  auto log = Log::Create(path_, Schema());
  ASSERT_TRUE(log);
  auto a = log->Append(json{{"name", std::string("\xc3\x28")}});  // invalid UTF-8
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, Errc::kInvalid);
  EXPECT_FALSE(log->Compact(Schema(), json{{"x", std::string("\xff")}}));
  ASSERT_TRUE(log->Append(Txn(1)));
  EXPECT_EQ(*ReadAll(path_), (std::vector<json>{Schema(), Txn(1)}));
}

TEST_F(LogTest, MovedLogKeepsWorking) {
  auto created = Log::Create(path_, Schema());
  ASSERT_TRUE(created);
  Log log = std::move(*created);
  ASSERT_TRUE(log.Append(Txn(0)));
  Log other = std::move(log);
  ASSERT_TRUE(other.Append(Txn(1)));
  EXPECT_FALSE(log.Append(Txn(2)));  // NOLINT(bugprone-use-after-move): moved-from is closed
  EXPECT_EQ(other.path(), path_);
  EXPECT_EQ(*ReadAll(path_), (std::vector<json>{Schema(), Txn(0), Txn(1)}));
}

TEST_F(LogTest, ReadAllErrors) {
  auto r = ReadAll(path_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kNotFound);
  Populate(1);
  WriteBytes(path_, ReadBytes(path_) + "junk");
  auto all = ReadAll(path_);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 2u);
  EXPECT_EQ(FileSize(path_), ReadBytes(path_).size());
  EXPECT_TRUE(ReadBytes(path_).ends_with("junk"));
}

}  // namespace
}  // namespace sluice::db
