// The fast tier's register allocator under pressure, and the builder's
// newer operations, differentially: random functions with many variables
// live at once (more than any host has registers), loops, calls that
// clobber every caller-saved register (the callee is itself a built
// function with 40 live variables), sized and indexed memory, immediates,
// compare-and-branch, switches and pointer arithmetic, each run as
// machine code and by an independent reference interpreter written from
// npk/jitbuild.h's text. Plus targeted cases: recursion through
// call_self with values live across it, indirect calls, a switch with
// many cases, 5,000 live variables.
//
// NPK_FAST_SEED and NPK_FAST_COUNT (environment) replay or widen a run.
#include "jitbuild_random.h"
#include "jitbuild_support.h"

#include <sys/mman.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstdlib>
#include <random>
#include <sstream>
#include <vector>

using namespace npk::test;

namespace {

constexpr int kBuf = 64;      // scratch bytes the functions load and store
constexpr int kClobberI = 40; // live integers in the clobbering callee
constexpr int kClobberF = 30; // and doubles

// clobber(a, b, x) = sum of (a*(i+1) + b) for i < 40, plus (i64)(sum of x + j, j < 30).
int64_t ref_clobber(int64_t a, int64_t b, double x) {
    uint64_t s = 0;
    for (int i = 0; i < kClobberI; ++i) s += static_cast<uint64_t>(a) * static_cast<uint64_t>(i + 1) + static_cast<uint64_t>(b);
    double f = 0;
    for (int j = 0; j < kClobberF; ++j) f = f + (x + static_cast<double>(j));
    return static_cast<int64_t>(s + static_cast<uint64_t>(ref_f64_to_int<int64_t>(f)));
}

// The callee: every value computed first and summed last, so all of them
// are live at once and the allocator hands out every register it has.
void* build_clobber() {
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t a = npk_jit_param(b, NPK_JIT_I64), bb = npk_jit_param(b, NPK_JIT_I64);
    const int32_t x = npk_jit_param(b, NPK_JIT_F64);
    std::vector<int32_t> vi, vf;
    for (int i = 0; i < kClobberI; ++i) {
        const int32_t v = npk_jit_var(b, NPK_JIT_I64);
        npk_jit_op_imm(b, NPK_JIT_MUL, v, a, i + 1);
        npk_jit_op(b, NPK_JIT_ADD, v, v, bb);
        vi.push_back(v);
    }
    for (int j = 0; j < kClobberF; ++j) {
        const int32_t v = npk_jit_var(b, NPK_JIT_F64), c = npk_jit_var(b, NPK_JIT_F64);
        npk_jit_const_f64(b, c, j);
        npk_jit_op(b, NPK_JIT_ADD, v, x, c);
        vf.push_back(v);
    }
    const int32_t s = npk_jit_var(b, NPK_JIT_I64), f = npk_jit_var(b, NPK_JIT_F64), fi = npk_jit_var(b, NPK_JIT_I64);
    for (int32_t v : vi) npk_jit_op(b, NPK_JIT_ADD, s, s, v);
    for (int32_t v : vf) npk_jit_op(b, NPK_JIT_ADD, f, f, v);
    npk_jit_convert(b, fi, f);
    npk_jit_op(b, NPK_JIT_ADD, s, s, fi);
    npk_jit_ret(b, s);
    return npk_jit_build(b);
}

// The test's own record of a program: what it asked the builder for.
struct Op {
    enum Kind { konst, bin, bin_imm, load, store, bind, jump, br_cmp, br_cmp_imm, swtch, call, conv, ret } k;
    int op = 0, dst = -1, a = -1, b = -1, c = -1;  // c: index var (memory), label (branches), default (switch)
    int64_t imm = 0;
    int mem = 0, scale = 1;
    std::vector<int> labels;  // switch
};

struct Prog {
    int ret = NPK_JIT_I64;
    std::vector<int> types;  // per variable; 0 is the buffer pointer, 1..3 params
    std::vector<Op> ops;
    int labels = 0;
    int nparams = 4;
};

std::string dump(const Prog& p) {
    std::ostringstream o;
    o << "ret " << p.ret << ", " << p.types.size() << " variables\n";
    for (const Op& x : p.ops) {
        o << "  k" << x.k << " op" << x.op << " d" << x.dst << " a" << x.a << " b" << x.b << " c" << x.c << " imm"
          << x.imm << " mem" << x.mem << " s" << x.scale << "\n";
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
        p.types = {NPK_JIT_PTR, NPK_JIT_I64, NPK_JIT_I32, NPK_JIT_F64};
        p.ret = pick(2) ? NPK_JIT_I64 : NPK_JIT_I32;
        const int ni = 4 + pick(36), nf = 1 + pick(6);  // often more than the registers
        for (int i = 0; i < ni; ++i) p.types.push_back(pick(2) ? NPK_JIT_I32 : NPK_JIT_I64);
        for (int i = 0; i < nf; ++i) p.types.push_back(NPK_JIT_F64);
        ptr_ = add_var(NPK_JIT_PTR);
        general_ = static_cast<int>(p.types.size());
        p.ops.push_back({Op::konst, 0, ptr_, -1, -1, -1, 0});
        p.ops.push_back({Op::bin, NPK_JIT_ADD, ptr_, 0, ptr_});  // ptr = buf + 0 (pointer arithmetic)
        block(0, 8 + pick(24));
        // Every variable read at the end: all of them stay live to here.
        const int acc = any_of(NPK_JIT_I64);
        for (int v = 1; v < general_; ++v) {
            if (p.types[static_cast<size_t>(v)] == NPK_JIT_I64 && v != acc) p.ops.push_back({Op::bin, NPK_JIT_XOR, acc, acc, v});
        }
        const int r = any_of(p.ret);
        if (p.ret == NPK_JIT_I32) {
            p.ops.push_back({Op::conv, 0, r, acc});
        } else if (r != acc) {
            p.ops.push_back({Op::bin, NPK_JIT_ADD, r, r, acc});
        }
        p.ops.push_back({Op::ret, 0, -1, r});
        return p;
    }

private:
    Prog* p_ = nullptr;
    int ptr_ = -1;

    int64_t imm_for(int t) {
        const int64_t v = interesting();
        return t == NPK_JIT_I32 ? static_cast<int32_t>(v) : v;
    }

    void memory() {
        Prog& p = *p_;
        const int t = int_type();
        const int mem = 1 + pick(t == NPK_JIT_I32 ? 6 : 7);
        const int bytes = mem_bytes(mem);
        Op o{pick(2) ? Op::load : Op::store};
        o.mem = mem;
        o.a = pick(2) ? 0 : ptr_;
        if (pick(2)) {  // indexed: a fresh constant index, in bounds
            o.scale = 1 << pick(4);
            const int slots = (kBuf - bytes) / o.scale;
            const int idx = any_of(int_type());
            p.ops.push_back({Op::konst, 0, idx, -1, -1, -1, pick(slots + 1)});
            o.c = idx;
            o.imm = pick(kBuf - bytes - static_cast<int>(p.ops.back().imm) * o.scale + 1);
        } else {
            o.imm = pick(kBuf - bytes + 1);
        }
        if (o.k == Op::load) {
            o.dst = any_of(t);
        } else {
            o.b = any_of(t);
        }
        p.ops.push_back(o);
    }

    // A cell updated in place through a fresh temporary, as a front end
    // writes it (x86 turns it into one instruction on memory).
    void read_modify_write() {
        Prog& p = *p_;
        const int t = add_var(int_type());
        const int mem = 1 + pick(p.types[static_cast<size_t>(t)] == NPK_JIT_I32 ? 6 : 7);
        static constexpr int kOps[] = {NPK_JIT_ADD, NPK_JIT_SUB, NPK_JIT_AND, NPK_JIT_OR, NPK_JIT_XOR, NPK_JIT_MUL};
        Op ld{Op::load};
        ld.mem = mem;
        ld.a = pick(2) ? 0 : ptr_;
        ld.imm = pick(kBuf - mem_bytes(mem) + 1);
        ld.dst = t;
        Op st = ld;
        st.k = Op::store;
        st.dst = -1;
        st.b = t;
        p.ops.push_back(ld);
        p.ops.push_back({Op::bin_imm, kOps[pick(6)], t, t, -1, -1, imm_for(p.types[static_cast<size_t>(t)])});
        p.ops.push_back(st);
    }

    void one() {
        Prog& p = *p_;
        if (pick(8) == 0) return read_modify_write();
        switch (pick(12)) {
            case 0: {
                const int t = int_type();
                p.ops.push_back({Op::konst, 0, any_of(t), -1, -1, -1, imm_for(t)});
                break;
            }
            case 1:
            case 2:
            case 3: {
                const int t = int_type(), op = 1 + pick(21);
                p.ops.push_back({Op::bin, op, any_of(op >= NPK_JIT_EQ ? NPK_JIT_I32 : t), any_of(t), any_of(t)});
                break;
            }
            case 4:
            case 5: {
                const int t = int_type(), op = 1 + pick(21);
                p.ops.push_back({Op::bin_imm, op, any_of(op >= NPK_JIT_EQ ? NPK_JIT_I32 : t), any_of(t), -1, -1, imm_for(t)});
                break;
            }
            case 6:
            case 7: memory(); break;
            case 8: {  // a call that clobbers every caller-saved register
                Op o{Op::call};
                o.dst = any_of(NPK_JIT_I64);
                o.a = any_of(NPK_JIT_I64);
                o.b = any_of(NPK_JIT_I64);
                o.c = any_of(NPK_JIT_F64);
                o.op = pick(2);  // 1: through a PTR variable
                p.ops.push_back(o);
                break;
            }
            case 9: {  // F64 arithmetic from integers and back
                const int f = any_of(NPK_JIT_F64), g = any_of(NPK_JIT_F64);
                p.ops.push_back({Op::conv, 0, f, any_of(int_type())});
                p.ops.push_back({Op::bin, 1 + pick(4), g, g, f});
                p.ops.push_back({Op::conv, 0, any_of(int_type()), g});
                break;
            }
            case 10: {  // pointer arithmetic: q = buf + k; d = q - buf
                const int k = any_of(NPK_JIT_I64);
                p.ops.push_back({Op::konst, 0, k, -1, -1, -1, pick(kBuf - 8)});
                p.ops.push_back({Op::bin, NPK_JIT_ADD, ptr_, 0, k});
                p.ops.push_back({Op::bin, NPK_JIT_SUB, any_of(NPK_JIT_I64), ptr_, 0});
                p.ops.push_back({Op::bin, NPK_JIT_SUB, ptr_, ptr_, k});  // back to buf
                break;
            }
            case 11: {
                const int t = int_type();
                p.ops.push_back({Op::bin_imm, NPK_JIT_ADD, any_of(t), any_of(t), -1, -1, imm_for(t)});
                break;
            }
        }
    }

    void block(int depth, int n) {
        Prog& p = *p_;
        for (int i = 0; i < n; ++i) {
            const int c = pick(12);
            if (c == 0 && depth < 3) {  // if (a cmp b) skip { ... }
                const int l = p.labels++, t = int_type();
                Op o{pick(2) ? Op::br_cmp : Op::br_cmp_imm, NPK_JIT_EQ + pick(10)};
                o.a = any_of(t);
                if (pick(3) == 0) {  // a cell tested straight from memory, through a fresh temporary
                    o.a = add_var(t);
                    Op ld{Op::load};
                    ld.mem = 1 + pick(t == NPK_JIT_I32 ? 6 : 7);
                    ld.a = 0;
                    ld.imm = pick(kBuf - 8 + 1);
                    ld.dst = o.a;
                    const int64_t known = pick(3) - 1;  // -1, 0 or 1: stored first half of the time
                    if (pick(2)) {
                        const int z = add_var(t);
                        Op st = ld;
                        st.k = Op::store;
                        st.dst = -1;
                        st.b = z;
                        p.ops.push_back({Op::konst, 0, z, -1, -1, -1, known});
                        p.ops.push_back(st);
                    }
                    p.ops.push_back(ld);
                    o.k = Op::br_cmp_imm;
                    o.op = NPK_JIT_EQ + pick(2);
                    o.imm = pick(2) ? known : imm_for(t);
                    o.imm = t == NPK_JIT_I32 ? static_cast<int32_t>(o.imm) : o.imm;
                    o.c = l;
                    p.ops.push_back(o);
                    block(depth + 1, 1 + pick(4));
                    p.ops.push_back({Op::bind, 0, -1, l});
                    continue;
                }
                if (o.k == Op::br_cmp) o.b = any_of(t);
                o.imm = imm_for(t);
                o.c = l;
                p.ops.push_back(o);
                block(depth + 1, 1 + pick(4));
                p.ops.push_back({Op::bind, 0, -1, l});
            } else if (c == 1 && depth < 2) {  // k = 1..4; top: body; k -= 1; if (k > 0) goto top
                const int k = add_var(NPK_JIT_I32), top = p.labels++;
                p.ops.push_back({Op::konst, 0, k, -1, -1, -1, 1 + pick(4)});
                p.ops.push_back({Op::bind, 0, -1, top});
                block(depth + 1, 1 + pick(5));
                p.ops.push_back({Op::bin_imm, NPK_JIT_SUB, k, k, -1, -1, 1});
                p.ops.push_back({Op::br_cmp_imm, NPK_JIT_GT, -1, k, -1, top, 0});
            } else if (c == 2 && depth < 2) {  // switch (v & 7) over up to 6 cases
                const int n_cases = pick(7), end = p.labels++, dflt = p.labels++;
                Op s{Op::swtch};
                const int v = any_of(int_type());
                s.a = v;
                s.c = dflt;
                std::vector<int> bodies;
                for (int k = 0; k < n_cases; ++k) bodies.push_back(p.labels++);
                for (int k = 0; k < n_cases; ++k) s.labels.push_back(bodies[static_cast<size_t>(pick(n_cases))]);
                p.ops.push_back({Op::bin_imm, NPK_JIT_AND, v, v, -1, -1, 7});
                p.ops.push_back(s);
                for (int b : bodies) {
                    p.ops.push_back({Op::bind, 0, -1, b});
                    block(depth + 1, 1 + pick(3));
                    p.ops.push_back({Op::jump, 0, -1, end});
                }
                p.ops.push_back({Op::bind, 0, -1, dflt});
                block(depth + 1, 1 + pick(2));
                p.ops.push_back({Op::bind, 0, -1, end});
            } else {
                one();
            }
        }
    }
};

// --- the reference interpreter ---------------------------------------

int64_t interpret(const Prog& p, const std::vector<Slot>& args, unsigned char* buf) {
    std::vector<Slot> v(p.types.size());
    for (size_t i = 0; i < args.size(); ++i) v[i] = args[i];
    std::vector<size_t> at(static_cast<size_t>(p.labels), 0);
    for (size_t i = 0; i < p.ops.size(); ++i) {
        if (p.ops[i].k == Op::bind) at[static_cast<size_t>(p.ops[i].a)] = i;
    }
    const auto base = reinterpret_cast<int64_t>(buf);
    auto T = [&](int var) { return p.types[static_cast<size_t>(var)]; };
    auto S = [&](int var) -> Slot& { return v[static_cast<size_t>(var)]; };
    auto int_op = [&](int t, int op, int64_t a, int64_t b) -> int64_t {
        if (t == NPK_JIT_I32) return ref_int_op<int32_t>(op, static_cast<int32_t>(a), static_cast<int32_t>(b));
        return ref_int_op<int64_t>(op, a, b);
    };
    size_t steps = 0;
    for (size_t pc = 0; pc < p.ops.size(); ++pc) {
        if (++steps > 1000000) FAIL("the program does not stop");
        const Op& o = p.ops[pc];
        switch (o.k) {
            case Op::konst: S(o.dst).i = as_type(T(o.dst), o.imm); break;
            case Op::bin:
                if (T(o.a) == NPK_JIT_F64) {
                    S(o.dst).f = ref_f64_op(o.op, S(o.a).f, S(o.b).f);
                } else if (T(o.a) != T(o.b)) {  // pointer arithmetic
                    const uint64_t a = static_cast<uint64_t>(S(o.a).i), b = static_cast<uint64_t>(S(o.b).i);
                    S(o.dst).i = static_cast<int64_t>(o.op == NPK_JIT_ADD ? a + b : a - b);
                } else {
                    S(o.dst).i = as_type(T(o.dst), int_op(T(o.a), o.op, S(o.a).i, S(o.b).i));
                }
                break;
            case Op::bin_imm: S(o.dst).i = as_type(T(o.dst), int_op(T(o.a), o.op, S(o.a).i, o.imm)); break;
            case Op::conv: {
                const int td = T(o.dst), ts = T(o.a);
                if (td == NPK_JIT_F64) {
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
                const int64_t index = o.c >= 0 ? S(o.c).i : 0;
                const int64_t addr = S(o.a).i + index * o.scale + o.imm;
                unsigned char* m = buf + (addr - base);
                if (o.k == Op::load) {
                    S(o.dst).i = as_type(T(o.dst), load_extended(m, o.mem));
                } else {
                    std::memcpy(m, &S(o.b).i, static_cast<size_t>(mem_bytes(o.mem)));
                }
                break;
            }
            case Op::bind: break;
            case Op::jump: pc = at[static_cast<size_t>(o.a)]; break;
            case Op::br_cmp:
            case Op::br_cmp_imm: {
                const int64_t b = o.k == Op::br_cmp ? S(o.b).i : o.imm;
                if (int_op(T(o.a), o.op, S(o.a).i, b)) pc = at[static_cast<size_t>(o.c)];
                break;
            }
            case Op::swtch: {
                const int64_t x = S(o.a).i;
                pc = x >= 0 && x < static_cast<int64_t>(o.labels.size()) ? at[static_cast<size_t>(o.labels[static_cast<size_t>(x)])]
                                                                          : at[static_cast<size_t>(o.c)];
                break;
            }
            case Op::call: S(o.dst).i = ref_clobber(S(o.a).i, S(o.b).i, S(o.c).f); break;
            case Op::ret: return S(o.a).i;
        }
    }
    FAIL("the program ran off its end");
    return 0;
}

// --- the same program through the C ABI --------------------------------

npk_jit_builder* to_builder(const Prog& p, void* clobber) {
    npk_jit_builder* b = npk_jit_builder_new(p.ret);
    for (size_t v = 0; v < p.types.size(); ++v) {
        const bool is_param = v < static_cast<size_t>(p.nparams);
        const int32_t id = is_param ? npk_jit_param(b, p.types[v]) : npk_jit_var(b, p.types[v]);
        REQUIRE(id == static_cast<int32_t>(v));
    }
    for (int l = 0; l < p.labels; ++l) REQUIRE(npk_jit_label(b) == l);
    const int32_t fn = npk_jit_var(b, NPK_JIT_PTR);
    for (const Op& o : p.ops) {
        int32_t rc = -1;
        switch (o.k) {
            case Op::konst: rc = npk_jit_const_i64(b, o.dst, o.imm); break;
            case Op::bin: rc = npk_jit_op(b, o.op, o.dst, o.a, o.b); break;
            case Op::bin_imm: rc = npk_jit_op_imm(b, o.op, o.dst, o.a, o.imm); break;
            case Op::conv: rc = npk_jit_convert(b, o.dst, o.a); break;
            case Op::load:
                rc = o.c >= 0 ? npk_jit_load_indexed(b, o.dst, o.a, o.c, o.scale, static_cast<int32_t>(o.imm), o.mem)
                              : npk_jit_load_sized(b, o.dst, o.a, static_cast<int32_t>(o.imm), o.mem);
                break;
            case Op::store:
                rc = o.c >= 0 ? npk_jit_store_indexed(b, o.a, o.c, o.scale, static_cast<int32_t>(o.imm), o.b, o.mem)
                              : npk_jit_store_sized(b, o.a, static_cast<int32_t>(o.imm), o.b, o.mem);
                break;
            case Op::bind: rc = npk_jit_bind(b, o.a); break;
            case Op::jump: rc = npk_jit_jump(b, o.a); break;
            case Op::br_cmp: rc = npk_jit_branch_cmp(b, o.op, o.a, o.b, o.c); break;
            case Op::br_cmp_imm: rc = npk_jit_branch_cmp_imm(b, o.op, o.a, o.imm, o.c); break;
            case Op::swtch: rc = npk_jit_switch(b, o.a, static_cast<int32_t>(o.labels.size()), o.labels.data(), o.c); break;
            case Op::call: {
                const int32_t args[] = {o.a, o.b, o.c};
                if (o.op == 0) {
                    rc = npk_jit_call_native(b, o.dst, clobber, NPK_JIT_I64, 3, args);
                } else {
                    REQUIRE(npk_jit_const_i64(b, fn, static_cast<int64_t>(reinterpret_cast<uintptr_t>(clobber))) == 0);
                    rc = npk_jit_call_indirect(b, o.dst, fn, NPK_JIT_I64, 3, args);
                }
                break;
            }
            case Op::ret: rc = npk_jit_ret(b, o.a); break;
        }
        INFO(NPK_JIT_MESSAGE());
        REQUIRE(rc == 0);
    }
    return b;
}

}  // namespace

TEST_CASE("fast tier: random functions under register pressure agree with the reference", "[jitbuild][fast]") {
    Fn clobber(build_clobber());
    REQUIRE(clobber.p != nullptr);
    REQUIRE(clobber.as<int64_t (*)(int64_t, int64_t, double)>()(3, -5, 2.5) == ref_clobber(3, -5, 2.5));
    const uint64_t seed = env_u64("NPK_FAST_SEED", 20261207);
    const uint64_t count = env_u64("NPK_FAST_COUNT", 3000);
    std::printf("fast tier: seed %llu, %llu functions\n", static_cast<unsigned long long>(seed),
                static_cast<unsigned long long>(count));
    Gen gen(seed);
    std::mt19937_64 arg_rng(seed ^ 0x9E3779B97F4A7C15ULL);
    for (uint64_t i = 0; i < count; ++i) {
        const Prog p = gen.make();
        INFO("function " << i << "\n" << dump(p));
        Fn f(npk_jit_build(to_builder(p, clobber.p)));
        INFO(NPK_JIT_MESSAGE());
        REQUIRE(f.p != nullptr);
        for (int trial = 0; trial < 2; ++trial) {
            alignas(16) unsigned char mem_jit[kBuf], mem_ref[kBuf];
            for (unsigned char& c : mem_jit) c = static_cast<unsigned char>(arg_rng());
            std::memcpy(mem_ref, mem_jit, kBuf);
            const int64_t a = static_cast<int64_t>(arg_rng()) >> (arg_rng() % 64);
            const auto b = static_cast<int32_t>(arg_rng());
            const double x = static_cast<double>(static_cast<int64_t>(arg_rng()) >> (arg_rng() % 64)) / 3.0;
            npk_jit_value args[4];
            args[0].type = NPK_JIT_PTR;
            args[0].ptr = mem_jit;
            args[1].type = NPK_JIT_I64;
            args[1].i64 = a;
            args[2].type = NPK_JIT_I32;
            args[2].i32 = b;
            args[3].type = NPK_JIT_F64;
            args[3].f64 = x;
            std::vector<Slot> ref(4);
            ref[0].i = reinterpret_cast<int64_t>(mem_ref);
            ref[1].i = a;
            ref[2].i = b;
            ref[3].f = x;
            npk_jit_value got{};
            REQUIRE(npk_jit_invoke(f.p, args, 4, &got) == 0);
            // The reference sees the same addresses as the JIT code: differences of pointers match.
            const int64_t want = interpret(p, ref, mem_ref);
            INFO("trial " << trial);
            if (p.ret == NPK_JIT_I32) {
                REQUIRE(got.i32 == static_cast<int32_t>(want));
            } else {
                REQUIRE(got.i64 == want);
            }
            REQUIRE(std::memcmp(mem_jit, mem_ref, kBuf) == 0);
        }
    }
}

TEST_CASE("fast tier: values stay live across recursive call_self", "[jitbuild][fast]") {
    // f(n) = n < 2 ? n : f(n-1) + f(n-2), with k = n*3 live across both calls.
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t n = npk_jit_param(b, NPK_JIT_I64);
    const int32_t a = npk_jit_var(b, NPK_JIT_I64), c = npk_jit_var(b, NPK_JIT_I64), k = npk_jit_var(b, NPK_JIT_I64);
    const int32_t x = npk_jit_var(b, NPK_JIT_I64), y = npk_jit_var(b, NPK_JIT_I64);
    const int32_t big = npk_jit_label(b);
    REQUIRE(npk_jit_branch_cmp_imm(b, NPK_JIT_GE, n, 2, big) == 0);
    npk_jit_ret(b, n);
    npk_jit_bind(b, big);
    npk_jit_op_imm(b, NPK_JIT_MUL, k, n, 3);
    npk_jit_op_imm(b, NPK_JIT_SUB, a, n, 1);
    npk_jit_op_imm(b, NPK_JIT_SUB, c, n, 2);
    REQUIRE(npk_jit_call_self(b, x, 1, &a) == 0);
    REQUIRE(npk_jit_call_self(b, y, 1, &c) == 0);
    npk_jit_op(b, NPK_JIT_ADD, x, x, y);
    npk_jit_op(b, NPK_JIT_ADD, x, x, k);
    npk_jit_op_imm(b, NPK_JIT_MUL, k, n, 3);
    npk_jit_op(b, NPK_JIT_SUB, x, x, k);
    npk_jit_ret(b, x);
    Fn f(npk_jit_build(b));
    INFO(NPK_JIT_MESSAGE());
    REQUIRE(f.p != nullptr);
    CHECK(f.as<int64_t (*)(int64_t)>()(20) == 6765);
    CHECK(f.as<int64_t (*)(int64_t)>()(1) == 1);
}

TEST_CASE("fast tier: 5,000 variables live at once", "[jitbuild][fast]") {
    constexpr int kN = 5000;
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t p = npk_jit_param(b, NPK_JIT_I64);
    const int32_t q = npk_jit_param(b, NPK_JIT_F64);
    std::vector<int32_t> v;
    for (int i = 0; i < kN; ++i) {
        v.push_back(npk_jit_var(b, i % 5 == 4 ? NPK_JIT_F64 : NPK_JIT_I64));
        if (i % 5 == 4) {
            npk_jit_mov(b, v.back(), q);
        } else {
            npk_jit_op_imm(b, NPK_JIT_ADD, v.back(), p, i);
        }
    }
    const int32_t s = npk_jit_var(b, NPK_JIT_I64), t = npk_jit_var(b, NPK_JIT_I64);
    for (int i = 0; i < kN; ++i) {
        if (i % 5 == 4) {
            npk_jit_convert(b, t, v[static_cast<size_t>(i)]);
            npk_jit_op(b, NPK_JIT_ADD, s, s, t);
        } else {
            npk_jit_op(b, NPK_JIT_ADD, s, s, v[static_cast<size_t>(i)]);
        }
    }
    npk_jit_ret(b, s);
    Fn f(npk_jit_build(b));
    INFO(NPK_JIT_MESSAGE());
    REQUIRE(f.p != nullptr);
    int64_t want = 0;
    for (int i = 0; i < kN; ++i) want += i % 5 == 4 ? 7 : 1000 + i;
    CHECK(f.as<int64_t (*)(int64_t, double)>()(1000, 7.9) == want);
}

TEST_CASE("fast tier: a switch of 1,000 cases, and out-of-range values", "[jitbuild][fast]") {
    constexpr int kN = 1000;
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I32);
    const int32_t v = npk_jit_param(b, NPK_JIT_I32);
    const int32_t r = npk_jit_var(b, NPK_JIT_I32);
    std::vector<int32_t> labels;
    for (int i = 0; i < kN; ++i) labels.push_back(npk_jit_label(b));
    const int32_t dflt = npk_jit_label(b);
    REQUIRE(npk_jit_switch(b, v, kN, labels.data(), dflt) == 0);
    for (int i = 0; i < kN; ++i) {
        npk_jit_bind(b, labels[static_cast<size_t>(i)]);
        npk_jit_const_i64(b, r, 3 * i);
        npk_jit_ret(b, r);
    }
    npk_jit_bind(b, dflt);
    npk_jit_const_i64(b, r, -1);
    npk_jit_ret(b, r);
    Fn f(npk_jit_build(b));
    INFO(NPK_JIT_MESSAGE());
    REQUIRE(f.p != nullptr);
    auto g = f.as<int32_t (*)(int32_t)>();
    CHECK(g(0) == 0);
    CHECK(g(1) == 3);
    CHECK(g(500) == 1500);
    CHECK(g(999) == 2997);
    CHECK(g(1000) == -1);
    CHECK(g(-1) == -1);
    CHECK(g(INT32_MIN) == -1);
}

