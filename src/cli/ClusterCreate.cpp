// `sashimono cluster create`: leases one instance on each of N hosts, hands every instance the
// whole membership, waits until each has taken it as its UNL, deploys the bundle once and waits
// until every member closed the same ledger (docs/CLUSTER-CLI.md).
#include <algorithm>
#include <cctype>
#include <functional>
#include <iostream>

#include "ClusterMembers.h"
#include "ClusterOps.h"
#include "Deploy.h"
#include "sashimono/protocol/Patterns.h"

namespace sashimono::cli {

namespace {

const std::string kCmd = "cluster create";

// What a wait left undone, one line per member that is not there yet.
std::string lagging(const MemberLinks& links, const std::vector<MemberReport>& reports,
                    const std::function<bool(const MemberReport&)>& there,
                    const std::function<std::string(const MemberReport&)>& what) {
  std::string out;
  for (std::size_t i = 0; i < reports.size(); ++i) {
    if (there(reports[i])) continue;
    out += "\n  " + memberName(links.member(i)) + ": " +
           (reports[i].reachable ? what(reports[i]) : "unreachable (" + reports[i].error + ")");
  }
  return out;
}

}  // namespace

// Waits until every member reports `unl` as its UNL; the error names the members that do not.
core::Status waitForUnl(MemberLinks& links, const std::vector<runtime::PubKey>& unl,
                        std::chrono::seconds timeout) {
  std::vector<MemberReport> last;
  auto there = [&](const MemberReport& r) { return r.unlIs(unl); };
  if (links.waitFor([&](const auto& rs) { return std::all_of(rs.begin(), rs.end(), there); }, timeout, last))
    return {};
  return core::Error("not every member reports the UNL of " + std::to_string(unl.size()) +
                     " members within " + std::to_string(timeout.count()) +
                     " s:" + lagging(links, last, there, [](const MemberReport& r) {
                       return "a UNL of " + std::to_string(r.unl.size()) + " members";
                     }));
}

namespace {

// Waits until every member reports the same last ledger, at `seq` or later.
core::Status waitForSameLedger(MemberLinks& links, std::uint64_t seq, std::chrono::seconds timeout) {
  std::vector<MemberReport> last;
  auto done = [&](const std::vector<MemberReport>& rs) {
    return std::all_of(rs.begin(), rs.end(), [&](const MemberReport& r) {
      return r.reachable && r.seq >= seq && r.seq == rs.front().seq && r.hash == rs.front().hash;
    });
  };
  if (links.waitFor(done, timeout, last)) return {};
  return core::Error("the members do not report the same last ledger (at " + std::to_string(seq) +
                     " or later) within " + std::to_string(timeout.count()) + " s:" +
                     lagging(
                         links, last, [](const MemberReport&) { return false; },
                         [](const MemberReport& r) {
                           return "ledger " + std::to_string(r.seq) + " " +
                                  core::toHexLower(r.hash).substr(0, 16);
                         }));
}

// The default file: ./cluster-<first 8 hex of the first lease>.json.
std::string outFile(const ClusterOptions& o, const ClusterDescription& c) {
  if (!o.out.empty()) return o.out;
  std::string id = c.members.empty() ? "empty" : c.members.front().leaseId.substr(0, 8);
  for (auto& ch : id) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return "cluster-" + id + ".json";
}

class Creation {
 public:
  Creation(const ClusterOptions& o, ClusterSession& s) : o_(o), s_(s) {}

