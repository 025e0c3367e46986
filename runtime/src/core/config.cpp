// config.cpp — the runtime's settings and their environment variables.
#include "core/config.h"

#include "core/sync.h"
#include "core/test_seams.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace npk::config {
namespace {

std::atomic<size_t> g_value[kSettingCount] = {kDefaultQuota, 0, 0, 0, 0, 0};
std::atomic<bool> g_loaded{false};
constinit Mutex g_load_mu;

// A byte count: decimal digits only, at least one, no overflow.
bool parse_bytes(const char* s, size_t* out) {
    if (*s == '\0') return false;
    size_t v = 0;
    for (; *s != '\0'; ++s) {
        if (*s < '0' || *s > '9') return false;
        const size_t d = static_cast<size_t>(*s - '0');
        if (v > (SIZE_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

size_t env_flag(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr && std::strcmp(v, "1") == 0 ? 1 : 0;
}

// NPK_JIT_PERF: a comma-separated list of "map" and "jitdump".
size_t env_perf() {
    const char* v = std::getenv("NPK_JIT_PERF");
    if (v == nullptr || *v == '\0') return 0;
    size_t bits = 0;
    for (const char* p = v;;) {
        const char* end = std::strchr(p, ',');
        const size_t n = end != nullptr ? static_cast<size_t>(end - p) : std::strlen(p);
        if (n == 3 && std::strncmp(p, "map", 3) == 0) {
            bits |= kPerfMap;
        } else if (n == 7 && std::strncmp(p, "jitdump", 7) == 0) {
            bits |= kPerfJitdump;
        } else {
            std::fprintf(stderr, "wildx: ignoring NPK_JIT_PERF='%s': expected map, jitdump or map,jitdump\n", v);
            return 0;
        }
        if (end == nullptr) break;
        p = end + 1;
    }
    return bits;
}

void load_from_env() {
    size_t bytes = kDefaultQuota;
    if (const char* v = std::getenv("NPK_WILDX_QUOTA")) {
        if (!parse_bytes(v, &bytes)) {
            bytes = kDefaultQuota;
            // Once per load: a config error, shown even when quiet.
            std::fprintf(stderr,
                         "wildx: ignoring NPK_WILDX_QUOTA='%s': not a decimal byte count; "
                         "the quota stays %zu bytes\n",
                         v, bytes);
        }
    }
    g_value[quota].store(bytes, std::memory_order_relaxed);
    g_value[audit].store(env_flag("NPK_WILDX_AUDIT"), std::memory_order_relaxed);
    g_value[quiet].store(env_flag("NPK_WILDX_QUIET"), std::memory_order_relaxed);
    g_value[jit_perf].store(env_perf(), std::memory_order_relaxed);
    g_value[jit_gdb].store(env_flag("NPK_JIT_GDB"), std::memory_order_relaxed);
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

}  // namespace npk::config

namespace npk::wildx::testing {

void reload_config_from_env() {
    Lock lk(config::g_load_mu);
    config::load_from_env();
    config::g_loaded.store(true, std::memory_order_release);
}

}  // namespace npk::wildx::testing
