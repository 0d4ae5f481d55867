// The FUSE part of bench_statefs_bench (see tests/bench/statefs_bench.cpp): the same operations
// through a real `sashimono statefs mount` and directly on a directory of the same filesystem.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <thread>

#include "bench/statefs_bench/StatefsBench.h"

namespace fs = std::filesystem;

namespace sashimono::statefs_bench {

namespace {

constexpr std::size_t kBlock = 1024 * 1024;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

// Drops the page cache of the file at `path` (clean pages only: call after fsync).
void evict(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("opening " + path);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

double mibPerS(std::uint64_t bytes, Clock::duration d) {
  return static_cast<double>(bytes) / (1 << 20) / std::chrono::duration<double>(d).count();
}

struct Seq {
  double write = 0, writeSync = 0, coldRead = 0, warmRead = 0, cachedRead = 0;  // MiB/s
};

// Writes `mib` blocks of 1 MiB to a new file `path` (which is `backing` on the source filesystem;
// the same path for direct I/O), fsyncs it, then reads it three times: with both page caches
// dropped (from the disk); with only the mount's page cache dropped (the source cached: what the
// mount itself costs; direct: from the page cache); and again with nothing dropped (through the
// mount, the page cache `auto_cache` keeps across opens). The file stays until every run is done:
// removing it here would make the next run's writes meet the discard of its blocks (the root ext4
// is mounted with online discard).
Seq sequential(const std::string& path, const std::string& backing, std::uint64_t mib,
               const std::vector<std::uint8_t>& block) {
  Seq r;
  const std::uint64_t total = mib * kBlock;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("creating " + path);
  auto t0 = Clock::now();
  for (std::uint64_t i = 0; i < mib; ++i)
    if (::write(fd, block.data(), kBlock) != static_cast<ssize_t>(kBlock)) fail("writing " + path);
  auto t1 = Clock::now();
  if (::fsync(fd) != 0) fail("fsync " + path);
  auto t2 = Clock::now();
  ::close(fd);
  r.write = mibPerS(total, t1 - t0);
  r.writeSync = mibPerS(total, t2 - t0);

  std::vector<std::uint8_t> buf(kBlock);
  auto readAll = [&] {
    int rfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (rfd < 0) fail("opening " + path);
    std::uint64_t got = 0;
    auto s = Clock::now();
    for (ssize_t n; (n = ::read(rfd, buf.data(), buf.size())) != 0; got += static_cast<std::uint64_t>(n))
      if (n < 0) fail("reading " + path);
    auto e = Clock::now();
    ::close(rfd);
    if (got != total) throw std::runtime_error("read " + std::to_string(got) + " bytes of " + path);
    if (std::memcmp(buf.data(), block.data(), kBlock) != 0) throw std::runtime_error(path + ": wrong bytes");
    return mibPerS(total, e - s);
  };
  evict(backing);
  if (path != backing) evict(path);
  r.coldRead = readAll();
  if (path != backing) evict(path);  // direct: read again from the page cache
  r.warmRead = readAll();
  r.cachedRead = readAll();
  return r;
}

struct Small {
  double create = 0, stat = 0, unlink = 0;  // per second
};

// n files of 1 KiB in 10 directories under a base directory. The runs go in phases (every run's
// creates, then every run's stats, then every run's unlinks): on this ext4 without a journal, a
// create skips inodes freed in the last minute (recently_deleted(), one inode-table look-up
// each), so a create pass right after another run's unlinks would be several times slower.
class SmallFiles {
 public:
  SmallFiles(std::string base, int n) : base_(std::move(base)) {
    for (int i = 0; i < n; ++i)
      paths_.push_back(base_ + "/d" + std::to_string(i % 10) + "/f" + std::to_string(i));
  }
  // open(O_CREAT | O_EXCL), write 1 KiB, close; no fsync.
  void create() {
    if (::mkdir(base_.c_str(), 0755) != 0) fail("mkdir " + base_);
    for (int d = 0; d < 10; ++d)
      if (::mkdir((base_ + "/d" + std::to_string(d)).c_str(), 0755) != 0) fail("mkdir in " + base_);
    std::vector<char> kib(1024, 'x');
    r.create = rate([&](const std::string& p) {
      int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd < 0 || ::write(fd, kib.data(), kib.size()) != static_cast<ssize_t>(kib.size()))
        fail("creating " + p);
      ::close(fd);
    });
  }
  void stat() {
    r.stat = rate([](const std::string& p) {
      struct stat st {};
      if (::stat(p.c_str(), &st) != 0 || st.st_size != 1024) fail("stat " + p);
    });
  }
  void unlink() {
    r.unlink = rate([](const std::string& p) {
      if (::unlink(p.c_str()) != 0) fail("unlink " + p);
    });
    for (int d = 0; d < 10; ++d)
      if (::rmdir((base_ + "/d" + std::to_string(d)).c_str()) != 0) fail("rmdir in " + base_);
    if (::rmdir(base_.c_str()) != 0) fail("rmdir " + base_);
  }
  Small r;

 private:
  double rate(const std::function<void(const std::string&)>& op) const {
    auto t0 = Clock::now();
    for (const auto& p : paths_) op(p);
    return static_cast<double>(paths_.size()) / std::chrono::duration<double>(Clock::now() - t0).count();
  }
  std::string base_;
  std::vector<std::string> paths_;
};

void row(const char* what, const char* unit, const std::vector<double>& direct,
         const std::vector<double>& fuse, const char* goal = "") {
  auto range = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    char s[64];
    std::snprintf(s, sizeof s, "%.0f (%.0f-%.0f)", median(v), v.front(), v.back());
    return std::string(s);
  };
  const double ratio = median(fuse) / median(direct);
  std::printf("%-34s %-6s %22s %22s %7.2f %s\n", what, unit, range(direct).c_str(), range(fuse).c_str(),
              ratio, goal);
}

}  // namespace

