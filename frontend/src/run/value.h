// The interpreter's values (run/interp.cpp) and the arithmetic on their
// 64-bit words: integers in canonical form (sign-extended for int/tbb,
// zero-extended for uint; bool 0/1; pointers as addresses), Results and
// structs.
#pragma once

#include <cstdint>
#include <vector>

#include "sema/types.h"
#include "syntax/ast.h"

namespace npk::run {

struct Value {
    uint64_t bits = 0;       // integer, bool or pointer
    uint64_t tag = 0;        // the identity of the resource the word came from (run/gate.h), 0: none
    bool is_error = false;   // Result
    int64_t err = 0;         // Result
    std::vector<Value> sub;  // struct fields; Result: {value} ({} for Result<NIL>)
};

inline uint64_t mask_of(uint32_t bits) { return bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1; }

// The canonical word of the low `t->bits` bits of `raw`.
inline uint64_t normalize(uint64_t raw, const Type* t) {
    uint32_t bits = t->bits;
    if (bits >= 64 || bits == 0) return raw;
    uint64_t m = mask_of(bits);
    raw &= m;
    if (t->is_signed() && ((raw >> (bits - 1)) & 1)) raw |= ~m;
    return raw;
}

inline int64_t as_signed(uint64_t w) { return static_cast<int64_t>(w); }

// tbbN: symmetric range ±(2^(N-1) - 1); the minimum word is ERR, which
// every operation propagates and every overflow (or division by zero)
// produces.
inline int64_t tbb_max(const Type* t) { return static_cast<int64_t>(mask_of(t->bits - 1)); }
inline uint64_t tbb_err(const Type* t) { return static_cast<uint64_t>(-tbb_max(t) - 1); }

inline Value int_value(uint64_t w) {
    Value v;
    v.bits = w;
    return v;
}

// The zero value of `t` (structs and Results field by field).
Value zero(const Type* t);
// Result{value: v} and a failed Result (its value zeroed) of `value_type`.
Value ok_result(Value v, const Type* value_type);
Value failed_result(int64_t code, const Type* value_type);

// Heap structs (`wild S`): C layout in an npk_alloc block.
void store(unsigned char* at, const Type* t, const Value& v);
Value load(const unsigned char* at, const Type* t);
inline unsigned char* heap_ptr(const Value& slot) {
    return reinterpret_cast<unsigned char*>(static_cast<uintptr_t>(slot.bits));
}

// The word of `x op y` for a comparison or arithmetic operator on
// operands of type `t` (wrapping per width; tbb saturating to ERR).
// False for an integer division or remainder by zero, which the caller
// reports. `&&` and `||` are not word operators: they evaluate lazily.
bool binary_word(ast::BinaryOp op, uint64_t x, uint64_t y, const Type* t, uint64_t& out);

}  // namespace npk::run
