#pragma once
// `sashimono statefs hash DIR [--json] [--tree FILE]` (StatefsCommand.cpp's verb table).
#include <string>

namespace sashimono::cli {

struct StatefsHashArgs {
  bool json = false;
  std::string tree;  // --tree FILE: load (and save) the persisted tree instead of hashing anew
};

int runStatefsHash(const std::string& dir, const StatefsHashArgs& a);

}  // namespace sashimono::cli
