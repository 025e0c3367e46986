// The type checker (nitpick-subset.md §6.4, §7, §3): integer literals
// and conversions, builtins and extern signatures, which bodies are
// checked (Type methods, impls, imported files) and attributes.
#include <fstream>
#include <sstream>

#include "sema_test_util.h"

using namespace npk::test;

// ---------------------------------------------------------------------
// §6.4 Integer typing and conversions
// ---------------------------------------------------------------------

TEST_CASE("literals: fits-or-fails against the declared type", "[typecheck][literal]") {
    typecheck_ok(in_main(R"(    int8:a = 127;
    int8:b = -128;
    uint8:c = 255;
    int64:d = 5000000000;
    uint64:e = 18446744073709551615;
    int8:f = -128i8;
    tbb32:g = -2147483647;
    exit 0;
)"));
    auto l = typecheck(in_main(R"(    int8:a = 200;
    uint8:b = -1;
    int64:d = 5000000000 + 1;
    tbb32:e = -2147483648;
    exit 0;
)"));
    INFO(dump(*l));
    CHECK(err(*l, 2, 14, "Integer literal 200 does not fit in int8 (-128 to 127)"));
    CHECK(err(*l, 3, 15, "Integer literal -1 does not fit in uint8 (0 to 255)"));
    CHECK(err(*l, 4, 15, "Integer literal 5000000000 does not fit in int32 (-2147483648 to 2147483647): give it a suffix"));
    CHECK(err(*l, 5, 15, "Integer literal -2147483648 does not fit in tbb32 (-2147483647 to 2147483647)"));  // that is ERR
    // A suffixed literal that does not fit (300i8) is the lexer's error.
}

TEST_CASE("literals: pass and arguments give an unsuffixed literal its type", "[typecheck][literal]") {
    // Upstream's pass accepts a literal only by widening (§6.4 note):
    // npk gives it the declared type, as for an initializer.
    typecheck_ok("func:small = int8(uint8:u) {\n    pass 5;\n};\n" + in_main("    drop small(200);\n    exit 0;\n"));
    auto l = typecheck("func:small = int8(uint8:u) {\n    pass 500;\n};\n" +
                       in_main("    drop small(-1);\n    exit 0;\n"));
    INFO(dump(*l));
    CHECK(err(*l, 2, 10, "Integer literal 500 does not fit in int8"));
    CHECK(err(*l, 5, 16, "Integer literal -1 does not fit in uint8 (0 to 255)"));
}

TEST_CASE("⚑ literals: binary operators retype unsuffixed literals only (and -LIT)", "[typecheck][literal][deviation]") {
    typecheck_ok(in_main(R"(    int8:x = 5;
    int8:y = x + 1;
    bool:neg = x == -128;
    int64:w = 1;
    int64:z = w * 5000000000;
    uint8:u = 250;
    uint8:v = u + 5;
    exit 0;
)"));
    // A suffixed literal keeps its type: int8 + int32 widens to int32,
    // which cannot narrow back (upstream would retype 1i32 to int8).
    auto l = typecheck(in_main(R"(    int8:x = 5;
    int8:y = x + 1i32;
    uint8:u = 250;
    uint8:v = u + 300;
    exit 0;
)"));
    INFO(dump(*l));
    CHECK(err(*l, 3, 16, "Cannot convert 'int32' to 'int8' for the initializer of 'y' (no implicit narrowing)"));
    // 300 does not fit uint8, stays int32, and int32 never mixes with uint8.
    CHECK(err(*l, 5, 17, "Cannot mix 'uint8' and 'int32' in '+'"));
}

TEST_CASE("conversions: widening within a signedness family only", "[typecheck][literal]") {
    typecheck_ok(in_main(R"(    int8:a = 1;
    int32:b = a;
    int64:c = b;
    uint8:d = 1;
    uint64:e = d;
    bool:f = a < c;
    exit b;
)"));
    auto l = typecheck(in_main(R"(    int64:a = 1;
    int32:b = a;
    uint32:c = b;
    tbb32:d = b;
    int32:e = d;
    exit 0;
)"));
    INFO(dump(*l));
    CHECK(err(*l, 3, 15, "Cannot convert 'int64' to 'int32' for the initializer of 'b' (no implicit narrowing)"));
    CHECK(err(*l, 4, 16, "Cannot convert 'int32' to 'uint32' for the initializer of 'c' (no implicit conversion between signed and unsigned)"));
    CHECK(err(*l, 5, 15, "Cannot convert 'int32' to 'tbb32' for the initializer of 'd' (a tbb converts only to the same tbb type)"));
    CHECK(err(*l, 6, 15, "Cannot convert 'tbb32' to 'int32' for the initializer of 'e'"));
}

TEST_CASE("conversions: any pointer to ?-> and ?*, extern ?* to any pointer", "[typecheck][literal]") {
    typecheck_ok(R"(extern func:make_opaque = ?*();
extern func:consume = int32(?*:p);

struct:S = {
    int32:a;
};

func:main = int32() {
    wild int8->:p = alloc(8);
    ?->:erased = p;
    S->:s = make_opaque();
    int8->:again = make_opaque();
    fixed int32:r = consume(p);
    fixed int32:r2 = consume(s);
    free(p);
    exit 0;
};
)" + std::string(kFailsafe));
    auto l = typecheck(R"(struct:S = {
    int32:a;
};

func:main = int32() {
    wild int8->:p = alloc(8);
    ?->:erased = p;
    int8->:back = erased;
    S->:s = p;
    free(p);
    exit 0;
};
)" + std::string(kFailsafe));
    INFO(dump(*l));
    CHECK(err(*l, 8, 19, "Cannot convert '?->' to 'int8->'"));
    CHECK(err(*l, 9, 13, "Cannot convert 'int8->' to 'S->'"));
}

// ---------------------------------------------------------------------
// §7 Builtins and extern signatures
// ---------------------------------------------------------------------

TEST_CASE("builtins: the types of alloc, free, wildx_alloc, wildx_seal, wildx_free", "[typecheck][builtin]") {
    auto ok = typecheck_ok(in_main(R"(    wild int8->:a = alloc(64);
    wild int8->:b = alloc(64i64);
    wildx int8->:c = wildx_alloc(64u16);
    int32:s = wildx_seal(c);
    int64:f = wildx_free(c);
    free(a);
    free(b);
    exit s;
)"));
    auto l = typecheck(in_main(R"(    wild int8->:a = alloc(true);
    free(5);
    int32:s = wildx_seal(1);
    int32:n = free(a);
    wildx int8->:c = wildx_alloc(1, 2);
    exit 0;
)"));
    INFO(dump(*l));
    CHECK(err(*l, 2, 27, "'alloc' takes a size (any integer type), got 'bool'"));
    CHECK(err(*l, 3, 10, "'free' takes a pointer, got 'int32'"));
    CHECK(err(*l, 4, 26, "'wildx_seal' takes a pointer, got 'int32'"));
    CHECK(err(*l, 5, 15, "This expression has no value (type 'void')"));
    CHECK(err(*l, 6, 22, "'wildx_alloc' expects 1 argument, got 2"));
}

TEST_CASE("externs: signatures libffi can express", "[typecheck][extern]") {
    auto ok = typecheck_ok(R"(extern func:f = int64(int8:a, uint16:b, int32:c, uint64:d, bool:e, ?*:f, int32*:g, tbb32:h);
extern func:g = void();
extern func:h = bool(uint8:x);
)" + in_main("    exit 0;\n"));
    for (const auto& [decl, info] : ok->sema->externs) {
        CHECK(info.valid);
        if (decl->name == "f") {
            CHECK(npk::csig_str(info.sig) == "int64(int8, uint16, int32, uint64, bool, ?*, ?*, int32)");
        }
    }
    auto l = typecheck(R"(struct:S = {
    int32:a;
};
extern func:f = int32(S:s);
extern func:g = Result<int32>();
extern func:h = NIL();
extern func:i = S();
)" + in_main("    exit 0;\n"));
    INFO(dump(*l));
    CHECK(err(*l, 4, 23, "parameter 's' of type 'S' has no C form (libffi)"));
    CHECK(err(*l, 5, 17, "Result<T> cannot cross the C ABI"));
    CHECK(err(*l, 6, 17, "'NIL' cannot appear in an extern signature"));
    CHECK(err(*l, 7, 17, "return type 'S' has no C form (libffi)"));
}

// ---------------------------------------------------------------------
// Every body is checked: Type methods, impls, imported files (§3, §8.2)
// ---------------------------------------------------------------------

TEST_CASE("checked bodies: Type methods and imported files", "[typecheck][modules]") {
    auto l = typecheck("use \"lib.npk\".*;\n" + in_main("    exit raw Lib.one();\n"),
                       {{"lib.npk", "Type:Lib = {\n    func:one = int32() {\n        pass true;\n    };\n};\n"}});
    INFO(dump(*l));
    REQUIRE(l->diag.error_count() == 1);
    const auto& d = l->diag.all().front();
    CHECK(d.loc.line == 3);
    CHECK(d.loc.col == 14);
    CHECK(l->sources.file(d.loc.file).path.find("lib.npk") != std::string::npos);
    CHECK(d.message.find("Cannot convert 'bool' to 'int32'") != std::string::npos);
}

TEST_CASE("modules: imports expose Types, pub func and pub struct, externs stay private", "[typecheck][modules]") {
    const std::string lib = R"(extern func:abs = int32(int32:x);

func:private_helper = int32() {
    pass 1;
};

pub func:public_helper = int32() {
    pass raw private_helper();
};

pub struct:Pair = {
    int32:a;
};
)";
    typecheck_ok("use \"lib.npk\".*;\n" + in_main("    Pair:p = Pair{a: raw public_helper()};\n    exit p.a;\n"),
                 {{"lib.npk", lib}});
    auto l = typecheck("use \"lib.npk\".*;\n" + in_main("    drop private_helper();\n    exit abs(-1);\n"),
                       {{"lib.npk", lib}});
    INFO(dump(*l));
    CHECK(err(*l, 3, 10, "Unknown function 'private_helper'"));
    CHECK(err(*l, 4, 10, "Unknown function 'abs'"));

    auto clash = typecheck("use \"lib.npk\".*;\nfunc:public_helper = int32() {\n    pass 2;\n};\n" + in_main("    exit 0;\n"),
                           {{"lib.npk", lib}});
    INFO(dump(*clash));
    CHECK(err(*clash, 1, 1, "'public_helper' (imported from"));
}

TEST_CASE("modules: use .{names} imports just those, duplicates in a file are errors", "[typecheck][modules]") {
    const std::string lib = "pub func:a = int32() {\n    pass 1;\n};\npub func:b = int32() {\n    pass 2;\n};\n"
                            "func:hidden = int32() {\n    pass 3;\n};\n";
    typecheck_ok("use \"lib.npk\".{a};\n" + in_main("    exit raw a();\n"), {{"lib.npk", lib}});
    auto l = typecheck("use \"lib.npk\".{a, hidden};\n" + in_main("    drop b();\n    exit raw a();\n"),
                       {{"lib.npk", lib}});
    INFO(dump(*l));
    CHECK(err(*l, 1, 1, "'hidden' is not exported by"));
    CHECK(err(*l, 3, 10, "Unknown function 'b'"));

    auto dup = typecheck("func:twice = int32() {\n    pass 1;\n};\nfunc:twice = int32() {\n    pass 2;\n};\n" +
                         in_main("    exit raw twice();\n"));
    INFO(dump(*dup));
    CHECK(err(*dup, 4, 6, "'twice' (function) clashes with another 'twice'"));
}

TEST_CASE("impl:Drop: the struct exists, one NIL 'drop' method, once", "[typecheck][modules]") {
    typecheck_ok(R"(struct:S = {
    int64:v;
};
impl:Drop:for:S = {
    func:drop = NIL($$m S:self) {
        pass;
    };
}
)" + in_main("    exit 0;\n"));
    auto l = typecheck(R"(struct:S = {
    int64:v;
};
impl:Drop:for:S = {
    func:drop = int32($$m S:self) {
        pass 1;
    };
}
impl:Drop:for:S = {
    func:drop = NIL($$m S:self) {
        pass;
    };
}
impl:Drop:for:T = {
    func:drop = NIL() {
        pass;
    };
}
)" + in_main("    exit 0;\n"));
    INFO(dump(*l));
    CHECK(err(*l, 5, 10, "'drop' of impl:Drop:for:S must return NIL"));
    CHECK(err(*l, 9, 1, "Duplicate impl:Drop for struct 'S'"));
    CHECK(err(*l, 14, 1, "type 'T' is not defined"));
}

TEST_CASE("stdlib/jit.npk and examples/jit_add.npk type-check", "[typecheck][jit]") {
    auto l = typecheck_ok(in_main(R"(    Result<int8->>:c = Jit.compile_add_i32();
    if (c.is_error) {
        exit 2;
    }
    wildx int8->:f = c.value;
    int32:sum = raw Jit.call_i32_i32(f, 1, 2);
    drop Jit.free(f);
    exit sum;
)").insert(0, "use \"jit.npk\".*;\n"));
    // Importing jit.npk does not expose its externs (§3).
    auto priv = typecheck("use \"jit.npk\".*;\n" + in_main("    exit npk_jit_install_add_i32(alloc(1));\n"));
    CHECK(err(*priv, 3, 10, "Unknown function 'npk_jit_install_add_i32'"));
}

// ---------------------------------------------------------------------
// Attributes: every argument names a parameter; Sema records them by
// parameter index for the analyses.
// ---------------------------------------------------------------------
TEST_CASE("attributes: arguments that name parameters are recorded in Sema", "[typecheck][attrs]") {
    auto l = typecheck_ok(
        "#[releases(q)] #[hint]\n"
        "func:give_back = NIL(int32:n, int8->:q) { free(q); pass; };\n"
        "Type:Pool = {\n"
        "    #[releases(p)]\n"
        "    func:put = NIL(int8->:p) { free(p); pass; };\n"
        "};\n"
        "#[destroys_arena(arena)]\n"
        "extern func:npk_free = void(?*:arena);\n" + in_main("    exit 0;\n"));
    REQUIRE(l->sema);
    const auto& mod = l->prog.root();
    const npk::FuncInfo& give = l->sema->func(mod.funcs[0].get());
    REQUIRE(give.attrs.size() == 2);
    CHECK(give.attrs[0].name == "releases");
    CHECK(give.attrs[0].params == std::vector<uint32_t>{1});
    CHECK(give.attrs[0].loc.line == 1);
    CHECK(give.attrs[1].name == "hint");
    CHECK(give.attrs[1].params.empty());
    const npk::FuncInfo& put = l->sema->func(mod.types[0].methods[0].get());
    REQUIRE(put.attrs.size() == 1);
    CHECK(put.attrs[0].params == std::vector<uint32_t>{0});
    const npk::ExternInfo& ext = l->sema->externs.at(&mod.externs[0]);
    REQUIRE(ext.attrs.size() == 1);
    CHECK(ext.attrs[0].name == "destroys_arena");
    CHECK(ext.attrs[0].params == std::vector<uint32_t>{0});
    // A call's callee carries them: what an analysis reads.
    npk::Callee c;
    c.kind = npk::Callee::Kind::Func;
    c.fn = mod.types[0].methods[0].get();
    CHECK(&l->sema->attrs_of(c) == &put.attrs);
    c.kind = npk::Callee::Kind::Builtin;
    CHECK(l->sema->attrs_of(c).empty());
}

TEST_CASE("attributes: an argument that is not a parameter is an error at the argument", "[typecheck][attrs]") {
    auto l = typecheck(
        "#[releases(p, qq)]\n"
        "func:f = NIL(int8->:p) { pass; };\n"
        "Type:T = {\n"
        "    #[releases(page)]\n"
        "    func:m = NIL() { pass; };\n"
        "};\n"
        "#[destroys_arena(a)]\n"
        "extern func:g = void(int64:arena, int64:n);\n" + in_main("    exit 0;\n"));
    INFO(dump(*l));
    CHECK(l->diag.error_count() == 3);
    CHECK(err(*l, 1, 15, "Attribute '#[releases(...)]': 'qq' is not a parameter of 'f' (its parameters are p)"));
    CHECK(err(*l, 4, 16, "'page' is not a parameter of 'T.m' (it has none)"));
    CHECK(err(*l, 7, 18, "'a' is not a parameter of 'g' (its parameters are arena, n)"));
}
