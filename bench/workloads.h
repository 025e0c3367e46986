// workloads.h — the inputs the code generator's rows compile: what the two
// clients of each comparison (npk/jitbuild.h, and asmjit's x86::Compiler
// used directly, bench_asmjit_clients.cpp) are both given. Data only: each
// client turns it into code its own way, so no baseline shares code with
// what it measures.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

// What '.' and ',' of the Brainfuck rows call (bench_workloads.cpp):
// append to the current BfOutput; end of input (0).
extern "C" void bench_bf_putc(int32_t c);
extern "C" int32_t bench_bf_getc();

namespace bench {

// i64 f(i64 x) = x*K + C, the single-build rows' function.
inline constexpr int64_t kAffineK = 37, kAffineC = 11;

// --- small generated functions: i64 f(i64 x, i64 y), 5..20 operations ---

struct SmallOp {
    enum Kind : uint8_t { add, sub, mul, and_, or_, xor_, add_imm, mul_imm, xor_imm, shl_imm } kind;
    uint8_t dst, a, b;  // variables: 0 = x, 1 = y, 2..5 locals
    int32_t imm;
};
struct SmallFn {
    std::vector<SmallOp> ops;
    uint8_t ret;  // the variable returned
};
inline constexpr int kSmallVars = 6;

// Reads only variables written before (the parameters first), so no
// client depends on variables starting at 0.
inline std::vector<SmallFn> small_functions(int n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    auto pick = [&](int k) { return static_cast<int>(rng() % static_cast<uint64_t>(k)); };
    std::vector<SmallFn> out(static_cast<size_t>(n));
    for (SmallFn& f : out) {
        int written = 2;  // x and y
        const int len = 5 + pick(16);
        for (int i = 0; i < len; ++i) {
            SmallOp o{};
            o.kind = static_cast<SmallOp::Kind>(pick(10));
            o.a = static_cast<uint8_t>(pick(written));
            o.b = static_cast<uint8_t>(pick(written));
            o.dst = static_cast<uint8_t>(written < kSmallVars && pick(2) ? written++ : pick(written));
            o.imm = o.kind == SmallOp::shl_imm ? 1 + pick(7) : static_cast<int32_t>(pick(2000)) - 1000;
            f.ops.push_back(o);
        }
        f.ret = f.ops.back().dst;
    }
    return out;
}

// What a small function computes, for checking both clients.
inline int64_t small_eval(const SmallFn& f, int64_t x, int64_t y) {
    uint64_t v[kSmallVars] = {static_cast<uint64_t>(x), static_cast<uint64_t>(y)};
    for (const SmallOp& o : f.ops) {
        const uint64_t a = v[o.a], b = v[o.b], imm = static_cast<uint64_t>(static_cast<int64_t>(o.imm));
        uint64_t r = 0;
        switch (o.kind) {
            case SmallOp::add: r = a + b; break;
            case SmallOp::sub: r = a - b; break;
            case SmallOp::mul: r = a * b; break;
            case SmallOp::and_: r = a & b; break;
            case SmallOp::or_: r = a | b; break;
            case SmallOp::xor_: r = a ^ b; break;
            case SmallOp::add_imm: r = a + imm; break;
            case SmallOp::mul_imm: r = a * imm; break;
            case SmallOp::xor_imm: r = a ^ imm; break;
            case SmallOp::shl_imm: r = a << o.imm; break;
        }
        v[o.dst] = r;
    }
    return static_cast<int64_t>(v[f.ret]);
}

// --- Brainfuck: byte cells, the program as a list of folded operations ---

struct BfOp {
    enum Kind : uint8_t { add, move, open, close, out, in, clear } kind;
    int32_t n;  // add: the amount (a run of + and -), move: the distance (a run of > and <)
};

// Runs of + - and of > < folded, [-] and [+] become clear. An unmatched
// bracket leaves the list empty.
inline std::vector<BfOp> bf_parse(const std::string& src) {
    std::vector<BfOp> ops;
    int depth = 0;
    for (size_t i = 0; i < src.size(); ++i) {
        const char c = src[i];
        if (c == '+' || c == '-') {
            const int d = c == '+' ? 1 : -1;
            if (!ops.empty() && ops.back().kind == BfOp::add) {
                ops.back().n += d;
            } else {
                ops.push_back({BfOp::add, d});
            }
        } else if (c == '>' || c == '<') {
            const int d = c == '>' ? 1 : -1;
            if (!ops.empty() && ops.back().kind == BfOp::move) {
                ops.back().n += d;
            } else {
                ops.push_back({BfOp::move, d});
            }
        } else if (c == '[') {
            if (i + 2 < src.size() && (src[i + 1] == '-' || src[i + 1] == '+') && src[i + 2] == ']') {
                ops.push_back({BfOp::clear, 0});
                i += 2;
                continue;
            }
            ++depth;
            ops.push_back({BfOp::open, 0});
        } else if (c == ']') {
            if (--depth < 0) return {};
            ops.push_back({BfOp::close, 0});
        } else if (c == '.') {
            ops.push_back({BfOp::out, 0});
        } else if (c == ',') {
            ops.push_back({BfOp::in, 0});
        }
    }
    return depth == 0 ? ops : std::vector<BfOp>{};
}

// The tape both clients' code runs on, and where '.' writes.
inline constexpr size_t kBfTape = 65536;
struct BfOutput {
    std::string text;
};
void bf_set_output(BfOutput* o);

}  // namespace bench
