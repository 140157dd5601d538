// Recirculation: a translation frozen where it needs headers the key does not show (after a
// pop_mpls) and resumed after the datapath parsed the packet again; and the registries that
// the datapath's recirc() and userspace() actions index.
#include "ofproto/xlate/xlate_ctx.h"

namespace sluice::ofp::xlate_internal {

// True if the headers beyond L2 are known; otherwise the translation is frozen here (the
// action that needs them runs after the recirculation) and false is returned.
bool Ctx::Known(const char* what) {
  if (!l3_unknown_) return true;
  FrozenState f = BaseFrozen();
  const ListPos& lp = list_;
  if (depth_ != 0 || lp.kind == ListKind::kNone || !lp.actions) {
    Fail(
        fmt::format("{} after pop_mpls needs a recirculation, which is not supported inside a "
                    "group, patch port or output:TABLE",
                    what));
    stopped_ = true;
    return false;
  }
  f.actions.assign(lp.actions->begin() + static_cast<std::ptrdiff_t>(lp.index), lp.actions->end());
  switch (lp.kind) {
    case ListKind::kApply:
      f.stage = FrozenState::Stage::kApply;
      f.rule = rule_ ? rule_->shared_from_this() : nullptr;
      if (lp.aset) f.action_set = lp.aset->ToList();
      break;
    case ListKind::kActionSet:
      f.stage = FrozenState::Stage::kActionSet;
      break;
    default:
      f.stage = FrozenState::Stage::kPacketOut;
      break;
  }
  Trace(fmt::format("{} needs the headers after the popped MPLS entry", what));
  Recirculate(f);
  return false;
}

void Ctx::FreezeAtTable(uint8_t table_id, const ActionSet& aset) {
  if (depth_ != 0) {
    Fail(
        "goto_table after pop_mpls needs a recirculation, which is not supported inside a "
        "patch port or output:TABLE");
    stopped_ = true;
    return;
  }
  FrozenState f = BaseFrozen();
  f.stage = FrozenState::Stage::kTable;
  f.table_id = table_id;
  f.action_set = aset.ToList();
  Trace(fmt::format("goto_table:{} needs the headers after the popped MPLS entry", table_id));
  Recirculate(f);
}

FrozenState Ctx::BaseFrozen() const {
  FrozenState f;
  f.bridge = br_->name;
  f.in_ofport = in_ofport_;
  f.metadata = flow_.Get(OxmField::kMetadata);
  f.table_id = table_id_;
  return f;
}

void Ctx::Recirculate(const FrozenState& f) {
  stopped_ = true;
  uint32_t id = env_.recirc ? env_.recirc->Intern(f, in_.now_ms) : 0;
  if (!id) {
    Fail("cannot recirculate (no recirculation registry, or it is full)");
    r_.no_install = true;
    return;
  }
  Commit();
  r_.actions.Recirc(id);
  Trace(fmt::format("recirc({:#x})", id));
}

void Ctx::Resume(uint32_t id) {
  const FrozenState* f = env_.recirc ? env_.recirc->Find(id) : nullptr;
  XBridge* br = nullptr;
  if (f && env_.bridges) {
    auto it = env_.bridges->find(f->bridge);
    if (it != env_.bridges->end()) br = it->second;
  }
  if (!f || !br) {
    Fail(fmt::format("unknown recirculation id {:#x}, packet dropped", id));
    return;
  }
  br_ = br;
  in_ofport_ = f->in_ofport;
  flow_ = FieldsFromKey(in_.key, in_ofport_);
  flow_.Set(OxmField::kMetadata, f->metadata);
  table_id_ = f->table_id;
  rule_ = f->rule.get();
  // As ovs-appctl ofproto/trace prints a thawed translation.
  Trace("thaw");
  switch (f->stage) {
    case FrozenState::Stage::kApply:
      Trace(fmt::format("    Resuming from table {}, with the rest of its rule's actions",
                        f->table_id));
      break;
    case FrozenState::Stage::kTable:
      Trace(fmt::format("    Resuming from table {}", f->table_id));
      break;
    case FrozenState::Stage::kActionSet:
      Trace("    Resuming the action set");
      break;
    case FrozenState::Stage::kPacketOut:
      Trace("    Resuming the packet-out's actions");
      break;
  }
  ActionSet aset;
  aset.Write(f->action_set);
  switch (f->stage) {
    case FrozenState::Stage::kApply: {
      {
        ListScope scope(this, ListKind::kApply, &aset, &f->actions);
        ExecuteList(f->actions);
      }
      if (stopped_) return;
      if (f->rule) {
        PipelineLoop(f->table_id, f->rule.get(), aset);
      }
      return;
    }
    case FrozenState::Stage::kTable:
      PipelineLoop(f->table_id, nullptr, aset);
      return;
    case FrozenState::Stage::kActionSet: {
      ListScope scope(this, ListKind::kActionSet, nullptr, &f->actions);
      ExecuteList(f->actions);
      return;
    }
    case FrozenState::Stage::kPacketOut: {
      ListScope scope(this, ListKind::kPacketOut, nullptr, &f->actions);
      ExecuteList(f->actions);
      return;
    }
  }
}

}  // namespace sluice::ofp::xlate_internal

