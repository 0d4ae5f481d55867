#pragma once
// The JS-generated XRPL validation and manifest vectors of tests/testdata/xrpl-validations.json,
// for the crypto (node keys) and ledger (manifest, validation, validator set) tests.
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <rapidjson/document.h>

namespace sashimono::testing {

inline rapidjson::Document loadValidationVectors() {
  std::ifstream in(std::string(SASHIMONO_SOURCE_DIR) + "/tests/testdata/xrpl-validations.json");
  std::stringstream ss;
  ss << in.rdbuf();
  rapidjson::Document d;
  d.Parse(ss.str().c_str());
  if (d.HasParseError() || !d.IsObject()) throw std::runtime_error("cannot read xrpl-validations.json");
  return d;
}

}  // namespace sashimono::testing
