// How many one-page wildx allocations can be live at once, with the
// quota raised out of the way. Not a timing benchmark: it allocates
// --pages pages, counts the failures by error code, records the number
// of mappings in /proc/self/maps at the peak, calls every sealed page,
// frees everything, and prints one JSON object on stdout.
//
//   npk_bench_many_pages [--pages N] [--mode mixed|writable|sealed|guard]
//
//   mixed     every second page sealed: neighbours differ in protection,
//             so the kernel cannot merge them (one mapping per page, the
//             worst case for vm.max_map_count)
//   writable  every page left writable (neighbours may merge)
//   sealed    every page sealed (neighbours may merge)
//   guard     mixed, with guard pages on
#include <npk/jit.h>
#include <npk/wildx.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "common.h"

namespace {

long read_max_map_count() {
    FILE* f = std::fopen("/proc/sys/vm/max_map_count", "r");
    if (!f) return -1;
    long v = -1;
    if (std::fscanf(f, "%ld", &v) != 1) v = -1;
    std::fclose(f);
    return v;
}

int usage() {
    std::fprintf(stderr, "usage: npk_bench_many_pages [--pages N] [--mode mixed|writable|sealed|guard]\n");
    return 64;
}

}  // namespace

int main(int argc, char** argv) {
    size_t pages = 60000;
    std::string mode = "mixed";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--pages" && i + 1 < argc) {
            char* end = nullptr;
            pages = std::strtoul(argv[++i], &end, 10);
            if (!end || *end || pages == 0) return usage();
        } else if (a == "--mode" && i + 1 < argc) {
            mode = argv[++i];
            if (mode != "mixed" && mode != "writable" && mode != "sealed" && mode != "guard") return usage();
        } else {
            return usage();
        }
    }
    const bool jit = npk_jit_host_supported() && bench::host_is_x86_64();

    // Every rejection would print a line; the counts below say it all.
    npk_wildx_set_quiet(1);
    npk_wildx_set_quota((pages + 16) * bench::page_size());
    npk_wildx_set_guard_pages(mode == "guard" ? 1 : 0);

    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    std::vector<void*> live;
    live.reserve(pages);
    std::map<int, long> alloc_failures, seal_failures;
    size_t sealed = 0;
    for (size_t i = 0; i < pages; ++i) {
        void* p = npk_wildx_alloc(64);
        if (!p) {
            ++alloc_failures[npk_wildx_last_error()];
            continue;
        }
        live.push_back(p);
        const bool seal = mode == "sealed" || ((mode == "mixed" || mode == "guard") && i % 2 == 0);
        if (!seal) continue;
        // Without a code generator the page is sealed as it is (zeros):
        // the mapping count, the point of this program, is the same.
        if ((jit && npk_jit_install_add_i32(p) != 0) || npk_wildx_seal(p) != 0)
            ++seal_failures[npk_wildx_last_error()];
        else
            ++sealed;
    }
    const auto t1 = Clock::now();

    const long maps_at_peak = bench::count_mappings();
    npk_wildx_stats stats{};
    npk_wildx_get_stats(&stats);

    // Every sealed page must still run: a page the registry lost or the
    // kernel dropped would fault or give a wrong sum here.
    long calls_ok = 0, calls_bad = 0;
    if (jit) {
        for (void* p : live) {
            if (npk_wildx_state(p) != NPK_WILDX_EXECUTABLE) continue;
            if (npk_jit_call_i32_i32(p, 7, 35) == 42)
                ++calls_ok;
            else
                ++calls_bad;
        }
    }

    const auto t2 = Clock::now();
    long free_failures = 0;
    for (void* p : live)
        if (npk_wildx_free(p) != 0) ++free_failures;
    const auto t3 = Clock::now();
    const long maps_after = bench::count_mappings();

    auto seconds = [](Clock::time_point a, Clock::time_point b) {
        return std::chrono::duration<double>(b - a).count();
    };
    auto codes = [](const std::map<int, long>& m) {
        std::string s = "{";
        for (const auto& [code, n] : m) {
            if (s.size() > 1) s += ", ";
            s.append("\"").append(npk_wildx_error_string(code)).append("\": ").append(std::to_string(n));
        }
        return s + "}";
    };
    long alloc_failed = 0;
    for (const auto& kv : alloc_failures) alloc_failed += kv.second;
    long seal_failed = 0;
    for (const auto& kv : seal_failures) seal_failed += kv.second;

    std::printf(
        "{\"mode\": \"%s\", \"requested\": %zu, \"allocated\": %zu, \"alloc_failures\": %ld, "
        "\"alloc_failures_by_error\": %s, \"sealed\": %zu, \"seal_failures\": %ld, "
        "\"seal_failures_by_error\": %s, \"live_pages_at_peak\": %llu, \"maps_at_peak\": %ld, "
        "\"maps_after_free\": %ld, \"max_map_count\": %ld, \"calls_ok\": %ld, \"calls_bad\": %ld, "
        "\"free_failures\": %ld, \"alloc_seconds\": %.4f, \"free_seconds\": %.4f}\n",
        mode.c_str(), pages, live.size(), alloc_failed, codes(alloc_failures).c_str(), sealed, seal_failed,
        codes(seal_failures).c_str(), static_cast<unsigned long long>(stats.live_pages), maps_at_peak,
        maps_after, read_max_map_count(), calls_ok, calls_bad, free_failures, seconds(t0, t1),
        seconds(t2, t3));
    return 0;
}
