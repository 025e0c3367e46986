// test_helpers.h — the harness that upstream Nitpick's runtime tests
// written with TEST_CASE / ASSERT expect beside them ("../test_helpers.h"),
// written for scripts/upstream-runtime-tests. Upstream's test files are
// compiled unmodified against it; only the names are theirs.
#ifndef NPK_UPSTREAM_TEST_HELPERS_H
#define NPK_UPSTREAM_TEST_HELPERS_H

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace npk_upstream_harness {

using CaseFn = void (*)();

// Registers a case at static-initialisation time; the driver runs them.
void add_case(const char* name, CaseFn fn);
// Counts one check; prints the failure with its place.
void check(bool ok, const char* what, const char* file, int line);

struct Registrar {
    Registrar(const char* name, CaseFn fn) { add_case(name, fn); }
};

}  // namespace npk_upstream_harness

#define ASSERT(condition, message) \
    ::npk_upstream_harness::check(static_cast<bool>(condition), (message), __FILE__, __LINE__)

#define TEST_CASE(name)                                                                     \
    static void test_##name();                                                              \
    static ::npk_upstream_harness::Registrar npk_upstream_registrar_##name(#name, test_##name); \
    static void test_##name()

#endif
