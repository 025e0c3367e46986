// The persistent map of the dataflow states (analysis/pmap.h), checked
// against std::map as a shadow model: random updates and look-ups, old
// copies that must not change, joins against a reference join, the join's
// cost (merge is called only where the maps differ) and no leaks.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "analysis/pmap.h"

using namespace npk;

namespace {

using Ref = std::map<uint32_t, int>;

// 32-bit draws from a fixed seed.
struct Rng {
    std::mt19937 gen;
    explicit Rng(uint32_t seed) : gen(seed) {}
    uint32_t operator()() { return static_cast<uint32_t>(gen()); }
};

// Keys of every kind the analyses use: small dense ones, tagged ones
// (0xC0000000 | i), the extremes, and arbitrary 32-bit ones.
uint32_t random_key(Rng& rng) {
    switch (rng() % 8) {
        case 0: return 0xC0000000u | (rng() % 300);
        case 1: return rng() % 4 == 0 ? 0xFFFFFFFFu : 0u;
        case 2: return rng();
        case 3: return 0xFFFFFFFFu - rng() % 40;
        default: return rng() % 3000;
    }
}

Ref contents(const PMap<int>& m) {
    Ref r;
    uint32_t prev = 0;
    bool first = true;
    m.for_each([&](uint32_t k, const int& v) {
        CHECK((first || k > prev));  // ascending, no duplicates
        first = false;
        prev = k;
        r.emplace(k, v);
    });
    return r;
}

std::vector<std::pair<uint32_t, int>> range_of(const PMap<int>& m, uint32_t lo, uint32_t hi) {
    std::vector<std::pair<uint32_t, int>> out;
    m.for_each_in(lo, hi, [&](uint32_t k, const int& v) { out.emplace_back(k, v); });
    return out;
}

std::vector<std::pair<uint32_t, int>> range_of(const Ref& r, uint32_t lo, uint32_t hi) {
    std::vector<std::pair<uint32_t, int>> out;
    if (lo >= hi) return out;
    for (auto it = r.lower_bound(lo); it != r.end() && it->first < hi; ++it) out.emplace_back(*it);
    return out;
}

void check_same(const PMap<int>& m, const Ref& r) {
    REQUIRE(m.size() == r.size());
    CHECK(m.empty() == r.empty());
    CHECK(contents(m) == r);
}

// A reference join: what join_with should leave in `into`, and the keys
// where merge must be called (ascending).
template <class M>
std::pair<Ref, std::vector<uint32_t>> reference_join(const Ref& into, const Ref& from, M merge) {
    Ref out = into;
    std::vector<uint32_t> called;
    std::map<uint32_t, std::pair<const int*, const int*>> keys;
    for (const auto& [k, v] : into) keys[k].first = &v;
    for (const auto& [k, v] : from) keys[k].second = &v;
    for (const auto& [k, pv] : keys) {
        const auto& [mine, theirs] = pv;
        if (mine != nullptr && theirs != nullptr && *mine == *theirs) continue;
        called.push_back(k);
        std::optional<int> r = merge(k, mine, theirs);
        if (r) {
            out[k] = *r;
        } else {
            out.erase(k);
        }
    }
    return {out, called};
}

std::optional<int> merge_max(uint32_t, const int* mine, const int* theirs) {
    if (mine == nullptr) return *theirs;
    if (theirs == nullptr) return *mine;
    return std::max(*mine, *theirs);
}

// Keeps a key only where both sides agree (an intersection), except that
// negative values on one side alone survive.
std::optional<int> merge_agree(uint32_t, const int* mine, const int* theirs) {
    if (mine != nullptr && theirs == nullptr && *mine < 0) return *mine;
    if (mine == nullptr && theirs != nullptr && *theirs < 0) return *theirs;
    return std::nullopt;
}

// A value that counts its live instances.
struct Counted {
    static inline long live = 0;
    int v;
    explicit Counted(int x) : v(x) { ++live; }
    Counted(const Counted& o) : v(o.v) { ++live; }
    Counted(Counted&& o) noexcept : v(o.v) { ++live; }
    Counted& operator=(const Counted&) = default;
    Counted& operator=(Counted&&) = default;
    ~Counted() { --live; }
    bool operator==(const Counted& o) const { return v == o.v; }
};

}  // namespace

