#include "sashimono/protocol/Payload.h"

#include "sashimono/protocol/Envelope.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace sashimono::protocol {
namespace {

const std::string kKey = "ED" + std::string(64, 'A');
const std::string kKey2 = "ED" + std::string(64, 'B');
const std::string kHash = std::string(64, 'C');
const std::string kUuid = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";

std::string acquireJson(const std::string& extra = "") {
  return R"({"v":1,"contractId":")" + kUuid + R"(","image":"hotpocket","owner":")" + kKey + "\"" + extra +
         "}";
}

// Expects an error whose reason is `reason` and whose message names `field`.
void expectError(MessageType type, const std::string& json, Reason reason, const std::string& field) {
  auto r = parsePayload(type, json);
  ASSERT_FALSE(r.ok()) << json;
  EXPECT_EQ(r.error().code, reasonName(reason)) << r.error().message;
  EXPECT_NE(r.error().message.find(field), std::string::npos) << r.error().message;
}

void expectRoundTrip(MessageType type, const std::string& json) {
  auto r = parsePayload(type, json);
  ASSERT_TRUE(r.ok()) << json << ": " << r.error().message;
  std::string rendered = renderPayload(*r);
  auto again = parsePayload(type, rendered);
  ASSERT_TRUE(again.ok()) << rendered << ": " << again.error().message;
  EXPECT_EQ(*again, *r) << rendered;
  EXPECT_EQ(renderPayload(*again), rendered);
}

TEST(PayloadTest, AcquireMinimal) {
  auto r = parseAcquire(acquireJson());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->contractId, kUuid);
  EXPECT_EQ(r->image, "hotpocket");
  EXPECT_EQ(formatEd25519Key(r->owner), kKey);
  EXPECT_FALSE(r->replyKey);
  EXPECT_EQ(r->config, TenantConfig{});
  EXPECT_EQ(renderPayload(*r), acquireJson());
}

TEST(PayloadTest, AcquireFull) {
  std::string json =
      acquireJson(R"(,"replyKey":")" + kKey2 +
                  R"(","config":{"roundtimeMs":500,"logLevel":"debug","env":{"B":"2","A":"x y"}})");
  auto r = parseAcquire(json);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->replyKey);
  EXPECT_EQ(formatEd25519Key(*r->replyKey), kKey2);
  EXPECT_EQ(r->config.roundtimeMs, 500u);
  EXPECT_EQ(r->config.logLevel, LogLevel::debug);
  ASSERT_EQ(r->config.env.size(), 2u);
  EXPECT_EQ(r->config.env[0], (EnvVar{"B", "2"}));  // order kept
  EXPECT_EQ(renderPayload(*r), json);
  expectRoundTrip(MessageType::acquire, json);
}

