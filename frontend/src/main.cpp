// The npk executable. The command line is being written; until then
// this entry point only says so.
#include <cstdio>

int main() {
    std::fputs("npk: the command line is not built yet\n", stderr);
    return 64;
}
