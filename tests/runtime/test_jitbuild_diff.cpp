// Differential test: random functions (random parameters, straight-line
// code, forward branches, bounded loops, loads and stores) built through
// the C ABI and run both as machine code and by an independent reference
// interpreter of the same program, written from npk/jitbuild.h's text.
//
// NPK_DIFF_SEED and NPK_DIFF_COUNT (environment) replay or widen a run.
#include "jitbuild_support.h"

#include <cstdlib>
#include <random>
#include <sstream>
#include <vector>

using namespace npk::test;

namespace {

// The test's own record of a program: what it asked the builder for.
struct Op {
    enum Kind { konst, konst_f, mov, bin, neg, not_, conv, load, store, bind, jump, branch, ret } k;
    int op = 0, dst = -1, a = -1, b = -1;
    int64_t imm = 0;
    double f = 0;
};

struct Prog {
    int ret = NPK_JIT_I64;
    std::vector<int> types;   // per variable
    std::vector<int> params;  // variables, in call order; params[0] is the ptr to the scratch buffer
    std::vector<Op> ops;
    int labels = 0;
};

constexpr int kBuf = 64;  // scratch bytes every function may load and store

std::string dump(const Prog& p) {
    std::ostringstream o;
    o << "ret " << p.ret << " params";
    for (int v : p.params) o << " v" << v << ":" << p.types[static_cast<size_t>(v)];
    o << "\n";
    for (const Op& x : p.ops) {
        o << "  k" << x.k << " op" << x.op << " d" << x.dst << " a" << x.a << " b" << x.b << " imm" << x.imm
          << " f" << x.f << "\n";
    }
    return o.str();
}

class Gen {
public:
    explicit Gen(uint64_t seed) : rng_(seed) {}

    Prog make() {
        Prog p;
        p_ = &p;
        static constexpr int kRet[] = {NPK_JIT_I32, NPK_JIT_I64, NPK_JIT_F64};
        p.ret = kRet[pick(3)];
        add_var(NPK_JIT_PTR);
        p.params.push_back(0);
        const int np = pick(5);
        for (int i = 0; i < np; ++i) p.params.push_back(add_var(kRet[pick(3)]));
        for (int t : {NPK_JIT_I32, NPK_JIT_I64, NPK_JIT_F64}) {
            const int n = 2 + pick(3);
            for (int i = 0; i < n; ++i) add_var(t);
        }
        general_ = static_cast<int>(p.types.size());  // loop variables come after: random ops never touch them
        block(0, 6 + pick(14));
        p.ops.push_back({Op::ret, 0, -1, any_of(p.ret)});
        return p;
    }

private:
    std::mt19937_64 rng_;
    Prog* p_ = nullptr;
    int general_ = 0;

    int pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
    int add_var(int t) {
        p_->types.push_back(t);
        return static_cast<int>(p_->types.size()) - 1;
    }
    // A random general variable (not the buffer pointer) of type t.
    int any_of(int t) {
        std::vector<int> c;
        for (int v = 1; v < general_; ++v) {
            if (p_->types[static_cast<size_t>(v)] == t) c.push_back(v);
        }
        return c[static_cast<size_t>(pick(static_cast<int>(c.size())))];
    }
    int int_type() { return pick(2) ? NPK_JIT_I32 : NPK_JIT_I64; }
    int64_t interesting() {
        static constexpr int64_t kVals[] = {0, 1, -1, 2, 31, 32, 63, 64, INT32_MIN, INT32_MAX, INT64_MIN, INT64_MAX};
        return pick(3) ? kVals[pick(12)] : static_cast<int64_t>(rng_()) >> pick(64);
    }
    double interesting_f() {
        static constexpr double kVals[] = {0.0, -0.0, 1.0, -1.5, 1e300, 3e9, -9.3e18, 0.1};
        const int c = pick(10);
        if (c < 8) return kVals[c];
        if (c == 8) return std::numeric_limits<double>::infinity();
        return static_cast<double>(static_cast<int64_t>(rng_()) >> pick(64)) / 7.0;
    }

