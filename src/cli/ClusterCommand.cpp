// `sashimono cluster create|status|extend|terminate|add|remove`: a developer's cluster of instances
// on several hosts, described by one file (docs/CLUSTER-CLI.md). Option parsing, `status`, `extend`
// and `terminate` here; create in ClusterCreate.cpp, add/remove in ClusterChange.cpp.
#include <iostream>
#include <limits>

#include "ClusterOps.h"
#include "Command.h"
#include "LeaseOutput.h"
#include "sashimono/protocol/Patterns.h"
#include "sashimono/protocol/Reason.h"

namespace sashimono::cli {
namespace {

constexpr const char* kNotes =
    "common: [--board URL]... [--wallet SEEDFILE] [--reply-seed-file SEEDFILE] [--ca-file PEM]\n"
    "        [--timeout SECONDS] [--json]\n"
    "create picks --size live hosts of --registry with a free slot and the image (freshest announcement\n"
    "first; --host ADDRESS, repeated, names them instead), acquires one instance on each (--moments,\n"
    "default 1; the payments go out one after another, the hosts' replies are awaited together, so\n"
    "the hosts provision in parallel), hands every instance the whole membership (sashimono.cluster),\n"
    "waits until each has it as its UNL, deploys --bundle once through the first member and waits until\n"
    "every member closed the same ledger. It writes the cluster file (--out, default\n"
    "./cluster-<first 8 hex of the first lease>.json) that the other verbs read.\n"
    "If a step fails it says which and terminates the leases it acquired (--keep: keeps them, in the file).\n"
    "status: reachable, last ledger, UNL size and agreement of every member (the reference is the highest\n"
    "ledger a majority of the members reached, and the hash a majority holds there); exit 1 unless all "
    "agree.\n"
    "extend/terminate act on every lease, report each, and exit 1 if any failed.\n"
    "add/remove change the members: the owner's UNL-change input goes through a current member and they\n"
    "wait until every member reports the new UNL.\n"
    "--timeout bounds each wait (default: 120 s for the hosts' replies, 60 s for the instances; status 10 "
    "s).\n"
    "The seed comes from --wallet FILE or SASHIMONO_SEED (never the command line); the instances are owned\n"
    "by the wallet's reply key (see `sashimono lease --help`).\n";

std::vector<OptionSpec> optionTable(ClusterOptions& o) {
  constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
  std::vector<OptionSpec> t = boardOptionTable(o.board);
  t.insert(t.end(), {
                        {"--registry", true, setString(o.board.registry)},
                        {"--json", false, setFlag(o.board.json)},
                        {"--timeout", true, setSeconds(o.board.timeoutSeconds)},
                        {"--stale", true, setNumber(o.board.staleSeconds, 0, kMax, "a number of seconds")},
                        {"--size", true, setNumber(o.size, 1, 64)},
                        {"--host", true, appendString(o.hosts)},
                        {"--bundle", true, setString(o.bundle)},
                        {"--image", true, setString(o.image)},
                        {"--contract-id", true, setString(o.contractId)},
                        {"--moments", true, setNumber(o.moments, 1, kMax, "a positive integer")},
                        {"--out", true, setString(o.out)},
                        {"--cluster", true, setString(o.cluster)},
                        {"--lease", true, setString(o.lease)},
                        {"--keep", false, setFlag(o.keep)},
                    });
  return t;
}

// The owner key of a cluster file without a board: the wallet's reply key.
core::Result<runtime::InstanceKey> ownerKeyOf(const ClusterOptions& o, const ClusterDescription& c) {
  SASHI_TRY_ASSIGN(wallet, loadWallet(o.board));
  if (protocol::formatEd25519Key(wallet.replyKey()) != c.owner)
    return core::Error(o.cluster + " belongs to the owner key " + c.owner + ", not this wallet's reply key");
  return ownerUserKey(wallet);
}

int clusterStatus(const ClusterOptions& o) {
  const std::string cmd = "cluster status";
  if (o.cluster.empty()) return usageError(cmd, "--cluster FILE is required");
  auto c = readClusterFile(o.cluster);
  if (!c) return failure(cmd, c.error().message);
  // Any key may ask an instance's status; the owner's when the wallet is at hand.
  auto owner = ownerKeyOf(o, *c);
  const auto user = owner ? *owner : runtime::InstanceKey::generate();
  MemberLinks links(c->members, user, std::chrono::milliseconds(waitOf(o, kStatusTimeout)));
  const auto reports = links.reportAll();
  const auto a = agreement(links, reports);

  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("members");
  w.StartArray();
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const auto& m = c->members[i];
    const auto& r = reports[i];
    w.StartObject();
    putStr(w, "lease_id", m.leaseId);
    putStr(w, "host_account", m.hostAccount);
    putStr(w, "user_url", m.userUrl());
    w.Key("reachable");
    w.Bool(r.reachable);
    if (r.reachable) {
      putU64(w, "ledger_seq_no", r.seq);
      putStr(w, "ledger_hash", core::toHexLower(r.hash));
      putU64(w, "unl_size", r.unl.size());
    } else {
      putStr(w, "error", r.error);
    }
    putStr(w, "state", a.states[i]);
    w.EndObject();
  }
  w.EndArray();
  w.Key("reference");
  if (a.seq) {
    w.StartObject();
    putU64(w, "ledger_seq_no", *a.seq);
    if (a.hash) putStr(w, "ledger_hash", core::toHexLower(*a.hash));
    putU64(w, "holders", a.holders);
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("agree");
  w.Bool(a.allAgree());
  w.EndObject();

  if (o.board.json) {
    std::cout << sb.GetString() << "\n";
  } else {
    for (std::size_t i = 0; i < reports.size(); ++i) {
      const auto& r = reports[i];
      std::cout << "member " << i + 1 << "  lease " << c->members[i].leaseId.substr(0, 8) << "  "
                << c->members[i].userUrl() << "  ";
      if (r.reachable) {
        std::cout << "ledger " << r.seq << " " << core::toHexLower(r.hash).substr(0, 16) << "  UNL "
                  << r.unl.size();
      } else {
        std::cout << "unreachable (" << r.error << ")";
      }
      std::cout << "  " << a.states[i] << "\n";
    }
    if (!a.seq) {
      std::cout << "no majority of the " << reports.size() << " members is reachable\n";
    } else if (!a.hash) {
      std::cout << "no hash of ledger " << *a.seq << " is held by a majority\n";
    } else {
      std::cout << "reference: ledger " << *a.seq << " " << core::toHexLower(*a.hash).substr(0, 16)
                << ", held by " << a.holders << " of " << reports.size() << " members\n";
    }
  }
  return a.allAgree() ? 0 : 1;
}

// extend or terminate: one request per lease; terminate drops the ended leases from the file.
int everyLease(const ClusterOptions& given, client::RequestKind kind, const char* verb) {
  const std::string cmd = std::string("cluster ") + verb;
  if (given.cluster.empty()) return usageError(cmd, "--cluster FILE is required");
  auto s = ClusterSession::open(given);
  if (!s) return failure(cmd, s.error().message);
  auto c = loadOwnCluster(given, **s);
  if (!c) return failure(cmd, c.error().message);
  if (c->members.empty()) {
    std::cerr << "nothing to do: " << given.cluster << " lists no members\n";
    return 0;
  }
  ClusterOptions o = given;
  if (o.board.registry.empty()) o.board.registry = c->registry;
  auto outcomes = leaseRequestsFor(**s, c->members, kind, o);
  ClusterDescription after = *c;
  after.members.clear();
  int code = 0;
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartArray();
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const auto& m = c->members[i];
    const auto& r = outcomes[i];
    if (!r.ok()) code = 1;
    bool keep = true;
    if (r.reply) {
      if (const auto* ext = std::get_if<protocol::ExtendOk>(&r.reply->message)) {
        ClusterMemberInfo updated = m;
        updated.expiry = ext->expiry;
        after.members.push_back(updated);
        keep = false;
      } else if (std::holds_alternative<protocol::TerminateOk>(r.reply->message)) {
        keep = false;
      } else if (const auto* e = std::get_if<protocol::ErrorReply>(&r.reply->message);
                 e != nullptr && kind == client::RequestKind::terminate &&
                 e->reason == protocol::Reason::unknownLease) {
        keep = false;  // already gone (expired, or terminated before)
      }
    }
    if (keep) after.members.push_back(m);
    if (r.reply) {
      const std::string j = replyJson(*r.reply);
      w.RawValue(j.data(), j.size(), rapidjson::kObjectType);
    } else {
      w.StartObject();
      putStr(w, "lease_id", m.leaseId);
      putStr(w, "result", "failed");
      putStr(w, "detail", r.describe());
      w.EndObject();
    }
    if (!o.board.json) std::cout << memberName(m) << ": " << verb << " " << r.describe() << "\n";
  }
  w.EndArray();
  if (auto st = writeClusterFile(o.cluster, after); !st) code = failure(cmd, st.error().message);
  if (o.board.json) std::cout << sb.GetString() << "\n";
  if (!o.board.json && kind == client::RequestKind::terminate)
    std::cout << after.members.size() << " lease(s) left in " << o.cluster << "\n";
  return code;
}

int runCluster(const std::vector<std::string>& args) {
  ClusterOptions o;
  const CommandSpec spec{
      .name = "cluster",
      .verbs =
          {
              {.name = "create",
               .synopsis =
                   "(--size N --registry rADDR | --host rADDR...) --bundle DIR [--image NAME]\n"
                   "                         [--contract-id UUID] [--moments N] [--out FILE] [--keep]",
               .help = "leases N instances on N hosts, joins them into one cluster, deploys the bundle",
               .run = calling(&clusterCreate, o)},
              {.name = "status",
               .synopsis = "--cluster FILE",
               .help = "each member's last ledger and UNL, and whether the members agree",
               .run = calling(&clusterStatus, o)},
              {.name = "extend",
               .synopsis = "--cluster FILE [--moments N]",
               .help = "buys more moments for every lease",
               .run =
                   [&o](const std::vector<std::string>&) {
                     return everyLease(o, client::RequestKind::extend, "extend");
                   }},
              {.name = "terminate",
               .synopsis = "--cluster FILE",
               .help = "ends every lease (unused moments refunded)",
               .run =
                   [&o](const std::vector<std::string>&) {
                     return everyLease(o, client::RequestKind::terminate, "terminate");
                   }},
              {.name = "add",
               .synopsis = "--cluster FILE [--host rADDR] [--moments N] [--keep]",
               .help =
                   "leases one more instance and makes it a member (a host not in the cluster by default)",
               .run = calling(&clusterAdd, o)},
              {.name = "remove",
               .synopsis = "--cluster FILE --lease LEASEID",
               .help = "takes a member out of the UNL, then ends its lease",
               .run = calling(&clusterRemove, o)},
          },
      .options = optionTable(o),
      .notes = kNotes,
      .unknownHint = kSeedHint,
  };
  return dispatchVerb(spec, args);
}

const CommandRegistrar clusterReg{
    {"cluster", "lease instances on several hosts as one cluster (developer)", &runCluster, false, true}};

}  // namespace
}  // namespace sashimono::cli
