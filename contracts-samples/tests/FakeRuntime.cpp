#include "FakeRuntime.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace sashimono::contract::testing {
namespace {

[[noreturn]] void die(const std::string& what) {
  throw std::runtime_error("fake runtime: " + what + ": " + std::strerror(errno));
}

void write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      die("write");
    }
  }
}

// fds 0-2 must be taken before we create channels, or a channel could land on fd 0 and be
// overwritten by the child's stdin.
void ensure_std_fds() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) < 0) {
      const int n = ::open("/dev/null", O_RDWR);
      if (n >= 0 && n != fd) {
        ::dup2(n, fd);
        ::close(n);
      }
    }
  }
}

struct Pair {
  int parent = -1, child = -1;
};

Pair make_pair_of(int type) {
  int sv[2];
  if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) != 0) die("socketpair");
  return Pair{sv[0], sv[1]};
}

}  // namespace

TempInstance::TempInstance() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "hpc-sample-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) die("mkdtemp");
  root_ = tmpl;
  state_ = root_ + "/state";
  std::filesystem::create_directory(state_);
  // The runtime creates the contract's config patch file next to the state directory.
  write_file(patch_cfg(), R"({
    "version": "1.0",
    "unl": [
        ")" + kNodeKey + R"("
    ],
    "bin_path": "contract",
    "bin_args": "",
    "environment": {},
    "max_input_ledger_offset": 10,
    "consensus": {
        "mode": "public",
        "roundtime": 2000,
        "stage_slice": 25,
        "threshold": 80
    },
    "npl": {
        "mode": "public"
    },
    "round_limits": {
        "user_input_bytes": 0,
        "user_output_bytes": 0,
        "npl_output_bytes": 0,
        "proc_cpu_seconds": 0,
        "proc_mem_bytes": 0,
        "proc_ofd_count": 0,
        "exec_timeout": 300000
    }
})");
}

