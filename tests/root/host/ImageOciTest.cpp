// tools/build-image.sh --oci: the archive is a valid OCI image that a real containerd imports.
// The containerd is the test's own: its root, state, config and sockets in a temp directory,
// killed and removed at the end (also when an assertion fails), so the host's containerd (if
// any) and everything else are untouched.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "sashimono/host/Disks.h"
#include "sashimono/host/ProcessRunner.h"

namespace sashimono::host {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string missing() {
  if (::geteuid() != 0) return "needs root";
  for (const char* p :
       {"/usr/bin/containerd", "/usr/bin/ctr", "/bin/busybox", "/usr/bin/tar", "/usr/bin/gzip"})
    if (::access(p, X_OK) != 0) return std::string("missing ") + p;
  return "";
}

// The throwaway containerd and its directory; the destructor stops and removes both.
class ThrowawayContainerd {
 public:
  ThrowawayContainerd() {
    char tmpl[] = "/tmp/smtest-oci-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
  }
  ThrowawayContainerd(const ThrowawayContainerd&) = delete;
  ThrowawayContainerd& operator=(const ThrowawayContainerd&) = delete;
  ~ThrowawayContainerd() {
    stop();
    (void)unmountUnder(dir_.string());
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  [[nodiscard]] const fs::path& dir() const { return dir_; }
  [[nodiscard]] std::string socket() const { return (dir_ / "containerd.sock").string(); }

  // Starts containerd with a config that keeps everything in dir() and loads no plugin that
  // would touch host paths (no CRI, no /opt plugin dir, no snapshotters needing kernel setup).
  bool start() {
    const std::string cfg = (dir_ / "containerd.toml").string();
    std::ofstream(cfg)
        << "version = 2\n"
        << "root = \"" << (dir_ / "root").string() << "\"\n"
        << "state = \"" << (dir_ / "state").string() << "\"\n"
        << "disabled_plugins = [\"io.containerd.grpc.v1.cri\", \"io.containerd.snapshotter.v1.aufs\",\n"
        << "  \"io.containerd.snapshotter.v1.btrfs\", \"io.containerd.snapshotter.v1.devmapper\",\n"
        << "  \"io.containerd.snapshotter.v1.zfs\", \"io.containerd.tracing.processor.v1.otlp\",\n"
        << "  \"io.containerd.internal.v1.tracing\", \"io.containerd.internal.v1.opt\"]\n"
        << "[grpc]\n  address = \"" << socket() << "\"\n"
        << "[ttrpc]\n  address = \"" << socket() << ".ttrpc\"\n"
        << "[debug]\n  address = \"\"\n"
        << "[metrics]\n  address = \"\"\n";
    const std::string log = (dir_ / "containerd.log").string();
    pid_ = ::fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execl("/usr/bin/containerd", "containerd", "-c", cfg.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 1000; ++i) {
      struct stat st;
      if (::stat(socket().c_str(), &st) == 0) return true;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 500; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  [[nodiscard]] std::string log() const { return slurp(dir_ / "containerd.log"); }

 private:
  fs::path dir_;
  pid_t pid_ = -1;
};

class ImageOci : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto m = missing(); !m.empty()) GTEST_SKIP() << m;
    runner_ = makeLinuxProcessRunner();
  }
  core::Result<ProcessResult> run(std::vector<std::string> argv, std::chrono::seconds timeout) {
    ProcessSpec p;
    p.argv = std::move(argv);
    p.env = {std::string("PATH=") + kSafePath, "TMPDIR=/tmp"};
    p.timeout = timeout;
    return runChecked(*runner_, p);
  }
  core::Result<ProcessResult> buildOci(const std::string& name, const fs::path& out,
                                       const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {"bash",   std::string(SASHIMONO_SOURCE_DIR) + "/tools/build-image.sh",
                                     "--name", name,
                                     "--oci",  out.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run(argv, std::chrono::seconds(180));
  }
  std::unique_ptr<ProcessRunner> runner_;
};

// The image config inside an extracted archive: index → manifest → config.
rapidjson::Document blobJson(const fs::path& layout, const std::string& digest) {
  rapidjson::Document d;
  d.Parse(slurp(layout / "blobs/sha256" / digest.substr(7)).c_str());
  return d;
}

TEST_F(ImageOci, ArchivesAreDeterministicOciLayoutsThatContainerdImports) {
  ThrowawayContainerd ctd;
  const auto a = ctd.dir() / "instance.tar";
  const auto b = ctd.dir() / "instance-again.tar";
  const auto hp = ctd.dir() / "hotpocket.tar";
  auto built = buildOci("instance", a);
  ASSERT_TRUE(built.ok()) << built.error().message;
  built = buildOci("instance", b);
  ASSERT_TRUE(built.ok()) << built.error().message;
  EXPECT_EQ(slurp(a), slurp(b)) << "two exports of the same definition differ";
  // hotpocket with a small stand-in for the runtime binary and fast compression (the archive's
  // shape, not the runtime, is under test; a sanitizer build of sashimono takes long to compress).
  built = buildOci(
      "hotpocket", hp,
      {"--sashimono", "/usr/bin/true", "--ref", "example.org/sashimono/hotpocket:test", "--gzip-level", "1"});
  ASSERT_TRUE(built.ok()) << built.error().message;

  // The layout: oci-layout, index.json naming the ref, a manifest, a config from the definition.
  const auto x = ctd.dir() / "x";
  fs::create_directories(x);
  ASSERT_TRUE(run({"tar", "-C", x.string(), "-xf", hp.string()}, std::chrono::seconds(60)).ok());
  EXPECT_NE(slurp(x / "oci-layout").find("\"imageLayoutVersion\":\"1.0.0\""), std::string::npos);
  rapidjson::Document index;
  index.Parse(slurp(x / "index.json").c_str());
  ASSERT_FALSE(index.HasParseError());
  ASSERT_EQ(index["manifests"].Size(), 1u);
  const auto& m = index["manifests"][0];
  EXPECT_STREQ(m["annotations"]["org.opencontainers.image.ref.name"].GetString(),
               "example.org/sashimono/hotpocket:test");
  auto manifest = blobJson(x, m["digest"].GetString());
  ASSERT_FALSE(manifest.HasParseError());
  ASSERT_EQ(manifest["layers"].Size(), 1u);
  EXPECT_STREQ(manifest["layers"][0]["mediaType"].GetString(), "application/vnd.oci.image.layer.v1.tar+gzip");
  auto config = blobJson(x, manifest["config"]["digest"].GetString());
  ASSERT_FALSE(config.HasParseError());
  EXPECT_STREQ(config["config"]["User"].GetString(), "0:0");  // profile runtime
  EXPECT_STREQ(config["config"]["WorkingDir"].GetString(), "/");
  std::vector<std::string> cmd;
  for (auto& v : config["config"]["Cmd"].GetArray()) cmd.emplace_back(v.GetString());
  EXPECT_EQ(cmd, (std::vector<std::string>{"/usr/bin/sashimono", "runtime", "--config",
                                           "/run/sashimono/instance.json", "--data", "/data", "--contract-fs",
                                           "/state"}));
  // Every blob is addressed by its content.
  for (auto& e : fs::directory_iterator(x / "blobs/sha256")) {
    auto sum = run({"sha256sum", e.path().string()}, std::chrono::seconds(60));
    ASSERT_TRUE(sum.ok());
    EXPECT_EQ(sum->out.substr(0, 64), e.path().filename().string());
  }
  // The layer holds the runtime, node, the loader and the mount points.
  auto list = run(
      {"tar", "-tzf",
       (x / "blobs/sha256" / std::string(manifest["layers"][0]["digest"].GetString()).substr(7)).string()},
      std::chrono::seconds(60));
  ASSERT_TRUE(list.ok());
  for (const char* want :
       {"\nusr/bin/sashimono\n", "\nusr/bin/node\n", "\nlib64/ld-linux-x86-64.so.2\n", "\ndata/\n",
        "\nstate/\n", "\nrun/sashimono/\n", "\nbin/busybox\n", "\netc/passwd\n"})
    EXPECT_NE(("\n" + list->out).find(want), std::string::npos) << want;

  // A real containerd imports both.
  ASSERT_TRUE(ctd.start()) << ctd.log();
  for (const auto& [file, ref] : {std::pair{a, std::string("docker.io/library/instance:latest")},
                                  std::pair{hp, std::string("example.org/sashimono/hotpocket:test")}}) {
    auto imp =
        run({"ctr", "--address", ctd.socket(), "images", "import", file.string()}, std::chrono::seconds(120));
    ASSERT_TRUE(imp.ok()) << imp.error().message << "\n" << ctd.log();
    auto ls = run({"ctr", "--address", ctd.socket(), "images", "ls", "-q"}, std::chrono::seconds(30));
    ASSERT_TRUE(ls.ok()) << ls.error().message;
    EXPECT_NE(("\n" + ls->out).find("\n" + ref + "\n"), std::string::npos) << ls->out;
  }
}

}  // namespace
}  // namespace sashimono::host
