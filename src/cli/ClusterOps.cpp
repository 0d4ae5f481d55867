#include "ClusterOps.h"

#include <sodium.h>

#include <algorithm>
#include <ctime>
#include <iostream>
#include <set>

#include "sashimono/client/Discovery.h"
#include "sashimono/protocol/Patterns.h"

namespace sashimono::cli {

core::Result<std::unique_ptr<ClusterSession>> ClusterSession::open(const ClusterOptions& o) {
  SASHI_TRY_ASSIGN(wallet, loadWallet(o.board));
  std::unique_ptr<ClusterSession> s(new ClusterSession(std::move(wallet)));
  SASHI_TRY_ASSIGN(board, connectBoard(o.board, s->wallet_.account.address()));
  s->board_ = std::move(board);
  s->leases_ = std::make_unique<client::LeaseClient>(*s->board_, s->wallet_);
  return s;
}

ClusterSession::~ClusterSession() {
  if (board_) board_->stop();
}

runtime::InstanceKey ownerUserKey(const client::Wallet& wallet) {
  std::array<std::uint8_t, 32> seed{};
  const auto& secret = wallet.replyKeyPair().ed25519SecretKey();
  std::copy(secret.begin(), secret.begin() + 32, seed.begin());
  auto key = runtime::InstanceKey::fromSeed(seed);
  sodium_memzero(seed.data(), seed.size());
  return key;
}

runtime::InstanceKey ClusterSession::ownerKey() const { return ownerUserKey(wallet_); }

std::string ClusterSession::owner() const { return protocol::formatEd25519Key(wallet_.replyKey()); }

core::Result<std::vector<client::Announcement>> pickHosts(client::BoardSession& board,
                                                          const std::string& registry, std::size_t count,
                                                          const std::string& image,
                                                          const std::vector<std::string>& exclude,
                                                          std::optional<std::uint64_t> staleSeconds) {
  if (registry.empty())
    return core::Error("--registry rADDRESS is required to pick hosts (or name them with --host)");
  auto txs = board.history(registry);
  if (!txs) return txs.error().context("account_tx " + registry);
  const auto now = static_cast<std::uint64_t>(std::time(nullptr));
  struct Candidate {
    client::Announcement a;
    std::uint64_t age;
  };
  std::vector<Candidate> live;
  for (auto& [account, a] : client::announcements(*txs, std::nullopt)) {
    const auto l = client::liveness(a.a, now, staleSeconds);
    const bool offers = std::find(a.a.images.begin(), a.a.images.end(), image) != a.a.images.end();
    const bool excluded = std::find(exclude.begin(), exclude.end(), account) != exclude.end();
    if (l.live() && a.a.free > 0 && offers && !excluded) live.push_back({a, l.ageSeconds});
  }
  std::sort(live.begin(), live.end(), [](const Candidate& x, const Candidate& y) {
    if (x.age != y.age) return x.age < y.age;
    if (x.a.ledger != y.a.ledger) return x.a.ledger > y.a.ledger;
    return x.a.account < y.a.account;
  });
  if (live.size() < count)
    return core::Error("only " + std::to_string(live.size()) + " of the " + std::to_string(count) +
                       " hosts needed are live in " + registry + " with a free slot and the image '" + image +
                       "'" + (exclude.empty() ? "" : " (the cluster's own hosts left out)") +
                       "; see `sashimono hosts --registry " + registry + "`");
  std::vector<client::Announcement> out;
  for (std::size_t i = 0; i < count; ++i) out.push_back(live[i].a);
  return out;
}

std::chrono::seconds waitOf(const ClusterOptions& o, std::chrono::seconds fallback) {
  return waitFor(o.board, fallback);
}

std::vector<RequestOutcome> acquireOn(ClusterSession& s, const std::vector<client::Announcement>& hosts,
                                      const ClusterOptions& o, const std::string& contractId) {
  std::vector<HostRequest> rs;
  for (const auto& h : hosts) {
    HostRequest r{h.account, h, {}};
    r.params.kind = client::RequestKind::acquire;
    r.params.image = o.image;
    r.params.contractId = contractId;
    r.params.moments = o.moments;
    rs.push_back(std::move(r));
  }
  return sendRequests(s.leases(), rs, waitOf(o, kReplyWait), &std::cerr);
}

ClusterMemberInfo memberOf(const client::Announcement& host, const protocol::AcquireOk& ok) {
  ClusterMemberInfo m;
  m.leaseId = protocol::formatHash256(ok.leaseId);
  m.hostAccount = host.account;
  m.host = ok.instance.host;
  m.instanceKey = ok.instance.pubkey;
  m.userPort = ok.instance.userPort;
  m.peerPort = ok.instance.peerPort;
  m.expiry = ok.expiry;
  return m;
}

namespace {

// The announcements of the hosts of `members`, by host account.
core::Result<std::map<std::string, client::Announcement>> announcementsOf(
    ClusterSession& s, const std::vector<ClusterMemberInfo>& members, const std::string& registry) {
  std::vector<std::string> hosts;
  for (const auto& m : members)
    if (std::find(hosts.begin(), hosts.end(), m.hostAccount) == hosts.end()) hosts.push_back(m.hostAccount);
  SASHI_TRY_ASSIGN(found, findHosts(s.board(), hosts, registry));
  std::map<std::string, client::Announcement> out;
  for (std::size_t i = 0; i < hosts.size(); ++i) out.emplace(hosts[i], found[i]);
  return out;
}

core::Result<crypto::Hash256> leaseIdOf(const ClusterMemberInfo& m) {
  return protocol::parseHash256(m.leaseId);
}

}  // namespace

std::vector<std::string> sendMembership(ClusterSession& s, const ClusterDescription& c,
                                        const std::vector<std::size_t>& targets, const ClusterOptions& o,
                                        const std::vector<HostRequest>& extra,
                                        std::vector<RequestOutcome>* extraOut) {
  std::vector<std::string> errors(targets.size());
  auto fail = [&](const std::string& why) {
    for (auto& e : errors) e = why;
    if (extraOut != nullptr) extraOut->assign(extra.size(), RequestOutcome{});
    return errors;
  };
  std::vector<ClusterMemberInfo> targetMembers;
  for (auto t : targets) targetMembers.push_back(c.members[t]);
  auto hosts = announcementsOf(s, targetMembers, o.board.registry.empty() ? c.registry : o.board.registry);
  if (!hosts) return fail(hosts.error().message);
  std::vector<HostRequest> rs;
  std::vector<std::size_t> owner;  // rs[i] serves targets[owner[i]]
  const auto membership = c.membership();
  for (std::size_t t = 0; t < targets.size(); ++t) {
    const auto& m = c.members[targets[t]];
    auto id = leaseIdOf(m);
    if (!id) return fail(id.error().message);
    auto params = client::membershipRequests(*id, membership, s.wallet());
    if (!params) return fail(params.error().message);
    for (auto& p : *params) {
      rs.push_back(HostRequest{m.hostAccount, hosts->at(m.hostAccount), std::move(p)});
      owner.push_back(t);
    }
  }
  rs.insert(rs.end(), extra.begin(), extra.end());
  auto outcomes = sendRequests(s.leases(), rs, waitOf(o, kReplyWait), &std::cerr);
  for (std::size_t i = 0; i < owner.size(); ++i)
    if (!outcomes[i].ok() && errors[owner[i]].empty()) errors[owner[i]] = outcomes[i].describe();
  if (extraOut != nullptr)
    extraOut->assign(outcomes.begin() + static_cast<std::ptrdiff_t>(owner.size()), outcomes.end());
  return errors;
}

core::Result<HostRequest> leaseRequestFor(ClusterSession& s, const ClusterMemberInfo& m,
                                          client::RequestKind kind, const ClusterOptions& o) {
  SASHI_TRY_ASSIGN(hosts, findHosts(s.board(), {m.hostAccount}, o.board.registry));
  SASHI_TRY_ASSIGN(id, leaseIdOf(m));
  HostRequest r{m.hostAccount, hosts.front(), {}};
  r.params.kind = kind;
  r.params.leaseId = id;
  r.params.moments = o.moments;
  return r;
}

std::vector<RequestOutcome> leaseRequestsFor(ClusterSession& s, const std::vector<ClusterMemberInfo>& members,
                                             client::RequestKind kind, const ClusterOptions& o) {
  std::vector<RequestOutcome> out(members.size());
  auto hosts = announcementsOf(s, members, o.board.registry);
  if (!hosts) {
    for (auto& r : out) r.reply = hosts.error();
    return out;
  }
  std::vector<HostRequest> rs;
  std::vector<std::size_t> slot;
  for (std::size_t i = 0; i < members.size(); ++i) {
    auto id = leaseIdOf(members[i]);
    if (!id) {
      out[i].reply = id.error();
      continue;
    }
    HostRequest r{members[i].hostAccount, hosts->at(members[i].hostAccount), {}};
    r.params.kind = kind;
    r.params.leaseId = *id;
    r.params.moments = o.moments;
    rs.push_back(std::move(r));
    slot.push_back(i);
  }
  auto sent = sendRequests(s.leases(), rs, waitOf(o, kReplyWait), &std::cerr);
  for (std::size_t i = 0; i < sent.size(); ++i) out[slot[i]] = std::move(sent[i]);
  return out;
}

std::string memberName(const ClusterMemberInfo& m) {
  return "lease " + m.leaseId.substr(0, 8) + " at " + m.hostAccount + " (" + m.userUrl() + ")";
}

core::Result<ClusterDescription> loadOwnCluster(const ClusterOptions& o, const ClusterSession& s) {
  if (o.cluster.empty()) return core::Error("--cluster FILE is required");
  SASHI_TRY_ASSIGN(c, readClusterFile(o.cluster));
  if (c.owner != s.owner())
    return core::Error(o.cluster + " belongs to the owner key " + c.owner + ", not this wallet's reply key " +
                       s.owner() + " (--wallet, --reply-seed-file)");
  return c;
}

void printCluster(const ClusterDescription& c, const std::string& file, bool json) {
  if (json) {
    std::cout << renderCluster(c) << "\n";
    return;
  }
  std::cout << "cluster of " << c.members.size() << " member" << (c.members.size() == 1 ? "" : "s")
            << ", contract " << c.contractId << ", described in " << file << "\n";
  for (std::size_t i = 0; i < c.members.size(); ++i) {
    const auto& m = c.members[i];
    std::cout << "member " << i + 1 << ": lease " << m.leaseId << " on " << m.hostAccount << "\n"
              << "  instance " << protocol::formatEd25519Key(m.instanceKey) << "\n"
              << "  user " << m.userUrl() << "  peer " << m.peer() << "  expiry " << m.expiry << "\n";
  }
}

}  // namespace sashimono::cli
