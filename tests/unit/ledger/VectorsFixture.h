#pragma once
// Shared helpers for the ledger tests: the JS-generated vectors and JSON parsing.
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace sashimono::testing {

inline rapidjson::Document parseJson(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  if (d.HasParseError()) throw std::runtime_error("bad JSON in test: " + text);
  return d;
}

inline rapidjson::Document loadXrplVectors() {
  std::ifstream in(std::string(SASHIMONO_SHARED_DIR) + "/testdata/xrpl-vectors.json");
  std::stringstream ss;
  ss << in.rdbuf();
  auto d = parseJson(ss.str());
  if (!d.IsObject() || !d.HasMember("payments")) throw std::runtime_error("cannot read xrpl-vectors.json");
  return d;
}

inline std::string toJson(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return sb.GetString();
}

}  // namespace sashimono::testing
