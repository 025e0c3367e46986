// The quota, the environment variables and the audit / quiet switches.
#include "support.h"
#include "core/test_seams.h"

#include <cinttypes>
#include <cstdlib>
#include <cstring>
#include <vector>

using namespace npk::test;

namespace {

// Sets (or unsets, for nullptr) an environment variable and reloads the
// heap's configuration from it; undone at scope exit.
class EnvVar {
public:
    EnvVar(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) {
            had_ = true;
            old_ = old;
        }
        if (value != nullptr) setenv(name, value, 1);
        else unsetenv(name);
        npk::wildx::testing::reload_config_from_env();
    }
    ~EnvVar() {
        if (had_) setenv(name_, old_.c_str(), 1);
        else unsetenv(name_);
        npk::wildx::testing::reload_config_from_env();
    }

private:
    const char* name_;
    bool had_ = false;
    std::string old_;
};

// What loading NPK_WILDX_QUOTA=`value` writes on stderr; the quota must
// stay the default.
std::string quota_warning(const char* value) {
    StderrCapture err;
    {
        EnvVar e("NPK_WILDX_QUOTA", value);
        CHECK(npk_wildx_quota() == size_t{64} << 20);
    }
    return err.text();
}

}  // namespace

TEST_CASE("the default quota is 64 MiB", "[quota]") {
    EnvVar e("NPK_WILDX_QUOTA", nullptr);
    CHECK(npk_wildx_quota() == size_t{64} << 20);
}

TEST_CASE("alloc fails with quota exceeded exactly when the next allocation would exceed the quota",
          "[quota][rejection]") {
    SwitchesGuard g;
    const size_t pg = page_size();
    const uint64_t live0 = stats_now().live_bytes;  // other tests' pages, if any
    npk_wildx_set_quota(live0 + 4 * pg);
    REQUIRE(npk_wildx_quota() == live0 + 4 * pg);

    void* a = npk_wildx_alloc(2 * pg);       // 2 pages
    void* b = npk_wildx_alloc(pg + 1);       // rounds to 2 pages: exactly at the quota
    REQUIRE(a != nullptr);
    REQUIRE(b != nullptr);
    npk_wildx_set_quiet(1);
    StatsWatch w;
    CHECK(npk_wildx_alloc(1) == nullptr);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_QUOTA);
    CHECK(w.delta() == Delta{.rejections = 1});

    REQUIRE(npk_wildx_free(a) == 0);          // 2 pages back
    CHECK(npk_wildx_alloc(3 * pg) == nullptr);  // 2 + 3 > 4
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_QUOTA);
    void* c = npk_wildx_alloc(2 * pg);        // 2 + 2 == 4: fits
    REQUIRE(c != nullptr);
    CHECK(npk_wildx_alloc(1) == nullptr);
    REQUIRE(npk_wildx_free(b) == 0);
    REQUIRE(npk_wildx_free(c) == 0);
    void* d = npk_wildx_alloc(4 * pg);        // the whole quota at once
    REQUIRE(d != nullptr);
    REQUIRE(npk_wildx_free(d) == 0);
    CHECK(npk_wildx_alloc(4 * pg + 1) == nullptr);  // never fits
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_QUOTA);
}

TEST_CASE("sealed pages count against the quota until freed, guard pages never", "[quota]") {
    SwitchesGuard g;
    const size_t pg = page_size();
    npk_wildx_set_quota(stats_now().live_bytes + 2 * pg);
    npk_wildx_set_guard_pages(1);
    void* a = npk_wildx_alloc(pg);
    void* b = npk_wildx_alloc(pg);  // 2 pages plus 4 guard pages mapped: at the quota
    REQUIRE(a != nullptr);
    REQUIRE(b != nullptr);
    REQUIRE(npk_wildx_seal(a) == 0);
    npk_wildx_set_quiet(1);
    CHECK(npk_wildx_alloc(1) == nullptr);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_QUOTA);
    REQUIRE(npk_wildx_free(a) == 0);
    void* c = npk_wildx_alloc(1);
    CHECK(c != nullptr);
    REQUIRE(npk_wildx_free(b) == 0);
    REQUIRE(npk_wildx_free(c) == 0);
}

