// Seeing what was built: NPK_JIT_DUMP=ir / asm / ir,asm (to stderr or
// NPK_JIT_DUMP_FILE) and npk_jit_disassemble, read back line by line: the
// listing's addresses and bytes are compared with the code in memory.
#include "support.h"
#include "tools_support.h"

#include "arch/arch.h"
#include "skip.h"

#include <npk/jitbuild.h>

#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace npk::test;

namespace {

// A new file per test case: the runtime keeps the dump file open while
// NPK_JIT_DUMP_FILE names it (all cases may run in one process).
int g_case = 0;
std::string dump_path() {
    return "/tmp/npk-dump-test-" + std::to_string(getpid()) + "-" + std::to_string(g_case) + ".txt";
}

// Sets NPK_JIT_DUMP (and the file) for one test, and unsets them after.
struct DumpEnv {
    DumpEnv(const char* what, const char* file) {
        if (file != nullptr) {
            setenv("NPK_JIT_DUMP_FILE", file, 1);
        } else {
            unsetenv("NPK_JIT_DUMP_FILE");
        }
        set_env("NPK_JIT_DUMP", what);
    }
    ~DumpEnv() {
        unsetenv("NPK_JIT_DUMP_FILE");
        set_env("NPK_JIT_DUMP", nullptr);
        std::remove(dump_path().c_str());
        ++g_case;
    }
};

// i64 f(i64 x) { i64 k = 3; x = x * k; if (x > 100) return k; return x; }
npk_jit_builder* small_builder(const char* name) {
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t x = npk_jit_param(b, NPK_JIT_I64);
    const int32_t k = npk_jit_var(b, NPK_JIT_I64);
    const int32_t c = npk_jit_var(b, NPK_JIT_I32);
    const int32_t big = npk_jit_label(b);
    npk_jit_const_i64(b, k, 3);
    npk_jit_op(b, NPK_JIT_MUL, x, x, k);
    npk_jit_const_i64(b, c, 0);
    npk_jit_const_i64(b, k, 100);
    npk_jit_op(b, NPK_JIT_GT, c, x, k);
    npk_jit_branch_if(b, c, big);
    npk_jit_ret(b, x);
    npk_jit_bind(b, big);
    npk_jit_ret(b, k);
    if (name != nullptr) npk_jit_builder_name(b, name);
    return b;
}

struct Listed {
    uintptr_t address;
    size_t offset;
    std::vector<uint8_t> bytes;
    std::string text;
};

// The instruction lines of a listing (those that start with an address).
std::vector<Listed> listed(const std::string& text) {
    std::vector<Listed> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        unsigned long addr = 0, off = 0;
        int used = 0;
        if (std::sscanf(line.c_str(), " %16lx +%lx %n", &addr, &off, &used) != 2) continue;
        Listed l{addr, off, {}, ""};
        const char* p = line.c_str() + used;
        unsigned byte = 0;
        int n = 0;
        while (std::sscanf(p, "%2x%n", &byte, &n) == 1 && n == 2 && (p[2] == ' ')) {
            l.bytes.push_back(static_cast<uint8_t>(byte));
            p += 3;
            if (*p == ' ') break;  // two spaces: the bytes end
        }
        while (*p == ' ') ++p;
        l.text = p;
        out.push_back(l);
    }
    return out;
}

// Every listed instruction is where the listing says, with the bytes that
// are really there, back to back from fn for `size` bytes.
void check_listing_matches_memory(const std::string& text, const void* fn, size_t size) {
    const std::vector<Listed> lines = listed(text);
    REQUIRE(!lines.empty());
    const auto* code = static_cast<const uint8_t*>(fn);
    size_t at = 0;
    for (const Listed& l : lines) {
        INFO(l.text);
        CHECK(l.address == reinterpret_cast<uintptr_t>(fn) + at);
        CHECK(l.offset == at);
        REQUIRE(!l.bytes.empty());
        REQUIRE(at + l.bytes.size() <= size);
        CHECK(std::memcmp(code + at, l.bytes.data(), l.bytes.size()) == 0);
        CHECK(!l.text.empty());
        at += l.bytes.size();
    }
    CHECK(at == size);
}

