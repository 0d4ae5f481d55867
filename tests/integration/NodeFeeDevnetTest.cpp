// The host node's fees and funds against the real devnet binary (child process), with a fake
// provisioner: while the devnet's open-ledger fee (fee_set) is above the host's ceiling
// (fees.maxDrops) a reply waits unsigned and the status row and metrics say so; when the fee comes
// under the ceiling exactly one reply goes out, signed at that fee. A host account funded with
// little more than the reserve is reported low until it is funded.
// The status is read as `sashimono host status` reads it: a read-only NodeStore, its status row
// through readStatusRow, then assessStatus.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>

#include "fakes/Eventually.h"
#include "fakes/node/DevnetNodeFixture.h"
#include "sashimono/devnet/Chain.h"
#include "sashimono/node/HostStatus.h"
#include "sashimono/node/NodeMetrics.h"

namespace sashimono::node {
namespace {

using namespace std::chrono_literals;
using sashimono::fakes::eventually;

// The shared fixture, reporting to a registry of the test's own.
struct Fixture : fakes::DevnetNodeFixture {
  explicit Fixture(std::uint64_t hostDrops)
      : DevnetNodeFixture(hostDrops, std::make_shared<core::MetricsRegistry>()) {
    metric::declareNodeMetrics(*metrics);
  }

  // The devnet's admin command: its open-ledger fee becomes `drops`.
  void setOpenLedgerFee(std::uint64_t drops) {
    auto r =
        wallet.client().request(R"({"command":"fee_set","open_ledger_fee":)" + std::to_string(drops) + "}");
    if (!r) throw std::runtime_error("fee_set: " + r.error().message);
    auto f = wallet.client().fee();
    if (!f || f->openLedgerFee != drops) throw std::runtime_error("fee_set did not take");
  }

  std::uint32_t validatedLedger() {
    auto i = wallet.client().serverInfo();
    if (!i) throw std::runtime_error("server_info: " + i.error().message);
    return i->validatedLedger;
  }

  // What `sashimono host status` reads: its own read-only store, the status row and the outbox.
  StatusView readStatus() {
    StatusView v;
    auto ro = NodeStore::open(config.storePath(), true);
    if (!ro) throw std::runtime_error("read-only store: " + ro.error().message);
    v.instances = config.offer.instances;
    if (auto l = ro->leases(); l.ok()) v.leases = std::move(*l);
    if (auto o = ro->outboxSummary(); o.ok()) v.outbox = *o;
    if (auto c = ro->cursor(); c.ok()) v.cursor = *c;
    if (auto st = ro->status(); st.ok() && *st) readStatusRow((*st)->json, (*st)->updatedAt, v);
    return v;
  }

  // Polls the status until `ok` holds (true) or `limit` passes (false); `last` is the last read.
  bool waitStatus(const std::function<bool(const StatusView&)>& ok, std::chrono::milliseconds limit,
                  StatusView& last) {
    return eventually(
        [&] {
          last = readStatus();
          return ok(last);
        },
        limit, 20ms);
  }

  std::int64_t now() const { return static_cast<std::int64_t>(clock.now()); }
};

bool mentions(const std::vector<std::string>& attention, std::string_view what) {
  for (const auto& a : attention)
    if (a.find(what) != std::string::npos) return true;
  return false;
}

std::string joined(const std::vector<std::string>& attention) {
  std::string s;
  for (const auto& a : attention) s += "[" + a + "] ";
  return s;
}

TEST(NodeFeeDevnetTest, ReplyWaitsAboveCeilingAndGoesOutOnceAtTheLowerFee) {
  Fixture f(100'000'000);
  f.config.fees.maxDrops = 100;
  auto node = f.startNode();
  f.setOpenLedgerFee(500);
  // The developer pays the busy network's fee; the host's ceiling is below it.
  const auto acquire = f.sendRequest(2500, fakes::acquireRequest(), 500);
  const std::uint32_t acquired = f.wallet.waitValidated(acquire);

  StatusView v;
  ASSERT_TRUE(f.waitStatus([](const StatusView& s) { return s.fees && s.fees->waiting >= 1; }, 5s, v))
      << v.rowJson;
  EXPECT_EQ(f.provisioner.instances.size(), 1u);  // the lease is served; only its reply waits
  // Several more ledgers: the reply stays unsigned and nothing from the host validates.
  eventually([&] { return f.validatedLedger() >= acquired + 6; }, 10s, 50ms);
  ASSERT_GE(f.validatedLedger(), acquired + 6);
  EXPECT_TRUE(f.paymentsToTenant().empty());
  v = f.readStatus();
  ASSERT_TRUE(v.fees.has_value()) << v.rowJson;
  EXPECT_GE(v.fees->waiting, 1u);
  ASSERT_TRUE(v.fees->fee.has_value()) << v.rowJson;
  EXPECT_EQ(v.fees->fee->openLedger, 500u);
  EXPECT_EQ(v.fees->ceiling, 100u);
  ASSERT_TRUE(v.fees->waitingSince.has_value());
  EXPECT_LE(*v.fees->waitingSince, f.now());
  EXPECT_EQ(v.outbox.open, 1u);
  EXPECT_EQ(v.outbox.signedOpen, 0u);  // waiting means unsigned, not signed and stuck
  EXPECT_GE(f.metrics->value(metric::kRepliesWaitingForFee), 1.0);
  EXPECT_EQ(f.metrics->value(metric::kFeeOpenLedger), 500.0);
  EXPECT_EQ(f.metrics->value(metric::kFeeCeiling), 100.0);
  // A short wait is no attention yet (60 s); later it is.
  const auto a = assessStatus(v, f.now());
  EXPECT_TRUE(a.running);
  EXPECT_FALSE(mentions(a.attention, "wait for fees")) << joined(a.attention);
  StatusView later = v;
  later.reportedAt = *v.fees->waitingSince + 61;
  EXPECT_TRUE(mentions(assessStatus(later, *later.reportedAt).attention, "wait for fees"));

  // The network calms down under the ceiling: the reply goes out once, at the new fee.
  f.setOpenLedgerFee(50);
  auto replies = f.waitPaymentsToTenant(1, 10s);
  ASSERT_EQ(replies.size(), 1u);
  const std::uint32_t sent = f.validatedLedger();
  eventually([&] { return f.validatedLedger() >= sent + 5; }, 5s, 50ms);
  replies = f.paymentsToTenant();
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].fee, 50u);
  auto opened = fakes::openReply(replies[0], f.tenant);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(opened->type, protocol::MessageType::acquireOk);
  EXPECT_EQ(core::toHex(std::get<protocol::AcquireOk>(opened->message).leaseId), acquire);

