#include "sashimono/statefs/OwnerMap.h"

#include <cerrno>
#include <charconv>
#include <cstdint>

namespace sashimono::statefs {

void OwnerMap::present(struct stat& st) const {
  if (st.st_uid == daemonUid) st.st_uid = uid;
  if (st.st_gid == daemonGid) st.st_gid = gid;
}

int OwnerMap::chown(uid_t& u, gid_t& g) const {
  const auto keepU = static_cast<uid_t>(-1);
  const auto keepG = static_cast<gid_t>(-1);
  if ((u != keepU && u != uid) || (g != keepG && g != gid)) return -EPERM;
  u = keepU;
  g = keepG;
  return 0;
}

std::optional<std::pair<uid_t, gid_t>> parseOwner(std::string_view text) {
  auto number = [](std::string_view s) -> std::optional<std::uint32_t> {
    std::uint32_t v = 0;
    if (s.empty() || s.size() > 10) return std::nullopt;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v == UINT32_MAX) return std::nullopt;
    return v;
  };
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto u = number(text.substr(0, colon));
  auto g = number(text.substr(colon + 1));
  if (!u || !g) return std::nullopt;
  return std::make_pair(static_cast<uid_t>(*u), static_cast<gid_t>(*g));
}

}  // namespace sashimono::statefs
