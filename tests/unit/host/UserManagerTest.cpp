// UserManager's parsers of passwd, subuid/subgid, group and /proc status text.
#include <gtest/gtest.h>

#include "sashimono/host/UserManager.h"

namespace sashimono::host {
namespace {

TEST(UserFilesParsing, PasswdSubidGroupAndStatus) {
  auto pw = parsePasswd(
      "root:x:0:0:root:/root:/bin/bash\n# comment\nbad line\nsashi-a:x:1001:1002:t:/h/a:/usr/sbin/nologin\n");
  ASSERT_EQ(pw.size(), 2u);
  EXPECT_EQ(pw[1].name, "sashi-a");
  EXPECT_EQ(pw[1].uid, 1001u);
  EXPECT_EQ(pw[1].gid, 1002u);
  EXPECT_EQ(pw[1].home, "/h/a");
  EXPECT_EQ(pw[1].shell, "/usr/sbin/nologin");
  auto sub = parseSubId("x:100000:65536\nsashi-a:165536:65536\n", "sashi-a");
  ASSERT_TRUE(sub.has_value());
  EXPECT_EQ(sub->start, 165536u);
  EXPECT_EQ(sub->count, 65536u);
  EXPECT_FALSE(parseSubId("sashi-ab:1:2\n", "sashi-a").has_value());
  EXPECT_FALSE(parseSubId("sashi-a:x:2\n", "sashi-a").has_value());
  EXPECT_EQ(parseFirstFields("a:x:1:\nb:x:2:\n"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(parseStatusUids("Name:\tsh\nUid:\t1000\t1001\t1002\t1003\nGid:\t5\t5\t5\t5\n"),
            (std::vector<uid_t>{1000, 1001, 1002, 1003}));
}

}  // namespace
}  // namespace sashimono::host
