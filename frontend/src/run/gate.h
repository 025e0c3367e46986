// The gate between the running program and the runtime: npk's own table
// of every resource the program holds, so that no program -- checked or
// not (npk run --unchecked) -- can make npk corrupt its own memory.
//
// - Every resource is an identity, not an address: heap blocks (alloc,
//   npk_alloc), W^X pages and built functions, builders, regions and the
//   functions inside them, handle arenas, handles and the memory a handle
//   dereferences to. Each gets a fresh id (never reused: the id is its
//   identity and generation at once), and every value the interpreter
//   holds carries the id of the resource it came from (Value::tag), through
//   declarations, assignments, struct fields, Results, return values and
//   casts. A stale pointer therefore never releases or uses a newer
//   resource that happens to sit at the same address. A word without a tag
//   (made by arithmetic) is looked up by address among the live resources;
//   an address the gate never handed out is foreign and left alone, except
//   that it is never released.
// - Pointers stored into memory keep their identity too (the shadow): a
//   tagged 8-byte word stored into a block the gate knows (a `wild S`
//   field, `p[i] = @cast<int64>(q)`) is remembered as address -> (word,
//   id); read back unchanged, from that same address, it gets its id
//   again. A store of an untagged word, a narrower store over it, and an
//   unaligned store overlapping it forget the entry; so does the release
//   of the block. A C function (any extern: memcpy, memset, code built
//   with Jit) may write memory behind the gate: the entries of every block
//   passed to it are forgotten (such words fall back to the address
//   lookup), and a word that no longer holds the stored value is never
//   given the stored identity. The map is only filled when a tagged word
//   is stored: a program that stores no pointer pays one test per store.
// - Every use is checked, not only every release: p[i] loads and stores
//   (liveness, bounds, no store into a sealed page), calls through pages and
//   built functions (sealed? live? a region's function before its region
//   is sealed is "not sealed yet"), each builder / region / arena / handle
//   operation, release through any alias, the wrong allocator, a second
//   release. A refusal becomes one run-time error at the call, with a note
//   naming where the resource was released.
// - The runtime stays quiet during a run; npk reports a rejection the
//   runtime counted (a builder misuse, ...) once per resource, at the
//   program's own call, naming the function (see after()).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "diag/diag.h"

namespace npk {

// What a runtime function does to the resources (RuntimeSymbol, Builtin).
// Functions of npk/jitbuild.h and npk/handle.h that the runtime table
// marks None get theirs from gate_role_of (run/gate_roles.cpp).
enum class RuntimeRole : uint8_t {
    None,
    HeapAlloc,     // npk_alloc(size) -> block
    HeapFree,      // npk_free(block)
    PageAlloc,     // npk_wildx_alloc(size), npk_jit_build_bytes(...) -> page
    PageSeal,      // npk_wildx_seal(page)
    PageFree,      // npk_wildx_free(page) -> 0 / -1
    CodeCall,      // calls its first argument, a sealed page
    CheckedCall,   // npk_jit_invoke: the runtime checks the function itself; -1 is a refusal
    FunctionQuery, // npk_jit_name / npk_jit_signature: first argument a built function
    BuilderNew,    // npk_jit_builder_new -> builder
    BuilderUse,    // npk_jit_param, _mov, ..., _builder_error: first argument a builder (NULL allowed)
    BuilderFree,   // npk_jit_builder_free(builder)
    Build,         // npk_jit_build(builder) -> page; consumes the builder
    RegionNew,     // npk_jit_region_new -> region
    RegionAdd,     // npk_jit_region_add(region, builder) -> function; consumes the builder
    RegionSeal,    // npk_jit_region_seal(region)
    RegionUse,     // npk_jit_region_count(region)
    RegionFree,    // npk_jit_region_free(region): its functions go with it
    ArenaCreate,   // npk_handle_arena_create -> arena id
    ArenaDestroy,  // npk_handle_arena_destroy(arena): its handles go with it
    HandleAlloc,   // npk_handle_alloc(arena, size) -> handle
    HandleDeref,   // npk_handle_deref(handle) -> memory of the handle's block
    HandleFree,    // npk_handle_free(handle)
};

// The gate's role of a runtime function of npk/jitbuild.h or npk/handle.h
// (None for any other name); it takes precedence over the extern table's
// role (npk_jit_build is a page allocation that also consumes its builder).
RuntimeRole gate_role_of(const std::string& runtime_name);
// Every name gate_role_of knows (tests check each is a runtime function).
std::vector<std::string> gate_role_names();

// Fault codes of the gate (beside sema.h's NPK_FAULT_*; one number each).
constexpr int32_t kFaultBadFree = 105;       // a release of something not live, or the wrong kind
constexpr int32_t kFaultBadCodePage = 106;   // a call through a page that is not sealed executable
constexpr int32_t kFaultBadAccess = 109;     // p[i] out of bounds, into a released block, into a sealed page
constexpr int32_t kFaultStaleResource = 110; // a builder / region / arena / handle used after its release
constexpr int32_t kFaultJitCrash = 111;      // a machine fault inside built code

struct Refusal {
    std::string message;   // empty: the call may be made
    int32_t fault_code = 0;
    Loc note_loc = {};     // where the resource was released (or made)
    std::string note = {};
    bool refused() const { return !message.empty(); }
};

// The identity of a pointer a C function returned that is no resource of
// the gate's (a string of libc, a handle's memory seen through C): p[i]
// through it is the program's business, as in C, under a fault guard. A
// word with no identity at all (made from an integer) that points into no
// live resource is refused: npk cannot tell it from a stray pointer into
// its own heap.
constexpr uint64_t kForeignTag = ~uint64_t{0};

// One argument as the gate sees it: the canonical word and its identity.
struct GateWord {
    uint64_t word = 0;
    uint64_t tag = 0;
};

class RuntimeGate {
public:
    explicit RuntimeGate(Diagnostics& diag);
    ~RuntimeGate();
    RuntimeGate(const RuntimeGate&) = delete;
    RuntimeGate& operator=(const RuntimeGate&) = delete;

