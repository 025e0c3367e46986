// status.cpp — the C ABI of npk/status.h: the thread's last failure and
// the per-facility counters, kept by core/errors.cpp.
#include <npk/status.h>

#include "core/errors.h"

extern "C" {

int32_t npk_last_error(void) { return npk::last_error(); }
const char* npk_last_error_message(void) { return npk::last_error_message(); }
const char* npk_status_string(int32_t code) { return npk::status_string(code); }
uint64_t npk_rejections(int32_t facility) { return npk::rejections(facility); }

}  // extern "C"
