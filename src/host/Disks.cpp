#include "sashimono/host/Disks.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include "FileUtil.h"

namespace sashimono::host {
namespace {

// ext4's "going down" ioctl (linux/fs/ext4/ext4.h; the same number as XFS_IOC_GOINGDOWN):
// NOLOGFLUSH stops the filesystem without writing back anything, which is what a destroy wants —
// the data is being thrown away, and flushing it through the loop device costs hundreds of ms.
constexpr unsigned long kExt4IocShutdown = _IOR('X', 125, __u32);
constexpr __u32 kExt4GoingFlagsNoLogFlush = 0x2;

std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool ok = true;
      for (int k = 1; k <= 3; ++k) {
        char c = s[i + k];
        if (c < '0' || c > '7') ok = false;
        v = v * 8 + (c - '0');
      }
      if (ok) {
        out += static_cast<char>(v);
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

bool under(const std::string& path, const std::string& dir) {
  return path == dir ||
         (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

bool isMountPoint(const std::string& dir) {
  auto m = mountsUnder(dir);
  return m && std::find(m->begin(), m->end(), dir) != m->end();
}

class LinuxDisks final : public Disks {
 public:
  explicit LinuxDisks(ProcessRunner& r) : runner_(r) {}

  core::Result<DiskSpace> space(const std::string& mp) override {
    if (!isMountPoint(mp)) return core::Error("disk space of " + mp + ": nothing is mounted there");
    struct statvfs v {};
    if (::statvfs(mp.c_str(), &v) != 0) return core::Error::fromErrno("statvfs " + mp);
    DiskSpace d;
    d.totalBytes = static_cast<std::uint64_t>(v.f_blocks) * v.f_frsize;
    d.usedBytes = static_cast<std::uint64_t>(v.f_blocks - v.f_bfree) * v.f_frsize;
    return d;
  }

  core::Status create(const std::string& image, const std::string& mp, std::uint64_t bytes, uid_t owner,
                      gid_t group) override {
    if (isMountPoint(mp)) return {};
    if (!detail::exists(image)) {
      int fd = ::open(image.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd < 0) return core::Error::fromErrno("cannot create disk image " + image);
      int rc = ::fallocate(fd, 0, 0, static_cast<off_t>(bytes));
      if (rc != 0 && (errno == EOPNOTSUPP || errno == ENOSYS))
        rc = ::ftruncate(fd, static_cast<off_t>(bytes));
      int e = errno;
      ::close(fd);
      if (rc != 0) {
        ::unlink(image.c_str());
        return core::Error::fromErrno("cannot allocate " + std::to_string(bytes) + " bytes for " + image, e);
      }
      ProcessSpec p;
      p.argv = {"mkfs.ext4",
                "-q",
                "-F",
                "-m",
                "0",
                "-E",
                "root_owner=" + std::to_string(owner) + ":" + std::to_string(group) +
                    ",lazy_itable_init=1,lazy_journal_init=1,nodiscard",
                image};
      p.env = {std::string("PATH=") + kSafePath};
      auto r = runChecked(runner_, p);
      if (!r) {
        ::unlink(image.c_str());
        return r.error().context("formatting " + image);
      }
    }
    return attach(image, mp);
  }

  core::Result<std::uint64_t> reown(const std::string& dir, const Reown& what) override {
    return reownTree(dir, what);
  }

  core::Status ensureDir(const std::string& dir, mode_t mode, uid_t owner, gid_t group) override {
    if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST)
      return core::Error::fromErrno("cannot create " + dir);
    if (::lchown(dir.c_str(), owner, group) != 0) return core::Error::fromErrno("cannot chown " + dir);
    if (::chmod(dir.c_str(), mode) != 0) return core::Error::fromErrno("cannot chmod " + dir);
    return {};
  }

  core::Status writeFile(const std::string& path, const std::string& content, mode_t mode, uid_t owner,
                         gid_t group) override {
    const std::string tmp = path + ".tmp";
    ::unlink(tmp.c_str());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return core::Error::fromErrno("cannot write " + tmp);
    std::size_t off = 0;
    while (off < content.size()) {
      const ssize_t n = ::write(fd, content.data() + off, content.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const int e = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        return core::Error::fromErrno("cannot write " + tmp, e);
      }
      off += static_cast<std::size_t>(n);
    }
    if (::fchown(fd, owner, group) != 0 || ::fchmod(fd, mode) != 0) {
      const int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return core::Error::fromErrno("cannot set the owner and mode of " + tmp, e);
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      const int e = errno;
      ::unlink(tmp.c_str());
      return core::Error::fromErrno("cannot rename " + tmp + " to " + path, e);
    }
    return {};
  }

  core::Status removeTree(const std::string& dir) override {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (ec) return core::Error("cannot remove " + dir + ": " + ec.message());
    return {};
  }

  core::Status attach(const std::string& image, const std::string& mp) override {
    if (isMountPoint(mp)) return {};
    if (::mkdir(mp.c_str(), 0700) != 0 && errno != EEXIST)
      return core::Error::fromErrno("cannot create " + mp);
    int file = ::open(image.c_str(), O_RDWR | O_CLOEXEC);
    if (file < 0) return core::Error::fromErrno("cannot open disk image " + image);
    int ctl = ::open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (ctl < 0) {
      int e = errno;
      ::close(file);
      return core::Error::fromErrno("cannot open /dev/loop-control", e);
    }
    int loop = -1;
    std::string dev;
    for (int attempt = 0; attempt < 100 && loop < 0; ++attempt) {
      int n = ::ioctl(ctl, LOOP_CTL_GET_FREE);
      if (n < 0) break;
      dev = "/dev/loop" + std::to_string(n);
      int fd = ::open(dev.c_str(), O_RDWR | O_CLOEXEC);
      if (fd < 0) continue;
      loop_config cfg{};
      cfg.fd = static_cast<__u32>(file);
      cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
      (void)std::snprintf(reinterpret_cast<char*>(cfg.info.lo_file_name), LO_NAME_SIZE, "%s", image.c_str());
      if (::ioctl(fd, LOOP_CONFIGURE, &cfg) == 0) {
        loop = fd;
      } else {
        ::close(fd);  // taken by someone else in between: try the next free one
      }
    }
    int e = errno;
    ::close(ctl);
    ::close(file);
    if (loop < 0) return core::Error::fromErrno("cannot attach " + image + " to a loop device", e);
    // noinit_itable: the image is fallocated, so its uninitialized inode tables already read as
    // zeros; ext4's background zeroing would instead punch holes through the loop device and undo
    // the preallocation (the host's disk would then be consumed as the tenant writes).
    int rc = ::mount(dev.c_str(), mp.c_str(), "ext4", MS_NODEV | MS_NOSUID | MS_NOATIME,
                     "noinit_itable,nodiscard");
    e = errno;
    ::close(loop);  // autoclear: the device is released when unmounted (or now, if mount failed)
    if (rc != 0) return core::Error::fromErrno("cannot mount " + dev + " (" + image + ") on " + mp, e);
    return {};
  }

  core::Status remove(const std::string& image, const std::string& mp) override {
    auto mounted = host::mountsUnder(mp);
    if (mounted && !mounted->empty()) {
      // Upper mounts first (the state filesystem), then shut the disk down unflushed.
      for (auto& m : *mounted)
        if (m != mp) (void)::umount2(m.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
      if (std::find(mounted->begin(), mounted->end(), mp) != mounted->end() && backedBy(mp, image)) {
        int fd = ::open(mp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
          __u32 flags = kExt4GoingFlagsNoLogFlush;
          (void)::ioctl(fd, kExt4IocShutdown, &flags);
          ::close(fd);
        }
      }
    }
    SASHI_TRY(unmountUnder(mp));
    auto loops = loopsBackedBy([&](const std::string& f) { return f == image || f == image + " (deleted)"; });
    if (!loops) return loops.error();
    for (auto& dev : *loops) {
      int fd = ::open(dev.c_str(), O_RDWR | O_CLOEXEC);
      if (fd < 0) continue;
      ::ioctl(fd, LOOP_CLR_FD, 0);
      ::close(fd);
    }
    if (detail::exists(mp)) {
      if (isMountPoint(mp)) return core::Error("still mounted: " + mp);
      std::error_code ec;
      std::filesystem::remove_all(mp, ec);
      if (ec) return core::Error("cannot remove " + mp + ": " + ec.message(), ec.value());
    }
    // Freeing a large preallocated file (with online discard) takes 100+ ms on a busy disk: the
    // name goes now, the blocks are released when a background thread closes the last fd.
    int keep = ::open(image.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (::unlink(image.c_str()) != 0 && errno != ENOENT) {
      int e = errno;
      if (keep >= 0) ::close(keep);
      return core::Error::fromErrno("cannot remove " + image, e);
    }
    if (keep >= 0) std::thread([keep] { ::close(keep); }).detach();
    return {};
  }

  core::Result<std::vector<std::string>> mountsUnder(const std::string& dir) override {
    return host::mountsUnder(dir);
  }

  core::Result<std::vector<std::string>> loopDevicesUnder(const std::string& dir) override {
    return loopsBackedBy([&](const std::string& f) { return under(f, dir); });
  }

 private:
  // Whether mp is an ext4 mount of a loop device whose backing file is image (never shut down
  // anything else that might be mounted there).
  bool backedBy(const std::string& mp, const std::string& image) {
    auto t = detail::readFile("/proc/self/mountinfo");
    if (!t) return false;
    for (auto& m : parseMountInfo(*t)) {
      if (m.mountPoint != mp || m.fsType != "ext4" || m.source.rfind("/dev/loop", 0) != 0) continue;
      auto f = detail::readFile("/sys/block/" + m.source.substr(5) + "/loop/backing_file");
      if (!f) return false;
      std::string file = *f;
      while (!file.empty() && file.back() == '\n') file.pop_back();
      return file == image;
    }
    return false;
  }

  template <typename Pred>
  core::Result<std::vector<std::string>> loopsBackedBy(Pred pred) {
    std::vector<std::string> out;
    DIR* d = ::opendir("/sys/block");
    if (!d) return core::Error::fromErrno("cannot list /sys/block");
    while (auto* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n.rfind("loop", 0) != 0) continue;
      auto f = detail::readFile("/sys/block/" + n + "/loop/backing_file");
      if (!f) continue;
      std::string file = *f;
      while (!file.empty() && file.back() == '\n') file.pop_back();
      if (pred(file)) out.push_back("/dev/" + n);
    }
    ::closedir(d);
    return out;
  }

  ProcessRunner& runner_;
};

}  // namespace

std::vector<MountEntry> parseMountInfo(std::string_view text) {
  std::vector<MountEntry> out;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream pre(line.substr(0, dash)), post(line.substr(dash + 3));
    std::string id, parent, devno, root, mp;
    if (!(pre >> id >> parent >> devno >> root >> mp)) continue;
    MountEntry m;
    m.mountPoint = unescape(mp);
    post >> m.fsType >> m.source;
    m.source = unescape(m.source);
    out.push_back(std::move(m));
  }
  return out;
}

core::Result<std::vector<std::string>> mountsUnder(const std::string& dir) {
  auto t = detail::readFile("/proc/self/mountinfo");
  if (!t) return t.error();
  std::vector<std::string> out;
  for (auto& m : parseMountInfo(*t))
    if (under(m.mountPoint, dir)) out.push_back(m.mountPoint);
  std::stable_sort(out.begin(), out.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

core::Status unmountUnder(const std::string& dir) {
  for (int round = 0; round < 8; ++round) {
    auto m = mountsUnder(dir);
    if (!m) return m.error();
    if (m->empty()) return {};
    for (auto& mp : *m) {
      if (::umount2(mp.c_str(), UMOUNT_NOFOLLOW) == 0) continue;
      if (errno == EINVAL || errno == ENOENT) continue;
      if (::umount2(mp.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL && errno != ENOENT)
        return core::Error::fromErrno("cannot unmount " + mp);
    }
  }
  auto m = mountsUnder(dir);
  if (m && !m->empty()) return core::Error("mounts remain under " + dir + ": " + m->front());
  return {};
}

std::unique_ptr<Disks> makeLinuxDisks(ProcessRunner& runner) { return std::make_unique<LinuxDisks>(runner); }

}  // namespace sashimono::host
