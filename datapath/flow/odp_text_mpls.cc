// MPLS pieces of the OVS datapath text syntax: the mpls() flow attribute, push_mpls/pop_mpls
// and set(mpls(...)).
#include <arpa/inet.h>

#include <cstring>

#include "datapath/actions/action_list.h"
#include "datapath/flow/odp_text_internal.h"

namespace sluice::dp::odp_text {
namespace {

struct MplsSub {
  std::string_view name;
  uint32_t mask;  // host-order bits of the LSE
  int shift;
};
constexpr MplsSub kSubs[] = {
    {"label", kMplsLabelMask, kMplsLabelShift},
    {"tc", kMplsTcMask, kMplsTcShift},
    {"ttl", kMplsTtlMask, 0},
    {"bos", kMplsBosMask, kMplsBosShift},
};

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

}  // namespace

Result<void> ParseMplsFields(Scanner* s, std::string_view ctx, uint32_t* lse_be, uint32_t* mask_be,
                             uint16_t* eth_type) {
  uint32_t lse = 0, mask = 0;
  unsigned seen = 0;
  bool have_et = false;
  while (!s->TryConsume(')')) {
    std::string_view name = s->ReadName();
    std::string fctx = std::string(ctx) + "." + std::string(name);
    if (eth_type && name == "eth_type") {
      if (have_et) return Fail(ctx, "duplicate field 'eth_type'");
      if (!s->TryConsume('=')) return Fail(fctx, "expected '='");
      auto v = ParseUint(s->ReadToken(), 0xffff, fctx);
      if (!v) return std::unexpected(v.error());
      *eth_type = htons(static_cast<uint16_t>(*v));
      have_et = true;
    } else {
      int idx = -1;
      for (int i = 0; i < 4; ++i) {
        if (kSubs[i].name == name) idx = i;
      }
      if (idx < 0) {
        if (name.empty()) return Fail(ctx, "expected a field at " + Quoted(s->Context()));
        return Fail(ctx, "unknown field " + Quoted(name));
      }
      if (seen & (1u << idx)) return Fail(ctx, "duplicate field " + Quoted(name));
      seen |= 1u << idx;
      if (!s->TryConsume('=')) return Fail(fctx, "expected '='");
      uint64_t max = kSubs[idx].mask >> kSubs[idx].shift;
      auto vm = ParseMaskedUint(s->ReadToken(), max, max, fctx);
      if (!vm) return std::unexpected(vm.error());
      lse |= static_cast<uint32_t>(vm->first << kSubs[idx].shift);
      mask |= static_cast<uint32_t>(vm->second << kSubs[idx].shift);
    }
    if (s->TryConsume(')')) break;
    if (!s->TryConsume(',')) {
      if (s->AtEnd()) return Fail(ctx, "missing ')'");
      return Fail(fctx, "unexpected " + Quoted(s->Context()) + " after value");
    }
  }
  if (eth_type && !have_et) return Fail(ctx, "missing eth_type");
  *lse_be = htonl(lse);
  *mask_be = htonl(mask);
  return {};
}

void FormatMplsFields(uint32_t lse_be, uint32_t mask_be, std::string* out) {
  uint32_t lse = ntohl(lse_be), mask = ntohl(mask_be);
  bool first = true;
  for (const MplsSub& sub : kSubs) {
    uint32_t m = (mask & sub.mask) >> sub.shift;
    if (m == 0) continue;
    if (!first) out->push_back(',');
    first = false;
    uint32_t v = (lse & sub.mask) >> sub.shift;
    Appendf(out, "%.*s=%u", static_cast<int>(sub.name.size()), sub.name.data(), v & m);
    if (m != sub.mask >> sub.shift) Appendf(out, "/%#x", m);
  }
}

Result<void> ParseMplsAction(std::string_view name, Scanner* s, ActionBuilder* b) {
  if (auto r = s->Expect('(', name); !r) return r;
  if (name == "push_mpls") {
    uint32_t lse = 0, mask = 0;
    uint16_t et = 0;
    if (auto r = ParseMplsFields(s, name, &lse, &mask, &et); !r) return r;
    if (!IsMplsEthType(ntohs(et))) return Fail(name, "eth_type must be 0x8847 or 0x8848");
    b->PushMpls(lse, et);
    return {};
  }
  // pop_mpls(eth_type=N)
  std::string_view field = s->ReadName();
  if (field != "eth_type") return Fail(name, "expected 'eth_type=' at " + Quoted(s->Context()));
  if (!s->TryConsume('=')) return Fail("pop_mpls.eth_type", "expected '='");
  auto v = ParseUint(s->ReadToken(), 0xffff, "pop_mpls.eth_type");
  if (!v) return std::unexpected(v.error());
  if (auto r = s->Expect(')', name); !r) return r;
  b->PopMpls(htons(static_cast<uint16_t>(*v)));
  return {};
}

bool FormatMplsAction(const ActionHeader& h, const uint8_t* payload, std::string* out) {
  switch (static_cast<ActionType>(h.type)) {
    case ActionType::kPushMpls: {
      if (h.len < sizeof(ActionHeader) + sizeof(ActPushMpls)) return false;
      ActPushMpls a;
      std::memcpy(&a, payload, sizeof(a));
      out->append("push_mpls(");
      FormatMplsFields(a.lse, UINT32_MAX, out);
      Appendf(out, ",eth_type=0x%x)", ntohs(a.ethertype));
      return true;
    }
    case ActionType::kPopMpls: {
      if (h.len < sizeof(ActionHeader) + sizeof(ActPopMpls)) return false;
      ActPopMpls a;
      std::memcpy(&a, payload, sizeof(a));
      Appendf(out, "pop_mpls(eth_type=0x%x)", ntohs(a.ethertype));
      return true;
    }
    default:
      return false;
  }
}

}  // namespace sluice::dp::odp_text