    void straight(int n) {
        for (int i = 0; i < n; ++i) one();
    }

    void one() {
        Prog& p = *p_;
        switch (pick(12)) {
            case 0: {
                const int t = int_type();
                p.ops.push_back({Op::konst, 0, any_of(t), -1, -1, interesting()});
                break;
            }
            case 1: p.ops.push_back({Op::konst_f, 0, any_of(NPK_JIT_F64), -1, -1, 0, interesting_f()}); break;
            case 2: {
                const int t = pick(3) ? int_type() : NPK_JIT_F64;
                p.ops.push_back({Op::mov, 0, any_of(t), any_of(t)});
                break;
            }
            case 3:
            case 4:
            case 5: {
                const int t = int_type();
                const int op = 1 + pick(21);
                p.ops.push_back({Op::bin, op, any_of(op >= NPK_JIT_EQ ? NPK_JIT_I32 : t), any_of(t), any_of(t)});
                break;
            }
            case 6: {
                static constexpr int kF[] = {NPK_JIT_ADD, NPK_JIT_SUB, NPK_JIT_MUL, NPK_JIT_DIV, NPK_JIT_EQ,
                                             NPK_JIT_NE,  NPK_JIT_LT,  NPK_JIT_LE,  NPK_JIT_GT,  NPK_JIT_GE};
                const int op = kF[pick(10)];
                const int d = any_of(op >= NPK_JIT_EQ ? NPK_JIT_I32 : NPK_JIT_F64);
                p.ops.push_back({Op::bin, op, d, any_of(NPK_JIT_F64), any_of(NPK_JIT_F64)});
                break;
            }
            case 7: {
                const int t = pick(3) ? int_type() : NPK_JIT_F64;
                p.ops.push_back({Op::neg, 0, any_of(t), any_of(t)});
                break;
            }
            case 8: {
                const int t = int_type();
                p.ops.push_back({Op::not_, 0, any_of(t), any_of(t)});
                break;
            }
            case 9: {
                static constexpr int kT[] = {NPK_JIT_I32, NPK_JIT_I64, NPK_JIT_F64};
                p.ops.push_back({Op::conv, 0, any_of(kT[pick(3)]), any_of(kT[pick(3)])});
                break;
            }
            case 10:
            case 11: {
                static constexpr int kT[] = {NPK_JIT_I32, NPK_JIT_I64, NPK_JIT_F64};
                const int t = kT[pick(3)];
                const int64_t off = t == NPK_JIT_I32 ? 4 * pick(kBuf / 4) : 8 * pick(kBuf / 8);
                if (pick(2)) {
                    p.ops.push_back({Op::load, 0, any_of(t), 0, -1, off});
                } else {
                    p.ops.push_back({Op::store, 0, -1, 0, any_of(t), off});
                }
                break;
            }
        }
    }

