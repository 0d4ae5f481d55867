#include "ClusterMembers.h"

#include <algorithm>
#include <future>
#include <map>
#include <thread>

#include "sashimono/runtime/UserMessages.h"

namespace sashimono::cli {

namespace {

// A ledger hash as the protocol carries it: binary (BSON) or hex (JSON).
std::optional<runtime::Hash> hashOf(const runtime::Value* v) {
  if (v == nullptr) return std::nullopt;
  core::Bytes b;
  if (v->isBinary()) {
    b = v->asBinary();
  } else if (v->isString()) {
    auto h = core::fromHex(v->asString());
    if (!h) return std::nullopt;
    b = std::move(*h);
  }
  if (b.size() != 32) return std::nullopt;
  runtime::Hash h{};
  std::copy(b.begin(), b.end(), h.begin());
  return h;
}

std::optional<runtime::PubKey> keyOf(const runtime::Value& v) {
  auto k = v.isBinary()   ? runtime::keyFromBytes(v.asBinary())
           : v.isString() ? runtime::parseHexKey(v.asString())
                          : core::Result<runtime::PubKey>(core::Error("not a key"));
  if (!k) return std::nullopt;
  return *k;
}

core::Result<MemberReport> reportOf(runtime::UserClient& c) {
  auto v = c.stat();
  if (!v) return v.error();
  MemberReport r;
  r.reachable = true;
  const auto* seq = v->find("ledger_seq_no");
  auto hash = hashOf(v->find("ledger_hash"));
  const auto* unl = v->find("current_unl");
  if (seq == nullptr || !seq->isInt() || seq->asInt() < 0 || !hash || unl == nullptr || !unl->isArray())
    return core::Error("a malformed stat_response");
  r.seq = static_cast<std::uint64_t>(seq->asInt());
  r.hash = *hash;
  for (const auto& k : unl->asArray()) {
    auto key = keyOf(k);
    if (!key) return core::Error("a malformed UNL in the stat_response");
    r.unl.push_back(*key);
  }
  std::sort(r.unl.begin(), r.unl.end());
  return r;
}

}  // namespace

bool MemberReport::unlIs(std::vector<runtime::PubKey> keys) const {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return reachable && unl == keys;
}

runtime::PubKey runtimeKey(const protocol::Ed25519Key& k) {
  runtime::PubKey p{};
  p[0] = 0xED;
  std::copy(k.begin(), k.end(), p.begin() + 1);
  return p;
}

std::vector<runtime::PubKey> runtimeKeys(const std::vector<ClusterMemberInfo>& members) {
  std::vector<runtime::PubKey> out;
  for (const auto& m : members) out.push_back(runtimeKey(m.instanceKey));
  return out;
}

MemberLinks::MemberLinks(std::vector<ClusterMemberInfo> members, const runtime::InstanceKey& user,
                         std::chrono::milliseconds timeout)
    : members_(std::move(members)), user_(user), timeout_(timeout), clients_(members_.size()) {}

std::vector<MemberReport> MemberLinks::reportAll() {
  std::vector<MemberReport> out(members_.size());
  // Connecting may wait for a timeout per member: in parallel, one thread each.
  std::vector<std::future<core::Result<std::unique_ptr<runtime::UserClient>>>> pending(members_.size());
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (clients_[i]) continue;
    runtime::UserClientOptions o;
    o.trustedServer = runtimeKey(members_[i].instanceKey);
    o.timeout = timeout_;
    pending[i] = std::async(std::launch::async, [url = members_[i].userUrl(), user = user_, o] {
      return runtime::UserClient::connect(url, user, o);
    });
  }
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (!pending[i].valid()) continue;
    auto c = pending[i].get();
    if (c) {
      clients_[i] = std::move(*c);
    } else {
      out[i].error = c.error().message;
    }
  }
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (!clients_[i]) continue;
    auto r = reportOf(*clients_[i]);
    if (r) {
      out[i] = std::move(*r);
    } else {
      out[i].error = r.error().message;
      clients_[i].reset();
    }
  }
  return out;
}