int run(const std::vector<std::string>& argv, std::string& out) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) fail("pipe");
  pid_t pid = ::fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    ::dup2(p[1], 1);
    ::dup2(p[1], 2);
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    ::execv(a[0], a.data());
    ::_exit(127);
  }
  ::close(p[1]);
  char buf[4096];
  for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(p[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Mount::Mount(const std::string& source, const std::string& mountpoint, unsigned readaheadKiB,
             const std::vector<std::string>& extra)
    : mountpoint_(mountpoint) {
  std::vector<std::string> argv{SASHIMONO_BINARY, "statefs",      "mount",   "--source",
                                source,           "--mountpoint", mountpoint};
  argv.insert(argv.end(), extra.begin(), extra.end());
  ok_ = run(argv, why_) == 0;
  if (!ok_ || readaheadKiB == 0) return;
  if (auto st = host::setReadahead(mountpoint, readaheadKiB); !st)
    std::printf("readahead left at the kernel's default: %s\n", st.error().message.c_str());
  else
    std::printf("readahead of %s: %u KiB\n", mountpoint.c_str(), readaheadKiB);
}

Mount::~Mount() {
  if (!ok_) return;
  std::string out;
  if (run({SASHIMONO_BINARY, "statefs", "unmount", "--mountpoint", mountpoint_}, out) != 0)
    std::fprintf(stderr, "bench_statefs_bench: unmounting %s: %s\n", mountpoint_.c_str(), out.c_str());
}

bool runFuse(const Options& o, const std::string& dir) {
  std::printf("\n== FUSE throughput ==\n");
  if (::geteuid() != 0 && ::access("/dev/fuse", R_OK | W_OK) != 0) {
    std::printf("skipped: /dev/fuse is not usable by this user (%s)\n", std::strerror(errno));
    return false;
  }
  const std::string src = dir + "/src", mnt = dir + "/mnt", direct = dir + "/direct";
  for (const auto& d : {src, mnt, direct}) fs::create_directories(d);
  Mount mount(src, mnt, o.readaheadKiB);
  if (!mount.ok()) {
    std::printf("skipped: `sashimono statefs mount` failed: %s\n", mount.why().c_str());
    return false;
  }
  std::printf("mounted %s at %s (%s); direct: %s\n", src.c_str(), mnt.c_str(), SASHIMONO_BINARY,
              direct.c_str());
  std::printf("%d runs each, direct and mount alternating; medians (min-max)\n", o.reps);
  std::fflush(stdout);

  std::vector<std::uint8_t> block(kBlock);
  std::mt19937_64 rng(7);
  fill(rng, block);
  std::vector<Seq> seqD, seqF;
  ::sync();  // nothing of the state part (or an earlier run) left to write back meanwhile
  // Direct first in even runs, the mount first in odd ones.
  auto alternate = [&](int r, const std::function<void()>& d, const std::function<void()>& f) {
    if (r % 2 == 0) {
      d();
      f();
    } else {
      f();
      d();
    }
  };
  std::vector<SmallFiles> smallD, smallF;
  for (int r = 0; r < o.reps; ++r) {
    smallD.emplace_back(direct + "/small" + std::to_string(r), o.smallFiles);
    smallF.emplace_back(mnt + "/small" + std::to_string(r), o.smallFiles);
  }
  for (int r = 0; r < o.reps; ++r) {
    const std::string name = "/seq" + std::to_string(r);
    alternate(
        r, [&] { seqD.push_back(sequential(direct + name, direct + name, o.ioMiB, block)); },
        [&] { seqF.push_back(sequential(mnt + name, src + name, o.ioMiB, block)); });
  }
  for (int r = 0; r < o.reps; ++r)
    for (const auto& p : {direct + "/seq" + std::to_string(r), mnt + "/seq" + std::to_string(r)})
      if (::unlink(p.c_str()) != 0) fail("removing " + p);
  ::sync();
  for (int r = 0; r < o.reps; ++r)
    alternate(
        r, [&] { smallD[r].create(); }, [&] { smallF[r].create(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // past the mount's 1 s timeouts
  for (int r = 0; r < o.reps; ++r)
    alternate(
        r, [&] { smallD[r].stat(); }, [&] { smallF[r].stat(); });
  for (int r = 0; r < o.reps; ++r)
    alternate(
        r, [&] { smallD[r].unlink(); }, [&] { smallF[r].unlink(); });

  auto pick = [](const auto& v, auto field) {
    std::vector<double> out;
    for (const auto& x : v) out.push_back(x.*field);
    return out;
  };
  std::printf("\n%-34s %-6s %22s %22s %7s\n", "operation", "unit", "direct", "statefs mount", "ratio");
  char label[64];
  std::snprintf(label, sizeof label, "write %llu x 1 MiB (page cache)",
                static_cast<unsigned long long>(o.ioMiB));
  row(label, "MiB/s", pick(seqD, &Seq::write), pick(seqF, &Seq::write), "goal >= 0.6");
  row("  the same, until fsync returned", "MiB/s", pick(seqD, &Seq::writeSync), pick(seqF, &Seq::writeSync),
      "goal >= 0.6");
  row("read 1 MiB blocks, caches dropped", "MiB/s", pick(seqD, &Seq::coldRead), pick(seqF, &Seq::coldRead),
      "goal >= 0.6");
  row("read, mount's page cache dropped", "MiB/s", pick(seqD, &Seq::warmRead), pick(seqF, &Seq::warmRead),
      "goal >= 0.6");
  row("read again, nothing dropped", "MiB/s", pick(seqD, &Seq::cachedRead), pick(seqF, &Seq::cachedRead));
  std::snprintf(label, sizeof label, "create %d files of 1 KiB", o.smallFiles);
  auto smalls = [](const std::vector<SmallFiles>& v) {
    std::vector<Small> out;
    for (const auto& x : v) out.push_back(x.r);
    return out;
  };
  row(label, "/s", pick(smalls(smallD), &Small::create), pick(smalls(smallF), &Small::create));
  row("stat them (1 s timeouts expired)", "/s", pick(smalls(smallD), &Small::stat),
      pick(smalls(smallF), &Small::stat));
  row("unlink them", "/s", pick(smalls(smallD), &Small::unlink), pick(smalls(smallF), &Small::unlink));
  return true;
}

}  // namespace sashimono::statefs_bench
