// Skipping a unit test on a host that truly lacks what it needs.
//
// Each Catch2 test case runs in its own process under CTest
// (catch_discover_tests), and the tests are registered with
// SKIP_RETURN_CODE 77: exiting 77 marks just that test skipped.
#pragma once

#include <sys/utsname.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

// Ends the test process with 77 after saying why, naming the host.
[[noreturn]] inline void npk_test_skip(const char* why) {
    struct utsname u {};
    uname(&u);
    std::printf("SKIP: %s (host: %s)\n", why, u.machine);
    std::fflush(stdout);
    std::exit(77);
}

// Whether the CPU is x86-64 as the kernel (or qemu-user) reports it: what
// the hand-assembled add_i32 (npk_jit_install_add_i32) needs. The code
// generator needs only npk_jit_host_supported() (x86-64 or AArch64).
inline bool npk_test_host_is_x86_64() {
    struct utsname u {};
    uname(&u);
    return std::strcmp(u.machine, "x86_64") == 0;
}
