#include <gtest/gtest.h>

#include "sashimono/core/Config.h"

using namespace sashimono::core;

TEST(Config, ReadsFields) {
  auto c = ConfigNode::parse(R"({"a":"x","n":5,"o":{"b":true},"l":["p","q"]})", "test.json");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c->string("a"), "x");
  EXPECT_EQ(*c->uint("n"), 5u);
  EXPECT_TRUE(*c->object("o")->boolean("b"));
  EXPECT_EQ(c->strings("l")->size(), 2u);
  EXPECT_EQ(*c->uint("missing", 7, 0, 10), 7u);
}

TEST(Config, ErrorsNameFileFieldAndExpectation) {
  auto c = ConfigNode::parse(R"({"n":"five","o":{"m":-1}})", "host.json");
  ASSERT_TRUE(c.ok());
  auto n = c->uint("n");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().message, "host.json: field 'n': expected a non-negative integer, got a string");
  auto m = c->object("o")->uint("m");
  EXPECT_EQ(m.error().message, "host.json: field 'o.m': expected a non-negative integer, got a number");
  auto missing = c->string("nope");
  EXPECT_EQ(missing.error().message, "host.json: field 'nope': missing");
  auto range = ConfigNode::parse(R"({"n":50})", "f")->uint("n", 0, 10);
  EXPECT_EQ(range.error().message, "f: field 'n': expected an integer in [0, 10], got 50");
}

TEST(Config, SyntaxErrorNamesOffset) {
  auto c = ConfigNode::parse("{\"a\": }", "bad.json");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("bad.json: invalid JSON at offset 6"), std::string::npos);
}
