// region.cpp — npk_jit_build (one function, one allocation) and regions
// (many functions, a few allocations, one seal).
//
// A region's allocations ("chunks") grow geometrically, 16 KiB up to
// 1 MiB, so a million functions take a few hundred mappings instead of a
// million (vm.max_map_count is 65530 by default). A chunk starts with 16
// trapping bytes, so no function begins at an allocation's start:
// npk_wildx_free of a region function is always an interior pointer.
// Functions start 16-byte aligned; the gaps trap too.
//
// Per live function the region keeps 8 bytes (its Entry: offset and
// signature) beside its code, which becomes the chunk's CodeIndex at seal;
// a named function also its name (a pointer and a copy).
#include "codegen/region.h"

#include "codegen/builder.h"
#include "codegen/code_index.h"
#include "codegen/dump.h"
#include "codegen/fail.h"
#include "codegen/lower.h"

#include "core/registry.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace npk::codegen {
namespace {

constexpr size_t kHeader = 16;
constexpr size_t kAlign = 16;
constexpr size_t kFirstChunk = size_t{16} << 10;
constexpr size_t kMaxChunk = size_t{1} << 20;

size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

struct Chunk {
    Chunk* next = nullptr;
    uint8_t* base = nullptr;
    uint64_t id = 0;  // the allocation's number: freed only while it is still ours
    size_t cap = 0;   // usable bytes of the allocation
    size_t used = 0;  // header + functions so far
    Vec<Entry> entries;
    // Per entry its name or nullptr; empty while no function is named.
    Vec<char*> names;
    bool sealed = false;     // the allocation is EXECUTABLE
    bool published = false;  // its CodeIndex owns the entries
};

}  // namespace
}  // namespace npk::codegen

struct npk_jit_region {
    npk::codegen::Chunk* first = nullptr;
    npk::codegen::Chunk* last = nullptr;
    size_t chunks = 0;
    int64_t count = 0;
    bool sealed = false;
};