namespace sluice::ofp {

using namespace xlate_internal;

uint32_t PacketInRegistry::Intern(const PacketInContext& c) {
  uint64_t h = std::hash<std::string>{}(c.bridge);
  for (uint64_t v : {uint64_t(c.reason), uint64_t(c.table_id), c.cookie, uint64_t(c.max_len),
                     uint64_t(c.in_port), c.metadata, c.tunnel_id}) {
    h = (h ^ v) * 0x100000001b3ULL;
  }
  auto [b, e] = index_.equal_range(h);
  for (auto it = b; it != e; ++it) {
    if (ctxs_[it->second - 1] == c) return it->second;
  }
  if (ctxs_.size() >= kMax) return 0;
  ctxs_.push_back(c);
  uint32_t id = static_cast<uint32_t>(ctxs_.size());
  index_.emplace(h, id);
  return id;
}

uint32_t RecircRegistry::Intern(const FrozenState& f, int64_t now_ms) {
  uint64_t h = std::hash<std::string>{}(f.bridge);
  for (uint64_t v : {uint64_t(f.in_ofport), f.metadata, uint64_t(f.stage), uint64_t(f.table_id),
                     uint64_t(reinterpret_cast<uintptr_t>(f.rule.get())),
                     uint64_t(f.actions.size()), uint64_t(f.action_set.size())}) {
    h = (h ^ v) * 0x100000001b3ULL;
  }
  auto [b, e] = index_.equal_range(h);
  for (auto it = b; it != e; ++it) {
    Entry& en = states_.at(it->second);
    if (en.state == f) {
      en.used_ms = std::max(en.used_ms, now_ms);
      return it->second;
    }
  }
  if (states_.size() >= kMax) return 0;
  while (next_id_ == 0 || states_.count(next_id_)) ++next_id_;
  uint32_t id = next_id_++;
  states_.emplace(id, Entry{f, h, now_ms});
  index_.emplace(h, id);
  return id;
}

const FrozenState* RecircRegistry::Find(uint32_t id) const {
  auto it = states_.find(id);
  return it == states_.end() ? nullptr : &it->second.state;
}

size_t RecircRegistry::Sweep(const std::unordered_set<uint32_t>& keep, int64_t now_ms,
                             int64_t grace_ms) {
  size_t dropped = 0;
  for (auto it = states_.begin(); it != states_.end();) {
    Entry& en = it->second;
    if (keep.count(it->first)) {
      en.used_ms = std::max(en.used_ms, now_ms);
    } else if (now_ms - en.used_ms >= grace_ms) {
      auto [b, e] = index_.equal_range(en.hash);
      for (auto x = b; x != e; ++x) {
        if (x->second == it->first) {
          index_.erase(x);
          break;
        }
      }
      it = states_.erase(it);
      ++dropped;
      continue;
    }
    ++it;
  }
  return dropped;
}

const PacketInContext* PacketInRegistry::Find(uint32_t id) const {
  return id >= 1 && id <= ctxs_.size() ? &ctxs_[id - 1] : nullptr;
}

}  // namespace sluice::ofp
