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

TEST(HostConfigReloadTest, FeeLimitsAreReadBoundedAndDefaulted) {
  auto c = parseHostConfig(example(), "host.json");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->fees, (FeeLimits{1000, 1000}));
  auto raised =
      parseHostConfig(withField(example(), "\"maxDrops\": 1000", "\"maxDrops\": 25000"), "host.json");
  ASSERT_TRUE(raised.ok()) << raised.error().message;
  EXPECT_EQ(raised->fees.maxDrops, 25000u);
  auto back = parseHostConfig(renderHostConfig(*raised), "host.json");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->fees, raised->fees);
  for (const char* bad : {"\"maxDrops\": 9", "\"maxDrops\": 100000001", "\"maxDrops\": \"1000\""}) {
    auto r = parseHostConfig(withField(example(), "\"maxDrops\": 1000", bad), "host.json");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("fees.maxDrops"), std::string::npos) << r.error().message;
  }
  auto off = parseHostConfig(withField(example(), "\"lowBalanceReplies\": 1000", "\"lowBalanceReplies\": 0"),
                             "host.json");
  ASSERT_TRUE(off.ok()) << off.error().message;
  EXPECT_EQ(off->fees.lowBalanceReplies, 0u);
  // A file without the section (written before it existed) takes the defaults.
  auto old = parseHostConfig(withField(example(), "\"fees\":", "\"feesOfAnotherTime\":"), "host.json");
  ASSERT_TRUE(old.ok()) << old.error().message;
  EXPECT_EQ(old->fees, FeeLimits{});
}

TEST(HostConfigReloadTest, OnlyTheOfferLogLevelAndFeesChangeWithoutARestart) {
  auto a = parseHostConfig(example(), "host.json");
  ASSERT_TRUE(a.ok());
  HostConfig b = *a;
  b.offer.pricePerMoment = 5;
  b.offer.instances = 9;
  b.offer.size.memoryMiB = 1024;
  b.logLevel = "debug";
  b.fees = FeeLimits{5000, 10};
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
