// The handle arenas under a long random sequence of operations, checked
// after every one against an independent shadow model:
//   - every live handle dereferences to its own block, which still holds
//     the bytes last written through it (no two live blocks overlap);
//   - every dead handle (freed, or its arena destroyed, whatever happened
//     to its slot and arena id since) dereferences to NULL with the
//     status the model predicts, and freeing it frees nothing;
//   - every return value and statistics counter is what the model says,
//     with memory requests failing now and then (the table's fault seam).
// NPK_MODEL_OPS and NPK_MODEL_SEED override the length and the seed.
#include "support.h"

#include "handle/table.h"
#include "handle/test_seams.h"

#include <npk/handle.h>
#include <npk/status.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <vector>

using namespace npk::test;

namespace {

struct Block {
    npk_handle_t h = 0;
    int64_t size = 0;
    unsigned char tag = 0;  // every byte of the block
};

struct ArenaModel {
    uint64_t epoch = 0;  // which incarnation of the id this is
    std::vector<Block> live;
};

struct Dead {
    npk_handle_t h = 0;
    int64_t arena = 0;
    uint64_t epoch = 0;
};

class Model {
public:
    explicit Model(uint64_t seed) : rng_(seed), base_(stats()) {}

    ~Model() {
        npk::handle::testing::fail_nth_alloc(0);
        for (auto& [id, a] : arenas_) npk_handle_arena_destroy(id);
    }

    void step() {
        switch (pick(10)) {
            case 0: create(); break;
            case 1: if (pick(3) == 0) destroy(); break;
            case 2: case 3: case 4: alloc(); break;
            case 5: free_live(); break;
            case 6: rewrite(); break;
            case 7: deref_live(); break;
            default: touch_dead(); break;
        }
        check_stats();
    }

    // Every live block, read back at once: all distinct, all intact.
    void check_all_live() {
        std::set<const void*> seen;
        for (auto& [id, a] : arenas_) {
            for (const Block& b : a.live) {
                const void* p = npk_handle_deref(b.h);
                REQUIRE(p != nullptr);
                REQUIRE(seen.insert(p).second);
                check_bytes(p, b);
            }
        }
    }

private:
    static npk_handle_stats stats() {
        npk_handle_stats s{};
        npk_handle_get_stats(&s);
        return s;
    }

    uint32_t pick(uint32_t n) { return static_cast<uint32_t>(rng_() % n); }

    // Fails the next memory request of the table one time in 16; returns
    // whether it did, so the caller expects NPK_ERR_OUT_OF_MEMORY.
    bool maybe_fail_memory() {
        if (pick(16) != 0) return false;
        npk::handle::testing::fail_nth_alloc(1);
        return true;
    }

    void create() {
        if (arenas_.size() >= 6) return;
        const bool oom = maybe_fail_memory();
        const int64_t id = npk_handle_arena_create();
        if (oom) {
            REQUIRE(id == 0);
            REQUIRE(npk_last_error() == NPK_ERR_OUT_OF_MEMORY);
            ++rejections_;
            return;
        }
        REQUIRE(id >= 1);
        REQUIRE(arenas_.count(id) == 0);
        arenas_[id].epoch = ++epochs_;
        ++creates_;
    }

    std::map<int64_t, ArenaModel>::iterator random_arena() {
        auto it = arenas_.begin();
        std::advance(it, pick(static_cast<uint32_t>(arenas_.size())));
        return it;
    }

    void destroy() {
        if (arenas_.empty()) return;
        auto it = random_arena();
        for (const Block& b : it->second.live) dead_.push_back(Dead{b.h, it->first, it->second.epoch});
        frees_ += it->second.live.size();
        live_handles_ -= it->second.live.size();
        for (const Block& b : it->second.live) live_bytes_ -= static_cast<uint64_t>(b.size);
        npk_handle_arena_destroy(it->first);
        arenas_.erase(it);
        ++destroys_;
    }

    void alloc() {
        if (arenas_.empty()) return;
        auto it = random_arena();
        const uint32_t kind = pick(20);
        if (kind == 0) {  // a size the table must refuse
            const int64_t bad = pick(2) == 0 ? 0 : -1 - static_cast<int64_t>(pick(100));
            REQUIRE(npk_handle_alloc(it->first, bad) == NPK_HANDLE_NULL);
            REQUIRE(npk_last_error() == (bad == 0 ? NPK_ERR_ZERO_SIZE : NPK_ERR_INVALID_ARGUMENT));
            ++rejections_;
            return;
        }
        const bool oom = maybe_fail_memory();
        const int64_t size = 1 + pick(96);
        const npk_handle_t h = npk_handle_alloc(it->first, size);
        if (oom) {
            REQUIRE(h == NPK_HANDLE_NULL);
            REQUIRE(npk_last_error() == NPK_ERR_OUT_OF_MEMORY);
            ++rejections_;
            return;
        }
        REQUIRE(h != NPK_HANDLE_NULL);
        REQUIRE(npk::handle::unpack(h).arena == static_cast<uint32_t>(it->first));
        auto* p = static_cast<unsigned char*>(npk_handle_deref(h));
        REQUIRE(p != nullptr);
        for (int64_t i = 0; i < size; ++i) REQUIRE(p[i] == 0);
        Block b{h, size, static_cast<unsigned char>(1 + pick(255))};
        std::memset(p, b.tag, static_cast<size_t>(size));
        it->second.live.push_back(b);
        ++allocs_;
        ++live_handles_;
        live_bytes_ += static_cast<uint64_t>(size);
    }