    // Whether a call of `role` with these arguments may be made. `callee`
    // names it in the message ("free", "npk_jit_mov").
    Refusal check(RuntimeRole role, const std::string& callee, const std::vector<GateWord>& args) const;

    // Around every call into the runtime: `after` records what the call
    // did (a new resource, a release) at `at` (the program's own call) and
    // returns the identity of the result (0: none). A rejection the
    // runtime counted during the call is reported once, at `at`, naming
    // `callee`; later rejections about the same resource stay quiet (the
    // builder's first error is sticky: the rest are its echo).
    void before();
    uint64_t after(RuntimeRole role, const std::string& callee, const std::vector<GateWord>& args, uint64_t result,
                   Loc at);

    // p[i]: `width` bytes at `offset` from the pointer. Refused when the
    // pointer's resource was released, the bytes leave it, or a store
    // would write into a sealed page.
    // `foreign`: no resource of the gate's is there (memory npk never
    // handed out, such as a C string of the runtime): not refused.
    // `block`: the id of the resource the access is inside (0: foreign).
    Refusal access(GateWord ptr, int64_t index, uint64_t width, bool store, bool* foreign = nullptr,
                   uint64_t* block = nullptr) const;

    // The shadow identity of memory (see the top of this file). `stored`:
    // `width` bytes holding `word` (identity `tag`) were written at `addr`,
    // inside the live memory resource `block` (0: memory the gate does not
    // know, which keeps no identities). `loaded`: the identity of the
    // 8-byte `word` just read at `addr` (0: none, look it up by address).
    // `passed_to_c`: the blocks these arguments point into may be written
    // by C: their entries are forgotten.
    void stored(uint64_t block, uint64_t addr, uint64_t width, uint64_t word, uint64_t tag) {
        if (tag != 0 || !shadow_.empty()) shadow_store(block, addr, width, word, tag);
    }
    uint64_t loaded(uint64_t addr, uint64_t word) const {
        if (shadow_.empty()) return 0;
        auto it = shadow_.find(addr);
        return it != shadow_.end() && it->second.word == word ? it->second.tag : 0;
    }
    bool has_shadows() const { return !shadow_.empty(); }
    void passed_to_c(const std::vector<GateWord>& args) {
        if (!shadow_.empty()) forget_shadows_of_args(args);
    }
    size_t shadow_count() const { return shadow_.size(); }

    // Releases every live resource (the run is over: a program stopped by
    // a fault, `wild S` structs): blocks, pages, builders, regions, arenas.
    void release_all();

