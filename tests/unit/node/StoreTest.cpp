#include <gtest/gtest.h>

#include <sys/stat.h>
#include <ctime>
#include <fstream>

#include <rapidjson/document.h>
#include "fakes/node/NodeHarness.h"
#include "sashimono/node/HostConfig.h"
#include "sashimono/node/HostProvisionerPort.h"
#include "sashimono/node/LeaseCodec.h"
#include "sashimono/protocol/Patterns.h"

namespace sashimono::node {
namespace {

TEST(LeaseCodecTest, RoundTripsEveryField) {
  lease::Lease l;
  l.id = crypto::Hash256{1, 2};
  l.owner = crypto::AccountId{3};
  l.replyKey = protocol::Ed25519Key{4};
  l.request = fakes::acquireRequest();
  l.request.config.env.push_back({"FOO", "bar baz"});
  l.paid = 2500;
  l.pricePerMoment = 1000;
  l.momentSeconds = 3600;
  l.initialMoments = 2;
  l.moments = 3;
  l.acceptedAt = 10;
  l.startedAt = 11;
  l.expiresAt = 12;
  l.instance =
      protocol::InstanceInfo{protocol::Ed25519Key{5}, "host.example.com", 26000, 22000, {36000, 36001}};
  l.cluster.push_back({protocol::Ed25519Key{6}, "10.0.0.1:22000"});
  l.state = lease::LeaseState::ending;
  l.endCause = lease::EndCause::terminated;
  l.endRequest = crypto::Hash256{7};
  l.endReplyKey = protocol::Ed25519Key{8};
  l.endMoments = 1;
  l.endRefund = 1001;
  l.endDetail = "why";
  auto back = parseLease(renderLease(l));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, l);
  EXPECT_FALSE(parseLease("{}").ok());
}

TEST(NodeStoreTest, RequestStatesCursorAndReopen) {
  fakes::TempDir dir;
  const std::string path = dir.path() + "/s.sqlite";
  {
    auto s = NodeStore::open(path);
    ASSERT_TRUE(s.ok()) << s.error().message;
    DecisionRecord d;
    d.request = RequestRow{};
    d.request->hash = crypto::Hash256{1};
    d.request->ledger = 5;
    d.request->blob = {1, 2, 3};
    d.request->result = "tesSUCCESS";
    d.request->verdict = "ignored: x";
    ASSERT_TRUE(s->commitDecision(d).ok());
    ASSERT_TRUE(s->commitDecision(d).ok());  // idempotent
    EXPECT_EQ(**s->requestState(crypto::Hash256{1}), RequestState::decided);
    EXPECT_TRUE(s->unfinishedRequests()->empty());
    EXPECT_EQ(s->handledRequests()->size(), 1u);
    ASSERT_TRUE(s->setCursor(5).ok());
  }
  auto s = NodeStore::open(path);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(**s->cursor(), 5u);
  EXPECT_EQ(**s->requestState(crypto::Hash256{1}), RequestState::decided);
  ASSERT_EQ(s->requests()->size(), 1u);
  EXPECT_EQ(s->requests()->front().blob, (core::Bytes{1, 2, 3}));
  EXPECT_FALSE(s->requestState(crypto::Hash256{2})->has_value());
}

// A store of schema version 1 (request states seen → verified → decided → done) opens with the
// states named after the request path's stages; what it admitted but did not decide is still
// handed back for the node to decide.
TEST(NodeStoreTest, MigratesRequestStatesOfVersion1) {
  fakes::TempDir dir;
  const std::string path = dir.path() + "/s.sqlite";
  const std::string zeros(62, '0');
  {
    auto s = NodeStore::open(path);
    ASSERT_TRUE(s.ok()) << s.error().message;
    ASSERT_TRUE(s->database()
                    .exec("INSERT INTO requests (hash, state, ledger, blob, meta, result) VALUES "
                          "(x'01" +
                          zeros +
                          "', 'seen', 3, x'0102', x'', 'tesSUCCESS'), "
                          "(x'02" +
                          zeros +
                          "', 'verified', 4, x'03', x'', 'tesSUCCESS'), "
                          "(x'03" +
                          zeros +
                          "', 'decided', 4, x'', x'', 'tesSUCCESS'), "
                          "(x'04" +
                          zeros +
                          "', 'done', 2, x'', x'', 'tesSUCCESS'); "
                          "ALTER TABLE outbox DROP COLUMN created_at; PRAGMA user_version=1")
                    .ok());
  }
  auto s = NodeStore::open(path);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(**s->requestState(crypto::Hash256{1}), RequestState::admitted);
  EXPECT_EQ(**s->requestState(crypto::Hash256{2}), RequestState::admitted);
  EXPECT_EQ(**s->requestState(crypto::Hash256{3}), RequestState::decided);
  EXPECT_EQ(**s->requestState(crypto::Hash256{4}), RequestState::replied);
  auto unfinished = s->unfinishedRequests();
  ASSERT_TRUE(unfinished.ok());
  ASSERT_EQ(unfinished->size(), 2u);
  EXPECT_EQ(unfinished->front().blob, (core::Bytes{1, 2}));
  EXPECT_EQ(s->handledRequests()->size(), 2u);
}

// The upgrade path of the outbox: a store of the previous release (schema version 2, no
// created_at) with replies owed opens with every entry kept and dated from the migration; a reader
// (host status) does not migrate and says so.
TEST(NodeStoreTest, MigratesAnOutboxOfVersion2) {
  fakes::TempDir dir;
  const std::string path = dir.path() + "/s.sqlite";
  {
    auto s = NodeStore::open(path);
    ASSERT_TRUE(s.ok()) << s.error().message;
    DecisionRecord d;
    for (std::uint8_t i = 1; i <= 2; ++i) {
      OutboxEntry e;
      e.answers = crypto::Hash256{i};
      e.type = protocol::MessageType::acquireError;
      e.payload = "{\"reason\":\"price\"}";
      e.amount = ledger::Amount{.drops = 1000u * i};
      d.outbox.push_back(e);
    }
    ASSERT_TRUE(s->commitDecision(d).ok());
    ASSERT_TRUE(s->setCursor(9).ok());
    ASSERT_TRUE(s->database().exec("ALTER TABLE outbox DROP COLUMN created_at; PRAGMA user_version=2").ok());
  }
  auto reader = NodeStore::open(path, true);
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.error().message.find("schema version 2"), std::string::npos) << reader.error().message;
  const auto before = std::time(nullptr);
  auto s = NodeStore::open(path);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(**s->cursor(), 9u);
  auto out = s->outbox();
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[1].amount.drops, 2000u);
  EXPECT_GE((*out)[0].createdAt, before);
  auto sum = s->outboxSummary();
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->open, 2u);
  EXPECT_EQ(sum->oldestAt, (*out)[0].createdAt);
  EXPECT_TRUE(NodeStore::open(path, true).ok());
}