    // Straight code with forward branches, early returns and bounded loops.
    void block(int depth, int n) {
        Prog& p = *p_;
        for (int i = 0; i < n; ++i) {
            const int c = pick(10);
            if (c == 0 && depth < 3) {  // if (cond) skip { ... }
                const int l = p.labels++;
                if (pick(2)) {
                    p.ops.push_back({Op::branch, 0, -1, l, any_of(NPK_JIT_I32)});
                } else {  // a comparison only the branch reads: the lowerings fuse the two
                    const int t = pick(3) == 0 ? NPK_JIT_F64 : int_type();
                    const int op = NPK_JIT_EQ + pick(t == NPK_JIT_F64 ? 6 : 10);
                    const int cv = add_var(NPK_JIT_I32);
                    p.ops.push_back({Op::bin, op, cv, any_of(t), any_of(t)});
                    p.ops.push_back({Op::branch, 0, -1, l, cv});
                }
                block(depth + 1, 1 + pick(4));
                if (pick(4) == 0) p.ops.push_back({Op::ret, 0, -1, any_of(p.ret)});
                p.ops.push_back({Op::bind, 0, -1, l});
            } else if (c == 1 && depth < 2) {  // k = 1..4; loop: z = k == 1; k -= 1; if (z) break; { ... }
                const int k = add_var(NPK_JIT_I32), one_v = add_var(NPK_JIT_I32), z = add_var(NPK_JIT_I32);
                const int top = p.labels++, end = p.labels++;
                p.ops.push_back({Op::konst, 0, k, -1, -1, 1 + pick(4)});
                p.ops.push_back({Op::konst, 0, one_v, -1, -1, 1});
                p.ops.push_back({Op::bind, 0, -1, top});
                p.ops.push_back({Op::bin, NPK_JIT_EQ, z, k, one_v});
                p.ops.push_back({Op::bin, NPK_JIT_SUB, k, k, one_v});
                p.ops.push_back({Op::branch, 0, -1, end, z});
                block(depth + 1, 1 + pick(5));
                p.ops.push_back({Op::jump, 0, -1, top});
                p.ops.push_back({Op::bind, 0, -1, end});
            } else {
                straight(1);
            }
        }
    }
};

// --- the reference interpreter ---------------------------------------

struct Slot {
    int64_t i = 0;  // I32 (sign-extended), I64, PTR
    double f = 0;
};

int64_t as_type(int t, int64_t v) { return t == NPK_JIT_I32 ? static_cast<int32_t>(static_cast<uint64_t>(v)) : v; }

Slot interpret(const Prog& p, const std::vector<Slot>& args, unsigned char* buf) {
    std::vector<Slot> v(p.types.size());
    for (size_t i = 0; i < p.params.size(); ++i) v[static_cast<size_t>(p.params[i])] = args[i];
    std::vector<size_t> at(static_cast<size_t>(p.labels), 0);
    for (size_t i = 0; i < p.ops.size(); ++i) {
        if (p.ops[i].k == Op::bind) at[static_cast<size_t>(p.ops[i].a)] = i;
    }
    auto T = [&](int var) { return p.types[static_cast<size_t>(var)]; };
    auto S = [&](int var) -> Slot& { return v[static_cast<size_t>(var)]; };
    size_t steps = 0;
    for (size_t pc = 0; pc < p.ops.size(); ++pc) {
        if (++steps > 1000000) FAIL("the program does not stop");
        const Op& o = p.ops[pc];
        switch (o.k) {
            case Op::konst: S(o.dst).i = as_type(T(o.dst), o.imm); break;
            case Op::konst_f: S(o.dst).f = o.f; break;
            case Op::mov: S(o.dst) = S(o.a); break;
            case Op::bin:
                if (T(o.a) == NPK_JIT_F64) {
                    const double r = ref_f64_op(o.op, S(o.a).f, S(o.b).f);
                    if (is_compare_op(o.op)) {
                        S(o.dst).i = static_cast<int64_t>(r);
                    } else {
                        S(o.dst).f = r;
                    }
                } else if (T(o.a) == NPK_JIT_I32) {
                    S(o.dst).i = ref_int_op<int32_t>(o.op, static_cast<int32_t>(S(o.a).i), static_cast<int32_t>(S(o.b).i));
                } else {
                    S(o.dst).i = as_type(T(o.dst), ref_int_op<int64_t>(o.op, S(o.a).i, S(o.b).i));
                }
                break;
            case Op::neg:
                if (T(o.a) == NPK_JIT_F64) {
                    S(o.dst).f = -S(o.a).f;
                } else {
                    S(o.dst).i = as_type(T(o.a), static_cast<int64_t>(0ull - static_cast<uint64_t>(S(o.a).i)));
                }
                break;
            case Op::not_: S(o.dst).i = ~S(o.a).i; break;
            case Op::conv: {
                const int td = T(o.dst), ts = T(o.a);
                if (td == NPK_JIT_F64 && ts == NPK_JIT_F64) {
                    S(o.dst).f = S(o.a).f;
                } else if (td == NPK_JIT_F64) {
                    S(o.dst).f = static_cast<double>(S(o.a).i);
                } else if (ts == NPK_JIT_F64) {
                    S(o.dst).i = td == NPK_JIT_I32 ? ref_f64_to_int<int32_t>(S(o.a).f) : ref_f64_to_int<int64_t>(S(o.a).f);
                } else {
                    S(o.dst).i = as_type(td, S(o.a).i);
                }
                break;
            }
            case Op::load: {
                const int t = T(o.dst);
                if (t == NPK_JIT_F64) {
                    std::memcpy(&S(o.dst).f, buf + o.imm, 8);
                } else if (t == NPK_JIT_I32) {
                    int32_t x;
                    std::memcpy(&x, buf + o.imm, 4);
                    S(o.dst).i = x;
                } else {
                    std::memcpy(&S(o.dst).i, buf + o.imm, 8);
                }
                break;
            }
            case Op::store: {
                const int t = T(o.b);
                if (t == NPK_JIT_F64) {
                    std::memcpy(buf + o.imm, &S(o.b).f, 8);
                } else if (t == NPK_JIT_I32) {
                    const auto x = static_cast<int32_t>(S(o.b).i);
                    std::memcpy(buf + o.imm, &x, 4);
                } else {
                    std::memcpy(buf + o.imm, &S(o.b).i, 8);
                }
                break;
            }
            case Op::bind: break;
            case Op::jump: pc = at[static_cast<size_t>(o.a)]; break;
            case Op::branch:
                if (S(o.b).i != 0) pc = at[static_cast<size_t>(o.a)];
                break;
            case Op::ret: return S(o.a);
        }
    }
    FAIL("the program ran off its end");
    return {};
}

// --- the same program through the C ABI --------------------------------

npk_jit_builder* to_builder(const Prog& p) {
    npk_jit_builder* b = npk_jit_builder_new(p.ret);
    // Variables in order: params first as the generator made them (var 0 and the params are 0..n).
    for (size_t v = 0; v < p.types.size(); ++v) {
        const bool is_param = v < p.params.size();
        const int32_t id = is_param ? npk_jit_param(b, p.types[v]) : npk_jit_var(b, p.types[v]);
        REQUIRE(id == static_cast<int32_t>(v));
    }
    for (int l = 0; l < p.labels; ++l) REQUIRE(npk_jit_label(b) == l);
    for (const Op& o : p.ops) {
        int32_t rc = -1;
        switch (o.k) {
            case Op::konst: rc = npk_jit_const_i64(b, o.dst, o.imm); break;
            case Op::konst_f: rc = npk_jit_const_f64(b, o.dst, o.f); break;
            case Op::mov: rc = npk_jit_mov(b, o.dst, o.a); break;
            case Op::bin: rc = npk_jit_op(b, o.op, o.dst, o.a, o.b); break;
            case Op::neg: rc = npk_jit_neg(b, o.dst, o.a); break;
            case Op::not_: rc = npk_jit_not(b, o.dst, o.a); break;
            case Op::conv: rc = npk_jit_convert(b, o.dst, o.a); break;
            case Op::load: rc = npk_jit_load(b, o.dst, o.a, static_cast<int32_t>(o.imm)); break;
            case Op::store: rc = npk_jit_store(b, o.a, static_cast<int32_t>(o.imm), o.b); break;
            case Op::bind: rc = npk_jit_bind(b, o.a); break;
            case Op::jump: rc = npk_jit_jump(b, o.a); break;
            case Op::branch: rc = npk_jit_branch_if(b, o.b, o.a); break;
            case Op::ret: rc = npk_jit_ret(b, o.a); break;
        }
        REQUIRE(rc == 0);
    }
    return b;
}

uint64_t env_u64(const char* name, uint64_t dflt) {
    const char* s = std::getenv(name);
    return s != nullptr && *s != '\0' ? std::strtoull(s, nullptr, 0) : dflt;
}

}  // namespace