TEST_CASE("lowering the quota below the live bytes frees nothing and blocks allocations until frees",
          "[quota]") {
    SwitchesGuard g;
    const size_t pg = page_size();
    const uint64_t live0 = stats_now().live_bytes;
    std::vector<void*> pages;
    for (int i = 0; i < 4; ++i) {
        pages.push_back(npk_wildx_alloc(pg));
        REQUIRE(pages.back() != nullptr);
    }
    npk_wildx_set_quota(live0 + pg);
    for (void* p : pages) CHECK(npk_wildx_state(p) == NPK_WILDX_WRITABLE);
    npk_wildx_set_quiet(1);
    CHECK(npk_wildx_alloc(1) == nullptr);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_QUOTA);
    for (void* p : pages) REQUIRE(npk_wildx_free(p) == 0);
    void* p = npk_wildx_alloc(1);
    CHECK(p != nullptr);
    REQUIRE(npk_wildx_free(p) == 0);
}

TEST_CASE("a quota of 0 refuses every allocation", "[quota]") {
    SwitchesGuard g;
    npk_wildx_set_quota(0);
    npk_wildx_set_quiet(1);
    CHECK(npk_wildx_alloc(1) == nullptr);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_QUOTA);
}

TEST_CASE("NPK_WILDX_QUOTA sets the quota in bytes", "[quota][env]") {
    for (const auto& [text, bytes] : {std::pair<const char*, size_t>{"8192", 8192},
                                      {"0", 0},
                                      {"1073741824", size_t{1} << 30},
                                      {"18446744073709551615", SIZE_MAX}}) {
        CAPTURE(text);
        StderrCapture err;
        EnvVar e("NPK_WILDX_QUOTA", text);
        CHECK(npk_wildx_quota() == bytes);
        CHECK(err.text().empty());
    }
}

TEST_CASE("NPK_WILDX_QUOTA bounds allocations like set_quota", "[quota][env]") {
    const size_t pg = page_size();
    const std::string quota = std::to_string(stats_now().live_bytes + 2 * pg);
    EnvVar e("NPK_WILDX_QUOTA", quota.c_str());
    void* a = npk_wildx_alloc(2 * pg);
    REQUIRE(a != nullptr);
    npk_wildx_set_quiet(1);
    CHECK(npk_wildx_alloc(1) == nullptr);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_QUOTA);
    npk_wildx_set_quiet(0);
    REQUIRE(npk_wildx_free(a) == 0);
}

TEST_CASE("a malformed NPK_WILDX_QUOTA is reported once and ignored", "[quota][env]") {
    for (const char* bad : {"", "abc", "12abc", "-5", " 4096", "4096 ", "0x1000", "1e6",
                            "99999999999999999999999x"}) {
        CAPTURE(bad);
        StderrCapture err;
        {
            EnvVar e("NPK_WILDX_QUOTA", bad);
            CHECK(npk_wildx_quota() == size_t{64} << 20);
            void* p = npk_wildx_alloc(1);  // later calls say nothing more
            REQUIRE(p != nullptr);
            REQUIRE(npk_wildx_free(p) == 0);
            CHECK(npk_wildx_quota() == size_t{64} << 20);
            const std::string text = err.text();
            CHECK(count_lines(text) == 1);
            CHECK(text.find("NPK_WILDX_QUOTA") != std::string::npos);
            CHECK(text.find(std::string("'") + bad + "': not a decimal byte count;") != std::string::npos);
        }
    }
}

TEST_CASE("an NPK_WILDX_QUOTA beyond the largest byte count is called too large, not malformed",
          "[quota][env]") {
    char largest[32];
    std::snprintf(largest, sizeof largest, "%zu", SIZE_MAX);
    for (const char* big : {"18446744073709551616", "99999999999999999999999", "000184467440737095516150"}) {
        CAPTURE(big);
        const std::string text = quota_warning(big);
        CHECK(count_lines(text) == 1);
        CHECK(text == std::string("wildx: ignoring NPK_WILDX_QUOTA='") + big + "': too large (the largest byte count is " +
                          largest + "); the quota stays 67108864 bytes\n");
    }
    // The largest byte count itself is a quota.
    EnvVar e("NPK_WILDX_QUOTA", largest);
    CHECK(npk_wildx_quota() == SIZE_MAX);
}

