#include "common/jsonrpc.h"

#include "common/rate_limit.h"
#include "sluice/log.h"

namespace sluice {
namespace {

auto Log() {
  static auto l = log::Get("jsonrpc");
  return l;
}

// The id of the echo requests the inactivity probe sends (as Open vSwitch's jsonrpc does).
constexpr const char* kProbeId = "echo";

}  // namespace

std::shared_ptr<JsonRpcConnection> JsonRpcConnection::Create(StreamPtr stream,
                                                             JsonRpcLimits limits) {
  return std::shared_ptr<JsonRpcConnection>(new JsonRpcConnection(std::move(stream), limits));
}

std::shared_ptr<JsonRpcConnection> JsonRpcConnection::Create(StreamSocket sock,
                                                             JsonRpcLimits limits,
                                                             std::string peer) {
  return Create(MakePlainStream(std::move(sock), std::move(peer)), limits);
}

JsonRpcConnection::JsonRpcConnection(StreamPtr stream, JsonRpcLimits limits)
    : stream_(std::move(stream)),
      limits_(std::move(limits)),
      splitter_(limits_.max_message),
      writer_(*stream_, [this](std::error_code ec) {
        if (ec == std::errc::timed_out) {
          SLUICE_WARN_RL(
              Log(),
              "{}: peer is not reading: no output written for {:.1f} s ({} bytes waiting), "
              "closing",
              peer(), limits_.stall_timeout.count() / 1000.0, writer_.backlog());
          CloseNow("peer not reading");
        } else {
          Close(stream_->ErrorText(ec));
        }
      }) {
  writer_.SetStallTimeout(limits_.stall_timeout);
  writer_.OnProgress([this] {
    Account();
    if (paused_ && writer_.backlog() <= limits_.pause_backlog / 2) {
      paused_ = false;
      Read();
    }
  });
  if (limits_.budget) {
    account_ = limits_.budget->Join([this](const std::string& why) {
      auto self = weak_from_this().lock();
      if (!self || closed_) return;
      SLUICE_WARN_RL(Log(), "{}: {}, closing", peer(), why);
      asio::post(stream_->executor(), [self, why] { self->CloseNow(why); });
    });
  }
}

JsonRpcConnection::~JsonRpcConnection() = default;

void JsonRpcConnection::Start() {
  if (started_) return;
  started_ = true;
  Read();
  ArmProbe();
}

void JsonRpcConnection::SetProbeInterval(std::chrono::milliseconds interval) {
  if (interval == probe_interval_) return;
  probe_interval_ = interval;
  if (probe_timer_) probe_timer_->cancel();
  probe_timer_.reset();
  heard_ = true;
  probe_sent_ = false;
  if (started_) ArmProbe();
}

void JsonRpcConnection::ArmProbe() {
  if (probe_interval_.count() <= 0 || closed_) return;
  if (!probe_timer_) probe_timer_ = std::make_unique<asio::steady_timer>(stream_->executor());
  probe_timer_->expires_after(probe_interval_);
  probe_timer_->async_wait([weak = weak_from_this()](std::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->closed_) return;
    if (!self->heard_) {
      if (self->probe_sent_) {
        if (size_t unsent = self->writer_.unsent(); self->paused_ || unsent > 0) {
          SLUICE_WARN_RL(Log(), "{}: peer is not reading ({} bytes waiting), closing", self->peer(),
                         unsent);
          self->CloseNow("peer not reading");
        } else {
          SLUICE_WARN_RL(Log(),
                         "{}: no response to inactivity probe after {} seconds, disconnecting",
                         self->peer(), self->probe_interval_.count() / 1000.0);
          self->Close("inactivity probe timed out");
        }
        return;
      }
      self->Send(Json{{"id", kProbeId}, {"method", "echo"}, {"params", Json::array()}});
      self->probe_sent_ = true;
    }
    self->heard_ = false;
    self->ArmProbe();
  });
}

void JsonRpcConnection::Account() {
  if (account_) account_->Set(splitter_.pending() + writer_.backlog());
}

