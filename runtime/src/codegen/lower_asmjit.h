// lower_asmjit.h — what the two lowerings share (private; asmjit only
// appears in the code generator's .cpp files and here).
#pragma once

#include "codegen/program.h"

#include <asmjit/core.h>

#include <cstdlib>
#include <new>

namespace npk::codegen {

// Records the program as one function into `code` (initialised for the
// lowering's architecture) and finalises it. Returns asmjit's first error.
asmjit::Error lower_x86(const Program& p, asmjit::CodeHolder& code);
asmjit::Error lower_a64(const Program& p, asmjit::CodeHolder& code);

struct Compiled;
// The finished CodeHolder of a compile (lower.h), for the benchmarks that
// hand the very same code to asmjit's JitRuntime.
asmjit::CodeHolder& code_of(Compiled* c);

// A fixed array of asmjit operands (registers, labels: not trivially
// copyable, so not for Vec), one per variable or label.
template <class T>
class RegArray {
public:
    RegArray() = default;
    RegArray(const RegArray&) = delete;
    RegArray& operator=(const RegArray&) = delete;
    ~RegArray() {
        for (size_t i = 0; i < n_; ++i) p_[i].~T();
        std::free(p_);
    }
    [[nodiscard]] bool init(size_t n) {
        p_ = static_cast<T*>(std::malloc((n ? n : 1) * sizeof(T)));
        if (p_ == nullptr) return false;
        for (; n_ < n; ++n_) new (p_ + n_) T();
        return true;
    }
    T& operator[](size_t i) { return p_[i]; }

private:
    T* p_ = nullptr;
    size_t n_ = 0;
};

inline asmjit::TypeId type_id(Type t) {
    switch (t) {
        case Type::i32: return asmjit::TypeId::kInt32;
        case Type::i64: return asmjit::TypeId::kInt64;
        case Type::f64: return asmjit::TypeId::kFloat64;
        case Type::ptr: return asmjit::TypeId::kUInt64;
        case Type::void_: break;
    }
    return asmjit::TypeId::kVoid;
}

// The host C signature of the program itself, and of a call it makes.
inline asmjit::FuncSignatureBuilder func_signature(const Program& p) {
    asmjit::FuncSignatureBuilder s(asmjit::CallConvId::kHost);
    s.setRet(type_id(p.ret));
    for (int32_t v : p.params) s.addArg(type_id(p.vars[static_cast<size_t>(v)]));
    return s;
}

inline asmjit::FuncSignatureBuilder call_signature(const Program& p, const Inst& in) {
    asmjit::FuncSignatureBuilder s(asmjit::CallConvId::kHost);
    s.setRet(type_id(in.ret));
    for (int i = 0; i < in.nargs; ++i) {
        s.addArg(type_id(p.vars[static_cast<size_t>(p.call_args[static_cast<size_t>(in.args + i)])]));
    }
    return s;
}

}  // namespace npk::codegen
