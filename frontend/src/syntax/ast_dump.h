// A compact S-expression rendering of the syntax tree, for tests and
// debugging: `raw F.g(x) + 1` is "(+ (raw (call (. F g) x)) 1)".
#pragma once

#include <string>

#include "syntax/ast.h"

namespace npk {

std::string dump_type(const ast::TypeRef& t);
std::string dump_expr(const ast::Expr& e);
std::string dump_stmt(const ast::Stmt& s);
// Every item of the module, one per line.
std::string dump_module(const ast::Module& m);

}  // namespace npk