TEST_CASE("pmap: random updates agree with std::map, and old copies never change", "[pmap]") {
    Rng rng(20261207);
    PMap<int> m;
    Ref r;
    std::vector<std::pair<PMap<int>, Ref>> snapshots;
    for (int step = 0; step < 40000; ++step) {
        uint32_t k = random_key(rng);
        switch (rng() % 10) {
            case 0:
            case 1:
            case 2:
            case 3: {
                int v = static_cast<int>(rng() % 50);
                m.set(k, v);
                r[k] = v;
                break;
            }
            case 4:
            case 5:
                m.erase(k);
                r.erase(k);
                break;
            case 6: {
                const int* got = m.find(k);
                auto it = r.find(k);
                REQUIRE((got != nullptr) == (it != r.end()));
                if (got != nullptr) CHECK(*got == it->second);
                break;
            }
            case 7: {
                uint32_t a = random_key(rng), b = random_key(rng);
                if (rng() % 3 == 0) b = 0xFFFFFFFFu;
                CHECK(range_of(m, a, b) == range_of(r, a, b));
                CHECK(range_of(m, std::min(a, b), std::max(a, b)) == range_of(r, std::min(a, b), std::max(a, b)));
                break;
            }
            case 8:
                if (rng() % 20 == 0) snapshots.emplace_back(m, r);
                break;
            default:
                if (step % 500 == 0) check_same(m, r);
                break;
        }
        REQUIRE(m.size() == r.size());
    }
    check_same(m, r);
    REQUIRE(snapshots.size() > 50);
    for (const auto& [old_m, old_r] : snapshots) check_same(old_m, old_r);
    // Copies survive the original's destruction and reassignment.
    PMap<int> kept = snapshots.front().first;
    snapshots.erase(snapshots.begin());
    m = PMap<int>();
    CHECK(m.empty());
    PMap<int> moved = std::move(kept);
    CHECK(kept.empty());
    for (const auto& [old_m, old_r] : snapshots) check_same(old_m, old_r);
}

TEST_CASE("pmap: the extreme keys and ranges", "[pmap]") {
    PMap<int> m;
    m.set(0xFFFFFFFFu, 1);
    m.set(0u, 2);
    m.set(0xC0000000u, 3);
    m.set(0xC0000000u | 7u, 4);
    CHECK(m.size() == 4);
    REQUIRE(m.find(0xFFFFFFFFu) != nullptr);
    CHECK(*m.find(0xFFFFFFFFu) == 1);
    CHECK(m.find(0xFFFFFFFEu) == nullptr);
    CHECK(range_of(m, 0xC0000000u, 0xC0000008u) == std::vector<std::pair<uint32_t, int>>{{0xC0000000u, 3}, {0xC0000007u, 4}});
    CHECK(range_of(m, 0xC0000001u, 0xFFFFFFFFu) == std::vector<std::pair<uint32_t, int>>{{0xC0000007u, 4}});
    CHECK(range_of(m, 0, 1) == std::vector<std::pair<uint32_t, int>>{{0u, 2}});
    CHECK(range_of(m, 5, 5).empty());
    CHECK(range_of(m, 9, 3).empty());
    m.erase(0x12345678u);  // absent: nothing happens
    CHECK(m.size() == 4);
    m.erase(0xFFFFFFFFu);
    m.erase(0u);
    m.erase(0xC0000000u);
    m.erase(0xC0000007u);
    CHECK(m.empty());
    CHECK(m == PMap<int>());
}

TEST_CASE("pmap: setting an equal value keeps the map shared", "[pmap]") {
    PMap<int> a;
    for (uint32_t k = 0; k < 1000; ++k) a.set(k * 7, static_cast<int>(k));
    PMap<int> b = a;
    b.set(70, 10);  // already 10
    int calls = 0;
    auto count = [&](uint32_t, const int*, const int* theirs) -> std::optional<int> {
        ++calls;
        return *theirs;
    };
    CHECK_FALSE(a.join_with(b, count));
    CHECK(calls == 0);
}