    // A `wild S` struct the interpreter allocated (released with the run).
    uint64_t track_struct(uint64_t base, uint64_t size, Loc at);

private:
    enum class Kind : uint8_t { Block, Page, Builder, Region, RegionFn, Arena, Handle, HandleView };
    struct Resource {
        Kind kind = Kind::Block;
        bool live = true;
        bool sealed = false;    // Page: executable; Region: sealed; RegionFn: its region sealed
        bool reported = false;  // a runtime rejection about it was printed already
        uint64_t word = 0;      // address, or the arena / handle id
        uint64_t size = 0;      // bytes (Block, Page, HandleView, Handle)
        uint64_t parent = 0;    // RegionFn: region; Handle: arena; HandleView: handle (ids)
        uint64_t alloc_no = 0;  // Page: the registry's allocation number (npk_wildx_id) at its making
        uint64_t shadows = 0;   // memory: entries of the shadow inside it
        Loc made, released;
    };

    static uint64_t rejections();
    static const char* kind_name(Kind k);
    static bool is_memory(Kind k) { return k == Kind::Block || k == Kind::Page || k == Kind::HandleView; }
    uint64_t add(Kind k, uint64_t word, uint64_t size, uint64_t parent, Loc at);
    void kill(uint64_t id, Loc at);
    // The resource an argument names: by its tag, else by its word among
    // the live resources of `kinds` (0: none).
    uint64_t resolve(GateWord a, std::initializer_list<Kind> kinds) const;
    // The last resource of `kinds` released at `word`, for messages (0: none).
    uint64_t released_at(uint64_t word) const;
    // The released memory resource whose bytes contain `word` (0: none).
    uint64_t released_memory_at(uint64_t word) const;
    bool reused(uint64_t id) const;
    // A live page the program unmapped itself (munmap): the registry no
    // longer knows it by the allocation number it had; its address may
    // hold a newer allocation, which a use through the old value must not reach.
    bool unmapped_behind(const Resource& r) const;
    Refusal unmapped(const std::string& callee, const Resource& r, int32_t code) const;
    Refusal stale(const std::string& callee, uint64_t id, int32_t code) const;
    Refusal check_release(RuntimeRole role, const std::string& callee, GateWord a) const;
    Refusal check_use(RuntimeRole role, const std::string& callee, const std::vector<GateWord>& args) const;
    Refusal check_code(RuntimeRole role, const std::string& callee, GateWord a) const;
    void record(RuntimeRole role, const std::vector<GateWord>& args, uint64_t result, uint64_t& out, Loc at);
    // A resource by id. One released long ago may have been forgotten
    // (kKeepReleased): then a dead resource of the id's kind, with no
    // positions, stands in for it.
    const Resource& res(uint64_t id) const;
    Resource& res(uint64_t id) { return const_cast<Resource&>(static_cast<const RuntimeGate&>(*this).res(id)); }
    static Kind kind_of(uint64_t id) { return static_cast<Kind>(id >> 56); }
    void forget_oldest_released();
    struct ShadowWord {
        uint64_t word = 0;   // the value stored
        uint64_t tag = 0;    // its identity
        uint64_t block = 0;  // the memory resource it is stored in
    };
    void shadow_store(uint64_t block, uint64_t addr, uint64_t width, uint64_t word, uint64_t tag);
    void shadow_erase(std::unordered_map<uint64_t, ShadowWord>::iterator it);
    void forget_shadows(uint64_t block);
    void forget_shadows_of_args(const std::vector<GateWord>& args);

    Diagnostics& diag_;
    bool user_quiet_ = false;
    uint64_t rejections_before_ = 0;
    // Ids are never reused: a counter, with the kind in the top byte. Live
    // resources are all kept; of the released ones the newest
    // kKeepReleased, so memory stays bounded in a loop that allocates.
    static constexpr size_t kKeepReleased = 1 << 16;
    uint64_t next_id_ = 1;
    std::unordered_map<uint64_t, Resource> res_;
    std::deque<uint64_t> released_order_;             // oldest first
    mutable Resource forgotten_;
    // Block / Page / HandleView: base -> id, live ones and released ones
    // whose address no live resource reuses (for "released here").
    std::map<uint64_t, uint64_t> memory_;
    std::unordered_map<uint64_t, uint64_t> objects_;  // live Builder / Region / RegionFn / Arena / Handle: word -> id
    std::unordered_map<uint64_t, uint64_t> dead_;     // word -> id of the last object (not memory) released there
    std::unordered_map<uint64_t, std::vector<uint64_t>> children_;  // region / arena / handle -> ids made from it
    std::unordered_map<uint64_t, ShadowWord> shadow_;  // address of a stored tagged word -> its identity
    uint64_t unaligned_shadows_ = 0;                  // entries at an address not a multiple of 8
};

}  // namespace npk
