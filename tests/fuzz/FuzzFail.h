#pragma once
// The failure report of the fuzz targets that take bytes: what broke, the input in hex, and a
// detail; then abort(), which libFuzzer records as a crash with the input saved.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sashimono/core/Bytes.h"

namespace sashimono::fuzz {

[[noreturn]] inline void fail(const char* what, core::ByteView in, const std::string& detail) {
  std::fprintf(stderr, "%s\n  input:  %s\n  detail: %s\n", what, core::toHexLower(in).c_str(),
               detail.c_str());
  std::abort();
}

}  // namespace sashimono::fuzz
