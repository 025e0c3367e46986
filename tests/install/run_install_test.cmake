# cmake -P run_install_test.cmake, with BUILD_DIR, WORK_DIR, CONSUMER_DIR,
# LIBDIR, C_COMPILER, GENERATOR, SANITIZE_FLAGS, PKG_CONFIG, HEADERS (the
# public header names) (see CMakeLists.txt beside this file).

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${what}: ok")
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

set(prefix "${WORK_DIR}/prefix")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

run("cmake --install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}")
string(REPLACE "," ";" HEADERS "${HEADERS}")
list(LENGTH HEADERS n_headers)
if(n_headers LESS 4)
  message(FATAL_ERROR "only ${n_headers} public headers passed (${HEADERS}): the list is broken")
endif()
set(headers "")
foreach(h IN LISTS HEADERS)
  list(APPEND headers include/npk/${h})
endforeach()
foreach(h IN ITEMS allocators assembler handle result)
  list(APPEND headers include/nitpick/runtime/${h}.h)
endforeach()
foreach(f ${headers} ${LIBDIR}/libnpkjit.a ${LIBDIR}/libnpkjit.so
          ${LIBDIR}/pkgconfig/npkjit.pc ${LIBDIR}/cmake/NitpickJit/NitpickJitConfig.cmake)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()

# 1. find_package(NitpickJit), shared and static.
run("configure the find_package consumer" "${CMAKE_COMMAND}" -G "${GENERATOR}"
    -S "${CONSUMER_DIR}" -B "${WORK_DIR}/cmake-consumer"
    "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_C_COMPILER=${C_COMPILER}"
    "-DCMAKE_C_FLAGS=${SANITIZE_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${SANITIZE_FLAGS}")
run("build the find_package consumer" "${CMAKE_COMMAND}" --build "${WORK_DIR}/cmake-consumer")
run("run consumer_shared" "${WORK_DIR}/cmake-consumer/consumer_shared")
run("run consumer_static" "${WORK_DIR}/cmake-consumer/consumer_static")
run("run consumer_old_name" "${WORK_DIR}/cmake-consumer/consumer_old_name")
run("run upstream_consumer" "${WORK_DIR}/cmake-consumer/upstream_consumer")

# 2. pkg-config --cflags --libs npkjit.
if(NOT PKG_CONFIG)
  message(FATAL_ERROR "pkg-config not found: cannot test npkjit.pc")
endif()
set(ENV{PKG_CONFIG_PATH} "${prefix}/${LIBDIR}/pkgconfig")
run("pkg-config --cflags --libs npkjit" "${PKG_CONFIG}" --cflags --libs npkjit)
string(STRIP "${run_output}" pc_flags)
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
separate_arguments(san UNIX_COMMAND "${SANITIZE_FLAGS}")
run("build the pkg-config consumer" "${C_COMPILER}" ${san} "${CONSUMER_DIR}/consumer.c" ${pc_flags}
    "-Wl,-rpath,${prefix}/${LIBDIR}" -o "${WORK_DIR}/pc_consumer")
run("run pc_consumer" "${WORK_DIR}/pc_consumer")
run("build the pkg-config upstream consumer" "${C_COMPILER}" ${san} "${CONSUMER_DIR}/upstream_consumer.c" ${pc_flags}
    "-Wl,-rpath,${prefix}/${LIBDIR}" -o "${WORK_DIR}/pc_upstream_consumer")
run("run pc_upstream_consumer" "${WORK_DIR}/pc_upstream_consumer")
