// The membership file the host node hands an instance (ClusterFile.h): what it accepts, and what
// it refuses with the field named.
#include <gtest/gtest.h>

#include "sashimono/runtime/ClusterFile.h"
#include "sashimono/runtime/UserMessages.h"

namespace sashimono::runtime {
namespace {

const std::string kA = "ED" + std::string(64, 'A');
const std::string kB = "ed" + std::string(64, 'b');

TEST(ClusterFileTest, ReadsWhatTheNodeWrites) {
  auto m = parseClusterFile(R"({"lease":"00ff","members":[{"key":")" + kA + R"(","peer":"10.0.0.7:22001"},)" +
                                R"({"key":")" + kB + R"(","peer":"[fd00::2]:27000"}]})",
                            "cluster.json");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->lease, "00ff");
  ASSERT_EQ(m->members.size(), 2u);
  EXPECT_EQ(m->members[0].key, *parseHexKey(kA));
  EXPECT_EQ(m->members[0].host, "10.0.0.7");
  EXPECT_EQ(m->members[0].port, 22001);
  EXPECT_EQ(m->members[1].host, "fd00::2");
  EXPECT_EQ(m->members[1].port, 27000);
  auto empty = parseClusterFile(R"({"members":[]})", "cluster.json");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->members.empty());
}

TEST(ClusterFileTest, RefusesWithTheFieldNamed) {
  auto bad = [](const std::string& json) {
    auto m = parseClusterFile(json, "cluster.json");
    EXPECT_FALSE(m.ok()) << json;
    return m.ok() ? std::string() : m.error().message;
  };
  EXPECT_NE(bad("{").find("cluster.json"), std::string::npos);
  EXPECT_NE(bad(R"({"lease":"x"})").find("members"), std::string::npos);
  EXPECT_NE(bad(R"({"members":[{"key":"ed00","peer":"h:1"}]})").find("key"), std::string::npos);
  EXPECT_NE(bad(R"({"members":[{"key":")" + kA + R"(","peer":"h:1"},{"key":")" + kA + R"(","peer":"h:2"}]})")
                .find("twice"),
            std::string::npos);
  for (const char* peer :
       {"h", "h:0", "h:65536", "h:080", ":22", "[fd00::1:22", "fd00::1:22x", "h h:1", "h:"})
    EXPECT_NE(bad(R"({"members":[{"key":")" + kA + R"(","peer":")" + peer + R"("}]})").find("peer"),
              std::string::npos)
        << peer;
  std::string many = R"({"members":[)";
  for (int i = 0; i < 65; ++i) {
    char hex[65];
    std::snprintf(hex, sizeof hex, "%064x", i);
    many += std::string(i ? "," : "") + R"({"key":"ed)" + hex + R"(","peer":"h:1"})";
  }
  EXPECT_NE(bad(many + "]}").find("at most 64"), std::string::npos);
}

TEST(ClusterFileTest, UnlChanges) {
  auto u = parseUnlChange(R"({"unl":[")" + kB + R"(",")" + kA + R"("]})");
  ASSERT_TRUE(u.ok()) << u.error().message;
  ASSERT_TRUE(u->unl);
  ASSERT_EQ(u->unl->size(), 2u);
  EXPECT_LT((*u->unl)[0], (*u->unl)[1]);  // sorted
  EXPECT_FALSE(u->threshold);
  auto t = parseUnlChange(R"({"threshold":60})");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_FALSE(t->unl);
  EXPECT_EQ(t->threshold, 60u);
  auto both = parseUnlChange(R"({"unl":[")" + kA + R"("],"threshold":100})");
  ASSERT_TRUE(both.ok()) << both.error().message;
  EXPECT_EQ(both->unl->size(), 1u);
  EXPECT_EQ(both->threshold, 100u);
  for (const std::string& bad :
       {std::string(R"({"unl":[]})"), std::string(R"({"unl":["ed12"]})"),
        R"({"unl":[")" + kA + R"(",")" + kA + R"("]})", std::string(R"({"members":[]})"), std::string("{}"),
        std::string(R"({"threshold":0})"), std::string(R"({"threshold":101})"),
        std::string(R"({"threshold":"60"})"), std::string("not json")}) {
    auto r = parseUnlChange(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
}

TEST(ClusterFileTest, PeerChangesets) {
  auto a = applyPeerChangeset(
      {}, R"({"type":"peer_changeset","add":["10.0.0.2:22860","[::1]:7","h:1"],"remove":[]})");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(*a, (std::vector<std::string>{"10.0.0.2:22860", "[::1]:7", "h:1"}));
  auto b =
      applyPeerChangeset(*a, R"({"type":"peer_changeset","add":["x:2"],"remove":["h:1","not.listed:9"]})");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(*b, (std::vector<std::string>{"10.0.0.2:22860", "[::1]:7", "x:2"}));
  auto c = applyPeerChangeset(*b, R"({"type":"peer_changeset","add":["y:3"],"remove":"*"})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(*c, std::vector<std::string>{"y:3"});
  std::string many = R"({"type":"peer_changeset","add":[)";
  for (int i = 1; i <= 65; ++i) many += std::string(i > 1 ? "," : "") + "\"h:" + std::to_string(i) + "\"";
  for (const std::string& bad :
       {std::string(R"({"type":"peer_changeset","remove":[]})"), std::string(R"({"add":[]})"),
        std::string(R"({"type":"other","add":[]})"), std::string(R"({"type":"peer_changeset","add":["h"]})"),
        std::string(R"({"type":"peer_changeset","add":["h:0"]})"),
        std::string(R"({"type":"peer_changeset","add":[],"remove":"all"})"), many + "]}", std::string("[")}) {
    auto r = applyPeerChangeset(*c, bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
}

TEST(ClusterFileTest, PeerEndpoints) {
  auto a = parsePeerEndpoint("node-1.example.org:443");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "node-1.example.org");
  EXPECT_EQ(a->port, 443);
  EXPECT_FALSE(parsePeerEndpoint("[]:1").ok());
  EXPECT_FALSE(parsePeerEndpoint("[zz::1]:1").ok());
}

}  // namespace
}  // namespace sashimono::runtime
