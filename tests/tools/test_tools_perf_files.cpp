// The files perf reads, as the runtime writes them: /tmp/perf-<pid>.map
// (NPK_JIT_PERF=map) and jit-<pid>.dump with its marker mapping
// (NPK_JIT_PERF=jitdump), checked field by field against the published
// formats. perf itself reads them in perf_names.sh.
#include "support.h"
#include "tools_support.h"

#include "arch/arch.h"
#include "skip.h"

#include <npk/jitbuild.h>

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace npk::test;

namespace {

struct MapLine {
    uintptr_t start;
    size_t size;
    std::string name;
};

std::vector<MapLine> read_map(const std::string& path) {
    std::vector<MapLine> lines;
    std::istringstream in(slurp(path));
    std::string line;
    while (std::getline(in, line)) {
        MapLine m{};
        char name[256] = "";
        unsigned long start = 0, size = 0;
        // Hex without 0x, as perf's jit-interface.txt says; one space apart.
        REQUIRE(line.find("0x") == std::string::npos);
        REQUIRE(std::sscanf(line.c_str(), "%lx %lx %255s", &start, &size, name) == 3);
        m.start = start;
        m.size = size;
        m.name = name;
        lines.push_back(m);
    }
    return lines;
}

std::string map_path() { return "/tmp/perf-" + std::to_string(getpid()) + ".map"; }

uint64_t mono_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

template <class T>
T read_at(const std::string& s, size_t at) {
    T v;
    REQUIRE(at + sizeof v <= s.size());
    std::memcpy(&v, s.data() + at, sizeof v);
    return v;
}

}  // namespace

TEST_CASE("NPK_JIT_PERF=map: a line per function when it becomes executable", "[tools][perf]") {
    std::remove(map_path().c_str());
    set_env("NPK_JIT_PERF", "map");
    void* lone = build_const(1, "lone_fn");
    REQUIRE(lone != nullptr);
    std::vector<MapLine> lines = read_map(map_path());
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].start == reinterpret_cast<uintptr_t>(lone));
    CHECK(lines[0].size > 0);
    CHECK(lines[0].name == "lone_fn");

    npk_jit_region* r = npk_jit_region_new();
    void* a = npk_jit_region_add(r, const_builder(2, "region_a"));
    void* b = npk_jit_region_add(r, const_builder(3, nullptr));
    REQUIRE((a != nullptr && b != nullptr));
    CHECK(read_map(map_path()).size() == 1);  // nothing before the seal
    REQUIRE(npk_jit_region_seal(r) == 0);
    lines = read_map(map_path());
    REQUIRE(lines.size() == 3);
    CHECK(lines[1].start == reinterpret_cast<uintptr_t>(a));
    CHECK(lines[1].name == "region_a");
    CHECK(lines[2].start == reinterpret_cast<uintptr_t>(b));
    CHECK(lines[2].name == hex_name(b));
    CHECK(lines[1].start + lines[1].size <= lines[2].start);  // no overlap
    CHECK(call_i64(a) == 2);
    CHECK(call_i64(b) == 3);
    REQUIRE(npk_jit_region_free(r) == 0);
    REQUIRE(npk_wildx_free(lone) == 0);
    std::remove(map_path().c_str());
}

TEST_CASE("without NPK_JIT_PERF, or with a value it does not know, no perf map is written", "[tools][perf]") {
    std::remove(map_path().c_str());
    for (const char* v : {static_cast<const char*>(nullptr), "", "maps", "map,", "jitdump,bogus"}) {
        INFO("NPK_JIT_PERF=" << (v != nullptr ? v : "(unset)"));
        set_env("NPK_JIT_PERF", v);
        void* fn = build_const(4, "quiet_fn");
        REQUIRE(fn != nullptr);
        CHECK(call_i64(fn) == 4);
        REQUIRE(npk_wildx_free(fn) == 0);
        CHECK(access(map_path().c_str(), F_OK) != 0);
    }
}