TEST_CASE("region chunks are sealed with XXH3-64 and single pages with FNV-1a, and verify finds a change",
          "[jitbuild][fast][hash]") {
    npk_jit_region* r = npk_jit_region_new();
    REQUIRE(r != nullptr);
    void* first = nullptr;
    for (int i = 0; i < 3; ++i) {
        npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
        const int32_t x = npk_jit_param(b, NPK_JIT_I64);
        npk_jit_op_imm(b, NPK_JIT_ADD, x, x, i);
        npk_jit_ret(b, x);
        void* f = npk_jit_region_add(r, b);
        REQUIRE(f != nullptr);
        if (first == nullptr) first = f;
    }
    REQUIRE(npk_jit_region_seal(r) == 0);
    auto* chunk = static_cast<unsigned char*>(first) - 16;  // a chunk starts with 16 trapping bytes
    const size_t size = npk_wildx_size(chunk);
    REQUIRE(size > 0);
    uint64_t recorded = 0;
    REQUIRE(npk_wildx_code_hash(chunk, &recorded) == 0);
    CHECK(recorded == XXH3_64bits(chunk, size));
    CHECK(recorded != npk_wildx_fnv1a64(chunk, size));
    CHECK(npk_wildx_verify(chunk) == 0);
    // Behind the registry's back: one byte of the chunk's trapping header changes.
    REQUIRE(mprotect(chunk, size, PROT_READ | PROT_WRITE) == 0);
    chunk[3] ^= 0x5A;
    REQUIRE(mprotect(chunk, size, PROT_READ | PROT_EXEC) == 0);
    CHECK(npk_wildx_verify(chunk) == -1);
    CHECK(npk_last_error() == NPK_WILDX_ERR_HASH_MISMATCH);
    REQUIRE(npk_jit_region_free(r) == 0);

    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    npk_jit_ret(b, npk_jit_param(b, NPK_JIT_I64));
    Fn page(npk_jit_build(b));
    REQUIRE(page.p != nullptr);
    REQUIRE(npk_wildx_code_hash(page.p, &recorded) == 0);
    CHECK(recorded == npk_wildx_fnv1a64(page.p, npk_wildx_size(page.p)));
    CHECK(npk_wildx_verify(page.p) == 0);
}
