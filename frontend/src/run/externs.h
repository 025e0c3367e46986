// Binding `extern func` declarations to C symbols and calling them
// through libffi (nitpick-subset.md §3, §7; docs/architecture.md: every
// extern func is bound once, before main starts).
//
// Lookup order for a symbol: the runtime's own C ABI (statically linked
// into npk; runtime_symbols() in externs.cpp also knows each function's
// true C signature, so a declaration that disagrees is an error, and
// tests/frontend/test_runtime_externs.cpp checks that table against the
// public headers), then each
// library given with --load, in order, then the process
// (dlsym(RTLD_DEFAULT): libc and anything else already loaded).
#pragma once

#include <ffi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "run/gate.h"
#include "sema/sema.h"

namespace npk {

struct BoundExtern {
    const ast::ExternDecl* decl = nullptr;
    void* fn = nullptr;
    CSignature sig;
    std::vector<ffi_type*> arg_types;  // the cif points into this: never resized after prep
    ffi_cif cif{};
    std::string found_in;               // "the runtime", "libfoo.so", "the process"
    // What a runtime function does to the heaps (None for any other
    // symbol): the interpreter passes such calls through its RuntimeGate.
    RuntimeRole role = RuntimeRole::None;
    bool in_runtime = false;
};

class ExternTable {
public:
    ExternTable() = default;
    ExternTable(const ExternTable&) = delete;
    ExternTable& operator=(const ExternTable&) = delete;
    ~ExternTable();

    // Loads the --load libraries and binds every extern of the program.
    // Reports each failure (a library that does not load, a missing
    // symbol, a signature libffi cannot express or that contradicts the
    // runtime's) at the declaration; returns false if there was any.
    bool bind_all(const ast::Program& prog, const Sema& sema, const Options& opts, Diagnostics& diag);

    const BoundExtern& get(const ast::ExternDecl* decl) const { return *bound_.at(decl); }

    // Calls `b` with `args` (one per parameter, each the canonical 64-bit
    // form of the value: sign-extended for signed types, zero-extended
    // otherwise) and returns the result in the same canonical form (0 for
    // void).
    static uint64_t call(const BoundExtern& b, const std::vector<uint64_t>& args);

private:
    std::vector<void*> libs_;        // dlopen handles, closed in the destructor
    std::vector<std::string> lib_names_;
    std::unordered_map<const ast::ExternDecl*, std::unique_ptr<BoundExtern>> bound_;
};

// dlopen()s a --load library. On failure returns nullptr and says why in
// one sentence ("cannot open shared object file: No such file or
// directory"), without repeating the path.
void* load_library(const std::string& path, std::string& why);

// The message for a --load library that does not load (npk check and
// npk run say the same).
std::string load_failure(const std::string& path, const std::string& why);

// The runtime's C ABI as npk links it: name → address and C signature.
struct RuntimeSymbol {
    const char* name;
    void* address;
    CSignature sig;
    RuntimeRole role;
};
const std::vector<RuntimeSymbol>& runtime_symbols();

}  // namespace npk
