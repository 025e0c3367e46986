// A stand-in for npk that misbehaves on purpose (FAKE_NPK_MODE), so the
// robustness driver's self-tests can show it catches each kind of
// failure, and does not flag npk echoing "runtime error:" from a source.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int main() {
    const char* m = std::getenv("FAKE_NPK_MODE");
    std::string mode = m ? m : "ok";
    if (mode == "crash") raise(SIGSEGV);
    if (mode == "hang") sleep(30);
    if (mode == "exit3") return 3;
    if (mode == "ubsan") {
        std::fputs("/src/frontend/src/parser.cpp:12:34: runtime error: signed integer overflow\n", stderr);
        return 1;
    }
    if (mode == "asan-log") {
        // As ASan does with log_path=P: the report goes to P.<pid>.
        const char* opts = std::getenv("ASAN_OPTIONS");
        const char* at = opts ? std::strstr(opts, "log_path=") : nullptr;
        if (!at) return 1;
        std::string path(at + 9);
        path = path.substr(0, path.find(':')) + "." + std::to_string(getpid());
        if (std::FILE* f = std::fopen(path.c_str(), "w")) {
            std::fputs("==1==ERROR: AddressSanitizer: heap-use-after-free\n", f);
            std::fclose(f);
        }
        return 1;
    }
    if (mode == "echo") {
        // npk's own diagnostics quoting a source line that mentions errors.
        std::fputs("input.npk:1:1: error: Expected an item, found '/'\n"
                   "    // expect-output: runtime error: division by zero (AddressSanitizer)\n"
                   "    ^\n", stderr);
        return 1;
    }
    return 0;
}
