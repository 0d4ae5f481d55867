// Ports logic: allocation from the configured ranges, rootlesskit API messages.
#include <gtest/gtest.h>

#include "sashimono/host/Ports.h"

namespace sashimono::host {
namespace {

TEST(PortLogic, AllocatesLowestFreeAndFailsWhenExhausted) {
  PortRanges r;
  r.user = {30000, 30001};
  r.peer = {30010, 30011};
  r.generalTcp = {30020, 30029};
  r.generalUdp = {30030, 30039};
  r.generalTcpCount = 2;
  r.generalUdpCount = 1;
  auto a = allocatePorts(r, {});
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_EQ(a->size(), 5u);
  EXPECT_EQ((*a)[0], (PortForward{"user", Proto::kTcp, 30000, kContainerUserPort}));
  EXPECT_EQ((*a)[1], (PortForward{"peer", Proto::kTcp, 30010, kContainerPeerPort}));
  EXPECT_EQ((*a)[2], (PortForward{"tcp", Proto::kTcp, 30020, kContainerTcpBase}));
  EXPECT_EQ((*a)[3], (PortForward{"tcp", Proto::kTcp, 30021, kContainerTcpBase + 1}));
  EXPECT_EQ((*a)[4], (PortForward{"udp", Proto::kUdp, 30030, kContainerUdpBase}));
  auto b = allocatePorts(r, {30000, 30010, 30021});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)[0].hostPort, 30001);
  EXPECT_EQ((*b)[2].hostPort, 30020);
  EXPECT_EQ((*b)[3].hostPort, 30022);
  auto full = allocatePorts(r, {30000, 30001});
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().message, "no free port left in the user range 30000-30001");
  r.peer = {30001, 30005};
  EXPECT_FALSE(allocatePorts(r, {}).ok()) << "overlapping ranges";
  r.peer = {80, 81};
  EXPECT_FALSE(allocatePorts(r, {}).ok()) << "privileged ports";
}

TEST(PortLogic, RootlessKitApiMessages) {
  EXPECT_EQ(renderPortRequest({"user", Proto::kTcp, 26000, 8080}, "0.0.0.0"),
            R"({"proto":"tcp","parentIP":"0.0.0.0","parentPort":26000,"childPort":8080})");
  EXPECT_EQ(*parsePortResponseId(R"({"id":3,"spec":{"proto":"tcp"}})"), 3);
  EXPECT_FALSE(parsePortResponseId(R"({"message":"bad"})").ok());
  auto r = parseHttpResponse("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"id\":1}");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first, 200);
  EXPECT_EQ(r->second, "{\"id\":1}");
  auto chunked = parseHttpResponse(
      "HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n");
  ASSERT_TRUE(chunked.ok());
  EXPECT_EQ(chunked->first, 400);
  EXPECT_EQ(chunked->second, "hello!");
  EXPECT_FALSE(parseHttpResponse("garbage").ok());
}

}  // namespace
}  // namespace sashimono::host
