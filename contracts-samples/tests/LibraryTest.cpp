// Tests of the hpc library in-process: argument parsing, input reads, output framing (partial
// writes, EINTR, EPIPE), NPL, control channel and the patch config file.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "FakeRuntime.h"
#include "hpc/contract.h"

namespace hpc = sashimono::contract;
using namespace sashimono::contract::testing;

namespace {

struct SocketPair {
  int a = -1, b = -1;
  explicit SocketPair(int type) {
    int sv[2];
    if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) == 0) {
      a = sv[0];
      b = sv[1];
    }
  }
  ~SocketPair() {
    if (a >= 0) ::close(a);
    if (b >= 0) ::close(b);
  }
  void close_b() {
    ::close(b);
    b = -1;
  }
};

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      return out;
    }
  }
}

std::string args_json(const std::string& extra_users = R"({"edaa":[5,[0,5],[5,12]]})",
                      bool readonly = false) {
  return std::string(R"({"hp_version":"0.6.4","contract_id":"3f25","public_key":")") + kNodeKey +
         R"(","private_key":"ed02","timestamp":18446744073709551615,"readonly":)" +
         (readonly ? "true" : "false") +
         R"(,"lcl_seq_no":43,"lcl_hash":"9a9a","npl_fd":9,"control_fd":7,"user_in_fd":12,"users":)" +
         extra_users + R"(,"unl":{")" + kNodeKey + R"(":{"active_on":1718000001850},")" + kPeerKey +
         R"(":{"active_on":0}}})";
}

// A Contract whose NPL/control fds are the given sockets (JSON built around them).
hpc::Contract contract_with(int npl_fd, int control_fd, bool readonly = false) {
  std::string json = R"({"contract_id":"c","public_key":")" + kNodeKey + R"(","readonly":)" +
                     (readonly ? "true" : "false") + R"(,"control_fd":)" + std::to_string(control_fd) +
                     R"(,"user_in_fd":0,"users":{})";
  if (!readonly) json += R"(,"npl_fd":)" + std::to_string(npl_fd);
  json += R"(,"unl":{")" + kPeerKey + R"(":{"active_on":5}}})";
  return hpc::Contract::parse(json);
}

}  // namespace

// ---- stdin JSON -----------------------------------------------------------------------------------

TEST(HpcArgs, ParsesConsensusRun) {
  const auto c = hpc::Contract::parse(args_json(R"({"edaa":[5,[0,5],[5,12]],"edbb":[6]})"));
  EXPECT_EQ(c.hp_version(), "0.6.4");
  EXPECT_EQ(c.contract_id(), "3f25");
  EXPECT_EQ(c.public_key(), kNodeKey);
  EXPECT_EQ(c.private_key(), "ed02");
  EXPECT_FALSE(c.readonly());
  EXPECT_EQ(c.timestamp(), 18446744073709551615ull);
  EXPECT_EQ(c.lcl_seq_no(), 43u);
  EXPECT_EQ(c.lcl_hash(), "9a9a");
  EXPECT_EQ(c.npl_fd(), 9);
  EXPECT_EQ(c.control_fd(), 7);
  EXPECT_EQ(c.user_in_fd(), 12);
  ASSERT_EQ(c.users().size(), 2u);
  EXPECT_EQ(c.users()[0].pubkey, "edaa");  // runtime order kept
  EXPECT_EQ(c.users()[0].out_fd, 5);
  ASSERT_EQ(c.users()[0].inputs.size(), 2u);
  EXPECT_EQ(c.users()[0].inputs[1].offset, 5u);
  EXPECT_EQ(c.users()[0].inputs[1].length, 12u);
  EXPECT_TRUE(c.users()[1].inputs.empty());
  ASSERT_NE(c.find_user("edbb"), nullptr);
  EXPECT_EQ(c.find_user("edbb")->out_fd, 6);
  EXPECT_EQ(c.find_user("edcc"), nullptr);
  ASSERT_EQ(c.unl().size(), 2u);
  ASSERT_NE(c.find_unl(kNodeKey), nullptr);
  EXPECT_EQ(c.find_unl(kNodeKey)->active_on, 1718000001850u);
  EXPECT_EQ(c.find_unl(kPeerKey)->active_on, 0u);
}

