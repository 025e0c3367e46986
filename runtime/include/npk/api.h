/*
 * npk/api.h — how the C ABI of libnpkjit is declared: NPK_API, the
 * version macros, and the C linkage brackets every public header uses.
 *
 * NPK_API marks a function of the C ABI. Building libnpkjit
 * (NPK_BUILDING_LIBRARY defined by its build), it exports the symbol
 * (the library is compiled with hidden visibility, so nothing else
 * leaves it); for a consumer it imports it on Windows and is empty
 * elsewhere. A consumer of the static library may define NPK_STATIC.
 */
#ifndef NPK_API_H
#define NPK_API_H

#include <stddef.h>
#include <stdint.h>

#define NPK_VERSION_MAJOR 0
#define NPK_VERSION_MINOR 2
#define NPK_VERSION_PATCH 0
/* One number that grows with every release: 0xMMmmpp. */
#define NPK_VERSION ((NPK_VERSION_MAJOR << 16) | (NPK_VERSION_MINOR << 8) | NPK_VERSION_PATCH)

#if defined(NPK_BUILDING_LIBRARY)
#  if defined(_WIN32)
#    define NPK_API __declspec(dllexport)
#  elif defined(__GNUC__)
#    define NPK_API __attribute__((visibility("default")))
#  else
#    define NPK_API
#  endif
#elif defined(_WIN32) && !defined(NPK_STATIC)
#  define NPK_API __declspec(dllimport)
#else
#  define NPK_API
#endif

#ifdef __cplusplus
#  define NPK_EXTERN_C_BEGIN extern "C" {
#  define NPK_EXTERN_C_END }
#else
#  define NPK_EXTERN_C_BEGIN
#  define NPK_EXTERN_C_END
#endif

#endif /* NPK_API_H */