    Block* random_live(int64_t* arena = nullptr, uint64_t* epoch = nullptr, size_t* index = nullptr) {
        if (arenas_.empty()) return nullptr;
        auto it = random_arena();
        if (it->second.live.empty()) return nullptr;
        const size_t i = pick(static_cast<uint32_t>(it->second.live.size()));
        if (arena) *arena = it->first;
        if (epoch) *epoch = it->second.epoch;
        if (index) *index = i;
        return &it->second.live[i];
    }

    void free_live() {
        int64_t arena = 0;
        uint64_t epoch = 0;
        size_t index = 0;
        Block* b = random_live(&arena, &epoch, &index);
        if (b == nullptr) return;
        npk_handle_free(b->h);
        dead_.push_back(Dead{b->h, arena, epoch});
        ++frees_;
        --live_handles_;
        live_bytes_ -= static_cast<uint64_t>(b->size);
        auto& live = arenas_[arena].live;
        live.erase(live.begin() + static_cast<std::ptrdiff_t>(index));
    }

    void rewrite() {
        Block* b = random_live();
        if (b == nullptr) return;
        void* p = npk_handle_deref(b->h);
        REQUIRE(p != nullptr);
        check_bytes(p, *b);
        b->tag = static_cast<unsigned char>(1 + pick(255));
        std::memset(p, b->tag, static_cast<size_t>(b->size));
    }

    void deref_live() {
        Block* b = random_live();
        if (b == nullptr) return;
        const void* p = npk_handle_deref(b->h);
        REQUIRE(p != nullptr);
        check_bytes(p, *b);
    }

    // A dead handle: NULL, with STALE while its own arena lives on, and
    // NO_ARENA once that arena is gone (even if its id is live again).
    void touch_dead() {
        if (dead_.empty()) return;
        const Dead& d = dead_[pick(static_cast<uint32_t>(dead_.size()))];
        auto it = arenas_.find(d.arena);
        const bool same_arena = it != arenas_.end() && it->second.epoch == d.epoch;
        const int32_t expected = same_arena ? NPK_ERR_HANDLE_STALE : NPK_ERR_HANDLE_NO_ARENA;
        INFO("dead handle " << d.h << " of arena " << d.arena);
        if (pick(2) == 0) {
            REQUIRE(npk_handle_deref(d.h) == nullptr);
        } else {
            npk_handle_free(d.h);
        }
        REQUIRE(npk_last_error() == expected);
        ++rejections_;
    }

    static void check_bytes(const void* p, const Block& b) {
        const auto* bytes = static_cast<const unsigned char*>(p);
        for (int64_t i = 0; i < b.size; ++i) {
            if (bytes[i] != b.tag) FAIL("block of handle " << b.h << " changed at byte " << i);
        }
    }

    void check_stats() {
        const npk_handle_stats s = stats();
        REQUIRE(s.live_arenas == base_.live_arenas + arenas_.size());
        REQUIRE(s.live_handles == base_.live_handles + live_handles_);
        REQUIRE(s.live_bytes == base_.live_bytes + live_bytes_);
        REQUIRE(s.total_arena_creates == base_.total_arena_creates + creates_);
        REQUIRE(s.total_arena_destroys == base_.total_arena_destroys + destroys_);
        REQUIRE(s.total_allocs == base_.total_allocs + allocs_);
        REQUIRE(s.total_frees == base_.total_frees + frees_);
        REQUIRE(s.total_rejections == base_.total_rejections + rejections_);
    }

    std::mt19937_64 rng_;
    npk_handle_stats base_;
    std::map<int64_t, ArenaModel> arenas_;
    std::vector<Dead> dead_;
    uint64_t epochs_ = 0;
    uint64_t creates_ = 0, destroys_ = 0, allocs_ = 0, frees_ = 0, rejections_ = 0;
    uint64_t live_handles_ = 0, live_bytes_ = 0;
};

uint64_t env_or(const char* name, uint64_t fallback) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

}  // namespace

TEST_CASE("handle: a random sequence of operations agrees with the shadow model", "[handle][model]") {
    npk_wildx_set_quiet(1);
    const uint64_t seed = env_or("NPK_MODEL_SEED",
                                 static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
    const uint64_t ops = env_or("NPK_MODEL_OPS", 20000);
    INFO("NPK_MODEL_SEED=" << seed << " NPK_MODEL_OPS=" << ops);
    {
        Model m(seed);
        for (uint64_t i = 0; i < ops; ++i) {
            m.step();
            if (i % 512 == 0) m.check_all_live();
        }
        m.check_all_live();
    }
    npk_wildx_set_quiet(0);
}
