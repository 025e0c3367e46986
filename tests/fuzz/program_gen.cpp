// The program generator (program_gen.h). Each episode writes its lines
// into a Lines list; wrappers indent them into a block, an `if`, a loop
// that runs once or a helper function of their own.
#include "program_gen.h"

#include <set>
#include <vector>

namespace npk::fuzz {

namespace {

struct Rng {
    uint64_t s;
    uint64_t next() {  // splitmix64
        uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    int below(int n) { return static_cast<int>(next() % static_cast<uint64_t>(n)); }
    bool chance(int percent) { return below(100) < percent; }
};

using Lines = std::vector<std::string>;

void append(Lines& out, const Lines& more) { out.insert(out.end(), more.begin(), more.end()); }

Lines indent(const Lines& in) {
    Lines out;
    for (const std::string& l : in) out.push_back("    " + l);
    return out;
}

// The helpers episodes call; only those used are written.
const char* const kHelpers[][2] = {
    {"h_free_all", "func:h_free_all = NIL(int8->:b) {\n    free(b);\n    pass;\n};\n"},
    {"h_free_attr", "#[releases(b)]\nfunc:h_free_attr = NIL(int8->:b) {\n    free(b);\n    pass;\n};\n"},
    {"h_free_some", "func:h_free_some = NIL(int8->:b, int32:k) {\n    if (k > 2i32) {\n        free(b);\n    }\n"
                    "    pass;\n};\n"},
    {"h_free_fail", "func:h_free_fail = int32(int8->:b, int32:k) {\n    if (k > 4i32) {\n        free(b);\n"
                    "        fail 7i32;\n    }\n    free(b);\n    pass 0i32;\n};\n"},
    {"h_id", "func:h_id = int8->(int8->:b) {\n    pass b;\n};\n"},
    {"h_read", "func:h_read = int8($$i int8->:b, int32:i) {\n    pass b[i];\n};\n"},
    {"h_nested", "func:h_nested = NIL(int8->:b, int32:k) {\n    int32:i = 0i32;\n    while (i < 4i32) {\n"
                 "        i = i + 1i32;\n        if (i < 2i32) {\n            continue;\n        }\n        {\n"
                 "            free(b);\n            pass;\n        }\n    }\n    free(b);\n    pass;\n};\n"},
};

class Gen {
public:
    Gen(uint64_t seed, const GenOptions& o) : r_{seed * 0x2545f4914f6cdd1dull + 1}, o_(o) {}

    Generated run() {
        drop_ = r_.chance(20);
        const int k = r_.below(7);
        Lines body;
        body.push_back("int32:k = " + std::to_string(k) + "i32;");
        body.push_back("int64:sum = 0i64;");
        const int n = 1 + r_.below(o_.max_episodes);
        for (int i = 0; i < n; ++i) {
            // The wrapper is chosen first: an episode in a helper may leave
            // it early with pass / fail, one in main with exit.
            const int wrapper = r_.below(6);
            in_helper_ = wrapper == 5;
            append(body, wrapped(wrapper, episode()));
        }
        body.push_back("if (sum == -1i64) {");
        body.push_back("    exit 3;");
        body.push_back("}");
        body.push_back("exit 0;");

        std::string t;
        if (drop_) t += "use \"drop.npk\".*;\n";
        if (jit_) t += "use \"jit.npk\".*;\n";
        if (handle_) t += "use \"handle.npk\".*;\n";
        if (npk_alloc_) t += "extern func:npk_alloc = wild ?*(uint64:size);\n";
        t += "\nstruct:Box = {\n    int8->:ptr;\n    int64:n;\n};\n\n";
        t += "func:failsafe = int32(tbb32:err) {\n    exit 99;\n};\n\n";
        for (const auto& h : kHelpers)
            if (used_.count(h[0])) t += std::string(h[1]) + "\n";
        t += helpers_;
        t += "func:main = int32() {\n";
        for (const std::string& l : indent(body)) t += l + "\n";
        t += "};\n";
        return {t, planted_, kinds_};
    }

private:
    std::string fresh(const char* p) { return p + std::to_string(uid_++); }
    std::string num(int v, const char* suffix) { return std::to_string(v) + suffix; }
    std::string call(const char* helper) {
        used_.insert(helper);
        return helper;
    }
    void kind(const std::string& k) { kinds_ += (kinds_.empty() ? "" : ", ") + k; }
    bool plant() {
        if (!r_.chance(40)) return false;
        ++planted_;
        return true;
    }

