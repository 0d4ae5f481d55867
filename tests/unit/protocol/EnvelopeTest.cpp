#include "sashimono/protocol/Envelope.h"

#include <gtest/gtest.h>

#include "sashimono/protocol/Payload.h"

namespace sashimono::protocol {
namespace {

crypto::KeyPair ed() { return *crypto::KeyPair::fromSeed(crypto::generateSeed(crypto::KeyType::ed25519)); }
Ed25519Key keyOf(const crypto::KeyPair& kp) {
  Ed25519Key k{};
  std::copy(kp.publicKey().begin() + 1, kp.publicKey().end(), k.begin());
  return k;
}

AcquireRequest sampleAcquire() {
  AcquireRequest r;
  r.contractId = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
  r.image = "hotpocket";
  r.owner[0] = 1;
  r.config.env.push_back({"GREETING", "hello"});
  return r;
}

TEST(EnvelopeTest, RequestIsSealedToTheHostAndOpensBack) {
  auto host = ed();
  auto memo = buildRequest(sampleAcquire(), keyOf(host));
  ASSERT_TRUE(memo.ok()) << memo.error().message;
  EXPECT_EQ(memo->type, "sashimono.acquire");
  EXPECT_EQ(memo->format, kFormatSealed);
  ASSERT_FALSE(memo->data.empty());
  EXPECT_EQ(memo->data[0], kEnvelopeVersion);
  EXPECT_EQ(memo->data.size(), 1 + 48 + renderPayload(sampleAcquire()).size());
  auto opened = openMemo(*memo, &host);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(std::get<AcquireRequest>(*opened), sampleAcquire());

  auto other = ed();
  auto wrong = openMemo(*memo, &other);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, "bad_payload");
  EXPECT_EQ(openMemo(*memo, nullptr).error().code, "internal_error");
}

TEST(EnvelopeTest, EnvelopeErrors) {
  auto host = ed();
  auto memo = *buildRequest(sampleAcquire(), keyOf(host));
  auto v2 = memo;
  v2.data[0] = 2;
  EXPECT_EQ(openMemo(v2, &host).error().code, "unsupported_version");
  auto plain = memo;
  plain.format = std::string(kFormatJson);
  EXPECT_EQ(openMemo(plain, &host).error().code, "bad_payload");
  auto empty = memo;
  empty.data.clear();
  EXPECT_EQ(openMemo(empty, &host).error().code, "bad_payload");
  auto big = memo;
  big.data.resize(kMaxMemoDataBytes + 1);
  EXPECT_NE(openMemo(big, &host).error().message.find("MemoData"), std::string::npos);
  auto truncated = memo;
  truncated.data.resize(20);
  EXPECT_EQ(openMemo(truncated, &host).error().code, "bad_payload");
  auto unknown = memo;
  unknown.type = "sashimono.nope";
  EXPECT_EQ(openMemo(unknown, &host).error().code, "unknown_type");
}

TEST(EnvelopeTest, OkRepliesAreSealedErrorsArePlain) {
  auto tenant = ed();
  ExtendOk ok;
  ok.moments = 2;
  ok.refund = 5;
  auto sealed = buildMemo(MessageType::extendOk, ok, keyOf(tenant));
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->format, kFormatSealed);
  EXPECT_EQ(std::get<ExtendOk>(*openMemo(*sealed, &tenant)), ok);
  EXPECT_FALSE(buildMemo(MessageType::extendOk, ok, std::nullopt).ok());  // must be sealed

  ErrorReply e;
  e.reason = Reason::underpaid;
  e.detail = "too little";
  auto plain = buildMemo(MessageType::extendError, e, std::nullopt);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->format, kFormatJson);
  EXPECT_EQ(core::asString(plain->data), renderPayload(e));
  EXPECT_EQ(std::get<ErrorReply>(*openMemo(*plain, nullptr)), e);
  EXPECT_FALSE(buildMemo(MessageType::extendOk, e, std::nullopt).ok());  // wrong type for the message
  EXPECT_FALSE(buildMemo(MessageType::host, e, std::nullopt).ok());
}

TEST(EnvelopeTest, OversizedRequestIsRefusedByTheBuilder) {
  auto host = ed();
  auto r = sampleAcquire();
  r.config.env.clear();
  for (int i = 0; i < 4; ++i) r.config.env.push_back({"K" + std::to_string(i), std::string(250, 'x')});
  auto memo = buildRequest(r, keyOf(host));
  ASSERT_FALSE(memo.ok());
  EXPECT_NE(memo.error().message.find("exceeds the limit"), std::string::npos);
  EXPECT_FALSE(buildRequest(ExtendOk{}, keyOf(host)).ok());  // not a request
}

}  // namespace
}  // namespace sashimono::protocol
