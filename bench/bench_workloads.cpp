// The code generator on real clients' work, against asmjit's x86::Compiler
// used directly (asmjit_clients.cpp) with asmjit's JitRuntime (RWX pages):
//   codegen/region/*   1,000 small generated functions (5..20 operations)
//   codegen/bf/*       a byte-cell Brainfuck JIT: compile, and run
//   codegen/scale/*    100,000 labels, 100,000 live variables: one build
// x86-64 only (the asmjit clients are x86 code); elsewhere the cases say so.
#include <benchmark/benchmark.h>

#include <npk/jitbuild.h>

#include <asmjit/x86.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "asmjit_clients.h"
#include "common.h"
#include "workloads.h"

namespace bench {
namespace {
BfOutput* g_out = nullptr;
}
void bf_set_output(BfOutput* o) { g_out = o; }
}  // namespace bench

extern "C" void bench_bf_putc(int32_t c) {
    if (bench::g_out != nullptr) bench::g_out->text.push_back(static_cast<char>(c));
}
extern "C" int32_t bench_bf_getc() { return 0; }

namespace {

using namespace bench;
using SmallFnPtr = int64_t (*)(int64_t, int64_t);
using BfFn = void (*)(uint8_t*);

bool check(benchmark::State& state, bool ok, const char* what) {
    if (!ok) state.SkipWithError(what);
    return ok;
}

bool x86_only(benchmark::State& state) {
    return check(state, host_is_x86_64(), "the asmjit clients are x86-64 code");
}

// --- 1,000 small functions in one region --------------------------------

constexpr int kRegionFns = 1000;

const std::vector<SmallFn>& region_fns() {
    static const std::vector<SmallFn> fns = small_functions(kRegionFns, 20261207);
    return fns;
}

npk_jit_builder* small_builder(const SmallFn& f) {
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    int32_t v[kSmallVars];
    v[0] = npk_jit_param(b, NPK_JIT_I64);
    v[1] = npk_jit_param(b, NPK_JIT_I64);
    for (int i = 2; i < kSmallVars; ++i) v[i] = npk_jit_var(b, NPK_JIT_I64);
    static constexpr int32_t kOp[] = {NPK_JIT_ADD, NPK_JIT_SUB, NPK_JIT_MUL, NPK_JIT_AND, NPK_JIT_OR,
                                      NPK_JIT_XOR, NPK_JIT_ADD, NPK_JIT_MUL, NPK_JIT_XOR, NPK_JIT_SHL};
    for (const SmallOp& o : f.ops) {
        if (o.kind >= SmallOp::add_imm) {
            npk_jit_op_imm(b, kOp[o.kind], v[o.dst], v[o.a], o.imm);
        } else {
            npk_jit_op(b, kOp[o.kind], v[o.dst], v[o.a], v[o.b]);
        }
    }
    npk_jit_ret(b, v[f.ret]);
    return b;
}

int64_t expected_region_sum() {
    int64_t s = 0;
    for (const SmallFn& f : region_fns()) s += small_eval(f, 3, -5);
    return s;
}

void region_npk(benchmark::State& state) {
    if (!x86_only(state)) return;
    const std::vector<SmallFn>& src = region_fns();
    const int64_t want = expected_region_sum();
    std::vector<void*> fns(kRegionFns);
    for (auto _ : state) {
        npk_jit_region* r = npk_jit_region_new();
        for (size_t i = 0; i < src.size(); ++i) fns[i] = npk_jit_region_add(r, small_builder(src[i]));
        if (!check(state, fns.back() != nullptr && npk_jit_region_seal(r) == 0, "region add/seal failed")) break;
        int64_t sum = 0;
        for (void* f : fns) sum += reinterpret_cast<SmallFnPtr>(f)(3, -5);
        benchmark::DoNotOptimize(sum);
        if (!check(state, npk_jit_region_free(r) == 0 && sum == want, "wrong result")) break;
    }
    state.SetItemsProcessed(state.iterations() * kRegionFns);
}

void region_asmjit(benchmark::State& state) {
    if (!x86_only(state)) return;
    const std::vector<SmallFn>& src = region_fns();
    const int64_t want = expected_region_sum();
    asmjit::JitRuntime rt;
    AsmjitClient client;
    std::vector<SmallFnPtr> fns(kRegionFns);
    for (auto _ : state) {
        bool ok = true;
        for (size_t i = 0; i < src.size(); ++i) {
            ok &= client.small(src[i], rt.environment()) && rt.add(&fns[i], &client.code()) == asmjit::kErrorOk;
        }
        if (!check(state, ok, "asmjit compile/add failed")) break;
        int64_t sum = 0;
        for (SmallFnPtr f : fns) sum += f(3, -5);
        benchmark::DoNotOptimize(sum);
        for (SmallFnPtr f : fns) rt.release(f);
        if (!check(state, sum == want, "wrong result")) break;
    }
    state.SetItemsProcessed(state.iterations() * kRegionFns);
}

// --- Brainfuck ------------------------------------------------------------

// Our own default program: three nested counting loops (40 x 250 x 250
// turns of a 4-cell body) printing 40 bytes, then 600 small loops that
// move and double cells (about 8,000 operations in all, so that compiling
// weighs as in a real program). NPK_BENCH_BF names another file
// (bench/run --bf FILE), e.g. a well-known benchmark program kept outside
// the tree.
std::string bf_default() {
    std::string src = std::string(40, '+') + "[>" + std::string(250, '+') + "[>" + std::string(250, '+') +
                      "[>+>+++>-<<<-]<-]>>>.<<<<-]";
    for (int i = 0; i < 600; ++i) src += "[-]+++[>++<-]>[<+>-]<[->>+<<]>>[-<<+>+>]<.<";
    return src;
}

const std::vector<BfOp>& bf_ops() {
    static const std::vector<BfOp> ops = [] {
        std::string src = bf_default();
        if (const char* path = std::getenv("NPK_BENCH_BF"); path != nullptr && *path != '\0') {
            std::ifstream in(path);
            std::stringstream ss;
            ss << in.rdbuf();
            src = ss.str();
        }
        return bf_parse(src);
    }();
    return ops;
}

// The builder as a front end writes it: a fresh temporary per operation.
npk_jit_builder* bf_builder(const std::vector<BfOp>& ops) {
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_VOID);
    const int32_t p = npk_jit_param(b, NPK_JIT_PTR);
    std::vector<int32_t> open;
    for (const BfOp& o : ops) {
        switch (o.kind) {
            case BfOp::add: {
                const int32_t t = npk_jit_var(b, NPK_JIT_I32);
                npk_jit_load_sized(b, t, p, 0, NPK_JIT_MEM_U8);
                npk_jit_op_imm(b, NPK_JIT_ADD, t, t, o.n);
                npk_jit_store_sized(b, p, 0, t, NPK_JIT_MEM_U8);
                break;
            }
            case BfOp::move: npk_jit_op_imm(b, NPK_JIT_ADD, p, p, o.n); break;
            case BfOp::clear: {
                const int32_t t = npk_jit_var(b, NPK_JIT_I32);
                npk_jit_const_i64(b, t, 0);
                npk_jit_store_sized(b, p, 0, t, NPK_JIT_MEM_U8);
                break;
            }
            case BfOp::open: {
                const int32_t t = npk_jit_var(b, NPK_JIT_I32), body = npk_jit_label(b), end = npk_jit_label(b);
                npk_jit_load_sized(b, t, p, 0, NPK_JIT_MEM_U8);
                npk_jit_branch_cmp_imm(b, NPK_JIT_EQ, t, 0, end);
                npk_jit_bind(b, body);
                open.push_back(body);
                open.push_back(end);
                break;
            }
            case BfOp::close: {
                const int32_t end = open.back();
                open.pop_back();
                const int32_t body = open.back();
                open.pop_back();
                const int32_t t = npk_jit_var(b, NPK_JIT_I32);
                npk_jit_load_sized(b, t, p, 0, NPK_JIT_MEM_U8);
                npk_jit_branch_cmp_imm(b, NPK_JIT_NE, t, 0, body);
                npk_jit_bind(b, end);
                break;
            }
            case BfOp::out: {
                const int32_t t = npk_jit_var(b, NPK_JIT_I32);
                npk_jit_load_sized(b, t, p, 0, NPK_JIT_MEM_U8);
                npk_jit_call_native(b, -1, reinterpret_cast<const void*>(&bench_bf_putc), NPK_JIT_VOID, 1, &t);
                break;
            }
            case BfOp::in: {
                const int32_t t = npk_jit_var(b, NPK_JIT_I32);
                npk_jit_call_native(b, t, reinterpret_cast<const void*>(&bench_bf_getc), NPK_JIT_I32, 0, nullptr);
                npk_jit_store_sized(b, p, 0, t, NPK_JIT_MEM_U8);
                break;
            }
        }
    }
    npk_jit_ret(b, -1);
    return b;
}