// Sharing is seen through the values: a node copied rather than shared
// copies its values, so the count of live values grows.
TEST_CASE("pmap: equal values and joined subtrees are shared, not copied", "[pmap]") {
    REQUIRE(Counted::live == 0);
    {
        PMap<Counted> a;
        for (uint32_t k = 0; k < 1000; ++k) a.set(k, Counted(static_cast<int>(k)));
        const long live = Counted::live;
        CHECK(live == 1000);
        PMap<Counted> b = a;
        b.set(500, Counted(500));  // equal: nothing copied
        CHECK(Counted::live == live);
        b.set(500, Counted(-1));  // one leaf copied (16 values)
        CHECK(Counted::live == live + 16);
        // A join whose result equals `from` in a subtree takes from's
        // node: an empty map joined with theirs-wins shares every node.
        PMap<Counted> c;
        size_t calls = 0;
        CHECK(c.join_with(a, [&](uint32_t, const Counted*, const Counted* theirs) -> std::optional<Counted> {
            ++calls;
            return *theirs;
        }));
        CHECK(calls == 1000);
        CHECK(Counted::live == live + 16);
        CHECK(c == a);
        // b joined with a, theirs winning at the one differing key, ends
        // up sharing a's leaf: b's copied leaf is freed.
        CHECK(b.join_with(a, [&](uint32_t, const Counted*, const Counted* theirs) -> std::optional<Counted> {
            return *theirs;
        }));
        CHECK(Counted::live == live);
        CHECK(b == a);
    }
    CHECK(Counted::live == 0);
}

TEST_CASE("pmap: join_with agrees with a reference join", "[pmap]") {
    Rng rng(7);
    for (int round = 0; round < 300; ++round) {
        // Two maps with a common ancestor (so they share nodes), or two
        // built independently (so nothing is shared).
        PMap<int> base;
        Ref base_r;
        int n = static_cast<int>(rng() % 400);
        for (int i = 0; i < n; ++i) {
            uint32_t k = random_key(rng);
            int v = static_cast<int>(rng() % 20) - 5;
            base.set(k, v);
            base_r[k] = v;
        }
        bool shared = round % 3 != 0;
        PMap<int> a = shared ? base : PMap<int>(), b = shared ? base : PMap<int>();
        Ref ar = shared ? base_r : Ref(), br = shared ? base_r : Ref();
        for (int side = 0; side < 2; ++side) {
            PMap<int>& m = side == 0 ? a : b;
            Ref& r = side == 0 ? ar : br;
            int edits = static_cast<int>(rng() % (shared ? 30 : 300));
            for (int i = 0; i < edits; ++i) {
                uint32_t k = rng() % 2 == 0 ? random_key(rng) : (r.empty() ? 0 : r.begin()->first + rng() % 50);
                if (rng() % 4 == 0) {
                    m.erase(k);
                    r.erase(k);
                } else {
                    int v = static_cast<int>(rng() % 20) - 5;
                    m.set(k, v);
                    r[k] = v;
                }
            }
        }
        for (int which = 0; which < 2; ++which) {
            auto merge = which == 0 ? merge_max : merge_agree;
            auto [want, want_calls] = reference_join(ar, br, merge);
            PMap<int> into = a;
            std::vector<uint32_t> calls;
            bool changed = into.join_with(b, [&](uint32_t k, const int* mine, const int* theirs) {
                calls.push_back(k);
                return merge(k, mine, theirs);
            });
            INFO("round " << round << " merge " << which);
            check_same(into, want);
            CHECK(calls == want_calls);
            CHECK(changed == (want != ar));
            check_same(a, ar);  // the join copied, never wrote in place
            check_same(b, br);
            // A second join with the same map changes nothing for max
            // (idempotent), and calls merge at most where they still differ.
            if (which == 0) {
                bool again = into.join_with(b, [&](uint32_t k, const int* mine, const int* theirs) {
                    return merge(k, mine, theirs);
                });
                CHECK_FALSE(again);
            }
        }
    }
}

TEST_CASE("pmap: join_with into an empty map calls merge for every key and may drop them", "[pmap]") {
    PMap<int> from;
    for (uint32_t k = 0; k < 5000; ++k) from.set(k * 3 + (k % 2 == 0 ? 0 : 0xC0000000u), static_cast<int>(k));
    PMap<int> into;
    size_t calls = 0;
    CHECK_FALSE(into.join_with(from, [&](uint32_t, const int*, const int*) -> std::optional<int> {
        ++calls;
        return std::nullopt;
    }));
    CHECK(calls == 5000);
    CHECK(into.empty());
    calls = 0;
    CHECK(into.join_with(from, [&](uint32_t, const int* mine, const int* theirs) -> std::optional<int> {
        ++calls;
        CHECK(mine == nullptr);
        return *theirs + 1;
    }));
    CHECK(calls == 5000);
    CHECK(into.size() == 5000);
    REQUIRE(into.find(6) != nullptr);
    CHECK(*into.find(6) == 3);
    CHECK(into.find(3) == nullptr);
    REQUIRE(into.find(0xC0000003u) != nullptr);
    CHECK(*into.find(0xC0000003u) == 2);
    CHECK_FALSE(into == from);
}