std::string disassembly(const void* fn) {
    const int32_t n = npk_jit_disassemble(fn, nullptr, 0);
    REQUIRE(n > 0);
    std::string s(static_cast<size_t>(n) + 1, '\0');
    REQUIRE(npk_jit_disassemble(fn, s.data(), s.size()) == n);
    s.resize(static_cast<size_t>(n));
    return s;
}

size_t header_size(const std::string& text) {
    const size_t at = text.find(" bytes of ");
    REQUIRE(at != std::string::npos);
    const size_t comma = text.rfind(", ", at);
    return std::stoul(text.substr(comma + 2, at - comma - 2));
}

const char* kReturn = sizeof(void*) == 8 && npk_jit_host_supported() ? "ret" : "";

}  // namespace

TEST_CASE("NPK_JIT_DUMP=ir,asm: the program and the code of each built function, to the file", "[tools][dump]") {
    DumpEnv env("ir,asm", dump_path().c_str());
    void* f = npk_jit_build(small_builder("dump_me"));
    REQUIRE(f != nullptr);
    CHECK(reinterpret_cast<int64_t (*)(int64_t)>(f)(5) == 15);
    CHECK(reinterpret_cast<int64_t (*)(int64_t)>(f)(50) == 100);
    const std::string text = slurp(dump_path());
    INFO(text);
    char head[128];
    std::snprintf(head, sizeof head, ";; function dump_me i64(i64) at 0x%" PRIxPTR ", ", reinterpret_cast<uintptr_t>(f));
    CHECK(text.rfind(head, 0) == 0);
    // The program, numbered as the builder's calls were made.
    CHECK(text.find(";; program: 3 variables, 1 labels, 9 instructions\n") != std::string::npos);
    CHECK(text.find("  param 0: v0 i64\n") != std::string::npos);
    CHECK(text.find("  var i64: v1\n") != std::string::npos);
    CHECK(text.find("  var i32: v2\n") != std::string::npos);
    CHECK(text.find("  0  v1 = const 3\n  1  v0 = mul v0, v1\n") != std::string::npos);
    CHECK(text.find("  4  v2 = gt v0, v1\n  5  if v2 goto L0\n  6  ret v0\n  7  L0:\n  8  ret v1\n") !=
          std::string::npos);
    // Then the code, the bytes that are really at f.
    const size_t code_at = text.find(";; code\n");
    REQUIRE(code_at != std::string::npos);
    CHECK(code_at > text.find(";; program"));
    check_listing_matches_memory(text.substr(code_at), f, header_size(text));
    CHECK(text.find(kReturn) != std::string::npos);
    npk_wildx_free(f);
}

TEST_CASE("NPK_JIT_DUMP=ir or =asm alone, to stderr without NPK_JIT_DUMP_FILE", "[tools][dump]") {
    SECTION("ir") {
        DumpEnv env("ir", nullptr);
        StderrCapture err;
        void* f = npk_jit_build(small_builder(nullptr));
        const std::string text = err.text();
        INFO(text);
        REQUIRE(f != nullptr);
        CHECK(text.find(";; function " + hex_name(f) + " i64(i64)") == 0);
        CHECK(text.find(";; program:") != std::string::npos);
        CHECK(text.find(";; code") == std::string::npos);
        npk_wildx_free(f);
    }
    SECTION("asm") {
        DumpEnv env("asm", nullptr);
        StderrCapture err;
        void* f = npk_jit_build(small_builder(nullptr));
        const std::string text = err.text();
        INFO(text);
        REQUIRE(f != nullptr);
        CHECK(text.find(";; program:") == std::string::npos);
        // The dump of asm alone is exactly what npk_jit_disassemble gives.
        CHECK(text == disassembly(f) + "\n");
        npk_wildx_free(f);
    }
    SECTION("not set: nothing") {
        DumpEnv env(nullptr, nullptr);
        StderrCapture err;
        void* f = npk_jit_build(small_builder(nullptr));
        CHECK(err.text().empty());
        npk_wildx_free(f);
    }
}