namespace npk::codegen {
namespace {

void free_chunk_record(Chunk* c) {
    for (char* n : c->names) std::free(n);  // empty once its index owns them
    c->~Chunk();
    std::free(c);
}

// A chunk with room for `len` more bytes at an aligned offset, or NULL
// after reporting for `op`.
Chunk* chunk_with_room(npk_jit_region* r, size_t len, const char* op) {
    Chunk* c = r->last;
    if (c != nullptr && round_up(c->used, kAlign) + len <= c->cap) return c;
    const size_t grow = r->chunks >= 6 ? kMaxChunk : kFirstChunk << r->chunks;
    const size_t want = kHeader + len > grow ? kHeader + len : grow;
    void* mem = std::calloc(1, sizeof(Chunk));
    if (mem == nullptr) {
        fail(op, r, NPK_ERR_OUT_OF_MEMORY, "no memory for a region chunk record");
        return nullptr;
    }
    void* base = wildx::alloc(want);  // reports its own errors (quota, OS)
    if (base == nullptr) {
        std::free(mem);
        return nullptr;
    }
    c = new (mem) Chunk;
    c->base = static_cast<uint8_t*>(base);
    c->cap = wildx::size(base);
    c->id = wildx::id_of(base);
    trap_fill(c->base, kHeader);
    c->used = kHeader;
    if (r->last != nullptr) {
        r->last->next = c;
    } else {
        r->first = c;
    }
    r->last = c;
    ++r->chunks;
    return c;
}

// Seals and publishes one chunk; a retry after a failure resumes.
int32_t seal_chunk(npk_jit_region* r, Chunk* c, const char* op) {
    if (!c->sealed) {
        trap_fill(c->base + c->used, round_up(c->used, kAlign) - c->used);
        // XXH3-64, not the FNV-1a of single pages: one pass over many functions (core/xxh3.h).
        if (wildx::seal(c->base, wildx::HashKind::xxh3_64) != 0) return -1;  // reported by the registry
        c->sealed = true;
    }
    if (!c->published) {
        const auto n = static_cast<uint32_t>(c->entries.size());
        CodeIndex* idx = make_index(reinterpret_cast<uintptr_t>(c->base), c->cap, c->entries.data(), n);
        if (idx != nullptr && !c->names.empty()) idx->names = c->names.data();  // as long as entries
        if (idx != nullptr) idx->end = c->used;
        if (idx == nullptr || !publish(idx)) {
            if (idx != nullptr) std::free(idx);  // the entries and names stay the chunk's
            return fail(op, r, NPK_ERR_OUT_OF_MEMORY, "no memory for the signature table");
        }
        (void)c->entries.release();  // the index owns them now
        (void)c->names.release();
        c->published = true;
        announce(idx, c->used);
    }
    return 0;
}

}  // namespace

void* region_add_code(npk_jit_region* r, const void* code, size_t len, Sig sig, const char* op) {
    Chunk* c = chunk_with_room(r, len, op);
    if (c == nullptr) return nullptr;
    const size_t at = round_up(c->used, kAlign);
    if (!c->entries.push(Entry{static_cast<uint32_t>(at), sig})) {
        fail(op, r, NPK_ERR_OUT_OF_MEMORY, "no memory for the region's signature list");
        return nullptr;
    }
    trap_fill(c->base + c->used, at - c->used);
    std::memcpy(c->base + at, code, len);
    c->used = at + len;
    ++r->count;
    return c->base + at;
}

namespace {

// What npk_jit_build and npk_jit_region_add share: checks and compiles
// the builder, then frees it. NULL after reporting. `name` receives the
// builder's name ("" if none).
Compiled* take_and_compile(npk_jit_builder* b, const char* op, Sig* sig, char (&name)[tools::kMaxName + 1],
                           Text& ir) {
    Compiled* c = nullptr;
    name[0] = '\0';
    if (check_complete(b, op) == 0) {
        *sig = signature_of(b->prog);
        std::memcpy(name, b->name, sizeof name);
        dump_program(b->prog, ir);  // NPK_JIT_DUMP=ir: the program goes with the builder
        c = compile(b->prog, op, b);
    }
    destroy(b);
    return c;
}

// Makes room for one more name beside the entries, filling the unnamed
// ones before with nullptr, and returns a copy of `name`: nullptr (and
// no room needed) for "" while no function of the chunk is named. False
// when memory runs out.
bool prepare_name(Chunk* c, const char* name, char** copy) {
    *copy = nullptr;
    if (name[0] == '\0' && c->names.empty()) return true;
    const size_t n = c->entries.size();
    if (!c->names.reserve(n + 1)) return false;
    while (c->names.size() < n) (void)c->names.push(nullptr);  // reserved
    if (name[0] == '\0') return true;
    const size_t len = std::strlen(name) + 1;
    *copy = static_cast<char*>(std::malloc(len));
    if (*copy == nullptr) return false;
    std::memcpy(*copy, name, len);
    return true;
}

// Places compiled code in the region (room reserved at its upper bound).
void* region_place(npk_jit_region* r, Compiled* comp, Sig sig, const char* name, const Text& ir, const char* op) {
    const size_t room = max_size(comp);
    Chunk* c = chunk_with_room(r, room, op);
    if (c == nullptr) return nullptr;
    const size_t at = round_up(c->used, kAlign);
    char* copy = nullptr;
    if (!c->entries.reserve(c->entries.size() + 1) || !prepare_name(c, name, &copy)) {
        fail(op, r, NPK_ERR_OUT_OF_MEMORY, "no memory for the region's signature list");
        return nullptr;
    }
    const size_t len = place(comp, c->base + at, op);
    if (len == 0) {
        std::free(copy);
        return nullptr;
    }
    (void)c->entries.push(Entry{static_cast<uint32_t>(at), sig});  // reserved above
    if (copy != nullptr || !c->names.empty()) (void)c->names.push(copy);  // reserved by prepare_name
    trap_fill(c->base + c->used, at - c->used);
    c->used = at + len;
    ++r->count;
    dump_function(ir, name, sig, c->base + at, len);
    return c->base + at;
}

}  // namespace

bool publish_alone(void* page, size_t len, Sig sig, const char* name, const char* op) {
    auto* entry = static_cast<Entry*>(std::malloc(sizeof(Entry)));
    CodeIndex* idx = nullptr;
    if (entry != nullptr) {
        *entry = Entry{0, sig};
        idx = make_index(reinterpret_cast<uintptr_t>(page), npk::wildx::size(page), entry, 1);
        if (idx != nullptr) idx->end = len;
        bool ready = idx != nullptr && name[0] == '\0';  // the default name needs nothing
        if (idx != nullptr && !ready) {
            idx->names = static_cast<char**>(std::calloc(1, sizeof(char*)));
            const size_t n = std::strlen(name) + 1;
            if (idx->names != nullptr) idx->names[0] = static_cast<char*>(std::malloc(n));
            ready = idx->names != nullptr && idx->names[0] != nullptr;
            if (ready) std::memcpy(idx->names[0], name, n);
        }
        if (ready && publish(idx)) {
            announce(idx, len);
            return true;
        }
    }
    if (idx != nullptr) {
        free_index(idx);
    } else {
        std::free(entry);
    }
    fail(op, page, NPK_ERR_OUT_OF_MEMORY, "no memory for the signature table");
    return false;
}

}  // namespace npk::codegen

