// emit.h — the fast tier (private): the recorded program, registers
// allocated by regalloc.cpp in one pass, encoded by asmjit's Assembler
// for the host (emit_x86.cpp, emit_a64.cpp). asmjit appears only in the
// code generator's .cpp files and its private headers.
#pragma once

#include "codegen/program.h"

#include <asmjit/core.h>

#include <cstdlib>
#include <new>

namespace npk::codegen {

// A fixed array of asmjit operands (labels: not trivially copyable, so
// not for Vec), one per label of the program.
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

// Encodes `p` as one function into `code` (initialised for the
// emitter's architecture). Returns asmjit's first error, or
// kErrorOutOfMemory when the allocator's tables could not grow.
asmjit::Error emit_x86(const Program& p, asmjit::CodeHolder& code);
asmjit::Error emit_a64(const Program& p, asmjit::CodeHolder& code);

}  // namespace npk::codegen
