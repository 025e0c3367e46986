// The parser's insides, shared by its two source files: parser.cpp
// (items, types and recovery) and parse_body.cpp (statements and
// expressions). Private to syntax/: nothing outside includes it.
#pragma once

#include <algorithm>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "diag/columns.h"
#include "syntax/ast.h"
#include "syntax/lexer.h"
#include "syntax/parser.h"
#include "syntax/token.h"

namespace npk::syntax_detail {

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

inline const BinOpInfo* binop_of(Tok t) {
    for (const BinOpInfo& b : kBinOps)
        if (b.tok == t) return &b;
    return nullptr;
}

inline bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

// Type words that may also name variables and parameters (§1).
inline bool is_contextual_type_word(const Token& t) {
    return t.kind == Tok::TypeWord &&
           (t.text == "buffer" || t.text == "process" || t.text == "obj");
}

// NAME = IDENT | buffer | process | stack | gc | Result | func | obj
inline bool is_name(const Token& t) {
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
inline bool is_member_name(const Token& t) {
    return is_name(t) || t.kind == Tok::KwDrop || t.kind == Tok::TypeWord || t.kind == Tok::KwBool;
}

inline bool is_qualifier_kw(Tok k) {
    switch (k) {
    case Tok::KwWild: case Tok::KwWildx: case Tok::KwFixed: case Tok::KwConst:
    case Tok::KwStack: case Tok::KwGc: case Tok::DollarI: case Tok::DollarM:
        return true;
    default:
        return false;
    }
}

// Can `t` begin a type?
inline bool starts_type(const Token& t) {
    switch (t.kind) {
    case Tok::Question: case Tok::KwBool: case Tok::KwNil: case Tok::KwResult:
    case Tok::TypeWord: case Tok::Ident:
        return true;
    default:
        return false;
    }
}

inline uint32_t qual_bit(Tok k) {
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
        l.col = advance_column(l.col, p.text);
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
    // " opened at L:C": every message about an unclosed bracket says
    // where it was opened, in these words.
    static std::string opened_at(Loc open) {
        return " opened at " + std::to_string(open.line) + ":" + std::to_string(open.col);
    }
    // "Expected '}' to close WHAT opened at L:C, found X" (found: the next token).
    std::string unclosed(const std::string& what, Loc open) {
        return "Expected '}' to close " + what + opened_at(open) + ", found " + found_text(peek());
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
    std::unique_ptr<FuncDecl> parse_func_decl(bool is_pub, std::vector<Attr> attrs);
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
    StmtPtr parse_leave(Loc loc, LeaveKind how, const char* context);
    bool is_decl_start();
    StmtPtr parse_var_decl();
    StmtPtr parse_if();
    StmtPtr parse_if_arm(uint32_t arm);
    StmtPtr parse_while();
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

}  // namespace npk::syntax_detail
