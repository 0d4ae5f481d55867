#include "sashimono/protocol/Verdict.h"

#include <gtest/gtest.h>

#include "sashimono/crypto/SealedBox.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/Signing.h"
#include "sashimono/protocol/Payload.h"

namespace sashimono::protocol {
namespace {

crypto::KeyPair keys(crypto::KeyType t) { return *crypto::KeyPair::fromSeed(crypto::generateSeed(t)); }
Ed25519Key keyOf(const crypto::KeyPair& kp) {
  Ed25519Key k{};
  std::copy(kp.publicKey().begin() + 1, kp.publicKey().end(), k.begin());
  return k;
}
ledger::Amount xrp(std::uint64_t d) {
  ledger::Amount a;
  a.drops = d;
  return a;
}

class VerdictTest : public ::testing::Test {
 protected:
  crypto::KeyPair host_ = keys(crypto::KeyType::ed25519);
  crypto::KeyPair tenant_ = keys(crypto::KeyType::ed25519);
  HostPolicy policy_{{"hotpocket", "nodejs"}, 100, 60'000, kMaxEnvVars};

  static AcquireRequest acquire() {
    AcquireRequest r;
    r.contractId = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
    r.image = "hotpocket";
    r.owner[5] = 9;
    return r;
  }

  IncomingTransaction tx(const Message& request, std::uint64_t drops = 5000) {
    return txWith(*buildRequest(request, keyOf(host_)), drops);
  }
  IncomingTransaction txWith(const Memo& memo, std::uint64_t drops = 5000,
                             const crypto::KeyPair* from = nullptr) {
    const crypto::KeyPair& kp = from ? *from : tenant_;
    IncomingTransaction in;
    in.hash[0] = 0x42;
    in.type = ledger::txtype::kPayment;
    in.account = kp.accountId();
    in.destination = host_.accountId();
    in.signingPubKey = core::toBytes(kp.publicKey());
    in.signatureValid = true;
    in.succeeded = true;
    in.delivered = xrp(drops);
    in.memos.push_back(memo);
    return in;
  }
  Verdict classify(const IncomingTransaction& in) { return protocol::classify(in, host_, policy_); }

  void expectIgnored(const IncomingTransaction& in, const std::string& why) {
    auto v = classify(in);
    ASSERT_TRUE(std::holds_alternative<Ignored>(v));
    EXPECT_NE(std::get<Ignored>(v).why.find(why), std::string::npos) << std::get<Ignored>(v).why;
  }
  Refused expectRefused(const IncomingTransaction& in, Reason reason, MessageType replyType) {
    auto v = classify(in);
    EXPECT_TRUE(std::holds_alternative<Refused>(v));
    if (!std::holds_alternative<Refused>(v)) return {};
    const auto& r = std::get<Refused>(v);
    EXPECT_EQ(r.reason, reason) << r.detail;
    EXPECT_EQ(r.replyType, replyType);
    EXPECT_EQ(r.id, in.hash);
    EXPECT_EQ(r.from, in.account);
    EXPECT_TRUE(validateDetail(r.detail).ok());
    return r;
  }
};

TEST_F(VerdictTest, AcceptsAValidAcquire) {
  auto v = classify(tx(acquire()));
  ASSERT_TRUE(std::holds_alternative<Accepted>(v)) << std::get<Refused>(v).detail;
  const auto& a = std::get<Accepted>(v);
  EXPECT_EQ(a.type(), MessageType::acquire);
  EXPECT_EQ(a.amount, 5000u);
  EXPECT_EQ(a.from, tenant_.accountId());
  ASSERT_TRUE(a.replyKey);
  EXPECT_EQ(*a.replyKey, keyOf(tenant_));  // the signer's own key
  EXPECT_EQ(std::get<AcquireRequest>(a.request), acquire());
}

TEST_F(VerdictTest, AcceptsOtherRequests) {
  ExtendRequest e;
  e.leaseId[1] = 1;
  auto v = classify(tx(e));
  ASSERT_TRUE(std::holds_alternative<Accepted>(v));
  EXPECT_EQ(std::get<Accepted>(v).type(), MessageType::extend);
  EXPECT_FALSE(std::get<Accepted>(v).replyKey);  // the lease's key applies
  TerminateRequest t;
  t.replyKey = keyOf(tenant_);
  v = classify(tx(t));
  ASSERT_TRUE(std::holds_alternative<Accepted>(v));
  EXPECT_EQ(std::get<Accepted>(v).replyKey, keyOf(tenant_));
  ClusterRequest c;
  c.members.push_back({keyOf(tenant_), "peer.example.com:22860"});
  v = classify(tx(c));
  ASSERT_TRUE(std::holds_alternative<Accepted>(v));
  EXPECT_EQ(std::get<Accepted>(v).type(), MessageType::cluster);
}

TEST_F(VerdictTest, IgnoresWhatIsNotARequestToUs) {
  auto in = tx(acquire());
  auto t = in;
  t.type = ledger::txtype::kAccountSet;
  expectIgnored(t, "not a Payment");
  t = in;
  t.succeeded = false;
  expectIgnored(t, "did not succeed");
  t = in;
  t.destination = tenant_.accountId();
  expectIgnored(t, "not addressed");
  t = in;
  t.destination.reset();
  expectIgnored(t, "not addressed");
  t = txWith(in.memos[0], 5000, &host_);
  expectIgnored(t, "sent by this host");
  t = in;
  t.signingPubKey.clear();
  expectIgnored(t, "multi-signed");
  t = in;
  t.signingPubKey = core::toBytes(keys(crypto::KeyType::ed25519).publicKey());  // a regular key / forgery
  expectIgnored(t, "master key");
  t = in;
  t.signatureValid = false;
  expectIgnored(t, "bad signature");
  t = in;
  t.memos.clear();
  expectIgnored(t, "no sashimono memo");
  t = in;
  t.memos[0].type = "other.acquire";
  expectIgnored(t, "no sashimono memo");
  t = in;
  t.delivered.reset();
  expectIgnored(t, "delivered amount unknown");
}

TEST_F(VerdictTest, RefusesWithTheFullDeliveredAmount) {
  auto in = tx(acquire(), 1234);
  auto two = in;
  two.memos.push_back(in.memos[0]);
  auto r = expectRefused(two, Reason::badPayload, MessageType::error);
  EXPECT_TRUE(r.refund.native);
  EXPECT_EQ(r.refund.drops, 1234u);

  auto unknown = in;
  unknown.memos[0].type = "sashimono.deploy";
  expectRefused(unknown, Reason::unknownType, MessageType::error);
  auto replyAsRequest = in;
  replyAsRequest.memos[0].type = "sashimono.acquire.ok";
  expectRefused(replyAsRequest, Reason::unknownType, MessageType::error);
  auto hostType = in;
  hostType.memos[0].type = "sashimono.host";
  expectRefused(hostType, Reason::unknownType, MessageType::error);

  auto partial = in;
  partial.flags = kTfPartialPayment;
  expectRefused(partial, Reason::partialPayment, MessageType::acquireError);

  auto iou = in;
  iou.delivered->native = false;
  iou.delivered->issued[0] = 0xD4;
  r = expectRefused(iou, Reason::notXrp, MessageType::acquireError);
  EXPECT_FALSE(r.refund.native);
  EXPECT_EQ(r.refund.issued[0], 0xD4);  // the same token goes back

  auto format = in;
  format.memos[0].format = "application/json";
  expectRefused(format, Reason::badPayload, MessageType::acquireError);
  auto longFormat = in;
  longFormat.memos[0].format = std::string(65, 'a');
  expectRefused(longFormat, Reason::badPayload, MessageType::acquireError);
  auto version = in;
  version.memos[0].data[0] = 7;
  expectRefused(version, Reason::unsupportedVersion, MessageType::acquireError);
  auto garbled = in;
  garbled.memos[0].data.back() ^= 1;
  expectRefused(garbled, Reason::badPayload, MessageType::acquireError);
  auto otherHost = txWith(*buildRequest(acquire(), keyOf(keys(crypto::KeyType::ed25519))));
  expectRefused(otherHost, Reason::badPayload, MessageType::acquireError);
}

TEST_F(VerdictTest, RefusesBadPayloadsNamingTheField) {
  Memo memo = *buildMemo(MessageType::extend, ExtendRequest{}, keyOf(host_));
  // Re-seal a hand-written payload.
  auto sealJson = [&](const std::string& type, const std::string& json) {
    Memo m;
    m.type = type;
    m.format = std::string(kFormatSealed);
    auto box = crypto::seal(keyOf(host_), core::asBytes(json));
    m.data.push_back(kEnvelopeVersion);
    m.data.insert(m.data.end(), box->begin(), box->end());
    return m;
  };
  auto r = expectRefused(txWith(sealJson("sashimono.extend", R"({"v":1,"leaseId":"zz"})")),
                         Reason::badPayload, MessageType::extendError);
  EXPECT_NE(r.detail.find("leaseId"), std::string::npos);
  expectRefused(txWith(sealJson("sashimono.terminate", R"({"v":3})")), Reason::unsupportedVersion,
                MessageType::terminateError);
  expectRefused(txWith(sealJson("sashimono.cluster", "not json")), Reason::badPayload,
                MessageType::clusterError);
  (void)memo;
}

TEST_F(VerdictTest, AcquirePolicyChecks) {
  auto a = acquire();
  a.image = "python";
  auto r = expectRefused(tx(a), Reason::imageNotAllowed, MessageType::acquireError);
  EXPECT_NE(r.detail.find("image"), std::string::npos);
  a = acquire();
  a.config.roundtimeMs = 99;
  expectRefused(tx(a), Reason::configOutOfBounds, MessageType::acquireError);
  a.config.roundtimeMs = 60'001;
  expectRefused(tx(a), Reason::configOutOfBounds, MessageType::acquireError);
  a.config.roundtimeMs = 60'000;
  EXPECT_TRUE(std::holds_alternative<Accepted>(classify(tx(a))));
  policy_.maxEnvVars = 1;
  a.config.env = {{"A", "1"}, {"B", "2"}};
  expectRefused(tx(a), Reason::configOutOfBounds, MessageType::acquireError);
}

TEST_F(VerdictTest, Secp256k1TenantsMustNameAReplyKey) {
  auto secp = keys(crypto::KeyType::secp256k1);
  auto in = txWith(*buildRequest(acquire(), keyOf(host_)), 5000, &secp);
  auto r = expectRefused(in, Reason::badPayload, MessageType::acquireError);
  EXPECT_NE(r.detail.find("replyKey"), std::string::npos);

  auto a = acquire();
  a.replyKey = keyOf(tenant_);
  in = txWith(*buildRequest(a, keyOf(host_)), 5000, &secp);
  auto v = classify(in);
  ASSERT_TRUE(std::holds_alternative<Accepted>(v));
  EXPECT_EQ(std::get<Accepted>(v).replyKey, keyOf(tenant_));

  // A small-order key (the identity point) cannot be sealed to: refused up front.
  a.replyKey = Ed25519Key{};
  (*a.replyKey)[0] = 1;
  in = txWith(*buildRequest(a, keyOf(host_)), 5000, &secp);
  auto r2 = expectRefused(in, Reason::badPayload, MessageType::acquireError);
  EXPECT_NE(r2.detail.find("replyKey"), std::string::npos);
}

// Through the real codec: sign a Payment, decode the blob, check the signature, classify.
TEST_F(VerdictTest, EndToEndThroughTheLedgerCodec) {
  auto memo = *buildRequest(acquire(), keyOf(host_));
  rapidjson::Document tx;
  tx.SetObject();
  auto& al = tx.GetAllocator();
  auto str = [&](const std::string& s) {
    return rapidjson::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), al);
  };
  tx.AddMember("TransactionType", "Payment", al);
  tx.AddMember("Account", str(tenant_.address()), al);
  tx.AddMember("Destination", str(host_.address()), al);
  tx.AddMember("Amount", "2500", al);
  tx.AddMember("Fee", "12", al);
  tx.AddMember("Sequence", 7, al);
  rapidjson::Value wrap = memoToJson(memo, al);
  EXPECT_STREQ(wrap["Memo"]["MemoType"].GetString(),
               "73617368696D6F6E6F2E61637175697265");  // docs/PROTOCOL.md §2
  rapidjson::Value memos(rapidjson::kArrayType);
  memos.PushBack(wrap, al);
  tx.AddMember("Memos", memos, al);
  auto blob = ledger::sign(tx, al, tenant_);
  ASSERT_TRUE(blob.ok()) << blob.error().message;
  auto decoded = ledger::decodeTransaction(*blob);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;

