// `sashimono cluster add|remove`: a member joins or leaves a running cluster. The UNL is agreed
// state, so the change goes through a round: the owner's UNL-change input (unlChangeInput), sent
// through a current member (docs/CLUSTER-CLI.md).
#include <iostream>

#include "ClusterOps.h"

namespace sashimono::cli {

namespace {

// Sends the owner's input making `unl` the cluster's UNL through the first member of `links`
// that answers (skipping `skip`). Error: none answers, or the input is rejected.
core::Status sendUnlChange(MemberLinks& links, const std::vector<protocol::Ed25519Key>& unl,
                           std::size_t skip) {
  std::string errors;
  for (std::size_t i = 0; i < links.size(); ++i) {
    if (i == skip) continue;
    auto c = links.client(i);
    if (!c) {
      errors += "\n  " + memberName(links.member(i)) + ": " + c.error().message;
      continue;
    }
    std::cerr << "sending the UNL change (" << unl.size() << " members) through "
              << memberName(links.member(i)) << "\n";
    auto r = (*c)->submit(unlChangeInput(unl));
    if (!r) {
      errors += "\n  " + memberName(links.member(i)) + ": " + r.error().message;
      continue;
    }
    if (r->status != "accepted") return core::Error("the UNL change was rejected: " + r->reason);
    for (const auto& out : r->outputs)
      if (core::asString(out).rfind("sashimono: ", 0) == 0) std::cerr << "  " << core::asString(out) << "\n";
    std::cerr << "  accepted in ledger " << r->ledgerSeqNo << "\n";
    return {};
  }
  return core::Error("no member took the UNL change:" + errors);
}

std::vector<protocol::Ed25519Key> keysOf(const ClusterDescription& c) {
  std::vector<protocol::Ed25519Key> out;
  for (const auto& m : c.members) out.push_back(m.instanceKey);
  return out;
}

}  // namespace

int clusterAdd(const ClusterOptions& given) {
  const std::string cmd = "cluster add";
  if (given.cluster.empty()) return usageError(cmd, "--cluster FILE is required");
  if (given.hosts.size() > 1) return usageError(cmd, "at most one --host");
  auto s = ClusterSession::open(given);
  if (!s) return failure(cmd, s.error().message);
  auto c = loadOwnCluster(given, **s);
  if (!c) return failure(cmd, c.error().message);
  ClusterOptions o = given;
  if (o.board.registry.empty()) o.board.registry = c->registry;
  o.image = c->image;

  std::vector<std::string> exclude;
  for (const auto& m : c->members) exclude.push_back(m.hostAccount);
  auto host = o.hosts.empty()
                  ? pickHosts((*s)->board(), o.board.registry, 1, o.image, exclude, o.board.staleSeconds)
                  : findHosts((*s)->board(), o.hosts, o.board.registry);
  if (!host) return failure(cmd, host.error().message);
  std::cerr << "acquiring an instance on " << host->front().account << "\n";
  auto acquired = acquireOn(**s, *host, o, c->contractId);
  const auto* ok =
      acquired.front().ok() ? std::get_if<protocol::AcquireOk>(&acquired.front().reply->message) : nullptr;
  if (ok == nullptr) return failure(cmd, host->front().account + ": " + acquired.front().describe());
  ClusterDescription grown = *c;
  grown.members.push_back(memberOf(host->front(), *ok));
  const auto& added = grown.members.back();

  // Drops the new lease after a failure before the UNL change (unless --keep).
  auto abandon = [&](const std::string& why) {
    failure(cmd, why);
    if (o.keep) {
      std::cerr << "--keep: lease " << added.leaseId << " on " << added.hostAccount
                << " is kept (`sashimono lease terminate --host " << added.hostAccount << " --lease "
                << added.leaseId << "` ends it)\n";
      return 1;
    }
    auto ended = leaseRequestsFor(**s, {added}, client::RequestKind::terminate, o);
    std::cerr << "  " << memberName(added) << ": terminate " << ended.front().describe() << "\n";
    return 1;
  };

  std::cerr << "handing every instance the membership of " << grown.members.size() << "\n";
  std::vector<std::size_t> all(grown.members.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  auto errors = sendMembership(**s, grown, all, o);
  std::string failed;
  for (std::size_t i = 0; i < errors.size(); ++i)
    if (!errors[i].empty()) failed += "\n  " + memberName(grown.members[i]) + ": " + errors[i];
  if (!failed.empty()) return abandon("not every host took the membership:" + failed);

  const auto wait = waitOf(o, kInstanceWait);
  MemberLinks links(grown.members, (*s)->ownerKey(), std::chrono::milliseconds(wait));
  if (auto st = sendUnlChange(links, keysOf(grown), grown.members.size() - 1); !st)
    return abandon(st.error().message);
  // The change is in the cluster's ledger now: the file follows it.
  if (auto st = writeClusterFile(o.cluster, grown); !st) return failure(cmd, st.error().message);
  if (auto st = waitForUnl(links, runtimeKeys(grown.members), wait); !st)
    return failure(cmd, st.error().message + "\n(" + o.cluster +
                            " lists the new member; `sashimono cluster status` " +
                            "shows when the members catch up, `cluster remove --lease " + added.leaseId +
                            "` takes it out again)");
  std::cerr << "every member reports the UNL of " << grown.members.size() << "\n";
  printCluster(grown, o.cluster, o.board.json);
  return 0;
}

int clusterRemove(const ClusterOptions& given) {
  const std::string cmd = "cluster remove";
  if (given.cluster.empty()) return usageError(cmd, "--cluster FILE is required");
  if (given.lease.empty()) return usageError(cmd, "--lease LEASEID is required");
  auto s = ClusterSession::open(given);
  if (!s) return failure(cmd, s.error().message);
  auto c = loadOwnCluster(given, **s);
  if (!c) return failure(cmd, c.error().message);
  ClusterOptions o = given;
  if (o.board.registry.empty()) o.board.registry = c->registry;
  const std::size_t gone = c->find(o.lease);
  if (gone == c->members.size()) return failure(cmd, "no member with lease " + o.lease + " in " + o.cluster);
  if (c->members.size() == 1)
    return failure(cmd, "it is the cluster's last member: `sashimono cluster terminate` ends the cluster");
  const ClusterMemberInfo removed = c->members[gone];
  ClusterDescription shrunk = *c;
  shrunk.members.erase(shrunk.members.begin() + static_cast<std::ptrdiff_t>(gone));

  const auto wait = waitOf(o, kInstanceWait);
  MemberLinks links(shrunk.members, (*s)->ownerKey(), std::chrono::milliseconds(wait));
  if (auto st = sendUnlChange(links, keysOf(shrunk), shrunk.members.size()); !st)
    return failure(cmd, st.error().message + " (nothing changed)");
  if (auto st = waitForUnl(links, runtimeKeys(shrunk.members), wait); !st)
    return failure(cmd, st.error().message + "\n(lease " + removed.leaseId +
                            " is not terminated while it may " +
                            "still count in the UNL; run `cluster remove` again)");

  // Out of the UNL: end its lease, and tell the others their peers, in one batch.
  auto terminate = leaseRequestFor(**s, removed, client::RequestKind::terminate, o);
  if (!terminate) return failure(cmd, terminate.error().message);
  std::vector<std::size_t> all(shrunk.members.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  std::vector<RequestOutcome> ended;
  auto errors = sendMembership(**s, shrunk, all, o, {*terminate}, &ended);
  if (auto st = writeClusterFile(o.cluster, shrunk); !st) return failure(cmd, st.error().message);
  int code = 0;
  std::cerr << "  " << memberName(removed) << ": terminate " << ended.front().describe() << "\n";
  if (!ended.front().ok()) {
    std::cerr << "  (`sashimono lease terminate --host " << removed.hostAccount << " --lease "
              << removed.leaseId << "` ends it)\n";
    code = 1;
  }
  for (std::size_t i = 0; i < errors.size(); ++i) {
    if (errors[i].empty()) continue;
    std::cerr << "  " << memberName(shrunk.members[i]) << ": membership " << errors[i] << "\n";
    code = 1;
  }
  printCluster(shrunk, o.cluster, o.board.json);
  return code;
}

}  // namespace sashimono::cli
