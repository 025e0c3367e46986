// Catch2's main, compiled here rather than taken from Debian's host-only
// libCatch2WithMain.a, so the unit tests also build for aarch64.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
