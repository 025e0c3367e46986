#include "analysis/cfg.h"

#include <limits>
#include <utility>

#include "sema/sema.h"
#include "syntax/scopes.h"

namespace npk {
namespace {

using ast::Expr;
using ast::Stmt;

class Builder {
public:
    Builder(const ast::FuncDecl& fd, const Sema& s, const DropSwitches& on)
        : s_(s), fi_(s.func(&fd)), on_(on) {
        g_.func = &fd;
        cur_ = new_block();       // the entry
        g_.exit = new_block();
    }

    Cfg build(const ast::FuncDecl& fd) {
        if (fd.body) scope(ast::block_scope(*fd.body));
        goto_(g_.exit);           // falling off the end leaves too
        order();
        return std::move(g_);
    }

private:
    struct Loop {
        uint32_t head, after;
        size_t depth;  // scopes_.size() when the body's scope opens
    };

    uint32_t new_block() {
        g_.blocks.emplace_back();
        return static_cast<uint32_t>(g_.blocks.size() - 1);
    }
    void edge(uint32_t from, uint32_t to) {
        g_.blocks[from].succs.push_back(to);
        g_.blocks[to].preds.push_back(from);
    }
    void goto_(uint32_t to) { edge(cur_, to); }
    void emit(Event e) { g_.blocks[cur_].events.push_back(std::move(e)); }
    // After a jump: what follows is unreachable until a label.
    void dead_end() { cur_ = new_block(); }

    // ---- scopes and their exits ------------------------------------------
    void scope(const ast::ScopeView& v) {
        scopes_.emplace_back();
        ends_.push_back(v.end);
        for (const ast::StmtPtr& st : v.stmts) stmt(*st);
        scope_end(scopes_.size() - 1, v.end);
        run(exit_schedule(scopes_, ExitHow::ScopeEnd), ExitHow::ScopeEnd, v.end);
        scopes_.pop_back();
        ends_.pop_back();
    }

    void scope_end(size_t depth, Loc at, const Stmt* jump = nullptr) {
        Event e{EventKind::ScopeEnd, nullptr, nullptr, nullptr, {}, at};
        e.depth = static_cast<uint32_t>(depth);
        e.jump = jump;
        emit(e);
    }

    // The drops and defers of one scope exit, as events at `at`.
    void run(const std::vector<ExitEntry>& todo, ExitHow how, Loc at) {
        g_.exits.push_back({at, how, todo});
        for (const ExitEntry& e : todo) {
            if (e.what == ExitEntry::What::Drop) {
                emit({EventKind::Drop, nullptr, nullptr, nullptr, e, at});
                continue;
            }
            emit({EventKind::DeferBegin, nullptr, nullptr, nullptr, e, at});
            defer_body(*e.defer);
            emit({EventKind::DeferEnd, nullptr, nullptr, nullptr, e, at});
        }
    }

    // A defer body's scope: break / continue cannot leave it.
    void defer_body(const ast::Block& body) {
        std::vector<Loop> outer = std::move(loops_);
        loops_.clear();
        scope(ast::block_scope(body));
        loops_ = std::move(outer);
    }

    // The body of `d` where it is written, in blocks of its own that lead
    // nowhere (CfgBlock::probe); its scope exits are not the function's.
    void probe(const ast::Defer& d) {
        const uint32_t first = new_block(), after = new_block();
        goto_(first);
        goto_(after);
        const size_t exits = g_.exits.size();
        cur_ = first;
        defer_body(*d.body);
        g_.exits.resize(exits);
        for (uint32_t b = first; b < g_.blocks.size(); ++b)
            if (b != after) g_.blocks[b].probe = true;
        cur_ = after;
    }

    // break / continue: every scope down to the loop body's ends (each
    // at its own end, as the interpreter unwinds them).
    void leave_loop(const Stmt& jump, bool to_head) {
        if (loops_.empty()) {  // the checker rejects it; nothing runs
            dead_end();
            return;
        }
        const Loop l = loops_.back();
        for (size_t n = scopes_.size(); n > l.depth; --n) {
            scope_end(n - 1, ends_[n - 1], &jump);
            run(exit_schedule(std::span<const ScopeRecord>(scopes_.data(), n), ExitHow::ScopeEnd), ExitHow::ScopeEnd,
                ends_[n - 1]);
        }
        goto_(to_head ? l.head : l.after);
        if (to_head) ++g_.back_edges;
        dead_end();
    }