    Lines episode() {
        int which = r_.below(10);
        if (which < 5) return heap();
        if (which < 7) return page();
        if (which < 9 && o_.jit) return jit();
        return handles();
    }

    // An episode inside a scope of its own, an `if`, a loop that runs
    // once, or a helper function that main calls.
    Lines wrapped(int wrapper, Lines ep) {
        Lines out;
        switch (wrapper) {
        case 0:
        case 1: return ep;
        case 2:
            out.push_back("{");
            append(out, indent(ep));
            out.push_back("}");
            return out;
        case 3:
            out.push_back("if (k > " + num(r_.below(5), "i32") + ") {");
            append(out, indent(ep));
            out.push_back("}");
            return out;
        case 4: {
            std::string w = fresh("w");
            out.push_back("int32:" + w + " = 0i32;");
            out.push_back("while (" + w + " < 1i32) {");
            append(out, indent(ep));
            out.push_back("    " + w + " = " + w + " + 1i32;");
            out.push_back("}");
            return out;
        }
        default: {
            std::string f = fresh("ep");
            helpers_ += "func:" + f + " = int32(int32:k) {\n    int64:sum = 0i64;\n";
            for (const std::string& l : indent(ep)) helpers_ += l + "\n";
            helpers_ += "    pass 0i32;\n};\n\n";
            out.push_back("drop " + f + "(k);");
            return out;
        }
        }
    }

    // A use of `h` (an int8 pointer to `size` bytes), in bounds.
    Lines use(const std::string& h, int size) {
        const std::string i = num(r_.below(size), "i32");
        switch (r_.below(4)) {
        case 0: return {h + "[" + i + "] = " + num(r_.below(100), "i8") + ";"};
        case 1: return {"sum = sum + @cast<int64>(" + h + "[" + i + "]);"};
        case 2: {
            std::string j = fresh("j");
            if (r_.chance(50))
                return {"int32:" + j + " = 0i32;", "while (" + j + " < " + num(size, "i32") + ") {",
                        "    " + h + "[" + j + "] = 1i8;", "    " + j + " = " + j + " + 1i32;", "}"};
            return {"int32:" + j + " = 0i32;", "while (true) {", "    " + j + " = " + j + " + 1i32;",
                    "    if (" + j + " == 2i32) {", "        continue;", "    }",
                    "    if (" + j + " > " + num(size, "i32") + ") {", "        break;", "    }",
                    "    " + h + "[" + j + " - 1i32] = 2i8;", "}"};
        }
        default: return {"sum = sum + @cast<int64>(raw " + call("h_read") + "(" + h + ", " + i + "));"};
        }
    }

    // One release of the block through `h`.
    Lines release(const std::string& h, const std::string& other) {
        if (r_.chance(15)) {
            // Leave early on some path, after releasing: pass / fail in a
            // helper, exit in main.
            static const char* const kLeave[] = {"pass 1i32;", "fail 2i32;",
                                                 "return Result{val: 3i32, err: 0i32, is_error: false};"};
            const char* leave = in_helper_ ? kLeave[r_.below(3)] : "exit 0;";
            return {"if (k > " + num(r_.below(6), "i32") + ") {", "    free(" + h + ");", std::string("    ") + leave,
                    "}", "free(" + other + ");"};
        }
        switch (r_.below(7)) {
        case 0: return {"free(" + h + ");"};
        case 1: return {"drop " + call("h_free_all") + "(" + h + ");"};
        case 2: return {"drop " + call("h_free_attr") + "(" + h + ");"};
        case 3: return {"drop " + call("h_free_fail") + "(" + h + ", k);"};
        case 4: return {"if (k > " + num(r_.below(6), "i32") + ") {", "    free(" + h + ");", "} else {",
                        "    free(" + other + ");", "}"};
        case 5: return {"drop " + call("h_nested") + "(" + h + ", k);"};
        default: {
            std::string l = fresh("l");
            return {"int32:" + l + " = 0i32;", "while (true) {", "    " + l + " = " + l + " + 1i32;",
                    "    if (" + l + " > 2i32) {", "        free(" + h + ");", "        break;", "    }", "}"};
        }
        }
    }

