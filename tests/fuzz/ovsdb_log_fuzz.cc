// libFuzzer target: arbitrary bytes as an OVSDB log file (the storage that must never lose a
// committed transaction and must survive torn or corrupt tails).
//
// The bytes go through the log reader's scanner (logfmt::Scan) as they are, and framed behind a
// valid header and schema, and through Log::Open on a real file in read-only mode (which may
// not change the file). Whatever the scanner accepts as whole records must replay into a
// database of the schema without crashing, and re-framing those records must scan back to the
// same records with no tail error.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ovsdb/database.h"
#include "ovsdb/storage/log.h"
#include "ovsdb/storage/log_format.h"
#include "sluice/log.h"

namespace {

using namespace sluice;
using namespace sluice::db;
using Json = nlohmann::json;

[[noreturn]] void Die(const char* what, const std::string& detail = {}) {
  fprintf(stderr, "ovsdb_log_fuzz: %s\n%s\n", what, detail.c_str());
  abort();
}

const char* kSchema = R"({"name":"F","version":"1.0.0","tables":{
  "T":{"isRoot":true,"columns":{"s":{"type":"string"},"n":{"type":{"key":"integer","min":0,
  "max":"unlimited"}},"m":{"type":{"key":"string","value":"string","min":0,"max":"unlimited"}},
  "r":{"type":{"key":{"type":"uuid","refTable":"U"},"min":0,"max":"unlimited"}}}},
  "U":{"columns":{"x":{"type":"integer"}}}}})";

void Check(std::string_view bytes) {
  auto scan = logfmt::Scan(bytes);
  if (!scan) return;
  auto schema = DatabaseSchema::FromJson(scan->schema);
  if (schema) {
    Database db(std::move(*schema));
    for (const auto& rec : scan->records) (void)db.ApplyRecord(rec);
  }
  // Whole records re-framed scan back to themselves.
  auto header = logfmt::EncodeRecord(scan->schema);
  if (!header) return;
  std::string image = logfmt::FileHeader() + *header;
  for (const auto& rec : scan->records) {
    auto framed = logfmt::EncodeRecord(rec);
    if (!framed) return;
    image += *framed;
  }
  auto again = logfmt::Scan(image);
  if (!again) Die("re-framed records do not scan", again.error().message);
  if (!again->tail_error.empty()) Die("re-framed records have a tail error", again->tail_error);
  if (again->records != scan->records) Die("re-framed records differ");
}

std::string TempPath() {
  static const std::string path = "/tmp/sluice-log-fuzz-" + std::to_string(getpid()) + ".db";
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  sluice::log::Init("", spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Check(bytes);
  // The same bytes as the records after a valid header and schema, where they reach deeper.
  static const std::string prefix =
      logfmt::FileHeader() + *logfmt::EncodeRecord(Json::parse(kSchema));
  std::string framed = prefix + std::string(bytes);
  Check(framed);
  // And as a file opened read-only: the file must be left exactly as it was.
  int fd = ::open(TempPath().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) Die("cannot create the temporary log file");
  if (::write(fd, framed.data(), framed.size()) != static_cast<ssize_t>(framed.size())) {
    Die("cannot write the temporary log file");
  }
  ::close(fd);
  (void)Log::Open(TempPath(), LogMode::kReadOnly);
  fd = ::open(TempPath().c_str(), O_RDONLY | O_CLOEXEC);
  std::string after(framed.size() + 1, '\0');
  ssize_t n = ::read(fd, after.data(), after.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(framed.size()) || after.compare(0, framed.size(), framed) != 0) {
    Die("a read-only open changed the file");
  }
  return 0;
}
