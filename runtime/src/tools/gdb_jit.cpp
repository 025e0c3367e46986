// gdb_jit.cpp — the GDB JIT interface, version 1 (NPK_JIT_GDB=1).
//
// The protocol (gdb manual, "JIT Compilation Interface"): the process
// exports a descriptor `__jit_debug_descriptor` heading a doubly linked
// list of in-memory object files, and a function
// `__jit_debug_register_code` that gdb sets a breakpoint on. To add or
// remove an object, link or unlink its entry, point `relevant_entry` at
// it, set `action_flag` and call the function; gdb, stopped there, reads
// the object (or drops it). A gdb that attaches later reads the whole
// list. Both names must be unique in the process and visible to gdb:
// libnpkjit.so exports them (npkjit.map), a static link has them as
// ordinary global symbols.
//
// One object per allocation (tools/elf_image.h): a function from
// npk_jit_build, or every function of a region chunk. One mutex covers
// the list, the descriptor and the call, so concurrent builds and frees
// reach gdb one at a time, each with a consistent list. A free finds its
// object through a hash table of allocation starts (chains through the
// objects, as many buckets as objects at least), so unregistering takes
// constant time however many objects gdb holds.
#include "tools/elf_image.h"
#include "tools/sinks.h"
#include "tools/test_seams.h"

#include <npk/status.h>

#include "core/errors.h"
#include "core/sync.h"

#include <atomic>
#include <cstdlib>

extern "C" {

typedef enum { JIT_NOACTION = 0, JIT_REGISTER_FN, JIT_UNREGISTER_FN } jit_actions_t;

struct jit_code_entry {
    jit_code_entry* next_entry;
    jit_code_entry* prev_entry;
    const char* symfile_addr;
    uint64_t symfile_size;
};

struct jit_descriptor {
    uint32_t version;
    uint32_t action_flag;  // a jit_actions_t
    jit_code_entry* relevant_entry;
    jit_code_entry* first_entry;
};

// gdb's breakpoint. noinline and the asm keep every call: the compiler
// must not see that it does nothing.
[[gnu::noinline, gnu::used, gnu::visibility("default")]] void __jit_debug_register_code(void) {
    __asm__ __volatile__("" ::: "memory");
}

[[gnu::used, gnu::visibility("default")]] jit_descriptor __jit_debug_descriptor = {1, JIT_NOACTION, nullptr, nullptr};

}  // extern "C"

