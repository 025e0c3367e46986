// regalloc.cpp — live intervals from one scan of the record, then a
// linear scan (Poletto and Sarkar's, with loop-depth weights and
// call-aware register choice). See regalloc.h for what is known and why
// it is enough.
#include "codegen/regalloc.h"

#include <algorithm>

namespace npk::codegen {
namespace {

constexpr int32_t kNone = -1;

struct Loop {
    int32_t head;   // position of the label's bind
    int32_t tail;   // position of the last jump back to it
    int32_t outer;  // the outermost loop around its head (an index into the loops), or kNone
};

// Per variable, what the scan of the record found (first kNone: never
// used; the rest is written at the first occurrence).
struct Fact {
    int32_t first, last;             // positions of the first and last occurrence
    int32_t binds_first, binds_last;  // binds at or before them
    int32_t outer_first;             // the outermost loop around the first occurrence, or kNone
    uint32_t weight;                 // 8^depth summed over the occurrences
    bool first_is_write;
};
using Facts = Vec<Fact>;

template <class T>
bool filled(Vec<T>& v, size_t n, T x) {
    return v.assign(n, x);
}

// Pass 1 over the record: where each label is bound, the loops (a jump
// or branch to a label bound earlier is a back edge; the loop runs from
// the bind to its last back edge), sorted by head, and the calls.
bool control_facts(const Program& p, Vec<int32_t>& label_at, Vec<int32_t>& tail_of, Vec<int32_t>& bind_pos,
                   Vec<Loop>& loops, Vec<int32_t>& call_pos) {
    if (!filled(label_at, p.label_bound.size(), kNone) || !filled(tail_of, p.label_bound.size(), kNone)) return false;
    bind_pos.clear();
    call_pos.clear();
    loops.clear();
    for (size_t k = 0; k < p.insts.size(); ++k) {
        const Inst& in = p.insts[k];
        const auto pos = static_cast<int32_t>(k + 1);
        if (in.kind == Kind::bind) {
            label_at[static_cast<size_t>(in.a)] = pos;
            if (!bind_pos.push(pos)) return false;
            continue;
        }
        if (is_call(in) && !call_pos.push(pos)) return false;
        for_each_target(p, in, [&](int32_t l) {
            // Bound already: a back edge, and positions only grow.
            if (label_at[static_cast<size_t>(l)] != kNone) tail_of[static_cast<size_t>(l)] = pos;
        });
    }
    for (int32_t h : bind_pos) {
        const int32_t t = tail_of[static_cast<size_t>(p.insts[static_cast<size_t>(h - 1)].a)];
        if (t != kNone && !loops.push(Loop{h, t, kNone})) return false;
    }
    return true;
}

// Pass 2 over the record: each variable's occurrences, weighed by the
// loop depth there, with the loop facts the intervals need. The depth
// and the outermost loop around each position come from a sweep with
// the loops in order of their heads and (`ends`) of their tails.
bool occurrences(const Program& p, Vec<Loop>& loops, Vec<int32_t>& ends, Facts& facts) {
    Fact unused{};
    unused.first = kNone;
    if (!facts.assign(p.vars.size(), unused) || !ends.resize(loops.size())) return false;
    // Raw pointers: the stores below would otherwise make the compiler
    // reload every table's address from the thread's tables each time.
    Fact* const f = facts.data();
    Loop* const L = loops.data();
    const size_t nl = loops.size();
    for (size_t i = 0; i < nl; ++i) ends[i] = L[i].tail + 1;
    std::sort(ends.begin(), ends.end());
    const int32_t* const E = ends.data();
    size_t entered = 0, left = 0;  // loops with head <= pos, with tail + 1 <= pos
    size_t next = 0, front = 0;    // loops with head < pos; the first of them not ended before pos
    int32_t binds = 0;
    const Inst* const insts = p.insts.data();
    for (size_t k = 0; k < p.insts.size(); ++k) {
        const auto pos = static_cast<int32_t>(k + 1);
        while (next < nl && L[next].head < pos) ++next;
        while (front < next && L[front].tail < pos) ++front;
        const int32_t outer = front < next ? static_cast<int32_t>(front) : kNone;
        while (entered < nl && L[entered].head <= pos) ++entered;
        while (left < nl && E[left] <= pos) ++left;
        const Inst& in = insts[k];
        if (in.kind == Kind::bind) {
            ++binds;
            if (entered > 0 && L[entered - 1].head == pos) L[entered - 1].outer = outer;
            continue;
        }
        const auto depth = static_cast<int32_t>(entered - left);
        const uint32_t w = 1u << (3 * (depth < 6 ? depth : 6));
        auto occur = [&](Fact& x, bool write) {
            if (x.first == kNone) {
                x.first = pos;
                x.first_is_write = write;
                x.binds_first = binds;
                x.outer_first = outer;
                x.weight = 0;
            }
            x.last = pos;
            x.binds_last = binds;
            x.weight += w;
        };
        int32_t reads[kMaxReads];
        const int n = reads_of(p, in, reads);
        for (int i = 0; i < n; ++i) occur(f[reads[i]], false);
        const int32_t dst = write_of(in);
        if (dst >= 0) occur(f[dst], true);
    }
    return true;
}

// Extends `end` over every loop whose head lies in [start, end]: the
// variable may be live at that head, so it must survive the back edge.
// `best` is a sparse table of the loops' tails (max over 2^j loops).
int32_t extend_over_loops(const Vec<Loop>& loops, const Vec<int32_t>& best, int32_t start, int32_t end) {
    const size_t n = loops.size();
    if (n == 0) return end;
    for (;;) {
        // loops with head in [start, end]: [lo, hi)
        size_t lo = 0, hi = n;
        {
            size_t a = 0, b = n;
            while (a < b) {
                const size_t m = (a + b) / 2;
                if (loops[m].head < start) a = m + 1; else b = m;
            }
            lo = a;
            a = lo;
            b = n;
            while (a < b) {
                const size_t m = (a + b) / 2;
                if (loops[m].head <= end) a = m + 1; else b = m;
            }
            hi = a;
        }
        if (lo >= hi) return end;
        size_t j = 0;
        while ((size_t{2} << j) <= hi - lo) ++j;
        const int32_t x = best[j * n + lo], y = best[j * n + hi - (size_t{1} << j)];
        const int32_t t = x > y ? x : y;
        if (t <= end) return end;
        end = t;
    }
}

bool sparse_table(const Vec<Loop>& loops, Vec<int32_t>& best) {
    const size_t n = loops.size();
    size_t levels = 1;
    while ((size_t{1} << levels) <= n) ++levels;
    if (!filled(best, n * levels, 0)) return false;
    for (size_t i = 0; i < n; ++i) best[i] = loops[i].tail;
    for (size_t j = 1; j < levels; ++j) {
        for (size_t i = 0; i + (size_t{1} << j) <= n; ++i) {
            const int32_t x = best[(j - 1) * n + i], y = best[(j - 1) * n + i + (size_t{1} << (j - 1))];
            best[j * n + i] = x > y ? x : y;
        }
    }
    return true;
}

// The linear scan proper.
class Scan {
public:
    Scan(const Program& p, const RegFile& rf, Allocation& al) : p_(p), rf_(rf), al_(al) {}

