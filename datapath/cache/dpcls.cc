#include "datapath/cache/dpcls.h"

#include <algorithm>
#include <iterator>
#include <new>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sluice::dp {

namespace {

constexpr size_t kWords = FlowKey::kWords;
static_assert(kWords <= 32, "Subtable::word_bits has a bit per key word");
constexpr uint32_t kSlots = 4;  // per bucket: one cache line with the hashes
constexpr uint32_t kMinBuckets = 2;
constexpr uint32_t kMaxBuckets = 1u << 30;

uint32_t HashMask(const FlowMask& mask) noexcept { return HashFlowKey(mask.bits, 0x5a17u); }

}  // namespace

bool IsSimpleMatch(const FlowKey& masked_key, const FlowMask& mask) noexcept {
  constexpr size_t kPortWord = offsetof(FlowKey, in_port) / 8;
  static_assert(offsetof(FlowKey, recirc_id) / 8 == kPortWord,
                "in_port and recirc_id share a word");
  const uint64_t* m = mask.bits.words();
  for (size_t i = 0; i < kWords; ++i) {
    if (m[i] != (i == kPortWord ? ~uint64_t{0} : 0)) return false;
  }
  return masked_key.recirc_id == 0;
}

// A bucket holds up to kSlots megaflows. Entries are never moved while published: a lookup for a
// megaflow nobody touches must not miss while the writer works next to it. When an insert finds
// its bucket full it sets `overflow` and goes on to the next bucket (linear probing by bucket), so
// a lookup continues past a bucket only while its overflow flag is set. Flags are sticky until the
// table is rebuilt, which also makes removal a single store.
struct alignas(64) Bucket {
  std::atomic<uint32_t> hashes[kSlots];
  std::atomic<uint32_t> overflow;
  std::atomic<Megaflow*> flows[kSlots];

  // Bit s set: hashes[s] == h (one 16-byte compare; the reader's relaxed view of the slots).
  uint32_t SlotsWithHash(uint32_t h) const noexcept {
#if defined(__SSE2__)
    static_assert(kSlots == 4 && sizeof(std::atomic<uint32_t>) == 4);
    const __m128i v = _mm_load_si128(reinterpret_cast<const __m128i*>(hashes));
    const __m128i eq = _mm_cmpeq_epi32(v, _mm_set1_epi32(static_cast<int>(h)));
    return static_cast<uint32_t>(_mm_movemask_ps(_mm_castsi128_ps(eq)));
#else
    uint32_t bits = 0;
    for (uint32_t s = 0; s < kSlots; ++s) {
      if (hashes[s].load(std::memory_order_relaxed) == h) bits |= 1u << s;
    }
    return bits;
#endif
  }
};
static_assert(sizeof(Bucket) == 64);

// Header and buckets in one allocation so the reader follows one pointer per subtable.
struct alignas(64) Dpcls::Table {
  uint32_t bucket_mask;    // n_buckets - 1
  uint32_t n_overflow;     // writer-only: buckets with the overflow flag set
  uint32_t overflow_base;  // writer-only: n_overflow right after the table was built

  Bucket* buckets() noexcept { return reinterpret_cast<Bucket*>(this + 1); }
  const Bucket* buckets() const noexcept { return reinterpret_cast<const Bucket*>(this + 1); }
  uint32_t n_buckets() const noexcept { return bucket_mask + 1; }

  static Table* Create(uint32_t n_buckets) {
    void* mem = ::operator new (sizeof(Table) + n_buckets * sizeof(Bucket), std::align_val_t{64});
    Table* t = new (mem) Table;
    t->bucket_mask = n_buckets - 1;
    t->n_overflow = 0;
    t->overflow_base = 0;
    Bucket* b = t->buckets();
    for (uint32_t i = 0; i < n_buckets; ++i) {
      Bucket* nb = new (&b[i]) Bucket;
      for (uint32_t s = 0; s < kSlots; ++s) {
        nb->hashes[s].store(0, std::memory_order_relaxed);
        nb->flows[s].store(nullptr, std::memory_order_relaxed);
      }
      nb->overflow.store(0, std::memory_order_relaxed);
    }
    return t;
  }
  static void Destroy(Table* t) noexcept {
    // Table and Bucket are trivially destructible.
    ::operator delete (t, std::align_val_t{64});
  }

