// The GDB JIT interface as gdb reads it: the descriptor's list of
// in-memory ELF objects, one per allocation of built code, added when the
// code becomes executable and removed when it is freed. This binary links
// libnpkjit statically: the two symbols must be there too.
#include "support.h"
#include "tools_support.h"

#include "arch/arch.h"
#include "skip.h"
#include "tools/test_seams.h"

#include <npk/jitbuild.h>

#include <atomic>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

// The interface, declared here from the gdb manual ("JIT Compilation
// Interface"), not from the runtime's source.
extern "C" {
struct jit_code_entry {
    jit_code_entry* next_entry;
    jit_code_entry* prev_entry;
    const char* symfile_addr;
    uint64_t symfile_size;
};
struct jit_descriptor {
    uint32_t version;
    uint32_t action_flag;
    jit_code_entry* relevant_entry;
    jit_code_entry* first_entry;
};
extern jit_descriptor __jit_debug_descriptor;
void __jit_debug_register_code(void);
}

using namespace npk::test;

namespace {

std::vector<const jit_code_entry*> entries() {
    std::vector<const jit_code_entry*> v;
    const jit_code_entry* prev = nullptr;
    for (const jit_code_entry* e = __jit_debug_descriptor.first_entry; e != nullptr; e = e->next_entry) {
        REQUIRE(e->prev_entry == prev);  // a well-formed doubly linked list
        v.push_back(e);
        prev = e;
    }
    return v;
}

template <class T>
T at(const jit_code_entry* e, uint64_t off) {
    T v;
    REQUIRE(off + sizeof v <= e->symfile_size);
    std::memcpy(&v, e->symfile_addr + off, sizeof v);
    return v;
}

// The functions an object names: absolute address → (name, size), read
// with the ELF64 layout of the gABI.
struct Fn {
    std::string name;
    uint64_t size;
};
std::map<uintptr_t, Fn> functions_of(const jit_code_entry* e) {
    REQUIRE(e->symfile_size >= 64);
    REQUIRE(std::memcmp(e->symfile_addr, "\x7f" "ELF\x02\x01\x01", 7) == 0);
    CHECK(at<uint16_t>(e, 16) == 1);  // ET_REL
    CHECK(at<uint16_t>(e, 18) == npk::arch::kElfMachine);
    const auto shoff = at<uint64_t>(e, 40);
    const auto shnum = at<uint16_t>(e, 60);
    uint64_t text_addr = 0, sym_off = 0, sym_size = 0, str_off = 0;
    uint16_t text_index = 0;
    for (uint16_t i = 0; i < shnum; ++i) {
        const uint64_t sh = shoff + uint64_t{i} * 64;
        const auto type = at<uint32_t>(e, sh + 4);
        if (type == 8) {  // SHT_NOBITS: .text
            text_index = i;
            text_addr = at<uint64_t>(e, sh + 16);
        } else if (type == 2) {  // SHT_SYMTAB
            sym_off = at<uint64_t>(e, sh + 24);
            sym_size = at<uint64_t>(e, sh + 32);
            const auto link = at<uint32_t>(e, sh + 40);
            str_off = at<uint64_t>(e, shoff + uint64_t{link} * 64 + 24);
        }
    }
    REQUIRE(text_index != 0);
    REQUIRE(sym_size > 0);
    std::map<uintptr_t, Fn> fns;
    for (uint64_t s = sym_off; s < sym_off + sym_size; s += 24) {
        const auto info = at<unsigned char>(e, s + 4);
        if ((info & 0xF) != 2) continue;  // STT_FUNC only
        CHECK(at<uint16_t>(e, s + 6) == text_index);
        const char* name = e->symfile_addr + str_off + at<uint32_t>(e, s);
        fns[text_addr + at<uint64_t>(e, s + 8)] = Fn{name, at<uint64_t>(e, s + 16)};
    }
    return fns;
}

}  // namespace

TEST_CASE("the GDB JIT descriptor is version 1 and idle", "[tools][gdb]") {
    CHECK(__jit_debug_descriptor.version == 1);
    CHECK(__jit_debug_descriptor.action_flag == 0);  // JIT_NOACTION
    __jit_debug_register_code();                      // callable, does nothing
}

TEST_CASE("without NPK_JIT_GDB, gdb is told nothing", "[tools][gdb]") {
    set_env("NPK_JIT_GDB", nullptr);
    void* fn = build_const(1, "unseen");
    REQUIRE(fn != nullptr);
    CHECK(entries().empty());
    REQUIRE(npk_wildx_free(fn) == 0);
}