TEST_CASE("NPK_JIT_DUMP: a region's functions at region_add, at their final addresses", "[tools][dump]") {
    DumpEnv env("asm", dump_path().c_str());
    npk_jit_region* r = npk_jit_region_new();
    void* f1 = npk_jit_region_add(r, small_builder("first"));
    void* f2 = npk_jit_region_add(r, const_builder(7, "second"));
    REQUIRE(f1 != nullptr);
    REQUIRE(f2 != nullptr);
    REQUIRE(npk_jit_region_seal(r) == 0);
    const std::string text = slurp(dump_path());
    INFO(text);
    const size_t second = text.find(";; function second");
    REQUIRE(second != std::string::npos);
    // Each block is the function's disassembly (the fill between the two is no one's code).
    CHECK(text.substr(0, second) == disassembly(f1) + "\n");
    CHECK(text.substr(second) == disassembly(f2) + "\n");
    check_listing_matches_memory(disassembly(f1), f1, header_size(disassembly(f1)));
    CHECK(call_i64(f2) == 7);
    npk_jit_region_free(r);
}

TEST_CASE("NPK_JIT_DUMP: bad values are said once and dump nothing", "[tools][dump]") {
    for (const char* bad : {"yes", "ir,", "asm,IR", "ir asm", "1"}) {
        INFO(bad);
        StderrCapture err;
        DumpEnv env(bad, nullptr);
        void* f = npk_jit_build(small_builder(nullptr));
        const std::string text = err.text();
        CHECK(text.find("ignoring NPK_JIT_DUMP='") != std::string::npos);
        CHECK(text.find("expected ir, asm or ir,asm") != std::string::npos);
        CHECK(text.find(";; function") == std::string::npos);
        npk_wildx_free(f);
    }
    SECTION("control bytes are escaped") {
        StderrCapture err;
        DumpEnv env("ir\n\x1b[2J", nullptr);
        const std::string text = err.text();
        CHECK(text.find("ignoring NPK_JIT_DUMP='ir\\x0a\\x1b[2J'") != std::string::npos);
    }
}

TEST_CASE("NPK_JIT_DUMP_FILE that cannot be written: said once, the dump goes to stderr", "[tools][dump]") {
    DumpEnv env("asm", "/nonexistent-npk-dir/dump.txt");
    StderrCapture err;
    void* f = npk_jit_build(const_builder(1, "a"));
    void* g = npk_jit_build(const_builder(2, "b"));
    const std::string text = err.text();
    INFO(text);
    CHECK(text.find("NPK_JIT_DUMP_FILE: cannot write '/nonexistent-npk-dir/dump.txt'") != std::string::npos);
    CHECK(text.find("cannot write", text.find("cannot write") + 1) == std::string::npos);
    CHECK(text.find(";; function a i64()") != std::string::npos);
    CHECK(text.find(";; function b i64()") != std::string::npos);
    npk_wildx_free(f);
    npk_wildx_free(g);
}

TEST_CASE("NPK_JIT_DUMP: validated bytes (npk_jit_build_bytes) are dumped as code, without a program",
          "[tools][dump]") {
    if (!npk_jit_host_supported()) npk_test_skip("no code generator for this CPU");
    // i64 add(i64 a, i64 b): lea rax, [rdi + rsi]; ret / add x0, x0, x1; ret
    const std::vector<unsigned char> code =
        npk::arch::kCpu == npk::arch::Cpu::x86_64
            ? std::vector<unsigned char>{0x48, 0x8D, 0x04, 0x37, 0xC3}
            : std::vector<unsigned char>{0x00, 0x00, 0x01, 0x8B, 0xC0, 0x03, 0x5F, 0xD6};
    const int32_t two_i64[] = {NPK_JIT_I64, NPK_JIT_I64};
    DumpEnv env("ir,asm", dump_path().c_str());
    void* f = npk_jit_build_bytes_named(code.data(), code.size(), NPK_JIT_I64, 2, two_i64, 0, "user_add");
    REQUIRE(f != nullptr);
    const std::string text = slurp(dump_path());
    INFO(text);
    CHECK(text.rfind(";; function user_add i64(i64, i64) at ", 0) == 0);
    CHECK(text.find(";; program") == std::string::npos);
    CHECK(text == disassembly(f) + "\n");
    CHECK(header_size(text) == code.size());
    check_listing_matches_memory(text, f, code.size());
    npk_wildx_free(f);
}

