#include "syntax/ast.h"

namespace npk::ast {

#define NPK_AST_NAME_CASE(Base, K) \
    case Base##Kind::K: return #K;
#define NPK_AST_NAME_EXPR(K) NPK_AST_NAME_CASE(Expr, K)
#define NPK_AST_NAME_STMT(K) NPK_AST_NAME_CASE(Stmt, K)

const char* kind_name(ExprKind k) {
    switch (k) { NPK_EXPR_KINDS(NPK_AST_NAME_EXPR) }
    return "?";
}

const char* kind_name(StmtKind k) {
    switch (k) { NPK_STMT_KINDS(NPK_AST_NAME_STMT) }
    return "?";
}

}  // namespace npk::ast
