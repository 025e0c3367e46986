// Facts the type checker records for the analyses and the interpreter
// (and any later phase). The checker never rewrites the tree: everything it learns is
// here, in tables indexed by the `id` of an Expr or Stmt (one id space,
// sized Program::next_id) or keyed by declaration.
//
// The interpreter trusts these facts: it runs only programs the checker
// accepted, so a missing fact there is a broken invariant (assert).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "syntax/ast.h"
#include "phases.h"
#include "sema/types.h"

namespace npk {

// Builtins (§7), plus print_i32 (npk only: prints a decimal int32 and a
// newline on stdout; for example programs).
enum class Builtin : uint8_t { Alloc, Free, WildxAlloc, WildxSeal, WildxFree, PrintI32 };
const char* builtin_name(Builtin b);

// What a Call expression calls.
struct Callee {
    enum class Kind : uint8_t { None, Builtin, Extern, Func };
    Kind kind = Kind::None;
    Builtin builtin = Builtin::Alloc;
    const ast::ExternDecl* ext = nullptr;
    const ast::FuncDecl* fn = nullptr;   // top-level function, Type method or impl method
};

// What `object.member` reads.
enum class MemberKind : uint8_t { None, Field, IsError, Value, Error };
struct MemberInfo {
    MemberKind kind = MemberKind::None;
    uint32_t field = 0;   // Field: index into StructInfo::fields
};

// A local binding or parameter: one slot of a function's frame.
// Shadowing is resolved here: every declaration gets its own slot.
struct SlotInfo {
    std::string name;
    const Type* type = nullptr;
    bool heap = false;    // `wild S:x` of a struct type: the struct lives on the heap
    bool fixed = false;
    bool param = false;
    Loc loc;
};

enum class FuncRole : uint8_t { Normal, Main, Failsafe };

// An attribute (#[name(p, ...)], ast::Attr) of a function, method or
// extern, as the checker verified it: every argument names a parameter,
// recorded here by index. The checker gives no attribute a meaning;
// the analyses look up the names they know (attrs.h lists them).
struct AttrInfo {
    std::string name;
    std::vector<uint32_t> params;   // parameter indexes, in the order written
    Loc loc;
};

struct FuncInfo {
    const ast::FuncDecl* decl = nullptr;
    uint32_t module = 0;                 // index into Program::modules
    FuncRole role = FuncRole::Normal;
    const Type* ret = nullptr;           // declared return type (NIL for NIL functions)
    std::vector<const Type*> params;     // params occupy slots 0..n-1
    std::vector<SlotInfo> slots;
    // The type a call yields: Result<ret>, except main (plain int32).
    const Type* call_type = nullptr;
    std::string display;                 // "main", "Jit.free"
    std::vector<AttrInfo> attrs;
};

struct ExternInfo {
    const ast::ExternDecl* decl = nullptr;
    uint32_t module = 0;
    bool valid = false;                  // the signature has a C form
    CSignature sig;
    const Type* ret = nullptr;
    std::vector<const Type*> params;
    std::vector<AttrInfo> attrs;
};

// Codes the interpreter passes to `failsafe` for the faults it detects
// (§6.1). The process exits with the code if failsafe returns.
enum FaultCode : int32_t {
    NPK_FAULT_DIVISION_BY_ZERO = 101,
    NPK_FAULT_CALL_DEPTH = 102,       // interpreted recursion too deep
    NPK_FAULT_NULL_CODE_PAGE = 103,   // a call through a NULL JIT page
    NPK_FAULT_OUT_OF_MEMORY = 104,    // a `wild S` heap struct could not be allocated
    NPK_FAULT_BAD_FREE = 105,         // free of a pointer that is not a live block from alloc
    NPK_FAULT_BAD_CODE_PAGE = 106,    // a call through a page that is not sealed executable
};

struct Sema {
    TypeTable types;
    std::vector<std::unique_ptr<StructInfo>> structs;

    // By Expr id: the type of the expression (integer literals: the type
    // the context gave them; Binary: the result type).
    std::vector<const Type*> expr_type;
    // By Binary id: the type both operands are converted to (for `<` on
    // int8 vs int32: int32), which picks the width and signedness of the
    // operation.
    std::vector<const Type*> operand_type;
    // By Call id.
    std::vector<Callee> callee;
    // By Member id.
    std::vector<MemberInfo> member;
    // By Name id (a local or parameter) and VarDecl id: the frame slot; -1 if none.
    std::vector<int32_t> slot;
    // By StructLit id: the struct (nullptr for Result{...}).
    std::vector<const StructInfo*> struct_lit;
    // By the value Expr id of each `field: value` of a literal: which
    // field it sets (Field and its index for a struct; Value, Error or
    // IsError for the val / err / is_error of a Result{...}).
    std::vector<MemberInfo> field_init;

    std::unordered_map<const ast::FuncDecl*, FuncInfo> funcs;
    std::unordered_map<const ast::ExternDecl*, ExternInfo> externs;
    // The drop method of each struct with a valid impl:Drop.
    std::unordered_map<const StructInfo*, const ast::FuncDecl*> drop_methods;

    // The root module's entry points (null if missing; then an error was reported).
    const ast::FuncDecl* main = nullptr;
    const ast::FuncDecl* failsafe = nullptr;

    const Type* type_of(const ast::Expr& e) const { return expr_type[e.id]; }
    const FuncInfo& func(const ast::FuncDecl* f) const { return funcs.at(f); }
    // The attributes of what a call calls (none for builtins).
    const std::vector<AttrInfo>& attrs_of(const Callee& c) const;
};

}  // namespace npk
