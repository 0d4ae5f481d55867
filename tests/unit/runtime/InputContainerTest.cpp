#include "sashimono/runtime/InputContainer.h"

#include <gtest/gtest.h>

#include <string>

namespace sashimono::runtime {
namespace {

using namespace std::string_literals;

core::Result<InputContainer> json(std::string_view text) {
  return parseInputContainer(Protocol::Json, core::asBytes(text));
}
core::Result<InputContainer> bson(const Value& v) {
  std::string bytes = renderBson(v);
  return parseInputContainer(Protocol::Bson, core::asBytes(bytes));
}
// One BSON element's type and key.
std::string el(std::uint8_t type, std::string_view key) {
  return std::string(1, static_cast<char>(type)) + std::string(key) + '\0';
}
core::Bytes bytesOf(std::string_view s) { return core::Bytes(s.begin(), s.end()); }

void expectError(const core::Result<InputContainer>& r, std::initializer_list<std::string_view> fragments) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "bad_msg_format") << r.error().message;
  EXPECT_NE(r.error().message.find("input container"), std::string::npos) << r.error().message;
  for (auto f : fragments) EXPECT_NE(r.error().message.find(f), std::string::npos) << r.error().message;
}

TEST(InputContainerTest, SheetExampleJson) {
  auto c = json(R"({"input":"hello","nonce":1,"max_ledger_seq_no":20})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->input, bytesOf("hello"));
  EXPECT_EQ(c->nonce, 1u);
  EXPECT_EQ(c->maxLedgerSeqNo, 20u);
}

TEST(InputContainerTest, JsonInputIsTheUtf8OfTheDecodedString) {
  auto c = json(R"({"input":"h\u00e9\n\"\u0000","nonce":1718000000000,"max_ledger_seq_no":0})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->input, bytesOf("h\xC3\xA9\n\"\0"s));
  EXPECT_EQ(c->nonce, 1718000000000u);
  EXPECT_EQ(c->maxLedgerSeqNo, 0u);
  // empty input, any key order, other keys ignored
  auto e = json(R"({"extra":[1,{"x":null}],"max_ledger_seq_no":9223372036854775807,"nonce":2,"input":""})");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_TRUE(e->input.empty());
  EXPECT_EQ(e->maxLedgerSeqNo, 9223372036854775807u);
}

TEST(InputContainerTest, JsonRejections) {
  expectError(json(""), {"json"});
  expectError(json("[]"), {"expected an object, got array"});
  expectError(json(R"("hello")"), {"expected an object, got string"});
  expectError(json(R"({"input":"x","nonce":1,"max_ledger_seq_no":2} x)"), {"json"});
  expectError(json(R"({"nonce":1,"max_ledger_seq_no":2})"), {"field 'input': missing"});
  expectError(json(R"({"input":"x","max_ledger_seq_no":2})"), {"field 'nonce': missing"});
  expectError(json(R"({"input":"x","nonce":1})"), {"field 'max_ledger_seq_no': missing"});
  expectError(json(R"({"input":1,"nonce":1,"max_ledger_seq_no":2})"),
              {"field 'input'", "expected a string, got int"});
  expectError(json(R"({"input":null,"nonce":1,"max_ledger_seq_no":2})"), {"field 'input'", "got null"});
  expectError(json(R"({"input":["x"],"nonce":1,"max_ledger_seq_no":2})"), {"field 'input'", "got array"});
  expectError(json(R"({"input":"x","nonce":0,"max_ledger_seq_no":2})"), {"field 'nonce'", "0 is below 1"});
  expectError(json(R"({"input":"x","nonce":-3,"max_ledger_seq_no":2})"), {"field 'nonce'", "below 1"});
  expectError(json(R"({"input":"x","nonce":1,"max_ledger_seq_no":-1})"),
              {"field 'max_ledger_seq_no'", "below 0"});
  expectError(json(R"({"input":"x","nonce":1.0,"max_ledger_seq_no":2})"), {"field 'nonce'", "got double"});
  expectError(json(R"({"input":"x","nonce":1.5,"max_ledger_seq_no":2})"), {"field 'nonce'", "got double"});
  expectError(json(R"({"input":"x","nonce":1e3,"max_ledger_seq_no":2})"), {"field 'nonce'", "got double"});
  expectError(json(R"({"input":"x","nonce":"1","max_ledger_seq_no":2})"), {"field 'nonce'", "got string"});
  expectError(json(R"({"input":"x","nonce":true,"max_ledger_seq_no":2})"), {"field 'nonce'", "got bool"});
  expectError(json(R"({"input":"x","nonce":1,"max_ledger_seq_no":"2"})"), {"field 'max_ledger_seq_no'"});
  expectError(json(R"({"input":"x","nonce":1,"max_ledger_seq_no":9223372036854775808})"),
              {"field 'max_ledger_seq_no'", "out of range"});
  expectError(json(R"({"input":"x","nonce":1,"max_ledger_seq_no":2,"nonce":5})"),
              {"field 'nonce'", "duplicate"});
  expectError(json(R"({"input":"x","input":"y","nonce":1,"max_ledger_seq_no":2})"),
              {"field 'input'", "duplicate"});
  expectError(json("{\"input\":\"\xFF\",\"nonce\":1,\"max_ledger_seq_no\":2}"), {"json"});
  expectError(json(R"({"input":"\udc00","nonce":1,"max_ledger_seq_no":2})"), {"json"});
  expectError(json(std::string(100000, '[') + std::string(100000, ']')), {"nesting deeper"});
  std::string deepExtra =
      R"({"input":"x","nonce":1,"max_ledger_seq_no":2,"deep":)" + std::string(100000, '[');
  expectError(json(deepExtra), {"nesting deeper"});
}

