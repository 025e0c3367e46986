// Types of the Nitpick subset as the checker and the interpreter see
// them (nitpick-subset.md §4). Types are interned in a TypeTable, so two
// types are equal exactly when their pointers are.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "syntax/ast.h"
#include "diag/diag.h"

namespace npk {

enum class TypeKind : uint8_t {
    Error,   // a type the checker could not work out; converts to and from anything
    Int,     // int8..int64, two's complement
    UInt,    // uint8..uint64
    Tbb,     // tbb8..tbb64: symmetric range, minimum value = ERR
    Bool,
    Nil,     // NIL: "no value" return type
    Void,    // extern `void` returns, builtins without a value, `drop e`
    Ptr,     // T->, ?->, T*, ?*
    Result,  // Result<T>
    Struct,
};

struct StructInfo;

struct Type {
    TypeKind kind = TypeKind::Error;
    uint32_t bits = 0;             // Int / UInt / Tbb
    // Ptr: pointee (nullptr: erased `?`); Result: value type; Int: what a
    // Handle<T> names (a handle is an int64 that remembers T).
    const Type* elem = nullptr;
    bool c_ptr = false;            // Ptr spelled `*` (extern signatures only)
    const StructInfo* st = nullptr;

    bool is_std_int() const { return kind == TypeKind::Int || kind == TypeKind::UInt; }
    bool is_integer() const { return is_std_int() || kind == TypeKind::Tbb; }
    bool is_signed() const { return kind == TypeKind::Int || kind == TypeKind::Tbb; }
    bool is_ptr() const { return kind == TypeKind::Ptr; }
    bool is_erased_ptr() const { return kind == TypeKind::Ptr && elem == nullptr; }
    bool is_result() const { return kind == TypeKind::Result; }
    bool is_handle() const { return kind == TypeKind::Int && elem != nullptr; }
    bool is_error() const { return kind == TypeKind::Error; }
    // A value of this type can be stored, passed and compared.
    bool is_value() const { return kind != TypeKind::Nil && kind != TypeKind::Void; }

    // As written in Nitpick: int8, uint64, tbb32, bool, NIL, void,
    // int8->, ?->, int8*, ?*, Result<int32>, Handle<int32>, S.
    std::string str() const;
};

struct FieldInfo {
    std::string name;
    const Type* type = nullptr;
    uint32_t offset = 0;   // byte offset in the C layout of a heap (`wild`) struct
    Loc loc;
};

struct StructInfo {
    std::string name;
    const ast::StructDecl* decl = nullptr;
    uint32_t module = 0;   // index into Program::modules
    std::vector<FieldInfo> fields;
    uint32_t size = 0;     // C layout, for `wild S` on the heap
    uint32_t align = 1;
    bool laid_out = false;    // layout() is done with it, whatever the outcome
    bool layout_ok = false;   // it has a C layout (no self-containment, not too large)
    // Scalar fields of a value, through nested structs (capped just past
    // kMaxStructScalars): the interpreter builds values eagerly, so this
    // bounds the memory one value takes.
    uint64_t scalars = 0;

    // Index of field `name`, or -1.
    int find(const std::string& name) const;
};

// The most scalar fields one struct value may hold, through nesting
// (30 levels of two struct fields each make 2^30): larger structs are an
// error at their declaration, so no value the interpreter builds can
// exhaust memory, and C layout offsets fit in 32 bits.
constexpr uint64_t kMaxStructScalars = 65536;

// Owns every Type; hands out one pointer per distinct type.
class TypeTable {
public:
    TypeTable();
    const Type* error() const { return error_; }
    const Type* boolean() const { return bool_; }
    const Type* nil() const { return nil_; }
    const Type* void_type() const { return void_; }
    const Type* int_type(uint32_t bits);   // bits: 8, 16, 32, 64
    const Type* uint_type(uint32_t bits);
    const Type* tbb_type(uint32_t bits);
    const Type* int32() { return int_type(32); }
    const Type* int64() { return int_type(64); }
    const Type* pointer(const Type* elem, bool c_ptr);
    const Type* result(const Type* value);
    const Type* handle(const Type* target);   // Handle<target>
    const Type* structure(const StructInfo* st);

private:
    const Type* intern(const Type& t);
    std::deque<Type> all_;
    const Type* error_;
    const Type* bool_;
    const Type* nil_;
    const Type* void_;
};

// Sizes and alignment of a scalar or struct in C layout (heap structs).
uint32_t c_size_of(const Type* t);
uint32_t c_align_of(const Type* t);

// ---------------------------------------------------------------------
// Extern signatures, described once as data (§7). The checker derives
// them from the declaration; the interpreter derives the libffi call
// interface from them and checks them against the runtime's own table.
// ---------------------------------------------------------------------
enum class CType : uint8_t {
    Void,
    SInt8, SInt16, SInt32, SInt64,
    UInt8, UInt16, UInt32, UInt64,
    Bool,     // C _Bool: one byte
    Pointer,  // void* / T*
};

struct CSignature {
    CType ret = CType::Void;
    std::vector<CType> params;
};

const char* ctype_name(CType t);
// Byte width of a C type (0 for void).
uint32_t ctype_size(CType t);
// The C type a Nitpick type lowers to at the C ABI; false if it has none
// (structs by value, Result, NIL; void except as a return).
bool ctype_of(const Type* t, bool is_return, CType& out);
// Two C types are interchangeable at the ABI: equal, integers of one
// width whatever their signedness, or both pointers.
bool ctype_compatible(CType a, CType b);
// "int32(?*, int32)" for messages.
std::string csig_str(const CSignature& s);

}  // namespace npk
