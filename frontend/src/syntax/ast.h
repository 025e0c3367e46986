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
enum class ExprKind {
    IntLit, StrLit, BoolLit, Name,
    Unary, Binary, Assign, Call, Member, StructLit,
    Raw, Drop, Cast,
};

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

// ---------------------------------------------------------------------
// Statements.
// ---------------------------------------------------------------------
enum class StmtKind { VarDecl, If, Defer, Block, Exit, Pass, Fail, Return, ExprStmt };

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

// exit e; pass [e]; fail e; return [e];
struct Exit : Stmt {
    ExprPtr value;
    Exit() : Stmt(StmtKind::Exit) {}
};
struct Pass : Stmt {
    ExprPtr value;  // may be null: `pass;`
    Pass() : Stmt(StmtKind::Pass) {}
};
struct Fail : Stmt {
    ExprPtr value;
    Fail() : Stmt(StmtKind::Fail) {}
};
struct Return : Stmt {
    ExprPtr value;  // may be null
    Return() : Stmt(StmtKind::Return) {}
};

struct ExprStmt : Stmt {
    ExprPtr expr;
    ExprStmt() : Stmt(StmtKind::ExprStmt) {}
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

}  // namespace npk::ast
