#pragma once
// A rendered request or a board's response as a rapidjson document; a parse error fails the test.
#include <string>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

namespace sashimono::board::testing {

inline rapidjson::Document parse(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.c_str());
  EXPECT_FALSE(d.HasParseError()) << s;
  return d;
}

}  // namespace sashimono::board::testing
