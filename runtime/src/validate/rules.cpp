// rules.cpp — the validator's rules, once for both architectures.
//
// Two passes of a linear sweep. The first only finds where instructions
// begin (a bitmap), stopping at the first bytes that do not decode; the
// second applies the instruction rules and checks branch targets against
// that bitmap. Decoding twice is cheaper than keeping every instruction,
// and the first finding by offset is then well defined: the second pass
// stops at the first break, and a decode failure comes after everything
// the second pass saw.
#include "validate/rules.h"

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace npk::validate {
namespace {

const Backend& backend_for(Arch a) { return a == Arch::x86_64 ? x86_64_backend() : aarch64_backend(); }

// Owns the decoder state for one validation.
class Session {
public:
    explicit Session(Arch arch) : backend_(backend_for(arch)) { ok_ = backend_.open(state_); }
    ~Session() {
        if (ok_) backend_.close(state_);
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    bool ok() const { return ok_; }
    const Backend& backend() const { return backend_; }
    Decoded decode(const Request& r, size_t off, Insn* out) {
        return backend_.decode(state_, r.code + off, r.size - off, r.address + off, out);
    }
    void format(const Request& r, size_t off, char* buf, size_t cap) {
        backend_.format(state_, r.code + off, r.size - off, r.address + off, buf, cap);
    }

private:
    const Backend& backend_;
    alignas(std::max_align_t) unsigned char state_[kStateSize];
    bool ok_ = false;
};

class Boundaries {
public:
    explicit Boundaries(size_t size) : bits_(static_cast<uint8_t*>(std::calloc(size / 8 + 1, 1))) {}
    ~Boundaries() { std::free(bits_); }
    Boundaries(const Boundaries&) = delete;
    Boundaries& operator=(const Boundaries&) = delete;

    bool ok() const { return bits_ != nullptr; }
    void set(size_t off) { bits_[off / 8] = static_cast<uint8_t>(bits_[off / 8] | 1u << (off % 8)); }
    bool has(size_t off) const { return (bits_[off / 8] >> (off % 8)) & 1u; }

private:
    uint8_t* bits_;
};

// The finding being built; the first rule broken wins.
struct Verdict {
    int32_t rule = NPK_OK;
    size_t offset = 0;
    uint32_t length = 0;
    char message[NPK_JIT_FINDING_MESSAGE] = "";

    bool found() const { return rule != NPK_OK; }
    void set(int32_t code, size_t off, uint32_t len, const char* fmt, ...) __attribute__((format(printf, 5, 6)));
};

void Verdict::set(int32_t code, size_t off, uint32_t len, const char* fmt, ...) {
    rule = code;
    offset = off;
    length = len;
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
}

bool allowed(uint32_t policy, uint32_t bit) { return (policy & bit) != 0; }

// Rules 2..4: the instruction's class.
void check_danger(const Request& r, size_t off, const Insn& in, Verdict* v) {
    switch (in.danger) {
    case Danger::none: return;
    case Danger::privileged:
        if (!allowed(r.policy, NPK_JIT_ALLOW_PRIVILEGED))
            v->set(NPK_ERR_CODE_PRIVILEGED, off, in.length,
                   "privileged or system instruction (allowed by NPK_JIT_ALLOW_PRIVILEGED)");
        return;
    case Danger::syscall:
        if (!allowed(r.policy, NPK_JIT_ALLOW_SYSCALL))
            v->set(NPK_ERR_CODE_SYSCALL, off, in.length,
                   "system call or software interrupt (allowed by NPK_JIT_ALLOW_SYSCALL)");
        return;
    case Danger::trap:
        if (!allowed(r.policy, NPK_JIT_ALLOW_TRAP))
            v->set(NPK_ERR_CODE_TRAP, off, in.length, "trap instruction, or one that can set the trap flag (allowed by NPK_JIT_ALLOW_TRAP)");
        return;
    }
}

// Rules 5 and 6: where control goes.
void check_branch(const Request& r, size_t off, const Insn& in, const Boundaries& starts, Verdict* v) {
    if (in.flow == Flow::indirect_jump || in.flow == Flow::indirect_call) {
        if (!allowed(r.policy, NPK_JIT_ALLOW_INDIRECT))
            v->set(NPK_ERR_CODE_INDIRECT, off, in.length,
                   "indirect %s: its target cannot be checked (allowed by NPK_JIT_ALLOW_INDIRECT)",
                   in.flow == Flow::indirect_call ? "call" : "jump");
        return;
    }
    if (!in.has_target) return;
    // Unsigned wrap-around makes every target below the code "far above" it.
    const uint64_t rel = in.target - r.address;
    if (rel < r.size) {
        if (!starts.has(static_cast<size_t>(rel)))
            v->set(NPK_ERR_CODE_MISALIGNED_TARGET, off, in.length,
                   "branch target (offset %" PRIu64 ") is inside an instruction, not at its start", rel);
        return;
    }
    const bool entry_ok = !allowed(r.policy, NPK_JIT_SELF_CONTAINED) && r.known_entry != nullptr &&
                          r.known_entry(in.target);
    if (!entry_ok)
        v->set(NPK_ERR_CODE_OUTSIDE_TARGET, off, in.length,
               "branch target 0x%" PRIx64 " is outside the code%s", in.target,
               allowed(r.policy, NPK_JIT_SELF_CONTAINED) ? " (policy NPK_JIT_SELF_CONTAINED)"
                                                         : " and not the entry of a known function");
}

bool ends_control(Flow f) { return f == Flow::ret || f == Flow::jump || f == Flow::indirect_jump; }

// Copies what fits of `src`, always NUL-terminated: long AVX-512 operands
// may not fit the finding's text.
void copy_truncated(char* dst, size_t cap, const char* src) {
    const size_t n = std::min(std::strlen(src), cap - 1);
    std::memcpy(dst, src, n);
    dst[n] = '\0';
}

void describe(Session& s, const Request& r, const Verdict& v, npk_jit_finding* out) {
    out->rule = v.rule;
    out->offset = v.offset;
    out->length = v.length;
    copy_truncated(out->message, sizeof out->message, v.message);
    if (v.length > 0) {
        char text[128];
        s.format(r, v.offset, text, sizeof text);
        copy_truncated(out->text, sizeof out->text, text);
        return;
    }
    int n = std::snprintf(out->text, sizeof out->text, "(bad)");
    const size_t shown = r.size - v.offset < 8 ? r.size - v.offset : 8;
    for (size_t i = 0; i < shown && n > 0 && static_cast<size_t>(n) < sizeof out->text; ++i) {
        n += std::snprintf(out->text + n, sizeof out->text - static_cast<size_t>(n), " %02x",
                           r.code[v.offset + i]);
    }
}

}  // namespace

int32_t check(const Request& r, npk_jit_finding* out) {
    std::memset(out, 0, sizeof *out);
    Session s(r.arch);
    Boundaries starts(r.size);
    if (!s.ok() || !starts.ok()) {
        std::snprintf(out->message, sizeof out->message, "no memory for the %s decoder", s.backend().name);
        return NPK_ERR_OUT_OF_MEMORY;
    }

    Verdict v;
    Insn in;
    size_t end = 0;  // where the first pass stopped
    for (; end < r.size; end += in.length) {
        const Decoded d = s.decode(r, end, &in);
        if (d == Decoded::ok) {
            starts.set(end);
            continue;
        }
        if (d == Decoded::truncated) {
            v.set(NPK_ERR_CODE_TRUNCATED, end, 0, "the last %zu byte(s) begin an %s instruction they do not finish",
                  r.size - end, s.backend().name);
        } else {
            v.set(NPK_ERR_CODE_UNDECODABLE, end, 0, "the bytes at offset %zu are no %s instruction", end,
                  s.backend().name);
        }
        break;
    }

    Verdict first;  // of the second pass
    Flow last_flow = Flow::next;
    size_t last_off = 0;
    uint32_t last_len = 0;
    for (size_t off = 0; off < end && !first.found(); off += in.length) {
        s.decode(r, off, &in);
        check_danger(r, off, in, &first);
        if (!first.found()) check_branch(r, off, in, starts, &first);
        last_flow = in.flow;
        last_off = off;
        last_len = in.length;
    }
    if (first.found()) {
        v = first;
    } else if (!v.found() && !ends_control(last_flow)) {
        v.set(NPK_ERR_CODE_FALLS_OFF_END, last_off, last_len,
              "control can run off the end: the last instruction is neither a return nor an unconditional jump");
    }
    if (!v.found()) return NPK_OK;
    describe(s, r, v, out);
    return v.rule;
}

}  // namespace npk::validate