TEST_CASE("differential: random functions agree with the reference interpreter", "[jitbuild][differential]") {
    const uint64_t seed = env_u64("NPK_DIFF_SEED", 20261126);
    const uint64_t count = env_u64("NPK_DIFF_COUNT", 10000);
    constexpr size_t kPerRegion = 100;
    std::printf("differential: seed %llu, %llu functions\n", static_cast<unsigned long long>(seed),
                static_cast<unsigned long long>(count));
    Gen gen(seed);
    std::mt19937_64 arg_rng(seed ^ 0x9E3779B97F4A7C15ULL);
    StatsWatch w;
    uint64_t done = 0;
    while (done < count) {
        // Most functions go into regions; every batch also builds one on its own page.
        std::vector<Prog> progs;
        std::vector<void*> fns;
        npk_jit_region* r = npk_jit_region_new();
        REQUIRE(r != nullptr);
        const size_t n = static_cast<size_t>(std::min<uint64_t>(kPerRegion, count - done));
        for (size_t i = 0; i < n; ++i) {
            progs.push_back(gen.make());
            void* fn = i == 0 ? npk_jit_build(to_builder(progs.back())) : npk_jit_region_add(r, to_builder(progs.back()));
            INFO(dump(progs.back()));
            REQUIRE(fn != nullptr);
            fns.push_back(fn);
        }
        REQUIRE(npk_jit_region_seal(r) == 0);
        for (size_t i = 0; i < n; ++i) {
            const Prog& p = progs[i];
            for (int trial = 0; trial < 3; ++trial) {
                alignas(16) unsigned char mem_jit[kBuf], mem_ref[kBuf];
                for (unsigned char& c : mem_jit) c = static_cast<unsigned char>(arg_rng());
                std::memcpy(mem_ref, mem_jit, kBuf);
                std::vector<Slot> ref_args(p.params.size());
                std::vector<npk_jit_value> args(p.params.size());
                args[0].type = NPK_JIT_PTR;
                args[0].ptr = mem_jit;
                for (size_t k = 1; k < p.params.size(); ++k) {
                    const int t = p.types[static_cast<size_t>(p.params[k])];
                    args[k].type = t;
                    const int64_t raw = static_cast<int64_t>(arg_rng()) >> (arg_rng() % 64);
                    if (t == NPK_JIT_F64) {
                        args[k].f64 = ref_args[k].f = static_cast<double>(raw) / 3.0;
                    } else if (t == NPK_JIT_I32) {
                        args[k].i32 = static_cast<int32_t>(raw);
                        ref_args[k].i = args[k].i32;
                    } else {
                        args[k].i64 = ref_args[k].i = raw;
                    }
                }
                npk_jit_value got{};
                REQUIRE(npk_jit_invoke(fns[i], args.data(), static_cast<int32_t>(args.size()), &got) == 0);
                const Slot want = interpret(p, ref_args, mem_ref);
                INFO("function " << done + i << " trial " << trial << "\n" << dump(p));
                if (p.ret == NPK_JIT_F64) {
                    REQUIRE(same_f64(got.f64, want.f));
                } else if (p.ret == NPK_JIT_I32) {
                    REQUIRE(got.i32 == static_cast<int32_t>(want.i));
                } else {
                    REQUIRE(got.i64 == want.i);
                }
                for (int off = 0; off < kBuf; off += 8) {
                    double a, b;
                    std::memcpy(&a, mem_jit + off, 8);
                    std::memcpy(&b, mem_ref + off, 8);
                    INFO("scratch offset " << off);
                    REQUIRE((std::memcmp(mem_jit + off, mem_ref + off, 8) == 0 || (std::isnan(a) && std::isnan(b))));
                }
            }
        }
        REQUIRE(npk_jit_region_free(r) == 0);
        REQUIRE(npk_wildx_free(fns[0]) == 0);
        done += n;
    }
    CHECK(done >= 10000);
    CHECK(w.delta().live_pages == 0);
}