TEST(HpcArgs, ParsesReadOnlyRun) {
  const auto c = hpc::Contract::parse(R"({"hp_version":"0.6.4","contract_id":"x","public_key":"ed01",
      "private_key":"ed02","timestamp":0,"readonly":true,"control_fd":3,"user_in_fd":4,
      "users":{"edaa":[5,[0,3]]}})");
  EXPECT_TRUE(c.readonly());
  EXPECT_EQ(c.timestamp(), 0u);
  EXPECT_EQ(c.lcl_seq_no(), 0u);
  EXPECT_EQ(c.lcl_hash(), "");
  EXPECT_EQ(c.npl_fd(), -1);
  EXPECT_TRUE(c.unl().empty());
  ASSERT_EQ(c.users().size(), 1u);
  EXPECT_EQ(c.users()[0].inputs.size(), 1u);
}

TEST(HpcArgs, RejectsWrongTypes) {
  const std::vector<std::string> bad = {
      "",
      "[]",
      "{not json",
      // the docs' all-strings example is not what the runtime sends
      R"({"contract_id":"c","public_key":"k","readonly":"false","control_fd":3,"user_in_fd":4,"users":{}})",
      R"({"contract_id":"c","public_key":"k","readonly":false,"timestamp":"1","control_fd":3,"user_in_fd":4,"users":{}})",
      R"({"contract_id":"c","public_key":"k","readonly":false,"lcl_seq_no":"43","control_fd":3,"user_in_fd":4,"users":{}})",
      R"({"contract_id":"c","public_key":"k","readonly":false,"control_fd":"3","user_in_fd":4,"users":{}})",
      R"({"contract_id":"c","public_key":"k","readonly":false,"control_fd":3,"user_in_fd":-1,"users":{}})",
      R"({"contract_id":"c","public_key":"k","readonly":false,"control_fd":3,"user_in_fd":4,"users":[]})",
      R"({"contract_id":"c","public_key":"k","readonly":false,"control_fd":3,"user_in_fd":4,"users":{"a":[]}})",
      R"({"contract_id":"c","public_key":"k","readonly":false,"control_fd":3,"user_in_fd":4,"users":{"a":[5,[1]]}})",
      R"({"contract_id":"c","public_key":"k","readonly":false,"control_fd":3,"user_in_fd":4,"users":{"a":[5,[1,-2]]}})",
      R"({"contract_id":"c","public_key":"k","readonly":false,"control_fd":3,"user_in_fd":4,"users":{},"unl":[]})",
      R"({"public_key":"k","readonly":false,"control_fd":3,"user_in_fd":4,"users":{}})",
  };
  for (const auto& json : bad) EXPECT_THROW(hpc::Contract::parse(json), hpc::ContractError) << json;
}