core::Result<runtime::UserClient*> MemberLinks::client(std::size_t i) {
  if (!clients_[i]) {
    runtime::UserClientOptions o;
    o.trustedServer = runtimeKey(members_[i].instanceKey);
    o.timeout = timeout_;
    auto c = runtime::UserClient::connect(members_[i].userUrl(), user_, o);
    if (!c) return c.error().context(members_[i].userUrl());
    clients_[i] = std::move(*c);
  }
  return clients_[i].get();
}

core::Result<runtime::Hash> MemberLinks::ledgerHash(std::size_t i, std::uint64_t seq) {
  SASHI_TRY_ASSIGN(c, client(i));
  auto v = c->ledgerQuery(seq, false, false);
  if (!v) {
    clients_[i].reset();
    return v.error();
  }
  const auto* error = v->find("error");
  if (error != nullptr && error->isString())
    return core::Error("ledger " + std::to_string(seq) + ": " + error->asString());
  const auto* results = v->find("results");
  if (results == nullptr || !results->isArray() || results->asArray().empty())
    return core::Error("ledger " + std::to_string(seq) + " not found");
  auto h = hashOf(results->asArray().front().find("hash"));
  if (!h) return core::Error("ledger " + std::to_string(seq) + ": a malformed ledger");
  return *h;
}

bool MemberLinks::waitFor(const std::function<bool(const std::vector<MemberReport>&)>& done,
                          std::chrono::milliseconds timeout, std::vector<MemberReport>& last) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (true) {
    last = reportAll();
    if (done(last)) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

bool Agreement::allAgree() const {
  return std::all_of(states.begin(), states.end(), [](const std::string& s) { return s == "agrees"; });
}

Agreement agreement(MemberLinks& links, const std::vector<MemberReport>& reports) {
  const std::size_t n = reports.size();
  const std::size_t majority = n / 2 + 1;
  Agreement a;
  a.states.assign(n, "unknown");
  std::vector<std::uint64_t> seqs;
  for (std::size_t i = 0; i < n; ++i) {
    if (!reports[i].reachable) {
      a.states[i] = "unreachable";
    } else {
      seqs.push_back(reports[i].seq);
    }
  }
  if (seqs.size() < majority) return a;
  // The highest ledger at least a majority of all members has reached.
  std::sort(seqs.rbegin(), seqs.rend());
  const std::uint64_t ref = seqs[majority - 1];
  a.seq = ref;
  std::vector<std::optional<runtime::Hash>> at(n);  // each member's hash at `ref`
  std::map<runtime::Hash, std::size_t> count;
  for (std::size_t i = 0; i < n; ++i) {
    if (!reports[i].reachable || reports[i].seq < ref) continue;
    if (reports[i].seq == ref) {
      at[i] = reports[i].hash;
    } else if (auto h = links.ledgerHash(i, ref)) {
      at[i] = *h;
    } else {
      continue;  // stays "unknown"
    }
    ++count[*at[i]];
  }
  for (const auto& [h, c] : count)
    if (c >= majority) {
      a.hash = h;
      a.holders = c;
    }
  if (!a.hash) return a;
  std::optional<std::size_t> holder;  // a member of the majority, to check the ones behind
  for (std::size_t i = 0; i < n; ++i) {
    if (!at[i]) continue;
    a.states[i] = *at[i] == *a.hash ? "agrees" : "disagrees";
    if (*at[i] == *a.hash && !holder) holder = i;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!reports[i].reachable || reports[i].seq >= ref) continue;
    if (reports[i].seq == 0) {
      a.states[i] = "behind";  // no ledger yet: every chain starts there
      continue;
    }
    auto h = links.ledgerHash(*holder, reports[i].seq);
    if (h) a.states[i] = *h == reports[i].hash ? "behind" : "disagrees";
  }
  return a;
}

}  // namespace sashimono::cli
