// regalloc.cpp — live intervals from one scan of the record, then a
// linear scan (Poletto and Sarkar's, with loop-depth weights and
// call-aware register choice). See regalloc.h for what is known and why
// it is enough.
#include "codegen/regalloc.h"

namespace npk::codegen {
namespace {

constexpr int32_t kNone = -1;

struct Loop {
    int32_t head;  // position of the label's bind
    int32_t tail;  // position of the last jump back to it
};

// Per variable, what the scan of the record found.
struct Facts {
    Vec<int32_t> first, last;
    Vec<uint8_t> first_is_write;
    Vec<uint32_t> weight;
};

template <class T>
bool filled(Vec<T>& v, size_t n, T x) {
    return v.assign(n, x);
}

// Where each label is bound (its bind's position).
bool label_positions(const Program& p, Vec<int32_t>& at) {
    if (!filled(at, p.label_bound.size(), kNone)) return false;
    for (size_t k = 0; k < p.insts.size(); ++k) {
        if (p.insts[k].kind == Kind::bind) at[static_cast<size_t>(p.insts[k].a)] = static_cast<int32_t>(k + 1);
    }
    return true;
}

// Loops (sorted by head), loop depth, the binds up to each position, and
// per position the head of the outermost loop around it (kNone: none).
bool control_facts(const Program& p, const Vec<int32_t>& label_at, Vec<Loop>& loops, Vec<int32_t>& depth,
                   Vec<int32_t>& binds, Vec<int32_t>& outer) {
    const size_t n = p.insts.size() + 2;
    Vec<int32_t> tail_of;  // per label: its last back edge's position
    if (!filled(tail_of, p.label_bound.size(), kNone) || !filled(depth, n, 0) || !filled(binds, n, 0) ||
        !filled(outer, n, kNone)) {
        return false;
    }
    for (size_t k = 0; k < p.insts.size(); ++k) {
        const auto from = static_cast<int32_t>(k + 1);
        if (p.insts[k].kind == Kind::bind) binds[k + 1] = 1;
        for_each_target(p, p.insts[k], [&](int32_t l) {
            const int32_t to = label_at[static_cast<size_t>(l)];
            int32_t& t = tail_of[static_cast<size_t>(l)];
            if (to <= from && t < from) t = from;
        });
    }
    loops.clear();
    for (size_t k = 0; k < p.insts.size(); ++k) {
        const Inst& in = p.insts[k];
        if (in.kind != Kind::bind) continue;
        const int32_t t = tail_of[static_cast<size_t>(in.a)];
        if (t == kNone) continue;
        if (!loops.push(Loop{static_cast<int32_t>(k + 1), t})) return false;
        ++depth[k + 1];
        --depth[static_cast<size_t>(t + 1)];
    }
    for (size_t i = 1; i < n; ++i) {
        depth[i] += depth[i - 1];
        binds[i] += binds[i - 1];
    }
    // The outermost loop around each position: a sweep with the loops in
    // order of their heads as a queue, whose front (the smallest head) is
    // dropped once it ends; each loop enters and leaves once.
    size_t next = 0, front = 0;
    for (size_t x = 1; x < n; ++x) {
        while (next < loops.size() && loops[next].head < static_cast<int32_t>(x)) ++next;
        while (front < next && loops[front].tail < static_cast<int32_t>(x)) ++front;
        if (front < next) outer[x] = loops[front].head;
    }
    return true;
}

bool scan(const Program& p, const Vec<int32_t>& depth, Facts& f, Vec<int32_t>& call_pos) {
    const size_t nv = p.vars.size();
    if (!filled(f.first, nv, kNone) || !filled(f.last, nv, kNone) || !filled(f.first_is_write, nv, uint8_t{0}) ||
        !filled(f.weight, nv, 0u)) {
        return false;
    }
    for (size_t k = 0; k < p.insts.size(); ++k) {
        const auto pos = static_cast<int32_t>(k + 1);
        const int32_t d = depth[k + 1] < 6 ? depth[k + 1] : 6;
        const uint32_t w = 1u << (3 * d);
        auto occur = [&](int32_t v, bool write) {
            const auto i = static_cast<size_t>(v);
            if (f.first[i] == kNone) {
                f.first[i] = pos;
                f.first_is_write[i] = write;
            }
            f.last[i] = pos;
            f.weight[i] += w;
        };
        const Inst& in = p.insts[k];
        int32_t reads[kMaxReads];
        const int n = reads_of(p, in, reads);
        for (int i = 0; i < n; ++i) occur(reads[i], false);
        const int32_t dst = write_of(in);
        if (dst >= 0) occur(dst, true);
        if (is_call(in) && !call_pos.push(pos)) return false;
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

    bool run(const Vec<int32_t>& start, const Facts& f, const Vec<int32_t>& call_pos, Vec<int32_t>& count,
             Vec<int32_t>& order, Vec<int32_t>& calls_upto) {
        const size_t nv = p_.vars.size();
        const size_t np = p_.insts.size() + 2;
        // Counting sort of the used variables by start (parameters first at 0).
        if (!filled(count, np + 1, 0) || !filled(order, nv, 0)) return false;
        size_t used = 0;
        for (size_t v = 0; v < nv; ++v) {
            if (al_.end[v] == kNone) continue;
            ++count[static_cast<size_t>(start[v]) + 1];
            ++used;
        }
        for (size_t i = 1; i <= np; ++i) count[i] += count[i - 1];
        for (int32_t v : p_.params) {
            if (al_.end[static_cast<size_t>(v)] != kNone) order[static_cast<size_t>(count[0]++)] = v;
        }
        for (size_t v = 0; v < nv; ++v) {
            if (al_.end[v] == kNone || is_param(static_cast<int32_t>(v))) continue;
            order[static_cast<size_t>(count[static_cast<size_t>(start[v])]++)] = static_cast<int32_t>(v);
        }
        // Calls crossed: a prefix count over positions.
        if (!filled(calls_upto, np, 0)) return false;
        for (int32_t c : call_pos) ++calls_upto[static_cast<size_t>(c)];
        for (size_t i = 1; i < np; ++i) calls_upto[i] += calls_upto[i - 1];
        if (!filled(al_.saves, call_pos.size() * 2, 0u)) return false;

        size_t next_call = 0;
        for (size_t i = 0; i < used; ++i) {
            const int32_t v = order[i];
            const int32_t s = start[static_cast<size_t>(v)], e = al_.end[static_cast<size_t>(v)];
            while (next_call < call_pos.size() && call_pos[next_call] <= s) {
                at_call(call_pos[next_call], next_call);
                ++next_call;
            }
            const bool crosses = e > s + 1 && calls_upto[static_cast<size_t>(e - 1)] - calls_upto[static_cast<size_t>(s)] > 0;
            assign(v, s, e, f.weight[static_cast<size_t>(v)], crosses);
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

    bool is_param(int32_t v) const {
        for (int32_t q : p_.params) {
            if (q == v) return true;
        }
        return false;
    }

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
    Vec<int32_t> label_at, depth, binds, outer, best, start, call_pos;
    Vec<Loop> loops;
    Facts f;
    Vec<uint8_t> param;
    Vec<int32_t> count, order, calls_upto;
};
thread_local Tables t_tables;

}  // namespace

bool allocate(const Program& p, const RegFile& rf, Allocation* out) {
    Allocation& al = *out;
    const size_t nv = p.vars.size();
    Tables& tt = t_tables;
    Vec<int32_t>&label_at = tt.label_at, &depth = tt.depth, &binds = tt.binds, &outer = tt.outer, &best = tt.best,
    &start = tt.start, &call_pos = tt.call_pos;
    Vec<Loop>& loops = tt.loops;
    Facts& f = tt.f;
    call_pos.clear();
    if (!label_positions(p, label_at) || !control_facts(p, label_at, loops, depth, binds, outer) ||
        !scan(p, depth, f, call_pos) || !sparse_table(loops, best) || !filled(al.loc, nv, Loc{}) ||
        !filled(al.end, nv, kNone) || !filled(start, nv, kNone)) {
        return false;
    }
    Vec<uint8_t>& param = tt.param;
    if (!filled(param, nv, uint8_t{0})) return false;
    for (int32_t v : p.params) param[static_cast<size_t>(v)] = 1;
    // A temporary of one basic block (first written, then used before any
    // label) is never read unwritten. When every variable is one, nothing
    // is zeroed and the program's paths need no walk.
    auto temporary = [&](size_t v) {
        return f.first_is_write[v] && binds[static_cast<size_t>(f.last[v])] == binds[static_cast<size_t>(f.first[v])];
    };
    bool all_temporaries = true;
    for (size_t v = 0; v < nv && all_temporaries; ++v) {
        all_temporaries = param[v] || f.first[v] == kNone || temporary(v);
    }
    if (!(all_temporaries ? filled(al.zero, nv, uint8_t{0}) : entry_zeroed(p, &al.zero))) return false;
    for (size_t v = 0; v < nv; ++v) {
        if (f.first[v] == kNone) {  // never used: no place at all
            al.zero[v] = 0;
            continue;
        }
        const int32_t first = f.first[v], last = f.last[v];
        if (param[v] || al.zero[v]) {
            start[v] = 0;
        } else if (temporary(v)) {
            start[v] = first;  // a temporary of one basic block
            al.end[v] = last;
            continue;
        } else {
            int32_t s = first;
            while (outer[static_cast<size_t>(s)] != kNone) s = outer[static_cast<size_t>(s)];
            start[v] = s;
        }
        al.end[v] = extend_over_loops(loops, best, start[v], last);
    }
    al.has_calls = !call_pos.empty();
    al.slots = 0;
    al.used[0] = al.used[1] = 0;
    return Scan(p, rf, al).run(start, f, call_pos, tt.count, tt.order, tt.calls_upto);
}

}  // namespace npk::codegen