TEST_CASE("NPK_JIT_GDB=1: an object per function while it lives", "[tools][gdb]") {
    set_env("NPK_JIT_GDB", "1");
    REQUIRE(entries().empty());
    void* f1 = build_const(1, "gdb_one");
    void* f2 = build_const(2, nullptr);
    REQUIRE((f1 != nullptr && f2 != nullptr));
    std::vector<const jit_code_entry*> v = entries();
    REQUIRE(v.size() == 2);
    std::map<uintptr_t, Fn> seen;
    for (const jit_code_entry* e : v) seen.merge(functions_of(e));
    REQUIRE(seen.size() == 2);
    CHECK(seen[reinterpret_cast<uintptr_t>(f1)].name == "gdb_one");
    CHECK(seen[reinterpret_cast<uintptr_t>(f2)].name == hex_name(f2));
    CHECK(seen[reinterpret_cast<uintptr_t>(f1)].size > 0);
    CHECK(__jit_debug_descriptor.action_flag == 0);
    CHECK(__jit_debug_descriptor.relevant_entry == nullptr);

    REQUIRE(npk_wildx_free(f1) == 0);
    v = entries();
    REQUIRE(v.size() == 1);
    CHECK(functions_of(v[0]).count(reinterpret_cast<uintptr_t>(f2)) == 1);
    REQUIRE(npk_wildx_free(f2) == 0);
    CHECK(entries().empty());
}

TEST_CASE("NPK_JIT_GDB=1: a region chunk is one object naming all its functions", "[tools][gdb]") {
    set_env("NPK_JIT_GDB", "1");
    npk_jit_region* r = npk_jit_region_new();
    std::vector<void*> fns;
    for (int i = 0; i < 50; ++i) {
        const std::string name = "region_fn_" + std::to_string(i);
        fns.push_back(npk_jit_region_add(r, const_builder(i, i % 2 ? name.c_str() : nullptr)));
        REQUIRE(fns.back() != nullptr);
    }
    CHECK(entries().empty());  // nothing before the seal
    REQUIRE(npk_jit_region_seal(r) == 0);
    const std::vector<const jit_code_entry*> v = entries();
    REQUIRE(v.size() == 1);
    const std::map<uintptr_t, Fn> seen = functions_of(v[0]);
    REQUIRE(seen.size() == fns.size());
    for (size_t i = 0; i < fns.size(); ++i) {
        const Fn& f = seen.at(reinterpret_cast<uintptr_t>(fns[i]));
        CHECK(f.name == (i % 2 ? "region_fn_" + std::to_string(i) : hex_name(fns[i])));
        if (i + 1 < fns.size()) {
            CHECK(reinterpret_cast<uintptr_t>(fns[i]) + f.size <= reinterpret_cast<uintptr_t>(fns[i + 1]));
        }
    }
    REQUIRE(npk_jit_region_free(r) == 0);
    CHECK(entries().empty());
}

TEST_CASE("NPK_JIT_GDB=1: concurrent builds and frees keep the list whole", "[tools][gdb]") {
    set_env("NPK_JIT_GDB", "1");
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([t, &failures] {
            for (int i = 0; i < 200; ++i) {
                const std::string name = "t" + std::to_string(t) + "_" + std::to_string(i);
                void* fn = build_const(i, name.c_str());
                if (fn == nullptr || call_i64(fn) != i || name_of(fn) != name || npk_wildx_free(fn) != 0) ++failures;
            }
        });
    }
    for (std::thread& th : threads) th.join();
    CHECK(failures.load() == 0);
    CHECK(entries().empty());
}

TEST_CASE("NPK_JIT_GDB=1: freeing code finds its object at once, however many gdb holds", "[tools][gdb]") {
    set_env("NPK_JIT_GDB", "1");
    constexpr int kCount = 1000;
    std::vector<void*> fns;
    for (int i = 0; i < kCount; ++i) {
        fns.push_back(build_const(i, nullptr));
        REQUIRE(fns.back() != nullptr);
    }
    REQUIRE(entries().size() == kCount);
    const uint64_t before = npk::tools::testing::gdb_retire_steps();
    // Oldest first: the newest-first list puts each one at its far end.
    for (void* fn : fns) REQUIRE(npk_wildx_free(fn) == 0);
    const uint64_t steps = npk::tools::testing::gdb_retire_steps() - before;
    CHECK(entries().empty());
    // A walk of the list would look at kCount * (kCount + 1) / 2 objects.
    CHECK(steps <= 3u * kCount);
}

TEST_CASE("NPK_JIT_GDB=1: code unmapped behind the runtime's back leaves gdb's list before its address is reused",
          "[tools][gdb][hostile]") {
    set_env("NPK_JIT_GDB", "1");
    void* keep = build_const(1, "kept_fn");
    void* fn = build_const(2, "unmapped_fn");
    REQUIRE((keep != nullptr && fn != nullptr));
    REQUIRE(entries().size() == 2);
    StderrCapture err;
    void* q = reuse_after_foreign_unmap(fn, npk_wildx_size(fn));
    (void)err.text();
    if (q == nullptr) npk_test_skip("this host's mmap did not hand the unmapped address back");
    const std::vector<const jit_code_entry*> v = entries();
    REQUIRE(v.size() == 1);
    const std::map<uintptr_t, Fn> seen = functions_of(v[0]);
    CHECK(seen.count(reinterpret_cast<uintptr_t>(keep)) == 1);
    CHECK(seen.count(reinterpret_cast<uintptr_t>(q)) == 0);
    REQUIRE(npk_wildx_free(q) == 0);
    REQUIRE(npk_wildx_free(keep) == 0);
    CHECK(entries().empty());
}
