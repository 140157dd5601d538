// OvsdbServer's log compaction, off the server's thread: the server thread takes a DbSnapshot
// (a reference to every row; O(rows), no copies) and begins the log's compaction at the same
// commit; a worker thread serializes the snapshot, writes and fsyncs the new file and copies
// the records committed meanwhile; the server thread then copies the last few records and
// renames the file into place. Transactions go on throughout; rows they change while the
// snapshot holds them are copied instead of being changed in place.
#include <chrono>

#include "ovsdb/server/server.h"
#include "ovsdb/server/server_internal.h"
#include "sluice/log.h"

namespace sluice::db {
namespace {

auto Log_() {
  static auto l = log::Get("ovsdb_server");
  return l;
}

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void OvsdbServer::StartCompaction(DbEntry& e, std::function<void(Result<void>)> done) {
  if (e.compaction) {
    if (done) e.compaction->done.push_back(std::move(done));
    return;
  }
  auto job = e.log->BeginCompaction();
  if (!job) {
    Log_()->warn("{}: cannot compact: {}", e.path, job.error().message);
    if (done) done(std::unexpected(job.error()));
    return;
  }
  auto c = std::make_unique<Compaction>();
  c->job = std::move(*job);
  c->snapshot = std::make_unique<DbSnapshot>(*e.db);
  c->schema_text = e.db->schema().ToJson().dump();
  c->started_ms = SteadyMs();
  if (done) c->done.push_back(std::move(done));
  Compaction* cp = c.get();
  e.compaction = std::move(c);
  cp->thread = std::thread([this, cp, &e] {
    std::string record = cp->snapshot->Record(WallMs());
    cp->snapshot.reset();  // releases the rows
    cp->written = Log::WriteCompaction(*cp->job, cp->schema_text, record);
    asio::post(io_, [this, &e] { FinishCompaction(e); });
  });
}

void OvsdbServer::FinishCompaction(DbEntry& e) {
  if (!e.compaction) return;
  std::unique_ptr<Compaction> c = std::move(e.compaction);
  c->thread.join();
  Result<void> r = c->written;
  uint64_t copied = c->job->copied_bytes();
  if (r) {
    r = e.log->FinishCompaction(std::move(c->job));
  } else {
    e.log->AbortCompaction(std::move(c->job));
  }
  if (r) {
    Log_()->info("{}: compacted in {} ms ({} bytes now, {} bytes of records copied meanwhile)",
                 e.path, SteadyMs() - c->started_ms, e.log->Stats().file_size, copied);
  } else {
    Log_()->warn("{}: compaction failed: {}", e.path, r.error().message);
  }
  for (auto& fn : c->done) fn(r);
}

void OvsdbServer::AbandonCompactions() {
  for (auto& [name, e] : dbs_) {
    if (!e->compaction) continue;
    e->compaction->thread.join();
    e->log->AbortCompaction(std::move(e->compaction->job));
    e->compaction.reset();
  }
}

void OvsdbServer::CompactAllAsync(std::function<void(Result<void>)> done) {
  asio::post(io_, [this, done = std::move(done)] {
    struct State {
      size_t left = 1;
      Result<void> result;
      std::function<void(Result<void>)> done;
    };
    auto st = std::make_shared<State>();
    st->done = done;
    auto one = [st](Result<void> r) {
      if (!r && st->result) st->result = std::move(r);
      if (--st->left == 0 && st->done) st->done(st->result);
    };
    for (auto& [name, e] : dbs_) {
      if (!e->log) continue;
      ++st->left;
      // A compaction already running shows an older state: wait for it, then compact again.
      if (e->compaction) {
        DbEntry* ep = e.get();
        e->compaction->done.push_back([this, ep, one](Result<void> r) {
          if (!r) return one(std::move(r));
          StartCompaction(*ep, one);
        });
      } else {
        StartCompaction(*e, one);
      }
    }
    one({});
  });
}

Result<void> OvsdbServer::CompactAll() {
  if (!thread_.joinable() || thread_.get_id() == std::this_thread::get_id()) {
    // On the server's own thread nothing else can run meanwhile: compact in place.
    for (auto& [name, e] : dbs_) {
      if (!e->log) continue;
      if (e->compaction) FinishCompaction(*e);
      if (auto r = e->log->Compact(e->db->schema().ToJson(), e->db->Snapshot()); !r) return r;
    }
    return {};
  }
  std::promise<Result<void>> p;
  auto f = p.get_future();
  CompactAllAsync([&p](Result<void> r) { p.set_value(std::move(r)); });
  return f.get();
}

void RegisterOvsdbServerCommands(UnixctlServer& unixctl, asio::io_context& unixctl_io,
                                 OvsdbServer& server) {
  using Args = UnixctlServer::Args;
  using Done = UnixctlServer::Done;
  // Replies once the compacted files are in place; the server keeps committing meanwhile.
  unixctl.RegisterAsync("ovsdb-server/compact", "[DB]", 0, 1,
                        [&server, &unixctl_io](const Args&, Done done) {
                          server.CompactAllAsync([&unixctl_io, done](Result<void> r) {
                            asio::post(unixctl_io, [done, r] {
                              if (r) {
                                done(std::string());
                              } else {
                                done(std::unexpected(r.error()));
                              }
                            });
                          });
                        });
  unixctl.Register("ovsdb-server/list-dbs", "", 0, 0,
                   [&server](const Args&) -> Result<std::string> {
                     std::string out;
                     for (const auto& n : server.DatabaseNames()) out += n + "\n";
                     return out;
                   });
}

}  // namespace sluice::db