TEST_CASE("NPK_JIT_PERF=jitdump: header, a code-load record per function, the marker mapping",
          "[tools][perf]") {
    char dir[] = "/tmp/npk-jitdump-XXXXXX";
    REQUIRE(mkdtemp(dir) != nullptr);
    setenv("NPK_JIT_DUMP_DIR", dir, 1);
    set_env("NPK_JIT_PERF", "jitdump");
    const uint64_t before = mono_ns();
    void* f1 = build_const(10, "dumped_one");
    void* f2 = build_const(11, nullptr);
    REQUIRE((f1 != nullptr && f2 != nullptr));
    const uint64_t after = mono_ns();
    const std::string path = std::string(dir) + "/jit-" + std::to_string(getpid()) + ".dump";
    const std::string d = slurp(path);

    // The file header (jitdump-specification.txt).
    REQUIRE(d.size() >= 40);
    CHECK(read_at<uint32_t>(d, 0) == 0x4A695444);  // "JiTD"
    CHECK(read_at<uint32_t>(d, 4) == 1);
    CHECK(read_at<uint32_t>(d, 8) == 40);
    CHECK(read_at<uint32_t>(d, 12) == (npk::arch::kCpu == npk::arch::Cpu::x86_64 ? 62u : 183u));
    CHECK(read_at<uint32_t>(d, 20) == static_cast<uint32_t>(getpid()));
    const uint64_t t0 = read_at<uint64_t>(d, 24);
    CHECK((t0 >= before && t0 <= after));
    CHECK(read_at<uint64_t>(d, 32) == 0);

    // JIT_CODE_LOAD records: id 0, sizes adding up, the code as it runs.
    size_t at = 40;
    uint64_t last_time = t0;
    void* fns[] = {f1, f2};
    const std::string names[] = {"dumped_one", hex_name(f2)};
    for (int i = 0; i < 2; ++i) {
        INFO("record " << i);
        CHECK(read_at<uint32_t>(d, at) == 0);
        const uint32_t total = read_at<uint32_t>(d, at + 4);
        const uint64_t t = read_at<uint64_t>(d, at + 8);
        CHECK((t >= last_time && t <= after));
        last_time = t;
        CHECK(read_at<uint32_t>(d, at + 16) == static_cast<uint32_t>(getpid()));
        CHECK(read_at<uint32_t>(d, at + 20) != 0);  // tid
        const auto vma = read_at<uint64_t>(d, at + 24);
        CHECK(vma == reinterpret_cast<uintptr_t>(fns[i]));
        CHECK(read_at<uint64_t>(d, at + 32) == vma);
        const auto size = read_at<uint64_t>(d, at + 40);
        CHECK(read_at<uint64_t>(d, at + 48) == static_cast<uint64_t>(i));  // code_index
        const std::string name(d.c_str() + at + 56);
        CHECK(name == names[i]);
        const size_t code_at = at + 56 + name.size() + 1;
        CHECK(total == code_at - at + size);
        REQUIRE(code_at + size <= d.size());
        CHECK(std::memcmp(d.data() + code_at, fns[i], size) == 0);
        at += total;
    }
    CHECK(at == d.size());

    // The marker: the dump file, mapped executable, as perf inject needs.
    const std::string maps = slurp("/proc/self/maps");
    const size_t line = maps.find(path);
    REQUIRE(line != std::string::npos);
    const size_t bol = maps.rfind('\n', line) + 1;
    CHECK(maps.substr(bol, maps.find('\n', bol) - bol).find(" r-xp ") != std::string::npos);

    REQUIRE(npk_wildx_free(f1) == 0);
    REQUIRE(npk_wildx_free(f2) == 0);
    std::remove(path.c_str());
    rmdir(dir);
}

TEST_CASE("a jitdump directory that cannot be written leaves the code working", "[tools][perf]") {
    setenv("NPK_JIT_DUMP_DIR", "/nonexistent/npk-no-such-dir", 1);
    set_env("NPK_JIT_PERF", "jitdump");
    StderrCapture err;
    void* fn = build_const(12, "still_fine");
    void* fn2 = build_const(13, "still_fine_2");
    const std::string text = err.text();
    REQUIRE((fn != nullptr && fn2 != nullptr));
    CHECK(call_i64(fn) == 12);
    CHECK(call_i64(fn2) == 13);
    CHECK(count_lines(text) == 1);  // said once
    CHECK_THAT(text, Catch::Contains("NPK_JIT_PERF=jitdump") && Catch::Contains("/nonexistent/npk-no-such-dir"));
    REQUIRE(npk_wildx_free(fn) == 0);
    REQUIRE(npk_wildx_free(fn2) == 0);
}

TEST_CASE("NPK_JIT_PERF=map after fork: the child writes its own map, the parent's stays its own", "[tools][perf]") {
    std::remove(map_path().c_str());
    set_env("NPK_JIT_PERF", "map");
    void* before = build_const(1, "parent_fn");
    REQUIRE(before != nullptr);
    const ChildResult child = run_child([] {
        void* fn = build_const(2, "child_fn");
        const std::vector<MapLine> lines = read_map(map_path());  // this is the child's pid
        std::remove(map_path().c_str());
        if (fn == nullptr || lines.size() != 1 || lines[0].name != "child_fn" ||
            lines[0].start != reinterpret_cast<uintptr_t>(fn)) {
            _exit(3);
        }
    });
    CHECK(child.exit_code == 0);
    void* after = build_const(3, "parent_fn_2");
    REQUIRE(after != nullptr);
    const std::vector<MapLine> lines = read_map(map_path());
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].name == "parent_fn");
    CHECK(lines[1].name == "parent_fn_2");
    REQUIRE(npk_wildx_free(before) == 0);
    REQUIRE(npk_wildx_free(after) == 0);
    std::remove(map_path().c_str());
}

