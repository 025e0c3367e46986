#include "sema/types.h"

#include <cassert>

namespace npk {

std::string Type::str() const {
    switch (kind) {
    case TypeKind::Error: return "<error>";
    case TypeKind::Int: return elem ? "Handle<" + elem->str() + ">" : "int" + std::to_string(bits);
    case TypeKind::UInt: return "uint" + std::to_string(bits);
    case TypeKind::Tbb: return "tbb" + std::to_string(bits);
    case TypeKind::Bool: return "bool";
    case TypeKind::Nil: return "NIL";
    case TypeKind::Void: return "void";
    case TypeKind::Ptr:
        return (elem ? elem->str() : std::string("?")) + (c_ptr ? "*" : "->");
    case TypeKind::Result: return "Result<" + elem->str() + ">";
    case TypeKind::Struct: return st->name;
    }
    return "<?>";
}

int StructInfo::find(const std::string& field) const {
    for (size_t i = 0; i < fields.size(); ++i)
        if (fields[i].name == field) return static_cast<int>(i);
    return -1;
}

TypeTable::TypeTable() {
    Type t;
    t.kind = TypeKind::Error;
    error_ = intern(t);
    t.kind = TypeKind::Bool;
    bool_ = intern(t);
    t.kind = TypeKind::Nil;
    nil_ = intern(t);
    t.kind = TypeKind::Void;
    void_ = intern(t);
}

const Type* TypeTable::intern(const Type& t) {
    for (const Type& have : all_)
        if (have.kind == t.kind && have.bits == t.bits && have.elem == t.elem &&
            have.c_ptr == t.c_ptr && have.st == t.st)
            return &have;
    all_.push_back(t);
    return &all_.back();
}

const Type* TypeTable::int_type(uint32_t bits) {
    Type t;
    t.kind = TypeKind::Int;
    t.bits = bits;
    return intern(t);
}

const Type* TypeTable::uint_type(uint32_t bits) {
    Type t;
    t.kind = TypeKind::UInt;
    t.bits = bits;
    return intern(t);
}

const Type* TypeTable::tbb_type(uint32_t bits) {
    Type t;
    t.kind = TypeKind::Tbb;
    t.bits = bits;
    return intern(t);
}

const Type* TypeTable::pointer(const Type* elem, bool c_ptr) {
    Type t;
    t.kind = TypeKind::Ptr;
    t.elem = elem;
    t.c_ptr = c_ptr;
    return intern(t);
}

const Type* TypeTable::result(const Type* value) {
    Type t;
    t.kind = TypeKind::Result;
    t.elem = value;
    return intern(t);
}

const Type* TypeTable::handle(const Type* target) {
    Type t;
    t.kind = TypeKind::Int;
    t.bits = 64;
    t.elem = target;
    return intern(t);
}

const Type* TypeTable::structure(const StructInfo* st) {
    Type t;
    t.kind = TypeKind::Struct;
    t.st = st;
    return intern(t);
}

uint32_t c_size_of(const Type* t) {
    switch (t->kind) {
    case TypeKind::Int:
    case TypeKind::UInt:
    case TypeKind::Tbb: return t->bits / 8;
    case TypeKind::Bool: return 1;
    case TypeKind::Ptr: return static_cast<uint32_t>(sizeof(void*));
    case TypeKind::Struct: return t->st->size;
    case TypeKind::Error:
    case TypeKind::Nil:
    case TypeKind::Void:
    case TypeKind::Result: return 0;
    }
    return 0;
}

uint32_t c_align_of(const Type* t) {
    if (t->kind == TypeKind::Struct) return t->st->align;
    uint32_t s = c_size_of(t);
    return s == 0 ? 1 : s;
}

const char* ctype_name(CType t) {
    switch (t) {
    case CType::Void: return "void";
    case CType::SInt8: return "int8";
    case CType::SInt16: return "int16";
    case CType::SInt32: return "int32";
    case CType::SInt64: return "int64";
    case CType::UInt8: return "uint8";
    case CType::UInt16: return "uint16";
    case CType::UInt32: return "uint32";
    case CType::UInt64: return "uint64";
    case CType::Bool: return "bool";
    case CType::Pointer: return "?*";
    case CType::Double: return "double";
    }
    return "?";
}

uint32_t ctype_size(CType t) {
    switch (t) {
    case CType::Void: return 0;
    case CType::SInt8:
    case CType::UInt8:
    case CType::Bool: return 1;
    case CType::SInt16:
    case CType::UInt16: return 2;
    case CType::SInt32:
    case CType::UInt32: return 4;
    case CType::SInt64:
    case CType::UInt64: return 8;
    case CType::Pointer: return static_cast<uint32_t>(sizeof(void*));
    case CType::Double: return 8;
    }
    return 0;
}

bool ctype_of(const Type* t, bool is_return, CType& out) {
    switch (t->kind) {
    case TypeKind::Int:
    case TypeKind::Tbb:  // a tbb travels as the signed integer of its width
        switch (t->bits) {
        case 8: out = CType::SInt8; return true;
        case 16: out = CType::SInt16; return true;
        case 32: out = CType::SInt32; return true;
        case 64: out = CType::SInt64; return true;
        default: return false;
        }
    case TypeKind::UInt:
        switch (t->bits) {
        case 8: out = CType::UInt8; return true;
        case 16: out = CType::UInt16; return true;
        case 32: out = CType::UInt32; return true;
        case 64: out = CType::UInt64; return true;
        default: return false;
        }
    case TypeKind::Bool: out = CType::Bool; return true;
    case TypeKind::Ptr: out = CType::Pointer; return true;
    case TypeKind::Void:
        if (!is_return) return false;
        out = CType::Void;
        return true;
    case TypeKind::Error:
    case TypeKind::Nil:
    case TypeKind::Result:
    case TypeKind::Struct: return false;
    }
    return false;
}

bool ctype_compatible(CType a, CType b) {
    if (a == b) return true;
    auto is_int = [](CType c) { return c != CType::Void && c != CType::Pointer && c != CType::Bool && c != CType::Double; };
    return is_int(a) && is_int(b) && ctype_size(a) == ctype_size(b);
}

std::string csig_str(const CSignature& s) {
    std::string out = std::string(ctype_name(s.ret)) + "(";
    for (size_t i = 0; i < s.params.size(); ++i) {
        if (i) out += ", ";
        out += ctype_name(s.params[i]);
    }
    return out + ")";
}

}  // namespace npk