TEST(HpcArgs, ReadsStdinToEof) {
  // More than one pipe read's worth, delivered in pieces with pauses.
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  std::string users = "{";
  for (int i = 0; i < 1200; ++i) {
    if (i) users += ",";
    users += "\"ed" + std::to_string(1000 + i) + "\":[5,[0,1],[1,1]]";
  }
  users += "}";
  const std::string json = args_json(users);
  ASSERT_GT(json.size(), 4096u * 3);
  std::thread writer([&] {
    for (std::size_t pos = 0; pos < json.size(); pos += 3000) {
      const std::size_t n = std::min<std::size_t>(3000, json.size() - pos);
      EXPECT_EQ(::write(p[1], json.data() + pos, n), static_cast<ssize_t>(n));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::close(p[1]);
  });
  const auto c = hpc::Contract::from_fd(p[0]);
  writer.join();
  ::close(p[0]);
  EXPECT_EQ(c.users().size(), 1200u);
}

// ---- inputs ---------------------------------------------------------------------------------------

TEST(HpcInputs, PositionalReadsFromMemfd) {
  const int fd = ::memfd_create("in", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  const std::string blob = std::string("xxhello") + std::string(1, '\0') + "world";
  ASSERT_EQ(::write(fd, blob.data(), blob.size()), static_cast<ssize_t>(blob.size()));
  const auto c = hpc::Contract::parse(R"({"contract_id":"c","public_key":"k","readonly":false,"control_fd":3,
      "user_in_fd":)" + std::to_string(fd) +
                                      R"(,"users":{"edaa":[5,[8,5],[2,6],[0,0]]}})");
  const auto& in = c.users()[0].inputs;
  EXPECT_EQ(c.read_input(in[0]), "world");  // any order
  EXPECT_EQ(c.read_input(in[1]), std::string("hello") + std::string(1, '\0'));
  EXPECT_EQ(c.read_input(in[2]), "");
  EXPECT_THROW(c.read_input(hpc::InputRef{10, 10}), hpc::ContractError);
  ::close(fd);
}

// ---- user outputs ---------------------------------------------------------------------------------

TEST(HpcOutputs, FramesBigEndianLengthThenPayload) {
  SocketPair sp(SOCK_STREAM);
  ASSERT_TRUE(hpc::Contract::send_to_fd(sp.a, "Echo: hi"));
  ASSERT_TRUE(hpc::Contract::send_to_fd(sp.a, ""));
  ASSERT_TRUE(hpc::Contract::send_to_fd(sp.a, std::string(300, 'z')));
  ::shutdown(sp.a, SHUT_WR);
  const std::string raw = read_all(sp.b);
  ASSERT_GE(raw.size(), 12u);
  EXPECT_EQ(raw.substr(0, 12), std::string("\0\0\0\x08", 4) + "Echo: hi");
  EXPECT_EQ(raw.substr(12, 4), std::string(4, '\0'));
  EXPECT_EQ(raw.substr(16, 4), std::string("\0\0\x01\x2c", 4));  // 300, big-endian
  std::vector<std::string> frames;
  std::string error;
  ASSERT_TRUE(decode_frames(raw, frames, error)) << error;
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[2], std::string(300, 'z'));
}

namespace {
std::atomic<int> g_alarms{0};
void on_alarm(int) { g_alarms.fetch_add(1); }
}  // namespace

TEST(HpcOutputs, ResumesPartialWritesAndEintr) {
  // A message far larger than the socket buffer, a reader that starts late and reads in small
  // pieces, and a signal handler without SA_RESTART firing every 2 ms: writev returns short counts
  // and EINTR, and the frame must still arrive whole.
  SocketPair sp(SOCK_STREAM);
  int small = 4096;
  ::setsockopt(sp.a, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  std::string payload(3 * 1024 * 1024 + 7, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 131 + 7);

  struct sigaction sa {
  }, old{};
  sa.sa_handler = on_alarm;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART
  ASSERT_EQ(::sigaction(SIGALRM, &sa, &old), 0);

  std::string received;
  std::thread reader([&] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);  // the alarms are for the writing thread
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    char buf[1000];
    for (;;) {
      const ssize_t n = ::read(sp.b, buf, sizeof buf);
      if (n > 0) {
        received.append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        break;
      }
    }
  });
  itimerval tv{};
  tv.it_interval.tv_usec = 2000;
  tv.it_value.tv_usec = 2000;
  ::setitimer(ITIMER_REAL, &tv, nullptr);
  const bool ok = hpc::Contract::send_to_fd(sp.a, payload);
  itimerval off{};
  ::setitimer(ITIMER_REAL, &off, nullptr);
  ::shutdown(sp.a, SHUT_WR);
  reader.join();
  ::sigaction(SIGALRM, &old, nullptr);

  EXPECT_TRUE(ok);
  EXPECT_GT(g_alarms.load(), 0);
  std::vector<std::string> frames;
  std::string error;
  ASSERT_TRUE(decode_frames(received, frames, error)) << error;
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(frames[0] == payload);
}

TEST(HpcOutputs, ClosedUserIsNotFatal) {
  SocketPair sp(SOCK_STREAM);
  sp.close_b();
  // With SIGPIPE at its default this would kill the test process.
  EXPECT_FALSE(hpc::Contract::send_to_fd(sp.a, "anyone there?"));
  EXPECT_FALSE(hpc::Contract::send_to_fd(sp.a, std::string(100000, 'x')));
}

TEST(HpcOutputs, NonBlockingFdIsWaitedOn) {
  SocketPair sp(SOCK_STREAM);
  ::fcntl(sp.a, F_SETFL, ::fcntl(sp.a, F_GETFL) | O_NONBLOCK);
  const std::string payload(2 * 1024 * 1024, 'n');
  std::string received;
  std::thread reader([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    received = read_all(sp.b);
  });
  EXPECT_TRUE(hpc::Contract::send_to_fd(sp.a, payload));
  ::shutdown(sp.a, SHUT_WR);
  reader.join();
  EXPECT_EQ(received.size(), payload.size() + 4);
}

