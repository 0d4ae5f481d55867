#include "sashimono/host/ImageProfile.h"

#include <cerrno>

namespace sashimono::host {

const char* profileName(ImageProfile p) { return p == ImageProfile::kRuntime ? "runtime" : "instance"; }

core::Result<ImageProfile> parseProfile(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return ImageProfile::kInstance;
  text = text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
  if (text == "instance") return ImageProfile::kInstance;
  if (text == "runtime") return ImageProfile::kRuntime;
  return core::Error("unknown image profile '" + std::string(text.substr(0, 32)) +
                     "' (expected 'runtime' or 'instance')");
}

core::Result<ImageProfile> readImageProfile(FileSystem& fs, const std::string& imagesDir,
                                            const std::string& image) {
  const std::string path = imagesDir + "/" + image + "/profile";
  auto text = fs.readFile(path);
  if (!text) {
    if (text.error().errnum == ENOENT) return ImageProfile::kInstance;
    return text.error();
  }
  auto p = parseProfile(*text);
  if (!p) return p.error().context(path);
  return p;
}

core::Result<ImageProfile> readImageProfile(const std::string& imagesDir, const std::string& image) {
  return readImageProfile(*makeLinuxFileSystem(), imagesDir, image);
}

}  // namespace sashimono::host