  ASSERT_EQ(decoded->memos.size(), 1u);
  EXPECT_EQ(memoFromLedger(decoded->memos[0]), memo);
  EXPECT_TRUE(std::holds_alternative<Accepted>(
      protocol::classify(*decoded, TxOutcome{true, std::nullopt}, host_, policy_)));
  auto in = incomingFrom(*decoded, TxOutcome{true, std::nullopt});
  EXPECT_TRUE(in.signatureValid);
  EXPECT_EQ(in.hash, ledger::transactionHash(*blob));
  auto v = classify(in);
  ASSERT_TRUE(std::holds_alternative<Accepted>(v));
  EXPECT_EQ(std::get<Accepted>(v).amount, 2500u);
  EXPECT_EQ(std::get<Accepted>(v).id, in.hash);

  // Tampering after signing: the host's own check catches it.
  auto forged = *decoded;
  forged.signature.back() ^= 1;
  expectIgnored(incomingFrom(forged, TxOutcome{true, std::nullopt}), "bad signature");
  // A partial payment without a known delivered amount is not trusted.
  auto partial = *decoded;
  partial.flags |= kTfPartialPayment;
  expectIgnored(incomingFrom(partial, TxOutcome{true, std::nullopt}), "delivered amount unknown");
  // The metadata's delivered amount wins over Amount.
  auto in2 = incomingFrom(*decoded, TxOutcome{true, xrp(2000)});
  EXPECT_EQ(std::get<Accepted>(classify(in2)).amount, 2000u);
}

}  // namespace
}  // namespace sashimono::protocol
