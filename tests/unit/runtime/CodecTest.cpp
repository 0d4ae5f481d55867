// The runtime codec: protocol names, UTF-8 validation, JSON rendering and parsing (limits,
// malformed input, round trips). BSON: CodecBsonTest.
#include "sashimono/runtime/Codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "CodecTestSupport.h"

namespace sashimono::runtime {
namespace {

using namespace std::string_literals;
using namespace testing;
using core::Result;

// ---- protocol names ----

TEST(CodecTest, ProtocolNames) {
  EXPECT_STREQ(protocolName(Protocol::Json), "json");
  EXPECT_STREQ(protocolName(Protocol::Bson), "bson");
  EXPECT_EQ(parseProtocol("json"), Protocol::Json);
  EXPECT_EQ(parseProtocol("bson"), Protocol::Bson);
  EXPECT_FALSE(parseProtocol("JSON"));
  EXPECT_FALSE(parseProtocol(""));
  EXPECT_FALSE(parseProtocol("bson "));
}

// ---- UTF-8 ----

TEST(CodecTest, Utf8Validation) {
  EXPECT_TRUE(isValidUtf8(""));
  EXPECT_TRUE(isValidUtf8("ascii\0nul"s));
  EXPECT_TRUE(isValidUtf8("\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF"));
  EXPECT_TRUE(isValidUtf8("\xED\x9F\xBF\xEE\x80\x80"));  // around the surrogates
  for (const char* bad :
       {"\x80", "\xBF", "\xC0\x80", "\xC1\xBF", "\xC2", "\xC2\x41", "\xE0\x80\x80", "\xE0\x9F\xBF",
        "\xED\xA0\x80", "\xED\xBF\xBF", "\xE1\x80", "\xF0\x80\x80\x80", "\xF0\x8F\xBF\xBF",
        "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xF8", "\xFF", "\xF0\x9F\x8E", "ok\xE6\x97"}) {
    EXPECT_FALSE(isValidUtf8(bad)) << hexOf(bad);
  }
}

// ---- JSON rendering ----

TEST(CodecTest, RenderJsonScalars) {
  EXPECT_EQ(renderJson(Value()), "null");
  EXPECT_EQ(renderJson(Value(true)), "true");
  EXPECT_EQ(renderJson(Value(false)), "false");
  EXPECT_EQ(renderJson(Value(0)), "0");
  EXPECT_EQ(renderJson(Value(std::numeric_limits<std::int64_t>::min())), "-9223372036854775808");
  EXPECT_EQ(renderJson(Value::uint(18446744073709551615u)), "18446744073709551616.0");
  EXPECT_EQ(renderJson(Value(0.1)), "0.1");
  EXPECT_EQ(renderJson(Value(2.0)), "2.0");
  EXPECT_EQ(renderJson(Value(-0.0)), "-0.0");
  EXPECT_EQ(renderJson(Value(1e21)), "1e+21");
  EXPECT_EQ(renderJson(Value(1.5e-7)), "1.5e-07");
  EXPECT_EQ(renderJson(Value(1234567890123456768.0)), "1234567890123456768.0");
  EXPECT_EQ(renderJson(Value(std::numeric_limits<double>::quiet_NaN())), "null");
  EXPECT_EQ(renderJson(Value(std::numeric_limits<double>::infinity())), "null");
  EXPECT_EQ(renderJson(Value(-std::numeric_limits<double>::infinity())), "null");
  EXPECT_EQ(renderJson(Value::binary(core::Bytes{0x00, 0xAB, 0xff})), "\"00abff\"");
  EXPECT_EQ(renderJson(Value::binary(core::Bytes{})), "\"\"");
  EXPECT_EQ(renderJson(Value::rawJson("{\"a\": [1, 2]}")), "{\"a\": [1, 2]}");
}

TEST(CodecTest, RenderJsonEscapesStrings) {
  EXPECT_EQ(renderJson(Value("a\"b\\c/d")), R"("a\"b\\c/d")");
  EXPECT_EQ(renderJson(Value("\n\r\t\b\f")), R"("\n\r\t\b\f")");
  EXPECT_EQ(renderJson(Value("\x01\x1f\x7f"s)), "\"\\u0001\\u001f\x7f\"");
  EXPECT_EQ(renderJson(Value("x\0y"s)), R"("x\u0000y")");
  EXPECT_EQ(renderJson(Value("\xE2\x80\xA8 \xF0\x9F\x8E\x89")), "\"\xE2\x80\xA8 \xF0\x9F\x8E\x89\"");
}

TEST(CodecTest, RenderJsonReplacesInvalidUtf8) {
  // Each byte that starts no valid sequence becomes U+FFFD; valid parts are kept.
  EXPECT_EQ(renderJson(Value("a\xFF"
                             "b")),
            "\"a\xEF\xBF\xBD"
            "b\"");
  EXPECT_EQ(renderJson(Value("\xC3")), "\"\xEF\xBF\xBD\"");
  EXPECT_EQ(renderJson(Value("\xED\xA0\x80")), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(renderJson(Value("\xC3\xA9\x80")), "\"\xC3\xA9\xEF\xBF\xBD\"");
  // Keys too; the result always parses.
  Value o(Object{{"k\xFE", "v\xC0\xAF"}});
  auto back = parseJson(renderJson(o));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->asObject()[0].first, "k\xEF\xBF\xBD");
  EXPECT_EQ(back->asObject()[0].second.asString(), "v\xEF\xBF\xBD\xEF\xBF\xBD");
  // Every single byte value in a string renders as parseable JSON.
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  auto parsed = parseJson(renderJson(Value(all)));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_TRUE(isValidUtf8(parsed->asString()));
}

TEST(CodecTest, RenderJsonContainers) {
  EXPECT_EQ(renderJson(Value(Array{})), "[]");
  EXPECT_EQ(renderJson(Value(Object{})), "{}");
  Value v(
      Object{{"type", "stat"}, {"list", Array{1, "a", Value(), Array{}, Object{{"x", false}}}}, {"type", 2}});
  EXPECT_EQ(renderJson(v), R"({"type":"stat","list":[1,"a",null,[],{"x":false}],"type":2})");
  EXPECT_EQ(render(Protocol::Json, v), renderJson(v));
}

// ---- JSON parsing ----

TEST(CodecTest, ParseJsonScalars) {
  EXPECT_EQ(*parseJson("null"), Value());
  EXPECT_EQ(*parseJson(" true "), Value(true));
  EXPECT_EQ(*parseJson("false"), Value(false));
  EXPECT_EQ(*parseJson("0"), Value(0));
  EXPECT_EQ(*parseJson("-0"), Value(0));
  EXPECT_EQ(*parseJson("42"), Value(42));
  EXPECT_EQ(*parseJson("-9223372036854775808"), Value(std::numeric_limits<std::int64_t>::min()));
  EXPECT_EQ(*parseJson("9223372036854775807"), Value(std::numeric_limits<std::int64_t>::max()));
  EXPECT_EQ(*parseJson("9223372036854775808"), Value(9223372036854775808.0));
  EXPECT_EQ(*parseJson("18446744073709551615"), Value(18446744073709551615.0));
  EXPECT_EQ(*parseJson("-9223372036854775809"), Value(-9223372036854775808.0));
  EXPECT_EQ(*parseJson("100000000000000000000000"), Value(1e23));
  EXPECT_EQ(*parseJson("1.0"), Value(1.0));
  EXPECT_EQ(*parseJson("1e2"), Value(100.0));
  EXPECT_EQ(*parseJson("-0.0"), Value(-0.0));
  EXPECT_TRUE(std::signbit(parseJson("-0.0")->asDouble()));
  EXPECT_EQ(*parseJson("0.1"), Value(0.1));
  EXPECT_EQ(*parseJson("2.2250738585072011e-308"), Value(2.2250738585072011e-308));
  EXPECT_EQ(*parseJson("1e-400"), Value(0.0));
  EXPECT_EQ(*parseJson(R"("")"), Value(""));
  EXPECT_EQ(*parseJson(R"("a\"\\\/\b\f\n\r\t\u0000\u00e9\ud83c\udf89")"),
            Value("a\"\\/\b\f\n\r\t\0\xC3\xA9\xF0\x9F\x8E\x89"s));
  EXPECT_EQ(*parseJson("\"\xE6\x97\xA5\""), Value("\xE6\x97\xA5"));
}

TEST(CodecTest, ParseJsonNumberEdgeCases) {
  // Correctly rounded, including halfway and subnormal cases.
  EXPECT_EQ(*parseJson("2.4703282292062328e-324"), Value(4.9406564584124654e-324));
  EXPECT_EQ(*parseJson("9007199254740993"), Value(std::int64_t{9007199254740993}));
  EXPECT_EQ(*parseJson("9007199254740993.0"), Value(9007199254740992.0));
  EXPECT_EQ(*parseJson("123456789012345678901234567890"), Value(1.2345678901234568e29));
  EXPECT_EQ(*parseJson("1.7976931348623157e308"), Value(1.7976931348623157e308));
  EXPECT_EQ(*parseJson("0.1e1"), Value(1.0));
  EXPECT_EQ(*parseJson("1E+2"), Value(100.0));
  // Zero with any exponent (rapidjson's full-precision path has UB here; we do not use it).
  EXPECT_EQ(*parseJson("0e-185"), Value(0.0));
  EXPECT_TRUE(std::signbit(parseJson("-0e-185")->asDouble()));
  // (rapidjson refuses any positive exponent beyond the double range, even on a zero mantissa.)
  expectError(parseJson("0e400"), {"json: "});
  // Underflow is ±0 (as JSON.parse); overflow is an error (JSON.parse would give Infinity).
  EXPECT_EQ(*parseJson("2.4703282292062327e-324"), Value(0.0));
  EXPECT_EQ(*parseJson("0.000000000000000000001e-310"), Value(0.0));
  EXPECT_TRUE(std::signbit(parseJson("-1e-400")->asDouble()));
  EXPECT_EQ(*parseJson("1e-99999999999999999999"), Value(0.0));
  expectError(parseJson("1.8e308"), {"number 1.8e308 is out of range"});
  expectError(parseJson("-1.8e308"), {"out of range"});
  expectError(parseJson("[1e309]"), {"json: "});
  expectError(parseJson("1" + std::string(400, '0')), {"json: "});
  EXPECT_EQ(*parseJson("0.00001e313"), Value(1e308));
  expectError(parseJson("17.98e307"), {"out of range"});
}

TEST(CodecTest, ParseJsonContainersKeepOrderAndDuplicates) {
  auto v = parseJson(R"( {"b":1,"a":[true,null,{"c":"d"}],"b":2,"":{}} )");
  ASSERT_TRUE(v.ok()) << v.error().message;
  const Object& o = v->asObject();
  ASSERT_EQ(o.size(), 4u);
  EXPECT_EQ(o[0].first, "b");
  EXPECT_EQ(o[1].first, "a");
  EXPECT_EQ(o[2].first, "b");
  EXPECT_EQ(o[3].first, "");
  EXPECT_EQ(v->find("b")->asInt(), 1);
  EXPECT_EQ(o[1].second, Value(Array{true, Value(), Object{{"c", "d"}}}));
  EXPECT_EQ(o[3].second, Value(Object{}));
  EXPECT_EQ(*parseJson("[]"), Value(Array{}));
  EXPECT_EQ(*parseJson("[[],[[]]]"), Value(Array{Array{}, Array{Array{}}}));
}

TEST(CodecTest, ParseJsonRejectsMalformed) {
  for (const char* text : {"",
                           " ",
                           "nul",
                           "tru",
                           "True",
                           "NaN",
                           "Infinity",
                           "-Infinity",
                           "01",
                           "1.",
                           ".5",
                           "+1",
                           "1e",
                           "0x10",
                           "'a'",
                           "\"abc",
                           "\"\\x\"",
                           "\"\\u12\"",
                           "[1,]",
                           "[1 2]",
                           "{\"a\"}",
                           "{\"a\":}",
                           "{a:1}",
                           "{\"a\":1,}",
                           "{\"a\" 1}",
                           "[",
                           "]",
                           "{",
                           "}",
                           "[1]]",
                           "{}{}",
                           "1 2",
                           "[] x",
                           "// c\n1",
                           "/* c */ 1",
                           "\"tab\there\"",
                           "\"new\nline\"",
                           "1e400",
                           "-1e400",
                           "\xEF\xBB\xBF{}"}) {
    expectError(parseJson(text), {"json: "}, text);
  }
}

TEST(CodecTest, ParseJsonRejectsBadUtf8AndNul) {
  expectError(parseJson("\"\xFF\""), {"json: "});
  expectError(parseJson("\"\xC0\xAF\""), {"json: "});          // overlong '/'
  expectError(parseJson("\"\xED\xA0\x80\""), {"json: "});      // surrogate in UTF-8
  expectError(parseJson("\"\xF4\x90\x80\x80\""), {"json: "});  // above U+10FFFF
  expectError(parseJson("\"\xE6\x97\""), {"json: "});          // truncated sequence
  expectError(parseJson("{\"\xFF\":1}"), {"json: "});
  expectError(parseJson(R"("\ud800")"), {"json: "});           // lone high surrogate
  expectError(parseJson(R"("\udc00")"), {"json: ", "UTF-8"});  // lone low surrogate
  expectError(parseJson(R"({"\udfff":1})"), {"json: ", "key"});
  expectError(parseJson(R"("\ud800\u0041")"), {"json: "});
  expectError(parseJson("1\0"s), {"json: NUL byte at offset 1"});
  expectError(parseJson("[1]\0[2]"s), {"NUL"});
  expectError(parseJson("\"a\0b\""s), {"NUL"});
}

TEST(CodecTest, ParseJsonErrorsSayWhere) {
  auto r = parseJson("[1, 2, x]");
  expectError(r, {"json: ", "offset 7"});
}

TEST(CodecTest, ParseJsonDepthLimit) {
  ParseLimits l;
  l.maxDepth = 4;
  EXPECT_TRUE(parseJson("[[[[]]]]", l).ok());
  EXPECT_TRUE(parseJson(R"({"a":{"b":[{"c":1}]}})", l).ok());
  expectError(parseJson("[[[[[]]]]]", l), {"nesting deeper than 4"});
  expectError(parseJson(R"({"a":{"b":[{"c":[]}]}})", l), {"nesting deeper than 4"});
  // The default is 32 levels.
  EXPECT_TRUE(parseJson(std::string(32, '[') + std::string(32, ']')).ok());
  expectError(parseJson(std::string(33, '[') + std::string(33, ']')), {"nesting deeper than 32"});
  l.maxDepth = 0;
  EXPECT_TRUE(parseJson("1", l).ok());
  expectError(parseJson("[]", l), {"nesting deeper than 0"});
}

TEST(CodecTest, ParseJsonDepthBombsDoNotCrash) {
  const std::size_t n = 100000;
  expectError(parseJson(std::string(n, '[') + std::string(n, ']')), {"nesting deeper"});
  expectError(parseJson(std::string(n, '[')), {"nesting deeper"});
  std::string objects;
  for (std::size_t i = 0; i < n; ++i) objects += "{\"a\":";
  objects += "1" + std::string(n, '}');
  expectError(parseJson(objects), {"nesting deeper"});
  // Even with a huge limit, the parser itself does not recurse.
  ParseLimits deep;
  deep.maxDepth = 1u << 30;
  auto r = parseJson(std::string(n, '[') + std::string(n, ']'), deep);
  EXPECT_TRUE(r.ok());
  // (Destroying that Value recurses n levels; release it level by level instead.)
  if (r.ok()) {
    Value v = std::move(*r);
    while (v.isArray() && !v.asArray().empty()) {
      Value inner = std::move(v.asArray()[0]);
      v = std::move(inner);
    }
  }
}

TEST(CodecTest, ParseJsonSizeAndValueLimits) {
  ParseLimits l;
  l.maxBytes = 10;
  EXPECT_TRUE(parseJson("[1,2,3,45]", l).ok());
  expectError(parseJson("[1,2,3,456]", l), {"11 bytes exceed the limit of 10"});
  l = ParseLimits{};
  l.maxValues = 4;
  EXPECT_TRUE(parseJson("[1,2,3]", l).ok());  // the array counts too
  expectError(parseJson("[1,2,3,4]", l), {"more than 4 values"});
  expectError(parseJson(R"({"a":{},"b":{}, "c":{}, "d":1})", l), {"more than 4 values"});
}

TEST(CodecTest, JsonRoundTrips) {
  // sample() without binary (JSON has no binary: it comes back as a hex string).
  Value v = sample();
  Object& o = v.asObject();
  std::erase_if(o, [](const auto& m) { return m.second.isBinary(); });
  std::string text = renderJson(v);
  auto back = parseJson(text);
  ASSERT_TRUE(back.ok()) << back.error().message << "\n" << text;
  EXPECT_EQ(*back, v) << text;
  EXPECT_EQ(renderJson(*back), text);
  // Binary renders as hex and reads back as that string.
  auto bin = parseJson(renderJson(Value(Object{{"sig", Value::binary(core::Bytes{0, 0xfe, 0})}})));
  ASSERT_TRUE(bin.ok());
  EXPECT_EQ(bin->find("sig")->asString(), "00fe00");
  // Doubles that look like integers stay doubles.
  for (double d : {0.0, 1.0, -1.0, 1e15, 1e16, 1e17, 123456789012345678.0, 9007199254740993.0, 1e300, -1e-300,
                   4.9406564584124654e-324, 2.2250738585072014e-308, 0.30000000000000004}) {
    auto r = parseJson(renderJson(Value(d)));
    ASSERT_TRUE(r.ok()) << d;
    ASSERT_TRUE(r->isDouble()) << renderJson(Value(d));
    EXPECT_EQ(r->asDouble(), d) << renderJson(Value(d));
  }
}

}  // namespace
}  // namespace sashimono::runtime