TEST(PayloadTest, DefaultsAreNotRendered) {
  auto r = parseAcquire(acquireJson(R"(,"config":{"roundtimeMs":1000,"logLevel":"info","env":{}})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(renderPayload(*r), acquireJson());
  // Lower-case hex input renders upper case and re-parses to the same value.
  expectRoundTrip(MessageType::acquire, R"({"v":1,"contractId":")" + kUuid + R"(","image":"a","owner":"ed)" +
                                            std::string(64, 'b') + "\"}");
}

TEST(PayloadTest, EveryFieldViolationNamesTheField) {
  const auto A = MessageType::acquire;
  expectError(A, R"({"v":1,"image":"hotpocket","owner":")" + kKey + "\"}", Reason::badPayload,
              "'contractId': missing");
  expectError(A, R"({"v":1,"contractId":5,"image":"hotpocket","owner":")" + kKey + "\"}", Reason::badPayload,
              "'contractId': expected a string");
  expectError(A, R"({"v":1,"contractId":"x","image":"hotpocket","owner":")" + kKey + "\"}",
              Reason::badPayload, "'contractId'");
  expectError(A,
              R"({"v":1,"contractId":")" + kUuid + "x" + R"(","image":"hotpocket","owner":")" + kKey + "\"}",
              Reason::badPayload, "'contractId': too long");
  expectError(A, R"({"v":1,"contractId":")" + kUuid + R"(","image":"-rf","owner":")" + kKey + "\"}",
              Reason::badPayload, "'image'");
  expectError(A, R"({"v":1,"contractId":")" + kUuid + R"(","image":"hotpocket","owner":"ED12"})",
              Reason::badPayload, "'owner'");
  expectError(A, acquireJson(R"(,"replyKey":null)"), Reason::badPayload, "'replyKey': expected a string");
  expectError(A, acquireJson(R"(,"extra":1)"), Reason::badPayload, "'extra': unknown field");
  expectError(A, acquireJson(R"(,"image":"other")"), Reason::badPayload, "'image': duplicate key");
  expectError(A, acquireJson(R"(,"config":[])"), Reason::badPayload, "'config': expected an object");
  expectError(A, acquireJson(R"(,"config":{"roundtimeMs":0})"), Reason::configOutOfBounds,
              "'config.roundtimeMs'");
  expectError(A, acquireJson(R"(,"config":{"roundtimeMs":3600001})"), Reason::configOutOfBounds,
              "'config.roundtimeMs'");
  expectError(A, acquireJson(R"(,"config":{"roundtimeMs":1.5})"), Reason::badPayload,
              "'config.roundtimeMs': expected");
  expectError(A, acquireJson(R"(,"config":{"roundtimeMs":-1})"), Reason::badPayload,
              "'config.roundtimeMs': expected");
  expectError(A, acquireJson(R"(,"config":{"logLevel":"trace"})"), Reason::badPayload, "'config.logLevel'");
  expectError(A, acquireJson(R"(,"config":{"x":1})"), Reason::badPayload, "'config.x': unknown field");
  expectError(A, acquireJson(R"(,"config":{"env":{"lower":"x"}})"), Reason::badPayload, "'config.env.lower'");
  expectError(A, acquireJson(R"(,"config":{"env":{"PATH":"x"}})"), Reason::badPayload, "reserved");
  expectError(A, acquireJson(R"(,"config":{"env":{"A":1}})"), Reason::badPayload,
              "'config.env.A': expected a string");
  expectError(A, acquireJson(R"(,"config":{"env":{"A":"\n"}})"), Reason::badPayload, "'config.env.A'");
  expectError(A, acquireJson(R"(,"config":{"env":{"A":"1","A":"2"}})"), Reason::badPayload,
              "'config.env.A': duplicate key");
  std::string many;
  for (int i = 0; i < 17; ++i) many += std::string(i ? "," : "") + "\"K" + std::to_string(i) + "\":\"\"";
  expectError(A, acquireJson(R"(,"config":{"env":{)" + many + "}}"), Reason::configOutOfBounds,
              "'config.env'");
}

TEST(PayloadTest, VersionAndDocumentErrors) {
  const auto A = MessageType::acquire;
  expectError(A, R"({"contractId":"x"})", Reason::badPayload, "'v': missing");
  expectError(A, R"({"v":"1"})", Reason::badPayload, "'v': expected");
  expectError(A, R"({"v":2,"whatever":true})", Reason::unsupportedVersion, "'v'");
  expectError(A, R"({"v":0})", Reason::unsupportedVersion, "'v'");
  expectError(A, "[1]", Reason::badPayload, "expected an object");
  expectError(A, "", Reason::badPayload, "invalid JSON");
  expectError(A, acquireJson() + " {}", Reason::badPayload, "invalid JSON");
  expectError(A, "{\"v\":1,\"contractId\":\"\xff\"}", Reason::badPayload, "invalid JSON");  // bad UTF-8
  expectError(A, acquireJson() + std::string(kMaxSealedPlaintextBytes, ' '), Reason::badPayload, "more than");
}

TEST(PayloadTest, LeaseRequests) {
  expectRoundTrip(MessageType::extend, R"({"v":1,"leaseId":")" + kHash + "\"}");
  expectRoundTrip(MessageType::terminate,
                  R"({"v":1,"leaseId":")" + kHash + R"(","replyKey":")" + kKey + "\"}");
  expectError(MessageType::extend, R"({"v":1})", Reason::badPayload, "'leaseId': missing");
  expectError(MessageType::extend, R"({"v":1,"leaseId":"abc"})", Reason::badPayload, "'leaseId'");
  expectError(MessageType::terminate, R"({"v":1,"leaseId":")" + kHash + R"(","moments":1})",
              Reason::badPayload, "'moments': unknown field");
  auto e = parseExtend(R"({"v":1,"leaseId":")" + kHash + "\"}");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(formatHash256(e->leaseId), kHash);
  EXPECT_FALSE(parseExtend(acquireJson()).ok());
}

