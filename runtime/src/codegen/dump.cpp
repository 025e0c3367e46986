// dump.cpp — NPK_JIT_DUMP: the program a builder recorded, as text, and
// where a built function's dump goes (NPK_JIT_DUMP_FILE or stderr).
#include "codegen/dump.h"

#include <npk/status.h>

#include "arch/arch.h"
#include "core/config.h"
#include "core/errors.h"
#include "core/sync.h"
#include "tools/tools.h"

#include <cerrno>
#include <cinttypes>
#include <cstdlib>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace npk::codegen {

void Text::add(const char* fmt, ...) {
    if (!ok_) return;
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    const int n = std::vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    const size_t at = size();
    const size_t need = at + static_cast<size_t>(n) + 1;
    if (!buf_.reserve(need)) {
        ok_ = false;
        return;
    }
    while (buf_.size() < need) (void)buf_.push('\0');  // reserved
    if (static_cast<size_t>(n) < sizeof small) {
        std::memcpy(buf_.data() + at, small, static_cast<size_t>(n) + 1);
    } else {
        va_start(ap, fmt);
        std::vsnprintf(buf_.data() + at, static_cast<size_t>(n) + 1, fmt, ap);
        va_end(ap);
    }
}

namespace {

const char* op_name(BinOp op) {
    static constexpr const char* kName[kLastBinOp + 1] = {
        "?",  "add", "sub", "mul", "div", "rem", "and", "or",  "xor", "shl", "shr",
        "ushr", "eq", "ne", "lt", "le", "gt", "ge", "ult", "ule", "ugt", "uge"};
    const auto i = static_cast<unsigned>(op);
    return i <= kLastBinOp ? kName[i] : "?";
}

Type var_type(const Program& p, int32_t v) {
    return v >= 0 && static_cast<size_t>(v) < p.vars.size() ? p.vars[static_cast<size_t>(v)] : Type::void_;
}

double f64_of(int64_t bits) {
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
}

const char* mem_name(Mem m) {
    switch (m) {
        case Mem::i8: return "i8";
        case Mem::u8: return "u8";
        case Mem::i16: return "i16";
        case Mem::u16: return "u16";
        case Mem::i32: return "i32";
        case Mem::u32: return "u32";
        case Mem::b64: return "64";
    }
    return "?";
}

// "[v0 + v3*4 + 8]": the address of a load or store.
void address_text(const Inst& in, Text& out) {
    out.add("[v%d", in.a);
    if (in.c >= 0) out.add(" + v%d*%u", in.c, static_cast<unsigned>(in.scale));
    if (in.imm != 0) {
        const auto mag = in.imm < 0 ? 0 - static_cast<uint64_t>(in.imm) : static_cast<uint64_t>(in.imm);
        out.add(" %c %" PRIu64, in.imm < 0 ? '-' : '+', mag);
    }
    out.add("]");
}

void args_text(const Program& p, const Inst& in, Text& out) {
    out.add("(");
    for (int i = 0; i < in.nargs; ++i) {
        out.add("%sv%d", i ? ", " : "", p.call_args[static_cast<size_t>(in.args + i)]);
    }
    out.add(") -> %s", type_name(in.ret));
}

void switch_text(const Program& p, const Inst& in, Text& out) {
    out.add("switch v%d [", in.a);
    constexpr int64_t kShown = 32;  // a table of 65,536 labels stays one readable line
    for (int64_t i = 0; i < in.imm && i < kShown; ++i) {
        out.add("%sL%d", i ? ", " : "", p.switch_labels[static_cast<size_t>(in.args + i)]);
    }
    if (in.imm > kShown) out.add(", ... %" PRId64 " labels in all", in.imm);
    out.add("] else L%d", in.b);
}

// One instruction, without its number or the newline.
void inst_text(const Program& p, const Inst& in, Text& out) {
    if (in.dst >= 0) out.add("v%d = ", in.dst);
    switch (in.kind) {
        case Kind::const_int: out.add("const %" PRId64, in.imm); return;
        case Kind::const_f64: out.add("const %.17g", f64_of(in.imm)); return;
        case Kind::mov: out.add("v%d", in.a); return;
        case Kind::binop:
            out.add("%s v%d, v%d%s", op_name(in.op), in.a, in.b, in.mixed ? " (pointer arithmetic)" : "");
            return;
        case Kind::binop_imm: out.add("%s v%d, %" PRId64, op_name(in.op), in.a, in.imm); return;
        case Kind::neg: out.add("neg v%d", in.a); return;
        case Kind::not_: out.add("not v%d", in.a); return;
        case Kind::convert:
            out.add("convert v%d (%s to %s)", in.a, type_name(var_type(p, in.a)), type_name(var_type(p, in.dst)));
            return;
        case Kind::load:
            out.add("load.%s ", mem_name(in.mem));
            address_text(in, out);
            return;
        case Kind::store:
            out.add("store.%s ", mem_name(in.mem));
            address_text(in, out);
            out.add(" = v%d", in.b);
            return;
        case Kind::bind: out.add("L%d:", in.a); return;
        case Kind::jump: out.add("jump L%d", in.a); return;
        case Kind::branch: out.add("if v%d goto L%d", in.b, in.a); return;
        case Kind::branch_cmp: out.add("if v%d %s v%d goto L%d", in.a, op_name(in.op), in.b, in.c); return;
        case Kind::branch_cmp_imm:
            out.add("if v%d %s %" PRId64 " goto L%d", in.a, op_name(in.op), in.imm, in.c);
            return;
        case Kind::switch_: switch_text(p, in, out); return;
        case Kind::call:
            out.add("call 0x%" PRIx64, static_cast<uint64_t>(in.imm));
            args_text(p, in, out);
            return;
        case Kind::call_indirect:
            out.add("call [v%d]", in.a);
            args_text(p, in, out);
            return;
        case Kind::call_self:
            out.add("call self");
            args_text(p, in, out);
            return;
        case Kind::ret:
            if (in.a < 0) {
                out.add("ret");
            } else {
                out.add("ret v%d", in.a);
            }
            return;
    }
    out.add("<kind %u>", static_cast<unsigned>(in.kind));  // unreachable: every kind returns above
}

}  // namespace