    Lines heap() {
        Lines out;
        const std::string p = fresh("p");
        const int size = 8 * (1 + r_.below(4));
        out.push_back("wild int8->:" + p + " = alloc(" + std::to_string(size) + ");");
        std::vector<std::string> names{p};
        const std::string a = fresh("a");
        int alias = r_.below(o_.memory_aliases ? 11 : 9);
        if (alias == 9 && !drop_) alias = 10;  // a `wild Box` needs drop.npk to be released
        static const char* const kAlias[] = {"none",   "decl",       "plain", "assign", "field", "cast",
                                             "return", "borrow",     "borrow-mut", "heap-field", "word"};
        std::string memory_name;
        switch (alias) {
        case 9: memory_name = heap_field(out, p); break;
        case 10: memory_name = word(out, p); break;
        case 0: break;
        case 1: out.push_back("wild int8->:" + a + " = " + p + ";"); break;
        case 2: out.push_back("int8->:" + a + " = " + p + ";"); break;
        case 3:
            out.push_back("int8->:" + a + ";");
            out.push_back(a + " = " + p + ";");
            break;
        case 4: out.push_back("Box:" + a + " = Box{ptr: " + p + ", n: 1i64};"); break;
        case 5: out.push_back("int8->:" + a + " = @cast<int8->>(@cast<int64>(" + p + "));"); break;
        case 6: out.push_back("int8->:" + a + " = raw " + call("h_id") + "(" + p + ");"); break;
        case 7: out.push_back("$$i int8->:" + a + " = " + p + ";"); break;
        default: out.push_back("$$m int8->:" + a + " = " + p + ";"); break;
        }
        if (alias != 0) names.push_back(alias == 4 ? a + ".ptr" : alias >= 9 ? memory_name : a);
        auto pick = [&] { return names[static_cast<size_t>(r_.below(static_cast<int>(names.size())))]; };
        const int mistake = plant() ? r_.below(8) : -1;
        static const char* const kMistake[] = {"use-after-release", "double-release", "release-on-some-path",
                                               "defer-order", "release-in-loop", "branch-then-release",
                                               "stale-struct-copy", "stale-after-reuse"};
        kind(std::string("heap:") + kAlias[alias] + (mistake >= 0 ? std::string("+") + kMistake[mistake] : ""));
        // A deferred release comes last: a later use is no mistake then,
        // and the loop of release-in-loop is the release itself.
        const bool deferred = mistake != 0 && mistake != 4 && mistake != 6 && mistake != 7 && r_.chance(20);
        if (mistake == 3) out.push_back("defer {"), append(out, indent(use(pick(), size))), out.push_back("}");
        if (deferred) out.push_back("defer {"), append(out, indent({"free(" + pick() + ");"})), out.push_back("}");
        for (int i = r_.below(4); i > 0; --i) append(out, use(pick(), size));
        if (mistake == 2) out.push_back("drop " + call("h_free_some") + "(" + pick() + ", k);");
        if (mistake == 5) append(out, {"if (k > " + num(r_.below(6), "i32") + ") {", "    free(" + pick() + ");", "}"});
        if (!deferred) {
            if (mistake == 4) {
                std::string l = fresh("l");
                append(out, {"int32:" + l + " = 0i32;", "while (" + l + " < 2i32) {", "    free(" + pick() + ");",
                             "    " + l + " = " + l + " + 1i32;", "}"});
            } else {
                append(out, release(pick(), pick()));
            }
        }
        switch (mistake) {
        case 0: append(out, use(pick(), size)); break;
        case 1: out.push_back("free(" + pick() + ");"); break;
        case 6: {
            std::string b = fresh("b");
            out.push_back("Box:" + b + " = Box{ptr: " + pick() + ", n: 2i64};");
            out.push_back(b + ".ptr[0] = 3i8;");
            break;
        }
        case 7: {
            std::string q = fresh("q");
            out.push_back("wild int8->:" + q + " = alloc(" + std::to_string(size) + ");");
            append(out, use(pick(), size));
            out.push_back("free(" + q + ");");
            break;
        }
        default: break;
        }
        return out;
    }

