#include "parser.h"

#include <algorithm>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "ast_dump.h"
#include "lexer.h"
#include "token.h"

namespace npk {

namespace {

using namespace ast;

// Thrown after an error has been reported: unwinds to the nearest
// recovery point (statement, member, item), which resynchronises.
struct ParseError {};
// Thrown after reporting that an item keyword (`func:`, `extern`, ...)
// appeared where a statement or member was expected, i.e. a '}' is
// missing: unwinds to the item (or Type/impl member) loop, which resumes
// at that keyword without skipping anything.
struct AbortToItem {};
// Thrown when the per-file error limit is reached.
struct GiveUp {};

// The binary operators, loosest first (§2). The only precedence table.
struct BinOpInfo {
    Tok tok;
    BinaryOp op;
    int prec;
};
constexpr BinOpInfo kBinOps[] = {
    {Tok::OrOr, BinaryOp::Or, 1},
    {Tok::AndAnd, BinaryOp::And, 2},
    {Tok::EqEq, BinaryOp::Eq, 3},  {Tok::NotEq, BinaryOp::Ne, 3},
    {Tok::Lt, BinaryOp::Lt, 4},    {Tok::Le, BinaryOp::Le, 4},
    {Tok::Gt, BinaryOp::Gt, 4},    {Tok::Ge, BinaryOp::Ge, 4},
    {Tok::Plus, BinaryOp::Add, 5}, {Tok::Minus, BinaryOp::Sub, 5},
    {Tok::Star, BinaryOp::Mul, 6}, {Tok::Slash, BinaryOp::Div, 6},
    {Tok::Percent, BinaryOp::Mod, 6},
};

const BinOpInfo* binop_of(Tok t) {
    for (const BinOpInfo& b : kBinOps)
        if (b.tok == t) return &b;
    return nullptr;
}

bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

// Type words that may also name variables and parameters (§1).
bool is_contextual_type_word(const Token& t) {
    return t.kind == Tok::TypeWord &&
           (t.text == "buffer" || t.text == "process" || t.text == "obj");
}

// NAME = IDENT | buffer | process | stack | gc | Result | func | obj
bool is_name(const Token& t) {
    switch (t.kind) {
    case Tok::Ident:
    case Tok::KwStack:
    case Tok::KwGc:
    case Tok::KwResult:
    case Tok::KwFunc:
        return true;
    case Tok::TypeWord:
        return is_contextual_type_word(t);
    default:
        return false;
    }
}

// MEMBER (after '.') = NAME | drop | any type word
bool is_member_name(const Token& t) {
    return is_name(t) || t.kind == Tok::KwDrop || t.kind == Tok::TypeWord || t.kind == Tok::KwBool;
}

bool is_qualifier_kw(Tok k) {
    switch (k) {
    case Tok::KwWild: case Tok::KwWildx: case Tok::KwFixed: case Tok::KwConst:
    case Tok::KwStack: case Tok::KwGc: case Tok::DollarI: case Tok::DollarM:
        return true;
    default:
        return false;
    }
}

// Can `t` begin a type?
bool starts_type(const Token& t) {
    switch (t.kind) {
    case Tok::Question: case Tok::KwBool: case Tok::KwNil: case Tok::KwResult:
    case Tok::TypeWord: case Tok::Ident:
        return true;
    default:
        return false;
    }
}

uint32_t qual_bit(Tok k) {
    switch (k) {
    case Tok::KwWild: return Q_WILD;
    case Tok::KwWildx: return Q_WILDX;
    case Tok::KwFixed: return Q_FIXED;
    case Tok::KwConst: return Q_CONST;
    case Tok::KwStack: return Q_STACK;
    case Tok::KwGc: return Q_GC;
    case Tok::DollarI: return Q_DOLLAR_I;
    case Tok::DollarM: return Q_DOLLAR_M;
    default: return Q_NONE;
    }
}

class Parser {
public:
    Parser(const SourceManager& sources, uint32_t file, Program& prog, Module& mod,
           Diagnostics& diag)
        : lexer_(sources, file, diag), prog_(prog), mod_(mod), diag_(diag), first_id_(prog.next_id) {}

