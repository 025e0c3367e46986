# npk_add_program_test(FILE [NAME n] [LABELS l...] [REQUIRES_JIT] [EXTRA_FLAGS f...])
#
# Registers one annotated Nitpick program as a CTest test. The program
# states its expectation in header comments (before its first non-comment
# line):
#
#   // expect: exit N                       npk run FILE must exit with N
#   // expect: error ARIA-0NN [at L:C]      npk check FILE must exit 1 and
#                                           report that code (at L:C if given)
#   // expect: error "text"                 ... and print that text
#   // expect-output: text                  the output must contain text (repeatable)
#   // requires: jit                        needs a host with a code generator
#                                           (x86-64 or AArch64)
#   // requires: x86-64                     needs an x86-64 host (the hand-assembled
#                                           install_add_i32 and everything built on it)
#   // npk-flags: --strict                  extra flags for npk (repeatable)
#
# The test runs tests/harness/program_test, which decides at run time
# whether the host can run it: a program that needs the JIT prints one
# line naming the host architecture and exits 77 (SKIP_RETURN_CODE) on a
# host where npk_jit_host_supported() is 0, a program that needs x86-64
# on any other CPU. Nothing is decided at configure time, so the same
# tests skip under qemu-aarch64.
function(npk_add_program_test file)
  cmake_parse_arguments(ARG "REQUIRES_JIT;REQUIRES_X86_64" "NAME" "LABELS;EXTRA_FLAGS" ${ARGN})
  get_filename_component(_abs "${file}" ABSOLUTE)
  get_filename_component(_stem "${_abs}" NAME_WE)
  if(ARG_NAME)
    set(_name "${ARG_NAME}")
  else()
    set(_name "npk:${_stem}")
  endif()

  # Only the leading comment block is the header.
  file(STRINGS "${_abs}" _lines)
  set(_header "")
  foreach(_line IN LISTS _lines)
    if(_line MATCHES "^[ \t]*//")
      list(APPEND _header "${_line}")
    elseif(NOT _line MATCHES "^[ \t]*$")
      break()
    endif()
  endforeach()

  set(_args "")
  set(_mode "")
  set(_requires_jit ${ARG_REQUIRES_JIT})
  set(_requires_x86_64 ${ARG_REQUIRES_X86_64})
  foreach(_line IN LISTS _header)
    if(_line MATCHES "^[ \t]*//[ \t]*expect:[ \t]*exit[ \t]+([0-9]+)[ \t]*$")
      set(_mode run)
      list(APPEND _args --expect-exit "${CMAKE_MATCH_1}")
    elseif(_line MATCHES "^[ \t]*//[ \t]*expect:[ \t]*error[ \t]+(ARIA-[0-9]+)[ \t]+at[ \t]+([0-9]+:[0-9]+)[ \t]*$")
      set(_mode check)
      list(APPEND _args --expect-error "${CMAKE_MATCH_1}" --at "${CMAKE_MATCH_2}")
    elseif(_line MATCHES "^[ \t]*//[ \t]*expect:[ \t]*error[ \t]+(ARIA-[0-9]+)[ \t]*$")
      set(_mode check)
      list(APPEND _args --expect-error "${CMAKE_MATCH_1}")
    elseif(_line MATCHES "^[ \t]*//[ \t]*expect:[ \t]*error[ \t]+\"(.*)\"[ \t]*$")
      set(_mode check)
      # No empty --expect-error: CMake drops empty list items, which made
      # the next argument its value.
      list(APPEND _args --expect-output "${CMAKE_MATCH_1}")
    elseif(_line MATCHES "^[ \t]*//[ \t]*expect-output:[ \t]*(.*[^ \t])[ \t]*$")
      list(APPEND _args --expect-output "${CMAKE_MATCH_1}")
    elseif(_line MATCHES "^[ \t]*//[ \t]*requires:[ \t]*jit[ \t]*$")
      set(_requires_jit ON)
    elseif(_line MATCHES "^[ \t]*//[ \t]*requires:[ \t]*x86-64[ \t]*$")
      set(_requires_x86_64 ON)
    elseif(_line MATCHES "^[ \t]*//[ \t]*requires:")
      message(FATAL_ERROR "${_abs}: unknown requirement (jit or x86-64): ${_line}")
    elseif(_line MATCHES "^[ \t]*//[ \t]*npk-flags:[ \t]*(.*[^ \t])[ \t]*$")
      separate_arguments(_flags UNIX_COMMAND "${CMAKE_MATCH_1}")
      foreach(_f IN LISTS _flags)
        list(APPEND _args --npk-flag "${_f}")
      endforeach()
    elseif(_line MATCHES "^[ \t]*//[ \t]*expect")
      message(FATAL_ERROR "${_abs}: malformed expectation line: ${_line}")
    endif()
  endforeach()
  if(NOT _mode)
    message(FATAL_ERROR "${_abs}: no '// expect: exit N' or '// expect: error ...' header line")
  endif()
  # Flags of the registration itself (the same program run another way).
  foreach(_f IN LISTS ARG_EXTRA_FLAGS)
    list(APPEND _args --npk-flag "${_f}")
  endforeach()
  if(_requires_jit)
    list(APPEND _args --requires-jit)
  endif()
  if(_requires_x86_64)
    list(APPEND _args --requires-x86-64)
  endif()
  if(CMAKE_CROSSCOMPILING AND CMAKE_CROSSCOMPILING_EMULATOR)
    foreach(_e IN LISTS CMAKE_CROSSCOMPILING_EMULATOR)
      list(APPEND _args --emulator "${_e}")
    endforeach()
  endif()

  add_test(NAME "${_name}"
    COMMAND npk_program_test --npk $<TARGET_FILE:npk> --mode ${_mode} ${_args} "${_abs}")
  set(_labels ${ARG_LABELS})
  if(_requires_jit OR _requires_x86_64)
    list(APPEND _labels jit)
  endif()
  # The caller may ask what the file declared (bugs/ checks its range).
  set(NPK_PROGRAM_REQUIRES_X86_64 ${_requires_x86_64} PARENT_SCOPE)
  set_tests_properties("${_name}" PROPERTIES
    SKIP_RETURN_CODE 77
    TIMEOUT 60
    LABELS "${_labels}")
endfunction()
