// Validators of tenant-supplied strings (Validate.h).
#include <gtest/gtest.h>

#include "sashimono/host/Validate.h"

namespace sashimono::host {
namespace {

TEST(Validate, TenantNames) {
  for (auto ok : {"a", "abc-12", "t0", "abcdefghijklmnopqrst"})
    EXPECT_TRUE(validateTenantName(ok).ok()) << ok;
  for (auto bad : {"", "A", "1a", "-a", "a-", "a_b", "a b", "a/b", "a.b", "abcdefghijklmnopqrstu", "a\n"})
    EXPECT_FALSE(validateTenantName(bad).ok()) << bad;
  EXPECT_EQ(validateTenantName("Bad").error().message,
            "invalid tenant name 'Bad': must start with a lower-case letter");
}

TEST(Validate, ImagesEnvArgsPrefixes) {
  EXPECT_TRUE(validateImageName("instance").ok());
  EXPECT_TRUE(validateImageName("hp-1.2_x").ok());
  for (auto bad : {"", ".x", "..", "a..b", "a/b", "A", "x y"})
    EXPECT_FALSE(validateImageName(bad).ok()) << bad;
  EXPECT_TRUE(validateEnvEntry("KEY=some value").ok());
  EXPECT_TRUE(validateEnvEntry("K_1=").ok());
  for (auto bad : {"KEY", "=v", "key=v", "1K=v", "K=\x01", "K-1=v"})
    EXPECT_FALSE(validateEnvEntry(bad).ok()) << bad;
  EXPECT_TRUE(validateArgument("--port=8080").ok());
  EXPECT_FALSE(validateArgument("").ok());
  EXPECT_FALSE(validateArgument(std::string("a\0b", 3)).ok());
  EXPECT_TRUE(validateUserPrefix("sashi-").ok());
  EXPECT_FALSE(validateUserPrefix("Sashi").ok());
  EXPECT_FALSE(validateUserPrefix("waytoolongprefix").ok());
}

}  // namespace
}  // namespace sashimono::host