    void parse_program();

private:
    // ---- tokens -------------------------------------------------------
    // Tokens are lexed on demand; toks_[i - base_] is token number i.
    const Token& peek(size_t ahead = 0) {
        while (base_ + toks_.size() <= pos_ + ahead) {
            if (!toks_.empty() && toks_.back().kind == Tok::Eof) return toks_.back();
            toks_.push_back(lexer_.next());
        }
        return toks_[pos_ + ahead - base_];
    }
    bool check(Tok k, size_t ahead = 0) { return peek(ahead).kind == k; }
    const Token& advance() {
        const Token& t = peek();
        if (t.kind != Tok::Eof) ++pos_;
        return t;
    }
    // Forgets the tokens before the previous one. Called only between
    // statements and items, where no caller holds a reference to a
    // consumed token, so a long file's tokens never pile up.
    void release_consumed() {
        while (base_ + 1 < pos_ && toks_.size() > 1) {
            toks_.pop_front();
            ++base_;
        }
    }
    bool accept(Tok k) {
        if (!check(k)) return false;
        advance();
        return true;
    }
    // The end of the previous token: where a missing ';' belongs.
    Loc after_previous() {
        if (pos_ == 0) return peek().loc;
        const Token& p = toks_[pos_ - 1 - base_];
        Loc l = p.loc;
        l.col += static_cast<uint32_t>(p.text.size());
        l.offset += static_cast<uint32_t>(p.text.size());
        return l;
    }

    // ---- errors -------------------------------------------------------
    void report(Loc loc, std::string message) {
        ++errors_;
        if (errors_ > kMaxSyntaxErrors) {
            diag_.error(loc, "", "Too many syntax errors in this file; giving up on it");
            throw GiveUp{};
        }
        diag_.error(loc, "", std::move(message));
    }
    [[noreturn]] void fail(Loc loc, std::string message) {
        report(loc, std::move(message));
        throw ParseError{};
    }
    [[noreturn]] void fail_expected(const std::string& what) {
        const Token& t = peek();
        fail(t.loc, "Expected " + what + ", found " + found_text(t));
    }
    std::string found_text(const Token& t) {
        std::string s = tok_describe(t);
        if (t.kind == Tok::Reserved) s += " (a reserved word)";
        return s;
    }
    const Token& expect(Tok k, const std::string& context) {
        if (!check(k)) fail_expected(std::string(tok_name(k)) + " " + context);
        return advance();
    }
    // A missing ';' is reported just after the previous token.
    void expect_semi(const std::string& context) {
        if (accept(Tok::Semi)) return;
        fail(after_previous(), "Expected ';' " + context + ", found " + found_text(peek()));
    }

    // Bounds the recursion of every rule that can nest.
    struct Nest {
        Parser& p;
        Nest(Parser& parser, Loc at) : p(parser) {
            if (p.depth_ >= kMaxNesting) {
                p.nesting_error_ = true;
                p.fail(at, "Nesting too deep: more than " + std::to_string(kMaxNesting) +
                               " nested blocks, parentheses, operators or types");
            }
            ++p.depth_;
        }
        ~Nest() { --p.depth_; }
        Nest(const Nest&) = delete;
        Nest& operator=(const Nest&) = delete;
    };

    // ---- nodes --------------------------------------------------------
    template <class T>
    std::unique_ptr<T> node(Loc loc) {
        auto n = std::make_unique<T>();
        n->loc = loc;
        n->id = prog_.next_id++;
        return n;
    }
    // Records an expression's tree height; too tall is an error.
    ExprPtr finish(ExprPtr e, std::initializer_list<const Expr*> children) {
        uint32_t h = 1;
        for (const Expr* c : children)
            if (c) h = std::max(h, height_of(*c) + 1);
        return finish_height(std::move(e), h);
    }
    ExprPtr finish_height(ExprPtr e, uint32_t h) {
        set_height(*e, h);
        if (h > kMaxExprHeight)
            fail(e->loc, "Expression too complex: more than " + std::to_string(kMaxExprHeight) +
                             " levels of operators, calls and member accesses");
        return e;
    }
    uint32_t height_of(const Expr& e) const {
        size_t i = e.id - first_id_;
        return i < heights_.size() ? heights_[i] : 1;
    }
    void set_height(const Expr& e, uint32_t h) {
        size_t i = e.id - first_id_;
        if (heights_.size() <= i) heights_.resize(i + 1, 1);
        heights_[i] = static_cast<uint16_t>(std::min<uint32_t>(h, 0xFFFF));
    }

    // ---- recovery -----------------------------------------------------
    bool at_item_start();
    void sync_item();
    void sync_stmt();
    void sync_member();

    // ---- rules --------------------------------------------------------
    void parse_item();
    void parse_use();
    std::vector<Attr> parse_attrs();
    void parse_extern(std::vector<Attr> attrs, bool is_pub);
    std::unique_ptr<FuncDecl> parse_func_decl(bool is_pub, const std::string& owner);
    void parse_type_item();
    void parse_struct_item(bool is_pub);
    void parse_impl_item();
    template <class F>
    void parse_member_list(const Token& open, const char* what, F&& on_func);
    uint32_t parse_quals(bool allow_fixed, bool allow_stack_gc, const char* where);
    void parse_ret(uint32_t& quals, TypeRef& ret, bool c_ptrs);
    std::vector<Param> parse_params(bool c_ptrs);
    TypeRef parse_type(bool c_ptrs);
    std::string parse_name(const std::string& context, Loc* loc);