namespace {

// A file someone cares about, outside the JIT's reach, and where the
// runtime's two files will be looked for.
struct Planted {
    char dir[32] = "/tmp/npk-planted-XXXXXX";
    std::string victim, dump;
    Planted() {
        REQUIRE(mkdtemp(dir) != nullptr);
        victim = std::string(dir) + "/victim.txt";
        dump = std::string(dir) + "/jit-" + std::to_string(getpid()) + ".dump";
        std::ofstream(victim) << "precious\n";
        setenv("NPK_JIT_DUMP_DIR", dir, 1);
    }
    ~Planted() {
        std::remove(map_path().c_str());
        std::remove(dump.c_str());
        std::remove(victim.c_str());
        rmdir(dir);
    }
    // Builds a function with both files asked for: it must work, and each
    // file must be refused with one line naming it.
    void build_and_expect_refusals() const {
        set_env("NPK_JIT_PERF", "map,jitdump");
        StderrCapture err;
        void* fn = build_const(5, "not_written");
        void* fn2 = build_const(6, "not_written_2");
        const std::string text = err.text();
        REQUIRE((fn != nullptr && fn2 != nullptr));
        if (npk_jit_host_supported() != 0) CHECK(call_i64(fn) == 5);
        INFO(text);
        CHECK(count_lines(text) == 2);  // one per file, said once
        CHECK_THAT(text, Catch::Contains("NPK_JIT_PERF=map: " + map_path() + " exists and is not this process's file"));
        CHECK_THAT(text, Catch::Contains("NPK_JIT_PERF=jitdump: " + dump + " exists and is not this process's file"));
        CHECK(slurp(victim) == "precious\n");
        REQUIRE(npk_wildx_free(fn) == 0);
        REQUIRE(npk_wildx_free(fn2) == 0);
    }
};

}  // namespace

TEST_CASE("NPK_JIT_PERF: a perf map or jitdump name planted as a symbolic link is refused, its target untouched",
          "[tools][perf][hostile]") {
    Planted p;
    std::remove(map_path().c_str());
    REQUIRE(symlink(p.victim.c_str(), map_path().c_str()) == 0);
    REQUIRE(symlink(p.victim.c_str(), p.dump.c_str()) == 0);
    p.build_and_expect_refusals();
}

TEST_CASE("NPK_JIT_PERF: links and files planted by another user are refused, their targets untouched (as root)",
          "[tools][perf][hostile]") {
    if (geteuid() != 0) npk_test_skip("planting a file as another user needs root");
    Planted p;
    std::remove(map_path().c_str());
    const std::string map = map_path();
    // Another user (nobody) plants both links; fs.protected_symlinks may
    // or may not be set: the runtime must not depend on it.
    const ChildResult planter = run_child([&] {
        if (chmod(p.dir, 0777) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
        if (symlink(p.victim.c_str(), map.c_str()) != 0 || symlink(p.victim.c_str(), p.dump.c_str()) != 0) _exit(3);
    });
    REQUIRE(planter.exit_code == 0);
    p.build_and_expect_refusals();
}

TEST_CASE("NPK_JIT_PERF: a regular file of another user, or a second name of one, is not written (as root)",
          "[tools][perf][hostile]") {
    if (geteuid() != 0) npk_test_skip("making a file another user's needs root");
    Planted p;
    std::remove(map_path().c_str());
    // The map: another user's file. The dump: a hard link to the victim.
    std::ofstream(map_path()) << "theirs\n";
    REQUIRE(chown(map_path().c_str(), 65534, 65534) == 0);
    REQUIRE(link(p.victim.c_str(), p.dump.c_str()) == 0);
    p.build_and_expect_refusals();
    CHECK(slurp(map_path()) == "theirs\n");
}

TEST_CASE("NPK_JIT_PERF=map: a stale map of our own (an earlier process with this pid) starts afresh",
          "[tools][perf]") {
    std::remove(map_path().c_str());
    std::ofstream(map_path()) << "dead 10 stale_line\n";
    set_env("NPK_JIT_PERF", "map");
    void* fn = build_const(7, "fresh_fn");
    REQUIRE(fn != nullptr);
    const std::vector<MapLine> lines = read_map(map_path());
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].name == "fresh_fn");
    REQUIRE(npk_wildx_free(fn) == 0);
    std::remove(map_path().c_str());
}
