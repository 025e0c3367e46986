// The one dataflow engine (issue 16): a forward analysis over a
// function's control-flow graph (analysis/cfg.h), solved by a worklist to
// a fixed point, then one reporting pass.
//
// An analysis is a lattice and a transfer function:
//
//   struct A {
//       using State = ...;                         // one lattice value
//       State entry();                             // at the function's entry
//       bool join(State& into, const State& from); // into := into ⊔ from; changed?
//       void transfer(const Event&, State&, bool report);
//   };
//
// solve() calls transfer with report == false until no block's input
// changes, visiting blocks in reverse post-order (a priority worklist, so
// a loop nest is settled inside out without a round limit: the lattice's
// height bounds the work). report() then walks every reachable block
// once from its fixed-point input with report == true: each finding is
// reported once, from the state that holds on every path to it.
#pragma once

#include <cstdint>
#include <optional>
#include <queue>
#include <vector>

#include "analysis/cfg.h"

namespace npk {

template <class A>
struct Solution {
    // The state on entry to each block (nullopt: unreachable).
    std::vector<std::optional<typename A::State>> in;
    uint64_t visits = 0;  // blocks transferred before the fixed point (for tests)
};

// Whether analysis A walks the probe blocks of defer bodies (cfg.h): an
// analysis says so with `static constexpr bool kProbes = true;`.
template <class A>
constexpr bool walks_probes() {
    if constexpr (requires { A::kProbes; }) return A::kProbes;
    else return false;
}

template <class A>
Solution<A> solve(const Cfg& g, A& a) {
    Solution<A> out;
    out.in.resize(g.blocks.size());
    if (g.rpo.empty()) return out;
    std::vector<uint32_t> pos(g.blocks.size(), UINT32_MAX);  // rank in reverse post-order
    for (uint32_t i = 0; i < g.rpo.size(); ++i) pos[g.rpo[i]] = i;
    std::priority_queue<uint32_t, std::vector<uint32_t>, std::greater<uint32_t>> work;
    std::vector<uint8_t> queued(g.blocks.size(), 0);
    out.in[g.rpo[0]] = a.entry();
    work.push(0);
    queued[g.rpo[0]] = 1;
    while (!work.empty()) {
        const uint32_t b = g.rpo[work.top()];
        work.pop();
        queued[b] = 0;
        ++out.visits;
        typename A::State s = *out.in[b];
        for (const Event& e : g.blocks[b].events) a.transfer(e, s, false);
        for (uint32_t succ : g.blocks[b].succs) {
            if (g.blocks[succ].probe && !walks_probes<A>()) continue;
            bool changed;
            if (!out.in[succ]) {
                out.in[succ] = s;
                changed = true;
            } else {
                changed = a.join(*out.in[succ], s);
            }
            if (changed && !queued[succ]) {
                queued[succ] = 1;
                work.push(pos[succ]);
            }
        }
    }
    return out;
}

// The reporting pass: every reachable block once, in reverse post-order.
template <class A>
void report(const Cfg& g, A& a, const Solution<A>& sol) {
    for (uint32_t b : g.rpo) {
        if (!sol.in[b]) continue;
        typename A::State s = *sol.in[b];
        for (const Event& e : g.blocks[b].events) a.transfer(e, s, true);
    }
}

}  // namespace npk
