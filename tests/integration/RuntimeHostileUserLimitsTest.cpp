// RuntimeHostileUserTest (the fixture: HostileUserFixture.h), part 2: per-session limits
// (bad messages, bytes per minute, oversized messages, connection floods, slow readers),
// bundles deployed by strangers and malformed bundles from the owner, and many requests in
// flight.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "HostileUserFixture.h"

using namespace sashimono;
using namespace sashimono::runtime;
using namespace sashimono::runtime::testing;
using namespace std::chrono_literals;

namespace {

// ---- per-session limits ----

TEST_F(RuntimeHostileUserTest, TooManyBadMessagesDisconnect) {
  ASSERT_NO_FATAL_FAILURE(start([](InstanceConfig& c) { c.user.maxBadMsgsPerMin = 5; }));
  auto a = authedAttacker();
  ASSERT_NE(a, nullptr);
  const std::uint64_t lcl = a->lcl();
  // Five bad messages of five kinds are within the limit: each answered as usual.
  a->send("{not json");
  a->send(R"({"type":"hack"})");
  SignedInput forged = makeInput(Protocol::Json, InstanceKey::generate(), "forged", 1, lcl + 5);
  a->send(forged.message);
  a->send(R"({"type":"contract_read_request","id":""})");
  a->send(R"({"type":"subscription","channel":"nonsense","enabled":true})");
  EXPECT_EQ(str(a->status({}).valueOr(Value()), "reason"), "bad_msg_format");
  EXPECT_EQ(str(a->status({}).valueOr(Value()), "reason"), "invalid_msg_type");
  EXPECT_EQ(str(a->status(forged.hash).valueOr(Value()), "reason"), "bad_sig");
  EXPECT_EQ(str(a->status({}).valueOr(Value()), "reason"), "bad_msg_format");  // the malformed read
  a->sendMsg(stat());  // not bad; a malformed subscription gets no answer, so sync on this one
  ASSERT_TRUE(a->waitType("stat_response").ok()) << "five bad messages must not disconnect";
  // The sixth within the minute closes the session.
  a->send("{not json either");
  EXPECT_TRUE(a->closed());
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("after a bad-message flood"));
}

TEST_F(RuntimeHostileUserTest, TooManyBytesPerMinuteDisconnect) {
  ASSERT_NO_FATAL_FAILURE(start([](InstanceConfig& c) { c.user.maxBytesPerMin = 64 * 1024; }));
  auto a = authedAttacker();
  ASSERT_NE(a, nullptr);
  Value padded = stat();
  padded.set("padding", std::string(20 * 1024, 'p'));
  const std::string msg = renderJson(padded);
  for (int i = 0; i < 3; ++i) {  // 60 KiB and the handshake: within 64 KiB
    a->send(msg);
    ASSERT_TRUE(a->waitType("stat_response").ok()) << "message " << i;
  }
  a->send(msg);  // 80 KiB
  EXPECT_TRUE(a->closed());
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("after a byte flood"));
}

TEST_F(RuntimeHostileUserTest, OversizedMessageIsClosedWith1009) {
  ASSERT_NO_FATAL_FAILURE(start([](InstanceConfig& c) { c.user.maxBytesPerMsg = 64 * 1024; }));
  {
    auto a = authedAttacker();
    ASSERT_NE(a, nullptr);
    Value padded = stat();
    padded.set("padding", std::string(60 * 1024, 'p'));
    a->send(renderJson(padded));  // under the limit: served
    ASSERT_TRUE(a->waitType("stat_response").ok());
    a->send(std::string(64 * 1024 + 1, ' '));
    EXPECT_TRUE(a->closed());
    EXPECT_EQ(a->ws().closeCode(), 1009);
  }
  {
    auto a = Raw::open(url());  // also during the handshake
    ASSERT_NE(a, nullptr);
    a->send(std::string(64 * 1024 + 1, '{'));
    EXPECT_TRUE(a->droppedWithoutAnswer());
    EXPECT_EQ(a->ws().closeCode(), 1009);
  }
  {
    // Far over the limit the server stops reading at the frame header; the connection ends, but
    // the client, still writing, usually sees a reset before it can read the 1009 close frame.
    auto a = Raw::open(url());
    ASSERT_NE(a, nullptr);
    a->send(std::string(4 << 20, '{'));
    EXPECT_TRUE(a->droppedWithoutAnswer());
  }
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("after oversized messages"));
}

