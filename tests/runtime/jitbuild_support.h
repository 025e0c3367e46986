// jitbuild_support.h — helpers for the code generator's tests: C++
// reference semantics written from the header's text (independent of the
// lowerings), building small functions, comparing doubles bit for bit.
#pragma once

#include <npk/jitbuild.h>
#include <npk/wildx.h>

#include "support.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

// The text of the calling thread's last error.
#define NPK_JIT_MESSAGE() std::string(npk_last_error_message())

namespace npk::test {

inline uint64_t bits_of(double d) {
    uint64_t u;
    std::memcpy(&u, &d, sizeof u);
    return u;
}

// Equal as the header promises: NaN matches any NaN (hosts differ in the
// payload of a NaN they make), everything else bit for bit (so -0.0 != 0.0).
inline bool same_f64(double a, double b) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    return bits_of(a) == bits_of(b);
}

// --- reference semantics of integer operations, from npk/jitbuild.h ----

template <class T>
T ref_int_op(int op, T a, T b) {
    using U = std::make_unsigned_t<T>;
    constexpr int width = sizeof(T) * 8;
    constexpr T kMin = std::numeric_limits<T>::min();
    const unsigned sh = static_cast<unsigned>(static_cast<U>(b) % width);
    switch (op) {
        case NPK_JIT_ADD: return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
        case NPK_JIT_SUB: return static_cast<T>(static_cast<U>(a) - static_cast<U>(b));
        case NPK_JIT_MUL: return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
        case NPK_JIT_DIV:
            if (b == 0) return 0;
            if (a == kMin && b == -1) return kMin;
            return a / b;
        case NPK_JIT_REM:
            if (b == 0) return a;
            if (b == -1) return 0;
            return a % b;
        case NPK_JIT_AND: return a & b;
        case NPK_JIT_OR: return a | b;
        case NPK_JIT_XOR: return a ^ b;
        case NPK_JIT_SHL: return static_cast<T>(static_cast<U>(a) << sh);
        case NPK_JIT_SHR: return a >> sh;  // arithmetic in C++20
        case NPK_JIT_USHR: return static_cast<T>(static_cast<U>(a) >> sh);
        case NPK_JIT_EQ: return a == b;
        case NPK_JIT_NE: return a != b;
        case NPK_JIT_LT: return a < b;
        case NPK_JIT_LE: return a <= b;
        case NPK_JIT_GT: return a > b;
        case NPK_JIT_GE: return a >= b;
        case NPK_JIT_ULT: return static_cast<U>(a) < static_cast<U>(b);
        case NPK_JIT_ULE: return static_cast<U>(a) <= static_cast<U>(b);
        case NPK_JIT_UGT: return static_cast<U>(a) > static_cast<U>(b);
        case NPK_JIT_UGE: return static_cast<U>(a) >= static_cast<U>(b);
    }
    FAIL("unknown op " << op);
    return 0;
}

// F64: arithmetic as IEEE (C++ on the test's host), comparisons as C.
inline double ref_f64_op(int op, double a, double b) {
    switch (op) {
        case NPK_JIT_ADD: return a + b;
        case NPK_JIT_SUB: return a - b;
        case NPK_JIT_MUL: return a * b;
        case NPK_JIT_DIV: return a / b;
        case NPK_JIT_EQ: return a == b;
        case NPK_JIT_NE: return a != b;
        case NPK_JIT_LT: return a < b;
        case NPK_JIT_LE: return a <= b;
        case NPK_JIT_GT: return a > b;
        case NPK_JIT_GE: return a >= b;
    }
    FAIL("op " << op << " is not an f64 op");
    return 0;
}

// F64 → integer: toward zero, saturating, NaN → 0.
template <class T>
T ref_f64_to_int(double d) {
    if (std::isnan(d)) return 0;
    constexpr double lo = static_cast<double>(std::numeric_limits<T>::min());  // exact: -2^(w-1)
    if (d <= lo) return std::numeric_limits<T>::min();
    if (d >= -lo) return std::numeric_limits<T>::max();
    return static_cast<T>(d);
}

inline bool is_compare_op(int op) { return op >= NPK_JIT_EQ; }

// --- building --------------------------------------------------------

// Frees a built function at scope exit.
struct Fn {
    void* p = nullptr;
    explicit Fn(void* q) : p(q) {}
    ~Fn() {
        if (p != nullptr) npk_wildx_free(p);
    }
    Fn(const Fn&) = delete;
    Fn& operator=(const Fn&) = delete;
    template <class F>
    F as() const {
        return reinterpret_cast<F>(p);
    }
};

// r(a, b) = a <op> b, with params and result of the given types.
inline void* build_binop(int type, int op) {
    const int rt = is_compare_op(op) ? NPK_JIT_I32 : type;
    npk_jit_builder* b = npk_jit_builder_new(rt);
    const int32_t x = npk_jit_param(b, type);
    const int32_t y = npk_jit_param(b, type);
    const int32_t r = npk_jit_var(b, rt);
    npk_jit_op(b, op, r, x, y);
    npk_jit_ret(b, r);
    return npk_jit_build(b);
}

// r(a) = <kind>(a): kind is 'n' (neg), '~' (not) or 'c' (convert to `to`).
inline void* build_unary(char kind, int from, int to) {
    npk_jit_builder* b = npk_jit_builder_new(to);
    const int32_t x = npk_jit_param(b, from);
    const int32_t r = npk_jit_var(b, to);
    if (kind == 'n') npk_jit_neg(b, r, x);
    if (kind == '~') npk_jit_not(b, r, x);
    if (kind == 'c') npk_jit_convert(b, r, x);
    npk_jit_ret(b, r);
    return npk_jit_build(b);
}

inline const int32_t kEdgeI32[] = {0, 1, -1, 2, -2, 3, -7, 31, 32, 33, 63, 64, 65, 100, -100, 0x55555555,
                                   std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::min() + 1,
                                   std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::max() - 1};
inline const int64_t kEdgeI64[] = {0, 1, -1, 2, -2, 3, -7, 31, 32, 33, 63, 64, 65, 100, -100,
                                   INT64_C(0x5555555555555555), INT64_C(4294967296), INT64_C(-4294967296),
                                   std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(),
                                   std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::min() + 1,
                                   std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::max() - 1};
inline const double kEdgeF64[] = {0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.75, 1e300, -1e300, 1e-310, -1e-310,
                                  2147483647.0, 2147483648.0, -2147483648.0, -2147483649.0, 2147483647.9,
                                  9223372036854775807.0, -9223372036854775808.0, 9.3e18, -9.3e18, 4.5e15,
                                  std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                                  std::numeric_limits<double>::quiet_NaN(), -std::numeric_limits<double>::quiet_NaN(),
                                  std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::max()};

}  // namespace npk::test
