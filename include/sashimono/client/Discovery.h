#pragma once
// Host discovery (docs/PROTOCOL.md §12): `sashimono.host` announcements in an account's history,
// the latest per host, and whether a host is live. Pure functions over board transactions, which
// are decoded and verified here (no board node is trusted). Thread-safe.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sashimono/board/Responses.h"
#include "sashimono/ledger/DecodedTx.h"
#include "sashimono/protocol/Envelope.h"
#include "sashimono/protocol/MessageType.h"
#include "sashimono/protocol/Messages.h"

namespace sashimono::client {

// Announcements dated later than now + this are ignored (§12): a host's `time` is its own claim.
inline constexpr std::uint64_t kMaxFutureSeconds = 300;
// The staleness limit of a host that names no heartbeat.
inline constexpr std::uint64_t kDefaultStaleSeconds = 3600;

struct Announcement {
  std::string account;  // the announcing host's r-address
  protocol::HostAnnouncement a;
  std::uint32_t ledger = 0;  // the validated ledger holding it
};

// The sashimono memos of one transaction, with their types (other memos are skipped).
[[nodiscard]] std::vector<std::pair<protocol::MessageType, protocol::Memo>> sashimonoMemos(
    const ledger::DecodedTx& tx);

// The latest announcement per sending account among successful, correctly signed `txs`
// (optionally only those sent by `onlyFrom`), keyed by r-address. Later `time` wins; a tie goes
// to the later transaction.
[[nodiscard]] std::map<std::string, Announcement> announcements(const std::vector<board::BoardTx>& txs,
                                                                const std::optional<std::string>& onlyFrom);

struct Liveness {
  std::uint64_t ageSeconds = 0;    // now - time (0 when time is ahead)
  std::uint64_t staleSeconds = 0;  // the limit applied
  bool future = false;             // dated more than kMaxFutureSeconds ahead
  [[nodiscard]] bool live() const { return !future && ageSeconds <= staleSeconds; }
};

// A host is live when its announcement is no older than `staleSeconds` (default: 3 heartbeats,
// or kDefaultStaleSeconds without one) and not dated in the future.
[[nodiscard]] Liveness liveness(const protocol::HostAnnouncement& a, std::uint64_t now,
                                std::optional<std::uint64_t> staleSeconds = std::nullopt);

}  // namespace sashimono::client