namespace npk::tools {
namespace {

// An entry and what it describes; gdb sees the `entry` part.
struct Object {
    jit_code_entry entry;  // first: the list links Objects through it
    uintptr_t base;
    Object* chain;  // the next object of its hash bucket
};

constinit Mutex g_mu;
// Objects registered: lets a free skip the lock when gdb was never told.
constinit std::atomic<size_t> g_live{0};

// The objects by base (lock held): 2^g_shift buckets once any is
// registered. calloc'ed, never freed (as the process's other tables).
Object** g_buckets = nullptr;
unsigned g_shift = 0;
uint64_t g_steps = 0;  // objects looked at by retire (the test seam)

size_t bucket_of(uintptr_t base) {
    // Fibonacci hashing of the page number: allocations are page-aligned.
    return static_cast<size_t>(((base >> 12) * 0x9E3779B97F4A7C15ull) >> (64 - g_shift));
}

// Room for one more object, keeping the chains about one long. False when
// no memory is left for a bigger table (the object is then not registered).
bool make_room(size_t live) {
    if (g_buckets != nullptr && live < (size_t{1} << g_shift)) return true;
    const unsigned shift = g_buckets == nullptr ? 6 : g_shift + 1;
    auto* fresh = static_cast<Object**>(std::calloc(size_t{1} << shift, sizeof(Object*)));
    if (fresh == nullptr) return false;
    Object** old = g_buckets;
    const size_t old_n = old == nullptr ? 0 : size_t{1} << g_shift;
    g_buckets = fresh;
    g_shift = shift;
    for (size_t i = 0; i < old_n; ++i) {
        for (Object* o = old[i]; o != nullptr;) {
            Object* next = o->chain;
            Object*& head = g_buckets[bucket_of(o->base)];
            o->chain = head;
            head = o;
            o = next;
        }
    }
    std::free(old);
    return true;
}

void say_no_memory() {
    static std::atomic<bool> said{false};
    if (!said.exchange(true)) {
        warn_line(NPK_FACILITY_BUILDER, "NPK_JIT_GDB: no memory for an object; gdb will not see some code");
    }
}

// Takes the object of `base` out of its bucket; nullptr if there is none.
Object* unhash(uintptr_t base) {
    if (g_buckets == nullptr) return nullptr;
    for (Object** at = &g_buckets[bucket_of(base)]; *at != nullptr; at = &(*at)->chain) {
        ++g_steps;
        if ((*at)->base == base) {
            Object* o = *at;
            *at = o->chain;
            return o;
        }
    }
    return nullptr;
}

// fork(): the child must not inherit the lock from another thread of the
// parent (nothing here takes another lock while holding it).
[[gnu::constructor]] void install_fork_handlers() {
    pthread_atfork([] { g_mu.lock(); }, [] { g_mu.unlock(); }, [] { g_mu.reset_after_fork(); });
}

void notify(jit_code_entry* e, jit_actions_t action) {
    __jit_debug_descriptor.relevant_entry = e;
    __jit_debug_descriptor.action_flag = action;
    __jit_debug_register_code();
    __jit_debug_descriptor.relevant_entry = nullptr;
    __jit_debug_descriptor.action_flag = JIT_NOACTION;
}

}  // namespace

void gdb_publish(uintptr_t base, size_t span, const CodeSpan* fns, size_t n) {
    size_t size = 0;
    unsigned char* image = elf_image(base, span, fns, n, &size);
    auto* o = static_cast<Object*>(std::calloc(1, sizeof(Object)));
    if (image == nullptr || o == nullptr) {
        std::free(image);
        std::free(o);
        say_no_memory();
        return;
    }
    o->entry.symfile_addr = reinterpret_cast<const char*>(image);
    o->entry.symfile_size = size;
    o->base = base;
    Lock lk(g_mu);
    if (!make_room(g_live.load(std::memory_order_relaxed) + 1)) {
        lk.unlock();
        std::free(image);
        std::free(o);
        say_no_memory();
        return;
    }
    Object*& head = g_buckets[bucket_of(base)];
    o->chain = head;
    head = o;
    // Newest first, as other JITs list theirs.
    o->entry.next_entry = __jit_debug_descriptor.first_entry;
    if (o->entry.next_entry != nullptr) o->entry.next_entry->prev_entry = &o->entry;
    __jit_debug_descriptor.first_entry = &o->entry;
    g_live.fetch_add(1, std::memory_order_relaxed);
    notify(&o->entry, JIT_REGISTER_FN);
}

void gdb_retire(uintptr_t base) {
    if (g_live.load(std::memory_order_relaxed) == 0) return;
    Object* found = nullptr;
    {
        Lock lk(g_mu);
        found = unhash(base);
        if (found == nullptr) return;
        jit_code_entry* e = &found->entry;
        if (e->prev_entry != nullptr) {
            e->prev_entry->next_entry = e->next_entry;
        } else {
            __jit_debug_descriptor.first_entry = e->next_entry;
        }
        if (e->next_entry != nullptr) e->next_entry->prev_entry = e->prev_entry;
        g_live.fetch_sub(1, std::memory_order_relaxed);
        notify(e, JIT_UNREGISTER_FN);
    }
    std::free(const_cast<char*>(found->entry.symfile_addr));
    std::free(found);
}

namespace testing {

uint64_t gdb_retire_steps() {
    Lock lk(g_mu);
    return g_steps;
}

}  // namespace testing
}  // namespace npk::tools
