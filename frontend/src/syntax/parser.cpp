#include "syntax/parser.h"

#include <string>
#include <utility>
#include <vector>

#include "syntax/ast_dump.h"
#include "syntax/parser_p.h"

namespace npk {

namespace syntax_detail {

// ---------------------------------------------------------------------
// Recovery
// ---------------------------------------------------------------------

// True at a token sequence only an item can start with: `use "`,
// `extern`, `#[`, `pub`, `func:`, `Type:`, `struct:`, `impl:`.
bool Parser::at_item_start() {
    switch (peek().kind) {
    case Tok::KwUse: return check(Tok::String, 1);
    case Tok::KwExtern: return true;
    case Tok::Hash: return check(Tok::LBracket, 1);
    case Tok::KwPub: return check(Tok::KwFunc, 1) || check(Tok::KwStruct, 1) || check(Tok::KwExtern, 1);
    case Tok::KwFunc: case Tok::KwType: case Tok::KwStruct: case Tok::KwImpl:
        return check(Tok::Colon, 1);
    default: return false;
    }
}

// Skips to the next item keyword outside any braces opened after the
// error (a `func:` inside a skipped Type block is not an item).
void Parser::sync_item() {
    nesting_error_ = false;
    size_t start = pos_;
    int depth = 0;
    while (!check(Tok::Eof)) {
        if (depth == 0 && pos_ != start && at_item_start()) return;
        if (check(Tok::LBrace)) ++depth;
        else if (check(Tok::RBrace) && depth > 0) --depth;
        advance();
    }
}

// Skips the rest of a bad statement: past the next ';', or up to the
// '}' that closes the enclosing block, the next statement keyword or an
// item keyword (a missing '}'), whichever comes first, counting braces
// opened on the way.
void Parser::sync_stmt() {
    int depth = 0;
    bool skip_keywords = nesting_error_;
    nesting_error_ = false;
    size_t start = pos_;
    while (!check(Tok::Eof)) {
        Tok k = peek().kind;
        if (depth == 0) {
            if (k == Tok::Semi) {
                advance();
                return;
            }
            if (k == Tok::RBrace) return;
            if (at_item_start()) return;
            // A keyword the error was reported at (`int32:if = 1;`) is
            // part of the bad statement unless it begins a new line (the
            // next statement after a missing ';').
            bool at_error = pos_ == start && pos_ > base_ && toks_[pos_ - 1 - base_].loc.line == peek().loc.line;
            if (!skip_keywords && !at_error) switch (k) {
            case Tok::KwIf: case Tok::KwDefer: case Tok::KwExit: case Tok::KwPass:
            case Tok::KwFail: case Tok::KwReturn: case Tok::KwWild: case Tok::KwWildx:
            case Tok::KwFixed: case Tok::KwConst:
                return;
            default: break;
            }
        }
        if (k == Tok::LBrace) ++depth;
        else if (k == Tok::RBrace) --depth;
        advance();
    }
}

// Inside a Type or impl block: skip to the next `func` or the closing
// '}' at this level.
void Parser::sync_member() {
    nesting_error_ = false;
    int depth = 0;
    while (!check(Tok::Eof)) {
        Tok k = peek().kind;
        if (depth == 0 && (k == Tok::KwFunc || k == Tok::RBrace)) return;
        if (depth == 0 && at_item_start()) return;
        if (k == Tok::LBrace) ++depth;
        else if (k == Tok::RBrace) --depth;
        advance();
    }
}

// ---------------------------------------------------------------------
// Items
// ---------------------------------------------------------------------

// program = { item } EOF ;
void Parser::parse_program() {
    try {
        while (!check(Tok::Eof)) {
            release_consumed();
            size_t before = pos_;
            try {
                parse_item();
            } catch (const ParseError&) {
                sync_item();
            } catch (const AbortToItem&) {
                // At an item keyword already.
            }
            if (pos_ == before && !check(Tok::Eof)) advance();  // always make progress
        }
    } catch (const GiveUp&) {
    }
}

// item = use_item | attrs extern_item | func_item | type_item
//      | struct_item | impl_item ;
// func_item = [ "pub" ] func_decl ;
void Parser::parse_item() {
    const Token& t = peek();
    switch (t.kind) {
    case Tok::KwUse:
        parse_use();
        return;
    case Tok::Hash: {
        std::vector<Attr> attrs = parse_attrs();
        if (check(Tok::KwExtern) || (check(Tok::KwPub) && check(Tok::KwExtern, 1))) {
            parse_extern(std::move(attrs), accept(Tok::KwPub));
            return;
        }
        bool is_pub = check(Tok::KwPub) && check(Tok::KwFunc, 1);
        if (is_pub) advance();
        if (!check(Tok::KwFunc))
            fail(attrs.front().loc, "Attributes are only allowed before 'func', 'extern func' or a "
                                    "Type method, found " + found_text(peek()) + " after them");
        mod_.funcs.push_back(parse_func_decl(is_pub, std::move(attrs)));
        return;
    }
    case Tok::KwExtern:
        parse_extern({}, false);
        return;
    case Tok::KwPub: {
        advance();
        if (check(Tok::KwExtern)) {
            parse_extern({}, true);
            return;
        }
        if (check(Tok::KwFunc)) {
            mod_.funcs.push_back(parse_func_decl(true, {}));
            return;
        }
        if (check(Tok::KwStruct)) {
            parse_struct_item(true);
            return;
        }
        fail_expected("'func', 'extern' or 'struct' after 'pub'");
    }
    case Tok::KwFunc:
        mod_.funcs.push_back(parse_func_decl(false, {}));
        return;
    case Tok::KwType:
        parse_type_item();
        return;
    case Tok::KwStruct:
        parse_struct_item(false);
        return;
    case Tok::KwImpl:
        parse_impl_item();
        return;
    default:
        fail(t.loc, "Expected an item (use, extern func, func, Type, struct or impl), found " +
                        found_text(t));
    }
}

// use_item = "use" STRING ( "." "*" | "." "{" NAME { "," NAME } "}"
//                         | "as" IDENT | (* nothing *) ) ";" ;
void Parser::parse_use() {
    UseDecl u;
    u.loc = advance().loc;
    const Token& path = expect(Tok::String, "(the file to import) after 'use'");
    u.path = path.str;
    if (u.path.empty()) report(path.loc, "The path of a 'use' must not be empty");
    // The OS would read the path only up to the NUL: "/etc/passwd\0.npk"
    // would pass the .npk check and open /etc/passwd.
    if (u.path.find('\0') != std::string::npos) {
        report(path.loc, "The path of a 'use' must not contain a NUL byte");
        u.path.clear();  // the loader skips it
    }
    if (accept(Tok::Dot)) {
        if (accept(Tok::Star)) {
            u.form = UseDecl::Form::All;
        } else if (accept(Tok::LBrace)) {
            u.form = UseDecl::Form::Names;
            do {
                Loc l;
                u.names.push_back(parse_name("in the 'use' name list", &l));
            } while (accept(Tok::Comma));
            expect(Tok::RBrace, "to close the 'use' name list");
        } else {
            fail_expected("'*' or '{' after '.' in 'use'");
        }
    } else if (accept(Tok::KwAs)) {
        u.form = UseDecl::Form::Alias;
        const Token& a = expect(Tok::Ident, "after 'as'");
        u.alias = std::string(a.text);
    }
    expect_semi("after 'use'");
    mod_.uses.push_back(std::move(u));
}

// attrs = { "#" "[" IDENT [ "(" IDENT { "," IDENT } ")" ] "]" } ;
// Before `func:`, `extern func:` and a Type (or impl) method. Attribute
// words may be reserved words (`#[inline]`); the parser only records
// them, with their positions, and the checker says what they mean.
std::vector<Attr> Parser::parse_attrs() {
    auto word = [&](const std::string& context) {
        Tok k = peek().kind;
        if (k == Tok::Ident || k == Tok::Reserved || k == Tok::TypeWord ||
            (k >= Tok::KwWild && k <= Tok::KwBool))
            return std::string(advance().text);
        fail_expected("a word " + context);
    };
    std::vector<Attr> attrs;
    while (check(Tok::Hash)) {
        Attr a;
        a.loc = advance().loc;
        expect(Tok::LBracket, "after '#'");
        a.name_loc = peek().loc;
        a.name = word("(the attribute name) after '#['");
        if (accept(Tok::LParen)) {
            do {
                a.arg_locs.push_back(peek().loc);
                a.args.push_back(word("as an attribute argument"));
            } while (accept(Tok::Comma));
            expect(Tok::RParen, "to close the attribute arguments");
        }
        expect(Tok::RBracket, "to close the attribute");
        attrs.push_back(std::move(a));
    }
    return attrs;
}

// extern_item = [ "pub" ] "extern" "func" ":" IDENT "=" ret_type "(" [ params ] ")" ";" ;
void Parser::parse_extern(std::vector<Attr> attrs, bool is_pub) {
    ExternDecl e;
    e.is_pub = is_pub;
    e.loc = advance().loc;
    e.attrs = std::move(attrs);
    if (check(Tok::String))
        fail(peek().loc, "Extern blocks are not supported; declare each C function as "
                         "'extern func:name = type(params);'");
    expect(Tok::KwFunc, "after 'extern'");
    expect(Tok::Colon, "after 'extern func'");
    const Token& name = expect(Tok::Ident, "(the C function's name) after 'extern func:'");
    e.name = std::string(name.text);
    e.name_loc = name.loc;
    expect(Tok::Assign, "after the extern's name");
    parse_ret(e.ret_quals, e.ret, true);
    e.params = parse_params(true);
    if (check(Tok::LBrace))
        fail(peek().loc, "An extern function has no body (it is defined in C)");
    expect_semi("after the extern declaration");
    mod_.externs.push_back(std::move(e));
}

// func_decl = "func" ":" FNAME "=" ret_type "(" [ params ] ")" block ";" ;
// FNAME = IDENT | "drop" | "process"
std::unique_ptr<FuncDecl> Parser::parse_func_decl(bool is_pub, std::vector<Attr> attrs) {
    auto f = std::make_unique<FuncDecl>();
    f->loc = expect(Tok::KwFunc, "").loc;
    f->is_pub = is_pub;
    f->attrs = std::move(attrs);
    expect(Tok::Colon, "after 'func'");
    const Token& name = peek();
    if (name.kind == Tok::Ident || name.kind == Tok::KwDrop ||
        (name.kind == Tok::TypeWord && name.text == "process")) {
        advance();
    } else {
        fail_expected("a function name after 'func:'");
    }
    f->name = std::string(name.text);
    f->name_loc = name.loc;
    expect(Tok::Assign, "after the function's name");
    parse_ret(f->ret_quals, f->ret, false);
    f->params = parse_params(false);
    if (check(Tok::Semi))
        fail(peek().loc, "Function '" + f->name +
                             "' has no body (declare C functions with 'extern func:')");
    f->body = parse_block("to open the body of function '" + f->name + "'");
    // The item is complete; a missing ';' is reported but loses nothing.
    if (!accept(Tok::Semi))
        report(after_previous(), "Expected ';' after the '}' of function '" + f->name +
                                     "', found " + found_text(peek()));
    return f;
}

// Parses `{ { func_decl } }` of a Type or impl block, each member
// recovering on its own.
template <class F>
void Parser::parse_member_list(const Token& open, const char* what, F&& on_func) {
    Loc open_loc = open.loc;
    Nest nest(*this, open_loc);
    while (!check(Tok::RBrace)) {
        if (check(Tok::Eof))
            fail(peek().loc, unclosed(std::string("the ") + what, open_loc));
        // `#[...]` here is a method's attributes, not the next item.
        if (!check(Tok::KwFunc) && !check(Tok::Hash) && at_item_start()) {
            report(peek().loc, unclosed(std::string("the ") + what, open_loc));
            throw AbortToItem{};
        }
        size_t before = pos_;
        try {
            std::vector<Attr> attrs = parse_attrs();
            if (!attrs.empty() && !check(Tok::KwFunc))
                fail(peek().loc, std::string("Expected 'func' after the attributes in the ") + what +
                                     ", found " + found_text(peek()));
            if (!check(Tok::KwFunc))
                fail(peek().loc, std::string("Expected 'func' or '}' in the ") + what + ", found " +
                                     found_text(peek()));
            on_func(parse_func_decl(false, std::move(attrs)));
        } catch (const ParseError&) {
            sync_member();
        } catch (const AbortToItem&) {
            // A member's body lacked its '}': if the keyword that ended it
            // is a sibling `func`, go on with it; else the block is open.
            if (!check(Tok::KwFunc)) {
                report(peek().loc, unclosed(std::string("the ") + what, open_loc));
                throw;
            }
        }
        if (pos_ == before && !check(Tok::RBrace) && !check(Tok::Eof)) advance();
    }
    advance();  // '}'
}

// type_item = "Type" ":" IDENT "=" "{" { func_decl } "}" ";" ;
void Parser::parse_type_item() {
    TypeDecl t;
    t.loc = advance().loc;
    expect(Tok::Colon, "after 'Type'");
    t.name = std::string(expect(Tok::Ident, "(the Type's name) after 'Type:'").text);
    expect(Tok::Assign, "after the Type's name");
    const Token& open = expect(Tok::LBrace, "to open the Type block");
    parse_member_list(open, "Type block", [&](std::unique_ptr<FuncDecl> f) {
        f->owner = t.name;
        t.methods.push_back(std::move(f));
    });
    std::string name = t.name;
    mod_.types.push_back(std::move(t));
    if (!accept(Tok::Semi))
        report(after_previous(), "Expected ';' after the '}' of Type '" + name + "', found " +
                                     found_text(peek()));
}

// struct_item = [ "pub" ] "struct" ":" IDENT "=" "{" { type ":" IDENT ";" } "}" ";" ;
void Parser::parse_struct_item(bool is_pub) {
    StructDecl s;
    s.loc = advance().loc;
    s.is_pub = is_pub;
    expect(Tok::Colon, "after 'struct'");
    s.name = std::string(expect(Tok::Ident, "(the struct's name) after 'struct:'").text);
    expect(Tok::Assign, "after the struct's name");
    const Token& open = expect(Tok::LBrace, "to open the struct's fields");
    Loc open_loc = open.loc;
    while (!check(Tok::RBrace)) {
        if (check(Tok::Eof) || at_item_start())
            fail(peek().loc, unclosed("the fields of struct '" + s.name + "'", open_loc));
        size_t before = pos_;
        try {
            StructField fld;
            if (!starts_type(peek())) fail_expected("a field (type:name;) or '}'");
            fld.type = parse_type(false);
            expect(Tok::Colon, "between the field's type and name");
            fld.name = parse_name("as the field's name", &fld.loc);
            if (check(Tok::Comma))
                fail(peek().loc, "Expected ';' after field '" + fld.name +
                                     "', found ',' (struct fields end with ';')");
            expect_semi("after the field");
            s.fields.push_back(std::move(fld));
        } catch (const ParseError&) {
            while (!check(Tok::Eof) && !check(Tok::RBrace) && !check(Tok::Semi) && !at_item_start())
                advance();
            accept(Tok::Semi);
        }
        if (pos_ == before && !check(Tok::RBrace) && !check(Tok::Eof) && !at_item_start()) advance();
    }
    advance();  // '}'
    std::string name = s.name;
    mod_.structs.push_back(std::move(s));
    if (!accept(Tok::Semi))
        report(after_previous(), "Expected ';' after the '}' of struct '" + name + "', found " +
                                     found_text(peek()));
}

// impl_item = "impl" ":" IDENT ":" "for" ":" IDENT "=" "{" { func_decl } "}" [ ";" ] ;
void Parser::parse_impl_item() {
    ImplDecl im;
    im.loc = advance().loc;
    expect(Tok::Colon, "after 'impl'");
    im.trait = std::string(expect(Tok::Ident, "(the trait's name) after 'impl:'").text);
    expect(Tok::Colon, "after the trait's name");
    expect(Tok::KwFor, "after 'impl:" + im.trait + ":'");
    expect(Tok::Colon, "after 'for'");
    im.for_type = std::string(expect(Tok::Ident, "(the struct's name) after 'for:'").text);
    expect(Tok::Assign, "after the impl's struct name");
    const Token& open = expect(Tok::LBrace, "to open the impl block");
    parse_member_list(open, "impl block", [&](std::unique_ptr<FuncDecl> f) {
        f->owner = im.for_type;
        im.methods.push_back(std::move(f));
    });
    mod_.impls.push_back(std::move(im));
    accept(Tok::Semi);
}

// Qualifiers in front of a type. `stack` and `gc` are qualifiers only
// when a type or another qualifier follows (else they are names).
uint32_t Parser::parse_quals(bool allow_fixed, bool allow_stack_gc, const char* where) {
    uint32_t quals = Q_NONE;
    for (;;) {
        const Token& t = peek();
        if (!is_qualifier_kw(t.kind)) break;
        if ((t.kind == Tok::KwStack || t.kind == Tok::KwGc) &&
            !(starts_type(peek(1)) || is_qualifier_kw(peek(1).kind)))
            break;
        uint32_t bit = qual_bit(t.kind);
        if ((t.kind == Tok::KwFixed && !allow_fixed) ||
            ((t.kind == Tok::KwStack || t.kind == Tok::KwGc) && !allow_stack_gc))
            report(t.loc, "Qualifier " + tok_describe(t) + " is not allowed " + where);
        else if (quals & bit)
            report(t.loc, "Duplicate qualifier " + tok_describe(t));
        quals |= bit;
        advance();
    }
    return quals;
}

// ret_type = { "wild" | "wildx" | "const" | "$$i" | "$$m" } type ;
void Parser::parse_ret(uint32_t& quals, TypeRef& ret, bool c_ptrs) {
    quals = parse_quals(false, false, "on a return type");
    if (!starts_type(peek())) fail_expected("a return type after '='");
    ret = parse_type(c_ptrs);
}

// "(" [ params ] ")"
// params = param { "," param } ;
// param  = { "wild" | "wildx" | "const" | "stack" | "gc" | "$$i" | "$$m" } type ":" NAME ;
std::vector<Param> Parser::parse_params(bool c_ptrs) {
    std::vector<Param> params;
    expect(Tok::LParen, "to open the parameter list");
    if (accept(Tok::RParen)) return params;
    do {
        Param p;
        p.quals = parse_quals(false, true, "on a parameter");
        if (!starts_type(peek())) fail_expected("a parameter (type:name)");
        p.type = parse_type(c_ptrs);
        expect(Tok::Colon, "between the parameter's type and name");
        p.name = parse_name("as the parameter's name", &p.loc);
        params.push_back(std::move(p));
    } while (accept(Tok::Comma));
    expect(Tok::RParen, "to close the parameter list");
    return params;
}

// type = "?" "*" | "?" "->" | base [ "->" | "*" ] ;
// base = INT_TYPE | UINT_TYPE | TBB_TYPE | "bool" | "NIL" | IDENT
//      | "Result" "<" type ">" | "Handle" "<" type ">" ;
// `c_ptrs`: inside an extern signature, where pointers are `T*`.
TypeRef Parser::parse_type(bool c_ptrs) {
    const Token& t = peek();
    Nest nest(*this, t.loc);
    TypeRef ty;
    ty.loc = t.loc;
    switch (t.kind) {
    case Tok::Question:
        advance();
        ty.base = TypeRef::Base::Erased;
        if (!check(Tok::Star) && !check(Tok::Arrow)) fail_expected("'*' or '->' after '?'");
        break;
    case Tok::KwBool: advance(); ty.base = TypeRef::Base::Bool; break;
    case Tok::KwNil: advance(); ty.base = TypeRef::Base::Nil; break;
    case Tok::Ident:
        advance();
        ty.base = TypeRef::Base::Named;
        ty.name = std::string(t.text);
        if (check(Tok::Lt) && ty.name == "Handle") {
            advance();
            ty.base = TypeRef::Base::Handle;
            if (!starts_type(peek())) fail_expected("a type inside 'Handle<...>'");
            ty.inner = std::make_shared<TypeRef>(parse_type(c_ptrs));
            expect(Tok::Gt, "to close 'Handle<...>'");
        } else if (check(Tok::Lt)) {
            fail(peek().loc, "Type arguments are only allowed on Result and Handle: '" + ty.name +
                                 "<...>' is not in the subset");
        }
        break;
    case Tok::TypeWord:
        advance();
        switch (t.type) {
        case TypeWordKind::Int: ty.base = TypeRef::Base::Int; ty.bits = t.bits; break;
        case TypeWordKind::UInt: ty.base = TypeRef::Base::UInt; ty.bits = t.bits; break;
        case TypeWordKind::Tbb: ty.base = TypeRef::Base::Tbb; ty.bits = t.bits; break;
        default:
            // string, flt32, buffer, ...: the type checker names them unsupported.
            ty.base = TypeRef::Base::Named;
            ty.name = std::string(t.text);
            break;
        }
        break;
    case Tok::KwResult: {
        advance();
        ty.base = TypeRef::Base::Result;
        expect(Tok::Lt, "after 'Result'");
        if (!starts_type(peek())) fail_expected("a type inside 'Result<...>'");
        ty.inner = std::make_shared<TypeRef>(parse_type(c_ptrs));
        expect(Tok::Gt, "to close 'Result<...>'");
        break;
    }
    default:
        fail_expected("a type");
    }

    const Token& p = peek();
    if (p.kind == Tok::Arrow || p.kind == Tok::Star) {
        advance();
        std::string base = dump_type(ty);
        ty.ptr = p.kind == Tok::Arrow ? TypeRef::Ptr::Native : TypeRef::Ptr::C;
        if (c_ptrs && ty.ptr == TypeRef::Ptr::Native)
            report(p.loc, "In an extern declaration a pointer is a C pointer: write '" + base +
                              "*', not '" + base + "->'");
        else if (!c_ptrs && ty.ptr == TypeRef::Ptr::C)
            report(p.loc, "'" + base + "*' is a C pointer type, allowed only in extern "
                          "declarations: write '" + base + "->'");
    }
    return ty;
}

// NAME = IDENT | buffer | process | stack | gc | Result | func | obj
std::string Parser::parse_name(const std::string& context, Loc* loc) {
    const Token& t = peek();
    if (is_name(t)) {
        advance();
        if (loc) *loc = t.loc;
        return std::string(t.text);
    }
    if (t.kind == Tok::Reserved || (t.kind >= Tok::KwWild && t.kind <= Tok::KwBool) ||
        t.kind == Tok::TypeWord)
        fail(t.loc, "Expected a name " + context + ", found " + tok_describe(t) +
                        ", which is a reserved word");
    fail_expected("a name " + context);
}

}  // namespace syntax_detail

bool parse_module(const SourceManager& sources, uint32_t file, ast::Program& prog, ast::Module& mod,
                  Diagnostics& diag) {
    mod.file = file;
    if (mod.path.empty()) mod.path = sources.file(file).path;
    size_t errors_before = diag.error_count();
    syntax_detail::Parser p(sources, file, prog, mod, diag);
    p.parse_program();
    return diag.error_count() == errors_before;
}

}  // namespace npk