std::string exampleConfig() {
  std::ifstream in(std::string(SASHIMONO_SOURCE_DIR) + "/config/host.example.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(HostConfigTest, ReadsTheExampleAndRoundTrips) {
  auto c = parseHostConfig(exampleConfig(), "/etc/sashimono/host.json");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->boardUrls.size(), 1u);
  EXPECT_EQ(c->offer.instances, 4u);
  EXPECT_EQ(c->offer.pricePerMoment, 1000u);
  EXPECT_EQ(c->policy.allowedImages, (std::vector<std::string>{"hotpocket", "instance"}));
  EXPECT_EQ(c->runtime, RuntimeCeilings{});
  EXPECT_EQ(c->imagesDir, "/var/lib/sashimono/images");
  EXPECT_EQ(c->bindAddress, "0.0.0.0");
  EXPECT_EQ(c->userPorts.first, 26000);
  EXPECT_EQ(c->heartbeatSeconds, 600u);
  auto again = parseHostConfig(renderHostConfig(*c), "/etc/sashimono/host.json");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->offer, c->offer);
  EXPECT_EQ(again->seedFile, c->seedFile);
  EXPECT_EQ(again->imagesDir, c->imagesDir);
  EXPECT_EQ(again->bindAddress, c->bindAddress);
  EXPECT_EQ(again->runtime, c->runtime);
}

