// The validator's AArch64 table: each snippet as instruction words (the
// way the manual writes them; stored little-endian) beside its assembly,
// and the verdict expected under the policy given. Decoding needs no
// AArch64 host, so this table runs everywhere.
#include "validate_support.h"

#include <npk/wildx.h>

#include <catch2/catch.hpp>

namespace {

using npk::test::ValidateRow;
using namespace npk::test::table;

// A direct target is pc + 4 * imm: inside the code it always starts an
// instruction, so NPK_ERR_CODE_MISALIGNED_TARGET has no row here.
// clang-format off
const ValidateRow kA64Table[] = {
    // --- accepted ------------------------------------------------------------------------------
    {"d65f03c0",                   "ret",                                        0, OK, 0, ""},
    {"d2800000 d65f03c0",          "mov x0, #0; ret",                            0, OK, 0, ""},
    {"8b010000 d65f03c0",          "add x0, x0, x1; ret",                        0, OK, 0, ""},
    {"aa0103e0 d65f03c0",          "mov x0, x1; ret",                            0, OK, 0, ""},
    {"d503201f d65f03c0",          "nop; ret",                                   0, OK, 0, ""},
    {"a9bf7bfd a8c17bfd d65f03c0", "stp x29, x30, [sp, #-16]!; ldp x29, x30, [sp], #16; ret", 0, OK, 0, ""},
    {"f9400020 d65f03c0",          "ldr x0, [x1]; ret",                          0, OK, 0, ""},
    {"b9000020 d65f03c0",          "str w0, [x1]; ret",                          0, OK, 0, ""},
    {"58000040 d65f03c0",          "ldr x0, .+8 (a literal past the end: data, not a branch); ret", 0, OK, 0, ""},
    {"10000000 d65f03c0",          "adr x0, .; ret",                             0, OK, 0, ""},
    {"90000000 d65f03c0",          "adrp x0, .; ret",                            0, OK, 0, ""},
    {"1e602820 d65f03c0",          "fadd d0, d1, d0; ret",                       0, OK, 0, ""},
    {"4e208420 d65f03c0",          "add v0.16b, v1.16b, v0.16b; ret",            0, OK, 0, ""},
    {"14000000",                   "b . (a loop that ends the code)",            0, OK, 0, ""},
    {"14000001 d65f03c0",          "b .+4; ret",                                 0, OK, 0, ""},
    {"d503201f 54ffffee",          "nop; b.al .-4 (always taken: an end)",       0, OK, 0, ""},
    {"54000040 d65f03c0 d65f03c0", "b.eq .+8; ret; ret",                         0, OK, 0, ""},
    {"94000002 d65f03c0 d65f03c0", "bl .+8; ret; ret",                           0, OK, 0, ""},
    {"d503201f 97ffffff d65f03c0", "nop; bl .-4; ret",                           0, OK, 0, ""},
    {"b4000040 d65f03c0 d65f03c0", "cbz x0, .+8; ret; ret",                      0, OK, 0, ""},
    {"35000040 d65f03c0 d65f03c0", "cbnz w0, .+8; ret; ret",                     0, OK, 0, ""},
    {"36000040 d65f03c0 d65f03c0", "tbz w0, #0, .+8; ret; ret",                  0, OK, 0, ""},
    {"37000040 d65f03c0 d65f03c0", "tbnz w0, #0, .+8; ret; ret",                 0, OK, 0, ""},
    {"d53bd040 d65f03c0",          "mrs x0, tpidr_el0; ret",                     0, OK, 0, ""},
    {"d51bd040 d65f03c0",          "msr tpidr_el0, x0; ret",                     0, OK, 0, ""},
    {"d53bd060 d65f03c0",          "mrs x0, tpidrro_el0; ret",                   0, OK, 0, ""},
    {"d53b4400 d65f03c0",          "mrs x0, fpcr; ret",                          0, OK, 0, ""},
    {"d51b4400 d65f03c0",          "msr fpcr, x0; ret",                          0, OK, 0, ""},
    {"d53b4200 d65f03c0",          "mrs x0, nzcv; ret",                          0, OK, 0, ""},
    {"d53be040 d65f03c0",          "mrs x0, cntvct_el0; ret",                    0, OK, 0, ""},
    {"d53b0020 d65f03c0",          "mrs x0, ctr_el0; ret",                       0, OK, 0, ""},
    {"d5033bbf d65f03c0",          "dmb ish; ret",                               0, OK, 0, ""},
    {"d5033fdf d65f03c0",          "isb; ret",                                   0, OK, 0, ""},
    {"d50b7520 d65f03c0",          "ic ivau, x0; ret",                           0, OK, 0, ""},
    {"d50b7b20 d65f03c0",          "dc cvau, x0; ret",                           0, OK, 0, ""},
    {"d50b7420 d65f03c0",          "dc zva, x0; ret",                            0, OK, 0, ""},
    {"d503205f d65f03c0",          "wfe; ret",                                   0, OK, 0, ""},
    {"d503203f d65f03c0",          "yield; ret",                                 0, OK, 0, ""},
    // ... and what a policy bit allows
    {"d61f0000",                   "br x0",                                   kInd, OK, 0, ""},
    {"d63f0000 d65f03c0",          "blr x0; ret",                             kInd, OK, 0, ""},
    {"d65f0000",                   "ret x0",                                  kInd, OK, 0, ""},
    {"d4000001 d65f03c0",          "svc #0; ret",                             kSys, OK, 0, ""},
    {"d4200000 d65f03c0",          "brk #0; ret",                             kTrap, OK, 0, ""},
    {"d5181000 d65f03c0",          "msr sctlr_el1, x0; ret",                  kPriv, OK, 0, ""},

    // --- rejected ------------------------------------------------------------------------------
    // rule 1: every byte decodes, ending exactly at the size
    {"00000000 d65f03c0",          "udf #0; ret",                                0, UNDECODABLE, 0, "(bad) 00 00 00 00"},
    {"d65f03c0 00000000",          "ret; udf #0",                                0, UNDECODABLE, 4, "(bad)"},
    {"d503201f ffffffff d65f03c0", "nop; (unallocated); ret",                    0, UNDECODABLE, 4, "(bad) ff ff ff ff"},
    {"0000dead d65f03c0",          "udf #0xdead; ret",                           0, UNDECODABLE, 0, "(bad) ad de 00 00"},
    {"c0 03 5f",                   "three bytes of a ret",                       0, TRUNCATED, 0, "(bad) c0 03 5f"},
    {"d65f03c0 1f 20",             "ret; two bytes of a nop",                    0, TRUNCATED, 4, "(bad) 1f 20"},
    // rule 2: privileged and system instructions
    {"d69f03e0",                   "eret",                                       0, PRIVILEGED, 0, "eret"},
    {"d6bf03e0",                   "drps",                                       0, PRIVILEGED, 0, "drps"},
    {"d4a00001 d65f03c0",          "dcps1; ret",                                 0, PRIVILEGED, 0, "dcps1"},
    {"d4a00003 d65f03c0",          "dcps3; ret",                                 0, PRIVILEGED, 0, "dcps3"},
    {"d503207f d65f03c0",          "wfi; ret",                                   0, PRIVILEGED, 0, "wfi"},
    {"d53b4220 d65f03c0",          "mrs x0, daif; ret",                          0, PRIVILEGED, 0, "mrs x0, daif"},
    {"d51b4220 d65f03c0",          "msr daif, x0; ret",                          0, PRIVILEGED, 0, "msr daif"},
    {"d5034fdf d65f03c0",          "msr daifset, #0xf; ret",                     0, PRIVILEGED, 0, "msr daifset"},
    {"d5300000 d65f03c0",          "mrs x0, s2_0_c0_c0_0 (debug space; Capstone prints s3_0_c0_c0_0); ret", 0, PRIVILEGED, 0, "mrs"},
    {"d538d080 d65f03c0",          "mrs x0, tpidr_el1; ret",                     0, PRIVILEGED, 0, "mrs x0, tpidr_el1"},
    {"d5181000 d65f03c0",          "msr sctlr_el1, x0; ret",                     0, PRIVILEGED, 0, "msr sctlr_el1"},
    {"d53e1100 d65f03c0",          "mrs x0, scr_el3; ret",                       0, PRIVILEGED, 0, "mrs x0, scr_el3"},
    {"d51be040 d65f03c0",          "msr cntvct_el0, x0 (readable, not writable); ret", 0, PRIVILEGED, 0, "msr"},
    {"d508871f d65f03c0",          "tlbi vmalle1; ret",                          0, PRIVILEGED, 0, "tlbi"},
    {"d5087100 d65f03c0",          "ic ialluis; ret",                            0, PRIVILEGED, 0, "ic ialluis"},
    {"d5087620 d65f03c0",          "dc ivac, x0; ret",                           0, PRIVILEGED, 0, "dc ivac"},
    {"d5087800 d65f03c0",          "at s1e1r, x0; ret",                          0, PRIVILEGED, 0, "at s1e1r"},
    {"d5087e20 d65f03c0",          "sys #0, c7, c14, #1, x0; ret",               0, PRIVILEGED, 0, "sys"},
    {"d65f03c0 d69f03e0",          "ret; eret (unreachable, still refused)",     0, PRIVILEGED, 4, "eret"},
    {"d5181000 d65f03c0",          "msr sctlr_el1, x0; ret (another bit does not allow it)", kSys, PRIVILEGED, 0, "msr"},
    // rule 3: system calls
    {"d4000001 d65f03c0",          "svc #0; ret",                                0, SYSCALL, 0, "svc"},
    {"d4000002 d65f03c0",          "hvc #0; ret",                                0, SYSCALL, 0, "hvc"},
    {"d4000003 d65f03c0",          "smc #0; ret",                                0, SYSCALL, 0, "smc"},
    {"d65f03c0 d4000001",          "ret; svc #0",                                0, SYSCALL, 4, "svc"},
    {"d4000001 d65f03c0",          "svc #0; ret",                             kPriv, SYSCALL, 0, "svc"},
    {"d503201f d4000001 d65f03c0", "nop; svc #0; ret",                           0, SYSCALL, 4, "svc"},
    // rule 4: traps
    {"d4200000 d65f03c0",          "brk #0; ret",                                0, TRAP, 0, "brk"},
    {"d4400000 d65f03c0",          "hlt #0; ret",                                0, TRAP, 0, "hlt"},
    {"d65f03c0 d4200000",          "ret; brk #0",                                0, TRAP, 4, "brk"},
    {"d4400000 d4000001 d65f03c0", "hlt #0; svc #0; ret (lowest offset first)",  0, TRAP, 0, "hlt"},
    // rule 5: direct targets
    {"14000002 d65f03c0",          "b .+8 (the end is no instruction); ret",     0, OUTSIDE, 0, "b"},
    {"17ffffff",                   "b .-4",                                      0, OUTSIDE, 0, "b"},
    {"94000400 d65f03c0",          "bl .+0x1000; ret",                           0, OUTSIDE, 0, "bl"},
    {"54000401 d65f03c0",          "b.ne .+0x80; ret",                           0, OUTSIDE, 0, "b.ne"},
    {"b5ffffe0 d65f03c0",          "cbnz x0, .-4; ret",                          0, OUTSIDE, 0, "cbnz"},
    {"d65f03c0 36ffffd0",          "ret; tbz w16, #31, .-8 (before the code)",  0, OUTSIDE, 4, "tbz"},
    // rule 6: indirect branches
    {"d61f0000",                   "br x0",                                      0, INDIRECT, 0, "br x0"},
    {"d63f0200 d65f03c0",          "blr x16; ret",                               0, INDIRECT, 0, "blr x16"},
    {"d63f0000 d61f0000",          "blr x0; br x0",                              0, INDIRECT, 0, "blr x0"},
    {"d65f0000",                   "ret x0 (a computed jump)",                   0, INDIRECT, 0, "ret x0"},
    // rule 7: control cannot run off the end
    {"d503201f",                   "nop",                                        0, FALLS_OFF, 0, "nop"},
    {"d65f03c0 d503201f",          "ret; nop",                                   0, FALLS_OFF, 4, "nop"},
    {"94000000",                   "bl . (returns past the end)",                0, FALLS_OFF, 0, "bl"},
    {"54000000",                   "b.eq . (falls through when not taken)",      0, FALLS_OFF, 0, "b.eq"},
    {"b4000000",                   "cbz x0, .",                                  0, FALLS_OFF, 0, "cbz"},
    {"d4200000",                   "brk #0 (allowed, but not an end)",        kTrap, FALLS_OFF, 0, "brk"},
    {"d63f0000",                   "blr x0 (allowed, but returns)",           kInd, FALLS_OFF, 0, "blr"},
};
// clang-format on

}  // namespace

TEST_CASE("validator AArch64 table: each snippet gets the verdict and finding expected", "[validate][aarch64]") {
    npk::test::check_validate_table(kA64Table, std::size(kA64Table), NPK_JIT_ARCH_AARCH64, 30, 50);
}
