// The type checker's insides, private to sema/. One Checker object
// checks a whole program; its work is split by concern over:
//
//   check.cpp        the order of the work (run) and check_types()
//   resolve.cpp      names: module scopes, imports, builtins, locals
//   declare.cpp      declarations: types as written, struct C layout,
//                    functions, externs, attributes, impls, entry points
//   result_flow.cpp  Result<T>: what conditions prove ("no checky no
//                    val"), .is_error/.value/.error, pass/return/Result{}
//   stmts.cpp        statements, over the shared scope walker
//   exprs.cpp        expressions and conversions (§6.4)
//   calls.cpp        calls of builtins, externs, functions and methods
//
// Everything it learns goes to Sema (sema.h); it never touches the tree.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "sema/sema.h"
#include "syntax/scopes.h"

// Keeps a function out of the recursive paths that call it (see check_expr).
#define NPK_COLD [[gnu::noinline]]

namespace npk::sema_detail {

using namespace ast;

bool lookup_builtin(const std::string& name, Builtin& out);

inline bool is_upper(const std::string& s) { return !s.empty() && s[0] >= 'A' && s[0] <= 'Z'; }

// Messages start with a capital letter (or a quoted piece of source):
// `what` phrases such as "extern 'f'" open a sentence through this.
inline std::string sentence(std::string s) {
    if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
    return s;
}

// An unsuffixed integer literal, or `-` applied to one (§6.4: "-LIT
// counts as a literal of negative value").
struct LitValue {
    uint64_t magnitude = 0;
    bool negative = false;
};
bool unsuffixed_literal(const Expr& e, LitValue& out);
// Does the value fit the integer type `t`? (syntax/literal.h decides.)
bool literal_fits(const LitValue& v, const Type* t);
std::string lit_str(const LitValue& v);

// Result<T> facts at one point of a function (§6.2, "no checky no val"):
// slots proven not to hold an error, and slots whose is_error was read.
struct Facts {
    std::vector<int32_t> ok, tested;

    static bool has(const std::vector<int32_t>& v, int32_t s) {
        return std::find(v.begin(), v.end(), s) != v.end();
    }
    static void add(std::vector<int32_t>& v, int32_t s) {
        if (!has(v, s)) v.push_back(s);
    }
    void forget(int32_t s) {
        ok.erase(std::remove(ok.begin(), ok.end(), s), ok.end());
        tested.erase(std::remove(tested.begin(), tested.end(), s), tested.end());
    }
    // Where two paths join: proven on both, tested on either.
    static Facts meet(const Facts& a, const Facts& b);
};

enum class TypeUse { Local, Param, Return, Field, ExternParam, ExternReturn };

class Checker {
public:
    Checker(const Program& prog, Diagnostics& diag, Sema& sema)
        : prog_(prog), diag_(diag), s_(sema), errors_at_start_(diag.error_count()) {}

    void run();

    // ---- the scope walker's hooks (syntax/scopes.h) -------------------
    // A statement's outcome: whether it ends the function on every path.
    using Outcome = bool;
    void enter_scope(const ScopeView&);
    Outcome stmt(const Stmt& s, Outcome so_far) { return check_stmt(s, *facts_) || so_far; }
    bool stops(Outcome) const { return false; }  // code after a leaving statement is checked too
    void leave_scope(const ScopeView&, Outcome);

private:
    // ---- names (resolve.cpp) ------------------------------------------
    struct CallName {            // what a bare `name(...)` can call
        const FuncDecl* fn = nullptr;
        const ExternDecl* ext = nullptr;
        uint32_t module = 0;     // where it is declared
        Loc loc;
    };
    struct TypeName {            // what a capitalised name can mean
        const TypeDecl* type = nullptr;
        const StructInfo* st = nullptr;
        uint32_t module = 0;
        Loc loc;
    };
    struct ModuleScope {
        std::unordered_map<std::string, CallName> calls;
        std::unordered_map<std::string, TypeName> types;
    };

    void error(Loc loc, const std::string& msg) { diag_.error(loc, "", msg); }
    void note(Loc loc, const std::string& msg) { diag_.note(loc, msg); }
    const Module& mod(uint32_t m) const { return *prog_.modules[m]; }

    void declare_structs();
    void add_call(uint32_t m, const std::string& name, CallName c, const std::string& why);
    void add_type(uint32_t m, const std::string& name, TypeName t, const std::string& why);
    void build_scopes();
    const TypeName* find_type_name(uint32_t m, const std::string& name) const;
    int32_t lookup_local(const std::string& name) const;
    const SlotInfo& slot(int32_t i) const { return fn_->slots[static_cast<size_t>(i)]; }
    // A new local in the innermost scope; false if that scope already
    // has one of this name.
    int32_t declare_local(const std::string& name, SlotInfo slot, bool& duplicate);
    NPK_COLD const Type* check_name(const Name& n);

