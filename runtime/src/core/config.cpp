// config.cpp — the runtime's settings and their environment variables.
#include "core/config.h"

#include <npk/status.h>

#include "core/errors.h"
#include "core/sync.h"
#include "core/test_seams.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace npk::config {

constinit std::atomic<size_t> g_value[kSettingCount] = {kDefaultQuota, 0, 0, 0, 0, 0, 0};
constinit std::atomic<bool> g_loaded{false};

namespace {

constinit Mutex g_load_mu;

enum class Parse { ok, not_decimal, too_large };

// A byte count: decimal digits only, at least one, at most SIZE_MAX.
Parse parse_bytes(const char* s, size_t* out) {
    if (*s == '\0') return Parse::not_decimal;
    size_t v = 0;
    bool overflow = false;
    for (; *s != '\0'; ++s) {
        if (*s < '0' || *s > '9') return Parse::not_decimal;
        const size_t d = static_cast<size_t>(*s - '0');
        if (v > (SIZE_MAX - d) / 10) overflow = true;  // keep reading: "99x" is not decimal either
        v = v * 10 + d;
    }
    if (overflow) return Parse::too_large;
    *out = v;
    return Parse::ok;
}

// `v` as it may appear inside quotes on one line of a terminal: printable
// ASCII as is, a backslash or quote and every other byte (control bytes,
// newlines, escape sequences, bytes of UTF-8) as \xNN; at most 64 bytes of
// `v`, then "...". A value can neither forge a line nor drive the terminal.
void escape_value(const char* v, char (&out)[64 * 4 + 4]) {
    size_t n = 0;
    size_t i = 0;
    for (; v[i] != '\0' && i < 64; ++i) {
        const unsigned char c = static_cast<unsigned char>(v[i]);
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
            out[n++] = static_cast<char>(c);
        } else {
            std::snprintf(out + n, 5, "\\x%02x", c);
            n += 4;
        }
    }
    if (v[i] != '\0') {
        std::memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

size_t env_flag(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr && std::strcmp(v, "1") == 0 ? 1 : 0;
}

// A comma-separated list of words, each naming a bit (NPK_JIT_PERF,
// NPK_JIT_DUMP); anything else is reported once and switches it all off.
struct Word {
    const char* word;
    size_t bit;
};

template <size_t N>
size_t env_words(const char* var, const Word (&words)[N], const char* expected) {
    const char* v = std::getenv(var);
    if (v == nullptr || *v == '\0') return 0;
    size_t bits = 0;
    for (const char* p = v;;) {
        const char* end = std::strchr(p, ',');
        const size_t n = end != nullptr ? static_cast<size_t>(end - p) : std::strlen(p);
        size_t bit = 0;
        for (const Word& w : words) {
            if (std::strlen(w.word) == n && std::strncmp(p, w.word, n) == 0) bit = w.bit;
        }
        if (bit == 0) {
            char shown[64 * 4 + 4];
            escape_value(v, shown);
            warn_line(NPK_FACILITY_BUILDER, "ignoring %s='%s': expected %s", var, shown, expected);
            return 0;
        }
        bits |= bit;
        if (end == nullptr) break;
        p = end + 1;
    }
    return bits;
}

// NPK_WILDX_VERIFY: "call", or unset / empty for off.
size_t env_verify() {
    const char* v = std::getenv("NPK_WILDX_VERIFY");
    if (v == nullptr || *v == '\0') return 0;
    if (std::strcmp(v, "call") == 0) return 1;
    char shown[64 * 4 + 4];
    escape_value(v, shown);
    warn_line(NPK_FACILITY_WILDX, "ignoring NPK_WILDX_VERIFY='%s': expected call; checked calls do not re-hash", shown);
    return 0;
}

size_t env_perf() {
    static constexpr Word kWords[] = {{"map", kPerfMap}, {"jitdump", kPerfJitdump}};
    return env_words("NPK_JIT_PERF", kWords, "map, jitdump or map,jitdump");
}

size_t env_dump() {
    static constexpr Word kWords[] = {{"ir", kDumpIr}, {"asm", kDumpAsm}};
    return env_words("NPK_JIT_DUMP", kWords, "ir, asm or ir,asm");
}

void load_from_env() {
    size_t bytes = kDefaultQuota;
    if (const char* v = std::getenv("NPK_WILDX_QUOTA")) {
        const Parse p = parse_bytes(v, &bytes);
        if (p != Parse::ok) {
            bytes = kDefaultQuota;
            char shown[64 * 4 + 4];
            escape_value(v, shown);
            // Once per load: a config error, shown even when quiet.
            if (p == Parse::too_large) {
                warn_line(NPK_FACILITY_WILDX,
                          "ignoring NPK_WILDX_QUOTA='%s': too large (the largest byte count is %zu); "
                          "the quota stays %zu bytes",
                          shown, SIZE_MAX, bytes);
            } else {
                warn_line(NPK_FACILITY_WILDX,
                          "ignoring NPK_WILDX_QUOTA='%s': not a decimal byte count; the quota stays %zu bytes",
                          shown, bytes);
            }
        }
    }
    g_value[quota].store(bytes, std::memory_order_relaxed);
    g_value[audit].store(env_flag("NPK_WILDX_AUDIT"), std::memory_order_relaxed);
    g_value[quiet].store(env_flag("NPK_WILDX_QUIET"), std::memory_order_relaxed);
    g_value[jit_perf].store(env_perf(), std::memory_order_relaxed);
    g_value[jit_gdb].store(env_flag("NPK_JIT_GDB"), std::memory_order_relaxed);
    g_value[verify_call].store(env_verify(), std::memory_order_relaxed);
    g_value[jit_dump].store(env_dump(), std::memory_order_relaxed);
}

void ensure_loaded() {
    if (g_loaded.load(std::memory_order_acquire)) return;
    Lock lk(g_load_mu);
    if (g_loaded.load(std::memory_order_relaxed)) return;
    load_from_env();
    g_loaded.store(true, std::memory_order_release);
}

}  // namespace

size_t get(Setting s) {
    ensure_loaded();
    return g_value[s].load(std::memory_order_relaxed);
}

void set(Setting s, size_t value) {
    ensure_loaded();
    g_value[s].store(value, std::memory_order_relaxed);
}

void before_fork() { g_load_mu.lock(); }
void after_fork_in_parent() { g_load_mu.unlock(); }
void after_fork_in_child() { g_load_mu.reset_after_fork(); }

}  // namespace npk::config

namespace npk::wildx::testing {

void reload_config_from_env() {
    Lock lk(config::g_load_mu);
    config::load_from_env();
    config::g_loaded.store(true, std::memory_order_release);
}

}  // namespace npk::wildx::testing
