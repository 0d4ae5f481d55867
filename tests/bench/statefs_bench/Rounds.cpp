// The round part of bench_statefs_bench (see tests/bench/statefs_bench.cpp): what a round's
// checkpoint costs through a real mount that keeps an undo log and a persisted tree, as a
// tenant's does (`statefs mount --control --undo --tree`).
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "bench/statefs_bench/StatefsBench.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/statefs/StateTree.h"

namespace fs = std::filesystem;

namespace sashimono::statefs_bench {

namespace {

// One connection to the control socket: a request line, its answer line.
class Control {
 public:
  explicit Control(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("connecting to " + path + ": " + std::strerror(errno));
  }
  ~Control() { ::close(fd_); }
  Control(const Control&) = delete;
  Control& operator=(const Control&) = delete;

  // The answer to `request`; throws unless it is "ok…".
  std::string ask(const std::string& request) {
    const std::string line = request + "\n";
    if (::write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      throw std::runtime_error("control: sending " + request);
    std::string answer;
    for (char c; answer.empty() || answer.back() != '\n';) {
      if (::read(fd_, &c, 1) != 1) throw std::runtime_error("control: no answer to " + request);
      answer.push_back(c);
    }
    answer.pop_back();
    if (answer.rfind("ok", 0) != 0) throw std::runtime_error("control: " + request + ": " + answer);
    return answer;
  }

 private:
  int fd_ = -1;
};

void pwriteAll(const std::string& path, const std::vector<std::uint8_t>& buf, std::uint64_t at, bool sync) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0 ||
      ::pwrite(fd, buf.data(), buf.size(), static_cast<off_t>(at)) != static_cast<ssize_t>(buf.size()) ||
      (sync && ::fdatasync(fd) != 0))
    throw std::runtime_error("writing " + path + ": " + std::strerror(errno));
  ::close(fd);
}

}  // namespace

bool runRounds(const Options& o, const std::string& stateDir, const std::string& dir) {
  std::printf("\n== round checkpoints ==\n");
  if (::access("/dev/fuse", R_OK | W_OK) != 0) {
    std::printf("skipped: /dev/fuse is not usable by this user (%s)\n", std::strerror(errno));
    return false;
  }
  const State state = makeState(o, stateDir);
  fs::create_directories(dir + "/mnt");
  const std::string sock = dir + "/ctl.sock", mnt = dir + "/mnt";
  auto t0 = Clock::now();
  Mount mount(stateDir, mnt, o.readaheadKiB,
              {"--control", sock, "--undo", dir + "/undo", "--tree", dir + "/tree.sqlite"});
  if (!mount.ok()) {
    std::printf("skipped: `sashimono statefs mount` failed: %s\n", mount.why().c_str());
    return false;
  }
  std::printf("mounted %s at %s with --control --undo --tree in %.0f ms (the tree built)\n", stateDir.c_str(),
              mnt.c_str(), ms(Clock::now() - t0));
  Control ctl(sock);
  ctl.ask("commit");  // the first save of the tree, outside the figures
  const std::string scratch = dir + "/direct";
  {
    std::vector<std::uint8_t> mib(1 << 20);
    std::mt19937_64 fillRng(3);
    for (std::uint64_t off = 0; off < state.fileBytes; off += mib.size()) {
      fill(fillRng, mib);
      writeAt(scratch, off, mib);
    }
    ::sync();
  }

  std::mt19937_64 rng(7);
  std::printf(
      "\nround wrote   rounds   begin p50   writes p50   root p50   commit p50   total p50   total p95   "
      "direct p50   ratio\n");
  for (std::uint64_t w : {std::uint64_t{4096}, std::uint64_t{1} << 20, std::uint64_t{16} << 20}) {
    const int rounds = w <= (1u << 20) ? 31 : 9;
    std::vector<double> begin, writes, root, commit, total, direct;
    for (int r = 0; r < rounds; ++r) {
      // The same writes (file, offset, bytes) through the mount in a round, and directly, each
      // made durable: the direct side with an fdatasync per write (the floor of a durable round).
      std::vector<std::pair<std::size_t, std::uint64_t>> where;
      std::vector<std::vector<std::uint8_t>> bufs;
      for (std::uint64_t done = 0; done < w;) {
        const std::uint64_t len = std::min<std::uint64_t>(w - done, 1 << 20);
        bufs.emplace_back(len);
        fill(rng, bufs.back());
        where.emplace_back(rng() % state.large.size(), rng() % (state.fileBytes - len));
        done += len;
      }
      auto a = Clock::now();
      ctl.ask("begin");
      auto b = Clock::now();
      for (std::size_t i = 0; i < bufs.size(); ++i) {
        const std::string name = fs::path(state.large[where[i].first]).filename().string();
        pwriteAll(mnt + "/" + name, bufs[i], where[i].second, false);
      }
      auto c = Clock::now();
      ctl.ask("root");
      auto d = Clock::now();
      ctl.ask("commit");
      auto e = Clock::now();
      begin.push_back(ms(b - a));
      writes.push_back(ms(c - b));
      root.push_back(ms(d - c));
      commit.push_back(ms(e - d));
      total.push_back(ms(e - a));
      // Directly: the same writes into a file of the same size on the same filesystem, outside
      // the state (writing the state behind the mount would leave its tree stale).
      a = Clock::now();
      for (std::size_t i = 0; i < bufs.size(); ++i) pwriteAll(scratch, bufs[i], where[i].second, true);
      direct.push_back(ms(Clock::now() - a));
    }
    const double t50 = median(total), d50 = median(direct);
    std::printf("%8llu KiB   %6d   %9.2f   %10.2f   %8.2f   %10.2f   %9.2f   %9.2f   %11.2f   %5.1f\n",
                static_cast<unsigned long long>(w >> 10), rounds, median(begin), median(writes), median(root),
                median(commit), t50, pct(total, 0.95), d50, t50 / d50);
  }
  std::printf("(ms; ratio: the round's total to the direct durable writes)\n");
  // The rounds' root must be the state's, hashed from scratch.
  const std::string root = ctl.ask("root").substr(3);
  auto built = statefs::StateTree::build(stateDir);
  if (!built) throw std::runtime_error(built.error().message);
  if (core::toHexLower(built->root()) != root)
    throw std::runtime_error("the mount's root differs from a full build");
  std::printf("root after the rounds == full build: %s\n", root.c_str());
  return true;
}

}  // namespace sashimono::statefs_bench