void program_text(const Program& p, Text& out) {
    out.add(";; program: %zu variables, %zu labels, %zu instructions\n", p.vars.size(), p.label_bound.size(),
            p.insts.size());
    for (size_t i = 0; i < p.params.size(); ++i) {
        const int32_t v = p.params[i];
        out.add("  param %zu: v%d %s\n", i, v, type_name(var_type(p, v)));
    }
    // The other variables, by type, so that a wide program stays readable.
    for (int t = 1; t < kTypeCount; ++t) {
        size_t shown = 0;
        for (size_t v = 0; v < p.vars.size(); ++v) {
            if (p.vars[v] != static_cast<Type>(t)) continue;
            bool is_param = false;
            for (const int32_t q : p.params) is_param = is_param || q == static_cast<int32_t>(v);
            if (is_param) continue;
            if (shown % 16 == 0) out.add("%s  var %s:", shown ? "\n" : "", type_name(static_cast<Type>(t)));
            out.add(" v%zu", v);
            ++shown;
        }
        if (shown) out.add("\n");
    }
    const int width = std::snprintf(nullptr, 0, "%zu", p.insts.size());
    for (size_t i = 0; i < p.insts.size(); ++i) {
        out.add("  %*zu  ", width, i);
        inst_text(p, p.insts[i], out);
        out.add("\n");
    }
}

size_t dump_wanted() { return config::get(config::jit_dump); }

namespace {

// The dump's destination. NPK_JIT_DUMP_FILE is opened (truncated) at the
// first dump and kept; a new value (a test changing it) opens the new
// file. A file that cannot be opened is said once per value, and the
// dump goes to stderr instead: nothing is lost.
constinit Mutex g_mu;
FILE* g_file = nullptr;
char g_path[4096] = "";
bool g_failed = false;

FILE* sink_locked() {
    const char* want = std::getenv("NPK_JIT_DUMP_FILE");
    if (want == nullptr || *want == '\0') return stderr;
    if (std::strcmp(want, g_path) == 0) return g_file != nullptr ? g_file : stderr;
    if (g_file != nullptr) std::fclose(g_file);
    g_file = nullptr;
    std::snprintf(g_path, sizeof g_path, "%s", want);
    g_failed = std::strlen(want) >= sizeof g_path;
    if (!g_failed) g_file = std::fopen(want, "w");
    if (g_file == nullptr) {
        warn_line(NPK_FACILITY_BUILDER, "NPK_JIT_DUMP_FILE: cannot write '%.200s' (%s); dumping to stderr", want,
                  g_failed ? "path too long" : std::strerror(errno));
        g_failed = true;
        return stderr;
    }
    return g_file;
}

}  // namespace

void dump_program(const Program& p, Text& ir) {
    if ((dump_wanted() & config::kDumpIr) != 0) program_text(p, ir);
}

void dump_function(const Text& ir, const char* name, Sig sig, const void* code, size_t len) {
    const size_t want = dump_wanted();
    if (want == 0) return;
    char fallback[tools::kDefaultNameSize];
    if (name == nullptr || *name == '\0') name = tools::name_or_default(nullptr, reinterpret_cast<uintptr_t>(code), fallback);
    Text t;
    char s[64];
    if (sig_text(sig, s, sizeof s) < 0) std::snprintf(s, sizeof s, "?");
    t.add(";; function %s %s at 0x%" PRIxPTR ", %zu bytes of %s code\n", name, s,
          reinterpret_cast<uintptr_t>(code), len, arch::kCpuName);
    if ((want & config::kDumpIr) != 0) t.add("%s", ir.c_str());
    if ((want & config::kDumpAsm) != 0) {
        t.add(";; code\n");
        code_listing(static_cast<const uint8_t*>(code), len, t);
    }
    if (!t.ok() || !ir.ok()) {
        warn_line(NPK_FACILITY_BUILDER, "NPK_JIT_DUMP: no memory to dump %s", name);
        return;
    }
    Lock lk(g_mu);
    FILE* f = sink_locked();
    std::fwrite(t.c_str(), 1, t.size(), f);
    std::fputc('\n', f);
    std::fflush(f);
}

}  // namespace npk::codegen
