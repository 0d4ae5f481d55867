// A contract for the executor tests. It speaks the Hot Pocket contract protocol (stdin JSON,
// user_in_fd, framed user outputs, NPL and control packets) and does what argv[1] says:
//   echo [bytewise]      each input back to its user as "Echo: <input>"; with bytewise, the first
//                        user's frames are written one byte per write
//   bigout <bytes>       <bytes> of output to the first user, in 64 KiB frames filled with (k & 0xff)
//   env                  "cwd=…", "fds=0,1,…", "tty=0|1", then "env=K=V" per variable
//   keys                 the stdin object's top-level keys, comma-separated, in order
//   hang                 never exits
//   daemon <marker>      double-forks a daemon (setsid, sleeps, keeps the output socket open) and exits
//   forkbomb <marker>    forks a bounded tree; writes "eagain" if a fork failed with EAGAIN
//   npl <n>              sends "hello-npl" on npl_fd, then reads n (sender, data) pairs and writes
//                        "npl:<sender>:<data>" for each to the first user
//   control              sends a peer_changeset on control_fd
//   flood <size> <n>     n frames of <size> bytes to user 0 until EPIPE, then "ok" to user 1;
//                        exit 0 if EPIPE was seen, 3 otherwise
//   stdin                "bytes=<n> unl=<count>" after reading stdin to EOF
//   stdin4k              one read() of 4096 bytes of stdin; exit 0 if it got them all, else 5
//   exit <code>          exits with <code>;  signal <sig>: kills itself with <sig>
//   killall              kill(-1, SIGKILL) — everything it may signal — then writes "survived"
//   rofs <dir>           "inside=<errno> outside=<errno>": creating a file in cwd, then in <dir>
//   alloc                allocates and touches 1 MiB blocks until that fails, then "alloc-failed <MiB>"
//   fill                 writes a file "fill" in cwd until a write fails, then "fill=<errno> <MiB>"
//   read <path>          "read=<errno>" (0: it could open and read <path>)
//   privkey              "privkey=<the stdin's private_key>"
//   probe <hostpid>      "key=value" frames: uid, gid, groups, capeff, nnp, oom, pid, ppid, pids
//                        (visible in /proc), kill1, killhost, ptrace1, umount (errno, 0 = success)
// Every mode ignores marker arguments: they only tag the processes for the tests' /proc scans.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <rapidjson/document.h>

extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }  // NOLINT
extern char** environ;

namespace {

struct User {
  std::string pk;
  int out = -1;
  std::vector<std::pair<long, long>> inputs;
};

std::string readAll(int fd) {
  std::string s;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    s.append(buf, static_cast<size_t>(n));
  }
  return s;
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "test_contract: %s\n", what);
  std::exit(2);
}

rapidjson::Document readArgs() {
  std::string json = readAll(0);
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) die("bad stdin JSON");
  return d;
}

std::vector<User> usersOf(const rapidjson::Document& d) {
  std::vector<User> users;
  for (auto it = d["users"].MemberBegin(); it != d["users"].MemberEnd(); ++it) {
    User u;
    u.pk = it->name.GetString();
    const auto& arr = it->value.GetArray();
    u.out = arr[0].GetInt();
    for (rapidjson::SizeType i = 1; i < arr.Size(); ++i)
      u.inputs.emplace_back(arr[i][0].GetInt64(), arr[i][1].GetInt64());
    users.push_back(std::move(u));
  }
  return users;
}

std::string readInput(int fd, long off, long len) {
  std::string s(static_cast<size_t>(len), '\0');
  if (len > 0 && ::pread(fd, s.data(), s.size(), off) != len) die("pread");
  return s;
}

std::string frame(const std::string& payload) {
  const auto n = static_cast<uint32_t>(payload.size());
  std::string f = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                   static_cast<char>(n)};
  return f + payload;
}

