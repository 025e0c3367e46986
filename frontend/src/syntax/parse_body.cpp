// Statements and expressions (nitpick-subset.md §2, the `block` rule
// and below). Items and types are in parser.cpp.
#include <string>
#include <utility>

#include "syntax/literal.h"
#include "syntax/parser_p.h"

namespace npk::syntax_detail {

// ---------------------------------------------------------------------
// Statements
// ---------------------------------------------------------------------

// block = "{" { stmt } "}" ;
std::unique_ptr<Block> Parser::parse_block(const std::string& context) {
    if (!check(Tok::LBrace)) fail_expected("'{' " + context);
    const Token& open = peek();
    Nest nest(*this, open.loc);
    auto b = node<Block>(open.loc);
    advance();
    while (!check(Tok::RBrace)) {
        if (check(Tok::Eof))
            fail(peek().loc, unclosed("the block", b->loc));
        if (at_item_start()) {
            report(peek().loc, unclosed("the block", b->loc));
            throw AbortToItem{};
        }
        release_consumed();
        size_t before = pos_;
        try {
            b->stmts.push_back(parse_stmt());
        } catch (const ParseError&) {
            sync_stmt();
        }
        if (pos_ == before && !check(Tok::RBrace) && !check(Tok::Eof) && !at_item_start())
            advance();
    }
    b->close_loc = advance().loc;
    return b;
}

// stmt = var_decl | if_stmt | while_stmt | "defer" block | block
//      | "exit" expr ";" | "pass" [ expr ] ";" | "fail" expr ";"
//      | "return" [ expr ] ";" | "break" ";" | "continue" ";" | expr ";" ;
StmtPtr Parser::parse_stmt() {
    const Token& t = peek();
    Loc loc = t.loc;
    switch (t.kind) {
    case Tok::KwIf:
        return parse_if();
    case Tok::KwWhile:
        return parse_while();
    case Tok::KwBreak:
        advance();
        expect_semi("after 'break'");
        return node<Break>(loc);
    case Tok::KwContinue:
        advance();
        expect_semi("after 'continue'");
        return node<Continue>(loc);
    case Tok::LBrace:
        return parse_block("to open a block");
    case Tok::KwDefer: {
        advance();
        if (!check(Tok::LBrace))
            fail(peek().loc, "'defer' must be followed by a block: write 'defer { ... }', found " +
                                 found_text(peek()));
        auto d = node<Defer>(loc);
        d->body = parse_block("after 'defer'");
        return d;
    }
    case Tok::KwExit: return parse_leave(loc, LeaveKind::Exit, "after 'exit' statement");
    case Tok::KwFail: return parse_leave(loc, LeaveKind::Fail, "after 'fail' statement");
    case Tok::KwPass: return parse_leave(loc, LeaveKind::Pass, "after 'pass' statement");
    case Tok::KwReturn: return parse_leave(loc, LeaveKind::Return, "after 'return' statement");
    case Tok::KwElse:
        fail(loc, "'else' without a matching 'if'");
    case Tok::Semi:
        fail(loc, "Expected expression, found ';'");
    default:
        break;
    }
    if (is_decl_start()) return parse_var_decl();
    auto s = node<ExprStmt>(loc);
    s->expr = parse_expr();
    expect_semi("after expression");
    return s;
}

// "exit" expr ";" | "fail" expr ";" | "pass" [ expr ] ";" | "return" [ expr ] ";"
StmtPtr Parser::parse_leave(Loc loc, LeaveKind how, const char* context) {
    advance();
    auto s = node<Leave>(loc);
    s->how = how;
    const bool value_optional = how == LeaveKind::Pass || how == LeaveKind::Return;
    if (!value_optional || !check(Tok::Semi)) s->value = parse_expr();
    expect_semi(context);
    return s;
}

// A statement is a declaration if it starts with a qualifier, or with a
// type followed by ':' (looking past `<...>` and `->` / `*`).
bool Parser::is_decl_start() {
    const Token& t = peek();
    switch (t.kind) {
    case Tok::KwWild: case Tok::KwWildx: case Tok::KwFixed: case Tok::KwConst:
    case Tok::DollarI: case Tok::DollarM:
        return true;
    case Tok::KwStack: case Tok::KwGc:
        return starts_type(peek(1)) || is_qualifier_kw(peek(1).kind);
    case Tok::Question: case Tok::KwBool: case Tok::KwNil:
        return true;
    case Tok::TypeWord:
        if (!is_contextual_type_word(t)) return true;
        break;
    case Tok::KwResult:
        if (check(Tok::Lt, 1)) return true;  // `Result<...`: only a type starts so
        break;
    case Tok::Ident:
        break;
    default:
        return false;
    }
    size_t i = 1;
    if (check(Tok::Lt, i)) {
        // Skip a balanced <...>; give up at anything a type cannot hold.
        int depth = 0;
        for (; i < 64; ++i) {
            Tok k = peek(i).kind;
            if (k == Tok::Lt) ++depth;
            else if (k == Tok::Gt && --depth == 0) break;
            else if (k == Tok::Semi || k == Tok::LBrace || k == Tok::RBrace || k == Tok::Eof ||
                     k == Tok::Assign || k == Tok::LParen)
                return false;
        }
        if (!check(Tok::Gt, i)) return false;
        ++i;
    }
    if (check(Tok::Arrow, i) || check(Tok::Star, i)) ++i;
    return check(Tok::Colon, i);
}

// var_decl = { "wild" | "wildx" | "fixed" | "const" | "stack" | "gc"
//            | "$$i" | "$$m" } type ":" NAME [ "=" expr ] ";" ;
StmtPtr Parser::parse_var_decl() {
    auto d = node<VarDecl>(peek().loc);
    d->quals = parse_quals(true, true, "here");
    if (!starts_type(peek())) fail_expected("a type in the declaration");
    d->type = parse_type(false);
    if (!check(Tok::Colon)) fail_expected("':' between the type and the variable's name");
    advance();
    d->name = parse_name("for the variable", &d->name_loc);
    if (accept(Tok::Assign)) d->init = parse_expr();
    expect_semi("after the declaration of '" + d->name + "'");
    return d;
}

// if_stmt = "if" "(" expr ")" body [ "else" ( if_stmt | body ) ] ;
// An `else if` ladder is one level of nesting however long it is; its
// arms are bounded on their own (kMaxIfArms), as every later phase walks
// the ladder recursively.
StmtPtr Parser::parse_if() {
    Nest nest(*this, peek().loc);
    return parse_if_arm(1);
}

StmtPtr Parser::parse_if_arm(uint32_t arm) {
    const Token& kw = peek();
    auto s = node<If>(kw.loc);
    advance();
    expect(Tok::LParen, "after 'if'");
    s->cond = parse_expr();
    expect(Tok::RParen, "to close the 'if' condition");
    s->then_body = parse_body();
    if (!accept(Tok::KwElse)) return s;
    if (!check(Tok::KwIf)) {
        s->else_body = parse_body();
    } else {
        if (arm >= kMaxIfArms) {
            nesting_error_ = true;
            fail(peek().loc, "Too many 'else if' arms: more than " + std::to_string(kMaxIfArms) +
                                 " in one ladder (write a lookup, or split it)");
        }
        s->else_body = parse_if_arm(arm + 1);
    }
    return s;
}

// while_stmt = "while" "(" expr ")" block ;
// Upstream's loop body is always a block; so is ours.
StmtPtr Parser::parse_while() {
    const Token& kw = peek();
    Nest nest(*this, kw.loc);
    auto s = node<While>(kw.loc);
    advance();
    expect(Tok::LParen, "after 'while'");
    s->cond = parse_expr();
    expect(Tok::RParen, "to close the 'while' condition");
    s->body = parse_block("for the 'while' body");
    return s;
}

// body = block | stmt ;
StmtPtr Parser::parse_body() {
    if (check(Tok::LBrace)) return parse_block("to open a block");
    if (at_item_start() || check(Tok::RBrace) || check(Tok::Eof))
        fail_expected("a statement or block");
    Nest nest(*this, peek().loc);
    return parse_stmt();
}

// ---------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------

// expr = or_expr [ "=" expr ] ;  (* target: NAME, NAME "." IDENT or postfix "[" expr "]" *)
ExprPtr Parser::parse_expr() {
    Nest nest(*this, peek().loc);
    ExprPtr lhs = parse_binary(1);
    if (!check(Tok::Assign)) return lhs;
    Loc eq = advance().loc;
    bool ok = lhs->kind == ExprKind::Name || lhs->kind == ExprKind::Index ||
              (lhs->kind == ExprKind::Member &&
               static_cast<const Member&>(*lhs).object->kind == ExprKind::Name);
    if (!ok)
        report(eq, "Invalid assignment target: only a variable, a field of a variable or an "
                   "element (x, x.f or p[i]) can be assigned");
    auto a = node<Assign>(lhs->loc);
    a->target = std::move(lhs);
    a->value = parse_expr();
    const Expr* t = a->target.get();
    const Expr* v = a->value.get();
    return finish(std::move(a), {t, v});
}

// or_expr  = and_expr { "||" and_expr } ;
// and_expr = eq_expr { "&&" eq_expr } ;
// eq_expr  = rel_expr { ( "==" | "!=" ) rel_expr } ;
// rel_expr = add_expr { ( "<" | "<=" | ">" | ">=" ) add_expr } ;
// add_expr = mul_expr { ( "+" | "-" ) mul_expr } ;
// mul_expr = unary { ( "*" | "/" | "%" ) unary } ;
// One precedence-climbing loop over kBinOps; every level is left
// associative.
ExprPtr Parser::parse_binary(int min_prec) {
    ExprPtr lhs = parse_unary();
    for (;;) {
        const BinOpInfo* op = binop_of(peek().kind);
        if (!op || op->prec < min_prec) return lhs;
        auto b = node<Binary>(advance().loc);
        b->op = op->op;
        b->lhs = std::move(lhs);
        b->rhs = parse_binary(op->prec + 1);
        const Expr* l = b->lhs.get();
        const Expr* r = b->rhs.get();
        lhs = finish(std::move(b), {l, r});
    }
}

// unary = ( "-" | "!" ) unary | "raw" postfix | "drop" unary | postfix ;
ExprPtr Parser::parse_unary() {
    const Token& t = peek();
    Loc loc = t.loc;
    switch (t.kind) {
    case Tok::Minus:
    case Tok::Bang: {
        Nest nest(*this, loc);
        bool neg = t.kind == Tok::Minus;
        advance();
        auto u = node<Unary>(loc);
        u->op = neg ? UnaryOp::Neg : UnaryOp::Not;
        // `-128i8` is a literal of negative value: its magnitude may be
        // one more than the positive maximum.
        u->operand = neg && check(Tok::Int) ? parse_postfix(true) : parse_unary();
        const Expr* o = u->operand.get();
        return finish(std::move(u), {o});
    }
    case Tok::KwRaw: {
        Nest nest(*this, loc);
        advance();
        auto r = node<Raw>(loc);
        r->operand = parse_postfix(false);
        const Expr* o = r->operand.get();
        return finish(std::move(r), {o});
    }
    case Tok::KwDrop: {
        Nest nest(*this, loc);
        advance();
        auto d = node<Drop>(loc);
        d->operand = parse_unary();
        const Expr* o = d->operand.get();
        return finish(std::move(d), {o});
    }
    default:
        return parse_postfix(false);
    }
}

// postfix = primary { "(" [ expr { "," expr } ] ")" | "." MEMBER | "[" expr "]" } ;
// MEMBER  = NAME | "drop" | type word
ExprPtr Parser::parse_postfix(bool negated_literal) {
    ExprPtr e = parse_primary(negated_literal);
    for (;;) {
        if (check(Tok::LParen)) {
            // ast::Call promises a callee that names what it calls.
            bool named = e->kind == ExprKind::Name ||
                         (e->kind == ExprKind::Member &&
                          static_cast<const Member&>(*e).object->kind == ExprKind::Name);
            if (!named)
                fail(peek().loc, "Only a function or a Type method can be called: write f(...) or "
                                 "Name.m(...)");
            Loc open = advance().loc;
            auto c = node<Call>(e->loc);
            c->callee = std::move(e);
            if (!check(Tok::RParen)) {
                do {
                    c->args.push_back(parse_expr());
                } while (accept(Tok::Comma));
            }
            if (!check(Tok::RParen))
                fail_expected("')' to close the call" + opened_at(open));
            advance();
            uint32_t h = height_of(*c->callee) + 1;
            for (const auto& a : c->args) h = std::max(h, height_of(*a) + 1);
            e = finish_height(std::move(c), h);
        } else if (check(Tok::Dot)) {
            advance();
            const Token& m = peek();
            if (!is_member_name(m)) fail_expected("a member name after '.'");
            advance();
            auto mem = node<Member>(e->loc);
            mem->object = std::move(e);
            mem->member = std::string(m.text);
            mem->member_loc = m.loc;
            const Expr* o = mem->object.get();
            e = finish(std::move(mem), {o});
        } else if (check(Tok::LBracket)) {
            Loc open = advance().loc;
            auto ix = node<Index>(e->loc);
            ix->object = std::move(e);
            ix->index = parse_expr();
            if (!check(Tok::RBracket)) fail_expected("']' to close the index" + opened_at(open));
            advance();
            const Expr* o = ix->object.get();
            const Expr* i = ix->index.get();
            e = finish(std::move(ix), {o, i});
        } else {
            return e;
        }
    }
}

// primary = INT | STRING | "true" | "false" | NAME
//         | TYPENAME "{" [ field { "," field } [ "," ] ] "}"
//         | "(" expr ")" | cast ;
ExprPtr Parser::parse_primary(bool negated_literal) {
    const Token& t = peek();
    switch (t.kind) {
    case Tok::At: return parse_cast();
    case Tok::Int:
        advance();
        return parse_int(t, negated_literal);
    case Tok::String: {
        advance();
        auto s = node<StrLit>(t.loc);
        s->value = t.str;
        return finish(std::move(s), {});
    }
    case Tok::KwTrue:
    case Tok::KwFalse: {
        advance();
        auto b = node<BoolLit>(t.loc);
        b->value = t.kind == Tok::KwTrue;
        return finish(std::move(b), {});
    }
    case Tok::LParen: {
        advance();
        ExprPtr inner = parse_expr();
        expect(Tok::RParen, "to close '('" + opened_at(t.loc));
        return inner;
    }
    default:
        break;
    }
    if (is_name(t)) {
        bool type_name = t.kind == Tok::KwResult || (t.kind == Tok::Ident && is_upper(t.text[0]));
        if (type_name && check(Tok::LBrace, 1)) {
            advance();
            return parse_struct_lit(t);
        }
        advance();
        auto n = node<Name>(t.loc);
        n->name = std::string(t.text);
        return finish(std::move(n), {});
    }
    if (t.kind == Tok::KwNil)
        fail(t.loc, "Expected expression, found 'NIL' (NIL is a type; a NIL function ends with 'pass;')");
    fail_expected("expression");
}

// cast = "@" "cast" "<" type ">" "(" expr ")" ;
ExprPtr Parser::parse_cast() {
    const Token& at = advance();
    Nest nest(*this, at.loc);
    const Token& word = peek();
    if (word.kind != Tok::Ident || word.text != "cast")
        fail(word.loc, "Expected 'cast' after '@' (the only '@' form is '@cast<T>(expr)')");
    advance();
    auto c = node<Cast>(at.loc);
    expect(Tok::Lt, "after '@cast'");
    if (!starts_type(peek())) fail_expected("a type inside '@cast<...>'");
    c->type = parse_type(false);
    expect(Tok::Gt, "to close '@cast<...>'");
    const Token& open = expect(Tok::LParen, "after '@cast<...>'");
    c->operand = parse_expr();
    expect(Tok::RParen, "to close '@cast('" + opened_at(open.loc));
    const Expr* o = c->operand.get();
    return finish(std::move(c), {o});
}

ExprPtr Parser::parse_int(const Token& t, bool negated) {
    auto lit = node<IntLit>(t.loc);
    lit->value = t.value;
    lit->has_suffix = t.has_suffix;
    lit->suffix_signed = t.suffix_signed;
    lit->suffix_tbb = t.suffix_tbb;
    lit->suffix_bits = t.suffix_bits;
    // A suffixed literal must fit its type (§1).
    if (t.has_suffix && !t.bad) {
        IntFamily fam = t.suffix_tbb ? IntFamily::Tbb : t.suffix_signed ? IntFamily::Int : IntFamily::UInt;
        if (!int_literal_fits(t.value, negated, fam, t.suffix_bits))
            report(t.loc, int_literal_misfit(std::string(negated ? "-" : "") + std::string(t.text), fam,
                                             t.suffix_bits));
    }
    return finish(std::move(lit), {});
}

// TYPENAME "{" [ field { "," field } [ "," ] ] "}"
// field = IDENT ":" expr ;
ExprPtr Parser::parse_struct_lit(const Token& name) {
    auto s = node<StructLit>(name.loc);
    s->type_name = std::string(name.text);
    const Token& open = expect(Tok::LBrace, "");
    Loc open_loc = open.loc;
    uint32_t h = 1;
    try {
        parse_fields(*s, h, open_loc);
    } catch (const ParseError&) {
        // Skip to this literal's own '}' so that statement recovery does
        // not take it for the end of the block.
        int depth = 0;
        while (!check(Tok::Eof)) {
            Tok k = peek().kind;
            if (k == Tok::Semi && depth == 0) break;
            if (k == Tok::LBrace) ++depth;
            if (k == Tok::RBrace && depth-- == 0) {
                advance();
                break;
            }
            advance();
        }
        throw;
    }
    return finish_height(std::move(s), h);
}

void Parser::parse_fields(StructLit& lit, uint32_t& h, Loc open_loc) {
    StructLit* s = &lit;
    while (!check(Tok::RBrace)) {
        FieldInit f;
        const Token& fn = peek();
        if (!is_member_name(fn)) fail_expected("a field name or '}' in the " + s->type_name + " literal");
        advance();
        f.name = std::string(fn.text);
        f.loc = fn.loc;
        expect(Tok::Colon, "after the field name '" + f.name + "'");
        f.value = parse_expr();
        h = std::max(h, height_of(*f.value) + 1);
        s->fields.push_back(std::move(f));
        if (!accept(Tok::Comma)) break;
    }
    if (!check(Tok::RBrace))
        fail_expected("',' or '}' in the " + s->type_name + " literal" + opened_at(open_loc));
    advance();
}

}  // namespace npk::syntax_detail
