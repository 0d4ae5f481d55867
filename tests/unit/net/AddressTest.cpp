#include <gtest/gtest.h>

#include "sashimono/net/WsClient.h"
#include "sashimono/net/WsServer.h"

using namespace sashimono::net;

TEST(AddressTest, ParsesUrls) {
  auto u = parseUrl("wss://xrplcluster.com");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "xrplcluster.com");
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->target, "/");
  u = parseUrl("ws://127.0.0.1:6006/x/y");
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->port, "6006");
  EXPECT_EQ(u->target, "/x/y");
  u = parseUrl("ws://[::1]:51233");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "51233");
  EXPECT_FALSE(parseUrl("http://x").ok());
  EXPECT_FALSE(parseUrl("ws://").ok());
  EXPECT_FALSE(parseUrl("ws://h:99999").ok());
  EXPECT_FALSE(parseUrl("ws://h:12a").ok());
}

TEST(AddressTest, ParsesHostPort) {
  auto hp = parseHostPort("127.0.0.1:6006");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, 6006);
  hp = parseHostPort("[::1]:0");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->host, "::1");
  EXPECT_EQ(hp->port, 0);
  EXPECT_FALSE(parseHostPort("6006").ok());
  EXPECT_FALSE(parseHostPort("h:70000").ok());
  EXPECT_FALSE(parseHostPort("h:").ok());
}