TEST_F(RuntimeHostileUserTest, ConnectionFloodFromOneAddressIsCapped) {
  ASSERT_NO_FATAL_FAILURE(start([](InstanceConfig& c) { c.user.maxConnectionsPerHost = 3; }));
  // From 127.0.0.2 (the well-behaved user is on 127.0.0.1): three get in, the rest are closed.
  std::vector<std::unique_ptr<BeastUser>> in;
  for (int i = 0; i < 3; ++i) {
    auto u = std::make_unique<BeastUser>();
    ASSERT_TRUE(u->connect("127.0.0.2", port_)) << "connection " << i;
    in.push_back(std::move(u));
  }
  for (int i = 0; i < 5; ++i) {
    BeastUser extra;
    EXPECT_FALSE(extra.connect("127.0.0.2", port_)) << "extra connection " << i;
  }
  // The three work.
  for (auto& u : in) {
    ASSERT_TRUE(u->authenticate());
    ASSERT_TRUE(u->write(R"({"type":"stat"})"));
    auto r = u->read();
    ASSERT_TRUE(r.has_value());
    EXPECT_NE(r->find("stat_response"), std::string::npos);
  }
  // Other addresses are not affected: the connected user, and a new one from 127.0.0.1.
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("during a connection flood"));
  auto fresh = connectUser(InstanceKey::generate());
  ASSERT_NE(fresh, nullptr);
  auto r = fresh->submit(core::asBytes("fresh"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, "accepted");
  // A slot freed on 127.0.0.2 can be taken again.
  in.pop_back();
  bool again = false;
  for (int i = 0; i < 50 && !again; ++i) {
    BeastUser u;
    again = u.connect("127.0.0.2", port_);
    if (!again) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(again);
}

TEST_F(RuntimeHostileUserTest, SlowReaderIsDroppedAndOthersKeepWorking) {
  // A user that asks and stops reading. Its input of 6 MiB is echoed (a 6 MiB contract output)
  // and kept in the ledger; then it asks for that ledger with inputs and outputs, 12 MiB an
  // answer, four times. The socket buffers (a few MiB; its receive buffer is made tiny) and the
  // server's per-session queue (32 MiB, WsServer's default) cannot hold it all: the server drops
  // the connection instead of buffering without bound.
  ASSERT_NO_FATAL_FAILURE(start());
  BeastUser slow;
  ASSERT_TRUE(slow.connect("127.0.0.1", port_, 4096));
  ASSERT_TRUE(slow.authenticate(Protocol::Bson));
  auto lcl = good_->lcl();
  ASSERT_TRUE(lcl.ok());
  SignedInput big = makeInput(Protocol::Bson, slow.key(), std::string(6u << 20, 'b'), 1, lcl->first + 5);
  ASSERT_TRUE(slow.write(big.message));
  std::uint64_t ledger = 0;
  while (ledger == 0) {  // reads up to its input's status, then never again
    auto m = slow.read();
    ASSERT_TRUE(m.has_value()) << "no status for the big input";
    auto v = parseBson(core::asBytes(*m));
    ASSERT_TRUE(v.ok());
    if (str(*v, "type") != "contract_input_status") continue;
    ASSERT_EQ(str(*v, "status"), "accepted") << str(*v, "reason");
    ledger = static_cast<std::uint64_t>(v->find("ledger_seq_no")->asInt());
  }
  constexpr int kQueries = 4;
  for (int i = 0; i < kQueries; ++i) {
    if (!slow.write(renderBson(ledgerQuery("q" + std::to_string(i), ledger)))) break;  // already dropped
  }
  // While its answers are stuck, the others are served, reads included.
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("beside a slow reader"));
  auto echoed = good_->read(core::asBytes("read beside a slow reader"));
  ASSERT_TRUE(echoed.ok()) << echoed.error().message;
  EXPECT_EQ(core::asString(*echoed), "Echo: read beside a slow reader");
  // Dropped: its socket is closed, so a write soon fails (the closed socket answers with a
  // reset). Subscriptions have no answer, so probing adds nothing to read.
  const std::string probe =
      renderBson(*parseJson(R"({"type":"subscription","channel":"unl_change","enabled":true})"));
  bool dropped = false;
  for (auto end = Clock::now() + 10s; Clock::now() < end && !dropped;) {
    dropped = !slow.write(probe);
    if (!dropped) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(dropped) << "the slow reader is still connected after 10 s";
  // What was in flight can still be read, but not every answer, and then the connection ends.
  int answers = 0;
  while (auto m = slow.read())
    if (auto v = parseBson(core::asBytes(*m)); v.ok() && str(*v, "type") == "ledger_query_result") ++answers;
  EXPECT_LT(answers, kQueries);
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("after the slow reader"));
}

// ---- bundles ----

