// asmjit_clients.h — the baselines of the code generator's rows: the same
// workloads (workloads.h) written directly against asmjit's x86::Compiler,
// as a careful user writes it: one CodeHolder and one Compiler kept and
// reattached for every function (so their zones are reused), virtual
// registers, asmjit's register allocation. Nothing of npk's code
// generator is used here.
#pragma once

#include "workloads.h"

#include <asmjit/core.h>

namespace bench {

class AsmjitClient {
public:
    AsmjitClient();
    ~AsmjitClient();
    AsmjitClient(const AsmjitClient&) = delete;
    AsmjitClient& operator=(const AsmjitClient&) = delete;

    // Each compiles one function into code() for `env` (finalized; not
    // yet placed anywhere) and returns false on any asmjit error.
    bool affine(const asmjit::Environment& env);
    bool small(const SmallFn& f, const asmjit::Environment& env);
    // void f(uint8_t* tape), calling bench_bf_putc / bench_bf_getc.
    bool bf(const std::vector<BfOp>& ops, const asmjit::Environment& env);

    asmjit::CodeHolder& code() { return code_; }

private:
    struct State;
    asmjit::CodeHolder code_;
    State* s_;
    bool begin(const asmjit::Environment& env);
};

}  // namespace bench
