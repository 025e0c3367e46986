// The syntax tree of the Nitpick subset (nitpick-subset.md §2).
//
// The load builds it: the parser makes each file's Module, then the
// loader fills in where each `use` leads (UseDecl::resolved_module).
// Nothing after the load writes to it. Later phases record what they
// learn in side tables indexed by the `id` that every Expr and Stmt
// carries (dense, unique within one Program, assigned by the parser from
// Program::next_id), never in the nodes themselves.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "diag/diag.h"

namespace npk::ast {

// ---------------------------------------------------------------------
// Qualifiers: bit set, in source order irrelevant.
// ---------------------------------------------------------------------
enum Qual : uint32_t {
    Q_NONE = 0,
    Q_WILD = 1u << 0,
    Q_WILDX = 1u << 1,
    Q_FIXED = 1u << 2,
    Q_CONST = 1u << 3,
    Q_STACK = 1u << 4,
    Q_GC = 1u << 5,
    Q_DOLLAR_I = 1u << 6,  // $$i
    Q_DOLLAR_M = 1u << 7,  // $$m
};

// ---------------------------------------------------------------------
// Types as written.
//   type = "?" "*" | "?" "->" | base [ "->" | "*" ]
// ---------------------------------------------------------------------
struct TypeRef {
    enum class Base {
        Int,      // int8..int64 (bits); also int128.. if lexed, rejected by the checker
        UInt,     // uint8..uint64
        Tbb,      // tbb8..tbb64
        Bool,
        Nil,      // NIL
        Named,    // IDENT: a struct name, or `void` (extern returns only)
        Result,   // Result<inner>
        Handle,   // Handle<inner>: a generation-checked handle (an int64) to an inner
        Erased,   // "?" followed by "*" or "->": pointer to nothing known
    };
    enum class Ptr {
        None,
        Native,   // T->  (and ?->)
        C,        // T*   (and ?*), extern signatures only
    };

