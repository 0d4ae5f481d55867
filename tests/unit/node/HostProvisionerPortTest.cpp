// What the node gives a runtime instance: instance.json and instance.key.
#include "sashimono/node/HostProvisionerPort.h"

#include <gtest/gtest.h>

#include "sashimono/runtime/Config.h"
#include "sashimono/runtime/InstanceKey.h"
#include "sashimono/runtime/UserMessages.h"

namespace sashimono::node {
namespace {

protocol::AcquireRequest request() {
  protocol::AcquireRequest r;
  r.contractId = "3f2b6a1e-0c4d-4e5f-8a9b-1c2d3e4f5a6b";
  r.image = "hotpocket";
  for (std::size_t i = 0; i < r.owner.size(); ++i) r.owner[i] = static_cast<std::uint8_t>(i + 1);
  r.config.roundtimeMs = 2500;
  r.config.logLevel = protocol::LogLevel::debug;
  r.config.env = {{"GREETING", "hello"}, {"MODE", "test"}};
  return r;
}

TEST(HostProvisionerPortTest, InstanceConfigCarriesTheRequestAndTheHostsCeilings) {
  RuntimeCeilings ceilings;
  ceilings.procMemBytes = 128ull << 20;
  const auto req = request();
  auto text = runtime::renderInstanceConfig(instanceConfigFor(req, ceilings));
  auto c = runtime::parseInstanceConfig(text, "instance.json", "/run/sashimono");
  ASSERT_TRUE(c.ok()) << c.error().message << "\n" << text;
  EXPECT_EQ(c->contractId, req.contractId);
  ASSERT_TRUE(c->owner.has_value());
  EXPECT_EQ((*c->owner)[0], 0xED);
  EXPECT_TRUE(std::equal(req.owner.begin(), req.owner.end(), c->owner->begin() + 1));
  EXPECT_EQ(c->keyFile, "/run/sashimono/instance.key");
  EXPECT_EQ(c->user.port, 8080);
  EXPECT_EQ(c->user.tls, "self-signed");
  EXPECT_EQ(c->roundTimeMs, 2500u);
  EXPECT_EQ(c->logLevel, "debug");
  EXPECT_EQ(c->environment,
            (std::vector<std::pair<std::string, std::string>>{{"GREETING", "hello"}, {"MODE", "test"}}));
  EXPECT_EQ(c->roundLimits.execTimeoutMs, 60000u);
  EXPECT_EQ(c->roundLimits.procCount, 256u);
  EXPECT_EQ(c->roundLimits.userOutputBytes, 64ull << 20);
  EXPECT_EQ(c->roundLimits.nplOutputBytes, 16ull << 20);
  EXPECT_EQ(c->roundLimits.procMemBytes, 128ull << 20);
  EXPECT_EQ(c->roundLimits.userInputBytes, 0u);
  ASSERT_TRUE(c->runAs.has_value());
  EXPECT_EQ(c->runAs->first, 1000u);
  EXPECT_EQ(c->runAs->second, 1000u);
  EXPECT_EQ(c->statefsControl, "/run/statefs/statefs.sock");  // the state hash comes from statefs
  EXPECT_EQ(c->statefsViews, "/run/views");                   // read requests read views
}

TEST(HostProvisionerPortTest, InstanceKeyIsHotPocketsPrivateKeyTextOfTheLeasesKey) {
  auto host = crypto::KeyPair::fromSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  ASSERT_TRUE(host.ok());
  crypto::Hash256 lease{};
  lease[0] = 7;
  auto key = instanceKeyFor(*host, lease);
  std::string text = instanceKeyText(key);
  ASSERT_EQ(text.size(), 2u + 128u + 1u);
  EXPECT_EQ(text.substr(0, 2), "ed");
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find_first_not_of("0123456789abcdef", 2), text.size() - 1) << "lower-case hex only";
  auto parsed = runtime::InstanceKey::parse(text.substr(0, text.size() - 1));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  // The runtime's identity is the key the node announces in its reply.
  EXPECT_TRUE(std::equal(key.publicKey().begin(), key.publicKey().end(), parsed->publicKey().begin()));
  // Deterministic per lease, different across leases.
  EXPECT_EQ(instanceKeyText(instanceKeyFor(*host, lease)), text);
  lease[0] = 8;
  EXPECT_NE(instanceKeyText(instanceKeyFor(*host, lease)), text);
}

}  // namespace
}  // namespace sashimono::node