// ---- NPL ------------------------------------------------------------------------------------------

TEST(HpcNpl, ReceivesSenderThenDataPairs) {
  SocketPair npl(SOCK_SEQPACKET), control(SOCK_SEQPACKET);
  auto c = contract_with(npl.a, control.a);
  const std::string big(hpc::kMaxSeqPacketSize, 'b');
  for (const auto& [who, data] : std::vector<std::pair<std::string, std::string>>{
           {kPeerKey, "first"}, {kNodeKey, std::string("bin\0ary", 7)}, {kPeerKey, big}}) {
    ASSERT_EQ(::send(npl.b, who.data(), who.size(), 0), static_cast<ssize_t>(who.size()));
    ASSERT_EQ(::send(npl.b, data.data(), data.size(), 0), static_cast<ssize_t>(data.size()));
  }
  auto m1 = c.npl_receive(1000);
  ASSERT_TRUE(m1);
  EXPECT_EQ(m1->sender, kPeerKey);
  EXPECT_EQ(m1->data, "first");
  ASSERT_NE(c.find_unl(m1->sender), nullptr);
  auto m2 = c.npl_receive(1000);
  ASSERT_TRUE(m2);
  EXPECT_EQ(m2->sender, kNodeKey);
  EXPECT_EQ(m2->data, std::string("bin\0ary", 7));
  auto m3 = c.npl_receive();
  ASSERT_TRUE(m3);
  EXPECT_EQ(m3->data, big);

  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(c.npl_receive(50));  // nothing pending: times out
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(40));
  EXPECT_FALSE(c.npl_closed());

  npl.close_b();
  EXPECT_FALSE(c.npl_receive(1000));
  EXPECT_TRUE(c.npl_closed());
}

TEST(HpcNpl, RejectsBrokenPairing) {
  SocketPair npl(SOCK_SEQPACKET), control(SOCK_SEQPACKET);
  auto c = contract_with(npl.a, control.a);
  ASSERT_EQ(::send(npl.b, "data-first", 10, 0), 10);
  EXPECT_THROW(c.npl_receive(1000), hpc::ContractError);
}

TEST(HpcNpl, SendsOnePacketPerMessage) {
  SocketPair npl(SOCK_SEQPACKET), control(SOCK_SEQPACKET);
  const auto c = contract_with(npl.a, control.a);
  EXPECT_TRUE(c.npl_send("hello peers"));
  EXPECT_TRUE(c.npl_send(std::string(hpc::kMaxSeqPacketSize, 'm')));
  EXPECT_THROW(c.npl_send(""), hpc::ContractError);
  EXPECT_THROW(c.npl_send(std::string(hpc::kMaxSeqPacketSize + 1, 'm')), hpc::ContractError);
  std::string buf(hpc::kMaxSeqPacketSize + 10, '\0');
  EXPECT_EQ(::recv(npl.b, buf.data(), buf.size(), 0), 11);
  EXPECT_EQ(buf.substr(0, 11), "hello peers");
  EXPECT_EQ(::recv(npl.b, buf.data(), buf.size(), 0), static_cast<ssize_t>(hpc::kMaxSeqPacketSize));
  npl.close_b();
  EXPECT_FALSE(c.npl_send("gone"));  // runtime closed the channel (e.g. npl_output_bytes)
}

TEST(HpcNpl, NotAvailableInReadOnlyRuns) {
  SocketPair control(SOCK_SEQPACKET);
  auto c = contract_with(-1, control.a, /*readonly=*/true);
  EXPECT_THROW(c.npl_send("x"), hpc::ContractError);
  EXPECT_THROW(c.npl_receive(0), hpc::ContractError);
}

// ---- control channel ------------------------------------------------------------------------------

