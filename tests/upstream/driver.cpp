// driver.cpp — main() for one of upstream Nitpick's runtime test files,
// built by scripts/upstream-runtime-tests. Exactly one of these is set:
//   NPK_DRIVER_CASES        the file registers TEST_CASEs (test_helpers.h)
//   NPK_DRIVER_ENTRY=<fn>   the file defines int <fn>() and no main
// Files with their own main() are linked without this driver.
#include "test_helpers.h"

#if defined(NPK_DRIVER_CASES)

namespace npk_upstream_harness {
namespace {

struct Case {
    const char* name;
    CaseFn fn;
};
Case g_cases[512];
int g_count = 0;
int g_checks = 0;
int g_failed_checks = 0;

}  // namespace

void add_case(const char* name, CaseFn fn) {
    if (g_count == 512) {
        std::fprintf(stderr, "driver: more than 512 test cases\n");
        std::exit(2);
    }
    g_cases[g_count++] = Case{name, fn};
}

void check(bool ok, const char* what, const char* file, int line) {
    ++g_checks;
    if (ok) return;
    ++g_failed_checks;
    std::fprintf(stderr, "  FAIL %s:%d: %s\n", file, line, what);
}

}  // namespace npk_upstream_harness

int main() {
    using namespace npk_upstream_harness;
    int failed_cases = 0;
    for (int i = 0; i < g_count; ++i) {
        const int before = g_failed_checks;
        g_cases[i].fn();
        const bool ok = g_failed_checks == before;
        failed_cases += ok ? 0 : 1;
        std::printf("  [%s] %s\n", ok ? "PASS" : "FAIL", g_cases[i].name);
    }
    std::printf("%d/%d cases passed, %d/%d checks passed\n", g_count - failed_cases, g_count,
                g_checks - g_failed_checks, g_checks);
    return failed_cases == 0 && g_count > 0 ? 0 : 1;
}

#elif defined(NPK_DRIVER_ENTRY)

extern int NPK_DRIVER_ENTRY();
int main() { return NPK_DRIVER_ENTRY(); }

#else
#error "set NPK_DRIVER_CASES or NPK_DRIVER_ENTRY"
#endif