  // Writer: place `f` in the first free slot from its home bucket on. The caller keeps the load
  // at most 1/2, so a free slot exists.
  void Place(Megaflow* f) noexcept {
    uint32_t b = f->hash & bucket_mask;
    for (;;) {
      Bucket& bk = buckets()[b];
      for (uint32_t s = 0; s < kSlots; ++s) {
        if (bk.flows[s].load(std::memory_order_relaxed) == nullptr) {
          bk.hashes[s].store(f->hash, std::memory_order_relaxed);
          // Release: the megaflow's contents and the hash above become visible with the pointer.
          bk.flows[s].store(f, std::memory_order_release);
          return;
        }
      }
      if (!bk.overflow.load(std::memory_order_relaxed)) {
        bk.overflow.store(1, std::memory_order_relaxed);
        ++n_overflow;
      }
      b = (b + 1) & bucket_mask;
    }
  }
};

// Subtable: one mask. Only the mask's non-zero words are hashed and compared.
struct alignas(64) Dpcls::Subtable {
  // Immutable after publication (the reader reads these on every probe).
  uint32_t n_words = 0;
  uint32_t mask_hash = 0;
  uint32_t word_bits = 0;        // bit i: mask word i is non-zero
  uint8_t idx[kWords] = {};      // indices of the non-zero mask words
  uint64_t mwords[kWords] = {};  // those mask words, compacted
  std::atomic<Table*> table{nullptr};
  FlowMask mask;
  // Writer-private.
  size_t count = 0;
  // Reader-private (the PMD is the only writer of `hits`; atomic so stats can be read elsewhere).
  alignas(64) std::atomic<uint64_t> hits{0};
  uint64_t rank = 0;  // hits during the last ranking interval

  // key & mask over the subtable's words into `out`, and the hash of those words. N is the word
  // count when the caller knows it at compile time (the loop is then unrolled), else 0.
  template <uint32_t N = 0>
  uint32_t MaskAndHash(const FlowKey& key, uint64_t* out) const noexcept {
    const uint32_t n = N ? N : n_words;
    const uint64_t* w = key.words();
    uint32_t h = 0;
#pragma GCC unroll 8
    for (uint32_t i = 0; i < n; ++i) {
      out[i] = w[idx[i]] & mwords[i];
      h = HashKeyWord(h, out[i]);
    }
    return HashFinishShort(h, n * 8);
  }

  // Whether `f` has these masked words (N as above). Narrow subtables compare the megaflow's
  // compacted copy on its first line (Megaflow::match), wider ones the key itself.
  template <uint32_t N = 0>
  bool Matches(const Megaflow* f, const uint64_t* masked) const noexcept {
    const uint32_t n = N ? N : n_words;
    uint64_t diff = 0;
    if (n <= kMegaflowMatchWords) {
#pragma GCC unroll 8
      for (uint32_t i = 0; i < n; ++i) diff |= f->match[i] ^ masked[i];
    } else {
      const uint64_t* fw = f->key.words();
#pragma GCC unroll 8
      for (uint32_t i = 0; i < n; ++i) diff |= fw[idx[i]] ^ masked[i];
    }
    return diff == 0;
  }