TEST(PayloadTest, Cluster) {
  std::string members = R"([{"pubkey":")" + kKey + R"(","peer":"a.example.com:22860"},{"pubkey":")" + kKey2 +
                        R"(","peer":"10.0.0.2:22860"}])";
  std::string json = R"({"v":1,"leaseId":")" + kHash + R"(","mode":"add","members":)" + members + "}";
  expectRoundTrip(MessageType::cluster, json);
  auto c = parseCluster(json);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->mode, ClusterMode::add);
  EXPECT_EQ(c->members.size(), 2u);
  const auto C = MessageType::cluster;
  expectError(C, R"({"v":1,"leaseId":")" + kHash + R"(","mode":"merge","members":)" + members + "}",
              Reason::badPayload, "'mode'");
  expectError(C, R"({"v":1,"leaseId":")" + kHash + R"(","mode":"add","members":[]})", Reason::badPayload,
              "'members'");
  expectError(C,
              R"({"v":1,"leaseId":")" + kHash + R"(","mode":"add","members":[{"pubkey":")" + kKey +
                  R"(","peer":"x:0"}]})",
              Reason::badPayload, "'members[0].peer'");
  expectError(C,
              R"({"v":1,"leaseId":")" + kHash + R"(","mode":"add","members":[{"pubkey":")" + kKey +
                  R"(","peer":"x.io:1"},{"pubkey":")" + kKey + R"(","peer":"y.io:1"}]})",
              Reason::badPayload, "'members[1].pubkey': duplicate member key");
  expectError(C, R"({"v":1,"leaseId":")" + kHash + R"(","mode":"add","members":[7]})", Reason::badPayload,
              "'members[0]': expected an object");
}

TEST(PayloadTest, Replies) {
  std::string ok = R"({"v":1,"request":")" + kHash + R"(","leaseId":")" + kHash +
                   R"(","instance":{"pubkey":")" + kKey +
                   R"(","host":"host.example.com","userPort":26000,"peerPort":22000,"ports":[36000,36001]},)"
                   R"("moments":3,"momentSeconds":3600,"expiry":1700010800,"price":"1000","refund":"7"})";
  expectRoundTrip(MessageType::acquireOk, ok);
  std::string other(64, 'D');
  expectError(MessageType::acquireOk,
              R"({"v":1,"request":")" + kHash + R"(","leaseId":")" + other + R"(","instance":{}})",
              Reason::badPayload, "'leaseId': must equal");
  expectRoundTrip(MessageType::extendOk, R"({"v":1,"request":")" + other + R"(","leaseId":")" + kHash +
                                             R"(","moments":2,"expiry":1700000000,"refund":"0"})");
  expectRoundTrip(MessageType::terminateOk, R"({"v":1,"request":")" + other + R"(","leaseId":")" + kHash +
                                                R"(","moments":0,"refund":"1"})");
  expectRoundTrip(MessageType::clusterOk,
                  R"({"v":1,"request":")" + other + R"(","leaseId":")" + kHash + R"(","members":4})");
  std::string err =
      R"({"v":1,"request":")" + other + R"(","leaseId":")" + kHash +
      R"(","reason":"not_owner","detail":"the lease belongs to another account","refund":"12"})";
  for (auto t : {MessageType::extendError, MessageType::terminateError, MessageType::clusterError,
                 MessageType::acquireError, MessageType::error}) {
    expectRoundTrip(t, err);
  }
  expectError(MessageType::error,
              R"({"v":1,"request":")" + other + R"(","reason":"sad","detail":"","refund":"0"})",
              Reason::badPayload, "'reason': unknown reason");
  expectError(MessageType::error,
              R"({"v":1,"request":")" + other + R"(","reason":"underpaid","detail":"","refund":"-1"})",
              Reason::badPayload, "'refund'");
  expectRoundTrip(MessageType::expired, R"({"v":1,"leaseId":")" + kHash + R"(","expiredAt":1700000000})");
  expectError(MessageType::expired, R"({"v":1,"leaseId":")" + kHash + R"(","expiredAt":9007199254740992})",
              Reason::badPayload, "'expiredAt': out of bounds");
}

