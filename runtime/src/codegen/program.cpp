// program.cpp — signatures as data: one word per function, and its text.
#include "codegen/program.h"

#include <cstdio>
#include <cstring>

namespace npk::codegen {

const char* type_name(Type t) {
    static constexpr const char* kName[kTypeCount] = {"void", "i32", "i64", "f64", "ptr"};
    const auto i = static_cast<unsigned>(t);
    return i < kTypeCount ? kName[i] : "?";
}

Sig make_sig(Type ret, int nargs, const Type* args) {
    Sig s = static_cast<Sig>(ret) | static_cast<Sig>(nargs) << 3;
    for (int i = 0; i < nargs; ++i) s |= static_cast<Sig>(args[i]) << (7 + 3 * i);
    return s;
}

Sig signature_of(const Program& p) {
    Type args[kMaxParams];
    const int n = static_cast<int>(p.params.size());
    for (int i = 0; i < n; ++i) args[i] = p.vars[static_cast<size_t>(p.params[static_cast<size_t>(i)])];
    return make_sig(p.ret, n, args);
}

Type sig_ret(Sig s) { return static_cast<Type>(s & 7); }
int sig_nargs(Sig s) { return static_cast<int>((s >> 3) & 15); }
Type sig_arg(Sig s, int i) { return static_cast<Type>((s >> (7 + 3 * i)) & 7); }

int sig_text(Sig s, char* buf, size_t n) {
    char text[64];
    size_t len = static_cast<size_t>(std::snprintf(text, sizeof text, "%s(", type_name(sig_ret(s))));
    for (int i = 0; i < sig_nargs(s); ++i) {
        len += static_cast<size_t>(
            std::snprintf(text + len, sizeof text - len, "%s%s", i ? ", " : "", type_name(sig_arg(s, i))));
    }
    len += static_cast<size_t>(std::snprintf(text + len, sizeof text - len, ")"));
    if (len >= n) return -1;
    std::memcpy(buf, text, len + 1);
    return static_cast<int>(len);
}

}  // namespace npk::codegen
