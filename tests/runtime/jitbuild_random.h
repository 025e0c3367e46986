// jitbuild_random.h — what the two random differential tests share
// (test_jitbuild_diff.cpp, test_jitbuild_fast.cpp): the random choices of
// their program generators, a variable's value as their reference
// interpreters keep it, loads of every width, and the environment knobs
// that replay or widen a run. Each test keeps its own program shapes and
// its own interpreter.
#pragma once

#include <npk/jitbuild.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

namespace npk::test {

// A variable's value as a reference interpreter keeps it: I32
// (sign-extended), I64 and PTR in i, F64 in f.
struct Slot {
    int64_t i = 0;
    double f = 0;
};

// v as a variable of type t holds it (I32: the low 32 bits, sign-extended).
inline int64_t as_type(int t, int64_t v) { return t == NPK_JIT_I32 ? static_cast<int32_t>(static_cast<uint64_t>(v)) : v; }

// The bytes an access of NPK_JIT_MEM_* `mem` moves.
inline int mem_bytes(int mem) {
    static constexpr int kBytes[] = {0, 1, 1, 2, 2, 4, 4, 8};
    return kBytes[mem];
}

// The value of width `mem` at `at`, extended as a load of it extends
// (I8 / I16 / I32 with the sign, U8 / U16 / U32 with zeros).
inline int64_t load_extended(const unsigned char* at, int mem) {
    uint64_t u = 0;
    std::memcpy(&u, at, static_cast<size_t>(mem_bytes(mem)));  // little-endian hosts, as the code generator
    switch (mem) {
        case NPK_JIT_MEM_I8: return static_cast<int8_t>(u);
        case NPK_JIT_MEM_I16: return static_cast<int16_t>(u);
        case NPK_JIT_MEM_I32: return static_cast<int32_t>(u);
        default: return static_cast<int64_t>(u);
    }
}

// A number from the environment (NPK_DIFF_SEED, NPK_FAST_COUNT, ...), or dflt.
inline uint64_t env_u64(const char* name, uint64_t dflt) {
    const char* s = std::getenv(name);
    return s != nullptr && *s != '\0' ? std::strtoull(s, nullptr, 0) : dflt;
}

// The random choices of a program generator, over the variable types of
// the program it is making (`types_`, set by the generator; variable 0 is
// its buffer pointer, 1 .. general_ - 1 are for random operations).
class RandomChoices {
public:
    explicit RandomChoices(uint64_t seed) : rng_(seed) {}

protected:
    std::mt19937_64 rng_;
    std::vector<int>* types_ = nullptr;
    int general_ = 0;

    int pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
    // A new variable of type t; its id.
    int add_var(int t) {
        types_->push_back(t);
        return static_cast<int>(types_->size()) - 1;
    }
    // A random general variable of type t.
    int any_of(int t) {
        std::vector<int> c;
        for (int v = 1; v < general_; ++v) {
            if ((*types_)[static_cast<size_t>(v)] == t) c.push_back(v);
        }
        return c[static_cast<size_t>(pick(static_cast<int>(c.size())))];
    }
    int int_type() { return pick(2) ? NPK_JIT_I32 : NPK_JIT_I64; }
    // Edge values two times in three, else random bits of a random width.
    int64_t interesting() {
        static constexpr int64_t kVals[] = {0, 1, -1, 2, 7, 31, 32, 63, 64, 255, 256, -128, INT32_MIN, INT32_MAX,
                                            INT64_C(0x123456789), INT64_MIN, INT64_MAX};
        constexpr int kN = static_cast<int>(sizeof kVals / sizeof kVals[0]);
        return pick(3) ? kVals[pick(kN)] : static_cast<int64_t>(rng_()) >> pick(64);
    }
};

}  // namespace npk::test