TEST(PayloadTest, HostAnnouncement) {
  std::string json = R"({"v":1,"version":"0.1.0","key":")" + kKey +
                     R"(","host":"host.example.com","instances":4,"free":3,"cpuMillis":1000,"memoryMiB":512,)"
                     R"("swapMiB":0,"diskMiB":1024,"price":"1000","momentSeconds":3600,"maxMoments":720,)"
                     R"("images":["hotpocket"],"heartbeatSeconds":600,"time":1700000000})";
  expectRoundTrip(MessageType::host, json);
  auto h = parseHostAnnouncement(json);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->free, 3u);
  std::string overFree = json;
  overFree.replace(overFree.find("\"free\":3"), 8, "\"free\":5");
  expectError(MessageType::host, overFree, Reason::badPayload, "'free': out of bounds");
  std::string zeroPrice = json;
  zeroPrice.replace(zeroPrice.find("\"price\":\"1000\""), 14, "\"price\":\"0\"");
  expectError(MessageType::host, zeroPrice, Reason::badPayload, "'price'");
}

TEST(PayloadTest, LargestRepliesFitTheirLimits) {
  AcquireOk ok;
  ok.instance.host = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                     std::string(61, 'd');
  ASSERT_TRUE(validateHost(ok.instance.host).ok());
  ok.instance.userPort = ok.instance.peerPort = 65535;
  ok.instance.ports = {65535, 65535, 65535, 65535};
  ok.moments = ok.momentSeconds = ok.expiry = kMaxJsonInteger;
  ok.price = ok.refund = kMaxDrops;
  EXPECT_LE(renderPayload(ok).size(), payloadLimit(MessageType::acquireOk));

  ErrorReply e;
  e.leaseId = crypto::Hash256{};
  e.reason = Reason::configOutOfBounds;
  e.detail = std::string(kMaxDetailBytes, '"');  // worst case: every character escaped
  e.refund = kMaxDrops;
  EXPECT_LE(renderPayload(e).size(), payloadLimit(MessageType::acquireError));

  HostAnnouncement h;
  h.version = std::string(32, '1');
  h.host = ok.instance.host;
  h.instances = h.free = h.cpuMillis = h.memoryMiB = h.swapMiB = h.diskMiB = kMaxJsonInteger;
  h.momentSeconds = h.maxMoments = h.heartbeatSeconds = h.time = kMaxJsonInteger;
  h.price = kMaxDrops;
  // With the longest host name and every number at its maximum, four 32-character image names
  // still fit; a longer list may not, and the builder refuses it (the host checks at start-up).
  for (int i = 0; i < 4; ++i) h.images.push_back(std::string(31, 'a') + std::to_string(i));
  EXPECT_LE(renderPayload(h).size(), payloadLimit(MessageType::host)) << renderPayload(h).size();
  for (int i = 4; i < 8; ++i) h.images.push_back(std::string(63, 'a') + std::to_string(i));
  EXPECT_GT(renderPayload(h).size(), payloadLimit(MessageType::host));
  auto memo = buildMemo(MessageType::host, h, std::nullopt);
  ASSERT_FALSE(memo.ok());
  EXPECT_NE(memo.error().message.find("exceeds the limit"), std::string::npos);
}

TEST(PayloadTest, ErrorDetailIsEscapedAndRoundTrips) {
  ErrorReply e;
  e.detail = "a \"quoted\" \\ detail";
  std::string json = renderPayload(e);
  auto back = parsePayload(MessageType::error, json);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(std::get<ErrorReply>(*back), e);
}

}  // namespace
}  // namespace sashimono::protocol

namespace sashimono::protocol {
namespace {

// The fuzz seed corpus doubles as a set of valid examples (docs/PROTOCOL.md): byte 0 selects
// the type, the rest is the payload.
TEST(PayloadTest, FuzzSeedsAreValidExamples) {
  const std::string dir = std::string(SASHIMONO_SOURCE_DIR) + "/tests/fuzz/corpus/ProtocolPayloadFuzz/";
  int checked = 0;
  for (int t = 0; t < 15; ++t) {
    char name[32];
    std::snprintf(name, sizeof name, "seed-%02d.bin", t);
    std::FILE* f = std::fopen((dir + name).c_str(), "rb");
    if (f == nullptr) continue;
    std::string bytes;
    char buf[1024];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) bytes.append(buf, n);
    std::fclose(f);
    ASSERT_FALSE(bytes.empty());
    MessageType type = kAllMessageTypes[static_cast<unsigned char>(bytes[0]) % std::size(kAllMessageTypes)];
    auto r = parsePayload(type, std::string_view(bytes).substr(1));
    EXPECT_TRUE(r.ok()) << name << ": " << r.error().message;
    ++checked;
  }
  EXPECT_GE(checked, 12);
}

}  // namespace
}  // namespace sashimono::protocol
