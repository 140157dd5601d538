// libFuzzer target: arbitrary bytes as an OVSDB JSON-RPC stream.
//
// Two paths per input, both against a fresh in-memory database of the small schema below (fresh
// every input, so a crash reproduces from its input alone):
//   1. The whole server path: an in-process OvsdbServer listening on a private unix socket gets
//      the bytes from a client connection exactly as a peer would send them (framing by
//      JsonStreamSplitter inside JsonRpcConnection, JSON parsing, method dispatch: transact,
//      monitor/monitor_cond/monitor_cond_since/monitor_cond_change, lock/steal/unlock, echo,
//      get_schema, ...). The client then half-closes and drains the replies until the server
//      hangs up.
//   2. The database directly, which reaches deeper per input: the bytes are split with
//      JsonStreamSplitter; each JSON text (or the params of a JSON-RPC transact/monitor request)
//      runs through Database::Execute and Monitor::Parse (all three versions, then Initial and
//      ChangeConditions; the first few monitor requests then see every later commit's change
//      set through Updates). Every committed storage record is replayed into a second
//      database with ApplyRecord, and the two snapshots must be equal: what the log would hold
//      must rebuild exactly what clients saw committed.
// The process must never crash, leak or trip ASan/UBSan.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/json_stream.h"
#include "ovsdb/database.h"
#include "ovsdb/server/monitor.h"
#include "ovsdb/server/server.h"
#include "sluice/log.h"

namespace {

using Json = nlohmann::json;
using namespace sluice;
using namespace sluice::db;

constexpr const char* kSchema = R"({
  "name": "Fuzz", "version": "1.0.0",
  "tables": {
    "Root": {"isRoot": true, "maxRows": 2, "columns": {
      "items": {"type": {"key": {"type": "uuid", "refTable": "Item"}, "min": 0,
                         "max": "unlimited"}},
      "weak": {"type": {"key": {"type": "uuid", "refTable": "Item", "refType": "weak"},
                        "min": 0, "max": 3}},
      "cfg": {"type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 100}}},
      "mode": {"type": {"key": {"type": "string", "enum": ["set", ["a", "b", "c"]]},
                        "min": 0, "max": 1}},
      "stats": {"type": {"key": "string", "value": "real", "min": 0, "max": "unlimited"},
                "ephemeral": true}}},
    "Item": {"indexes": [["name"]], "columns": {
      "name": {"type": {"key": {"type": "string", "minLength": 1, "maxLength": 16}}},
      "n": {"type": {"key": "integer", "min": 0, "max": 1}},
      "flag": {"type": "boolean"},
      "tags": {"type": {"key": "string", "min": 0, "max": "unlimited"}},
      "opts": {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
      "peer": {"type": {"key": {"type": "uuid", "refTable": "Item", "refType": "weak"},
                        "min": 0, "max": 1}}}},
    "Log": {"isRoot": true, "columns": {
      "seq": {"type": "integer"},
      "v": {"type": "real"},
      "u": {"type": {"key": "uuid", "min": 0, "max": 1}}}}}})";

std::unique_ptr<Database> NewDatabase() {
  static const Json schema_json = Json::parse(kSchema);
  auto schema = DatabaseSchema::FromJson(schema_json);
  if (!schema) {
    fprintf(stderr, "fuzz schema rejected: %s\n", schema.error().message.c_str());
    abort();
  }
  return std::make_unique<Database>(std::move(*schema));
}

Json WithoutDate(Json snapshot) {
  snapshot.erase("_date");
  return snapshot;
}

// ---- Path 2: the database and monitors, directly ------------------------------------------

struct Direct {
  std::unique_ptr<Database> db = NewDatabase();
  std::unique_ptr<Database> replica = NewDatabase();  // fed only the storage records
  // Monitor requests seen so far (a few): each commit's change set runs through them.
  std::vector<Json> monitor_requests;

  void Updates(const ChangeSet& changes) {
    for (const Json& requests : monitor_requests) {
      for (int version = 1; version <= 3; ++version) {
        auto m = db::Monitor::Parse(*db, requests, version);
        if (!m) continue;
        (void)m->Updates(changes);
        (void)m->ChangeConditions(*db, requests);
        (void)m->Updates(changes);
      }
    }
  }

