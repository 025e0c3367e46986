// dump_cfg (analysis/cfg.h): one line per block, its events in order.
//   B0: Eval(Name p) Eval(Call free) -> B1
//   B2 loop: Eval(Name c) ? -> B3 B4
#include <string>

#include "analysis/cfg.h"

namespace npk {
namespace {

std::string at(Loc l) { return std::to_string(l.line) + ":" + std::to_string(l.col); }

std::string expr_text(const ast::Expr& e) {
    std::string out = ast::kind_name(e.kind);
    if (e.kind == ast::ExprKind::Name) out += " " + static_cast<const ast::Name&>(e).name;
    if (e.kind == ast::ExprKind::Call) {
        const ast::Expr& c = *static_cast<const ast::Call&>(e).callee;
        if (c.kind == ast::ExprKind::Name) out += " " + static_cast<const ast::Name&>(c).name;
        if (c.kind == ast::ExprKind::Member) out += " ." + static_cast<const ast::Member&>(c).member;
    }
    if (e.kind == ast::ExprKind::Binary) out += std::string(" ") + spelling(static_cast<const ast::Binary&>(e).op);
    return out;
}

std::string event_text(const Event& e) {
    switch (e.kind) {
    case EventKind::Eval: return "Eval(" + expr_text(*e.expr) + ")";
    case EventKind::Declare: return "Declare(" + e.decl->name + ")";
    case EventKind::Drop:
        return std::string("Drop(") + drop_kind_name(e.entry.kind) + " " + e.entry.decl->name + " @" + at(e.at) + ")";
    case EventKind::DeferBegin: return "DeferBegin(" + at(e.entry.defer->loc) + " @" + at(e.at) + ")";
    case EventKind::DeferEnd: return "DeferEnd(" + at(e.entry.defer->loc) + ")";
    case EventKind::Leave: return std::string("Leave(") + spelling(e.leave->how) + ")";
    case EventKind::ScopeEnd: return "End(" + std::to_string(e.depth) + ")";
    case EventKind::DeferWritten: return "Defer(" + at(e.at) + ")";
    }
    return "?";
}

}  // namespace

std::string dump_cfg(const Cfg& g) {
    std::string out;
    for (uint32_t b : g.rpo) {
        const CfgBlock& bl = g.blocks[b];
        out += "B" + std::to_string(b) + (bl.loop_head ? " loop" : "") + (b == g.exit ? " exit" : "") + ":";
        for (const Event& e : bl.events) out += " " + event_text(e);
        if (bl.cond) out += " ?";
        if (!bl.succs.empty()) out += " ->";
        for (uint32_t s : bl.succs) out += " B" + std::to_string(s);
        out += "\n";
    }
    return out;
}

}  // namespace npk