    std::unique_ptr<Block> parse_block(const std::string& context);
    StmtPtr parse_stmt();
    bool is_decl_start();
    StmtPtr parse_var_decl();
    StmtPtr parse_if();
    StmtPtr parse_body();

    ExprPtr parse_expr();
    ExprPtr parse_binary(int min_prec);
    ExprPtr parse_unary();
    ExprPtr parse_postfix(bool negated_literal);
    ExprPtr parse_primary(bool negated_literal);
    ExprPtr parse_cast();
    ExprPtr parse_int(const Token& t, bool negated);
    ExprPtr parse_struct_lit(const Token& name);
    void parse_fields(StructLit& lit, uint32_t& h, Loc open_loc);

    Lexer lexer_;
    Program& prog_;
    Module& mod_;
    Diagnostics& diag_;
    std::deque<Token> toks_;  // deque: peeking ahead never moves a token
    size_t base_ = 0;         // number of the first token in toks_
    size_t pos_ = 0;          // number of the next token
    uint32_t depth_ = 0;
    // Set by a nesting error: the statement to skip may hold hundreds of
    // nested statement keywords, so recovery must not stop at them.
    bool nesting_error_ = false;
    uint32_t errors_ = 0;
    uint32_t first_id_;
    std::vector<uint16_t> heights_;
};

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
    case Tok::Hash:
    case Tok::KwExtern: {
        std::vector<Attr> attrs = parse_attrs();
        const bool is_pub = accept(Tok::KwPub);
        if (!check(Tok::KwExtern)) {
            if (!attrs.empty())
                fail(attrs.front().loc, "Attributes are only allowed before 'extern func'");
            fail_expected("'extern'");
        }
        parse_extern(std::move(attrs), is_pub);
        return;
    }
    case Tok::KwPub: {
        if (check(Tok::KwExtern, 1)) {
            advance();
            parse_extern({}, true);
            return;
        }
        advance();
        if (check(Tok::KwFunc)) {
            mod_.funcs.push_back(parse_func_decl(true, ""));
            return;
        }
        if (check(Tok::KwStruct)) {
            parse_struct_item(true);
            return;
        }
        fail_expected("'func' or 'struct' after 'pub'");
    }
    case Tok::KwFunc:
        mod_.funcs.push_back(parse_func_decl(false, ""));
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
// Attribute words may be reserved words (`#[inline]`): they are only
// recorded.
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
        a.name = word("(the attribute name) after '#['");
        if (accept(Tok::LParen)) {
            do {
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
std::unique_ptr<FuncDecl> Parser::parse_func_decl(bool is_pub, const std::string& owner) {
    auto f = std::make_unique<FuncDecl>();
    f->loc = expect(Tok::KwFunc, "").loc;
    f->is_pub = is_pub;
    f->owner = owner;
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
            fail(peek().loc, std::string("Expected '}' to close the ") + what + " opened at " +
                                 std::to_string(open_loc.line) + ":" + std::to_string(open_loc.col) +
                                 ", found end of file");
        if (!check(Tok::KwFunc) && at_item_start()) {
            report(peek().loc, std::string("Expected '}' to close the ") + what + " opened at " +
                                   std::to_string(open_loc.line) + ":" +
                                   std::to_string(open_loc.col) + ", found " + found_text(peek()));
            throw AbortToItem{};
        }
        size_t before = pos_;
        try {
            if (!check(Tok::KwFunc))
                fail(peek().loc, std::string("Expected 'func' or '}' in the ") + what + ", found " +
                                     found_text(peek()));
            on_func(parse_func_decl(false, ""));
        } catch (const ParseError&) {
            sync_member();
        } catch (const AbortToItem&) {
            // A member's body lacked its '}': if the keyword that ended it
            // is a sibling `func`, go on with it; else the block is open.
            if (!check(Tok::KwFunc)) {
                report(peek().loc, std::string("Expected '}' to close the ") + what +
                                       " opened at " + std::to_string(open_loc.line) + ":" +
                                       std::to_string(open_loc.col) + ", found " +
                                       found_text(peek()));
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
            fail(peek().loc, "Expected '}' to close the fields of struct '" + s.name +
                                 "' opened at " + std::to_string(open_loc.line) + ":" +
                                 std::to_string(open_loc.col) + ", found " + found_text(peek()));
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
            fail(peek().loc, "Expected '}' to close the block opened at " +
                                 std::to_string(b->loc.line) + ":" + std::to_string(b->loc.col) +
                                 ", found end of file");
        if (at_item_start()) {
            report(peek().loc, "Expected '}' to close the block opened at " +
                                   std::to_string(b->loc.line) + ":" + std::to_string(b->loc.col) +
                                   ", found " + found_text(peek()));
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

// stmt = var_decl | if_stmt | "defer" block | block
//      | "exit" expr ";" | "pass" [ expr ] ";" | "fail" expr ";"
//      | "return" [ expr ] ";" | expr ";" ;
StmtPtr Parser::parse_stmt() {
    const Token& t = peek();
    Loc loc = t.loc;
    switch (t.kind) {
    case Tok::KwIf:
        return parse_if();
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
    case Tok::KwExit: {
        advance();
        auto s = node<Exit>(loc);
        s->value = parse_expr();
        expect_semi("after 'exit' statement");
        return s;
    }
    case Tok::KwFail: {
        advance();
        auto s = node<Fail>(loc);
        s->value = parse_expr();
        expect_semi("after 'fail' statement");
        return s;
    }
    case Tok::KwPass: {
        advance();
        auto s = node<Pass>(loc);
        if (!check(Tok::Semi)) s->value = parse_expr();
        expect_semi("after 'pass' statement");
        return s;
    }
    case Tok::KwReturn: {
        advance();
        auto s = node<Return>(loc);
        if (!check(Tok::Semi)) s->value = parse_expr();
        expect_semi("after 'return' statement");
        return s;
    }
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
StmtPtr Parser::parse_if() {
    const Token& kw = peek();
    Nest nest(*this, kw.loc);
    auto s = node<If>(kw.loc);
    advance();
    expect(Tok::LParen, "after 'if'");
    s->cond = parse_expr();
    expect(Tok::RParen, "to close the 'if' condition");
    s->then_body = parse_body();
    if (accept(Tok::KwElse)) s->else_body = check(Tok::KwIf) ? parse_if() : parse_body();
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

// expr = or_expr [ "=" expr ] ;      (* target: NAME or NAME "." IDENT *)
ExprPtr Parser::parse_expr() {
    Nest nest(*this, peek().loc);
    ExprPtr lhs = parse_binary(1);
    if (!check(Tok::Assign)) return lhs;
    Loc eq = advance().loc;
    bool ok = lhs->kind == ExprKind::Name ||
              (lhs->kind == ExprKind::Member &&
               static_cast<const Member&>(*lhs).object->kind == ExprKind::Name);
    if (!ok)
        report(eq, "Invalid assignment target: only a variable or a field of a variable "
                   "(x or x.f) can be assigned");
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

// postfix = primary { "(" [ expr { "," expr } ] ")" | "." MEMBER } ;
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
                fail_expected("')' to close the call opened at " + std::to_string(open.line) + ":" +
                              std::to_string(open.col));
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
        expect(Tok::RParen, "to close '(' opened at " + std::to_string(t.loc.line) + ":" +
                                std::to_string(t.loc.col));
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
    expect(Tok::RParen, "to close '@cast(' opened at " + std::to_string(open.loc.line) + ":" +
                            std::to_string(open.loc.col));
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
    // A suffixed literal must fit its type (§1). Widths above 64 hold
    // every u64; the type checker rejects those types.
    if (t.has_suffix && !t.bad && t.suffix_bits <= 64) {
        uint32_t b = t.suffix_bits;
        uint64_t max;
        std::string range;
        std::string type;
        if (t.suffix_tbb) {
            // Symmetric: the minimum two's-complement value is the ERR sentinel.
            max = (uint64_t{1} << (b - 1)) - 1;
            type = "tbb" + std::to_string(b);
            range = "-" + std::to_string(max) + " to " + std::to_string(max);
        } else if (t.suffix_signed) {
            uint64_t pos = (uint64_t{1} << (b - 1)) - 1;
            max = negated ? pos + 1 : pos;
            type = "int" + std::to_string(b);
            range = "-" + std::to_string(pos + 1) + " to " + std::to_string(pos);
        } else {
            max = b == 64 ? UINT64_MAX : (uint64_t{1} << b) - 1;
            type = "uint" + std::to_string(b);
            range = "0 to " + std::to_string(max);
        }
        if (t.value > max)
            report(t.loc, "Integer literal " + std::string(negated ? "-" : "") + std::string(t.text) +
                              " does not fit in " + type + " (" + range + ")");
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
        fail_expected("',' or '}' in the " + s->type_name + " literal opened at " +
                      std::to_string(open_loc.line) + ":" + std::to_string(open_loc.col));
    advance();
}

}  // namespace

bool parse_module(const SourceManager& sources, uint32_t file, Program& prog, Module& mod,
                  Diagnostics& diag) {
    mod.file = file;
    if (mod.path.empty()) mod.path = sources.file(file).path;
    size_t errors_before = diag.error_count();
    Parser p(sources, file, prog, mod, diag);
    p.parse_program();
    return diag.error_count() == errors_before;
}

}  // namespace npk