// Runs a compiled program on a fresh tape; its output.
std::string bf_run(BfFn f, std::vector<uint8_t>& tape) {
    BfOutput out;
    bf_set_output(&out);
    std::memset(tape.data(), 0, tape.size());
    f(tape.data() + kBfTape / 4);  // room to the left, as some programs move there
    bf_set_output(nullptr);
    return out.text;
}

// What both JITs must print: the asmjit client's output.
const std::string& bf_expected() {
    static const std::string text = [] {
        asmjit::JitRuntime rt;
        AsmjitClient client;
        BfFn f = nullptr;
        if (!client.bf(bf_ops(), rt.environment()) || rt.add(&f, &client.code()) != asmjit::kErrorOk) return std::string("?");
        std::vector<uint8_t> tape(kBfTape);
        std::string t = bf_run(f, tape);
        rt.release(f);
        return t;
    }();
    return text;
}

void bf_compile_npk(benchmark::State& state) {
    if (!x86_only(state) || !check(state, !bf_ops().empty(), "no Brainfuck program")) return;
    for (auto _ : state) {
        void* f = npk_jit_build(bf_builder(bf_ops()));
        if (!check(state, f != nullptr && npk_wildx_free(f) == 0, "npk_jit_build failed")) break;
    }
    state.counters["bf_ops"] = static_cast<double>(bf_ops().size());
}