  // Reader and writer: probe `t` for the megaflow with this masked key.
  Megaflow* Probe(const Table* t, uint32_t hash, const uint64_t* masked) const noexcept {
    uint32_t b = hash & t->bucket_mask;
    for (uint32_t n = 0; n <= t->bucket_mask; ++n) {
      const Bucket& bk = t->buckets()[b];
      for (uint32_t s = 0; s < kSlots; ++s) {
        // A stale hash next to a fresh pointer (slot being reused) only costs a wasted compare or
        // a miss on a megaflow that is being replaced anyway; the key compare decides.
        if (bk.hashes[s].load(std::memory_order_relaxed) != hash) continue;
        Megaflow* f = bk.flows[s].load(std::memory_order_acquire);
        if (f && Matches(f, masked)) return f;
      }
      if (!bk.overflow.load(std::memory_order_relaxed)) break;
      b = (b + 1) & t->bucket_mask;
    }
    return nullptr;
  }
};

struct Dpcls::SubtableVec {
  std::vector<Subtable*> items;
};

Dpcls::Dpcls(Reclaimer* reclaimer) : reclaimer_(reclaimer) {}

Dpcls::~Dpcls() {
  for (Subtable* st : subtables_) {
    Table* t = st->table.load(std::memory_order_relaxed);
    for (uint32_t b = 0; b < t->n_buckets(); ++b) {
      for (uint32_t s = 0; s < kSlots; ++s) {
        Megaflow* f = t->buckets()[b].flows[s].load(std::memory_order_relaxed);
        if (f) {
          delete f->actions.load(std::memory_order_relaxed);
          delete f;
        }
      }
    }
    Table::Destroy(t);
    delete st;
  }
  delete vec_.load(std::memory_order_relaxed);
}

void Dpcls::Reclaim(std::function<void()> fn) {
  if (reclaimer_) {
    reclaimer_->Defer(std::move(fn));
  } else {
    fn();
  }
}

// ---------------------------------------------------------------------------------------------
// Writer side.

Dpcls::Subtable* Dpcls::FindSubtable(const FlowMask& mask, uint32_t mask_hash) const {
  for (Subtable* st : subtables_) {
    if (st->mask_hash == mask_hash && st->mask == mask) return st;
  }
  return nullptr;
}

Dpcls::Subtable* Dpcls::CreateSubtable(const FlowMask& mask, uint32_t mask_hash) {
  auto* st = new Subtable;
  st->mask = mask;
  st->mask_hash = mask_hash;
  const uint64_t* m = mask.bits.words();
  for (uint32_t i = 0; i < kWords; ++i) {
    if (m[i]) {
      st->idx[st->n_words] = static_cast<uint8_t>(i);
      st->mwords[st->n_words] = m[i];
      st->word_bits |= uint32_t{1} << i;
      ++st->n_words;
    }
  }
  st->table.store(Table::Create(kMinBuckets), std::memory_order_relaxed);
  subtables_.push_back(st);
  PublishSubtables();
  return st;
}

void Dpcls::DestroySubtable(Subtable* st) {
  subtables_.erase(std::find(subtables_.begin(), subtables_.end(), st));
  PublishSubtables();
  Table* t = st->table.load(std::memory_order_relaxed);
  Reclaim([st, t] {
    Table::Destroy(t);
    delete st;
  });
}

void Dpcls::PublishSubtables() {
  auto* v = new SubtableVec{subtables_};
  SubtableVec* old = vec_.exchange(v, std::memory_order_acq_rel);
  // The version is bumped after the vector is visible, so a reader that sees the new version
  // also sees (at least) this vector.
  version_.fetch_add(1, std::memory_order_release);
  if (old) Reclaim([old] { delete old; });
}

void Dpcls::Resize(Subtable* st, uint32_t n_buckets) {
  Table* old = st->table.load(std::memory_order_relaxed);
  Table* t = Table::Create(n_buckets);
  for (uint32_t b = 0; b < old->n_buckets(); ++b) {
    for (uint32_t s = 0; s < kSlots; ++s) {
      Megaflow* f = old->buckets()[b].flows[s].load(std::memory_order_relaxed);
      if (f) t->Place(f);
    }
  }
  t->overflow_base = t->n_overflow;
  st->table.store(t, std::memory_order_release);
  Reclaim([old] { Table::Destroy(old); });
}

