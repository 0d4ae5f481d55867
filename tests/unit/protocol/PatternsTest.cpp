#include "sashimono/protocol/Patterns.h"

#include <gtest/gtest.h>

namespace sashimono::protocol {
namespace {

TEST(PatternsTest, ContractIdIsACanonicalLowerCaseUuid) {
  EXPECT_TRUE(validateContractId("3f2504e0-4f89-41d3-9a0c-0305e82c3301").ok());
  EXPECT_FALSE(validateContractId("3F2504E0-4F89-41D3-9A0C-0305E82C3301").ok());
  EXPECT_FALSE(validateContractId("3f2504e04f8941d39a0c0305e82c3301").ok());
  EXPECT_FALSE(validateContractId("3f2504e0-4f89-41d3-9a0c-0305e82c330").ok());
  EXPECT_FALSE(validateContractId("3f2504e0-4f89-41d3-9a0c-0305e82c330g").ok());
  EXPECT_FALSE(validateContractId("3f2504e0_4f89-41d3-9a0c-0305e82c3301").ok());
  EXPECT_FALSE(validateContractId("").ok());
}

TEST(PatternsTest, ImageNames) {
  EXPECT_TRUE(validateImageName("hotpocket").ok());
  EXPECT_TRUE(validateImageName("hotpocket-0.6.4_ubuntu.22").ok());
  EXPECT_TRUE(validateImageName("0abc").ok());
  EXPECT_TRUE(validateImageName(std::string(64, 'a')).ok());
  EXPECT_FALSE(validateImageName(std::string(65, 'a')).ok());
  EXPECT_FALSE(validateImageName("").ok());
  EXPECT_FALSE(validateImageName("-rf").ok());
  EXPECT_FALSE(validateImageName(".hidden").ok());
  EXPECT_FALSE(validateImageName("a..b").ok());
  EXPECT_FALSE(validateImageName("a/b").ok());
  EXPECT_FALSE(validateImageName("Upper").ok());
  EXPECT_FALSE(validateImageName("repo:tag").ok());
  EXPECT_FALSE(validateImageName("a b").ok());
  EXPECT_FALSE(validateImageName(std::string("a\0b", 3)).ok());
}

TEST(PatternsTest, EnvironmentKeysAndValues) {
  EXPECT_TRUE(validateEnvKey("FOO").ok());
  EXPECT_TRUE(validateEnvKey("_FOO_1").ok());
  EXPECT_TRUE(validateEnvKey(std::string(64, 'A')).ok());
  EXPECT_FALSE(validateEnvKey(std::string(65, 'A')).ok());
  EXPECT_FALSE(validateEnvKey("").ok());
  EXPECT_FALSE(validateEnvKey("1FOO").ok());
  EXPECT_FALSE(validateEnvKey("foo").ok());
  EXPECT_FALSE(validateEnvKey("FOO=BAR").ok());
  EXPECT_FALSE(validateEnvKey("FOO-BAR").ok());
  for (const char* reserved : {"PATH", "HOME", "USER", "SHELL", "LD_PRELOAD", "SASHIMONO_X", "HP_X"}) {
    auto st = validateEnvKey(reserved);
    ASSERT_FALSE(st.ok()) << reserved;
    EXPECT_NE(st.error().message.find("reserved"), std::string::npos);
  }
  EXPECT_TRUE(validateEnvValue("").ok());
  EXPECT_TRUE(validateEnvValue("a b=c;$(rm -rf /)\"'\\").ok());  // safe without a shell
  EXPECT_TRUE(validateEnvValue(std::string(256, 'x')).ok());
  EXPECT_FALSE(validateEnvValue(std::string(257, 'x')).ok());
  EXPECT_FALSE(validateEnvValue("a\nb").ok());
  EXPECT_FALSE(validateEnvValue("tab\there").ok());
  EXPECT_FALSE(validateEnvValue("\x7f").ok());
  EXPECT_FALSE(validateEnvValue("caf\xc3\xa9").ok());
  EXPECT_FALSE(validateEnvValue(std::string("a\0b", 3)).ok());
}

TEST(PatternsTest, HostsAndEndpoints) {
  EXPECT_TRUE(validateHost("example.com").ok());
  EXPECT_TRUE(validateHost("localhost").ok());
  EXPECT_TRUE(validateHost("a-b.c1.example").ok());
  EXPECT_TRUE(validateHost("127.0.0.1").ok());
  EXPECT_TRUE(validateHost("255.255.255.255").ok());
  EXPECT_TRUE(validateHost("[::1]").ok());
  EXPECT_TRUE(validateHost("[2001:db8::1]").ok());
  EXPECT_FALSE(validateHost("").ok());
  EXPECT_FALSE(validateHost("Example.com").ok());
  EXPECT_FALSE(validateHost("-a.com").ok());
  EXPECT_FALSE(validateHost("a-.com").ok());
  EXPECT_FALSE(validateHost("a..com").ok());
  EXPECT_FALSE(validateHost("a.com.").ok());
  EXPECT_FALSE(validateHost("a_b.com").ok());
  EXPECT_FALSE(validateHost("256.1.1.1").ok());
  EXPECT_FALSE(validateHost("01.1.1.1").ok());
  EXPECT_FALSE(validateHost("1.1.1").ok());
  EXPECT_FALSE(validateHost("1.1.1.1.1").ok());
  EXPECT_TRUE(validateHost("1.2.3.com4").ok());
  EXPECT_FALSE(validateHost("1.2.3.4-").ok());
  EXPECT_FALSE(validateHost("123.456").ok());
  EXPECT_TRUE(validateHost("1.2.3.com").ok());
  EXPECT_FALSE(validateHost("::1").ok());
  EXPECT_FALSE(validateHost("[::g]").ok());
  EXPECT_FALSE(validateHost("[]").ok());
  EXPECT_FALSE(validateHost(std::string(64, 'a') + ".com").ok());
  EXPECT_FALSE(validateHost(std::string(250, 'a') + ".com").ok());

  EXPECT_TRUE(validateEndpoint("peer.example.com:22860").ok());
  EXPECT_TRUE(validateEndpoint("10.0.0.1:1").ok());
  EXPECT_TRUE(validateEndpoint("[::1]:65535").ok());
  EXPECT_FALSE(validateEndpoint("10.0.0.1:0").ok());
  EXPECT_FALSE(validateEndpoint("10.0.0.1:65536").ok());
  EXPECT_FALSE(validateEndpoint("10.0.0.1:080").ok());
  EXPECT_FALSE(validateEndpoint("10.0.0.1").ok());
  EXPECT_FALSE(validateEndpoint(":80").ok());
  EXPECT_FALSE(validateEndpoint("::1:80").ok());
  EXPECT_FALSE(validateEndpoint("host:80 ").ok());
}

TEST(PatternsTest, KeysAndHashes) {
  std::string hex(64, 'a');
  auto k = parseEd25519Key("ED" + hex);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ((*k)[0], 0xAA);
  EXPECT_EQ(formatEd25519Key(*k), "ED" + std::string(64, 'A'));
  EXPECT_TRUE(parseEd25519Key("ed" + hex).ok());
  EXPECT_FALSE(parseEd25519Key("EE" + hex).ok());
  EXPECT_FALSE(parseEd25519Key("ED" + hex.substr(1)).ok());
  EXPECT_FALSE(parseEd25519Key("ED" + hex + "a").ok());
  EXPECT_FALSE(parseEd25519Key("ED" + std::string(63, 'a') + "z").ok());
  EXPECT_FALSE(parseEd25519Key("02" + hex).ok());

  auto h = parseHash256(std::string(64, 'f'));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(formatHash256(*h), std::string(64, 'F'));
  EXPECT_FALSE(parseHash256(std::string(63, 'f')).ok());
  EXPECT_FALSE(parseHash256(std::string(64, 'g')).ok());
}

TEST(PatternsTest, DetailsAreSanitized) {
  EXPECT_EQ(sanitizeDetail("ok\nnot\x01"), "ok?not?");
  EXPECT_EQ(sanitizeDetail(std::string(300, 'x')).size(), kMaxDetailBytes);
  EXPECT_TRUE(validateDetail(sanitizeDetail("caf\xc3\xa9\n")).ok());
  EXPECT_FALSE(validateDetail("a\nb").ok());
  EXPECT_FALSE(validateDetail(std::string(201, 'x')).ok());
  EXPECT_TRUE(validateVersionString("0.1.0+dev-3").ok());
  EXPECT_FALSE(validateVersionString("0.1 beta").ok());
  EXPECT_FALSE(validateVersionString("").ok());
}

}  // namespace
}  // namespace sashimono::protocol
