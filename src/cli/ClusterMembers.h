#pragma once
// Talking to the members of a cluster over Hot Pocket's user protocol (runtime::UserClient), as
// `sashimono cluster` needs it: what each member reports (its last closed ledger and its UNL),
// waiting until the reports satisfy a condition, and whether the members agree.
//
// Not thread-safe: one thread drives a MemberLinks (connections are opened in parallel inside).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ClusterDescription.h"
#include "sashimono/runtime/InstanceKey.h"
#include "sashimono/runtime/UserClient.h"

namespace sashimono::cli {

// What one member reports (`stat`).
struct MemberReport {
  bool reachable = false;
  std::string error;  // why not
  std::uint64_t seq = 0;
  runtime::Hash hash{};
  std::vector<runtime::PubKey> unl;  // its current UNL, sorted

  // Its UNL is exactly `keys` (in any order).
  [[nodiscard]] bool unlIs(std::vector<runtime::PubKey> keys) const;
};

class MemberLinks {
 public:
  // Talks to `members` as `user` (the owner key, for deploys and UNL changes); `timeout` bounds a
  // connection and each answer. Each member must present its instance key.
  MemberLinks(std::vector<ClusterMemberInfo> members, const runtime::InstanceKey& user,
              std::chrono::milliseconds timeout);

  [[nodiscard]] std::size_t size() const { return members_.size(); }
  [[nodiscard]] const ClusterMemberInfo& member(std::size_t i) const { return members_[i]; }

  // Every member's report: the members not connected are connected first (in parallel); a link
  // that fails is dropped (and tried again next time).
  [[nodiscard]] std::vector<MemberReport> reportAll();
  // Member i's client, connected if needed.
  [[nodiscard]] core::Result<runtime::UserClient*> client(std::size_t i);
  // The hash of ledger `seq` on member i.
  [[nodiscard]] core::Result<runtime::Hash> ledgerHash(std::size_t i, std::uint64_t seq);

  // Asks reportAll() every 250 ms until `done(reports)` holds or `timeout` has passed; true when
  // it held. `last` gets the last reports.
  bool waitFor(const std::function<bool(const std::vector<MemberReport>&)>& done,
               std::chrono::milliseconds timeout, std::vector<MemberReport>& last);

 private:
  std::vector<ClusterMemberInfo> members_;
  runtime::InstanceKey user_;
  std::chrono::milliseconds timeout_;
  std::vector<std::unique_ptr<runtime::UserClient>> clients_;
};

// A member's instance key in the runtime's form (0xED ‖ key).
[[nodiscard]] runtime::PubKey runtimeKey(const protocol::Ed25519Key& k);
// The instance keys of `members`.
[[nodiscard]] std::vector<runtime::PubKey> runtimeKeys(const std::vector<ClusterMemberInfo>& members);

// Whether the members agree (docs/CLUSTER-CLI.md, `cluster status`): the reference is the highest
// ledger a majority of all members (⌊n/2⌋ + 1) has reached, and the hash a majority holds for it.
struct Agreement {
  std::optional<std::uint64_t> seq;   // the reference ledger; none: a majority is unreachable
  std::optional<runtime::Hash> hash;  // its majority hash; none: no hash has a majority
  std::size_t holders = 0;            // members holding that hash at that ledger
  // Per member: "agrees" (the majority hash at the reference ledger), "behind" (an earlier ledger of
  // the same chain), "disagrees" (another hash), "unreachable", or "unknown" (no reference, or its
  // ledger could not be read).
  std::vector<std::string> states;
  [[nodiscard]] bool allAgree() const;
};

// Decides from `reports` (reportAll's), reading from members the hashes of ledgers they passed.
[[nodiscard]] Agreement agreement(MemberLinks& links, const std::vector<MemberReport>& reports);

}  // namespace sashimono::cli
