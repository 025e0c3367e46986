# The validator of user-supplied code (runtime/src/validate/; its sources
# are among the runtime's): its decoders are Debian's Zydis 4 (x86-64) and
# Capstone 4 (AArch64), found for the target architecture in the cross
# build too (scripts/install-deps installs both).
find_package(zydis 4 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(capstone REQUIRED IMPORTED_TARGET capstone)

# The libraries libnpkjit links (privately: no decoder type is in a public header).
set(NPK_VALIDATE_LIBS Zydis::Zydis PkgConfig::capstone)
