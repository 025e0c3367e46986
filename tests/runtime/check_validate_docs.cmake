# The validator's promises, in the words users read (issue 18, finding 6):
# the header says what each policy bit guarantees and what validation
# does not guarantee against code written to escape; the READMEs say it is
# not a sandbox. Run with -D HEADER=... -D README=... -D RUNTIME_README=...
file(READ "${HEADER}" header)
file(READ "${README}" readme)
file(READ "${RUNTIME_README}" runtime_readme)
set(failures "")
foreach(needle IN ITEMS
    "NOT\n * a sandbox"
    "What validation does not guarantee."
    "a return goes wherever the stack (x86-64) or x30 (AArch64) says"
    "(NPK_JIT_SELF_CONTAINED included)"
    "popf in every operand size")
  string(FIND "${header}" "${needle}" at)
  if(at EQUAL -1)
    string(APPEND failures "npk/validate.h does not say: ${needle}\n")
  endif()
endforeach()
# Every policy bit has its own comment, right above it, saying what it allows.
foreach(bit IN ITEMS ALLOW_PRIVILEGED ALLOW_SYSCALL ALLOW_TRAP ALLOW_INDIRECT SELF_CONTAINED)
  string(REGEX MATCH "\\*/\n    NPK_JIT_${bit} +=" found "${header}")
  if(NOT found)
    string(APPEND failures "npk/validate.h: NPK_JIT_${bit} has no comment of its own right above it\n")
  endif()
endforeach()
string(REGEX MATCH "not[ \n]a[ \n]sandbox" found "${readme}")
if(NOT found)
  string(APPEND failures "README.md does not say that validation is not a sandbox\n")
endif()
string(REGEX MATCH "not[ \n]a[ \n]sandbox" found "${runtime_readme}")
if(NOT found)
  string(APPEND failures "runtime/README.md does not say that validation is not a sandbox\n")
endif()
if(failures)
  message(FATAL_ERROR "${failures}")
endif()