  void Execute(const Json& ops) {
    TxnContext ctx;
    ctx.owns_lock = [](const std::string& lock) { return lock.size() % 2 == 0; };
    ctx.now_ms = 1;
    ctx.on_commit = [this](const ChangeSet& changes) { Updates(changes); };
    TxnOutcome out = db->Execute(ops, ctx);
    if (out.blocked) return;
    if (!out.reply.is_array()) {
      fprintf(stderr, "transact reply is not an array: %s\n", out.reply.dump().c_str());
      abort();
    }
    if (!out.record.empty()) {
      Json record = Json::parse(out.record, nullptr, false);
      if (record.is_discarded()) {
        fprintf(stderr, "storage record is not JSON: %s\n", out.record.c_str());
        abort();
      }
      auto r = replica->ApplyRecord(record);
      if (!r) {
        fprintf(stderr, "replaying a committed record failed: %s\nrecord: %s\n",
                r.error().message.c_str(), out.record.c_str());
        abort();
      }
    }
    Json a = WithoutDate(db->Snapshot()), b = WithoutDate(replica->Snapshot());
    if (a != b) {
      fprintf(stderr, "replica diverged after %s\ndb:      %s\nreplica: %s\nrecord:  %s\n",
              ops.dump().c_str(), a.dump().c_str(), b.dump().c_str(), out.record.c_str());
      abort();
    }
  }

  void Monitor(const Json& requests) {
    for (int version = 1; version <= 3; ++version) {
      auto m = db::Monitor::Parse(*db, requests, version);
      if (!m) continue;
      (void)m->Initial(*db);
      (void)m->ChangeConditions(*db, requests);
      (void)m->Initial(*db);
    }
    if (monitor_requests.size() < 4) monitor_requests.push_back(requests);
  }

  void Text(const std::string& text) {
    Json j = Json::parse(text, nullptr, false);
    if (j.is_discarded()) return;
    if (j.is_array()) {
      // A bare transact params array, with or without the database name in front.
      if (!j.empty() && j[0].is_string()) {
        Json ops = j;
        ops.erase(0);
        Execute(ops);
      } else {
        Execute(j);
      }
      return;
    }
    if (!j.is_object()) return;
    auto params = j.find("params");
    auto method = j.find("method");
    if (params != j.end() && params->is_array() && method != j.end() && method->is_string()) {
      const std::string& m = method->get_ref<const std::string&>();
      if (m == "transact" && !params->empty()) {
        Json ops = *params;
        ops.erase(0);
        Execute(ops);
      } else if (m.starts_with("monitor") && params->size() >= 3) {
        Monitor((*params)[2]);
      }
      return;
    }
    Monitor(j);  // a bare monitor-requests object
  }
};

void RunDirect(std::string_view bytes) {
  Direct d;
  JsonStreamSplitter splitter(1 << 20);
  if (!splitter.Feed(bytes)) return;
  int n = 0;
  while (auto text = splitter.Next()) {
    if (++n > 64) break;  // bound the work per input
    d.Text(*text);
  }
}

// ---- Path 1: the server over a unix socket ------------------------------------------------

std::string SocketPath() {
  static const std::string path = "/tmp/sluice-ovsdb-fuzz-" + std::to_string(getpid()) + ".sock";
  return path;
}

int ConnectClient(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) abort();
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  // The listener is bound and listening, so a nonblocking connect completes at once.
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    perror("connect to the fuzz server");
    abort();
  }
  return fd;
}

void RunServer(std::string_view bytes) {
  asio::io_context io;
  {
    ServerOptions opts;
    opts.limits.max_message = 1 << 20;
    opts.limits.max_backlog = 8 << 20;
    OvsdbServer server(io, opts);
    if (!server.AddDatabase(NewDatabase())) abort();
    if (!server.AddRemote("punix:" + SocketPath())) abort();
    int fd = ConnectClient(SocketPath());

    size_t sent = 0;
    bool write_open = true, eof = false;
    char buf[65536];
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!eof && std::chrono::steady_clock::now() < deadline) {
      if (write_open) {
        if (sent < bytes.size()) {
          ssize_t w = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
          if (w > 0) {
            sent += static_cast<size_t>(w);
          } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            write_open = false;  // the server hung up first (syntax error, oversize message)
          }
        }
        if (sent == bytes.size() && write_open) {
          shutdown(fd, SHUT_WR);  // EOF: the server finishes what it got, then closes
          write_open = false;
        }
      }
      for (;;) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r > 0) continue;
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) eof = true;
        break;
      }
      if (io.poll() == 0) io.run_one_for(std::chrono::milliseconds(1));
    }
    close(fd);
  }  // ~OvsdbServer closes any session left
  io.restart();
  io.poll();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  sluice::log::Init("", spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  RunDirect(bytes);
  RunServer(bytes);
  return 0;
}
