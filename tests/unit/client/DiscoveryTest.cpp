#include "sashimono/client/Discovery.h"

#include <gtest/gtest.h>

#include "fakes/client/Txs.h"

using namespace sashimono;
using namespace sashimono::client::fakes;

TEST(DiscoveryTest, KeepsTheLatestAnnouncementPerHost) {
  const auto registry = newKey();
  const auto a = newKey();
  const auto b = newKey();
  const auto host = protocol::MessageType::host;
  std::vector<board::BoardTx> txs{
      messageTx(a, registry.accountId(), host, announcement(a, 1000), std::nullopt, 5),
      messageTx(b, registry.accountId(), host, announcement(b, 1100), std::nullopt, 6),
      messageTx(a, registry.accountId(), host, announcement(a, 1200), std::nullopt, 7, 1, 2),
      messageTx(a, registry.accountId(), host, announcement(a, 900), std::nullopt, 8, 1, 3),  // older time
  };
  auto all = client::announcements(txs, std::nullopt);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all.at(a.address()).a.time, 1200u);
  EXPECT_EQ(all.at(a.address()).ledger, 7u);
  EXPECT_EQ(all.at(b.address()).account, b.address());

  auto onlyB = client::announcements(txs, b.address());
  ASSERT_EQ(onlyB.size(), 1u);
  EXPECT_TRUE(onlyB.count(b.address()));
}

TEST(DiscoveryTest, IgnoresFailedForgedAndForeignTransactions) {
  const auto registry = newKey();
  const auto a = newKey();
  auto failed =
      messageTx(a, registry.accountId(), protocol::MessageType::host, announcement(a, 10), std::nullopt, 3);
  failed.result = "tecUNFUNDED_PAYMENT";
  auto forged =
      messageTx(a, registry.accountId(), protocol::MessageType::host, announcement(a, 20), std::nullopt, 4);
  forged.blob[forged.blob.size() - 3] ^= 0x01;  // inside the memo: the signature no longer holds
  board::BoardTx plain;
  plain.blob = *ledger::signPayment(ledger::Payment{registry.accountId(), {}, 10, 1, {}, {}, {}}, a);
  EXPECT_TRUE(client::announcements({failed, forged, plain}, std::nullopt).empty());
}

TEST(DiscoveryTest, LivenessUsesHeartbeatsAndDistrustsTheFuture) {
  const auto k = newKey();
  const std::uint64_t now = 100'000;
  auto fresh = client::liveness(announcement(k, now - 100, 60), now);
  EXPECT_EQ(fresh.ageSeconds, 100u);
  EXPECT_EQ(fresh.staleSeconds, 180u);  // 3 heartbeats
  EXPECT_TRUE(fresh.live());
  EXPECT_FALSE(client::liveness(announcement(k, now - 181, 60), now).live());
  EXPECT_TRUE(client::liveness(announcement(k, now - 181, 60), now, 200).live());  // --stale
  EXPECT_EQ(client::liveness(announcement(k, now, 0), now).staleSeconds, client::kDefaultStaleSeconds);
  auto ahead = client::liveness(announcement(k, now + 10, 60), now);
  EXPECT_EQ(ahead.ageSeconds, 0u);
  EXPECT_TRUE(ahead.live());
  auto future = client::liveness(announcement(k, now + client::kMaxFutureSeconds + 1, 60), now);
  EXPECT_TRUE(future.future);
  EXPECT_FALSE(future.live());
}
