# Cross build for aarch64 Linux on a Debian x86-64 host, run under qemu.
#
#   apt-get install g++-aarch64-linux-gnu qemu-user
#   dpkg --add-architecture arm64 && apt-get update && apt-get install libffi-dev:arm64 libasmjit-dev:arm64
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
#   cmake --build build-aarch64 && ctest --test-dir build-aarch64
#
# Every test executable then runs under qemu-aarch64 (CTest and Catch2's
# test discovery both honour CMAKE_CROSSCOMPILING_EMULATOR). The code
# generator (npk/jitbuild.h) runs there as natively; only what needs the
# hand-assembled x86-64 add_i32 exits 77 and CTest reports it skipped.
# find_package(asmjit) finds the arm64 package through
# CMAKE_LIBRARY_ARCHITECTURE (/usr/lib/aarch64-linux-gnu/cmake/asmjit).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Debian multiarch: arm64 -dev packages live in /usr/lib/aarch64-linux-gnu
# and /usr/include/aarch64-linux-gnu, which the cross compiler searches by
# itself; header-only host packages (Catch2) stay usable, so the search is
# not confined to a sysroot.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# pkg-config must describe the arm64 libraries, not the host's.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# The programs run against Debian's multiarch arm64 libc (libc6:arm64,
# pulled in by libffi-dev:arm64), whose loader is /lib/ld-linux-aarch64.so.1.
# Not with `-L /usr/aarch64-linux-gnu`: under that prefix qemu 7.2 hangs
# in the child of every fork, and the program tests fork npk.
find_program(NPK_QEMU_AARCH64 qemu-aarch64 REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR "${NPK_QEMU_AARCH64}")