using namespace npk::codegen;

extern "C" {

void* npk_jit_build(npk_jit_builder* b) {
    constexpr const char* op = "npk_jit_build";
    Sig sig = 0;
    char name[npk::tools::kMaxName + 1];
    Text ir;
    Compiled* comp = take_and_compile(b, op, &sig, name, ir);
    if (comp == nullptr) return nullptr;
    void* page = npk::wildx::alloc(max_size(comp));  // reports its own errors (quota, OS)
    if (page == nullptr) {
        destroy(comp);
        return nullptr;
    }
    const size_t len = place(comp, page, op);
    destroy(comp);
    if (len != 0 && npk::wildx::seal(page) == 0 && publish_alone(page, len, sig, name, op)) {
        dump_function(ir, name, sig, page, len);
        return page;
    }
    npk::wildx::free_page(page);
    return nullptr;
}

npk_jit_region* npk_jit_region_new(void) {
    void* mem = std::calloc(1, sizeof(npk_jit_region));
    if (mem == nullptr) {
        fail("npk_jit_region_new", nullptr, NPK_ERR_OUT_OF_MEMORY, "no memory for a region");
        return nullptr;
    }
    return new (mem) npk_jit_region;
}

void* npk_jit_region_add(npk_jit_region* r, npk_jit_builder* b) {
    constexpr const char* op = "npk_jit_region_add";
    if (r == nullptr || r->sealed) {
        destroy(b);
        if (r == nullptr) fail(op, nullptr, NPK_ERR_NULL, "region is NULL");
        if (r != nullptr) fail(op, r, NPK_ERR_JIT_REGION_SEALED, "the region is sealed: nothing can be added");
        return nullptr;
    }
    Sig sig = 0;
    char name[npk::tools::kMaxName + 1];
    Text ir;
    Compiled* comp = take_and_compile(b, op, &sig, name, ir);
    if (comp == nullptr) return nullptr;
    void* fn = region_place(r, comp, sig, name, ir, op);
    destroy(comp);
    return fn;
}

int32_t npk_jit_region_seal(npk_jit_region* r) {
    constexpr const char* op = "npk_jit_region_seal";
    if (r == nullptr) return fail(op, nullptr, NPK_ERR_NULL, "region is NULL");
    if (r->sealed) return fail(op, r, NPK_ERR_JIT_REGION_SEALED, "the region is sealed already");
    for (Chunk* c = r->first; c != nullptr; c = c->next) {
        if (seal_chunk(r, c, op) != 0) return -1;
    }
    r->sealed = true;
    return 0;
}

int32_t npk_jit_region_free(npk_jit_region* r) {
    if (r == nullptr) return fail("npk_jit_region_free", nullptr, NPK_ERR_NULL, "region is NULL");
    int32_t rc = 0;
    for (Chunk* c = r->first; c != nullptr;) {
        Chunk* next = c->next;
        // The registry's free listener forgets the chunk's CodeIndex before the
        // unmap. A chunk the program unmapped itself is gone already (the
        // registry said so when it saw the address again); its address may
        // be someone else's page by now.
        if (npk::wildx::free_allocation(c->base, c->id) < 0) rc = -1;
        free_chunk_record(c);
        c = next;
    }
    r->~npk_jit_region();
    std::free(r);
    return rc;
}

int64_t npk_jit_region_count(const npk_jit_region* r) { return r == nullptr ? -1 : r->count; }

}  // extern "C"
