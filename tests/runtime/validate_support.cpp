// validate_support.cpp — see validate_support.h.
#include "validate_support.h"

#include <npk/wildx.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace npk::test {

std::vector<uint8_t> parse_code(const char* hex) {
    std::vector<uint8_t> out;
    const char* p = hex;
    while (*p != '\0') {
        while (*p == ' ') ++p;
        const char* start = p;
        while (*p != '\0' && *p != ' ') ++p;
        const std::string token(start, p);
        if (token.empty()) break;
        const unsigned long v = std::strtoul(token.c_str(), nullptr, 16);
        REQUIRE((token.size() == 2 || token.size() == 8));
        if (token.size() == 2) {
            out.push_back(static_cast<uint8_t>(v));
        } else {
            for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
        }
    }
    return out;
}

void check_validate_row(const ValidateRow& row, uint32_t arch) {
    const std::vector<uint8_t> code = parse_code(row.hex);
    npk_jit_finding f;
    const int32_t rc = npk_jit_validate(code.data(), code.size(), arch | row.policy, &f);
    INFO(row.hex << "    " << row.assembly << "    policy 0x" << std::hex << row.policy << std::dec);
    INFO("finding: rule " << f.rule << " offset " << f.offset << " '" << f.text << "': " << f.message);
    if (row.rule == NPK_OK) {
        CHECK(rc == 0);
        CHECK(f.rule == NPK_OK);
        return;
    }
    CHECK(rc == -1);
    CHECK(f.rule == row.rule);
    CHECK(npk_last_error() == row.rule);
    CHECK(f.offset == row.offset);
    CHECK(std::strncmp(f.text, row.text, std::strlen(row.text)) == 0);
    CHECK(f.message[0] != '\0');
}

void check_validate_table(const ValidateRow* rows, size_t n, uint32_t arch, size_t min_accepted,
                          size_t min_rejected) {
    npk_wildx_set_quiet(1);
    size_t accepted = 0;
    for (size_t i = 0; i < n; ++i) {
        check_validate_row(rows[i], arch);
        accepted += rows[i].rule == NPK_OK;
    }
    npk_wildx_set_quiet(0);
    std::printf("validator table (%s): %zu rows, %zu accepted, %zu rejected\n",
                arch == NPK_JIT_ARCH_X86_64 ? "x86-64" : "aarch64", n, accepted, n - accepted);
    INFO(accepted << " accepted and " << n - accepted << " rejected rows");
    CHECK(accepted >= min_accepted);
    CHECK(n - accepted >= min_rejected);
}

}  // namespace npk::test