void bf_compile_asmjit(benchmark::State& state) {
    if (!x86_only(state) || !check(state, !bf_ops().empty(), "no Brainfuck program")) return;
    asmjit::JitRuntime rt;
    AsmjitClient client;
    for (auto _ : state) {
        BfFn f = nullptr;
        if (!check(state, client.bf(bf_ops(), rt.environment()) && rt.add(&f, &client.code()) == asmjit::kErrorOk,
                   "asmjit compile/add failed")) {
            break;
        }
        rt.release(f);
    }
    state.counters["bf_ops"] = static_cast<double>(bf_ops().size());
}

void bf_run_npk(benchmark::State& state) {
    if (!x86_only(state)) return;
    void* f = npk_jit_build(bf_builder(bf_ops()));
    if (!check(state, f != nullptr, "npk_jit_build failed")) return;
    std::vector<uint8_t> tape(kBfTape);
    if (check(state, bf_run(reinterpret_cast<BfFn>(f), tape) == bf_expected(), "output differs from asmjit's")) {
        for (auto _ : state) benchmark::DoNotOptimize(bf_run(reinterpret_cast<BfFn>(f), tape).size());
    }
    npk_wildx_free(f);
}

void bf_run_asmjit(benchmark::State& state) {
    if (!x86_only(state)) return;
    asmjit::JitRuntime rt;
    AsmjitClient client;
    BfFn f = nullptr;
    if (!check(state, client.bf(bf_ops(), rt.environment()) && rt.add(&f, &client.code()) == asmjit::kErrorOk,
               "asmjit compile/add failed")) {
        return;
    }
    std::vector<uint8_t> tape(kBfTape);
    for (auto _ : state) benchmark::DoNotOptimize(bf_run(f, tape).size());
    rt.release(f);
}

