// The reserves the node reads from a board's server_state (or server_info) answer: a stranger's
// bytes, so every other shape is an error, never a guess.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include <rapidjson/document.h>

#include "sashimono/board/RpcErrorCode.h"
#include "sashimono/node/BoardClientPort.h"

namespace sashimono::node {
namespace {

core::Result<ReserveView> parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  if (d.HasParseError()) return core::Error("test JSON does not parse: " + text);
  return parseReserves(d);
}

std::string success(const std::string& result) {
  return R"({"id":1,"status":"success","type":"response","result":)" + result + "}";
}

TEST(BoardReservesTest, ServerStateGivesDrops) {
  auto r = parse(success(R"({"state":{"server_state":"full","validated_ledger":{"base_fee":10,)"
                         R"("reserve_base":10000000,"reserve_inc":2000000,"seq":90000000}}})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, (ReserveView{10'000'000, 2'000'000}));
}

TEST(BoardReservesTest, ServerInfoGivesXrp) {
  auto r = parse(success(R"({"info":{"validated_ledger":{"base_fee_xrp":0.00001,"reserve_base_xrp":1,)"
                         R"("reserve_inc_xrp":0.2,"seq":5}}})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, (ReserveView{1'000'000, 200'000}));
}

TEST(BoardReservesTest, AnythingElseIsAnError) {
  for (const std::string& bad : {
           success(R"({})"),
           success(R"({"state":[]})"),
           success(R"({"state":{"closed_ledger":{"reserve_base":1,"reserve_inc":1}}})"),  // none validated
           success(R"({"state":{"validated_ledger":{"reserve_base":"10000000","reserve_inc":2}}})"),
           success(R"({"state":{"validated_ledger":{"reserve_base":-1,"reserve_inc":2}}})"),
           success(R"({"state":{"validated_ledger":{"reserve_base":1e30,"reserve_inc":2}}})"),
           success(R"({"state":{"validated_ledger":{"reserve_base":100000000000000001,"reserve_inc":2}}})"),
           success(R"({"info":{"validated_ledger":{"reserve_base_xrp":-0.5,"reserve_inc_xrp":0.2}}})"),
           success(R"({"info":{"validated_ledger":{"reserve_base_xrp":1e300,"reserve_inc_xrp":0.2}}})"),
           success(R"({"info":{"validated_ledger":{"reserve_inc_xrp":0.2}}})"),
           std::string(R"([1,2,3])"),
           std::string(R"("text")"),
       }) {
    auto r = parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_FALSE(r.error().message.empty());
  }
  auto e = parse(R"({"id":1,"status":"error","error":"unknownCmd","error_message":"Unknown method."})");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, "unknownCmd");
  auto shape = parse(success(R"({"state":{}})"));
  ASSERT_FALSE(shape.ok());
  EXPECT_EQ(board::rpcErrorCode(shape.error()), board::RpcErrorCode::badResponse);
}

// A poor man's fuzz (the node module has no fuzz target): every byte-mutated variant of good
// answers that still parses as JSON gives reserves in range or an error, never a crash.
TEST(BoardReservesTest, MutatedAnswersNeverCrash) {
  const std::vector<std::string> seeds = {
      success(R"({"state":{"validated_ledger":{"reserve_base":10000000,"reserve_inc":2000000,"seq":9}}})"),
      success(R"({"info":{"validated_ledger":{"reserve_base_xrp":1,"reserve_inc_xrp":0.2,"seq":5}}})"),
  };
  std::mt19937 rng(20261203);
  const std::string alphabet = "{}[]\":,-.0123456789eE tfnrsuxia_";
  std::size_t parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string t = seeds[rng() % seeds.size()];
    for (int m = 1 + static_cast<int>(rng() % 3); m > 0; --m) {
      const std::size_t at = rng() % t.size();
      switch (rng() % 3) {
        case 0:
          t[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          t.erase(at, 1 + rng() % 4);
          break;
        default:
          t.insert(at, 1, alphabet[rng() % alphabet.size()]);
      }
      if (t.empty()) t = "{}";
    }
    rapidjson::Document d;
    d.Parse(t.c_str());
    if (d.HasParseError()) continue;
    ++parsed;
    auto r = parseReserves(d);
    if (r.ok()) {
      EXPECT_LE(r->base, 100'000'000'000'000'000ull) << t;
      EXPECT_LE(r->increment, 100'000'000'000'000'000ull) << t;
    }
  }
  EXPECT_GT(parsed, 1000u);
}

}  // namespace
}  // namespace sashimono::node