TEST_F(RuntimeHostileUserTest, NonOwnerCannotDeploy) {
  ASSERT_NO_FATAL_FAILURE(start());
  const std::string versionBefore = contractVersion();
  // A valid bundle that would replace echo with a contract that answers nothing.
  auto evil = makeBundle(
      {BundleFile{"contract.json", false, false, bytes(R"({"version":"6.6.6","bin_path":"/bin/true"})")}});
  ASSERT_TRUE(evil.ok()) << evil.error().message;
  auto archive = writeBundle(*evil);
  ASSERT_TRUE(archive.ok()) << archive.error().message;
  core::Bytes upload = bytes(kBundleInputPrefix);
  upload.insert(upload.end(), archive->begin(), archive->end());
  auto mallory = connectUser(InstanceKey::generate());
  ASSERT_NE(mallory, nullptr);
  auto r = mallory->submit(upload);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, "accepted");
  ASSERT_EQ(r->outputs.size(), 1u);
  EXPECT_EQ(core::asString(r->outputs[0]), kRefusedNotOwner);
  EXPECT_TRUE(r->verified);
  // Unchanged: the same version, the same installed files, echo still answering.
  EXPECT_EQ(contractVersion(), versionBefore);
  auto record = readInstallRecord((root_ / "fs" / "state").string());
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->contract.binPath, "echo");
  EXPECT_NE((*record)->contract.version, "6.6.6");
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("after a non-owner upload"));
}

TEST_F(RuntimeHostileUserTest, MalformedBundleFromTheOwnerIsRefusedAndTheOldContractRuns) {
  ASSERT_NO_FATAL_FAILURE(start());
  const std::string versionBefore = contractVersion();
  auto owner = connectUser(owner_);
  ASSERT_NE(owner, nullptr);
  auto upload = [&](core::ByteView archive) {
    core::Bytes in = bytes(kBundleInputPrefix);
    in.insert(in.end(), archive.begin(), archive.end());
    return owner->submit(in);
  };
  // `why`: a piece of the refusal's reason.
  auto refused = [&](core::ByteView archive, const char* what, const char* why) {
    auto r = upload(archive);
    ASSERT_TRUE(r.ok()) << what << ": " << r.error().message;
    EXPECT_EQ(r->status, "accepted") << what;
    ASSERT_EQ(r->outputs.size(), 1u) << what;
    const std::string out = core::asString(r->outputs[0]);
    EXPECT_EQ(out.rfind("sashimono: refused: ", 0), 0u) << what << ": " << out;
    EXPECT_NE(out.find(why), std::string::npos) << what << ": " << out;
  };
  // Not an archive; a truncated one; a valid archive whose manifest is wrong.
  ASSERT_NO_FATAL_FAILURE(refused(bytes("this is not a tar archive"), "garbage", "bundle: "));
  auto real = packDirectory(SASHIMONO_ECHO_BUNDLE_DIR);
  ASSERT_TRUE(real.ok());
  auto realArchive = writeBundle(*real);
  ASSERT_TRUE(realArchive.ok());
  ASSERT_NO_FATAL_FAILURE(refused(core::ByteView(*realArchive).subspan(0, realArchive->size() / 2),
                                  "truncated archive", "bundle: "));
  {
    auto noManifest = makeBundle({BundleFile{"contract.json", false, false, bytes(R"({"version":"2.0"})")}});
    EXPECT_FALSE(noManifest.ok());  // makeBundle refuses it; so it is written by hand below
    // A ustar archive of one file "contract.json" missing its bin_path.
    std::string body = R"({"version":"2.0"})";
    std::string h(512, '\0');
    auto put = [&](std::size_t off, const std::string& s) { h.replace(off, s.size(), s); };
    put(0, "contract.json");
    put(100, "0000644");
    put(108, "0000000");
    put(116, "0000000");
    char size[13];
    std::snprintf(size, sizeof size, "%011o", static_cast<unsigned>(body.size()));
    put(124, size);
    put(136, "00000000000");
    put(148, "        ");
    h[156] = '0';
    put(257, std::string("ustar\0", 6));
    put(263, "00");
    unsigned sum = 0;
    for (unsigned char ch : h) sum += ch;
    char chk[8];
    std::snprintf(chk, sizeof chk, "%06o", sum);
    put(148, std::string(chk, 6) + std::string("\0 ", 2));
    std::string tar = h + body + std::string(512 - body.size(), '\0') + std::string(1024, '\0');
    ASSERT_NO_FATAL_FAILURE(refused(core::asBytes(tar), "manifest without bin_path", "bin_path"));
  }
  EXPECT_EQ(contractVersion(), versionBefore);
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("after malformed bundles"));
  // The owner's valid bundle is still installed (the refusals were not for want of permission).
  for (auto& f : real->files)
    if (f.path == "contract.json")
      f.data = bytes(R"({"version":"1.1","bin_path":"echo","bin_args":"","environment":{}})");
  real->contract.version = "1.1";
  auto next = writeBundle(*real);
  ASSERT_TRUE(next.ok()) << next.error().message;
  auto r = upload(*next);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->outputs.size(), 1u);
  EXPECT_EQ(core::asString(r->outputs[0]), "sashimono: deployed version 1.1");
  EXPECT_EQ(contractVersion(), "1.1");
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("after a valid deploy"));
}

