// Differential test: random functions (random parameters, straight-line
// code, forward branches, fused compare-and-branch, switches, bounded
// loops, loads and stores of every width, indexed, through pointers made
// by pointer arithmetic, immediates, indirect calls) built through
// the C ABI and run both as machine code and by an independent reference
// interpreter of the same program, written from npk/jitbuild.h's text.
//
// NPK_DIFF_SEED and NPK_DIFF_COUNT (environment) replay or widen a run.
#include "jitbuild_random.h"
#include "jitbuild_support.h"

#include <cstdlib>
#include <random>
#include <sstream>
#include <vector>

using namespace npk::test;

namespace {

// The test's own record of a program: what it asked the builder for.
struct Op {
    enum Kind { konst, konst_f, mov, bin, neg, not_, conv, load, store, bind, jump, branch, ret,
                binimm, bcmp, bcmp_imm, sw, calli } k;
    int op = 0, dst = -1, a = -1, b = -1;  // bcmp: a op c; bcmp(_imm), sw: the label (default) in b
    int64_t imm = 0;
    double f = 0;
    int mem = 0, c = -1, scale = 1;  // load / store: NPK_JIT_MEM_* (0: own type), index var, scale
    std::vector<int> list = {};      // sw: the case labels; calli: the arguments
};

// What call_indirect calls in the generated functions.
extern "C" int64_t diff_callee(int64_t a, int32_t b) {
    return static_cast<int64_t>(static_cast<uint64_t>(a) * 3 - static_cast<uint64_t>(int64_t{b}));  // wraps
}

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
          << " f" << x.f << " mem" << x.mem << " c" << x.c << " s" << x.scale << " [";
        for (int l : x.list) o << " " << l;
        o << " ]\n";
    }
    return o.str();
}

class Gen : RandomChoices {
public:
    explicit Gen(uint64_t seed) : RandomChoices(seed) {}