// One write per frame (so concurrent writers never interleave), or one byte per write.
bool send(int fd, const std::string& payload, bool bytewise = false) {
  const std::string f = frame(payload);
  if (bytewise) {
    for (char c : f) {
      if (::write(fd, &c, 1) != 1) return false;
      ::usleep(200);
    }
    return true;
  }
  size_t off = 0;
  while (off < f.size()) {
    ssize_t n = ::write(fd, f.data() + off, f.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string statusField(const std::string& name) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(name + ":", 0) == 0) {
      auto v = line.substr(name.size() + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  return "?";
}

int errnoOf(int rc) { return rc == 0 ? 0 : errno; }

int modeEcho(int argc, char** argv) {
  auto d = readArgs();
  const bool bytewise = argc > 2 && std::string(argv[2]) == "bytewise";
  const int in = d["user_in_fd"].GetInt();
  auto users = usersOf(d);
  for (size_t i = 0; i < users.size(); ++i)
    for (auto [off, len] : users[i].inputs)
      send(users[i].out, "Echo: " + readInput(in, off, len), bytewise && i == 0);
  return 0;
}

int modeBigout(char** argv) {
  auto users = usersOf(readArgs());
  long left = std::atol(argv[2]);
  for (int k = 0; left > 0; ++k) {
    const long n = std::min(left, 65536L);
    if (!send(users.at(0).out, std::string(static_cast<size_t>(n), static_cast<char>(k & 0xff)))) return 4;
    left -= n;
  }
  return 0;
}

int modeEnv() {
  auto users = usersOf(readArgs());
  const int out = users.at(0).out;
  char cwd[4096];
  send(out, std::string("cwd=") + (::getcwd(cwd, sizeof cwd) ? cwd : "?"));
  std::vector<int> fds;
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) die("opendir");
  while (auto* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    const int fd = std::atoi(e->d_name);
    if (fd != ::dirfd(dir)) fds.push_back(fd);
  }
  ::closedir(dir);
  std::sort(fds.begin(), fds.end());
  std::string list;
  for (int fd : fds) list += (list.empty() ? "" : ",") + std::to_string(fd);
  send(out, "fds=" + list);
  send(out, std::string("tty=") + (::isatty(0) ? "1" : "0"));
  for (char** e = environ; *e; ++e) send(out, std::string("env=") + *e);
  return 0;
}

int modeKeys() {
  auto d = readArgs();
  std::string keys;
  for (auto it = d.MemberBegin(); it != d.MemberEnd(); ++it)
    keys += (keys.empty() ? "" : ",") + std::string(it->name.GetString());
  auto users = usersOf(d);
  if (!users.empty()) send(users[0].out, keys);
  return 0;
}

int modeDaemon() {
  auto users = usersOf(readArgs());
  const pid_t mid = ::fork();
  if (mid == 0) {
    ::setsid();
    if (::fork() == 0) {
      for (;;) ::sleep(1);  // holds the output socket open
    }
    ::_exit(0);
  }
  int st = 0;
  ::waitpid(mid, &st, 0);
  send(users.at(0).out, "daemon started");
  return 0;
}

int modeForkbomb() {
  auto users = usersOf(readArgs());
  const int out = users.at(0).out;
  const pid_t top = ::getpid();
  // A bounded tree (at most 3 + 9 + 27 + 81 processes) in case the limit did not hold.
  int depth = 0;
  bool eagain = false;
  for (int child = 0; child < 3 && depth < 4; ++child) {
    const pid_t p = ::fork();
    if (p == 0) {
      ++depth;
      child = -1;
      continue;
    }
    if (p < 0 && errno == EAGAIN && !eagain) {
      eagain = true;
      send(out, "eagain");
    }
  }
  if (::getpid() != top) {
    for (;;) ::pause();
  }
  ::usleep(300 * 1000);
  return 0;
}

int modeNpl(char** argv) {
  auto d = readArgs();
  auto users = usersOf(d);
  const int npl = d["npl_fd"].GetInt();
  const std::string hello = "hello-npl";
  if (::send(npl, hello.data(), hello.size(), 0) != static_cast<ssize_t>(hello.size())) die("npl send");
  const int n = std::atoi(argv[2]);
  std::vector<char> buf(128 * 1024);
  for (int i = 0; i < n; ++i) {
    ssize_t a = ::recv(npl, buf.data(), buf.size(), 0);
    if (a <= 0) die("npl recv sender");
    std::string sender(buf.data(), static_cast<size_t>(a));
    ssize_t b = ::recv(npl, buf.data(), buf.size(), 0);
    if (b <= 0) die("npl recv data");
    send(users.at(0).out, "npl:" + sender + ":" + std::string(buf.data(), static_cast<size_t>(b)));
  }
  return 0;
}

int modeControl() {
  auto d = readArgs();
  const int ctl = d["control_fd"].GetInt();
  const std::string msg = R"({"type":"peer_changeset","add":["10.0.0.1:22860"],"remove":[]})";
  return ::send(ctl, msg.data(), msg.size(), 0) == static_cast<ssize_t>(msg.size()) ? 0 : 4;
}

int modeFlood(char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  auto users = usersOf(readArgs());
  const size_t size = static_cast<size_t>(std::atol(argv[2]));
  const int count = std::atoi(argv[3]);
  bool epipe = false;
  for (int i = 0; i < count && !epipe; ++i) {
    if (!send(users.at(0).out, std::string(size, 'x')) && errno == EPIPE) epipe = true;
  }
  for (int i = 0; i < 200 && !epipe; ++i) {  // the runtime closes the socket asynchronously
    ::usleep(10 * 1000);
    if (!send(users.at(0).out, std::string(size, 'y')) && errno == EPIPE) epipe = true;
  }
  send(users.at(1).out, "ok");
  return epipe ? 0 : 3;
}

int modeStdin() {
  const std::string json = readAll(0);
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) die("bad stdin JSON");
  auto users = usersOf(d);
  send(users.at(0).out,
       "bytes=" + std::to_string(json.size()) + " unl=" + std::to_string(d["unl"].MemberCount()));
  return 0;
}

int modeStdin4k() {
  char buf[4096];
  const ssize_t n = ::read(0, buf, sizeof buf);
  return n == static_cast<ssize_t>(sizeof buf) ? 0 : 5;
}

int modeRofs(char** argv) {
  auto users = usersOf(readArgs());
  int inside = 0, outside = 0;
  int fd = ::open("ro-test", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) inside = errno;
  if (fd >= 0) ::close(fd);
  fd = ::open((std::string(argv[2]) + "/rw-test").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) outside = errno;
  if (fd >= 0) ::close(fd);
  send(users.at(0).out, "inside=" + std::to_string(inside) + " outside=" + std::to_string(outside));
  return 0;
}

int modeAlloc() {
  auto users = usersOf(readArgs());
  std::vector<char*> blocks;
  for (;;) {
    char* b = static_cast<char*>(std::malloc(1 << 20));
    if (b == nullptr) break;
    std::memset(b, 1, 1 << 20);
    blocks.push_back(b);
  }
  send(users.at(0).out, "alloc-failed " + std::to_string(blocks.size()));
  return 0;
}

int modeFill() {
  auto users = usersOf(readArgs());
  int fd = ::open("fill", O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
  int err = fd < 0 ? errno : 0;
  std::size_t mib = 0;
  std::string block(1 << 20, 'x');
  std::size_t written = 0;
  while (fd >= 0) {
    const ssize_t n = ::write(fd, block.data(), block.size());
    if (n < 0) {
      err = errno;
      break;
    }
    written += static_cast<std::size_t>(n);  // a short write near the end: the next one fails
    mib = written >> 20;
  }
  if (fd >= 0) ::close(fd);
  send(users.at(0).out, "fill=" + std::to_string(err) + " " + std::to_string(mib));
  return 0;
}

int modeRead(char** argv) {
  auto users = usersOf(readArgs());
  int err = 0;
  int fd = ::open(argv[2], O_RDONLY | O_CLOEXEC);
  char c = 0;
  if (fd < 0 || ::read(fd, &c, 1) < 0) err = errno;
  if (fd >= 0) ::close(fd);
  send(users.at(0).out, "read=" + std::to_string(err));
  return 0;
}

int modePrivkey() {
  auto d = readArgs();
  auto users = usersOf(d);
  send(users.at(0).out,
       std::string("privkey=") + (d.HasMember("private_key") ? d["private_key"].GetString() : "absent"));
  return 0;
}

int modeProbe(char** argv) {
  auto users = usersOf(readArgs());
  const int out = users.at(0).out;
  send(out, "uid=" + std::to_string(::getuid()) + "," + std::to_string(::geteuid()));
  send(out, "gid=" + std::to_string(::getgid()) + "," + std::to_string(::getegid()));
  send(out, "groups=" + std::to_string(::getgroups(0, nullptr)));
  send(out, "capeff=" + statusField("CapEff"));
  send(out, "capprm=" + statusField("CapPrm"));
  send(out, "nnp=" + statusField("NoNewPrivs"));
  std::ifstream oom("/proc/self/oom_score_adj");
  std::string adj;
  oom >> adj;
  send(out, "oom=" + adj);
  send(out, "pid=" + std::to_string(::getpid()));
  send(out, "ppid=" + std::to_string(::getppid()));
  std::vector<int> pids;
  if (DIR* dir = ::opendir("/proc")) {
    while (auto* e = ::readdir(dir))
      if (e->d_name[0] >= '1' && e->d_name[0] <= '9') pids.push_back(std::atoi(e->d_name));
    ::closedir(dir);
  }
  std::sort(pids.begin(), pids.end());
  std::string list;
  for (int p : pids) list += (list.empty() ? "" : ",") + std::to_string(p);
  send(out, "pids=" + list);
  send(out, "kill1=" + std::to_string(errnoOf(::kill(1, 0))));
  send(out, "killhost=" + std::to_string(errnoOf(::kill(std::atoi(argv[2]), 0))));
  const long pt = ::ptrace(PTRACE_ATTACH, 1, nullptr, nullptr);
  send(out, "ptrace1=" + std::to_string(pt == 0 ? 0 : errno));
  if (pt == 0) ::ptrace(PTRACE_DETACH, 1, nullptr, nullptr);
  send(out, "umount=" + std::to_string(errnoOf(::umount2("/proc", MNT_DETACH))));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) die("usage: test_contract MODE [ARGS]");
  const std::string mode = argv[1];
  const int need = mode == "flood" ? 4
                   : (mode == "bigout" || mode == "npl" || mode == "exit" || mode == "signal" ||
                      mode == "rofs" || mode == "probe" || mode == "read")
                       ? 3
                       : 2;
  if (argc < need) die("missing argument");
  if (mode == "echo") return modeEcho(argc, argv);
  if (mode == "bigout") return modeBigout(argv);
  if (mode == "env") return modeEnv();
  if (mode == "keys") return modeKeys();
  if (mode == "hang") {
    for (;;) ::pause();
  }
  if (mode == "daemon") return modeDaemon();
  if (mode == "forkbomb") return modeForkbomb();
  if (mode == "npl") return modeNpl(argv);
  if (mode == "control") return modeControl();
  if (mode == "flood") return modeFlood(argv);
  if (mode == "stdin") return modeStdin();
  if (mode == "stdin4k") return modeStdin4k();
  if (mode == "exit") return std::atoi(argv[2]);
  if (mode == "signal") {
    ::kill(::getpid(), std::atoi(argv[2]));
    ::pause();
    return 6;
  }
  if (mode == "killall") {
    const int rc = ::kill(-1, SIGKILL);
    auto users = usersOf(readArgs());
    send(users.at(0).out, "survived " + std::to_string(rc));
    return 0;
  }
  if (mode == "rofs") return modeRofs(argv);
  if (mode == "probe") return modeProbe(argv);
  if (mode == "alloc") return modeAlloc();
  if (mode == "fill") return modeFill();
  if (mode == "read") return modeRead(argv);
  if (mode == "privkey") return modePrivkey();
  die("unknown mode");
}
