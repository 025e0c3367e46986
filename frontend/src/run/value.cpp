// The interpreter's values (run/value.h): zero values, Results, the C
// layout of heap structs, and the word arithmetic of binary operators.
#include "run/value.h"

#include <bit>
#include <cassert>
#include <cstring>

namespace npk::run {

Value zero(const Type* t) {
    Value v;
    if (t->kind == TypeKind::Struct)
        for (const FieldInfo& f : t->st->fields) v.sub.push_back(zero(f.type));
    else if (t->kind == TypeKind::Result && t->elem->kind != TypeKind::Nil)
        v.sub.push_back(zero(t->elem));
    return v;
}

Value ok_result(Value v, const Type* value_type) {
    Value r;
    if (value_type->kind != TypeKind::Nil) r.sub.push_back(std::move(v));
    return r;
}

Value failed_result(int64_t code, const Type* value_type) {
    Value r;
    r.is_error = true;
    r.err = code;
    if (value_type->kind != TypeKind::Nil) r.sub.push_back(zero(value_type));
    return r;
}

void store(unsigned char* at, const Type* t, const Value& v) {
    if (t->kind == TypeKind::Struct) {
        for (size_t i = 0; i < t->st->fields.size(); ++i)
            store(at + t->st->fields[i].offset, t->st->fields[i].type, v.sub[i]);
        return;
    }
    uint32_t n = c_size_of(t);
    uint64_t w = v.bits;
    std::memcpy(at, &w, n);  // the low n bytes of the word come first
    static_assert(std::endian::native == std::endian::little, "heap structs assume a little-endian host");
    static_assert(sizeof(void*) == 8, "npk assumes a 64-bit host");
}

Value load(const unsigned char* at, const Type* t) {
    Value v;
    if (t->kind == TypeKind::Struct) {
        for (const FieldInfo& f : t->st->fields) v.sub.push_back(load(at + f.offset, f.type));
        return v;
    }
    uint64_t w = 0;
    std::memcpy(&w, at, c_size_of(t));
    v.bits = t->is_integer() ? normalize(w, t) : w;
    return v;
}

namespace {

uint64_t tbb_arith(ast::BinaryOp op, uint64_t x, uint64_t y, const Type* t) {
    using ast::BinaryOp;
    uint64_t err = tbb_err(t);
    if (x == err || y == err) return err;
    int64_t a = as_signed(x), b = as_signed(y), r = 0;
    bool overflow = false;
    if (op == BinaryOp::Add) {
        overflow = __builtin_add_overflow(a, b, &r);
    } else if (op == BinaryOp::Sub) {
        overflow = __builtin_sub_overflow(a, b, &r);
    } else if (op == BinaryOp::Mul) {
        overflow = __builtin_mul_overflow(a, b, &r);
    } else if (op == BinaryOp::Div || op == BinaryOp::Mod) {
        // Neither operand is ERR, so INT64_MIN / -1 cannot happen here.
        overflow = b == 0;
        r = overflow ? 0 : op == BinaryOp::Div ? a / b : a % b;
    } else {
        return err;  // not arithmetic: binary_word answers the others
    }
    if (overflow || r > tbb_max(t) || r < -tbb_max(t)) return err;
    return static_cast<uint64_t>(r);
}

}  // namespace

bool binary_word(ast::BinaryOp op, uint64_t x, uint64_t y, const Type* t, uint64_t& out) {
    using ast::BinaryOp;
    switch (op) {
    case BinaryOp::Eq: out = x == y; return true;
    case BinaryOp::Ne: out = x != y; return true;
    case BinaryOp::Lt: out = t->is_signed() ? as_signed(x) < as_signed(y) : x < y; return true;
    case BinaryOp::Le: out = t->is_signed() ? as_signed(x) <= as_signed(y) : x <= y; return true;
    case BinaryOp::Gt: out = t->is_signed() ? as_signed(x) > as_signed(y) : x > y; return true;
    case BinaryOp::Ge: out = t->is_signed() ? as_signed(x) >= as_signed(y) : x >= y; return true;
    case BinaryOp::Or:
    case BinaryOp::And:
    case BinaryOp::Add:
    case BinaryOp::Sub:
    case BinaryOp::Mul:
    case BinaryOp::Div:
    case BinaryOp::Mod: break;
    }
    if (t->kind == TypeKind::Tbb) {
        out = tbb_arith(op, x, y, t);
        return true;
    }
    switch (op) {
    case BinaryOp::Add: out = normalize(x + y, t); return true;
    case BinaryOp::Sub: out = normalize(x - y, t); return true;
    case BinaryOp::Mul: out = normalize(x * y, t); return true;
    case BinaryOp::Div:
    case BinaryOp::Mod: {
        if (y == 0) return false;
        const bool div = op == BinaryOp::Div;
        if (!t->is_signed()) {
            out = div ? x / y : x % y;
            return true;
        }
        int64_t sx = as_signed(x), sy = as_signed(y);
        // INT64_MIN / -1 overflows in C++; Nitpick wraps: the quotient
        // is INT64_MIN and the remainder 0. Narrower widths compute it
        // exactly in 64 bits and wrap in normalize().
        if (sx == INT64_MIN && sy == -1) {
            out = div ? x : 0;
            return true;
        }
        out = normalize(static_cast<uint64_t>(div ? sx / sy : sx % sy), t);
        return true;
    }
    case BinaryOp::Or:
    case BinaryOp::And:
    case BinaryOp::Eq:
    case BinaryOp::Ne:
    case BinaryOp::Lt:
    case BinaryOp::Le:
    case BinaryOp::Gt:
    case BinaryOp::Ge: break;
    }
    assert(false && "logical operators are evaluated by the interpreter, lazily");
    return true;
}

}  // namespace npk::run
