#pragma once
// The bytes of a text: contract inputs and bundle files in the runtime unit tests.
#include <string_view>

#include "sashimono/core/Bytes.h"

namespace sashimono::runtime::testing {

inline core::Bytes bytes(std::string_view s) { return {s.begin(), s.end()}; }

}  // namespace sashimono::runtime::testing
