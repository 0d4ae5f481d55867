#include "sashimono/devnet/Chain.h"

#include <array>
#include <chrono>
#include <ctime>
#include <stdexcept>

#include "sashimono/ledger/ShaMap.h"

namespace sashimono::devnet {

crypto::Hash256 accountRootIndex(const crypto::AccountId& id) {
  std::array<std::uint8_t, 2> space{0x00, 0x61};
  return crypto::sha512Half({core::ByteView(space), core::ByteView(id)});
}

crypto::Hash256 txTreeRoot(const std::vector<AppliedTx>& txs) {
  std::vector<ledger::ShaMapItem> items;
  items.reserve(txs.size());
  for (const auto& t : txs) items.push_back({t.hash, ledger::txLeafHash(t.hash, t.blob, t.meta)});
  auto root = ledger::shaMapRoot(items);
  // The engine never applies a transaction twice (tefALREADY), so the keys are distinct.
  if (!root.ok()) throw std::logic_error("devnet transaction tree: " + root.error().message);
  return *root;
}

namespace {
std::tm utc(std::uint32_t rippleSeconds) {
  std::time_t t = static_cast<std::time_t>(rippleSeconds) + kRippleEpochOffset;
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}
}  // namespace

std::string closeTimeIso(std::uint32_t rippleSeconds) {
  std::tm tm = utc(rippleSeconds);
  char buf[32];
  (void)std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string closeTimeHuman(std::uint32_t rippleSeconds) {
  std::tm tm = utc(rippleSeconds);
  char buf[48];
  (void)std::strftime(buf, sizeof buf, "%Y-%b-%d %H:%M:%S.000000000 UTC", &tm);
  return buf;
}

std::uint32_t rippleNow() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto s = std::chrono::duration_cast<std::chrono::seconds>(now).count();
  return static_cast<std::uint32_t>(s - kRippleEpochOffset);
}

}  // namespace sashimono::devnet
