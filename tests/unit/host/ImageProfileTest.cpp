// ImageProfile: profile names and an image's profile file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "sashimono/host/ImageProfile.h"

namespace sashimono::host {
namespace {

TEST(ImageProfileLogic, ParsesNamesAndReadsTheImagesProfileFile) {
  EXPECT_EQ(*parseProfile(""), ImageProfile::kInstance);
  EXPECT_EQ(*parseProfile("instance"), ImageProfile::kInstance);
  EXPECT_EQ(*parseProfile("runtime\n"), ImageProfile::kRuntime);
  EXPECT_EQ(*parseProfile("  runtime "), ImageProfile::kRuntime);
  EXPECT_FALSE(parseProfile("root").ok());
  EXPECT_FALSE(parseProfile("runtime extra").ok());
  EXPECT_STREQ(profileName(ImageProfile::kRuntime), "runtime");
  EXPECT_STREQ(profileName(ImageProfile::kInstance), "instance");
  auto dir = std::filesystem::temp_directory_path() / ("profile-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "plain");
  std::filesystem::create_directories(dir / "rt");
  std::ofstream(dir / "rt/profile") << "runtime\n";
  EXPECT_EQ(*readImageProfile(dir.string(), "plain"), ImageProfile::kInstance);
  EXPECT_EQ(*readImageProfile(dir.string(), "rt"), ImageProfile::kRuntime);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sashimono::host