TEST_CASE("an NPK_WILDX_QUOTA with control bytes is echoed escaped, on one line", "[quota][env]") {
    const std::pair<const char*, const char*> cases[] = {
        {"12\nwildx: seal(0x1) rejected: forged", "12\\x0awildx: seal(0x1) rejected: forged"},
        {"\x1b[2J\x1b[31mred", "\\x1b[2J\\x1b[31mred"},
        {"a\rb\tc\x7f", "a\\x0db\\x09c\\x7f"},
        {"it's \\ \xc3\xa9", "it\\x27s \\x5c \\xc3\\xa9"},
    };
    for (const auto& [raw, shown] : cases) {
        CAPTURE(shown);
        const std::string text = quota_warning(raw);
        CHECK(count_lines(text) == 1);
        CHECK(text.find('\r') == std::string::npos);
        CHECK(text.find('\x1b') == std::string::npos);
        CHECK(text == std::string("wildx: ignoring NPK_WILDX_QUOTA='") + shown +
                          "': not a decimal byte count; the quota stays 67108864 bytes\n");
    }
    // A long value is cut after 64 bytes.
    const std::string long_value(5000, 'x');
    CHECK(quota_warning(long_value.c_str()) == "wildx: ignoring NPK_WILDX_QUOTA='" + std::string(64, 'x') +
                            "...': not a decimal byte count; the quota stays 67108864 bytes\n");
}

TEST_CASE("npk_wildx_set_quota after start-up overrides NPK_WILDX_QUOTA", "[quota][env]") {
    EnvVar e("NPK_WILDX_QUOTA", "8192");
    SwitchesGuard g;
    npk_wildx_set_quota(12345);
    CHECK(npk_wildx_quota() == 12345);
}

TEST_CASE("rejection lines: on by default, off with set_quiet or NPK_WILDX_QUIET=1", "[env]") {
    SwitchesGuard g;
    {
        StderrCapture err;
        (void)npk_wildx_alloc(0);
        CHECK(err.text() == "wildx: alloc(0) rejected: zero size\n");
    }
    {
        npk_wildx_set_quiet(1);
        StatsWatch w;
        StderrCapture err;
        (void)npk_wildx_alloc(0);
        CHECK(err.text().empty());
        CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_ZERO_SIZE);  // still an error value
        CHECK(w.delta() == Delta{.rejections = 1});
        npk_wildx_set_quiet(0);
    }
    for (const auto& [value, quiet] : {std::pair<const char*, bool>{"1", true}, {"0", false}, {"", false}}) {
        CAPTURE(value);
        EnvVar e("NPK_WILDX_QUIET", value);
        StderrCapture err;
        (void)npk_wildx_seal(nullptr);
        CHECK(err.text().empty() == quiet);
    }
}

TEST_CASE("audit: one line per alloc, seal, free and rejection with address, size and hash", "[env]") {
    SwitchesGuard g;
    for (bool from_env : {false, true}) {
        CAPTURE(from_env);
        StderrCapture err;
        std::string expected;
        {
            EnvVar e("NPK_WILDX_AUDIT", from_env ? "1" : nullptr);
            if (!from_env) npk_wildx_set_audit(1);
            npk_wildx_set_quiet(1);  // audit shows rejections even when quiet
            void* p = npk_wildx_alloc(100);
            REQUIRE(p != nullptr);
            REQUIRE(npk_wildx_seal(p) == 0);
            uint64_t h = 0;
            REQUIRE(npk_wildx_code_hash(p, &h) == 0);
            CHECK(npk_wildx_seal(p) == -1);
            REQUIRE(npk_wildx_free(p) == 0);
            npk_wildx_set_audit(0);
            npk_wildx_set_quiet(0);
            (void)npk_wildx_alloc(0);  // audit off again: only the rejection line

            const size_t pg = page_size();
            char buf[1024];
            std::snprintf(buf, sizeof buf,
                          "wildx: audit alloc(100) = %p usable %zu id %%ID%%\n"
                          "wildx: audit seal(%p) usable %zu hash 0x%016" PRIx64 "\n"
                          "wildx: seal(%p) rejected: already sealed\n"
                          "wildx: audit free(%p) usable %zu\n"
                          "wildx: alloc(0) rejected: zero size\n",
                          p, pg, p, pg, h, p, p, pg);
            expected = buf;
        }
        std::string text = err.text();
        // The allocation id depends on what ran before: mask it.
        const size_t at = text.find(" id ");
        REQUIRE(at != std::string::npos);
        const size_t nl = text.find('\n', at);
        text.replace(at + 4, nl - at - 4, "%ID%");
        CHECK(text == expected);
    }
}