Megaflow* Dpcls::Insert(std::unique_ptr<Megaflow> f) {
  auto reject = [&f]() -> Megaflow* {
    delete f->actions.load(std::memory_order_relaxed);
    f.reset();
    return nullptr;
  };
  ApplyMask(f->key, f->mask, &f->key);
  const uint32_t mask_hash = HashMask(f->mask);
  Subtable* st = FindSubtable(f->mask, mask_hash);
  uint64_t masked[kWords];
  if (st) {
    const uint32_t h = st->MaskAndHash(f->key, masked);
    if (st->Probe(st->table.load(std::memory_order_relaxed), h, masked)) return reject();
  } else {
    if (subtables_.size() >= kDpclsMaxSubtables) return reject();
    st = CreateSubtable(f->mask, mask_hash);
  }
  f->hash = st->MaskAndHash(f->key, masked);
  for (uint32_t i = 0; i < kMegaflowMatchWords; ++i) {
    f->match[i] = i < st->n_words && st->n_words <= kMegaflowMatchWords ? masked[i] : 0;
  }
  f->dead.store(false, std::memory_order_relaxed);

  Table* t = st->table.load(std::memory_order_relaxed);
  const uint64_t slots = uint64_t{t->n_buckets()} * kSlots;
  if ((st->count + 1) * 2 > slots && t->n_buckets() < kMaxBuckets) {
    Resize(st, t->n_buckets() * 2);
  } else if (t->n_overflow - t->overflow_base > t->n_buckets() / 2) {
    // Sticky overflow flags left behind by churn lengthen probes: rebuild at the same size.
    // Counting only flags set since the last build keeps rebuilds amortised O(1) per insert
    // even when the hashes themselves cluster (a rebuild would not help then).
    Resize(st, t->n_buckets());
  }
  Megaflow* raw = f.release();
  st->table.load(std::memory_order_relaxed)->Place(raw);
  if (IsSimpleMatch(raw->key, raw->mask) && raw->key.in_port < kDpclsSimplePorts) {
    simple_[raw->key.in_port].store(raw, std::memory_order_release);
  }
  ++st->count;
  ++n_flows_;
  return raw;
}

void Dpcls::Remove(Megaflow* f) {
  Subtable* st = FindSubtable(f->mask, HashMask(f->mask));
  if (!st) return;
  Table* t = st->table.load(std::memory_order_relaxed);
  bool found = false;
  uint32_t b = f->hash & t->bucket_mask;
  for (uint32_t n = 0; n <= t->bucket_mask && !found; ++n) {
    Bucket& bk = t->buckets()[b];
    for (uint32_t s = 0; s < kSlots; ++s) {
      if (bk.flows[s].load(std::memory_order_relaxed) == f) {
        bk.flows[s].store(nullptr, std::memory_order_release);
        bk.hashes[s].store(0, std::memory_order_relaxed);
        found = true;
        break;
      }
    }
    if (!bk.overflow.load(std::memory_order_relaxed)) break;
    b = (b + 1) & t->bucket_mask;
  }
  if (!found) return;
  if (f->key.in_port < kDpclsSimplePorts) {
    Megaflow* expected = f;
    simple_[f->key.in_port].compare_exchange_strong(expected, nullptr, std::memory_order_release);
  }
  f->dead.store(true, std::memory_order_release);
  --st->count;
  --n_flows_;
  Reclaim([f] {
    delete f->actions.load(std::memory_order_relaxed);
    delete f;
  });
  if (st->count == 0) {
    DestroySubtable(st);
  } else if (t->n_buckets() > kMinBuckets && uint64_t{st->count} * 8 < t->n_buckets() * kSlots) {
    Resize(st, t->n_buckets() / 2);
  }
}