    Prog make() {
        Prog p;
        p_ = &p;
        types_ = &p.types;
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
    Prog* p_ = nullptr;

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
        switch (pick(18)) {
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
            case 12:
            case 13: {  // an immediate operand
                const int t = int_type();
                const int op = 1 + pick(21);
                int64_t imm = interesting();
                if (t == NPK_JIT_I32) imm = pick(2) ? static_cast<int32_t>(imm) : static_cast<int64_t>(static_cast<uint32_t>(imm));
                p.ops.push_back({Op::binimm, op, any_of(op >= NPK_JIT_EQ ? NPK_JIT_I32 : t), any_of(t), -1, imm});
                break;
            }
            case 14: sized(); break;
            case 15: indexed(); break;
            case 16: pointer(); break;
            case 17: {  // call_indirect of diff_callee through a PTR variable
                const int fp = add_var(NPK_JIT_PTR);
                p.ops.push_back({Op::konst, 0, fp, -1, -1, static_cast<int64_t>(reinterpret_cast<uintptr_t>(&diff_callee))});
                Op o{Op::calli, 0, pick(4) ? any_of(NPK_JIT_I64) : -1, fp};
                o.list = {any_of(NPK_JIT_I64), any_of(NPK_JIT_I32)};
                p.ops.push_back(o);
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

    // A load or store of a random width at any offset (any alignment).
    void sized() {
        const int t = int_type();
        int mem = 1 + pick(7);
        if (t == NPK_JIT_I32 && mem == NPK_JIT_MEM_64) mem = NPK_JIT_MEM_U32;
        const int w = mem == NPK_JIT_MEM_64 ? 8 : 1 << ((mem - 1) / 2);
        Op o{pick(2) ? Op::load : Op::store, 0, -1, 0, -1, pick(kBuf - w + 1)};
        o.mem = mem;
        (o.k == Op::load ? o.dst : o.b) = any_of(t);
        p_->ops.push_back(o);
    }

    // base + index * scale + offset, the index a fresh I32 or I64 set just
    // before (negative too), the address inside the scratch buffer.
    void indexed() {
        static constexpr int kT[] = {NPK_JIT_I32, NPK_JIT_I64, NPK_JIT_F64};
        const int t = kT[pick(3)];
        int mem = 0;
        if (t != NPK_JIT_F64 && pick(2)) mem = 1 + pick(t == NPK_JIT_I32 ? 6 : 7);
        const int w = mem == 0 ? (t == NPK_JIT_I32 ? 4 : 8) : mem == NPK_JIT_MEM_64 ? 8 : 1 << ((mem - 1) / 2);
        const int scale = 1 << pick(4);
        const int k = pick(9) - 4;
        const int idx = add_var(int_type());
        p_->ops.push_back({Op::konst, 0, idx, -1, -1, k});
        Op o{pick(2) ? Op::load : Op::store, 0, -1, 0, -1, pick(kBuf - w + 1) - k * scale};
        o.mem = mem;
        o.c = idx;
        o.scale = scale;
        (o.k == Op::load ? o.dst : o.b) = any_of(t);
        p_->ops.push_back(o);
    }

    // q = buf + k (or k + buf, or buf - (-k)); q += imm; an I64 access
    // through q; the distance q - buf into a general I64.
    void pointer() {
        Prog& p = *p_;
        const int q = add_var(NPK_JIT_PTR), k = add_var(int_type());
        const int pos = pick(kBuf - 16);
        const int how = pick(3);
        p.ops.push_back({Op::konst, 0, k, -1, -1, how == 2 ? -pos : pos});
        if (how == 0) p.ops.push_back({Op::bin, NPK_JIT_ADD, q, 0, k});
        if (how == 1) p.ops.push_back({Op::bin, NPK_JIT_ADD, q, k, 0});
        if (how == 2) p.ops.push_back({Op::bin, NPK_JIT_SUB, q, 0, k});
        p.ops.push_back({Op::binimm, NPK_JIT_ADD, q, q, -1, pick(9)});
        if (pick(2)) {
            p.ops.push_back({Op::load, 0, any_of(NPK_JIT_I64), q, -1, 0});
        } else {
            p.ops.push_back({Op::store, 0, -1, q, any_of(NPK_JIT_I64), 0});
        }
        p.ops.push_back({Op::bin, NPK_JIT_SUB, any_of(NPK_JIT_I64), q, 0});
    }

    // switch (v) { case i: ...; jump end } default: ...; end:
    void switch_block(int depth) {
        Prog& p = *p_;
        const int t = int_type();
        const int v = any_of(t);
        if (pick(2)) p.ops.push_back({Op::konst, 0, v, -1, -1, pick(6) - 1});
        const int cases = 1 + pick(4);
        const int first = p.labels;
        p.labels += cases;
        const int dflt = p.labels++, end = p.labels++;
        Op o{Op::sw, 0, -1, v, dflt};
        const int n = pick(6);
        for (int i = 0; i < n; ++i) o.list.push_back(first + pick(cases));
        p.ops.push_back(o);
        for (int i = 0; i < cases; ++i) {
            p.ops.push_back({Op::bind, 0, -1, first + i});
            block(depth + 1, 1 + pick(3));
            p.ops.push_back({Op::jump, 0, -1, end});
        }
        p.ops.push_back({Op::bind, 0, -1, dflt});
        block(depth + 1, 1 + pick(3));
        p.ops.push_back({Op::bind, 0, -1, end});
    }

    // Straight code with forward branches, early returns and bounded loops.
    void block(int depth, int n) {
        Prog& p = *p_;
        for (int i = 0; i < n; ++i) {
            const int c = pick(10);
            if (c == 0 && depth < 3) {  // if (cond) skip { ... }
                const int l = p.labels++;
                const int how = pick(4);
                if (how == 0) {
                    p.ops.push_back({Op::branch, 0, -1, l, any_of(NPK_JIT_I32)});
                } else if (how == 1) {  // branch_cmp, branch_cmp_imm
                    const int t = pick(3) == 0 ? NPK_JIT_F64 : int_type();
                    const int op = NPK_JIT_EQ + pick(t == NPK_JIT_F64 ? 6 : 10);
                    if (t != NPK_JIT_F64 && pick(2)) {
                        int64_t imm = interesting();
                        if (t == NPK_JIT_I32) imm = static_cast<int32_t>(imm);
                        p.ops.push_back({Op::bcmp_imm, op, -1, any_of(t), l, imm});
                    } else {
                        p.ops.push_back({Op::bcmp, op, -1, any_of(t), l, 0, 0, 0, any_of(t)});
                    }
                } else if (how == 2) {  // a comparison read again after its branch
                    const int t = int_type();
                    const int op = NPK_JIT_EQ + pick(10);
                    const int cv = any_of(NPK_JIT_I32);
                    p.ops.push_back({Op::bin, op, cv, any_of(t), any_of(t)});
                    p.ops.push_back({Op::branch, 0, -1, l, cv});
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
            } else if (c == 2 && depth < 3) {
                switch_block(depth);
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

// An integer operation on two values of type t (the result as the
// interpreter keeps it: I32 sign-extended, comparisons 0 / 1).
int64_t int_op(int t, int td, int op, int64_t a, int64_t b) {
    if (t == NPK_JIT_I32) return ref_int_op<int32_t>(op, static_cast<int32_t>(a), static_cast<int32_t>(b));
    return as_type(td, ref_int_op<int64_t>(op, a, b));
}

// The bytes a load or store of `mem` (0: the type's own) moves.
int width(int mem, int t) {
    if (mem == 0) return t == NPK_JIT_I32 ? 4 : 8;
    return mem_bytes(mem);
}

// mem's value (0: the type's own width) read at `at`, as the interpreter
// keeps a variable of type t.
int64_t load_int(const unsigned char* at, int mem, int t) {
    if (mem == 0) mem = t == NPK_JIT_I32 ? NPK_JIT_MEM_I32 : NPK_JIT_MEM_64;
    return as_type(t, load_extended(at, mem));
}

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
                if (T(o.a) != T(o.b)) {  // pointer arithmetic: the I32 side sign-extended
                    const auto x = static_cast<uint64_t>(S(o.a).i), y = static_cast<uint64_t>(S(o.b).i);
                    S(o.dst).i = static_cast<int64_t>(o.op == NPK_JIT_ADD ? x + y : x - y);
                } else if (T(o.a) == NPK_JIT_F64) {
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
            case Op::load:
            case Op::store: {
                const int value = o.k == Op::load ? o.dst : o.b;
                const int t = T(value);
                const int64_t index = o.c >= 0 ? S(o.c).i : 0;
                const int64_t addr = S(o.a).i + index * o.scale + o.imm;
                unsigned char* where = reinterpret_cast<unsigned char*>(static_cast<uintptr_t>(addr));
                const int w = width(o.mem, t);
                if (where < buf || where + w > buf + kBuf) FAIL("access outside the scratch buffer");
                if (o.k == Op::load && t == NPK_JIT_F64) {
                    std::memcpy(&S(value).f, where, 8);
                } else if (o.k == Op::load) {
                    S(value).i = load_int(where, o.mem, t);
                } else if (t == NPK_JIT_F64) {
                    std::memcpy(where, &S(value).f, 8);
                } else {
                    std::memcpy(where, &S(value).i, static_cast<size_t>(w));  // the low bytes
                }
                break;
            }
            case Op::binimm: S(o.dst).i = int_op(T(o.a), T(o.dst), o.op, S(o.a).i, o.imm); break;
            case Op::bcmp: {
                const bool yes = T(o.a) == NPK_JIT_F64 ? ref_f64_op(o.op, S(o.a).f, S(o.c).f) != 0
                                                       : int_op(T(o.a), NPK_JIT_I32, o.op, S(o.a).i, S(o.c).i) != 0;
                if (yes) pc = at[static_cast<size_t>(o.b)];
                break;
            }
            case Op::bcmp_imm:
                if (int_op(T(o.a), NPK_JIT_I32, o.op, S(o.a).i, o.imm) != 0) pc = at[static_cast<size_t>(o.b)];
                break;
            case Op::sw: {
                const int64_t x = S(o.a).i;
                const bool in = x >= 0 && x < static_cast<int64_t>(o.list.size());
                pc = at[static_cast<size_t>(in ? o.list[static_cast<size_t>(x)] : o.b)];
                break;
            }
            case Op::calli: {
                const int64_t r = diff_callee(S(o.list[0]).i, static_cast<int32_t>(S(o.list[1]).i));
                if (o.dst >= 0) S(o.dst).i = r;
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

// Each access through the call that fits it: plain, sized, indexed.
int32_t load(npk_jit_builder* b, const Op& o) {
    const auto off = static_cast<int32_t>(o.imm);
    if (o.c >= 0) return npk_jit_load_indexed(b, o.dst, o.a, o.c, o.scale, off, o.mem);
    if (o.mem != 0) return npk_jit_load_sized(b, o.dst, o.a, off, o.mem);
    return npk_jit_load(b, o.dst, o.a, off);
}

int32_t store(npk_jit_builder* b, const Op& o) {
    const auto off = static_cast<int32_t>(o.imm);
    if (o.c >= 0) return npk_jit_store_indexed(b, o.a, o.c, o.scale, off, o.b, o.mem);
    if (o.mem != 0) return npk_jit_store_sized(b, o.a, off, o.b, o.mem);
    return npk_jit_store(b, o.a, off, o.b);
}

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
            case Op::load: rc = load(b, o); break;
            case Op::store: rc = store(b, o); break;
            case Op::binimm: rc = npk_jit_op_imm(b, o.op, o.dst, o.a, o.imm); break;
            case Op::bcmp: rc = npk_jit_branch_cmp(b, o.op, o.a, o.c, o.b); break;
            case Op::bcmp_imm: rc = npk_jit_branch_cmp_imm(b, o.op, o.a, o.imm, o.b); break;
            case Op::sw: rc = npk_jit_switch(b, o.a, static_cast<int32_t>(o.list.size()), o.list.data(), o.b); break;
            case Op::calli: rc = npk_jit_call_indirect(b, o.dst, o.a, NPK_JIT_I64, 2, o.list.data()); break;
            case Op::bind: rc = npk_jit_bind(b, o.a); break;
            case Op::jump: rc = npk_jit_jump(b, o.a); break;
            case Op::branch: rc = npk_jit_branch_if(b, o.b, o.a); break;
            case Op::ret: rc = npk_jit_ret(b, o.a); break;
        }
        REQUIRE(rc == 0);
    }
    return b;
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
                ref_args[0].i = static_cast<int64_t>(reinterpret_cast<uintptr_t>(mem_ref));
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
