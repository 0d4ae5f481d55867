// Fuzzes the memo payload parser and, behind it, the host's verdict and the lease book.
//
// Input layout: byte 0 selects the mode and the message type, the rest is the payload text.
//   byte0 & 0x80 == 0: parse the text as kAllMessageTypes[byte0 % 15]. It must never crash;
//     every payload it accepts must render canonically and parse back to the same value, and
//     every refusal must carry a Reason. The text also goes through the plain-memo path.
//   byte0 & 0x80 != 0: the text is sealed to a fixed host key as a request of type
//     kAllMessageTypes[(byte0 & 0x7F) % 15], carried by a Payment of
//     1 + ((byte0 & 0x7F) / 15) × 150 drops (the price is 1000), from a fixed tenant key,
//     classified, and handed to a fresh lease book. The answer must be one reply (or a
//     Provision whose completion yields one) whose refund never exceeds what was paid.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "fakes/lease/ManualClock.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/crypto/SealedBox.h"
#include "sashimono/lease/Book.h"
#include "sashimono/protocol/Envelope.h"
#include "sashimono/protocol/Payload.h"
#include "sashimono/protocol/Verdict.h"

using namespace sashimono;
using namespace sashimono::protocol;

namespace {
[[noreturn]] void fail(const char* what, const std::string& a, const std::string& b) {
  std::fprintf(stderr, "%s\n  first:  %s\n  second: %s\n", what, a.c_str(), b.c_str());
  std::abort();
}

constexpr std::size_t kTypes = std::size(kAllMessageTypes);

void parseRoundTrip(MessageType type, std::string_view text, const std::uint8_t* data, std::size_t size) {
  auto parsed = parsePayload(type, text);
  if (parsed.ok()) {
    std::string rendered = renderPayload(*parsed);
    auto again = parsePayload(type, rendered);
    if (!again.ok()) fail("rendered payload does not parse", rendered, again.error().message);
    if (!(*again == *parsed)) fail("re-parsed value differs", std::string(text), rendered);
    if (renderPayload(*again) != rendered)
      fail("rendering is not canonical", rendered, renderPayload(*again));
    if (rendered.size() > payloadLimit(type))
      fail("rendered payload exceeds the limit", std::string(text), rendered);
  } else if (!parseReason(parsed.error().code)) {
    fail("error without a reason", std::string(text), parsed.error().message);
  }
  Memo memo{std::string(messageTypeName(type)), std::string(kFormatJson), core::Bytes(data + 1, data + size)};
  (void)openMemo(memo, nullptr);
}

const crypto::KeyPair& hostKey() {
  static const crypto::KeyPair k =
      *crypto::KeyPair::fromSeed(crypto::Seed(crypto::KeyType::ed25519, {1, 2, 3}));
  return k;
}
const crypto::KeyPair& tenantKey() {
  static const crypto::KeyPair k =
      *crypto::KeyPair::fromSeed(crypto::Seed(crypto::KeyType::ed25519, {4, 5, 6}));
  return k;
}

void verdictAndBook(MessageType type, std::uint8_t selector, std::string_view text) {
  Ed25519Key hk{};
  std::copy(hostKey().publicKey().begin() + 1, hostKey().publicKey().end(), hk.begin());
  auto box = crypto::seal(hk, core::asBytes(text));
  if (!box) fail("sealing failed", std::string(text), box.error().message);
  IncomingTransaction in;
  in.hash[0] = selector;
  in.type = ledger::txtype::kPayment;
  in.account = tenantKey().accountId();
  in.destination = hostKey().accountId();
  in.signingPubKey = core::toBytes(tenantKey().publicKey());
  in.signatureValid = true;
  in.succeeded = true;
  ledger::Amount paid;
  paid.drops = 1 + static_cast<std::uint64_t>((selector & 0x7F) / kTypes) * 150;  // 1 .. 1201 drops
  in.delivered = paid;
  Memo memo{std::string(messageTypeName(type)), std::string(kFormatSealed), {kEnvelopeVersion}};
  memo.data.insert(memo.data.end(), box->begin(), box->end());
  in.memos.push_back(std::move(memo));

  HostPolicy policy{{"hotpocket"}, 100, 60'000, kMaxEnvVars};
  Verdict v = classify(in, hostKey(), policy);
  if (std::holds_alternative<Ignored>(v)) fail("a well-formed request was ignored", std::string(text), "");

  lease::fakes::ManualClock clock;
  lease::Book book(lease::Offer{1, {}, 1000, 60, 10}, clock);
  lease::Decision d = book.decide(v);
  if (d.duplicate || d.actions.size() != 1) fail("expected exactly one action", std::string(text), "");
  if (const auto* p = std::get_if<lease::Provision>(&d.actions[0])) {
    protocol::InstanceInfo info;
    info.host = "host.example.com";
    info.userPort = info.peerPort = 1;
    d = book.provisioned(p->leaseId, info);
    if (d.actions.size() != 1) fail("provisioned: expected one reply", std::string(text), "");
  }
  const auto* reply = std::get_if<lease::Reply>(&d.actions[0]);
  if (reply == nullptr) fail("expected a reply", std::string(text), "");
  if (reply->refund > paid.drops)
    fail("refund exceeds the payment", std::string(text), std::to_string(reply->refund));
  // Every reply must be buildable as a memo (sealed replies need their key).
  auto built = buildMemo(reply->type, reply->message, reply->sealTo);
  if (!built) fail("reply cannot be built", std::string(text), built.error().message);
  if (book.decide(v).actions.size() != 0) fail("a duplicate produced actions", std::string(text), "");
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  if ((data[0] & 0x80) == 0) {
    parseRoundTrip(kAllMessageTypes[data[0] % kTypes], text, data, size);
  } else if (text.size() <= kMaxSealedPlaintextBytes) {
    verdictAndBook(kAllMessageTypes[(data[0] & 0x7F) % kTypes], data[0], text);
  }
  return 0;
}