    // count[s + 1]: how many used variables start at position s (for
    // s in 0 .. insts + 2), `used` their sum.
    bool run(const Vec<int32_t>& start, const Facts& f, const Vec<uint8_t>& param, const Vec<int32_t>& call_pos,
             Vec<int32_t>& count, size_t used, Vec<int32_t>& order) {
        const size_t nv = p_.vars.size();
        const size_t np = p_.insts.size() + 2;
        // Counting sort of the used variables by start (parameters first at 0).
        if (!order.resize(used) || !filled(al_.saves, call_pos.size() * 2, 0u)) return false;
        for (size_t i = 1; i <= np; ++i) count[i] += count[i - 1];
        for (int32_t v : p_.params) {
            if (al_.end[static_cast<size_t>(v)] != kNone) order[static_cast<size_t>(count[0]++)] = v;
        }
        for (size_t v = 0; v < nv; ++v) {
            if (al_.end[v] == kNone || param[v]) continue;
            order[static_cast<size_t>(count[static_cast<size_t>(start[v])]++)] = static_cast<int32_t>(v);
        }
        // Calls before each start are passed on the way; the next one is
        // then the first after it: the interval crosses it if it ends later.
        size_t next_call = 0;
        for (size_t i = 0; i < used; ++i) {
            const int32_t v = order[i];
            const int32_t s = start[static_cast<size_t>(v)], e = al_.end[static_cast<size_t>(v)];
            while (next_call < call_pos.size() && call_pos[next_call] <= s) {
                at_call(call_pos[next_call], next_call);
                ++next_call;
            }
            const bool crosses = next_call < call_pos.size() && call_pos[next_call] < e;
            assign(v, s, e, f[static_cast<size_t>(v)].weight, crosses);
        }
        while (next_call < call_pos.size()) {
            at_call(call_pos[next_call], next_call);
            ++next_call;
        }
        return true;
    }

private:
    struct Active {
        int32_t var, end;
        uint32_t weight;
        int16_t reg;
    };
    const Program& p_;
    const RegFile& rf_;
    Allocation& al_;
    Active active_[2][32];
    int n_active_[2] = {0, 0};