    Base base = Base::Nil;
    Ptr ptr = Ptr::None;
    uint32_t bits = 0;                 // Int / UInt / Tbb
    std::string name;                  // Named
    std::shared_ptr<TypeRef> inner;    // Result, Handle
    Loc loc;
};

// ---------------------------------------------------------------------
// Expressions.
// ---------------------------------------------------------------------
// The one list of expression kinds. The enum, the dispatch of visit()
// and the kind names are generated from it; each kind's struct is below.
#define NPK_EXPR_KINDS(X) \
    X(IntLit) X(StrLit) X(BoolLit) X(Name) \
    X(Unary) X(Binary) X(Assign) X(Call) X(Member) X(StructLit) \
    X(Raw) X(Drop) X(Cast) \
    X(Index)

#define NPK_AST_ENUMERATOR(K) K,
enum class ExprKind { NPK_EXPR_KINDS(NPK_AST_ENUMERATOR) };

enum class UnaryOp { Neg, Not };
enum class BinaryOp { Or, And, Eq, Ne, Lt, Le, Gt, Ge, Add, Sub, Mul, Div, Mod };

// The operator as written in source (for messages and dumps).
inline const char* spelling(BinaryOp op) {
    switch (op) {
    case BinaryOp::Or: return "||";
    case BinaryOp::And: return "&&";
    case BinaryOp::Eq: return "==";
    case BinaryOp::Ne: return "!=";
    case BinaryOp::Lt: return "<";
    case BinaryOp::Le: return "<=";
    case BinaryOp::Gt: return ">";
    case BinaryOp::Ge: return ">=";
    case BinaryOp::Add: return "+";
    case BinaryOp::Sub: return "-";
    case BinaryOp::Mul: return "*";
    case BinaryOp::Div: return "/";
    case BinaryOp::Mod: return "%";
    }
    return "?";
}

struct Expr {
    ExprKind kind;
    Loc loc;        // first token of the expression (for Binary: the operator)
    uint32_t id = 0;
    explicit Expr(ExprKind k) : kind(k) {}
    virtual ~Expr() = default;
};
using ExprPtr = std::unique_ptr<Expr>;

struct IntLit : Expr {
    uint64_t value = 0;       // magnitude as written (no sign: `-1` is Unary Neg of 1)
    bool has_suffix = false;  // e.g. 42i32
    bool suffix_signed = true;
    bool suffix_tbb = false;
    uint32_t suffix_bits = 0; // 8, 16, 32, 64 (larger widths lex; checker rejects)
    IntLit() : Expr(ExprKind::IntLit) {}
};

struct StrLit : Expr {
    std::string value;        // escapes already decoded
    StrLit() : Expr(ExprKind::StrLit) {}
};

struct BoolLit : Expr {
    bool value = false;
    BoolLit() : Expr(ExprKind::BoolLit) {}
};

// A bare name: a local, a parameter, a function, a builtin, or (as the
// object of a Member) a Type name.
struct Name : Expr {
    std::string name;
    Name() : Expr(ExprKind::Name) {}
};

struct Unary : Expr {
    UnaryOp op = UnaryOp::Neg;
    ExprPtr operand;
    Unary() : Expr(ExprKind::Unary) {}
};

struct Binary : Expr {
    BinaryOp op = BinaryOp::Add;
    ExprPtr lhs, rhs;
    Binary() : Expr(ExprKind::Binary) {}
};

// target = value; target is a Name or a Member of a Name.
struct Assign : Expr {
    ExprPtr target, value;
    Assign() : Expr(ExprKind::Assign) {}
};

// callee(args): callee is a Name (function, extern, builtin) or a Member
// whose object is a Name with a capital first letter (Type method call).
struct Call : Expr {
    ExprPtr callee;
    std::vector<ExprPtr> args;
    Call() : Expr(ExprKind::Call) {}
};

// object.member: struct field, Result field, or Type method (as callee).
struct Member : Expr {
    ExprPtr object;
    std::string member;
    Loc member_loc;
    Member() : Expr(ExprKind::Member) {}
};

struct FieldInit {
    std::string name;
    Loc loc;
    ExprPtr value;
};

// TypeName{ field: value, ... } (also Result{...}).
struct StructLit : Expr {
    std::string type_name;
    std::vector<FieldInit> fields;
    StructLit() : Expr(ExprKind::StructLit) {}
};

struct Raw : Expr {
    ExprPtr operand;
    Raw() : Expr(ExprKind::Raw) {}
};

struct Drop : Expr {
    ExprPtr operand;
    Drop() : Expr(ExprKind::Drop) {}
};

// @cast<type>(operand): an explicit conversion.
struct Cast : Expr {
    TypeRef type;
    ExprPtr operand;
    Cast() : Expr(ExprKind::Cast) {}
};

// p[i]: the i-th integer of the memory p points at (upstream's pointer
// subscript; docs/language.md). The element's type and width are p's
// pointee type; also an assignment target.
struct Index : Expr {
    ExprPtr object, index;
    Index() : Expr(ExprKind::Index) {}
};

// ---------------------------------------------------------------------
// Statements.
// ---------------------------------------------------------------------
// The one list of statement kinds (as NPK_EXPR_KINDS).
#define NPK_STMT_KINDS(X) \
    X(VarDecl) X(If) X(Defer) X(Block) X(Leave) X(ExprStmt) \
    X(While) X(Break) X(Continue)

enum class StmtKind { NPK_STMT_KINDS(NPK_AST_ENUMERATOR) };
#undef NPK_AST_ENUMERATOR

struct Stmt {
    StmtKind kind;
    Loc loc;        // first token
    uint32_t id = 0;
    explicit Stmt(StmtKind k) : kind(k) {}
    virtual ~Stmt() = default;
};
using StmtPtr = std::unique_ptr<Stmt>;

struct VarDecl : Stmt {
    uint32_t quals = Q_NONE;
    TypeRef type;
    std::string name;
    Loc name_loc;
    ExprPtr init;   // may be null: zero value
    VarDecl() : Stmt(StmtKind::VarDecl) {}
};

struct Block : Stmt {
    std::vector<StmtPtr> stmts;
    Loc close_loc;  // the closing '}'
    Block() : Stmt(StmtKind::Block) {}
};

struct If : Stmt {
    ExprPtr cond;
    StmtPtr then_body;   // a Block or a single statement
    StmtPtr else_body;   // null, an If, a Block or a single statement
    If() : Stmt(StmtKind::If) {}
};

struct Defer : Stmt {
    std::unique_ptr<Block> body;
    Defer() : Stmt(StmtKind::Defer) {}
};

// exit e; pass [e]; fail e; return [e]: one node, since all four leave
// the function (exit: the program) and differ only in what the caller
// gets and in which scope exits run (every active block's drops and
// defers on pass / fail / return; none on exit).
enum class LeaveKind { Exit, Pass, Fail, Return };

inline const char* spelling(LeaveKind k) {
    switch (k) {
    case LeaveKind::Exit: return "exit";
    case LeaveKind::Pass: return "pass";
    case LeaveKind::Fail: return "fail";
    case LeaveKind::Return: return "return";
    }
    return "?";
}

struct Leave : Stmt {
    LeaveKind how = LeaveKind::Exit;
    ExprPtr value;  // null for a bare `pass;` / `return;`
    Leave() : Stmt(StmtKind::Leave) {}
    // pass and return hand their value to the caller (ownership moves).
    bool transfers() const { return how == LeaveKind::Pass || how == LeaveKind::Return; }
    // exit ends the process: no scope exit runs.
    bool runs_scope_exits() const { return how != LeaveKind::Exit; }
};

struct ExprStmt : Stmt {
    ExprPtr expr;
    ExprStmt() : Stmt(StmtKind::ExprStmt) {}
};

// while (cond) { body }; break; continue; (docs/language.md)
struct While : Stmt {
    ExprPtr cond;
    std::unique_ptr<Block> body;
    While() : Stmt(StmtKind::While) {}
};
struct Break : Stmt {
    Break() : Stmt(StmtKind::Break) {}
};
struct Continue : Stmt {
    Continue() : Stmt(StmtKind::Continue) {}
};

// ---------------------------------------------------------------------
// Items.
// ---------------------------------------------------------------------
struct Param {
    uint32_t quals = Q_NONE;
    TypeRef type;
    std::string name;
    Loc loc;
};

// #[name] or #[name(arg, ...)] before a function, an extern or a Type
// method: a fact about the declaration for the analyses (e.g.
// #[releases(p)]: a call frees its argument p). The checker verifies
// that every argument names a parameter and records the meaning in Sema.
struct Attr {
    std::string name;
    std::vector<std::string> args;
    Loc loc;                   // the '#'
    Loc name_loc;
    std::vector<Loc> arg_locs; // one per arg
};

struct FuncDecl {
    std::string name;         // `main`, `compile_add_i32`, `drop`
    std::string owner;        // "Jit" for a method of Type:Jit; "" for top level
    Loc loc;                  // the `func` keyword
    Loc name_loc;
    bool is_pub = false;
    std::vector<Attr> attrs;
    uint32_t ret_quals = Q_NONE;
    TypeRef ret;
    std::vector<Param> params;
    std::unique_ptr<Block> body;
    // Upstream's mangled name: "Jit_free" for Jit.free, else `name`.
    std::string mangled() const { return owner.empty() ? name : owner + "_" + name; }
};

struct ExternDecl {
    std::string name;         // the C symbol
    bool is_pub = false;      // `pub extern`: visible to importers
    Loc loc;
    Loc name_loc;
    std::vector<Attr> attrs;
    uint32_t ret_quals = Q_NONE;
    TypeRef ret;
    std::vector<Param> params;
};

struct TypeDecl {             // Type:Name = { func:... };
    std::string name;
    Loc loc;
    std::vector<std::unique_ptr<FuncDecl>> methods;
};

struct StructField {
    TypeRef type;
    std::string name;
    Loc loc;
};

struct StructDecl {
    std::string name;
    Loc loc;
    bool is_pub = false;
    std::vector<StructField> fields;
};

struct ImplDecl {             // impl:Trait:for:Struct = { func:drop = ...; }
    std::string trait;
    std::string for_type;
    Loc loc;
    std::vector<std::unique_ptr<FuncDecl>> methods;
};

struct UseDecl {
    enum class Form { Plain, All, Names, Alias };
    std::string path;         // the string as written
    Loc loc;
    Form form = Form::Plain;
    std::vector<std::string> names;  // Names
    std::string alias;               // Alias
    uint32_t resolved_module = 0;    // index+1 into Program::modules (0: none), set by the loader
};

// One source file.
struct Module {
    uint32_t file = 0;        // SourceManager id
    std::string path;         // as printed in messages
    bool is_root = false;
    std::vector<UseDecl> uses;
    std::vector<ExternDecl> externs;
    std::vector<std::unique_ptr<FuncDecl>> funcs;
    std::vector<TypeDecl> types;
    std::vector<StructDecl> structs;
    std::vector<ImplDecl> impls;
};

// A whole program: the root file and everything it imports, each once.
struct Program {
    // modules[0] is the root; imported modules follow in load order.
    // Import cycles are rejected by the loader.
    std::vector<std::unique_ptr<Module>> modules;
    uint32_t next_id = 1;     // next Expr/Stmt id; side tables size to this
    const Module& root() const { return *modules.front(); }
};

// ---------------------------------------------------------------------
// Visitors, generated from the lists above.
//
// visit(node, v) calls v with the node as its own kind's struct. A
// visitor that has no overload for some kind does not compile, so a new
// kind cannot be skipped by a pass that forgot it: give visitors one
// overload per kind (Overload{...} of lambdas), never a catch-all for
// the base class.
// ---------------------------------------------------------------------
template <class... F>
struct Overload : F... {
    using F::operator()...;
};
template <class... F>
Overload(F...) -> Overload<F...>;

#define NPK_AST_VISIT_CASE(Base, K) \
    case Base##Kind::K: return v(static_cast<const K&>(n));
#define NPK_AST_VISIT_EXPR(K) NPK_AST_VISIT_CASE(Expr, K)
#define NPK_AST_VISIT_STMT(K) NPK_AST_VISIT_CASE(Stmt, K)

template <class V>
decltype(auto) visit(const Expr& n, V&& v) {
    switch (n.kind) { NPK_EXPR_KINDS(NPK_AST_VISIT_EXPR) }
    __builtin_unreachable();
}

template <class V>
decltype(auto) visit(const Stmt& n, V&& v) {
    switch (n.kind) { NPK_STMT_KINDS(NPK_AST_VISIT_STMT) }
    __builtin_unreachable();
}

#undef NPK_AST_VISIT_CASE
#undef NPK_AST_VISIT_EXPR
#undef NPK_AST_VISIT_STMT

// The name of a kind as the lists spell it ("Leave", "Index").
const char* kind_name(ExprKind k);
const char* kind_name(StmtKind k);

// The direct sub-expressions of `e`, in the order they are evaluated.
// This, with the statement form below, is the one place that says what
// a node contains.
template <class F>
void for_each_child(const Expr& e, F&& f) {
    visit(e, Overload{
        [](const IntLit&) {},
        [](const StrLit&) {},
        [](const BoolLit&) {},
        [](const Name&) {},
        [&](const Unary& n) { f(*n.operand); },
        [&](const Binary& n) { f(*n.lhs); f(*n.rhs); },
        [&](const Assign& n) { f(*n.value); f(*n.target); },
        [&](const Call& n) {
            f(*n.callee);
            for (const auto& a : n.args) f(*a);
        },
        [&](const Member& n) { f(*n.object); },
        [&](const StructLit& n) {
            for (const auto& fi : n.fields)
                if (fi.value) f(*fi.value);
        },
        [&](const Raw& n) { f(*n.operand); },
        [&](const Drop& n) { f(*n.operand); },
        [&](const Cast& n) { f(*n.operand); },
        [&](const Index& n) { f(*n.object); f(*n.index); },
    });
}

// The direct expressions (`on_expr`) and statements (`on_stmt`) of `s`,
// in source order. A defer's body is a statement of the defer.
template <class FE, class FS>
void for_each_child(const Stmt& s, FE&& on_expr, FS&& on_stmt) {
    visit(s, Overload{
        [&](const VarDecl& n) {
            if (n.init) on_expr(*n.init);
        },
        [&](const If& n) {
            on_expr(*n.cond);
            on_stmt(*n.then_body);
            if (n.else_body) on_stmt(*n.else_body);
        },
        [&](const Defer& n) { on_stmt(*n.body); },
        [&](const Block& n) {
            for (const auto& x : n.stmts) on_stmt(*x);
        },
        [&](const Leave& n) {
            if (n.value) on_expr(*n.value);
        },
        [&](const ExprStmt& n) { on_expr(*n.expr); },
        [&](const While& n) {
            on_expr(*n.cond);
            on_stmt(*n.body);
        },
        [](const Break&) {},
        [](const Continue&) {},
    });
}

// Every expression inside `e`, `e` first (pre-order).
template <class F>
void walk_expr(const Expr& e, F&& f) {
    f(e);
    for_each_child(e, [&](const Expr& c) { walk_expr(c, f); });
}

// Every expression inside `s` and the statements nested in it
// (pre-order), defer and loop bodies included.
template <class F>
void walk_stmt_exprs(const Stmt& s, F&& f) {
    for_each_child(
        s, [&](const Expr& e) { walk_expr(e, f); }, [&](const Stmt& x) { walk_stmt_exprs(x, f); });
}

}  // namespace npk::ast
