// stderr_shim.cpp — linked into libnpkjit.so only.
//
// Debian's libasmjit.a is position-independent executable code (-fPIE),
// not shared-library code: its two references to libc's `stderr` (in
// asmjit::DebugUtils::debugOutput) are PC-relative, which the linker
// cannot resolve against libc from a shared object ("relocation
// R_X86_64_PC32 against symbol `stderr'"). Every other reference in the
// archive is to functions (through the PLT) or to symbols our version
// script makes local. So the shared library defines a hidden `stderr` of
// its own for them, set to libc's stream before anything else runs.
#include <dlfcn.h>
#include <stdio.h>

extern "C" {
__attribute__((visibility("hidden"))) FILE* stderr = nullptr;
}

namespace {

// Priority 101: before any other static constructor of the library.
__attribute__((constructor(101))) void bind_stderr() {
    // Our own `stderr` is hidden, so the lookup finds the process's one.
    void* libc_stderr = dlsym(RTLD_DEFAULT, "stderr");
    if (libc_stderr != nullptr) stderr = *static_cast<FILE**>(libc_stderr);
}

}  // namespace