    // ---- statements -----------------------------------------------------
    void stmt(const Stmt& st) {
        ast::visit(st, ast::Overload{
            [&](const ast::VarDecl& d) {
                if (d.init) expr(*d.init);
                Event e{EventKind::Declare, nullptr, &d, nullptr, {}, d.loc};
                e.depth = static_cast<uint32_t>(scopes_.size() - 1);
                emit(e);
                register_decl(scopes_.back(), d, s_, fi_, on_);
            },
            [&](const ast::If& i) {
                const uint32_t then_b = new_block(), else_b = new_block(), join = new_block();
                cond(*i.cond, then_b, else_b);
                cur_ = then_b;
                scope(ast::arm_scope(i.then_body));
                goto_(join);
                cur_ = else_b;
                if (i.else_body) scope(ast::arm_scope(i.else_body));
                goto_(join);
                cur_ = join;
            },
            [&](const ast::Defer& d) {
                probe(d);
                ExitEntry entry;
                entry.what = ExitEntry::What::Defer;
                entry.defer = d.body.get();
                emit({EventKind::DeferWritten, nullptr, nullptr, nullptr, entry, d.loc});
                register_defer(scopes_.back(), d);
            },
            [&](const ast::Block& b) { scope(ast::block_scope(b)); },
            [&](const ast::Leave& l) {
                if (l.value) expr(*l.value);
                emit({EventKind::Leave, nullptr, nullptr, &l, {}, l.loc});
                if (l.runs_scope_exits()) scope_end(0, l.loc);  // every scope ends at once
                if (l.runs_scope_exits())
                    run(exit_schedule(scopes_, ExitHow::Leave, moved_slot(l, s_)), ExitHow::Leave, l.loc);
                goto_(g_.exit);
                dead_end();
            },
            [&](const ast::ExprStmt& e) { expr(*e.expr); },
            [&](const ast::While& w) { loop(w); },
            [&](const ast::Break& b) { leave_loop(b, false); },
            [&](const ast::Continue& c) { leave_loop(c, true); },
        });
    }

    void loop(const ast::While& w) {
        const uint32_t head = new_block(), body = new_block(), after = new_block();
        g_.blocks[head].loop_head = true;
        goto_(head);
        cur_ = head;
        cond(*w.cond, body, after);
        cur_ = body;
        loops_.push_back({head, after, scopes_.size()});
        scope(ast::block_scope(*w.body));
        loops_.pop_back();
        goto_(head);
        ++g_.back_edges;
        cur_ = after;
    }

    // ---- expressions ----------------------------------------------------
    static bool short_circuit(const Expr& e, ast::BinaryOp op) {
        return e.kind == ast::ExprKind::Binary && static_cast<const ast::Binary&>(e).op == op;
    }

    // `e` decides between `t` and `f`: && and || as branches.
    void cond(const Expr& e, uint32_t t, uint32_t f) {
        const bool is_and = short_circuit(e, ast::BinaryOp::And);
        if (is_and || short_circuit(e, ast::BinaryOp::Or)) {
            const auto& b = static_cast<const ast::Binary&>(e);
            const uint32_t mid = new_block();
            if (is_and) cond(*b.lhs, mid, f);
            else cond(*b.lhs, t, mid);
            cur_ = mid;
            cond(*b.rhs, t, f);
            return;
        }
        expr(e);
        if (e.kind == ast::ExprKind::BoolLit) {  // `while (true)`: only one way on
            goto_(static_cast<const ast::BoolLit&>(e).value ? t : f);
            return;
        }
        g_.blocks[cur_].cond = &e;
        goto_(t);
        goto_(f);
    }

    // `e` as a value: its operands in evaluation order, then itself.
    void expr(const Expr& e) {
        const bool is_and = short_circuit(e, ast::BinaryOp::And);
        if (is_and || short_circuit(e, ast::BinaryOp::Or)) {
            const auto& b = static_cast<const ast::Binary&>(e);
            expr(*b.lhs);
            const uint32_t rhs = new_block(), join = new_block();
            g_.blocks[cur_].cond = b.lhs.get();
            goto_(is_and ? rhs : join);
            goto_(is_and ? join : rhs);
            cur_ = rhs;
            expr(*b.rhs);
            goto_(join);
            cur_ = join;
        } else {
            ast::for_each_child(e, [&](const Expr& c) { expr(c); });
        }
        emit({EventKind::Eval, &e, nullptr, nullptr, {}, e.loc});
    }

    // Reverse post-order from the entry (iterative: loops nest deeply).
    void order() {
        const size_t n = g_.blocks.size();
        std::vector<uint8_t> seen(n, 0);
        std::vector<std::pair<uint32_t, size_t>> stack{{0u, 0u}};
        std::vector<uint32_t> post;
        seen[0] = 1;
        while (!stack.empty()) {
            auto& [b, i] = stack.back();
            // The last successor first: the post-order then puts a
            // branch's first successor (an `if`'s then arm, a loop's body)
            // before what follows it, and the reverse order reads like
            // the source (findings are reported in it).
            const auto& succs = g_.blocks[b].succs;
            if (i < succs.size()) {
                const uint32_t next = succs[succs.size() - 1 - i++];
                if (!seen[next]) {
                    seen[next] = 1;
                    stack.push_back({next, 0});
                }
                continue;
            }
            post.push_back(b);
            stack.pop_back();
        }
        g_.rpo.assign(post.rbegin(), post.rend());
    }

    const Sema& s_;
    const FuncInfo& fi_;
    const DropSwitches& on_;
    Cfg g_;
    uint32_t cur_ = 0;
    std::vector<ScopeRecord> scopes_;
    std::vector<Loc> ends_;  // each open scope's end, as scopes_
    std::vector<Loop> loops_;
};

}  // namespace

Cfg build_cfg(const ast::FuncDecl& fd, const Sema& s, const DropSwitches& on) { return Builder(fd, s, on).build(fd); }

}  // namespace npk
