# One helper per target kind. Every target of the project goes through
# one of these so that warnings, sanitizers and visibility are set in
# exactly one place.

# Sanitizer flags, parsed once from NPK_SANITIZE.
set(_npk_san_flags "")
if(NPK_SANITIZE)
  string(REPLACE "," ";" _npk_san_list "${NPK_SANITIZE}")
  foreach(_san IN LISTS _npk_san_list)
    if(NOT _san MATCHES "^(address|undefined|thread|leak)$")
      message(FATAL_ERROR "NPK_SANITIZE: unknown sanitizer '${_san}' (use address,undefined or thread)")
    endif()
  endforeach()
  if("thread" IN_LIST _npk_san_list AND "address" IN_LIST _npk_san_list)
    message(FATAL_ERROR "NPK_SANITIZE: thread and address cannot be combined")
  endif()
  set(_npk_san_flags "-fsanitize=${NPK_SANITIZE}" -fno-omit-frame-pointer)
  if("undefined" IN_LIST _npk_san_list)
    list(APPEND _npk_san_flags -fno-sanitize-recover=undefined)
  endif()
endif()

# Common settings for every compiled target of the project.
function(npk_target_defaults target)
  target_compile_options(${target} PRIVATE
    $<$<OR:$<CXX_COMPILER_ID:GNU>,$<CXX_COMPILER_ID:Clang>>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion>)
  if(NPK_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(_npk_san_flags)
    target_compile_options(${target} PRIVATE ${_npk_san_flags})
    target_link_options(${target} PRIVATE ${_npk_san_flags})
  endif()
endfunction()

# A library of the project: hidden visibility, so only symbols marked
# NPK_API (the C ABI) are exported from the shared build.
function(npk_add_library target)
  cmake_parse_arguments(ARG "" "TYPE" "SOURCES" ${ARGN})
  add_library(${target} ${ARG_TYPE} ${ARG_SOURCES})
  set_target_properties(${target} PROPERTIES
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  npk_target_defaults(${target})
endfunction()

# An executable of the project (tools, examples, benchmarks).
function(npk_add_executable target)
  cmake_parse_arguments(ARG "" "" "SOURCES" ${ARGN})
  add_executable(${target} ${ARG_SOURCES})
  npk_target_defaults(${target})
endfunction()

# A Catch2 unit-test executable, registered test by test with CTest.
# Debian's libCatch2WithMain.a is built for the host only, so the main
# is compiled here from the header (tests/catch_main.cpp): the same
# tests then build in the aarch64 cross build too. A test that needs
# something the host lacks calls npk_test_skip() (tests/skip.h): exit 77.
function(npk_add_unit_test target)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${target} ${ARG_SOURCES})
  npk_target_defaults(${target})
  target_link_libraries(${target} PRIVATE npk_catch_main Catch2::Catch2 ${ARG_LIBS})
  # A test whose name Catch cannot be asked for (catch_discover_tests
  # splits names at ';') would run nothing and exit 0: make that a failure.
  catch_discover_tests(${target}
    PROPERTIES SKIP_RETURN_CODE 77 LABELS "${ARG_LABELS}"
               FAIL_REGULAR_EXPRESSION "No test cases matched")
endfunction()
