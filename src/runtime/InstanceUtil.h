#pragma once
// Small helpers shared by Instance.cpp and InstanceRound.cpp; not a public API.
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"

namespace sashimono::runtime::detail {

inline core::Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::Error::fromErrno("reading " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline core::Bytes text(std::string_view s) { return core::Bytes(s.begin(), s.end()); }

// What every input gets while no contract is deployed (the bootstrap's answer).
inline constexpr std::string_view kNoContractAnswer =
    "sashimono: no contract is deployed on this instance yet; its owner deploys one with `sashimono deploy`";

}  // namespace sashimono::runtime::detail