// --- scale: one build with 100,000 labels, or 100,000 live variables -------

constexpr int kScale = 100000;

// Forward branches over each of 100,000 steps, inside one loop.
npk_jit_builder* many_labels() {
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t x = npk_jit_param(b, NPK_JIT_I64), acc = npk_jit_var(b, NPK_JIT_I64), k = npk_jit_var(b, NPK_JIT_I64);
    const int32_t top = npk_jit_label(b);
    npk_jit_const_i64(b, k, 2);
    npk_jit_bind(b, top);
    for (int i = 1; i < kScale; ++i) {
        const int32_t skip = npk_jit_label(b);
        npk_jit_branch_cmp_imm(b, NPK_JIT_EQ, x, i, skip);
        npk_jit_op_imm(b, NPK_JIT_ADD, acc, acc, 1);
        npk_jit_bind(b, skip);
    }
    npk_jit_op_imm(b, NPK_JIT_SUB, k, k, 1);
    npk_jit_branch_cmp_imm(b, NPK_JIT_GT, k, 0, top);
    npk_jit_ret(b, acc);
    return b;
}

// v_i = x + i for every i, then their sum: all 100,000 live at once.
npk_jit_builder* many_vars() {
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t x = npk_jit_param(b, NPK_JIT_I64), s = npk_jit_var(b, NPK_JIT_I64);
    std::vector<int32_t> v(kScale);
    for (int i = 0; i < kScale; ++i) {
        v[static_cast<size_t>(i)] = npk_jit_var(b, NPK_JIT_I64);
        npk_jit_op_imm(b, NPK_JIT_ADD, v[static_cast<size_t>(i)], x, i);
    }
    for (int32_t vi : v) npk_jit_op(b, NPK_JIT_ADD, s, s, vi);
    npk_jit_ret(b, s);
    return b;
}

void scale_labels(benchmark::State& state) {
    for (auto _ : state) {
        void* f = npk_jit_build(many_labels());
        const bool ok = f != nullptr && reinterpret_cast<int64_t (*)(int64_t)>(f)(5) == 2 * (kScale - 2);
        if (!check(state, ok && npk_wildx_free(f) == 0, "build or result failed")) break;
    }
}

void scale_vars(benchmark::State& state) {
    const int64_t want = int64_t{kScale} * 3 + int64_t{kScale} * (kScale - 1) / 2;
    for (auto _ : state) {
        void* f = npk_jit_build(many_vars());
        const bool ok = f != nullptr && reinterpret_cast<int64_t (*)(int64_t)>(f)(3) == want;
        if (!check(state, ok && npk_wildx_free(f) == 0, "build or result failed")) break;
    }
}

}  // namespace

BENCHMARK(region_asmjit)->Name("codegen/region/asmjit_jitruntime_1000")->Unit(benchmark::kMicrosecond);
BENCHMARK(region_npk)->Name("codegen/region/npk_1000")->Unit(benchmark::kMicrosecond);
BENCHMARK(bf_compile_asmjit)->Name("codegen/bf/asmjit_compile")->Unit(benchmark::kMicrosecond);
BENCHMARK(bf_compile_npk)->Name("codegen/bf/npk_compile")->Unit(benchmark::kMicrosecond);
BENCHMARK(bf_run_asmjit)->Name("codegen/bf/asmjit_run")->Unit(benchmark::kMillisecond);
BENCHMARK(bf_run_npk)->Name("codegen/bf/npk_run")->Unit(benchmark::kMillisecond);
BENCHMARK(scale_labels)->Name("codegen/scale/labels_100000")->Unit(benchmark::kMillisecond);
BENCHMARK(scale_vars)->Name("codegen/scale/vars_100000")->Unit(benchmark::kMillisecond);