    // `p` kept in a field of a heap struct (released by drop.npk at the
    // scope's end): the name that reads it back.
    std::string heap_field(Lines& out, const std::string& p) {
        const std::string a = fresh("hb");
        if (r_.chance(50)) {
            out.push_back("wild Box:" + a + " = Box{ptr: " + p + ", n: 1i64};");
        } else {
            out.push_back("wild Box:" + a + " = Box{n: 1i64};");
            out.push_back(a + ".ptr = " + p + ";");
        }
        return a + ".ptr";
    }

    // `p` kept as a 64-bit word of a table (npk_alloc, released by a
    // defer), at byte 8, 11 or 12 of it; sometimes overwritten by an
    // integer first: the expression that reads it back as a pointer.
    std::string word(Lines& out, const std::string& p) {
        npk_alloc_ = true;
        const std::string t = fresh("t");
        out.push_back("wild int64->:" + t + " = npk_alloc(24u64);");
        out.push_back("defer {");
        out.push_back("    free(" + t + ");");
        out.push_back("}");
        static const char* const kOffset[] = {"0i64", "3i64", "4i64"};
        const int off = r_.below(3);
        std::string view = t;
        if (off != 0) {
            view = fresh("tv");
            out.push_back("int64->:" + view + " = @cast<int64->>(@cast<int64>(" + t + ") + " + kOffset[off] + ");");
        }
        if (r_.chance(30)) out.push_back(view + "[1] = " + num(r_.below(1000), "i64") + ";");
        out.push_back(view + "[1] = @cast<int64>(" + p + ");");
        return "@cast<int8->>(" + view + "[1])";
    }

    Lines page() {
        Lines out;
        const std::string g = fresh("g");
        out.push_back("wildx int8->:" + g + " = wildx_alloc(64);");
        std::vector<std::string> names{g};
        if (r_.chance(50)) {
            std::string a = fresh("a");
            out.push_back("wildx int8->:" + a + " = " + g + ";");
            names.push_back(a);
        }
        auto pick = [&] { return names[static_cast<size_t>(r_.below(static_cast<int>(names.size())))]; };
        for (int i = r_.below(3); i > 0; --i) append(out, use(pick(), 64));
        if (r_.chance(50)) out.push_back("int32:" + fresh("s") + " = wildx_seal(" + pick() + ");");
        const int mistake = plant() ? r_.below(3) : -1;
        static const char* const kMistake[] = {"double-release", "stale-after-reuse", "wrong-allocator"};
        kind(std::string(drop_ ? "page:drop" : "page") + (mistake >= 0 ? std::string("+") + kMistake[mistake] : ""));
        if (!drop_ || mistake >= 0) {
            // With drop.npk the page goes at the scope's end: a manual
            // release is the planted mistake.
            if (mistake == 2) out.push_back("free(" + pick() + ");");
            else out.push_back("wildx_free(" + pick() + ");");
        }
        if (mistake == 0 && !drop_) out.push_back("wildx_free(" + pick() + ");");
        if (mistake == 1) {
            std::string n = fresh("g");
            out.push_back("wildx int8->:" + n + " = wildx_alloc(64);");
            if (!drop_) out.push_back("wildx_free(" + pick() + ");");
            else append(out, use(pick(), 64));
            if (!drop_) out.push_back("wildx_free(" + n + ");");
        }
        return out;
    }