TEST(HostConfigTest, RefusesABindAddressThatIsNotIPv4) {
  std::string text = exampleConfig();
  text.replace(text.find("\"bindAddress\": \"0.0.0.0\""), 26, "\"bindAddress\": \"example.com\"");
  auto c = parseHostConfig(text, "host.json");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("ports.bindAddress"), std::string::npos) << c.error().message;
}

TEST(HostConfigTest, ErrorsNameFileAndField) {
  std::string text = exampleConfig();
  text.replace(text.find("\"pricePerMoment\": 1000"), 22, "\"pricePerMoment\": 0");
  auto c = parseHostConfig(text, "host.json");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("host.json"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("pricePerMoment"), std::string::npos) << c.error().message;
  std::string t2 = exampleConfig();
  t2.replace(t2.find("ws://127.0.0.1:6006"), 19, "http://x");
  auto c2 = parseHostConfig(t2, "host.json");
  ASSERT_FALSE(c2.ok());
  EXPECT_NE(c2.error().message.find("urls"), std::string::npos) << c2.error().message;
}

TEST(HostConfigTest, SeedFileIsPrivate) {
  fakes::TempDir dir;
  const std::string path = dir.path() + "/host.seed";
  auto seed = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  ASSERT_TRUE(writeSeedFile(path, seed).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*readSeedFile(path), seed);
  EXPECT_FALSE(writeSeedFile(path, seed).ok());  // never overwritten
  ::chmod(path.c_str(), 0644);
  EXPECT_FALSE(readSeedFile(path).ok());
}

}  // namespace
}  // namespace sashimono::node

#include "sashimono/node/BoardClientPort.h"

namespace sashimono::node {
namespace {

TEST(BoardClientPortTest, CompleteLedgersCoverage) {
  EXPECT_TRUE(ledgersCover("1-100", 5, 100));
  EXPECT_TRUE(ledgersCover("1-3,7-100", 7, 50));
  EXPECT_FALSE(ledgersCover("1-3,7-100", 3, 8));
  EXPECT_FALSE(ledgersCover("empty", 1, 1));
  EXPECT_TRUE(ledgersCover("42", 42, 42));
  EXPECT_FALSE(ledgersCover("x-y", 1, 1));
  EXPECT_FALSE(ledgersCover("", 1, 1));
}

}  // namespace
}  // namespace sashimono::node

namespace sashimono::node {
namespace {

TEST(ClusterFileTest, ListsTheLeaseAndEveryMemberInOrder) {
  crypto::Hash256 id{};
  id[0] = 0xAB;
  protocol::ClusterMember a{};
  a.pubkey[0] = 1;
  a.peer = "10.0.0.1:22000";
  protocol::ClusterMember b{};
  b.pubkey[31] = 2;
  b.peer = "peer.example.com:22001";
  const std::string text = renderClusterFile(id, {a, b});
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(text.c_str());
  ASSERT_TRUE(d.IsObject()) << text;
  EXPECT_EQ(std::string(d["lease"].GetString()), core::toHex(id));
  ASSERT_EQ(d["members"].Size(), 2u);
  EXPECT_EQ(std::string(d["members"][0]["key"].GetString()), protocol::formatEd25519Key(a.pubkey));
  EXPECT_EQ(std::string(d["members"][1]["peer"].GetString()), "peer.example.com:22001");
  EXPECT_EQ(renderClusterFile(id, {}), "{\"lease\":\"" + core::toHex(id) + "\",\"members\":[]}\n");
}

}  // namespace
}  // namespace sashimono::node
