// The lifecycle checker's model of a function body (analysis/lifecycle.cpp):
// what it knows of each tracked block, how two paths' knowledge joins,
// the bookkeeping of scopes, defers and loops, and the snapshots a loop
// keeps of the states that leave it or go back to its head.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "analysis/flow_state.h"
#include "diag/diag.h"
#include "syntax/ast.h"

namespace npk {
struct Sema;
struct ReturnSummaries;
}

namespace npk::lifecycle {

// Which allocator a block came from, and which one a release is for.
enum class Origin : uint8_t { Unknown, Heap, Page };

inline const char* origin_text(Origin o) {
    return o == Origin::Heap ? "a heap block from alloc, which only free releases"
                             : "a W^X page from wildx_alloc, which only wildx_free releases";
}

enum class Life : uint8_t { Live, Released, Maybe };  // Maybe: released on some path only
// A W^X page's state (wildx_alloc → written → sealed): None for blocks
// that are not pages from wildx_alloc here (nothing is checked then).
enum class Seal : uint8_t { None, Unsealed, Sealed, Maybe };
enum class Deferred : uint8_t { No, Maybe, Sure };    // freed by a pending defer

struct VarState {
    Life life = Life::Live;
    bool pending = true;              // the release obligation
    Deferred deferred = Deferred::No;
    Origin freed_as = Origin::Unknown;  // the kind of the release behind Released / Maybe
    Loc freed_at;                     // the release behind Released / Maybe
    Loc deferred_at;                  // the release inside the covering defer
    bool raii = false;                // released by drop.npk when its block ends (§9.2)
    Seal seal = Seal::None;
    Loc sealed_at;                    // the seal behind Sealed / Maybe
};

// Control from two flowing paths meets (§8.2 "Branches").
inline void join_var(VarState& x, const VarState& y) {
    if (x.life != y.life) {
        if (x.freed_at.line == 0) {
            x.freed_at = y.freed_at;
            x.freed_as = y.freed_as;
        }
        x.life = Life::Maybe;
    }
    x.pending = x.pending || y.pending;
    if (x.seal != y.seal) {
        if (x.sealed_at.line == 0) x.sealed_at = y.sealed_at;
        x.seal = x.seal == Seal::None || y.seal == Seal::None ? Seal::None : Seal::Maybe;
    }
    if (y.deferred > x.deferred) {
        x.deferred = y.deferred;
        x.deferred_at = y.deferred_at;
    }
}

using Flow = FlowState<VarState>;

// What a callee releases: by parameter index, the kind of release (-1:
// none). Builtins, #[releases] and bodies fill it in.
using Releases = std::vector<int8_t>;
// What a function does to its parameters, from its body: what it
// releases, and (1) which it calls through as code (#[calls(p)]).
struct Summary {
    Releases releases;
    Releases calls;
    // Which parameters it may return (analysis/returns.h; bit i: param i).
    uint64_t may_return = ~uint64_t{0};
    // What it releases through a pointer field of a struct parameter
    // (`free(b.ptr)` with b a parameter): (parameter << 32 | field) →
    // the kind of release.
    std::map<uint64_t, int8_t> field_releases;
};
using Summaries = std::unordered_map<const ast::FuncDecl*, Summary>;

// Every function's summary (lifecycle.cpp; also read by resources.cpp).
Summaries release_summaries(const ast::Program& prog, const Sema& sema, const ReturnSummaries& returns);

struct Binding {
    std::string name;
    Loc decl;
    uint32_t block;       // its flow entry (shared by aliases)
};

struct BlockInfo {
    Origin origin = Origin::Unknown;
    int64_t owner = -1;   // the binding that owes its release (-1: none)
};

struct DeferEntry {  // a block a `defer` of this scope releases
    uint32_t block;
    bool sure;
    Loc release;
};

struct Scope {
    std::vector<uint32_t> owned;   // blocks whose owner is declared here
    std::vector<DeferEntry> defers;
    std::vector<const ast::Block*> defer_bodies;  // in source order; they run last first
};

// A flow state kept aside (what a `break` or `continue` leaves with, a
// loop head): the entries that differ from the state before the loop.
struct Snapshot {
    bool reachable = true;
    std::unordered_map<uint32_t, VarState> vals;
};

// A `while` being walked: where its body's scopes and its pass's journal
// start, and the states that `break` and `continue` leave with.
struct LoopFrame {
    size_t scope_depth;
    size_t journal;
    std::vector<Snapshot> breaks, continues;
};

// Releases seen while checking a defer body, for that defer.
struct DeferFrame {
    uint32_t first_inner;  // blocks from here on are the body's own
    std::vector<std::pair<uint32_t, Loc>> released;
};

// ---- loop snapshots (each relative to the current state of `flow`) ----

inline VarState value_in(const Flow& flow, const Snapshot& sn, uint32_t k) {
    auto it = sn.vals.find(k);
    return it != sn.vals.end() ? it->second : flow.get(k);
}

// Control from `from` reaches `into` too (either may be unreachable).
inline void merge_into(const Flow& flow, Snapshot& into, const Snapshot& from) {
    if (!from.reachable) return;
    if (!into.reachable) {
        into = from;
        return;
    }
    for (const auto& [k, v] : from.vals) {
        VarState x = value_in(flow, into, k);
        join_var(x, v);
        into.vals[k] = x;
    }
    for (auto& [k, x] : into.vals)
        if (!from.vals.count(k)) join_var(x, flow.get(k));
}

// Whether two loop-head states agree on the blocks older than the loop
// (those numbered below `known`).
inline bool same_head(const Flow& flow, const Snapshot& a, const Snapshot& b, uint32_t known) {
    auto differs = [&](const Snapshot& x, const Snapshot& y) {
        for (const auto& [k, v] : x.vals) {
            if (k >= known) continue;
            const VarState w = value_in(flow, y, k);
            if (v.life != w.life || v.pending != w.pending || v.deferred != w.deferred) return true;
        }
        return false;
    };
    return a.reachable == b.reachable && !differs(a, b) && !differs(b, a);
}

}  // namespace npk::lifecycle
