// tools_support.h — helpers for the tests of names, perf files and the
// GDB JIT interface.
#pragma once

#include <npk/jitbuild.h>

#include "core/test_seams.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace npk::test {

// The whole file at `path` ("" if it cannot be read).
inline std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// i64 f(void) { return k; }, named `name` unless nullptr.
inline npk_jit_builder* const_builder(int64_t k, const char* name) {
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t v = npk_jit_var(b, NPK_JIT_I64);
    npk_jit_const_i64(b, v, k);
    npk_jit_ret(b, v);
    if (name != nullptr) npk_jit_builder_name(b, name);
    return b;
}

inline void* build_const(int64_t k, const char* name) { return npk_jit_build(const_builder(k, name)); }

inline int64_t call_i64(void* fn) { return reinterpret_cast<int64_t (*)()>(fn)(); }

// Sets (or, for nullptr, unsets) an environment variable and makes the
// runtime read its settings again. Each test case is its own process.
inline void set_env(const char* name, const char* value) {
    if (value != nullptr) {
        setenv(name, value, 1);
    } else {
        unsetenv(name);
    }
    npk::wildx::testing::reload_config_from_env();
}

inline std::string name_of(const void* fn) {
    char buf[NPK_JIT_MAX_NAME + 1];
    return npk_jit_name(fn, buf, sizeof buf) >= 0 ? std::string(buf) : std::string("<error>");
}

inline std::string hex_name(const void* fn) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "jit_fn_%lx", static_cast<unsigned long>(reinterpret_cast<uintptr_t>(fn)));
    return buf;
}

// Unmaps the `bytes` at `page` (a wildx allocation) behind the runtime's
// back, as a hostile or careless program would, then takes a wildx page of
// `bytes` where it was: the kernel hands a hole back by itself (top-down
// placement), and the hint seam (core/test_seams.h) makes sure, also under
// qemu-user. Returns that page (WRITABLE), or nullptr (freed again) if it
// landed elsewhere. The registry's one report of the unmapped page goes
// to stderr.
inline void* reuse_after_foreign_unmap(void* page, size_t bytes) {
    if (munmap(page, bytes) != 0) return nullptr;
    npk::os::testing::hint_next_mapping(page);
    void* p = npk_wildx_alloc(bytes);
    if (p == page) return p;
    if (p != nullptr) npk_wildx_free(p);
    return nullptr;
}

}  // namespace npk::test
