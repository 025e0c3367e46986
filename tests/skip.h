// Skipping a unit test on a host that truly lacks what it needs.
//
// Each Catch2 test case runs in its own process under CTest
// (catch_discover_tests), and the tests are registered with
// SKIP_RETURN_CODE 77: exiting 77 marks just that test skipped.
#pragma once

#include <sys/utsname.h>

#include <cstdio>
#include <cstdlib>

// Ends the test process with 77 after saying why, naming the host.
[[noreturn]] inline void npk_test_skip(const char* why) {
    struct utsname u {};
    uname(&u);
    std::printf("SKIP: %s (host: %s)\n", why, u.machine);
    std::fflush(stdout);
    std::exit(77);
}
