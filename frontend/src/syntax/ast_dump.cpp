#include "syntax/ast_dump.h"

namespace npk {

using namespace ast;

namespace {

std::string quals_text(uint32_t q) {
    std::string s;
    auto add = [&](uint32_t bit, const char* w) {
        if (q & bit) s += std::string(w) + " ";
    };
    add(Q_WILD, "wild");
    add(Q_WILDX, "wildx");
    add(Q_FIXED, "fixed");
    add(Q_CONST, "const");
    add(Q_STACK, "stack");
    add(Q_GC, "gc");
    add(Q_DOLLAR_I, "$$i");
    add(Q_DOLLAR_M, "$$m");
    return s;
}

std::string quoted(const std::string& v) {
    std::string s = "\"";
    for (char c : v) {
        if (c == '"' || c == '\\') s += '\\';
        if (c == '\n') { s += "\\n"; continue; }
        s += c;
    }
    return s + "\"";
}

std::string params_text(const std::vector<Param>& ps) {
    std::string s = "(";
    for (size_t i = 0; i < ps.size(); ++i) {
        if (i) s += ", ";
        s += quals_text(ps[i].quals) + dump_type(ps[i].type) + ":" + ps[i].name;
    }
    return s + ")";
}

// "#[a] #[b(x,y)] ": each attribute, then a space.
std::string attrs_text(const std::vector<Attr>& attrs) {
    std::string out;
    for (const Attr& a : attrs) {
        out += "#[" + a.name;
        if (!a.args.empty()) {
            out += "(";
            for (size_t i = 0; i < a.args.size(); ++i) out += (i ? "," : "") + a.args[i];
            out += ")";
        }
        out += "] ";
    }
    return out;
}

std::string func_text(const FuncDecl& f) {
    std::string s = attrs_text(f.attrs) + (f.is_pub ? "pub " : "");
    s += "func:" + (f.owner.empty() ? "" : f.owner + ".") + f.name + " = " +
         quals_text(f.ret_quals) + dump_type(f.ret) + params_text(f.params) + " ";
    s += f.body ? dump_stmt(*f.body) : "<no body>";
    return s;
}

}  // namespace

std::string dump_type(const TypeRef& t) {
    std::string s;
    switch (t.base) {
    case TypeRef::Base::Int: s = "int" + std::to_string(t.bits); break;
    case TypeRef::Base::UInt: s = "uint" + std::to_string(t.bits); break;
    case TypeRef::Base::Tbb: s = "tbb" + std::to_string(t.bits); break;
    case TypeRef::Base::Bool: s = "bool"; break;
    case TypeRef::Base::Nil: s = "NIL"; break;
    case TypeRef::Base::Named: s = t.name; break;
    case TypeRef::Base::Result: s = "Result<" + (t.inner ? dump_type(*t.inner) : "") + ">"; break;
    case TypeRef::Base::Handle: s = "Handle<" + (t.inner ? dump_type(*t.inner) : "") + ">"; break;
    case TypeRef::Base::Erased: s = "?"; break;
    }
    if (t.ptr == TypeRef::Ptr::Native) s += "->";
    if (t.ptr == TypeRef::Ptr::C) s += "*";
    return s;
}

std::string dump_expr(const Expr& e) {
    switch (e.kind) {
    case ExprKind::IntLit: {
        const auto& n = static_cast<const IntLit&>(e);
        std::string s = std::to_string(n.value);
        if (n.has_suffix)
            s += std::string(n.suffix_tbb ? "tbb" : n.suffix_signed ? "i" : "u") +
                 std::to_string(n.suffix_bits);
        return s;
    }
    case ExprKind::StrLit: return quoted(static_cast<const StrLit&>(e).value);
    case ExprKind::BoolLit: return static_cast<const BoolLit&>(e).value ? "true" : "false";
    case ExprKind::Name: return static_cast<const Name&>(e).name;
    case ExprKind::Unary: {
        const auto& n = static_cast<const Unary&>(e);
        return std::string("(") + (n.op == UnaryOp::Neg ? "-" : "!") + " " + dump_expr(*n.operand) + ")";
    }
    case ExprKind::Binary: {
        const auto& n = static_cast<const Binary&>(e);
        return std::string("(") + spelling(n.op) + " " + dump_expr(*n.lhs) + " " + dump_expr(*n.rhs) + ")";
    }
    case ExprKind::Assign: {
        const auto& n = static_cast<const Assign&>(e);
        return "(= " + dump_expr(*n.target) + " " + dump_expr(*n.value) + ")";
    }
    case ExprKind::Call: {
        const auto& n = static_cast<const Call&>(e);
        std::string s = "(call " + dump_expr(*n.callee);
        for (const auto& a : n.args) s += " " + dump_expr(*a);
        return s + ")";
    }
    case ExprKind::Member: {
        const auto& n = static_cast<const Member&>(e);
        return "(. " + dump_expr(*n.object) + " " + n.member + ")";
    }
    case ExprKind::StructLit: {
        const auto& n = static_cast<const StructLit&>(e);
        std::string s = "(" + n.type_name + "{}";
        for (const auto& f : n.fields) s += " " + f.name + ":" + dump_expr(*f.value);
        return s + ")";
    }
    case ExprKind::Raw: return "(raw " + dump_expr(*static_cast<const Raw&>(e).operand) + ")";
    case ExprKind::Drop: return "(drop " + dump_expr(*static_cast<const Drop&>(e).operand) + ")";
    case ExprKind::Cast: {
        const auto& c = static_cast<const Cast&>(e);
        return "(@cast<" + dump_type(c.type) + "> " + dump_expr(*c.operand) + ")";
    }
    case ExprKind::Index: {
        const auto& n = static_cast<const Index&>(e);
        return "(index " + dump_expr(*n.object) + " " + dump_expr(*n.index) + ")";
    }
    }
    return "?";
}

std::string dump_stmt(const Stmt& st) {
    switch (st.kind) {
    case StmtKind::VarDecl: {
        const auto& d = static_cast<const VarDecl&>(st);
        std::string s = "(decl " + quals_text(d.quals) + dump_type(d.type) + ":" + d.name;
        if (d.init) s += " " + dump_expr(*d.init);
        return s + ")";
    }
    case StmtKind::If: {
        const auto& n = static_cast<const If&>(st);
        std::string s = "(if " + dump_expr(*n.cond) + " " + dump_stmt(*n.then_body);
        if (n.else_body) s += " else " + dump_stmt(*n.else_body);
        return s + ")";
    }
    case StmtKind::Defer: return "(defer " + dump_stmt(*static_cast<const Defer&>(st).body) + ")";
    case StmtKind::Block: {
        const auto& b = static_cast<const Block&>(st);
        std::string s = "{";
        for (const auto& x : b.stmts) s += " " + dump_stmt(*x);
        return s + " }";
    }
    case StmtKind::Leave: {
        const auto& n = static_cast<const Leave&>(st);
        const std::string how = spelling(n.how);
        return n.value ? "(" + how + " " + dump_expr(*n.value) + ")" : "(" + how + ")";
    }
    case StmtKind::ExprStmt: return dump_expr(*static_cast<const ExprStmt&>(st).expr) + ";";
    case StmtKind::While: {
        const auto& n = static_cast<const While&>(st);
        return "(while " + dump_expr(*n.cond) + " " + dump_stmt(*n.body) + ")";
    }
    case StmtKind::Break: return "(break)";
    case StmtKind::Continue: return "(continue)";
    }
    return "?";
}

std::string dump_module(const Module& m) {
    std::string out;
    for (const auto& u : m.uses) {
        out += "use " + quoted(u.path);
        switch (u.form) {
        case UseDecl::Form::Plain: break;
        case UseDecl::Form::All: out += ".*"; break;
        case UseDecl::Form::Names: {
            out += ".{";
            for (size_t i = 0; i < u.names.size(); ++i) out += (i ? "," : "") + u.names[i];
            out += "}";
            break;
        }
        case UseDecl::Form::Alias: out += " as " + u.alias; break;
        }
        out += "\n";
    }
    for (const auto& e : m.externs) {
        out += attrs_text(e.attrs) + "extern func:" + e.name + " = " + quals_text(e.ret_quals) + dump_type(e.ret) +
               params_text(e.params) + "\n";
    }
    for (const auto& s : m.structs) {
        out += std::string(s.is_pub ? "pub " : "") + "struct:" + s.name + " = {";
        for (const auto& f : s.fields) out += " " + dump_type(f.type) + ":" + f.name + ";";
        out += " }\n";
    }
    for (const auto& t : m.types) {
        out += "Type:" + t.name + " = {\n";
        for (const auto& f : t.methods) out += "  " + func_text(*f) + "\n";
        out += "}\n";
    }
    for (const auto& im : m.impls) {
        out += "impl:" + im.trait + ":for:" + im.for_type + " = {\n";
        for (const auto& f : im.methods) out += "  " + func_text(*f) + "\n";
        out += "}\n";
    }
    for (const auto& f : m.funcs) out += func_text(*f) + "\n";
    return out;
}

}  // namespace npk