  ASSERT_TRUE(f.waitStatus(
      [](const StatusView& s) { return s.fees && s.fees->waiting == 0 && s.outbox.open == 0; }, 5s, v))
      << v.rowJson;
  ASSERT_TRUE(v.fees->fee.has_value());
  EXPECT_EQ(v.fees->fee->openLedger, 50u);
  EXPECT_FALSE(v.fees->waitingSince.has_value());
  EXPECT_EQ(f.metrics->value(metric::kRepliesWaitingForFee), 0.0);
  EXPECT_FALSE(mentions(assessStatus(v, f.now()).attention, "wait for fees"));
  EXPECT_FALSE(node->fatal());
}

TEST(NodeFeeDevnetTest, LowBalanceIsReportedUntilFunded) {
  constexpr std::uint64_t kSpare = 5'000;
  Fixture f(devnet::kReserveBase + kSpare);
  auto node = f.startNode();
  // 5,000 drops above the reserve pay for 454 replies at 11 drops: fewer than the 1000 of
  // fees.lowBalanceReplies.
  StatusView v;
  ASSERT_TRUE(f.waitStatus([](const StatusView& s) { return s.funds && s.funds->state != "unknown"; }, 5s, v))
      << v.rowJson;
  ASSERT_TRUE(v.funds.has_value());
  EXPECT_EQ(v.funds->state, "low") << v.rowJson;
  EXPECT_EQ(v.funds->balance, devnet::kReserveBase + kSpare);
  EXPECT_EQ(v.funds->reserve, devnet::kReserveBase);
  EXPECT_EQ(v.funds->spendable, static_cast<std::int64_t>(kSpare));
  EXPECT_EQ(v.funds->replyCost, 11u);
  EXPECT_FALSE(v.funds->unfunded);
  auto a = assessStatus(v, f.now());
  EXPECT_TRUE(a.running);
  EXPECT_TRUE(mentions(a.attention, "balance low")) << joined(a.attention);
  EXPECT_EQ(f.metrics->value(metric::kHostSpendable), static_cast<double>(kSpare));
  EXPECT_EQ(f.metrics->value(metric::kHostAffordableReplies), static_cast<double>(kSpare / 11));

  // Funded: the next ledgers' reads clear it.
  const std::uint32_t funded = f.wallet.waitValidated(f.wallet.pay(f.host.address(), 50'000'000));
  ASSERT_TRUE(f.waitStatus([](const StatusView& s) { return s.funds && s.funds->state == "ok"; }, 5s, v))
      << v.rowJson;
  EXPECT_LE(v.funds->ledger, funded + 4) << "cleared only " << v.funds->ledger - funded << " ledgers later";
  EXPECT_EQ(v.funds->balance, devnet::kReserveBase + kSpare + 50'000'000);
  a = assessStatus(v, f.now());
  EXPECT_FALSE(mentions(a.attention, "balance")) << joined(a.attention);
  EXPECT_FALSE(mentions(a.attention, "cannot pay")) << joined(a.attention);
  EXPECT_EQ(f.metrics->value(metric::kHostSpendable), static_cast<double>(kSpare + 50'000'000));
  EXPECT_FALSE(node->fatal());
}

TEST(NodeFeeDevnetTest, AccountBelowOneReplyIsExhausted) {
  // 5 drops above the reserve cannot pay for one reply (11 drops).
  Fixture f(devnet::kReserveBase + 5);
  auto node = f.startNode();
  StatusView v;
  ASSERT_TRUE(f.waitStatus([](const StatusView& s) { return s.funds && s.funds->state != "unknown"; }, 5s, v))
      << v.rowJson;
  EXPECT_EQ(v.funds->state, "exhausted") << v.rowJson;
  auto a = assessStatus(v, f.now());
  EXPECT_TRUE(mentions(a.attention, "cannot pay for a reply")) << joined(a.attention);
  f.wallet.waitValidated(f.wallet.pay(f.host.address(), 50'000'000));
  ASSERT_TRUE(f.waitStatus([](const StatusView& s) { return s.funds && s.funds->state == "ok"; }, 5s, v))
      << v.rowJson;
  a = assessStatus(v, f.now());
  EXPECT_FALSE(mentions(a.attention, "cannot pay")) << joined(a.attention);
  EXPECT_FALSE(mentions(a.attention, "balance")) << joined(a.attention);
  EXPECT_FALSE(node->fatal());
}

}  // namespace
}  // namespace sashimono::node