TempInstance::~TempInstance() {
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

bool decode_frames(const std::string& stream, std::vector<std::string>& out, std::string& error) {
  std::size_t pos = 0;
  while (pos < stream.size()) {
    if (stream.size() - pos < 4) {
      error = "stream ends inside a length prefix";
      return false;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(stream.data() + pos);
    const std::size_t len =
        (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) | (std::size_t{p[2]} << 8) | p[3];
    pos += 4;
    if (stream.size() - pos < len) {
      error = "stream ends inside a " + std::to_string(len) + "-byte message";
      return false;
    }
    out.push_back(stream.substr(pos, len));
    pos += len;
  }
  return true;
}

RunResult run_contract(const std::string& state_dir, const std::vector<std::string>& argv,
                       const RunSpec& spec) {
  ensure_std_fds();
  RunResult result;

  // Inputs: one memfd, absolute offsets, with some unrelated bytes first (HP's memfd is shared
  // across rounds, so offsets rarely start at 0).
  const int in_fd = ::memfd_create("user_inputs", MFD_CLOEXEC);
  if (in_fd < 0) die("memfd_create");
  std::string blob = "previous-round-bytes";
  std::vector<std::vector<std::pair<std::uint64_t, std::uint64_t>>> refs;
  for (const auto& [key, inputs] : spec.users) {
    refs.emplace_back();
    for (const auto& in : inputs) {
      refs.back().emplace_back(blob.size(), in.size());
      blob += in;
    }
  }
  write_all(in_fd, blob);

  std::vector<Pair> users;
  for (std::size_t i = 0; i < spec.users.size(); ++i) users.push_back(make_pair_of(SOCK_STREAM));
  const Pair control = make_pair_of(SOCK_SEQPACKET);
  Pair npl;
  if (!spec.readonly) npl = make_pair_of(SOCK_SEQPACKET);
  for (const auto& [sender, data] : spec.npl_in) {
    if (::send(npl.parent, sender.data(), sender.size(), 0) < 0) die("npl send");
    if (::send(npl.parent, data.data(), data.size(), 0) < 0) die("npl send");
  }

  // stdin JSON (fact sheet 3.2).
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("hp_version");
  w.String("0.6.4");
  w.Key("contract_id");
  w.String("3f2504e0-4f89-41d3-9a0c-0305e82c3301");
  w.Key("public_key");
  w.String(kNodeKey.c_str());
  w.Key("private_key");
  w.String(("ed" + std::string(128, '2')).c_str());
  w.Key("timestamp");
  w.Uint64(spec.readonly ? 0 : spec.timestamp);
  w.Key("readonly");
  w.Bool(spec.readonly);
  if (!spec.readonly) {
    w.Key("lcl_seq_no");
    w.Uint64(spec.lcl_seq_no);
    w.Key("lcl_hash");
    w.String(std::string(64, '9').c_str());
    w.Key("npl_fd");
    w.Int(npl.child);
  }
  w.Key("control_fd");
  w.Int(control.child);
  w.Key("user_in_fd");
  w.Int(in_fd);
  w.Key("users");
  w.StartObject();
  for (std::size_t i = 0; i < spec.users.size(); ++i) {
    w.Key(spec.users[i].first.c_str());
    w.StartArray();
    w.Int(users[i].child);
    for (const auto& [off, len] : refs[i]) {
      w.StartArray();
      w.Uint64(off);
      w.Uint64(len);
      w.EndArray();
    }
    w.EndArray();
  }
  w.EndObject();
  if (!spec.readonly) {
    w.Key("unl");
    w.StartObject();
    w.Key(kNodeKey.c_str());
    w.StartObject();
    w.Key("active_on");
    w.Uint64(spec.timestamp - 150);
    w.EndObject();
    w.Key(kPeerKey.c_str());
    w.StartObject();
    w.Key("active_on");
    w.Uint64(0);
    w.EndObject();
    w.EndObject();
  }
  w.EndObject();
  result.stdin_json.assign(sb.GetString(), sb.GetSize());

  // Pre-filled pipe, write end closed before the contract starts.
  int in_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) die("pipe2");
  if (result.stdin_json.size() >= 60000)
    throw std::runtime_error("fake runtime: stdin JSON too large for a pipe");
  write_all(in_pipe[1], result.stdin_json);
  ::close(in_pipe[1]);

  // Everything the child needs, prepared before fork (only async-signal-safe calls after it).
  std::vector<int> pass = {in_fd, control.child};
  if (!spec.readonly) pass.push_back(npl.child);
  for (const auto& u : users) pass.push_back(u.child);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  char* envp[] = {nullptr};  // the runtime passes only the configured environment (none here)

  const pid_t pid = ::fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    if (::dup2(in_pipe[0], 0) < 0) ::_exit(125);
    for (int fd : pass) ::fcntl(fd, F_SETFD, 0);
    if (::chdir(state_dir.c_str()) != 0) ::_exit(126);
    ::execve(args[0], args.data(), envp);
    ::_exit(127);
  }

  ::close(in_pipe[0]);
  ::close(in_fd);
  ::close(control.child);
  if (!spec.readonly) ::close(npl.child);
  for (const auto& u : users) ::close(u.child);

  // Drain every channel until the contract (and everything holding its ends) is gone.
  struct Channel {
    int fd;
    int kind;  // 0 user, 1 npl, 2 control
    std::size_t user;
    bool open = true;
    std::string stream;
  };
  std::vector<Channel> channels;
  for (std::size_t i = 0; i < users.size(); ++i) channels.push_back(Channel{users[i].parent, 0, i, true, {}});
  if (!spec.readonly) channels.push_back(Channel{npl.parent, 1, 0, true, {}});
  channels.push_back(Channel{control.parent, 2, 0, true, {}});

  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::milliseconds(spec.timeout_ms);
  std::string buf(256 * 1024, '\0');
  for (;;) {
    std::vector<pollfd> pfds;
    std::vector<Channel*> open;
    for (auto& c : channels) {
      if (c.open) {
        pfds.push_back(pollfd{c.fd, POLLIN, 0});
        open.push_back(&c);
      }
    }
    if (pfds.empty()) break;
    if (!result.timed_out && clock::now() >= deadline) {
      result.timed_out = true;
      ::kill(pid, SIGKILL);
    }
    const int r = ::poll(pfds.data(), pfds.size(), 100);
    if (r < 0 && errno != EINTR) die("poll");
    for (std::size_t i = 0; r > 0 && i < pfds.size(); ++i) {
      if (!pfds[i].revents) continue;
      Channel& c = *open[i];
      // Small reads for user streams on purpose: frames must be reassembled across reads.
      const std::size_t want = c.kind == 0 ? 1000 : buf.size();
      const ssize_t n = ::recv(c.fd, buf.data(), want, 0);
      if (n > 0) {
        if (c.kind == 0) {
          c.stream.append(buf.data(), static_cast<std::size_t>(n));
        } else {
          (c.kind == 1 ? result.npl_out : result.control_out)
              .emplace_back(buf.data(), static_cast<std::size_t>(n));
        }
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        c.open = false;
        ::close(c.fd);
      }
    }
  }

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result.exited = true;
    result.exit_status = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.term_signal = WTERMSIG(status);
  }

  for (const auto& c : channels) {
    if (c.kind != 0) continue;
    const std::string& key = spec.users[c.user].first;
    auto& out = result.outputs[key];
    std::string error;
    if (!decode_frames(c.stream, out, error)) result.framing_errors[key] = error;
  }
  return result;
}

}  // namespace sashimono::contract::testing