    void expire(int c, int32_t pos) {
        int k = 0;
        for (int i = 0; i < n_active_[c]; ++i) {
            const Active& a = active_[c][i];
            if (a.end < pos || (a.end == pos && pos > 0)) continue;
            active_[c][k++] = a;
        }
        n_active_[c] = k;
    }

    // Registers live across the call at `pos` that the callee may clobber.
    void at_call(int32_t pos, size_t index) {
        for (int c = 0; c < 2; ++c) {
            expire(c, pos);
            uint32_t mask = 0;
            for (int i = 0; i < n_active_[c]; ++i) {
                const Active& a = active_[c][i];
                if (a.end > pos) mask |= 1u << a.reg;
            }
            al_.saves[index * 2 + static_cast<size_t>(c)] = mask & ~rf_.cls[c].callee_saved;
        }
    }

    int16_t hint(int32_t v, int c) const {
        int k = 0;
        for (int32_t q : p_.params) {
            if (reg_class(p_.vars[static_cast<size_t>(q)]) != c) continue;
            if (q == v) return k < rf_.cls[c].n_args ? static_cast<int16_t>(rf_.cls[c].args[k]) : int16_t{-1};
            ++k;
        }
        return -1;
    }

    int16_t free_reg(int c, int32_t v, bool crosses) const {
        const RegFile::Class& rc = rf_.cls[c];
        uint32_t busy = 0;
        for (int i = 0; i < n_active_[c]; ++i) busy |= 1u << active_[c][i].reg;
        const int16_t h = hint(v, c);
        if (h >= 0 && !(busy & (1u << h))) {
            for (int i = 0; i < rc.n; ++i) {
                if (rc.alloc[i] == h) return h;  // the parameter stays where it arrives
            }
        }
        int16_t fallback = -1;
        for (int i = 0; i < rc.n; ++i) {
            const uint8_t r = rc.alloc[i];
            if (busy & (1u << r)) continue;
            const bool saved = rc.callee_saved & (1u << r);
            if (saved == crosses) return r;
            if (fallback < 0) fallback = r;
        }
        return fallback;
    }

    void to_slot(int32_t v) { al_.loc[static_cast<size_t>(v)] = Loc{-1, al_.slots++}; }

