// The W^X invariant under a long random sequence of operations, checked
// after every single one against an independent shadow model of the heap
// and against the kernel's own view (/proc/self/maps):
//   - no mapping in the process is writable and executable;
//   - every live page is mapped rw-p (writable) or r-xp (sealed), with
//     ---p guard pages around it when it has them;
//   - a page just freed is no longer mapped at all;
//   - every return value, last error, state, size, hash and stats counter
//     is what the model predicts.
// NPK_MODEL_OPS and NPK_MODEL_SEED override the length and the seed.
#include "skip.h"
#include "support.h"
#include "core/test_seams.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <random>
#include <sstream>
#include <unordered_map>
#include <vector>

#include <sys/mman.h>

using namespace npk::test;
using npk::os::testing::OsCall;

namespace {

const unsigned char kAdd[] = {0x89, 0xF8, 0x01, 0xF0, 0xC3};  // mov eax, edi / add eax, esi / ret

struct ShadowPage {
    size_t usable = 0;
    bool sealed = false;
    bool guard = false;
    bool callable = false;              // holds add_i32 at its start
    std::vector<unsigned char> bytes;   // what the page must contain
    uint64_t hash = 0;                  // expected code_hash once sealed
};

enum class Cls { null, live, interior, freed, foreign };

class Model {
public:
    explicit Model(uint64_t seed) : rng_(seed), pg_(page_size()) {
        const npk_wildx_stats s = stats_now();
        live0_ = s.live_bytes;
        peak_ = s.peak_bytes;
        foreign_map_ = mmap(nullptr, pg_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        REQUIRE(foreign_map_ != MAP_FAILED);
        quota_ = live0_ + 40 * pg_;
        npk_wildx_set_quota(quota_);
        npk_wildx_set_quiet(1);
    }
    ~Model() {
        for (auto& [a, p] : live_) npk_wildx_free(reinterpret_cast<void*>(a));
        munmap(foreign_map_, pg_);
        npk::os::testing::clear_os_faults();
    }

    void step(uint64_t i);
    void check_invariants();
    std::string context;  // what the current step did, for failure messages
    size_t ops_alloc = 0, ops_seal = 0, ops_free = 0, ops_rejected = 0;

private:
    std::mt19937_64 rng_;
    size_t pg_;
    uint64_t live0_ = 0, peak_ = 0;
    size_t quota_ = 0;
    bool guard_on_ = false;
    void* foreign_map_ = nullptr;
    int on_stack_ = 0;

    std::map<uintptr_t, ShadowPage> live_;
    std::unordered_map<uintptr_t, uint64_t> freed_known_;  // address → number of its latest free
    std::deque<std::pair<uintptr_t, uint64_t>> ring_;       // the last kFreedMemory frees
    std::vector<uintptr_t> freed_pool_;                     // addresses once freed, to aim at
    uint64_t free_seq_ = 0;
    uintptr_t just_freed_lo_ = 0, just_freed_hi_ = 0;

    uint64_t live_bytes_ = 0;
    Delta expect_;
    StatsWatch watch_;
    MapsReader maps_;

    size_t rnd(size_t n) { return static_cast<size_t>(rng_() % n); }
    uint64_t total_live() const { return live0_ + live_bytes_; }

    Cls classify(uintptr_t t) const {
        if (t == 0) return Cls::null;
        if (live_.count(t)) return Cls::live;
        auto it = live_.upper_bound(t);
        if (it != live_.begin()) {
            --it;
            if (t < it->first + it->second.usable) return Cls::interior;
        }
        if (freed_known_.count(t)) return Cls::freed;
        return Cls::foreign;
    }

    // The error a page-start operation gets for a non-live target.
    static int32_t error_for(Cls c) {
        switch (c) {
            case Cls::null: return NPK_WILDX_ERR_NULL;
            case Cls::interior: return NPK_WILDX_ERR_INTERIOR;
            case Cls::freed: return NPK_WILDX_ERR_FREED;
            default: return NPK_WILDX_ERR_NOT_WILDX;
        }
    }

    uintptr_t pick_target();
    void expect_rejection(int32_t rc, int32_t code);
    void forget_covered(uintptr_t lo, uintptr_t hi);
    void remember_free(uintptr_t a);

    void op_alloc();
    void op_install(uintptr_t t);
    void op_write();
    void op_seal(uintptr_t t);
    void op_free(uintptr_t t);
    void op_verify(uintptr_t t);
    void op_code_hash(uintptr_t t);
    void op_query(uintptr_t t);
    void op_call();
};

#define MODEL_EXPECT(cond)                                                        \
    do {                                                                          \
        if (!(cond)) FAIL("model: " #cond " does not hold; step: " << context);  \
    } while (0)

uintptr_t Model::pick_target() {
    const size_t r = rnd(100);
    if (r < 55 && !live_.empty()) {
        auto it = live_.begin();
        std::advance(it, static_cast<long>(rnd(live_.size())));
        return it->first;
    }
    if (r < 65 && !live_.empty()) {
        auto it = live_.begin();
        std::advance(it, static_cast<long>(rnd(live_.size())));
        const size_t off = rnd(2) ? 1 + rnd(it->second.usable - 1) : pg_ * rnd(it->second.usable / pg_);
        return it->first + (off == 0 ? 1 : off);
    }
    if (r < 85 && !freed_pool_.empty()) return freed_pool_[rnd(freed_pool_.size())];
    if (r < 89) return 0;
    static int in_data = 0;
    const uintptr_t foreign[] = {
        reinterpret_cast<uintptr_t>(&on_stack_), reinterpret_cast<uintptr_t>(foreign_map_),
        reinterpret_cast<uintptr_t>(&in_data), reinterpret_cast<uintptr_t>(&in_data) & ~uintptr_t{4095},
        uintptr_t{0x1000}, reinterpret_cast<uintptr_t>(foreign_map_) + 24};
    return foreign[rnd(sizeof foreign / sizeof foreign[0])];
}

void Model::expect_rejection(int32_t rc, int32_t code) {
    MODEL_EXPECT(rc == -1);
    MODEL_EXPECT(npk_wildx_last_error() == code);
    ++expect_.rejections;
    ++ops_rejected;
}

void Model::forget_covered(uintptr_t lo, uintptr_t hi) {
    for (uintptr_t q = lo; q < hi; q += pg_) freed_known_.erase(q);
}

void Model::remember_free(uintptr_t a) {
    ++free_seq_;
    freed_known_[a] = free_seq_;
    ring_.emplace_back(a, free_seq_);
    if (ring_.size() > npk::wildx::testing::kFreedMemory) {
        const auto [old, seq] = ring_.front();
        ring_.pop_front();
        auto it = freed_known_.find(old);
        if (it != freed_known_.end() && it->second == seq) freed_known_.erase(it);
    }
    if (freed_pool_.size() < 4096) freed_pool_.push_back(a);
    else freed_pool_[rnd(freed_pool_.size())] = a;
}

void Model::op_alloc() {
    const size_t r = rnd(100);
    const size_t size = r < 3 ? 0 : r < 85 ? 1 + rnd(3 * pg_) : 1 + rnd(8 * pg_);
    const size_t usable = (size + pg_ - 1) / pg_ * pg_;
    // Now and then the OS refuses (through the seam).
    const bool inject = size != 0 && total_live() + usable <= quota_ && rnd(100) == 0;
    const bool via_mprotect = inject && guard_on_ && rnd(2);
    if (inject) {
        npk::os::testing::fail_nth_os_call(via_mprotect ? OsCall::mprotect : OsCall::mmap, 1, ENOMEM);
    }
    std::ostringstream os;
    os << "alloc(" << size << ")" << (guard_on_ ? " guarded" : "") << (inject ? " os-fault" : "");
    context = os.str();
    void* p = npk_wildx_alloc(size);
    npk::os::testing::clear_os_faults();
    if (size == 0) {
        MODEL_EXPECT(p == nullptr);
        expect_rejection(-1, NPK_WILDX_ERR_ZERO_SIZE);
        return;
    }
    if (total_live() + usable > quota_) {
        MODEL_EXPECT(p == nullptr);
        expect_rejection(-1, NPK_WILDX_ERR_QUOTA);
        return;
    }
    if (inject) {
        MODEL_EXPECT(p == nullptr);
        expect_rejection(-1, NPK_WILDX_ERR_OS);
        return;
    }
    MODEL_EXPECT(p != nullptr);
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    context += " = " + std::to_string(a);
    MODEL_EXPECT(a % pg_ == 0);
    // Never mapped twice: no overlap with any live page or its guards.
    const uintptr_t lo = guard_on_ ? a - pg_ : a, hi = a + usable + (guard_on_ ? pg_ : 0);
    for (const auto& [b, sp] : live_) {
        const uintptr_t blo = sp.guard ? b - pg_ : b, bhi = b + sp.usable + (sp.guard ? pg_ : 0);
        MODEL_EXPECT(!(lo < bhi && blo < hi));
    }
    MODEL_EXPECT(npk_wildx_state(p) == NPK_WILDX_WRITABLE);
    MODEL_EXPECT(npk_wildx_size(p) == usable);
    ShadowPage sp;
    sp.usable = usable;
    sp.guard = guard_on_;
    sp.bytes.assign(usable, 0);
    MODEL_EXPECT(std::memcmp(p, sp.bytes.data(), usable) == 0);
    live_.emplace(a, std::move(sp));
    forget_covered(lo, hi);
    live_bytes_ += usable;
    peak_ = std::max<uint64_t>(peak_, total_live());
    ++expect_.allocs;
    ++expect_.live_pages;
    expect_.live_bytes += static_cast<int64_t>(usable);
    ++ops_alloc;
}

void Model::op_install(uintptr_t t) {
    context = "install(" + std::to_string(t) + ")";
    const Cls c = classify(t);
    const int32_t rc = npk_jit_install_add_i32(reinterpret_cast<void*>(t));
    if (!npk_test_host_is_x86_64()) return expect_rejection(rc, NPK_WILDX_ERR_UNSUPPORTED_HOST);
    if (c != Cls::live) return expect_rejection(rc, error_for(c));
    ShadowPage& sp = live_.at(t);
    if (sp.sealed) return expect_rejection(rc, NPK_WILDX_ERR_NOT_WRITABLE);
    MODEL_EXPECT(rc == 0);
    std::memcpy(sp.bytes.data(), kAdd, sizeof kAdd);
    sp.callable = true;
    MODEL_EXPECT(std::memcmp(reinterpret_cast<void*>(t), sp.bytes.data(), 64) == 0);
}

void Model::op_write() {
    // The caller's own writes into writable pages, mirrored in the model.
    std::vector<uintptr_t> writable;
    for (const auto& [a, sp] : live_) {
        if (!sp.sealed) writable.push_back(a);
    }
    if (writable.empty()) return;
    const uintptr_t a = writable[rnd(writable.size())];
    context = "write into " + std::to_string(a);
    ShadowPage& sp = live_.at(a);
    unsigned char* p = reinterpret_cast<unsigned char*>(a);
    const size_t n = 1 + rnd(32);
    for (size_t i = 0; i < n; ++i) {
        const size_t off = 8 + rnd(sp.usable - 8);  // keep a possible add_i32 intact
        const unsigned char v = static_cast<unsigned char>(rng_());
        p[off] = v;
        sp.bytes[off] = v;
    }
}

void Model::op_seal(uintptr_t t) {
    const Cls c = classify(t);
    const bool inject = c == Cls::live && !live_.at(t).sealed && rnd(100) == 0;
    context = "seal(" + std::to_string(t) + ")" + (inject ? " os-fault" : "");
    if (inject) npk::os::testing::fail_nth_os_call(OsCall::mprotect, 1, EACCES);
    const int32_t rc = npk_wildx_seal(reinterpret_cast<void*>(t));
    npk::os::testing::clear_os_faults();
    if (c != Cls::live) return expect_rejection(rc, error_for(c));
    ShadowPage& sp = live_.at(t);
    if (sp.sealed) return expect_rejection(rc, NPK_WILDX_ERR_SEALED);
    if (inject) {
        expect_rejection(rc, NPK_WILDX_ERR_OS);
        MODEL_EXPECT(npk_wildx_state(reinterpret_cast<void*>(t)) == NPK_WILDX_WRITABLE);
        return;
    }
    MODEL_EXPECT(rc == 0);
    MODEL_EXPECT(std::memcmp(reinterpret_cast<void*>(t), sp.bytes.data(), sp.usable) == 0);
    sp.sealed = true;
    sp.hash = fnv1a64_naive(sp.bytes.data(), sp.usable);  // the reference, from the model's bytes
    ++expect_.seals;
    ++ops_seal;
}

void Model::op_free(uintptr_t t) {
    context = "free(" + std::to_string(t) + ")";
    const Cls c = classify(t);
    const int32_t rc = npk_wildx_free(reinterpret_cast<void*>(t));
    if (c != Cls::live) return expect_rejection(rc, error_for(c));
    MODEL_EXPECT(rc == 0);
    const ShadowPage& sp = live_.at(t);
    just_freed_lo_ = sp.guard ? t - pg_ : t;
    just_freed_hi_ = t + sp.usable + (sp.guard ? pg_ : 0);
    live_bytes_ -= sp.usable;
    ++expect_.frees;
    --expect_.live_pages;
    expect_.live_bytes -= static_cast<int64_t>(sp.usable);
    live_.erase(t);
    remember_free(t);
    ++ops_free;
}

void Model::op_verify(uintptr_t t) {
    context = "verify(" + std::to_string(t) + ")";
    const Cls c = classify(t);
    const int32_t rc = npk_wildx_verify(reinterpret_cast<void*>(t));
    if (c != Cls::live) return expect_rejection(rc, error_for(c));
    if (!live_.at(t).sealed) return expect_rejection(rc, NPK_WILDX_ERR_NOT_EXECUTABLE);
    MODEL_EXPECT(rc == 0);
}

void Model::op_code_hash(uintptr_t t) {
    context = "code_hash(" + std::to_string(t) + ")";
    const Cls c = classify(t);
    uint64_t h = 0x5555;
    const int32_t rc = npk_wildx_code_hash(reinterpret_cast<void*>(t), &h);
    if (c != Cls::live) {
        MODEL_EXPECT(h == 0x5555);
        return expect_rejection(rc, error_for(c));
    }
    const ShadowPage& sp = live_.at(t);
    if (!sp.sealed) {
        MODEL_EXPECT(h == 0x5555);
        return expect_rejection(rc, NPK_WILDX_ERR_NOT_EXECUTABLE);
    }
    MODEL_EXPECT(rc == 0);
    MODEL_EXPECT(h == sp.hash);
}

void Model::op_query(uintptr_t t) {
    context = "state/size(" + std::to_string(t) + ")";
    const Cls c = classify(t);
    const void* p = reinterpret_cast<const void*>(t);
    if (c == Cls::live) {
        const ShadowPage& sp = live_.at(t);
        MODEL_EXPECT(npk_wildx_state(p) == (sp.sealed ? NPK_WILDX_EXECUTABLE : NPK_WILDX_WRITABLE));
        MODEL_EXPECT(npk_wildx_size(p) == sp.usable);
    } else {
        MODEL_EXPECT(npk_wildx_state(p) == NPK_WILDX_UNKNOWN);
        MODEL_EXPECT(npk_wildx_size(p) == 0);
    }
}

void Model::op_call() {
    if (!npk_test_host_is_x86_64()) return;
    std::vector<uintptr_t> callable;
    for (const auto& [a, sp] : live_) {
        if (sp.sealed && sp.callable) callable.push_back(a);
    }
    if (callable.empty()) return;
    const uintptr_t a = callable[rnd(callable.size())];
    const int32_t x = static_cast<int32_t>(rng_()), y = static_cast<int32_t>(rng_());
    context = "call(" + std::to_string(a) + ")";
    const int32_t want = static_cast<int32_t>(static_cast<uint32_t>(x) + static_cast<uint32_t>(y));
    MODEL_EXPECT(npk_jit_call_i32_i32(reinterpret_cast<void*>(a), x, y) == want);
}

void Model::step(uint64_t i) {
    just_freed_lo_ = just_freed_hi_ = 0;
    const size_t r = rnd(1000);
    if (r < 200) op_alloc();
    else if (r < 320) op_install(pick_target());
    else if (r < 370) op_write();
    else if (r < 520) op_seal(pick_target());
    else if (r < 700) op_free(pick_target());
    else if (r < 760) op_verify(pick_target());
    else if (r < 820) op_code_hash(pick_target());
    else if (r < 890) op_query(pick_target());
    else if (r < 995) op_call();
    else if (r < 998) {
        guard_on_ = !guard_on_;
        npk_wildx_set_guard_pages(guard_on_ ? 1 : 0);
        context = "guard pages " + std::to_string(guard_on_);
    } else {
        quota_ = static_cast<size_t>(live0_) + (8 + rnd(56)) * pg_;
        npk_wildx_set_quota(quota_);
        context = "quota " + std::to_string(quota_);
    }
    context = "#" + std::to_string(i) + " " + context;
}

void Model::check_invariants() {
    maps_.read();
    if (const Vma* v = maps_.writable_and_executable()) {
        FAIL("a mapping is writable and executable: " << std::hex << v->lo << "-" << v->hi << " " << v->perms
                                                      << "; step: " << context);
    }
    for (const auto& [a, sp] : live_) {
        if (!maps_.covered(a, a + sp.usable, sp.sealed ? "r-xp" : "rw-p")) {
            FAIL("page " << std::hex << a << "-" << a + sp.usable << " is not mapped "
                         << (sp.sealed ? "r-xp" : "rw-p") << "; step: " << context << "; mappings near it:"
                         << maps_.around(a, a + sp.usable));
        }
        if (sp.guard && !(maps_.covered(a - pg_, a, "---p") && maps_.covered(a + sp.usable, a + sp.usable + pg_, "---p"))) {
            FAIL("page " << std::hex << a << " lost a guard page; step: " << context << "; mappings near it:"
                         << maps_.around(a, a + sp.usable));
        }
    }
    if (just_freed_hi_ != 0 && maps_.any_in(just_freed_lo_, just_freed_hi_)) {
        FAIL("a freed page is still mapped; step: " << context << "; mappings near it:"
             << maps_.around(just_freed_lo_, just_freed_hi_));
    }
    const Delta got = watch_.delta();
    if (!(got == expect_)) {
        FAIL("stats " << Catch::StringMaker<Delta>::convert(got) << " but the model says "
                      << Catch::StringMaker<Delta>::convert(expect_) << "; step: " << context);
    }
    MODEL_EXPECT(stats_now().peak_bytes == peak_);
}

uint64_t env_or(const char* name, uint64_t fallback) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

}  // namespace

TEST_CASE("W^X holds after every operation of a long random sequence, as the shadow model predicts",
          "[model]") {
    SwitchesGuard g;
    const uint64_t ops = env_or("NPK_MODEL_OPS", 100000);
    const uint64_t seed = env_or("NPK_MODEL_SEED", 0x5eed1234);
    INFO("seed " << seed << ", " << ops << " operations");
    const auto t0 = std::chrono::steady_clock::now();
    Model m(seed);
    m.check_invariants();
    for (uint64_t i = 0; i < ops; ++i) {
        m.step(i);
        m.check_invariants();
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // Enough of each kind ran for the sequence to mean something.
    CHECK(m.ops_alloc > ops / 20);
    CHECK(m.ops_seal > ops / 50);
    CHECK(m.ops_free > ops / 20);
    CHECK(m.ops_rejected > ops / 10);
    WARN("model: " << ops << " operations in " << secs << " s (" << m.ops_alloc << " allocs, " << m.ops_seal
                   << " seals, " << m.ops_free << " frees, " << m.ops_rejected << " rejections)");
}
