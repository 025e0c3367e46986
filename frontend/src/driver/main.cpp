// The npk executable: everything is in driver/cli.cpp (part of npkfront).
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "driver/cli.h"

int main(int argc, char** argv) {
    int status = npk::cli_main(argc, argv);
    // `npk run` ends like the program it ran: exit(status), after the
    // program's and npk's buffered output is out.
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    std::exit(status);
}