    Lines jit() {
        jit_ = true;
        Lines out;
        const std::string b = fresh("b"), x = fresh("x"), t = fresh("t");
        out.push_back("wild JitBuilder->:" + b + " = raw Jit.builder_i64();");
        out.push_back("JitVar:" + x + " = raw Jit.param_i64(" + b + ");");
        out.push_back("JitVar:" + t + " = raw Jit.var_i64(" + b + ");");
        out.push_back("raw Jit.const_i64(" + b + ", " + t + ", " + num(r_.below(50), "i64") + ");");
        out.push_back("raw Jit.add(" + b + ", " + x + ", " + x + ", " + t + ");");
        out.push_back("raw Jit.ret(" + b + ", " + x + ");");
        const int mistake = plant() ? r_.below(4) : -1;
        if (r_.chance(50)) {
            static const char* const kMistake[] = {"call-after-free", "double-free", "builder-after-build",
                                                   "builder-free-after-build"};
            kind(std::string("jit:function") + (mistake >= 0 ? std::string("+") + kMistake[mistake] : ""));
            const std::string f = fresh("f"), fa = fresh("fa");
            out.push_back("wildx int8->:" + f + " = raw Jit.compile_function(" + b + ");");
            out.push_back("int8->:" + fa + " = " + f + ";");
            out.push_back("sum = sum + raw Jit.call_i64_i64(" + fa + ", 3i64);");
            if (mistake == 2) out.push_back("raw Jit.ret(" + b + ", " + x + ");");
            if (mistake == 3) out.push_back("drop Jit.builder_free(" + b + ");");
            if (!drop_ || mistake == 0 || mistake == 1) out.push_back("drop Jit.free(" + f + ");");
            if (mistake == 0) out.push_back("sum = sum + raw Jit.call_i64_i64(" + fa + ", 4i64);");
            if (mistake == 1 && !drop_) out.push_back("drop Jit.free(" + fa + ");");
            return out;
        }
        static const char* const kMistake[] = {"call-before-seal", "call-after-free", "double-free",
                                               "builder-after-add"};
        kind(std::string("jit:region") + (mistake >= 0 ? std::string("+") + kMistake[mistake] : ""));
        const std::string rg = fresh("r"), ra = fresh("ra"), g = fresh("g");
        out.push_back("wild JitRegion->:" + rg + " = raw Jit.region();");
        out.push_back("int8->:" + g + " = raw Jit.region_add(" + rg + ", " + b + ");");
        if (mistake == 3) out.push_back("raw Jit.ret(" + b + ", " + x + ");");
        if (mistake == 0) out.push_back("sum = sum + raw Jit.call_i64_i64(" + g + ", 1i64);");
        out.push_back("drop Jit.region_seal(" + rg + ");");
        out.push_back("sum = sum + raw Jit.call_i64_i64(" + g + ", 2i64);");
        out.push_back("wild JitRegion->:" + ra + " = " + rg + ";");
        out.push_back("drop Jit.region_free(" + ra + ");");
        if (mistake == 1) out.push_back("sum = sum + raw Jit.call_i64_i64(" + g + ", 5i64);");
        if (mistake == 2) out.push_back("drop Jit.region_free(" + rg + ");");
        return out;
    }

    Lines handles() {
        handle_ = true;
        Lines out;
        const std::string a = fresh("ar"), h = fresh("h"), m = fresh("m");
        out.push_back("int64:" + a + " = raw HandleArena.create();");
        out.push_back("int64:" + h + " = raw HandleArena.alloc(" + a + ", 16i64);");
        out.push_back("int8->:" + m + " = @cast<int8->>(raw HandleArena.deref(" + h + "));");
        append(out, use(m, 16));
        const int mistake = plant() ? r_.below(2) : -1;
        static const char* const kMistake[] = {"use-after-handle-free", "use-after-arena-destroy"};
        kind(std::string(drop_ ? "handle:drop" : "handle") + (mistake >= 0 ? std::string("+") + kMistake[mistake] : ""));
        if (mistake == 0 || r_.chance(50)) out.push_back("drop HandleArena.free(" + h + ");");
        if (mistake == 0) append(out, use(m, 16));
        if (!drop_) out.push_back("drop HandleArena.destroy(" + a + ");");
        if (mistake == 1) {
            if (drop_) out.push_back("drop HandleArena.destroy(" + a + ");");
            append(out, use(m, 16));
        }
        return out;
    }

    Rng r_;
    GenOptions o_;
    int uid_ = 0;
    bool drop_ = false, jit_ = false, handle_ = false, in_helper_ = false, npk_alloc_ = false;
    int planted_ = 0;
    std::set<std::string> used_;
    std::string helpers_, kinds_;
};

}  // namespace

Generated generate_program(uint64_t seed, const GenOptions& opts) { return Gen(seed, opts).run(); }

}  // namespace npk::fuzz