  int run() {
    auto bundle = packBundleInput(o_.bundle);  // before anything is paid for
    if (!bundle) return failure(kCmd, "--bundle " + o_.bundle + ": " + bundle.error().message);
    auto hosts = chooseHosts();
    if (!hosts) return failure(kCmd, hosts.error().message);
    c_.contractId = o_.contractId.empty() ? client::randomUuid() : o_.contractId;
    c_.image = o_.image;
    c_.account = s_.wallet().account.address();
    c_.owner = s_.owner();
    c_.registry = o_.board.registry;

    std::cerr << "acquiring one instance on each of " << hosts->size() << " hosts\n";
    auto acquired = acquireOn(s_, *hosts, o_, c_.contractId);
    std::string refused;
    for (std::size_t i = 0; i < acquired.size(); ++i) {
      const auto* ok =
          acquired[i].ok() ? std::get_if<protocol::AcquireOk>(&acquired[i].reply->message) : nullptr;
      if (ok != nullptr) {
        c_.members.push_back(memberOf((*hosts)[i], *ok));
      } else {
        refused += "\n  " + (*hosts)[i].account + ": " + acquired[i].describe();
      }
    }
    if (!refused.empty()) return abandon("not every host leased an instance:" + refused);

    std::vector<std::size_t> all(c_.members.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    std::cerr << "handing every instance the membership\n";
    auto errors = sendMembership(s_, c_, all, o_);
    std::string failed;
    for (std::size_t i = 0; i < errors.size(); ++i)
      if (!errors[i].empty()) failed += "\n  " + memberName(c_.members[i]) + ": " + errors[i];
    if (!failed.empty()) return abandon("not every host took the membership:" + failed);

    MemberLinks links(c_.members, s_.ownerKey(), std::chrono::milliseconds(waitOf(o_, kInstanceWait)));
    std::cerr << "waiting until every member has the UNL of " << c_.members.size() << "\n";
    if (auto st = waitForUnl(links, runtimeKeys(c_.members), waitOf(o_, kInstanceWait)); !st)
      return abandon(st.error().message);

    std::cerr << "deploying " << o_.bundle << " (version " << bundle->version << ") through "
              << memberName(c_.members.front()) << "\n";
    auto first = links.client(0);
    if (!first) return abandon("deploy: " + first.error().message);
    auto deployed = uploadBundle(**first, *bundle);
    if (!deployed) return abandon("deploy: " + deployed.error().message);
    if (auto why = deployed->failure()) return abandon("deploy: " + *why);
    if (auto st = waitForSameLedger(links, deployed->input.ledgerSeqNo, waitOf(o_, kInstanceWait)); !st)
      return abandon(st.error().message);

    const std::string file = outFile(o_, c_);
    if (auto st = writeClusterFile(file, c_); !st) return failure(kCmd, st.error().message);
    std::cerr << "deployed in ledger " << deployed->input.ledgerSeqNo
              << "; every member is on the same ledger\n";
    printCluster(c_, file, o_.board.json);
    return 0;
  }

 private:
  core::Result<std::vector<client::Announcement>> chooseHosts() {
    if (o_.hosts.empty()) {
      if (o_.size == 0) return core::Error("--size N (or --host ADDRESS, repeated) is required");
      return pickHosts(s_.board(), o_.board.registry, o_.size, o_.image, {}, o_.board.staleSeconds);
    }
    if (o_.size != 0 && o_.size != o_.hosts.size())
      return core::Error("--size " + std::to_string(o_.size) + " but " + std::to_string(o_.hosts.size()) +
                         " --host given");
    for (std::size_t i = 0; i < o_.hosts.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (o_.hosts[i] == o_.hosts[j]) return core::Error("--host " + o_.hosts[i] + " given twice");
    return findHosts(s_.board(), o_.hosts, o_.board.registry);
  }

  // Says why the cluster could not be made and ends the leases already acquired (unless --keep,
  // which writes them to the cluster file instead). Exit code 1.
  int abandon(const std::string& why) {
    failure(kCmd, why);
    if (c_.members.empty()) return 1;
    const std::string file = outFile(o_, c_);
    if (o_.keep) {
      if (auto st = writeClusterFile(file, c_); !st) return failure(kCmd, st.error().message);
      std::cerr << "--keep: the " << c_.members.size() << " leases acquired are kept, described in " << file
                << " (`sashimono cluster terminate --cluster " << file << "` ends them)\n";
      return 1;
    }
    std::cerr << "terminating the " << c_.members.size() << " leases acquired\n";
    auto ended = leaseRequestsFor(s_, c_.members, client::RequestKind::terminate, o_);
    ClusterDescription left = c_;
    left.members.clear();
    for (std::size_t i = 0; i < ended.size(); ++i) {
      std::cerr << "  " << memberName(c_.members[i]) << ": terminate " << ended[i].describe() << "\n";
      if (!ended[i].ok()) left.members.push_back(c_.members[i]);
    }
    if (!left.members.empty()) {
      if (auto st = writeClusterFile(file, left); st)
        std::cerr << "the leases that could not be terminated are in " << file << "\n";
    }
    return 1;
  }

  const ClusterOptions& o_;
  ClusterSession& s_;
  ClusterDescription c_;
};

}  // namespace

int clusterCreate(const ClusterOptions& o) {
  if (o.bundle.empty()) return usageError(kCmd, "--bundle DIR is required");
  if (o.hosts.empty() && o.size == 0)
    return usageError(kCmd, "--size N (or --host ADDRESS, repeated) is required");
  auto s = ClusterSession::open(o);
  if (!s) return failure(kCmd, s.error().message);
  return Creation(o, **s).run();
}

}  // namespace sashimono::cli