TEST(HpcControl, PeerChangesetMessage) {
  SocketPair npl(SOCK_SEQPACKET), control(SOCK_SEQPACKET);
  const auto c = contract_with(npl.a, control.a);
  EXPECT_TRUE(c.update_peers({"10.0.0.1:22860", "h\"x:1"}, {}));
  EXPECT_TRUE(c.update_peers({}, {"10.0.0.2:22861"}));
  std::string buf(4096, '\0');
  ssize_t n = ::recv(control.b, buf.data(), buf.size(), 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(buf.substr(0, static_cast<std::size_t>(n)),
            R"({"type":"peer_changeset","add":["10.0.0.1:22860","h\"x:1"],"remove":[]})");
  n = ::recv(control.b, buf.data(), buf.size(), 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(buf.substr(0, static_cast<std::size_t>(n)),
            R"({"type":"peer_changeset","add":[],"remove":["10.0.0.2:22861"]})");
}

// ---- patch config ---------------------------------------------------------------------------------

TEST(HpcPatchConfig, ReadsModifiesAndWritesKeepingUnknownMembers) {
  TempInstance inst;
  std::string text = read_file(inst.patch_cfg());
  // a member we do not model must survive
  text.insert(text.find('{') + 1, "\n    \"future_option\": {\"x\": [1, 2]},");
  write_file(inst.patch_cfg(), text);

  auto cfg = hpc::read_patch_config(inst.patch_cfg());
  EXPECT_EQ(cfg.version, "1.0");
  ASSERT_EQ(cfg.unl.size(), 1u);
  EXPECT_EQ(cfg.unl[0], kNodeKey);
  EXPECT_EQ(cfg.consensus.roundtime, 2000u);
  EXPECT_EQ(cfg.round_limits.exec_timeout, 300000u);
  EXPECT_EQ(cfg.npl.mode, "public");

  cfg.version = "2.0";
  cfg.unl.push_back(kPeerKey);
  cfg.consensus.roundtime = 5000;
  cfg.environment["MODE"] = "fast";
  hpc::write_patch_config(cfg, inst.patch_cfg());

  const std::string written = read_file(inst.patch_cfg());
  EXPECT_NE(written.find("\n    \"version\": \"2.0\""), std::string::npos) << written;  // 4-space indent
  EXPECT_NE(written.find("future_option"), std::string::npos) << written;
  const auto again = hpc::read_patch_config(inst.patch_cfg());
  EXPECT_EQ(again.version, "2.0");
  EXPECT_EQ(again.unl.size(), 2u);
  EXPECT_EQ(again.consensus.roundtime, 5000u);
  EXPECT_EQ(again.consensus.stage_slice, 25u);
  EXPECT_EQ(again.environment.at("MODE"), "fast");
}

TEST(HpcPatchConfig, ValidationRejectsBadValues) {
  TempInstance inst;
  const auto good = hpc::read_patch_config(inst.patch_cfg());
  EXPECT_NO_THROW(hpc::validate_patch_config(good));
  std::vector<hpc::PatchConfig> bad(8, good);
  bad[0].version.clear();
  bad[1].unl.clear();
  bad[2].unl.push_back("ed1234");
  bad[3].bin_path.clear();
  bad[4].consensus.mode = "secret";
  bad[5].consensus.roundtime = 0;
  bad[6].consensus.stage_slice = 34;
  bad[7].npl.mode = "";
  for (const auto& b : bad) EXPECT_THROW(hpc::write_patch_config(b, inst.patch_cfg()), hpc::ContractError);
  EXPECT_EQ(hpc::read_patch_config(inst.patch_cfg()).version, "1.0");  // untouched
  EXPECT_THROW(hpc::parse_patch_config(R"({"consensus":{"roundtime":"fast"}})"), hpc::ContractError);
  EXPECT_THROW(hpc::read_patch_config(inst.root() + "/missing.cfg"), hpc::ContractError);
}

TEST(HpcPatchConfig, DefaultPathIsBesideTheStateDirectory) {
  // In a child process, so that chdir does not affect the other tests.
  TempInstance inst;
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int rc = 0;
    try {
      if (::chdir(inst.state().c_str()) != 0) ::_exit(10);
      auto cfg = hpc::read_patch_config();  // ../patch.cfg
      cfg.bin_args = "index.js";
      hpc::write_patch_config(cfg);
      rc = hpc::read_patch_config().bin_args == "index.js" ? 0 : 11;
    } catch (...) {
      rc = 12;
    }
    ::_exit(rc);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(read_file(inst.patch_cfg()).find("\"bin_args\": \"index.js\""), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(inst.state() + "/patch.cfg"));
}