// ---- many requests in flight ----

// One user with many inputs in flight (send all, then await each): every input is accepted, and
// each gets its ledger's outputs with a checked proof, its own echo among them, also when
// several inputs landed in the same ledger.
TEST_F(RuntimeHostileUserTest, PipelinedInputsOfOneUserEachGetTheirLedgersOutputs) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto lcl = good_->lcl();
  ASSERT_TRUE(lcl.ok()) << lcl.error().message;
  constexpr int kInputs = 24;
  std::vector<std::pair<std::string, Hash>> sent;
  for (int i = 0; i < kInputs; ++i) {
    std::string text = "pipelined " + std::to_string(i);
    auto h = good_->send(core::asBytes(text), good_->nextNonce(), lcl->first + 10);
    ASSERT_TRUE(h.ok()) << h.error().message;
    sent.emplace_back(text, *h);
  }
  std::map<std::uint64_t, std::vector<core::Bytes>> byLedger;
  // Awaited in reverse: the order of awaits does not matter.
  for (auto it = sent.rbegin(); it != sent.rend(); ++it) {
    auto r = good_->await(it->second);
    ASSERT_TRUE(r.ok()) << it->first << ": " << r.error().message;
    ASSERT_EQ(r->status, "accepted") << it->first << ": " << r->reason;
    EXPECT_TRUE(r->verified) << it->first;
    const std::string want = "Echo: " + it->first;
    EXPECT_TRUE(std::any_of(r->outputs.begin(), r->outputs.end(),
                            [&](const core::Bytes& b) { return core::asString(b) == want; }))
        << it->first << " is not among the outputs of ledger " << r->ledgerSeqNo;
    auto [pos, fresh] = byLedger.emplace(r->ledgerSeqNo, r->outputs);
    if (!fresh) {
      EXPECT_EQ(pos->second, r->outputs) << "two inputs of ledger " << r->ledgerSeqNo;
    }
  }
  std::size_t outputs = 0;
  for (const auto& [seq, outs] : byLedger) outputs += outs.size();
  EXPECT_EQ(outputs, static_cast<std::size_t>(kInputs)) << "one echo per input, each once";
  EXPECT_LT(byLedger.size(), static_cast<std::size_t>(kInputs))
      << "no ledger held two inputs: nothing was shown";
}

// ledger_query is answered off the I/O threads: a burst of queries gets one answer each (the
// ledger, or "busy" beyond the queue), and other users are served meanwhile.
TEST_F(RuntimeHostileUserTest, LedgerQueryBurstIsAnsweredWithoutStallingOthers) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto a = authedAttacker(Protocol::Bson);
  ASSERT_NE(a, nullptr);
  const std::uint64_t lcl = a->lcl();
  ASSERT_GE(lcl, 1u);
  constexpr int kQueries = 300;
  for (int i = 0; i < kQueries; ++i) {
    a->sendMsg(ledgerQuery("q" + std::to_string(i), 1 + static_cast<std::uint64_t>(i) % lcl));
  }
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("during a ledger_query burst"));
  std::set<std::string> answered;
  int found = 0;
  for (int i = 0; i < kQueries; ++i) {
    auto r = a->waitType("ledger_query_result");
    ASSERT_TRUE(r.ok()) << "answer " << i << ": " << r.error().message;
    answered.insert(str(*r, "reply_for"));
    const Value* results = r->find("results");
    ASSERT_TRUE(results != nullptr && results->isArray());
    const Value* err = r->find("error");
    if (err != nullptr && err->isString()) {
      EXPECT_EQ(err->asString(), "busy");
      continue;
    }
    ASSERT_EQ(results->asArray().size(), 1u);
    const Value* seq = results->asArray()[0].find("seq_no");
    ASSERT_TRUE(seq != nullptr && seq->isInt());
    EXPECT_GE(seq->asInt(), 1);
    ++found;
  }
  EXPECT_EQ(answered.size(), static_cast<std::size_t>(kQueries)) << "one answer per query id";
  EXPECT_GT(found, 0);
}

}  // namespace
