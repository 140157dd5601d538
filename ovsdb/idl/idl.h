// The client-side IDL: a local replica of chosen tables and columns of a remote OVSDB database,
// kept current through monitor_cond (update2), with change tracking for the consumer and a
// transaction builder with optimistic concurrency: what a transaction read is verified with
// "wait" operations, and a conflict comes back as kTryAgain for the caller to retry on the
// newer replica. Reconnects with back-off and resynchronises fully.
// Runs on the caller's asio io_context (the control thread).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <asio.hpp>
#include <nlohmann/json.hpp>

#include "common/jsonrpc.h"
#include "ovsdb/datum.h"
#include "ovsdb/schema.h"
#include "ovsdb/uuid.h"

namespace sluice::db {

struct IdlRow {
  Uuid uuid;
  std::map<std::string, Datum> columns;  // only the replicated columns
  const Datum* Get(const std::string& column) const;
  // Convenience accessors for scalar and optional columns.
  std::string GetString(const std::string& column, const std::string& dflt = {}) const;
  int64_t GetInt(const std::string& column, int64_t dflt = 0) const;
  bool GetBool(const std::string& column, bool dflt = false) const;
  std::vector<Uuid> GetUuids(const std::string& column) const;
  std::map<std::string, std::string> GetStringMap(const std::string& column) const;
};

struct IdlChange {
  enum Kind { kInsert, kModify, kDelete } kind;
  std::string table;
  Uuid uuid;
  std::set<std::string> columns;  // modified columns (kModify)
};

enum class TxnStatus { kSuccess, kUnchanged, kTryAgain, kError, kNotConnected };

struct TxnResult {
  TxnStatus status = TxnStatus::kError;
  nlohmann::json reply;                  // the raw result array
  std::map<std::string, Uuid> inserted;  // uuid-name -> uuid of rows this transaction inserted
  std::string error;                     // first error, for kError
};

class Idl;

// A transaction under construction. Operations are JSON objects in RFC 7047 form; Verify()
// records a read that must still hold at commit.
class IdlTxn {
 public:
  explicit IdlTxn(Idl& idl) : idl_(idl) {}
  // Inserts a row; refer to it elsewhere in this transaction as ["named-uuid", name].
  void Insert(const std::string& table, nlohmann::json row, const std::string& uuid_name);
  void Update(const std::string& table, const Uuid& uuid, nlohmann::json row);
  void Mutate(const std::string& table, const Uuid& uuid, nlohmann::json mutations);
  void Delete(const std::string& table, const Uuid& uuid);
  // The current replica values of `columns` of the row must be unchanged at commit.
  void Verify(const std::string& table, const Uuid& uuid, const std::vector<std::string>& columns);
  void Comment(const std::string& text) { comment_ = text; }
  void Raw(nlohmann::json op) { ops_.push_back(std::move(op)); }
  bool empty() const { return ops_.empty(); }
  // Sends the transaction; `done` runs on the io_context with the outcome.
  void Commit(std::function<void(TxnResult)> done);

 private:
  Idl& idl_;
  nlohmann::json ops_ = nlohmann::json::array();
  std::vector<std::string> names_;
  std::string comment_;
};

class Idl {
 public:
  // `tables`: table -> columns to replicate (empty list: every column).
  Idl(asio::io_context& io, std::string remote, std::string db,
      std::map<std::string, std::vector<std::string>> tables);
  ~Idl();

  void Start();
  bool connected() const { return synced_; }
  uint64_t seqno() const { return seqno_; }  // bumps whenever the replica changes
  const DatabaseSchema* schema() const { return schema_ ? &*schema_ : nullptr; }

  const std::map<Uuid, IdlRow>& Rows(const std::string& table) const;
  const IdlRow* Find(const std::string& table, const Uuid& uuid) const;
  const IdlRow* FindBy(const std::string& table, const std::string& column,
                       const std::string& value) const;

  // Changes since the last call (a full resync reports every row as inserted).
  std::vector<IdlChange> TakeChanges();
  // Called after each batch of updates is applied (and after each resync).
  void OnChange(std::function<void()> fn) { on_change_ = std::move(fn); }
  // Called once when the first full replica is in place.
  void OnSynced(std::function<void()> fn) { on_synced_ = std::move(fn); }

  void SetMaxBackoffMs(int ms) { max_backoff_ms_ = ms; }
  // ssl: remotes (null: DefaultTlsConfig()); set before Start().
  void SetTls(std::shared_ptr<TlsConfig> tls) { tls_ = std::move(tls); }
  // Inactivity probe in ms (0: none; default 5000 for tcp/ssl, none for unix).
  void SetProbeInterval(int ms);
  const std::string& last_error() const { return last_error_; }
  // kBusy: the last attempt only bootstrapped the CA certificate; the next one should work.
  Errc last_error_code() const { return last_error_code_; }

 private:
  friend class IdlTxn;
  void Connect();
  void Connected(StreamPtr stream);
  int ProbeMs() const;
  void ScheduleReconnect();
  void Monitor();
  void ApplyUpdates(const nlohmann::json& table_updates, bool initial);
  void Send(const std::string& method, nlohmann::json params,
            std::function<void(nlohmann::json)> done);

  asio::io_context& io_;
  std::string remote_;
  std::string db_;
  std::map<std::string, std::vector<std::string>> want_;
  std::optional<DatabaseSchema> schema_;
  std::shared_ptr<JsonRpcConnection> conn_;
  std::unique_ptr<PendingConnect> pending_;
  std::shared_ptr<TlsConfig> tls_;
  int probe_ms_ = -1;
  std::map<std::string, std::map<Uuid, IdlRow>> rows_;
  std::vector<IdlChange> changes_;
  std::function<void()> on_change_, on_synced_;
  asio::steady_timer timer_;
  int backoff_ms_ = 0;
  int max_backoff_ms_ = 8000;
  bool synced_ = false;
  bool stopped_ = false;
  bool ever_synced_ = false;
  uint64_t seqno_ = 0;
  uint64_t monitor_seq_ = 0;
  std::string last_error_;
  Errc last_error_code_ = Errc::kOk;
};

}  // namespace sluice::db
