// The ownership analysis's lattice (analysis/ownership.h): what it knows,
// at one point of a function's control-flow graph, of every resource and
// of every name that may hold one, and how two paths' knowledge joins.
//
// A resource is one owning value: a heap block or W^X page allocated in
// the function (the allocating call's node id), a fresh pointer a
// declaration or an assignment binds (its node id), a parameter's block
// (kParamTag | i) or what a field of a struct parameter points to
// (kParamFieldTag | n). Names are keys too: a slot of the frame, a field
// of a local struct (kFieldTag + n), and memory (kMemory: every pointer
// stored through `p[i]` or into a struct behind a pointer).
//
// Every map is a persistent map (pmap.h): a state costs O(1) to copy and
// a join costs what differs between the two states, so a body of 100k
// pointers, each followed by an `if`, is checked in near-linear time.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <vector>

#include "analysis/pmap.h"
#include "diag/diag.h"

namespace npk::ownership {

// Which allocator a block came from, and which one a release is for.
enum class Origin : uint8_t { Unknown, Heap, Page };
enum class Life : uint8_t { Live, Released, Maybe };  // Maybe: released on some path only
// A W^X page's state (wildx_alloc → written → sealed): None for
// resources that are not pages known to be unsealed (nothing is checked).
enum class Seal : uint8_t { None, Unsealed, Sealed, Maybe };
enum class Deferred : uint8_t { No, Maybe, Sure };  // released by a pending defer or drop

inline bool same_loc(Loc a, Loc b) { return a.file == b.file && a.offset == b.offset && a.line == b.line; }

// What is known of one resource.
struct Fact {
    Life life = Life::Live;
    bool pending = false;     // its owner still owes its release (ARIA-014)
    bool raii = false;        // drop.npk releases it when its owner's block ends (§9.2)
    bool via_memory = false;  // the release was through a pointer read back from memory
    Deferred deferred = Deferred::No;
    Seal seal = Seal::None;
    Origin origin = Origin::Unknown;
    Origin freed_as = Origin::Unknown;  // the kind of the release behind Released / Maybe
    int32_t owner = -1;                 // the slot of the `wild` name that owes its release
    Loc freed_at, deferred_at, sealed_at;

    bool operator==(const Fact& o) const {
        return life == o.life && pending == o.pending && raii == o.raii && via_memory == o.via_memory &&
               deferred == o.deferred && seal == o.seal && origin == o.origin && freed_as == o.freed_as &&
               owner == o.owner && same_loc(freed_at, o.freed_at) && same_loc(deferred_at, o.deferred_at) &&
               same_loc(sealed_at, o.sealed_at);
    }
};

// Control from two paths meets (§8.2 "Branches"). Monotone: a value only
// moves towards Maybe / pending / Unknown, and a location once known is
// kept, so a loop settles.
inline Fact join_fact(Fact x, const Fact& y) {
    if (x.life != y.life) {
        if (x.freed_at.line == 0) {
            x.freed_at = y.freed_at;
            x.freed_as = y.freed_as;
        }
        x.life = Life::Maybe;
    }
    x.pending = x.pending || y.pending;
    x.raii = x.raii || y.raii;
    x.via_memory = x.via_memory || y.via_memory;
    if (x.seal != y.seal) {
        if (x.sealed_at.line == 0) x.sealed_at = y.sealed_at;
        x.seal = x.seal == Seal::None || y.seal == Seal::None ? Seal::None : Seal::Maybe;
    }
    if (y.deferred > x.deferred) {
        x.deferred = y.deferred;
        x.deferred_at = y.deferred_at;
    }
    if (x.origin != y.origin) x.origin = Origin::Unknown;
    if (x.owner < 0) x.owner = y.owner;
    return x;
}

// A resource that exists on one path only (allocated in one arm): on the
// other it was never a block, so a release is "maybe".
inline Fact join_absent(Fact x) {
    if (x.life == Life::Released) x.life = Life::Maybe;
    return x;
}

// A set of resources, sorted.
using Set = std::vector<uint32_t>;
inline void unite(Set& into, const Set& from) {
    if (from.empty()) return;
    Set out;
    out.reserve(into.size() + from.size());
    std::set_union(into.begin(), into.end(), from.begin(), from.end(), std::back_inserter(out));
    into = std::move(out);
}
inline bool holds(const Set& s, uint32_t r) { return std::binary_search(s.begin(), s.end(), r); }

// A name released through itself (free(p)): whichever resource it held,
// using it again is a use after free, on every path that went through
// the release (maybe: on some path only).
struct NameFreed {
    Loc at;
    bool maybe = false;
    bool operator==(const NameFreed& o) const { return same_loc(at, o.at) && maybe == o.maybe; }
};

// Resource ids.
inline constexpr uint32_t kParamTag = 0xC0000000u;       // | parameter index
inline constexpr uint32_t kParamFieldTag = 0xD0000000u;  // | index into the analysis's param fields
// Name keys.
inline constexpr uint32_t kFieldTag = 0x40000000u;  // + dense id of (slot, field)
inline constexpr uint32_t kMemory = 0xFFFFFFFFu;

// The `wild` names whose scopes are open, innermost last: a persistent
// stack kept in the analysis (Owned), a state holds the index of its top.
// Every path to a point has declared the same names (scopes nest), so two
// states agree on it wherever they meet.
struct OwnedNode {
    uint32_t depth;   // the nesting of the declaring scope
    int32_t slot;
    uint32_t parent;  // index of the node below (0: the empty stack)
};

struct State {
    PMap<NameFreed> freed;  // name key → released through that name
    PMap<Set> holds;        // name key → the resources it may hold
    PMap<Fact> facts;       // resource → what is known of it
    uint32_t owned = 0;     // top of the stack of open `wild` names

    bool operator==(const State& o) const {
        return owned == o.owned && facts == o.facts && holds == o.holds && freed == o.freed;
    }
};

}  // namespace npk::ownership
