// program_flow.cpp — facts about a recorded program that every lowering
// reads: what each instruction reads and writes, and which variables a
// path from the entry may read before any write (those alone are zeroed
// at entry).
#include "codegen/program.h"

namespace npk::codegen {

const char* kind_name(Kind k) {
    static constexpr const char* kName[kKindCount] = {
        "const_int", "const_f64", "mov", "binop", "binop_imm", "neg", "not", "convert", "load", "store",
        "bind", "jump", "branch", "branch_cmp", "branch_cmp_imm", "switch", "call", "call_indirect", "call_self", "ret",
    };
    const auto i = static_cast<unsigned>(k);
    return i < kKindCount ? kName[i] : "?";
}

namespace {

// Whether control may run from `in` into the next instruction, and
// whether `in` ends a basic block.
bool falls_through(Kind k) { return k != Kind::jump && k != Kind::switch_ && k != Kind::ret; }
bool ends_block(Kind k) {
    return k == Kind::jump || k == Kind::branch || k == Kind::branch_cmp || k == Kind::branch_cmp_imm ||
           k == Kind::switch_ || k == Kind::ret;
}

// (key, block) pairs grouped by key (a variable, or a block for the
// edges): CSR, start[key] .. start[key + 1] in `block`.
struct ByVar {
    Vec<uint32_t> start;  // per variable + 1
    Vec<uint32_t> block;
    bool build(size_t nvars, const Vec<uint64_t>& pairs) {  // pairs: var << 32 | block
        if (!start.reserve(nvars + 1) || !block.reserve(pairs.size())) return false;
        for (size_t v = 0; v <= nvars; ++v) (void)start.push(0);
        for (uint64_t x : pairs) ++start[static_cast<size_t>(x >> 32) + 1];
        for (size_t v = 0; v < nvars; ++v) start[v + 1] += start[v];
        for (size_t i = 0; i < pairs.size(); ++i) (void)block.push(0);
        Vec<uint32_t> fill;
        if (!fill.reserve(nvars)) return false;
        for (size_t v = 0; v < nvars; ++v) (void)fill.push(start[v]);
        for (uint64_t x : pairs) block[fill[static_cast<size_t>(x >> 32)]++] = static_cast<uint32_t>(x);
        return true;
    }
};

// The control-flow graph's predecessors, as CSR over the blocks.
struct Flow {
    Vec<uint32_t> first;  // per block: its first instruction
    ByVar pred;           // per block: its predecessors
};

bool build_flow(const Program& p, Flow* f) {
    Vec<uint32_t> label_block;
    if (!label_block.reserve(p.label_bound.size())) return false;
    for (size_t l = 0; l < p.label_bound.size(); ++l) (void)label_block.push(0);
    if (!f->first.push(0)) return false;
    for (size_t i = 0; i < p.insts.size(); ++i) {
        const Inst& in = p.insts[i];
        const bool starts = in.kind == Kind::bind && i > 0 && f->first.back() != i;
        if (starts && !f->first.push(static_cast<uint32_t>(i))) return false;
        if (in.kind == Kind::bind) label_block[static_cast<size_t>(in.a)] = static_cast<uint32_t>(f->first.size() - 1);
        if (ends_block(in.kind) && i + 1 < p.insts.size() && !f->first.push(static_cast<uint32_t>(i + 1))) return false;
    }
    const size_t nb = f->first.size();
    Vec<uint64_t> edges;  // to << 32 | from
    for (size_t blk = 0; blk < nb; ++blk) {
        const size_t end = blk + 1 < nb ? f->first[blk + 1] : p.insts.size();
        if (end == f->first[blk]) {  // an empty block (an empty program)
            if (blk + 1 < nb && !edges.push(uint64_t{blk + 1} << 32 | blk)) return false;
            continue;
        }
        const Inst& last = p.insts[end - 1];
        auto edge = [&](uint32_t to) { return edges.push(uint64_t{to} << 32 | blk); };
        auto to_label = [&](int32_t l) { return edge(label_block[static_cast<size_t>(l)]); };
        bool ok = true;
        if (last.kind == Kind::jump || last.kind == Kind::branch) ok = to_label(last.a);
        if (last.kind == Kind::branch_cmp || last.kind == Kind::branch_cmp_imm) ok = to_label(last.c);
        if (last.kind == Kind::switch_) {
            ok = to_label(last.b);
            for (int64_t k = 0; ok && k < last.imm; ++k) {
                ok = to_label(p.switch_labels[static_cast<size_t>(last.args + k)]);
            }
        }
        if (ok && falls_through(last.kind) && blk + 1 < nb) ok = edge(static_cast<uint32_t>(blk + 1));
        if (!ok) return false;
    }
    return f->pred.build(nb, edges);  // the same grouping, over blocks
}

}  // namespace

bool entry_zeroed(const Program& p, Vec<uint8_t>* out) {
    const size_t nv = p.vars.size();
    out->clear();
    if (!out->reserve(nv)) return false;
    for (size_t v = 0; v < nv; ++v) (void)out->push(0);
    if (p.insts.empty()) return true;
    Flow f;
    if (!build_flow(p, &f)) return false;
    const size_t nb = f.first.size();
    // Per block, the variables read before written in it (upward exposed)
    // and those written in it.
    Vec<uint32_t> read_stamp, write_stamp;
    Vec<uint64_t> exposed, written;  // var << 32 | block
    if (!read_stamp.reserve(nv) || !write_stamp.reserve(nv)) return false;
    for (size_t v = 0; v < nv; ++v) (void)(read_stamp.push(0) && write_stamp.push(0));
    int32_t reads[kMaxReads];
    for (size_t blk = 0; blk < nb; ++blk) {
        const size_t end = blk + 1 < nb ? f.first[blk + 1] : p.insts.size();
        const auto stamp = static_cast<uint32_t>(blk + 1);
        for (size_t i = f.first[blk]; i < end; ++i) {
            const int n = reads_of(p, p.insts[i], reads);
            for (int k = 0; k < n; ++k) {
                const auto v = static_cast<size_t>(reads[k]);
                if (read_stamp[v] == stamp || write_stamp[v] == stamp) continue;
                read_stamp[v] = stamp;
                if (!exposed.push(uint64_t{v} << 32 | blk)) return false;
            }
            const int32_t w = write_of(p.insts[i]);
            if (w >= 0 && write_stamp[static_cast<size_t>(w)] != stamp) {
                write_stamp[static_cast<size_t>(w)] = stamp;
                if (!written.push(uint64_t{static_cast<uint32_t>(w)} << 32 | blk)) return false;
            }
        }
    }
    ByVar ue, defs;
    if (!ue.build(nv, exposed) || !defs.build(nv, written)) return false;
    // Per variable read before written somewhere: walk back from those
    // blocks over predecessors, stopping at blocks that write it; reaching
    // the entry block's top means a path reads it unwritten. Past a budget
    // (a pathological program), the rest are zeroed unasked: always safe.
    Vec<uint32_t> kill, seen, work;
    if (!kill.reserve(nb) || !seen.reserve(nb)) return false;
    for (size_t blk = 0; blk < nb; ++blk) (void)(kill.push(0) && seen.push(0));
    for (int32_t v : p.params) (*out)[static_cast<size_t>(v)] = 2;  // never zeroed
    size_t budget = size_t{16} << 20;  // steps: well under 0.1 s
    for (size_t v = 0; v < nv; ++v) {
        if (ue.start[v] == ue.start[v + 1] || (*out)[v] == 2) continue;
        if (budget == 0) {
            (*out)[v] = 1;
            continue;
        }
        const auto mark = static_cast<uint32_t>(v + 1);
        for (uint32_t k = defs.start[v]; k < defs.start[v + 1]; ++k) kill[defs.block[k]] = mark;
        work.clear();
        bool live = false;
        for (uint32_t k = ue.start[v]; k < ue.start[v + 1] && !live; ++k) {
            const uint32_t blk = ue.block[k];
            live = blk == 0;
            if (seen[blk] != mark) {
                seen[blk] = mark;
                if (!work.push(blk)) return false;
            }
        }
        while (!live && !work.empty()) {
            const uint32_t x = work.back();
            work.pop();
            for (uint32_t k = f.pred.start[x]; k < f.pred.start[x + 1] && !live; ++k) {
                const uint32_t q = f.pred.block[k];
                if (budget > 0) --budget;
                if (seen[q] == mark) continue;
                seen[q] = mark;
                if (kill[q] == mark) continue;
                live = q == 0;
                if (!work.push(q)) return false;
            }
        }
        (*out)[v] = live ? 1 : 0;
    }
    for (int32_t v : p.params) (*out)[static_cast<size_t>(v)] = 0;
    return true;
}

}  // namespace npk::codegen
