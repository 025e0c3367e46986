// The validator's x86-64 table: each snippet's bytes beside its assembly,
// and the verdict expected under the policy given. Decoding needs no
// x86-64 host, so this table runs everywhere (also under qemu-aarch64).
#include "validate_support.h"

#include <npk/wildx.h>

#include <catch2/catch.hpp>

namespace {

using npk::test::ValidateRow;
using namespace npk::test::table;

// clang-format off
const ValidateRow kX86Table[] = {
    // --- accepted ------------------------------------------------------------------------------
    {"c3",                               "ret",                                  0, OK, 0, ""},
    {"c2 08 00",                         "ret 8",                                0, OK, 0, ""},
    {"31 c0 c3",                         "xor eax, eax; ret",                    0, OK, 0, ""},
    {"48 89 f8 c3",                      "mov rax, rdi; ret",                    0, OK, 0, ""},
    {"8d 04 37 c3",                      "lea eax, [rdi+rsi]; ret",              0, OK, 0, ""},
    {"90 c3",                            "nop; ret",                             0, OK, 0, ""},
    {"0f 1f 44 00 00 c3",                "nop dword [rax+rax]; ret",             0, OK, 0, ""},
    {"66 90 c3",                         "xchg ax, ax; ret",                     0, OK, 0, ""},
    {"f3 0f 1e fa c3",                   "endbr64; ret",                         0, OK, 0, ""},
    {"55 48 89 e5 5d c3",                "push rbp; mov rbp, rsp; pop rbp; ret", 0, OK, 0, ""},
    {"48 b8 88 77 66 55 44 33 22 11 c3", "movabs rax, 0x1122334455667788; ret",  0, OK, 0, ""},
    {"eb 00 c3",                         "jmp .+2 (the ret); ret",               0, OK, 0, ""},
    {"eb fe",                            "jmp . (a loop that ends the code)",    0, OK, 0, ""},
    {"74 01 c3 c3",                      "je .+3; ret; ret",                     0, OK, 0, ""},
    {"e8 01 00 00 00 c3 c3",             "call .+6; ret; ret",                   0, OK, 0, ""},
    {"e8 fb ff ff ff c3",                "call .+0 (itself: recursion); ret",    0, OK, 0, ""},
    {"e9 00 00 00 00 c3",                "jmp rel32 .+5; ret",                   0, OK, 0, ""},
    {"0f 84 00 00 00 00 c3",             "je rel32 .+6; ret",                    0, OK, 0, ""},
    {"48 31 c0 48 ff c0 48 83 f8 0a 75 f7 c3",
                                         "xor rax, rax; l: inc rax; cmp rax, 10; jne l; ret", 0, OK, 0, ""},
    {"b9 0a 00 00 00 e2 fe c3",          "mov ecx, 10; loop .; ret",             0, OK, 0, ""},
    {"e3 00 c3",                         "jrcxz .+2; ret",                       0, OK, 0, ""},
    {"c7 f8 00 00 00 00 c3",             "xbegin .+6; ret",                      0, OK, 0, ""},
    // xend and xabort go on, or to the fallback of the xbegin: not indirect jumps
    {"0f 01 d5 c3",                      "xend; ret",                            0, OK, 0, ""},
    {"c6 f8 05 c3",                      "xabort 5; ret",                        0, OK, 0, ""},
    {"c7 f8 04 00 00 00 0f 01 d5 c3 c3", "xbegin .+10 (the fallback ret); xend; ret; ret", 0, OK, 0, ""},
    {"c7 f8 04 00 00 00 c6 f8 01 c3 c3", "xbegin .+10; xabort 1; ret; ret",   kSelf, OK, 0, ""},
    {"0f 31 c3",                         "rdtsc; ret",                           0, OK, 0, ""},
    {"0f 01 f9 c3",                      "rdtscp; ret",                          0, OK, 0, ""},
    {"0f a2 c3",                         "cpuid; ret",                           0, OK, 0, ""},
    {"f3 90 c3",                         "pause; ret",                           0, OK, 0, ""},
    {"0f ae f0 c3",                      "mfence; ret",                          0, OK, 0, ""},
    {"f0 48 0f b1 17 c3",                "lock cmpxchg [rdi], rdx; ret",         0, OK, 0, ""},
    {"48 0f c7 f0 c3",                   "rdrand rax; ret",                      0, OK, 0, ""},
    {"c5 f9 ef c0 c3",                   "vpxor xmm0, xmm0, xmm0; ret",          0, OK, 0, ""},
    {"62 f1 7c 48 28 c1 c3",             "vmovaps zmm0, zmm1; ret",              0, OK, 0, ""},
    {"64 48 8b 04 25 28 00 00 00 c3",    "mov rax, fs:[0x28]; ret",              0, OK, 0, ""},
    {"48 8b 05 00 10 00 00 c3",          "mov rax, [rip+0x1000] (data, not a branch); ret", 0, OK, 0, ""},
    {"48 8d 05 f9 ff ff ff c3",          "lea rax, [rip-7]; ret",                0, OK, 0, ""},
    {"48 c3",                            "rex.w ret",                            0, OK, 0, ""},
    {"66 c3",                            "ret with a 66 prefix (a return either way)", 0, OK, 0, ""},
    {"f3 48 0f ae c0 c3",                "rdfsbase rax; ret",                    0, OK, 0, ""},
    {"0f 01 ee c3",                      "rdpkru; ret",                          0, OK, 0, ""},
    // ... and what a policy bit allows
    {"ff e0",                            "jmp rax",                           kInd, OK, 0, ""},
    {"ff d0 c3",                         "call rax; ret",                     kInd, OK, 0, ""},
    {"ff 25 00 00 00 00",                "jmp [rip+0]",                       kInd, OK, 0, ""},
    {"0f 05 c3",                         "syscall; ret",                      kSys, OK, 0, ""},
    {"cd 80 c3",                         "int 0x80; ret",                     kSys, OK, 0, ""},
    {"f4 c3",                            "hlt; ret",                          kPriv, OK, 0, ""},
    {"8e d8 c3",                         "mov ds, ax; ret",                   kPriv, OK, 0, ""},
    {"cc c3",                            "int3; ret",                         kTrap, OK, 0, ""},
    {"9c 9d c3",                         "pushfq; popfq; ret",                kTrap, OK, 0, ""},
    // What no policy claims (npk/validate.h, "What validation does not guarantee"): a
    // return to an address the code wrote itself, here the syscall inside mov's immediate.
    {"48 8d 0d 03 00 00 00 51 c3 b8 0f 05 c3 90 c3",
                                         "lea rcx, [rip+3]; push rcx; ret; mov eax, 0x90c3050f; ret", kSelf, OK, 0, ""},

    // --- rejected ------------------------------------------------------------------------------
    // rule 1: every byte decodes, ending exactly at the size
    {"06 c3",                            "push es (invalid in 64-bit mode); ret", 0, UNDECODABLE, 0, "(bad) 06 c3"},
    {"90 d6 c3",                         "nop; salc (invalid in 64-bit mode); ret", 0, UNDECODABLE, 1, "(bad) d6"},
    {"0f 04 c3",                         "(no such opcode); ret",                0, UNDECODABLE, 0, "(bad)"},
    {"f0 90 c3",                         "lock nop (lock not allowed); ret",     0, UNDECODABLE, 0, "(bad)"},
    {"66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90 c3",
                                         "16-byte nop (longer than 15)",         0, UNDECODABLE, 0, "(bad)"},
    {"66 eb 00 c3",                      "jmp .+3 with a 66 prefix (AMD: rel8, rip cut to 16 bits)", 0, UNDECODABLE, 0, "(bad) 66 eb 00 c3"},
    {"66 e9 00 00 c3 c3",                "jmp with a 66 prefix (Intel: rel32, 6 bytes; AMD: rel16, 4)", 0, UNDECODABLE, 0, "(bad) 66 e9"},
    {"90 66 74 00 c3",                   "nop; je .+3 with a 66 prefix; ret",    0, UNDECODABLE, 1, "(bad) 66 74"},
    {"0f",                               "an escape byte alone",                 0, TRUNCATED, 0, "(bad) 0f"},
    {"c3 48",                            "ret; a REX prefix alone",              0, TRUNCATED, 1, "(bad) 48"},
    {"c3 e9 00 00",                      "ret; jmp rel32 missing two bytes",     0, TRUNCATED, 1, "(bad) e9 00 00"},
    // rule 2: privileged and system instructions
    {"f4 c3",                            "hlt; ret",                             0, PRIVILEGED, 0, "hlt"},
    {"fa c3",                            "cli; ret",                             0, PRIVILEGED, 0, "cli"},
    {"fb c3",                            "sti; ret",                             0, PRIVILEGED, 0, "sti"},
    {"e4 60 c3",                         "in al, 0x60; ret",                     0, PRIVILEGED, 0, "in al"},
    {"ee c3",                            "out dx, al; ret",                      0, PRIVILEGED, 0, "out dx"},
    {"6c c3",                            "insb; ret",                            0, PRIVILEGED, 0, "insb"},
    {"0f 22 d8 c3",                      "mov cr3, rax; ret",                    0, PRIVILEGED, 0, "mov cr3"},
    {"0f 20 c0 c3",                      "mov rax, cr0; ret",                    0, PRIVILEGED, 0, "mov rax, cr0"},
    {"0f 23 c0 c3",                      "mov dr0, rax; ret",                    0, PRIVILEGED, 0, "mov dr0"},
    {"0f 30 c3",                         "wrmsr; ret",                           0, PRIVILEGED, 0, "wrmsr"},
    {"0f 32 c3",                         "rdmsr; ret",                           0, PRIVILEGED, 0, "rdmsr"},
    {"0f 01 38 c3",                      "invlpg [rax]; ret",                    0, PRIVILEGED, 0, "invlpg"},
    {"0f 01 f8 c3",                      "swapgs; ret",                          0, PRIVILEGED, 0, "swapgs"},
    {"0f 07",                            "sysret",                               0, PRIVILEGED, 0, "sysret"},
    {"48 cf",                            "iretq",                                0, PRIVILEGED, 0, "iretq"},
    {"cb",                               "ret far",                              0, PRIVILEGED, 0, "ret far"},
    {"ff 2c 24",                         "jmp far [rsp]",                        0, PRIVILEGED, 0, "jmp far"},
    {"8e d8 c3",                         "mov ds, ax; ret",                      0, PRIVILEGED, 0, "mov ds"},
    {"0f 01 c1 c3",                      "vmcall; ret",                          0, PRIVILEGED, 0, "vmcall"},
    {"90 0f 01 d9 c3",                   "nop; vmmcall; ret",                    0, PRIVILEGED, 1, "vmmcall"},
    {"0f 00 c0 c3",                      "sldt eax; ret",                        0, PRIVILEGED, 0, "sldt"},
    {"f3 48 0f ae d0 c3",                "wrfsbase rax (the thread's TLS base); ret", 0, PRIVILEGED, 0, "wrfsbase"},
    {"f3 0f ae d8 c3",                   "wrgsbase eax; ret",                    0, PRIVILEGED, 0, "wrgsbase"},
    {"0f 01 ef c3",                      "wrpkru (protection keys); ret",        0, PRIVILEGED, 0, "wrpkru"},
    {"c3 f4",                            "ret; hlt (unreachable, still refused)", 0, PRIVILEGED, 1, "hlt"},
    {"f4 0f 05 c3",                      "hlt; syscall; ret (lowest offset first)", 0, PRIVILEGED, 0, "hlt"},
    {"f4 c3",                            "hlt; ret (another bit does not allow it)", kSys, PRIVILEGED, 0, "hlt"},
    // rule 3: system calls and software interrupts
    {"0f 05 c3",                         "syscall; ret",                         0, SYSCALL, 0, "syscall"},
    {"0f 34 c3",                         "sysenter; ret",                        0, SYSCALL, 0, "sysenter"},
    {"cd 80 c3",                         "int 0x80; ret",                        0, SYSCALL, 0, "int 0x80"},
    {"31 c0 0f 05",                      "xor eax, eax; syscall (before falling off)", 0, SYSCALL, 2, "syscall"},
    {"0f 05 c3",                         "syscall; ret",                       kPriv, SYSCALL, 0, "syscall"},
    // rule 4: traps
    {"0f 0b",                            "ud2",                                  0, TRAP, 0, "ud2"},
    {"cc c3",                            "int3; ret",                            0, TRAP, 0, "int3"},
    {"f1 c3",                            "int1; ret",                            0, TRAP, 0, "int1"},
    {"0f b9 c0 c3",                      "ud1 eax, eax; ret",                    0, TRAP, 0, "ud1"},
    {"0f ff c0 c3",                      "ud0 eax, eax; ret",                    0, TRAP, 0, "ud0"},
    // ... and what can set the trap flag (TF): popf in every operand size
    {"9c 48 81 0c 24 00 01 00 00 9d c3", "pushfq; or qword [rsp], 0x100; popfq; ret", 0, TRAP, 9, "popfq"},
    {"9d c3",                            "popfq; ret",                           0, TRAP, 0, "popfq"},
    {"66 9d c3",                         "popf (16-bit); ret",                   0, TRAP, 0, "popf"},
    {"9c 9d c3",                         "pushfq; popfq; ret",                kSelf, TRAP, 1, "popfq"},
    // rule 5: direct targets
    {"e8 00 00 00 00",                   "call .+5 (the end is no instruction)", 0, OUTSIDE, 0, "call"},
    {"e8 00 10 00 00 c3",                "call .+0x1005; ret",                   0, OUTSIDE, 0, "call"},
    {"e9 00 00 00 80",                   "jmp .-2GiB",                           0, OUTSIDE, 0, "jmp"},
    {"0f 85 f0 ff ff ff c3",             "jne .-10; ret",                        0, OUTSIDE, 0, "jnz"},
    {"c3 74 fc",                         "ret; je .-3 (before the code)",        0, OUTSIDE, 1, "jz"},
    {"e2 fa c3",                         "loop .-4; ret",                        0, OUTSIDE, 0, "loop"},
    {"c7 f8 00 01 00 00 c3",             "xbegin .+0x106; ret",                  0, OUTSIDE, 0, "xbegin"},
    {"eb 01 48 31 c0 c3",                "jmp .+3 (into xor rax, rax); xor rax, rax; ret", 0, MISALIGNED, 0, "jmp"},
    {"74 03 b8 01 00 00 00 c3",          "je .+5 (into mov eax, 1); mov eax, 1; ret", 0, MISALIGNED, 0, "jz"},
    // rule 6: indirect branches
    {"ff e0",                            "jmp rax",                              0, INDIRECT, 0, "jmp rax"},
    {"41 ff e3",                         "jmp r11",                              0, INDIRECT, 0, "jmp r11"},
    {"ff d0 c3",                         "call rax; ret",                        0, INDIRECT, 0, "call rax"},
    {"ff 25 00 00 00 00",                "jmp [rip+0]",                          0, INDIRECT, 0, "jmp ["},
    {"ff 14 25 00 10 00 00 c3",          "call [0x1000]; ret",                   0, INDIRECT, 0, "call ["},
    // rule 7: control cannot run off the end
    {"90",                               "nop",                                  0, FALLS_OFF, 0, "nop"},
    {"31 c0",                            "xor eax, eax",                         0, FALLS_OFF, 0, "xor eax, eax"},
    {"c3 90",                            "ret; nop",                             0, FALLS_OFF, 1, "nop"},
    {"74 fe",                            "je . (falls through when not taken)",  0, FALLS_OFF, 0, "jz"},
    {"e8 fb ff ff ff",                   "call .+0 (returns past the end)",      0, FALLS_OFF, 0, "call"},
    {"0f 0b",                            "ud2 (allowed, but not an end)",     kTrap, FALLS_OFF, 0, "ud2"},
    {"ff d0",                            "call rax (allowed, but returns)",   kInd, FALLS_OFF, 0, "call rax"},
    {"0f 01 d5",                         "xend (goes on: past the end)",         0, FALLS_OFF, 0, "xend"},
    {"c6 f8 00",                         "xabort 0 (goes on outside a transaction)", 0, FALLS_OFF, 0, "xabort"},
};
// clang-format on

}  // namespace

TEST_CASE("validator x86-64 table: each snippet gets the verdict and finding expected", "[validate][x86_64]") {
    npk::test::check_validate_table(kX86Table, std::size(kX86Table), NPK_JIT_ARCH_X86_64, 30, 60);
}
