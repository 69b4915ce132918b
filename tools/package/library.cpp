// libbatching.so: the embedding layers' objects, joined whole (CMake's
// WHOLE_ARCHIVE); this file gives the library a C entry point of its own
// so a host (or `nm`) can ask which version it loaded.

#include "runtime/policy/version.hpp"

extern "C" const char* batching_library_version() {
  return batching::version();
}
