// The parts of the host configuration that a running node reloads (SIGHUP) or serves (metrics).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "sashimono/node/HostConfig.h"

namespace sashimono::node {
namespace {

std::string example() {
  std::ifstream in(std::string(SASHIMONO_SOURCE_DIR) + "/config/host.example.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string withField(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(HostConfigReloadTest, MetricsAddressDefaultsToLoopbackAndIsChecked) {
  auto c = parseHostConfig(example(), "host.json");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->metricsAddress, "127.0.0.1:9470");
  auto off = parseHostConfig(withField(example(), "\"address\": \"127.0.0.1:9470\"", "\"address\": \"\""),
                             "host.json");
  ASSERT_TRUE(off.ok()) << off.error().message;
  EXPECT_EQ(off->metricsAddress, "");
  auto v6 = parseHostConfig(
      withField(example(), "\"address\": \"127.0.0.1:9470\"", "\"address\": \"[::1]:9100\""), "host.json");
  ASSERT_TRUE(v6.ok()) << v6.error().message;
  EXPECT_EQ(renderHostConfig(*v6).find("[::1]:9100") != std::string::npos, true);
  auto back = parseHostConfig(renderHostConfig(*v6), "host.json");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->metricsAddress, "[::1]:9100");
  auto bad = parseHostConfig(
      withField(example(), "\"address\": \"127.0.0.1:9470\"", "\"address\": \"localhost:9100\""),
      "host.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("metrics.address"), std::string::npos) << bad.error().message;
}

TEST(HostConfigReloadTest, HealSettingsAreReadAndBounded) {
  auto c =
      parseHostConfig(withField(example(), "\"stableSeconds\": 30", "\"stableSeconds\": 5"), "host.json");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->healStableSeconds, 5u);
  EXPECT_EQ(c->healReportAfterSeconds, 60u);
  auto back = parseHostConfig(renderHostConfig(*c), "host.json");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->healStableSeconds, 5u);
  auto bad = parseHostConfig(withField(example(), "\"maxBackoffSeconds\": 60", "\"maxBackoffSeconds\": 0"),
                             "host.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("heal.maxBackoffSeconds"), std::string::npos) << bad.error().message;
}

TEST(HostConfigReloadTest, ALogLevelIsOneSpdlogKnows) {
  auto bad =
      parseHostConfig(withField(example(), "\"logLevel\": \"info\"", "\"logLevel\": \"loud\""), "host.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("logLevel"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("loud"), std::string::npos) << bad.error().message;
}

TEST(HostConfigReloadTest, OnlyTheOfferAndLogLevelChangeWithoutARestart) {
  auto a = parseHostConfig(example(), "host.json");
  ASSERT_TRUE(a.ok());
  HostConfig b = *a;
  b.offer.pricePerMoment = 5;
  b.offer.instances = 9;
  b.offer.size.memoryMiB = 1024;
  b.logLevel = "debug";
  EXPECT_TRUE(fieldsNeedingRestart(*a, b).empty());
  b.boardUrls.push_back("wss://other.example.com");
  b.userPorts.last = 26001;
  b.metricsAddress = "";
  b.policy.allowedImages.pop_back();
  EXPECT_EQ(fieldsNeedingRestart(*a, b),
            (std::vector<std::string>{"board.urls", "ports.user", "tenants", "metrics.address"}));
}

}  // namespace
}  // namespace sashimono::node