    void assign(int32_t v, int32_t s, int32_t e, uint32_t weight, bool crosses) {
        const int c = reg_class(p_.vars[static_cast<size_t>(v)]);
        expire(c, s);
        int16_t r = free_reg(c, v, crosses);
        if (r < 0) {
            // Spill the cheapest of the active and this one: the lowest
            // weight, then the furthest end.
            int worst = -1;
            for (int i = 0; i < n_active_[c]; ++i) {
                const Active& a = active_[c][i];
                if (a.weight < weight || (a.weight == weight && a.end > e)) {
                    if (worst < 0 || a.weight < active_[c][worst].weight ||
                        (a.weight == active_[c][worst].weight && a.end > active_[c][worst].end)) {
                        worst = i;
                    }
                }
            }
            if (worst < 0) return to_slot(v);
            r = active_[c][worst].reg;
            to_slot(active_[c][worst].var);
            active_[c][worst] = active_[c][--n_active_[c]];
        }
        al_.loc[static_cast<size_t>(v)] = Loc{r, -1};
        al_.used[c] |= 1u << r;
        active_[c][n_active_[c]++] = Active{v, e, weight, r};
    }
};

// Each thread keeps its tables from one function to the next: a build
// reuses their memory instead of faulting fresh pages in.
struct Tables {
    Vec<int32_t> label_at, tail_of, bind_pos, ends, best, start, call_pos;
    Vec<Loop> loops;
    Facts f;
    Vec<uint8_t> param;
    Vec<int32_t> count, order;
};
thread_local Tables t_tables;

}  // namespace

bool allocate(const Program& p, const RegFile& rf, Allocation* out) {
    Allocation& al = *out;
    const size_t nv = p.vars.size();
    Tables& tt = t_tables;
    Vec<int32_t>& start = tt.start;
    Facts& f = tt.f;
    if (!control_facts(p, tt.label_at, tt.tail_of, tt.bind_pos, tt.loops, tt.call_pos) ||
        !occurrences(p, tt.loops, tt.ends, f) || !sparse_table(tt.loops, tt.best) || !filled(al.loc, nv, Loc{}) ||
        !filled(al.end, nv, kNone) || !start.resize(nv) || !filled(tt.param, nv, uint8_t{0}) ||
        !filled(tt.count, p.insts.size() + 3, 0)) {
        return false;
    }
    Vec<uint8_t>& param = tt.param;
    for (int32_t v : p.params) param[static_cast<size_t>(v)] = 1;
    // A temporary of one basic block (first written, then used before any
    // label) is never read unwritten. When every variable is one, nothing
    // is zeroed and the program's paths need no walk.
    auto temporary = [&](const Fact& x) { return x.first_is_write && x.binds_last == x.binds_first; };
    bool all_temporaries = true;
    for (size_t v = 0; v < nv && all_temporaries; ++v) {
        all_temporaries = param[v] || f[v].first == kNone || temporary(f[v]);
    }
    if (!(all_temporaries ? filled(al.zero, nv, uint8_t{0}) : entry_zeroed(p, &al.zero))) return false;
    size_t used = 0;
    for (size_t v = 0; v < nv; ++v) {
        const Fact& x = f[v];
        if (x.first == kNone) {  // never used: no place at all
            al.zero[v] = 0;
            continue;
        }
        ++used;
        if (param[v] || al.zero[v]) {
            start[v] = 0;
        } else if (temporary(x)) {
            start[v] = x.first;  // a temporary of one basic block
            al.end[v] = x.last;
            ++tt.count[static_cast<size_t>(x.first) + 1];
            continue;
        } else {
            // From the head of the outermost loop around its first occurrence.
            int32_t i = x.outer_first;
            if (i != kNone) {
                while (tt.loops[static_cast<size_t>(i)].outer != kNone) i = tt.loops[static_cast<size_t>(i)].outer;
            }
            start[v] = i == kNone ? x.first : tt.loops[static_cast<size_t>(i)].head;
        }
        al.end[v] = extend_over_loops(tt.loops, tt.best, start[v], x.last);
        ++tt.count[static_cast<size_t>(start[v]) + 1];
    }
    al.has_calls = !tt.call_pos.empty();
    al.slots = 0;
    al.used[0] = al.used[1] = 0;
    return Scan(p, rf, al).run(start, f, param, tt.call_pos, tt.count, used, tt.order);
}

}  // namespace npk::codegen