    // ---- declarations (declare.cpp) -----------------------------------
    const Type* resolve_type(const TypeRef& r, uint32_t m, TypeUse use);
    void resolve_struct_fields();
    bool layout(StructInfo& st, std::vector<const StructInfo*>& path);
    void declare_func(const FuncDecl& f, uint32_t m, const std::string& display, bool top_level);
    void declare_functions();
    void declare_externs();
    std::vector<AttrInfo> check_attrs(const std::vector<Attr>& attrs, const std::vector<Param>& params,
                                      const std::string& display);
    void check_impls();
    void check_entry_points();

    // ---- Result<T> flow (result_flow.cpp) -----------------------------
    void cond_facts(const Expr& e, const Facts& in, Facts& t, Facts& f);
    void check_pass(const Leave& s, Facts& facts);
    void check_return(const Leave& s, Facts& facts);
    void check_result_literal(const StructLit& lit, Facts& facts, const Type* ret);
    NPK_COLD const Type* raw_result(const Expr& e, const Type* t);
    NPK_COLD const Type* check_member(const Member& m, Facts& facts);

    // ---- statements (stmts.cpp) ---------------------------------------
    void check_body(const FuncDecl& f);
    bool check_scope(const ScopeView& scope, Facts& facts);
    bool check_stmt(const Stmt& st, Facts& facts);
    void check_var_decl(const VarDecl& d, Facts& facts);
    bool check_if(const If& s, Facts& facts);
    void check_leave(const Leave& s, Facts& facts);
    void check_exit(const Leave& s, Facts& facts);
    bool not_here(const Stmt& s, const char* what);
    void check_fail(const Leave& s, Facts& facts);
    const char* role_name() const { return fn_->role == FuncRole::Main ? "main" : "failsafe"; }

    // ---- loops and element access (loops.cpp) -------------------------
    bool check_while(const While& s, Facts& facts);
    void check_loop_jump(const Stmt& s, const char* what);
    NPK_COLD const Type* check_index(const Index& ix, Facts& facts);
    NPK_COLD const Type* check_index_assign(const Assign& a, Facts& facts);
    NPK_COLD const Type* check_str_lit(const StrLit& lit, const Type* target);

    // ---- expressions (exprs.cpp) --------------------------------------
    bool convertible(const Type* from, const Type* to) const;
    bool convert(const Expr& e, const Type* from, const Type* to, const std::string& what);
    const Type* set(const Expr& e, const Type* t);
    const Type* check_expr(const Expr& e, Facts& facts, const Type* target = nullptr);
    NPK_COLD const Type* check_int_lit(const IntLit& lit, bool negated, const Type* target, Loc at = {});
    NPK_COLD const Type* check_unary(const Unary& u, Facts& facts, const Type* target);
    const Type* check_binary(const Binary& b, Facts& facts);
    NPK_COLD const Type* check_logical(const Binary& b, Facts& facts);
    NPK_COLD const Type* binary_type(const Binary& b, const Type* lt, const Type* rt);
    NPK_COLD const Type* check_assign(const Assign& a, Facts& facts);
    NPK_COLD const Type* check_struct_lit(const StructLit& lit, Facts& facts);
    NPK_COLD const Type* check_cast(const Cast& c, Facts& facts);

    // ---- calls (calls.cpp) --------------------------------------------
    void check_args(const Call& c, Facts& facts, const std::vector<const Type*>& params, const std::string& what);
    const Type* check_builtin(const Call& c, Facts& facts, Builtin b);
    NPK_COLD const Type* check_call(const Call& c, Facts& facts);

    // ---- state --------------------------------------------------------
    const Program& prog_;
    Diagnostics& diag_;
    Sema& s_;
    std::vector<ModuleScope> scopes_;
    std::unordered_map<const StructDecl*, StructInfo*> struct_of_;
    std::vector<const FuncDecl*> func_order_;
    size_t errors_at_start_;

    // The body being checked.
    FuncInfo* fn_ = nullptr;
    uint32_t module_ = 0;
    Facts* facts_ = nullptr;   // the facts of the scope being walked
    int defer_depth_ = 0;
    int loop_depth_ = 0;       // enclosing `while` loops (a defer body starts at 0)
    // Locals in scope: by name, the slots of that name, innermost last;
    // and per open scope, the names it declared (to close it). Lookup
    // and declaration cost O(1) however many locals a body has.
    std::unordered_map<std::string, std::vector<int32_t>> locals_;
    std::vector<std::vector<const std::string*>> open_scopes_;
    std::vector<uint32_t> slot_depth_;  // by slot: the depth of the scope that declared it
};

}  // namespace npk::sema_detail