TEST(InputContainerTest, SheetExampleBson) {
  // What hotpocket-js-client builds: {input: Buffer, nonce: Long, max_ledger_seq_no: Long}.
  Value v(Object{{"input", Value::binary(bytesOf("hello"))}, {"nonce", 1}, {"max_ledger_seq_no", 20}});
  auto c = bson(v);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->input, bytesOf("hello"));
  EXPECT_EQ(c->nonce, 1u);
  EXPECT_EQ(c->maxLedgerSeqNo, 20u);
  // The same bytes from js bson 4.5.3.
  auto js = core::fromHex(
      "4000000005696e70757400050000000068656c6c6f"                // length, input: binary "hello"
      "126e6f6e6365000100000000000000"                            // nonce: int64 1
      "126d61785f6c65646765725f7365715f6e6f00140000000000000000"  // max_ledger_seq_no: int64 20, end
  );
  ASSERT_TRUE(js.ok());
  auto fromJs = parseInputContainer(Protocol::Bson, *js);
  ASSERT_TRUE(fromJs.ok()) << fromJs.error().message;
  EXPECT_EQ(*fromJs, *c);
}

TEST(InputContainerTest, BsonAcceptsStringsInt32AndBinaryWithZeros) {
  auto s = bson(Value(Object{{"input", "h\xC3\xA9"}, {"nonce", 5}, {"max_ledger_seq_no", 0}}));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->input, bytesOf("h\xC3\xA9"));
  // int32 numbers (js bson writes small plain numbers as int32)
  std::string bytes = "\0\0\0\0"s + el(0x05, "input") + "\x02\0\0\0\0"s + "\0\xff"s + el(0x10, "nonce") +
                      "\x07\0\0\0"s + el(0x10, "max_ledger_seq_no") + "\x03\0\0\0"s + "\0"s;
  ASSERT_EQ(bytes.size(), 53u);
  bytes[0] = 53;
  auto i = parseInputContainer(Protocol::Bson, core::asBytes(bytes));
  ASSERT_TRUE(i.ok()) << i.error().message;
  EXPECT_EQ(i->input, (core::Bytes{0, 0xff}));
  EXPECT_EQ(i->nonce, 7u);
  EXPECT_EQ(i->maxLedgerSeqNo, 3u);
}

TEST(InputContainerTest, BsonRejections) {
  auto bin = Value::binary(bytesOf("x"));
  expectError(parseInputContainer(Protocol::Bson, core::asBytes("\x05\0\0\0"s)), {"bson"});
  expectError(bson(Value(Object{{"nonce", 1}, {"max_ledger_seq_no", 2}})), {"field 'input': missing"});
  expectError(bson(Value(Object{{"input", 7}, {"nonce", 1}, {"max_ledger_seq_no", 2}})),
              {"field 'input'", "expected binary or a string, got int"});
  expectError(bson(Value(Object{{"input", bin}, {"nonce", 0}, {"max_ledger_seq_no", 2}})), {"field 'nonce'"});
  expectError(bson(Value(Object{{"input", bin}, {"nonce", 1.0}, {"max_ledger_seq_no", 2}})),
              {"field 'nonce'", "got double"});
  expectError(bson(Value(Object{{"input", bin}, {"nonce", 1}, {"max_ledger_seq_no", -1}})),
              {"field 'max_ledger_seq_no'", "below 0"});
  expectError(bson(Value(Object{{"input", bin}, {"nonce", 1}, {"max_ledger_seq_no", Value()}})),
              {"field 'max_ledger_seq_no'", "got null"});
  expectError(bson(Value(Object{{"input", bin}, {"nonce", 1}, {"nonce", 1}, {"max_ledger_seq_no", 2}})),
              {"field 'nonce'", "duplicate"});
  // A datetime where a number belongs is named.
  std::string dt = "\x1a\0\0\0"s + el(0x09, "nonce") + std::string(8, '\x01') + el(0x0A, "x") + "\0"s;
  dt[0] = static_cast<char>(dt.size());
  expectError(parseInputContainer(Protocol::Bson, core::asBytes(dt)), {"element 'nonce'", "datetime"});
  // JSON text is not BSON, and BSON bytes are not JSON.
  expectError(
      parseInputContainer(Protocol::Bson, core::asBytes(R"({"input":"x","nonce":1,"max_ledger_seq_no":2})")),
      {"bson"});
  std::string b = renderBson(Value(Object{{"input", bin}, {"nonce", 1}, {"max_ledger_seq_no", 2}}));
  expectError(parseInputContainer(Protocol::Json, core::asBytes(b)), {"json"});
}

TEST(InputContainerTest, LimitsApply) {
  ParseLimits l;
  l.maxBytes = 16;
  auto r = parseInputContainer(Protocol::Json,
                               core::asBytes(R"({"input":"hello","nonce":1,"max_ledger_seq_no":20})"), l);
  expectError(r, {"exceed the limit of 16"});
}

}  // namespace
}  // namespace sashimono::runtime