TEST_CASE("npk_jit_disassemble: the listing of a built function", "[tools][dump]") {
    void* f = npk_jit_build(small_builder("listed"));
    REQUIRE(f != nullptr);
    const std::string text = disassembly(f);
    INFO(text);
    char head[128];
    std::snprintf(head, sizeof head, ";; function listed i64(i64) at 0x%" PRIxPTR ", ", reinterpret_cast<uintptr_t>(f));
    CHECK(text.rfind(head, 0) == 0);
    CHECK(text.find(";; code\n") != std::string::npos);
    check_listing_matches_memory(text, f, header_size(text));
    CHECK(text.find(kReturn) != std::string::npos);
    npk_wildx_free(f);
}

TEST_CASE("npk_jit_disassemble: misuse", "[tools][dump]") {
    QuietGuard quiet;
    void* f = npk_jit_build(const_builder(5, nullptr));
    REQUIRE(f != nullptr);
    const int32_t n = npk_jit_disassemble(f, nullptr, 0);
    REQUIRE(n > 0);
    std::vector<char> buf(static_cast<size_t>(n) + 1, 'x');

    CHECK(npk_jit_disassemble(nullptr, buf.data(), buf.size()) == -1);
    CHECK(npk_last_error() == NPK_ERR_NULL);
    CHECK(npk_jit_disassemble(static_cast<char*>(f) + 1, buf.data(), buf.size()) == -1);
    CHECK(npk_last_error() == NPK_ERR_JIT_NOT_FUNCTION);
    CHECK(npk_jit_disassemble(f, nullptr, 10) == -1);
    CHECK(npk_last_error() == NPK_ERR_NULL);

    // One byte short: nothing written, the message says what is needed.
    CHECK(npk_jit_disassemble(f, buf.data(), static_cast<size_t>(n)) == -1);
    CHECK(npk_last_error() == NPK_ERR_JIT_BUFFER_TOO_SMALL);
    CHECK(std::string(npk_last_error_message()).find(std::to_string(n + 1) + " needed") != std::string::npos);
    CHECK(buf[0] == 'x');
    CHECK(npk_jit_disassemble(f, buf.data(), buf.size()) == n);
    CHECK(std::strlen(buf.data()) == static_cast<size_t>(n));

    // A sealed page the code generator did not build, a freed function.
    void* page = npk_wildx_alloc(64);
    REQUIRE(npk_wildx_seal(page) == 0);
    CHECK(npk_jit_disassemble(page, buf.data(), buf.size()) == -1);
    CHECK(npk_last_error() == NPK_ERR_JIT_NOT_FUNCTION);
    npk_wildx_free(page);
    npk_wildx_free(f);
    CHECK(npk_jit_disassemble(f, buf.data(), buf.size()) == -1);
    CHECK(npk_last_error() == NPK_ERR_JIT_NOT_FUNCTION);
}

// The program text of every kind the builder records, from the record
// itself (no build: the text does not depend on any back end).
#include "codegen/builder.h"
#include "codegen/dump.h"

