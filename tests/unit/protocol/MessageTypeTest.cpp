// The message type table: every fact about a type is one row, and the rows agree with each other.
#include "sashimono/protocol/MessageType.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "sashimono/protocol/Envelope.h"
#include "sashimono/protocol/Payload.h"

namespace sashimono::protocol {
namespace {

const std::size_t kErrorPayload = payloadIndex<ErrorReply>();

TEST(MessageTypeTest, EveryTypeOnceInEnumOrder) {
  ASSERT_EQ(std::size(kMessageTypes), static_cast<std::size_t>(MessageType::host) + 1);
  for (std::size_t i = 0; i < std::size(kMessageTypes); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(kMessageTypes[i].type), i);
    EXPECT_EQ(kAllMessageTypes[i], kMessageTypes[i].type);
    EXPECT_EQ(&messageTypeInfo(kMessageTypes[i].type), &kMessageTypes[i]);
  }
}

TEST(MessageTypeTest, NamesUniquePrefixedAndParsed) {
  std::set<std::string_view> names;
  for (const auto& t : kMessageTypes) {
    EXPECT_TRUE(t.name.starts_with(kTypePrefix)) << t.name;
    EXPECT_LE(t.name.size(), kMaxMemoTypeBytes) << t.name;
    EXPECT_TRUE(names.insert(t.name).second) << "duplicate " << t.name;
    EXPECT_EQ(messageTypeName(t.type), t.name);
    EXPECT_EQ(parseMessageType(t.name), t.type);
  }
  EXPECT_FALSE(parseMessageType("sashimono.nothing"));
  EXPECT_FALSE(parseMessageType("acquire"));
}

TEST(MessageTypeTest, RequestsHaveConsistentOkAndErrorReplies) {
  std::set<MessageType> answers;
  for (const auto& t : kMessageTypes) {
    if (t.direction != Direction::request) {
      EXPECT_EQ(t.ok, MessageType::error) << t.name;
      EXPECT_EQ(t.error, MessageType::error) << t.name;
      continue;
    }
    const auto& ok = messageTypeInfo(t.ok);
    const auto& error = messageTypeInfo(t.error);
    EXPECT_EQ(ok.name, std::string(t.name) + ".ok");
    EXPECT_EQ(error.name, std::string(t.name) + ".error");
    EXPECT_EQ(ok.direction, Direction::reply);
    EXPECT_EQ(error.direction, Direction::reply);
    EXPECT_NE(ok.payload, kErrorPayload) << ok.name;
    EXPECT_EQ(error.payload, kErrorPayload) << error.name;
    EXPECT_TRUE(answers.insert(t.ok).second) << ok.name;
    EXPECT_TRUE(answers.insert(t.error).second) << error.name;
    EXPECT_EQ(okReplyFor(t.type), t.ok);
    EXPECT_EQ(errorReplyFor(t.type), t.error);
  }
  EXPECT_EQ(answers.size(), 8u);
}

TEST(MessageTypeTest, SealedExactlyTheRequestsAndOkReplies) {
  for (const auto& t : kMessageTypes) {
    const bool okReply = t.name.ends_with(".ok");
    EXPECT_EQ(t.sealed, t.direction == Direction::request || okReply) << t.name;
    EXPECT_EQ(isRequest(t.type), t.direction == Direction::request) << t.name;
    EXPECT_EQ(isSealedReply(t.type), okReply) << t.name;
    EXPECT_EQ(t.payloadLimit, t.sealed ? kMaxSealedPlaintextBytes : kMaxMemoDataBytes) << t.name;
    EXPECT_EQ(payloadLimit(t.type), t.payloadLimit) << t.name;
  }
  EXPECT_EQ(kMaxSealedPlaintextBytes, 851u);
}

TEST(MessageTypeTest, PayloadsAndDefaultTypes) {
  // Every alternative of Message is the payload of some type; only ErrorReply of several.
  for (std::size_t i = 0; i < std::variant_size_v<Message>; ++i) {
    std::size_t carriers = 0;
    for (const auto& t : kMessageTypes) carriers += t.payload == i ? 1 : 0;
    EXPECT_EQ(carriers, i == kErrorPayload ? 5u : 1u) << "payload " << i;
  }
  EXPECT_EQ(defaultTypeOf(Message{AcquireRequest{}}), MessageType::acquire);
  EXPECT_EQ(defaultTypeOf(Message{ClusterOk{}}), MessageType::clusterOk);
  EXPECT_EQ(defaultTypeOf(Message{ErrorReply{}}), MessageType::error);
  EXPECT_EQ(defaultTypeOf(Message{ExpiredNotice{}}), MessageType::expired);
  EXPECT_EQ(defaultTypeOf(Message{HostAnnouncement{}}), MessageType::host);
}

TEST(MessageTypeTest, SendPriority) {
  // Lease replies (*.ok, expiry notices) first, then refunds (errors), then announcements.
  for (const auto& t : kMessageTypes) {
    SendPriority want = SendPriority::refund;
    if (t.name.ends_with(".ok") || t.type == MessageType::expired) want = SendPriority::leaseReply;
    if (t.direction == Direction::announcement) want = SendPriority::announcement;
    EXPECT_EQ(t.priority, want) << t.name;
  }
  EXPECT_LT(SendPriority::leaseReply, SendPriority::refund);
  EXPECT_LT(SendPriority::refund, SendPriority::announcement);
}

}  // namespace
}  // namespace sashimono::protocol
