#pragma once
// The live processes of this machine whose command line contains a text: for tests that check a
// contract, a daemon or a tenant left nothing running, or kill what a failed test left.
#include <sys/stat.h>
#include <sys/types.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace sashimono::host::fakes {

// Host pids, ascending, of the processes whose command line (its arguments joined by spaces)
// contains `needle`; with `uid`, only the processes of that user.
inline std::vector<pid_t> processesWith(const std::string& needle, std::optional<uid_t> uid = std::nullopt) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    struct stat st {};
    if (uid && (::stat(it->path().c_str(), &st) != 0 || st.st_uid != *uid)) continue;
    std::ifstream in(it->path() / "cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    if (cmd.find(needle) != std::string::npos) out.push_back(std::stoi(name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sashimono::host::fakes