Megaflow* Dpcls::Find(const FlowKey& masked_key, const FlowMask& mask) const {
  Subtable* st = FindSubtable(mask, HashMask(mask));
  if (!st) return nullptr;
  uint64_t masked[kWords];
  const uint32_t h = st->MaskAndHash(masked_key, masked);
  return st->Probe(st->table.load(std::memory_order_relaxed), h, masked);
}

Megaflow* Dpcls::FindMatch(const FlowKey& key) const {
  uint64_t masked[kWords];
  for (const Subtable* st : subtables_) {
    const uint32_t h = st->MaskAndHash(key, masked);
    if (Megaflow* f = st->Probe(st->table.load(std::memory_order_relaxed), h, masked)) return f;
  }
  return nullptr;
}

void Dpcls::Collect(std::vector<Megaflow*>* out) const {
  out->reserve(out->size() + n_flows_);
  for (const Subtable* st : subtables_) {
    const Table* t = st->table.load(std::memory_order_relaxed);
    for (uint32_t b = 0; b < t->n_buckets(); ++b) {
      for (uint32_t s = 0; s < kSlots; ++s) {
        if (Megaflow* f = t->buckets()[b].flows[s].load(std::memory_order_relaxed)) {
          out->push_back(f);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Reader side.

namespace {

// Hottest first; insertion sort because the order is nearly sorted from one call to the next and
// the reader must not allocate.
template <class Sub>
void SortByRank(Sub** a, size_t n) noexcept {
  for (size_t i = 1; i < n; ++i) {
    Sub* x = a[i];
    size_t j = i;
    while (j > 0 && a[j - 1]->rank < x->rank) {
      a[j] = a[j - 1];
      --j;
    }
    a[j] = x;
  }
}

}  // namespace

void Dpcls::Sync() noexcept {
  const uint64_t v = version_.load(std::memory_order_acquire);
  if (v == seen_version_) return;
  seen_version_ = v;
  const SubtableVec* vec = vec_.load(std::memory_order_acquire);
  n_order_ = 0;
  words_used_ = 0;
  if (vec) {
    for (Subtable* st : vec->items) {
      order_[n_order_++] = st;
      words_used_ |= st->word_bits;
    }
  }
  // Surviving subtables keep their place by their last rank; new ones (rank 0) go last.
  SortByRank(order_, n_order_);
}

Megaflow* Dpcls::Lookup(const FlowKey& key) noexcept {
  Sync();
  uint64_t masked[kWords];
  for (size_t i = 0; i < n_order_; ++i) {
    Subtable* st = order_[i];
    const uint32_t h = st->MaskAndHash(key, masked);
    if (Megaflow* f = st->Probe(st->table.load(std::memory_order_acquire), h, masked)) {
      st->hits.store(st->hits.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      return f;
    }
  }
  return nullptr;
}

void Dpcls::LookupBatch(const FlowKey* const keys[], size_t n, Megaflow* out[],
                        bool sync) noexcept {
  if (sync) Sync();
  if (n > kDpclsMaxBatch) n = kDpclsMaxBatch;
  uint64_t pending = (uint64_t{1} << n) - 1;
  for (size_t i = 0; i < n; ++i) out[i] = nullptr;

  for (size_t r = 0; r < n_order_ && pending; ++r) {
    Subtable* st = order_[r];
    // Unrolled for the common mask widths (the word count is a constant there).
    using LookupFn =
        uint64_t (*)(const Subtable*, const FlowKey* const[], uint64_t, Megaflow*[]) noexcept;
    static constexpr LookupFn kByWidth[] = {
        &LookupSubtable<0>, &LookupSubtable<1>, &LookupSubtable<2>, &LookupSubtable<3>,
        &LookupSubtable<4>, &LookupSubtable<5>, &LookupSubtable<6>};
    constexpr uint32_t kUnrolled = std::size(kByWidth) - 1;
    const uint64_t found =
        kByWidth[st->n_words <= kUnrolled ? st->n_words : 0](st, keys, pending, out);
    if (found) {
      pending &= ~found;
      st->hits.store(st->hits.load(std::memory_order_relaxed) + __builtin_popcountll(found),
                     std::memory_order_relaxed);
    }
  }
}

// One subtable for the keys in `pending` (bit i: keys[i]); sets out[i] for the keys it matches
// and returns their bits. N is the subtable's word count when it is a compile-time constant, 0
// for any count.
template <uint32_t N>
uint64_t Dpcls::LookupSubtable(const Subtable* st, const FlowKey* const keys[], uint64_t pending,
                               Megaflow* out[]) noexcept {
  uint64_t masked[kDpclsMaxBatch][kWords];
  uint32_t hashes[kDpclsMaxBatch];
  const Table* t = st->table.load(std::memory_order_acquire);
  // Pass 1: hash every pending key and prefetch its home bucket; pass 2 probes, by which time
  // the bucket lines are (ideally) on their way.
  for (uint64_t m = pending; m; m &= m - 1) {
    const int i = __builtin_ctzll(m);
    hashes[i] = st->MaskAndHash<N>(*keys[i], masked[i]);
    __builtin_prefetch(&t->buckets()[hashes[i] & t->bucket_mask]);
  }
  // Pass 2: the first slot of the home bucket with a matching hash is the likely megaflow;
  // prefetch its first line (compacted key words, counters, lone output: what the PMD reads
  // next) and, for a wide mask, its key.
  // A bucket without a candidate and without overflow is a sure miss.
  Megaflow* cand[kDpclsMaxBatch];
  uint64_t reprobe = 0;
  const uint32_t first = st->idx[0], last = st->idx[st->n_words ? st->n_words - 1 : 0];
  for (uint64_t m = pending; m; m &= m - 1) {
    const int i = __builtin_ctzll(m);
    const Bucket& bk = t->buckets()[hashes[i] & t->bucket_mask];
    cand[i] = nullptr;
    for (uint32_t slots = bk.SlotsWithHash(hashes[i]); slots; slots &= slots - 1) {
      if (Megaflow* f = bk.flows[__builtin_ctz(slots)].load(std::memory_order_acquire)) {
        cand[i] = f;
        __builtin_prefetch(f);  // match words, counters, lone output
        if (st->n_words > kMegaflowMatchWords) {
          __builtin_prefetch(&f->key.words()[first]);
          __builtin_prefetch(&f->key.words()[last]);
        }
        break;
      }
    }
    if (!cand[i] && bk.overflow.load(std::memory_order_relaxed)) reprobe |= uint64_t{1} << i;
  }
  // Pass 3: confirm; a wrong candidate (hash collision) or an overflowed bucket takes the full
  // probe.
  uint64_t found = 0;
  for (uint64_t m = pending; m; m &= m - 1) {
    const int i = __builtin_ctzll(m);
    Megaflow* f = cand[i];
    if (f && !st->Matches<N>(f, masked[i])) {
      f = st->Probe(t, hashes[i], masked[i]);
    } else if (!f && (reprobe & (uint64_t{1} << i))) {
      f = st->Probe(t, hashes[i], masked[i]);
    }
    if (f) {
      out[i] = f;
      found |= uint64_t{1} << i;
    }
  }
  return found;
}

void Dpcls::Rerank() noexcept {
  Sync();
  for (size_t i = 0; i < n_order_; ++i) {
    Subtable* st = order_[i];
    st->rank = st->hits.load(std::memory_order_relaxed);
    st->hits.store(0, std::memory_order_relaxed);
  }
  SortByRank(order_, n_order_);
}

const FlowMask& Dpcls::RankedMask(size_t i) const noexcept { return order_[i]->mask; }

uint64_t Dpcls::RankedHits(size_t i) const noexcept {
  return order_[i]->hits.load(std::memory_order_relaxed);
}

}  // namespace sluice::dp