void JsonRpcConnection::Read() {
  if (closed_ || reading_) return;
  if (writer_.backlog() > limits_.pause_backlog) {
    paused_ = true;  // resumed by the writer once the peer has taken some output
    return;
  }
  reading_ = true;
  auto self = shared_from_this();
  stream_->AsyncReadSome(buf_.data(), buf_.size(), [this, self](std::error_code ec, size_t n) {
    reading_ = false;
    if (closed_) return;
    if (ec) {
      Close(stream_->ErrorText(ec));
      return;
    }
    heard_ = true;
    probe_sent_ = false;
    bool was_partial = splitter_.pending() > 0;
    if (!splitter_.Feed(std::string_view(buf_.data(), n))) {
      SLUICE_WARN_RL(Log(), "{}: message exceeds {} bytes, closing", peer(), limits_.max_message);
      SendError(nullptr, Json{{"error", "message too long"},
                              {"details", "a single JSON-RPC message exceeded " +
                                              std::to_string(limits_.max_message) + " bytes"}});
      Close("message too long");
      return;
    }
    while (!closed_) {
      auto msg = splitter_.Next();
      if (!msg) break;
      Dispatch(std::move(*msg));
    }
    if (closed_) return;
    if (!splitter_.error().empty()) {
      SLUICE_WARN_RL(Log(), "{}: syntax error in input ({}), closing", peer(), splitter_.error());
      SendError(nullptr, Json{{"error", "syntax error"}, {"details", splitter_.error()}});
      Close("syntax error: " + splitter_.error());
      return;
    }
    auto now = std::chrono::steady_clock::now();
    if (splitter_.pending() == 0) {
      partial_since_ = {};
    } else if (!was_partial || partial_since_ == std::chrono::steady_clock::time_point{}) {
      partial_since_ = now;
    } else if (now - partial_since_ > limits_.partial_timeout) {
      SLUICE_WARN_RL(Log(), "{}: message still incomplete after {} s ({} bytes), closing", peer(),
                     limits_.partial_timeout.count() / 1000, splitter_.pending());
      SendError(nullptr,
                Json{{"error", "syntax error"}, {"details", "message incomplete for too long"}});
      Close("message incomplete for too long");
      return;
    }
    Account();
    Read();
  });
}

void JsonRpcConnection::Dispatch(std::string text) {
  if (on_raw_message_) {
    on_raw_message_(*this, std::move(text));
    return;
  }
  Json msg = Json::parse(text, nullptr, false);
  if (msg.is_discarded()) {
    // The validator passed it, so this is a limit of the parser: report and go on.
    SendError(nullptr, Json{{"error", "syntax error"}, {"details", "malformed JSON"}});
    return;
  }
  if (!msg.is_object()) {
    SendError(nullptr,
              Json{{"error", "syntax error"}, {"details", "JSON-RPC message is not an object"}});
    return;
  }
  if (!msg.contains("method") && msg.contains("id")) {
    const Json& id = msg["id"];
    if (id.is_string() && id.get_ref<const std::string&>() == kProbeId) return;  // probe reply
    // A reply to one of our requests?
    if (id.is_number_unsigned()) {
      auto it = pending_.find(id.get<uint64_t>());
      if (it != pending_.end()) {
        auto fn = std::move(it->second);
        pending_.erase(it);
        fn(std::move(msg));
        return;
      }
    }
  }
  if (on_message_) on_message_(*this, std::move(msg));
}

void JsonRpcConnection::Send(const Json& msg) {
  if (closed_) return;
  SendText(msg.dump(-1, ' ', false, Json::error_handler_t::replace));
}

void JsonRpcConnection::SendText(std::string text) {
  if (closed_) return;
  writer_.Write(std::move(text), shared_from_this());
  if (writer_.backlog() > limits_.max_backlog) {
    SLUICE_WARN_RL(Log(), "{}: output backlog {} bytes exceeds {}, closing", peer(),
                   writer_.backlog(), limits_.max_backlog);
    CloseNow("output backlog exceeded");
    return;
  }
  Account();
}

void JsonRpcConnection::SendReply(const Json& id, Json result) {
  Send(Json{{"id", id}, {"result", std::move(result)}, {"error", nullptr}});
}

void JsonRpcConnection::SendError(const Json& id, Json error) {
  Send(Json{{"id", id}, {"result", nullptr}, {"error", std::move(error)}});
}

void JsonRpcConnection::SendNotify(const std::string& method, Json params) {
  Send(Json{{"id", nullptr}, {"method", method}, {"params", std::move(params)}});
}

void JsonRpcConnection::Request(const std::string& method, Json params,
                                std::function<void(Json)> done) {
  uint64_t id = next_id_++;
  pending_[id] = std::move(done);
  Send(Json{{"id", id}, {"method", method}, {"params", std::move(params)}});
}

// Output already queued (a final error reply) may still go out for a moment.
void JsonRpcConnection::Close(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  if (probe_timer_) probe_timer_->cancel();
  writer_.Close(shared_from_this(), std::chrono::milliseconds(1000));
  if (account_) account_->Set(writer_.backlog());
  pending_.clear();
  auto fn = std::move(on_close_);
  on_close_ = nullptr;
  if (fn) fn(*this, reason);
}

// Dropped at once, with whatever is queued (a peer that does not read, a budget eviction).
void JsonRpcConnection::CloseNow(const std::string& reason) {
  if (!closed_) {
    writer_.Close(shared_from_this(), std::chrono::milliseconds(0));
    Close(reason);
  } else {
    writer_.Close(shared_from_this(), std::chrono::milliseconds(0));
  }
  if (account_) account_->Set(0);
}

}  // namespace sluice
