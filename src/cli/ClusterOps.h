#pragma once
// The pieces `sashimono cluster` (ClusterCommand.cpp, ClusterCreate.cpp, ClusterChange.cpp) is
// made of: its options, a session as the wallet, picking hosts, and the batches of lease requests
// (acquire, membership, extend, terminate) over LeaseRequests.h. docs/CLUSTER-CLI.md.
#include <chrono>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "ClientOptions.h"
#include "ClusterDescription.h"
#include "ClusterMembers.h"
#include "LeaseRequests.h"
#include "sashimono/runtime/InstanceKey.h"

namespace sashimono::cli {

struct ClusterOptions {
  ClientOptions board;  // --board, --wallet, --reply-seed-file, --ca-file, --registry, --timeout, --json…
  std::uint64_t size = 0;
  std::vector<std::string> hosts;  // --host, repeatable
  std::string bundle;
  std::string image = "hotpocket";
  std::string contractId;
  std::uint64_t moments = 1;
  std::string out;
  std::string cluster;
  std::string lease;
  bool keep = false;
};

inline constexpr std::chrono::seconds kReplyWait{120};     // a batch of lease replies
inline constexpr std::chrono::seconds kInstanceWait{60};   // members converging; a deploy's round
inline constexpr std::chrono::seconds kStatusTimeout{10};  // `status`: a connection, an answer

// The wallet's reply key (the instances' owner) as a user key of the user protocol.
[[nodiscard]] runtime::InstanceKey ownerUserKey(const client::Wallet& wallet);

// The wallet, its board session (watching its account) and a lease client over both.
class ClusterSession {
 public:
  static core::Result<std::unique_ptr<ClusterSession>> open(const ClusterOptions& o);
  ~ClusterSession();
  ClusterSession(const ClusterSession&) = delete;
  ClusterSession& operator=(const ClusterSession&) = delete;

  [[nodiscard]] const client::Wallet& wallet() const { return wallet_; }
  [[nodiscard]] client::BoardSession& board() { return *board_; }
  [[nodiscard]] client::LeaseClient& leases() { return *leases_; }
  // The instances' owner key: the wallet's reply key, as a user key of the user protocol.
  [[nodiscard]] runtime::InstanceKey ownerKey() const;
  // "ED…" of the owner key.
  [[nodiscard]] std::string owner() const;

 private:
  explicit ClusterSession(client::Wallet w) : wallet_(std::move(w)) {}
  client::Wallet wallet_;
  std::unique_ptr<client::BoardSession> board_;
  std::unique_ptr<client::LeaseClient> leases_;
};

// `count` live hosts of `registry` with a free slot that offer `image`, not in `exclude`
// (r-addresses): the freshest announcements first (then the later ledger, then the address).
[[nodiscard]] core::Result<std::vector<client::Announcement>> pickHosts(
    client::BoardSession& board, const std::string& registry, std::size_t count, const std::string& image,
    const std::vector<std::string>& exclude, std::optional<std::uint64_t> staleSeconds);

// `--timeout`, or the fallback.
[[nodiscard]] std::chrono::seconds waitOf(const ClusterOptions& o, std::chrono::seconds fallback);

// One acquire per host; the outcome per host, in order.
[[nodiscard]] std::vector<RequestOutcome> acquireOn(ClusterSession& s,
                                                    const std::vector<client::Announcement>& hosts,
                                                    const ClusterOptions& o, const std::string& contractId);
// A member from its host's acquire.ok reply.
[[nodiscard]] ClusterMemberInfo memberOf(const client::Announcement& host, const protocol::AcquireOk& ok);

// Hands each of `targets` (indices into c.members) the whole membership of `c`
// (sashimono.cluster replace, then adds if it does not fit one message), plus any `extra` requests
// in the same batch. Returns per target the first failure, or empty; extra outcomes in `extraOut`.
[[nodiscard]] std::vector<std::string> sendMembership(ClusterSession& s, const ClusterDescription& c,
                                                      const std::vector<std::size_t>& targets,
                                                      const ClusterOptions& o,
                                                      const std::vector<HostRequest>& extra = {},
                                                      std::vector<RequestOutcome>* extraOut = nullptr);

// One extend or terminate request per member of `members`; outcomes in order.
[[nodiscard]] std::vector<RequestOutcome> leaseRequestsFor(ClusterSession& s,
                                                           const std::vector<ClusterMemberInfo>& members,
                                                           client::RequestKind kind, const ClusterOptions& o);
// A terminate (or extend) request for one member, to batch with others.
[[nodiscard]] core::Result<HostRequest> leaseRequestFor(ClusterSession& s, const ClusterMemberInfo& m,
                                                        client::RequestKind kind, const ClusterOptions& o);

// "lease 1A2B3C4D at rHOST (wss://…)": a member in messages.
[[nodiscard]] std::string memberName(const ClusterMemberInfo& m);

// Reads --cluster FILE and checks that the wallet owns it. Errors say which.
[[nodiscard]] core::Result<ClusterDescription> loadOwnCluster(const ClusterOptions& o,
                                                              const ClusterSession& s);

// Prints the members (text) or the description (--json) on stdout.
void printCluster(const ClusterDescription& c, const std::string& file, bool json);

// Waits until every member of `links` reports exactly `unl` as its UNL; the error names the
// members that do not (unreachable, or the size of the UNL they report).
[[nodiscard]] core::Status waitForUnl(MemberLinks& links, const std::vector<runtime::PubKey>& unl,
                                      std::chrono::seconds timeout);

int clusterCreate(const ClusterOptions& o);
int clusterAdd(const ClusterOptions& o);
int clusterRemove(const ClusterOptions& o);

}  // namespace sashimono::cli
