// The type checker (nitpick-subset.md §3–§7): names, types and
// conversions, statements, Result<T> consumption, builtins and extern
// signatures, then the entry points (§6.1).
//
// It checks every body of the program (top-level functions, Type methods,
// impl methods, imported files) and records what it learns in Sema; it
// never touches the tree. Errors are reported and checking goes on, so a
// run shows every error of the phase; an expression whose type could not
// be worked out gets the Error type, which converts silently to anything
// so one mistake gives one message. checker_p.h says which file does what.
#include <memory>

#include "sema/checker_p.h"

namespace npk {

namespace sema_detail {

void Checker::run() {
    size_t n = prog_.next_id + 1;
    s_.expr_type.assign(n, nullptr);
    s_.operand_type.assign(n, nullptr);
    s_.callee.assign(n, Callee{});
    s_.member.assign(n, MemberInfo{});
    s_.slot.assign(n, -1);
    s_.struct_lit.assign(n, nullptr);
    s_.field_init.assign(n, MemberInfo{});
    scopes_.resize(prog_.modules.size());

    declare_structs();
    build_scopes();
    resolve_struct_fields();
    declare_functions();
    declare_externs();
    check_impls();
    for (const FuncDecl* f : func_order_) check_body(*f);
    // §8.1: entry points are a phase of their own, after the types.
    if (diag_.error_count() == errors_at_start_) check_entry_points();
}

}  // namespace sema_detail

const std::vector<AttrInfo>& Sema::attrs_of(const Callee& c) const {
    static const std::vector<AttrInfo> none;
    if (c.kind == Callee::Kind::Func) return funcs.at(c.fn).attrs;
    if (c.kind == Callee::Kind::Extern) return externs.at(c.ext).attrs;
    return none;
}

// Options do not matter here: the type checker always checks every body
// (only the lifecycle checker has a root-only default).
std::unique_ptr<Sema> check_types(const ast::Program& prog, const Options&, Diagnostics& diag) {
    auto sema = std::make_unique<Sema>();
    if (prog.modules.empty()) {
        diag.error({}, "", "No program to check");
        return sema;
    }
    sema_detail::Checker c(prog, diag, *sema);
    c.run();
    return sema;
}

}  // namespace npk