TEST_CASE("pmap: join_with calls merge only for the keys that differ", "[pmap]") {
    PMap<int> a;
    for (uint32_t k = 0; k < 100000; ++k) a.set(k, static_cast<int>(k));
    PMap<int> b = a;
    b.set(17, -1);          // changed
    b.set(99999, -2);       // changed
    b.set(0xC0000005u, 5);  // added
    size_t calls = 0;
    std::vector<uint32_t> keys;
    bool changed = a.join_with(b, [&](uint32_t k, const int* mine, const int* theirs) -> std::optional<int> {
        ++calls;
        keys.push_back(k);
        return mine == nullptr ? *theirs : std::max(*mine, *theirs);
    });
    CHECK(calls == 3);
    CHECK(keys == std::vector<uint32_t>{17, 99999, 0xC0000005u});
    CHECK(changed);  // the added key
    CHECK(a.size() == 100001);
    CHECK(*a.find(17) == 17);
    CHECK(*a.find(0xC0000005u) == 5);
    // Now a and b differ at two keys; a join of equal copies calls nothing.
    calls = 0;
    PMap<int> c = a;
    CHECK_FALSE(c.join_with(a, [&](uint32_t, const int*, const int* t) -> std::optional<int> {
        ++calls;
        return *t;
    }));
    CHECK(calls == 0);
    // Joining back, taking theirs, leaves b's contents (shared with b).
    CHECK(a.join_with(b, [&](uint32_t, const int*, const int* t) -> std::optional<int> {
        ++calls;
        return *t;
    }));
    CHECK(calls == 2);
    CHECK(a == b);
}

TEST_CASE("pmap: equality compares contents, whatever the history", "[pmap]") {
    PMap<int> a, b;
    CHECK(a == b);
    for (uint32_t k = 0; k < 3000; ++k) a.set(k * 13 + 0xC0000000u * (k % 2), static_cast<int>(k));
    for (uint32_t k = 3000; k-- > 0;) b.set(k * 13 + 0xC0000000u * (k % 2), static_cast<int>(k));
    CHECK(a == b);
    CHECK(b == a);
    PMap<int> c = a;
    CHECK(c == a);
    c.set(26, 0);  // k = 2
    CHECK_FALSE(c == a);
    c.set(26, 2);
    CHECK(c == a);
    c.erase(0xFFFFFFFFu);  // absent
    CHECK(c == a);
    c.set(0xFFFFFFFFu, 9);
    CHECK_FALSE(c == a);
    c.erase(0xFFFFFFFFu);
    CHECK(c == a);
    c.erase(0);
    CHECK_FALSE(c == a);
    PMap<int> d;
    d.set(1, 1);
    PMap<int> e;
    e.set(2, 1);
    CHECK_FALSE(d == e);  // same size, different keys
    CHECK_FALSE(d == PMap<int>());
}

TEST_CASE("pmap: every value is destroyed when the last map holding it goes", "[pmap]") {
    REQUIRE(Counted::live == 0);
    {
        Rng rng(99);
        std::vector<PMap<Counted>> versions(1);
        for (int step = 0; step < 20000; ++step) {
            PMap<Counted> m = versions[rng() % versions.size()];
            uint32_t k = random_key(rng);
            if (rng() % 3 == 0) {
                m.erase(k);
            } else {
                m.set(k, Counted(static_cast<int>(rng() % 10)));
            }
            if (rng() % 50 == 0) {
                const PMap<Counted>& other = versions[rng() % versions.size()];
                m.join_with(other, [](uint32_t, const Counted* mine, const Counted* theirs) -> std::optional<Counted> {
                    if (mine == nullptr || theirs == nullptr) return std::nullopt;
                    return Counted(std::max(mine->v, theirs->v));
                });
            }
            if (versions.size() < 200) {
                versions.push_back(std::move(m));
            } else {
                versions[rng() % versions.size()] = std::move(m);
            }
        }
        CHECK(Counted::live > 0);
    }
    CHECK(Counted::live == 0);
}
