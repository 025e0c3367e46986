// Helpers for the interpreter tests (test_interp*.cpp) beyond
// sema_test_util.h: the wildx quota and OS faults a test changes, the
// live page count, npk run as a process.
#pragma once

#include <npk/wildx.h>

#include <string>
#include <vector>

#include "../../runtime/src/core/test_seams.h"
#include "sema_test_util.h"

namespace npk::test {


inline const std::string kExamples = std::string(NPK_SOURCE_STDLIB_DIR) + "/../examples";

// Restores the wildx quota and error output a test changed.
struct QuotaGuard {
    size_t saved = npk_wildx_quota();
    ~QuotaGuard() {
        npk_wildx_set_quota(saved);
        npk::os::testing::clear_os_faults();
    }
};

// Runs the built npk with `args`; returns its exit status, with its
// stdout followed by its stderr in `output`.
inline int run_npk(const std::vector<std::string>& args, std::string& output) {
    const auto r = npk::test::run_npk(args);
    output = r.out + r.err;
    return r.status;
}

inline uint64_t live_pages() {
    npk_wildx_stats st{};
    npk_wildx_get_stats(&st);
    return st.live_pages;
}

}  // namespace npk::test
