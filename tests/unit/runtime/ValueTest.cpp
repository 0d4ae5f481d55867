#include "sashimono/runtime/Value.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace sashimono::runtime {
namespace {

TEST(ValueTest, DefaultAndNullptrAreNull) {
  EXPECT_TRUE(Value().isNull());
  EXPECT_TRUE(Value(nullptr).isNull());
  EXPECT_EQ(Value().type(), Value::Type::Null);
  EXPECT_EQ(Value(), Value(nullptr));
}

TEST(ValueTest, ScalarConstructorsPickTheRightType) {
  EXPECT_EQ(Value(true).type(), Value::Type::Bool);
  EXPECT_EQ(Value(0).type(), Value::Type::Int);
  EXPECT_EQ(Value(std::int64_t{-5}).asInt(), -5);
  EXPECT_EQ(Value(7LL).asInt(), 7);
  EXPECT_EQ(Value(4000000000u).asInt(), 4000000000);
  EXPECT_EQ(Value(std::uint8_t{200}).asInt(), 200);
  EXPECT_EQ(Value(1.5).type(), Value::Type::Double);
  EXPECT_EQ(Value(1.5f).asDouble(), 1.5);
  EXPECT_EQ(Value("x").type(), Value::Type::String);
  EXPECT_EQ(Value(std::string("y")).asString(), "y");
  EXPECT_EQ(Value(std::string_view("z")).asString(), "z");
  EXPECT_EQ(Value::binary(core::Bytes{0, 1}).type(), Value::Type::Binary);
  std::array<std::uint8_t, 3> raw{9, 0, 9};
  EXPECT_EQ(Value::binary(core::ByteView(raw)).asBinary(), (core::Bytes{9, 0, 9}));
  EXPECT_EQ(Value::rawJson("[1]").type(), Value::Type::RawJson);
  EXPECT_EQ(Value::rawJson("[1]").asRawJson(), "[1]");
  EXPECT_EQ(Value(Array{}).type(), Value::Type::Array);
  EXPECT_EQ(Value(Object{}).type(), Value::Type::Object);
}

TEST(ValueTest, UintIsIntUpToInt64MaxThenDouble) {
  const auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(Value::uint(0), Value(0));
  EXPECT_EQ(Value::uint(max), Value(std::numeric_limits<std::int64_t>::max()));
  Value over = Value::uint(max + 1);
  ASSERT_TRUE(over.isDouble());
  EXPECT_EQ(over.asDouble(), 9223372036854775808.0);
  EXPECT_TRUE(Value::uint(std::numeric_limits<std::uint64_t>::max()).isDouble());
}

TEST(ValueTest, WrongTypeAccessThrowsLogicError) {
  Value s("text");
  EXPECT_THROW((void)s.asInt(), std::logic_error);
  EXPECT_THROW((void)s.asBool(), std::logic_error);
  EXPECT_THROW((void)s.asDouble(), std::logic_error);
  EXPECT_THROW((void)s.asBinary(), std::logic_error);
  EXPECT_THROW((void)s.asArray(), std::logic_error);
  EXPECT_THROW((void)s.asObject(), std::logic_error);
  EXPECT_THROW((void)s.asRawJson(), std::logic_error);
  EXPECT_THROW((void)Value::rawJson("1").asString(), std::logic_error);  // raw JSON is not a string
  EXPECT_THROW((void)Value(1.0).asInt(), std::logic_error);
  EXPECT_EQ(Value(3).asDouble(), 3.0);  // an Int reads as a double
  EXPECT_THROW(s.set("k", 1), std::logic_error);
  EXPECT_THROW(s.push(1), std::logic_error);
  EXPECT_THROW(Value(Array{}).set("k", 1), std::logic_error);
  EXPECT_THROW(Value(Object{}).push(1), std::logic_error);
}

TEST(ValueTest, SetAndPushBuildContainers) {
  Value msg;
  msg.set("type", "lcl_response");
  msg.set("ledger_seq_no", 42);
  Value& ledger = msg.set("ledger", Value());
  ledger.set("seq_no", 1);
  Value& list = msg.set("unl", Value());
  list.push("a");
  list.push("b").asString() += "!";
  ASSERT_TRUE(msg.isObject());
  ASSERT_EQ(msg.asObject().size(), 4u);
  EXPECT_EQ(msg.asObject()[0].first, "type");
  EXPECT_EQ(msg.find("ledger_seq_no")->asInt(), 42);
  EXPECT_EQ(msg.find("ledger")->find("seq_no")->asInt(), 1);
  EXPECT_EQ(msg.find("unl")->asArray(), (Array{"a", "b!"}));
  EXPECT_EQ(msg.find("missing"), nullptr);
  EXPECT_EQ(Value(3).find("x"), nullptr);  // not an object
  msg.find("type")->asString() = "changed";
  EXPECT_EQ(msg.find("type")->asString(), "changed");
}

TEST(ValueTest, FindReturnsTheFirstOfDuplicateKeys) {
  Value o(Object{{"k", 1}, {"k", 2}});
  EXPECT_EQ(o.find("k")->asInt(), 1);
  EXPECT_EQ(o.asObject().size(), 2u);
}

TEST(ValueTest, EqualityIsDeepAndTypeStrict) {
  EXPECT_NE(Value(1), Value(1.0));
  EXPECT_NE(Value("1"), Value(1));
  EXPECT_NE(Value("ab"), Value::rawJson("ab"));
  EXPECT_NE(Value::binary(core::Bytes{'a'}), Value("a"));
  EXPECT_NE(Value(false), Value());
  EXPECT_EQ(Value(0.0), Value(-0.0));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(Value(nan), Value(nan));
  EXPECT_NE(Value(nan), Value(0.0));
  Value a(Object{{"x", Array{1, "two", Value(), Object{{"n", nan}}}}});
  Value b = a;
  EXPECT_EQ(a, b);
  b.find("x")->asArray()[1] = "three";
  EXPECT_NE(a, b);
  // member order matters
  EXPECT_NE(Value(Object{{"a", 1}, {"b", 2}}), Value(Object{{"b", 2}, {"a", 1}}));
}

TEST(ValueTest, TypeNames) {
  EXPECT_STREQ(typeName(Value::Type::Null), "null");
  EXPECT_STREQ(typeName(Value::Type::Int), "int");
  EXPECT_STREQ(typeName(Value::Type::Binary), "binary");
  EXPECT_STREQ(typeName(Value::Type::Object), "object");
}

TEST(ValueTest, MoveLeavesAUsableValue) {
  Value a(Array{1, 2, 3});
  Value b = std::move(a);
  EXPECT_EQ(b.asArray().size(), 3u);
  a = Value("reused");  // NOLINT(bugprone-use-after-move): assigning is fine
  EXPECT_EQ(a.asString(), "reused");
}

}  // namespace
}  // namespace sashimono::runtime