TEST_CASE("NPK_JIT_DUMP=ir: the text of every kind of instruction", "[tools][dump]") {
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t p = npk_jit_param(b, NPK_JIT_PTR);       // v0
    const int32_t x = npk_jit_param(b, NPK_JIT_I64);       // v1
    const int32_t c = npk_jit_var(b, NPK_JIT_I32);         // v2
    const int32_t d = npk_jit_var(b, NPK_JIT_F64);         // v3
    const int32_t q = npk_jit_var(b, NPK_JIT_PTR);         // v4
    const int32_t l0 = npk_jit_label(b), l1 = npk_jit_label(b);
    const int32_t table[3] = {l0, l1, l0};
    const int32_t args[1] = {x};
    REQUIRE(npk_jit_const_i64(b, x, -5) == 0);
    REQUIRE(npk_jit_const_f64(b, d, 2.5) == 0);
    REQUIRE(npk_jit_mov(b, q, p) == 0);
    REQUIRE(npk_jit_op(b, NPK_JIT_ADD, q, q, x) == 0);
    REQUIRE(npk_jit_op_imm(b, NPK_JIT_SHL, x, x, 3) == 0);
    REQUIRE(npk_jit_neg(b, x, x) == 0);
    REQUIRE(npk_jit_not(b, x, x) == 0);
    REQUIRE(npk_jit_convert(b, c, x) == 0);
    REQUIRE(npk_jit_load(b, x, p, 8) == 0);
    REQUIRE(npk_jit_store_sized(b, p, -4, c, NPK_JIT_MEM_U8) == 0);
    REQUIRE(npk_jit_load_indexed(b, c, p, x, 4, 16, NPK_JIT_MEM_I16) == 0);
    REQUIRE(npk_jit_bind(b, l0) == 0);
    REQUIRE(npk_jit_jump(b, l1) == 0);
    REQUIRE(npk_jit_branch_if(b, c, l0) == 0);
    REQUIRE(npk_jit_branch_cmp(b, NPK_JIT_ULT, x, x, l1) == 0);
    REQUIRE(npk_jit_branch_cmp_imm(b, NPK_JIT_GE, c, 7, l0) == 0);
    REQUIRE(npk_jit_switch(b, x, 3, table, l1) == 0);
    REQUIRE(npk_jit_call_native(b, x, reinterpret_cast<const void*>(uintptr_t{0x1234}), NPK_JIT_I64, 1, args) == 0);
    REQUIRE(npk_jit_call_indirect(b, -1, q, NPK_JIT_VOID, 0, nullptr) == 0);
    const int32_t self_args[2] = {p, x};
    REQUIRE(npk_jit_call_self(b, x, 2, self_args) == 0);
    REQUIRE(npk_jit_bind(b, l1) == 0);
    REQUIRE(npk_jit_ret(b, x) == 0);

    npk::codegen::Text t;
    npk::codegen::program_text(b->prog, t);
    REQUIRE(t.ok());
    const std::string text = t.c_str();
    INFO(text);
    CHECK(text ==
          ";; program: 5 variables, 2 labels, 22 instructions\n"
          "  param 0: v0 ptr\n"
          "  param 1: v1 i64\n"
          "  var i32: v2\n"
          "  var f64: v3\n"
          "  var ptr: v4\n"
          "   0  v1 = const -5\n"
          "   1  v3 = const 2.5\n"
          "   2  v4 = v0\n"
          "   3  v4 = add v4, v1 (pointer arithmetic)\n"
          "   4  v1 = shl v1, 3\n"
          "   5  v1 = neg v1\n"
          "   6  v1 = not v1\n"
          "   7  v2 = convert v1 (i64 to i32)\n"
          "   8  v1 = load.64 [v0 + 8]\n"
          "   9  store.u8 [v0 - 4] = v2\n"
          "  10  v2 = load.i16 [v0 + v1*4 + 16]\n"
          "  11  L0:\n"
          "  12  jump L1\n"
          "  13  if v2 goto L0\n"
          "  14  if v1 ult v1 goto L1\n"
          "  15  if v2 ge 7 goto L0\n"
          "  16  switch v1 [L0, L1, L0] else L1\n"
          "  17  v1 = call 0x1234(v1) -> i64\n"
          "  18  call [v4]() -> void\n"
          "  19  v1 = call self(v0, v1) -> i64\n"
          "  20  L1:\n"
          "  21  ret v1\n");
    npk_jit_builder_free(b);
}
