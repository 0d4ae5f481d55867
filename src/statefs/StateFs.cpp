#define FUSE_USE_VERSION 312
#include "sashimono/statefs/StateFs.h"

#include <fuse3/fuse.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "sashimono/core/Log.h"
#include "sashimono/statefs/Mountinfo.h"

extern char** environ;

namespace sashimono::statefs {

namespace {

constexpr long kFuseSuperMagic = 0x65735546;

struct Context {
  StateBackend* backend;
  MountOptions opts;
  // Handles the kernel has not released yet. An unmount does not wait for RELEASE (close(2)
  // sends it asynchronously), so those still open when the loop ends are released at the end
  // of serve(): the backends' per-handle state and descriptors do not outlive the session.
  std::mutex openMu;
  std::unordered_set<Handle> openFiles, openDirs;

  void opened(std::unordered_set<Handle>& set, Handle h) {
    std::lock_guard lock(openMu);
    set.insert(h);
  }
  void closed(std::unordered_set<Handle>& set, Handle h) {
    std::lock_guard lock(openMu);
    set.erase(h);
  }
  void releaseLeftovers() {
    std::lock_guard lock(openMu);
    for (Handle h : openFiles) (void)backend->release(h);
    for (Handle h : openDirs) (void)backend->releasedir(h);
    openFiles.clear();
    openDirs.clear();
  }
};

Context& ctx() { return *static_cast<Context*>(fuse_get_context()->private_data); }
StateBackend& be() { return *ctx().backend; }

// --- the FUSE operation table: translation only, no logic ------------------------------

void* fsInit(struct fuse_conn_info* conn, struct fuse_config* cfg) {
  Context& c = ctx();
  // Splice both ways where the kernel offers it (docs/STATEFS.md, "Splice"): replies to reads
  // from the source file's descriptor (read_buf), write requests from the device into the source
  // file (write_buf). Not SPLICE_MOVE: it would let the kernel take the pages out of the source
  // file's page cache. libfuse falls back to copying by itself when a pipe cannot be made large
  // enough (an unprivileged daemon's pipes stop at fs.pipe-max-size).
  conn->want |= conn->capable & (FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_READ);
  cfg->use_ino = 1;      // real inode numbers: hard links and `find -samefile` behave
  cfg->nullpath_ok = 1;  // handle-based calls do not need a path ...
  cfg->hard_remove = 1;  // ... so an open file can be unlinked for real (no .fuse_hidden files)
  cfg->auto_cache = 1;   // keep page cache across opens unless mtime/size changed
  cfg->entry_timeout = c.opts.entryTimeout;
  cfg->attr_timeout = c.opts.attrTimeout;
  cfg->negative_timeout = c.opts.negativeTimeout;
  return &c;
}

int fsGetattr(const char* path, struct stat* st, struct fuse_file_info* fi) {
  int rc = fi != nullptr ? be().fgetattr(fi->fh, *st) : be().getattr(path, *st);
  if (rc == 0 && ctx().opts.owner) ctx().opts.owner->present(*st);  // --owner (OwnerMap.h)
  return rc;
}
int fsReadlink(const char* path, char* buf, size_t size) { return be().readlink(path, buf, size); }
int fsMknod(const char* path, mode_t mode, dev_t dev) { return be().mknod(path, mode, dev); }
int fsMkdir(const char* path, mode_t mode) { return be().mkdir(path, mode); }
int fsUnlink(const char* path) { return be().unlink(path); }
int fsRmdir(const char* path) { return be().rmdir(path); }
int fsSymlink(const char* target, const char* path) { return be().symlink(target, path); }
int fsRename(const char* from, const char* to, unsigned int flags) { return be().rename(from, to, flags); }
int fsLink(const char* from, const char* to) { return be().link(from, to); }
int fsChmod(const char* path, mode_t mode, struct fuse_file_info* fi) {
  return fi != nullptr ? be().fchmod(fi->fh, mode) : be().chmod(path, mode);
}
int fsChown(const char* path, uid_t uid, gid_t gid, struct fuse_file_info* fi) {
  if (ctx().opts.owner)
    if (int rc = ctx().opts.owner->chown(uid, gid); rc != 0) return rc;
  return fi != nullptr ? be().fchown(fi->fh, uid, gid) : be().chown(path, uid, gid);
}
int fsTruncate(const char* path, off_t size, struct fuse_file_info* fi) {
  return fi != nullptr ? be().ftruncate(fi->fh, size) : be().truncate(path, size);
}
int fsOpen(const char* path, struct fuse_file_info* fi) {
  Handle h = 0;
  int rc = be().open(path, fi->flags, h);
  if (rc == 0) {
    fi->fh = h;
    ctx().opened(ctx().openFiles, h);
  }
  return rc;
}
int fsCreate(const char* path, mode_t mode, struct fuse_file_info* fi) {
  Handle h = 0;
  int rc = be().create(path, fi->flags, mode, h);
  if (rc == 0) {
    fi->fh = h;
    ctx().opened(ctx().openFiles, h);
  }
  return rc;
}
int fsRead(const char*, char* buf, size_t size, off_t off, struct fuse_file_info* fi) {
  return be().read(fi->fh, buf, size, off);
}
int fsWrite(const char*, const char* buf, size_t size, off_t off, struct fuse_file_info* fi) {
  return be().write(fi->fh, buf, size, off);
}

// A reply that names the source file's descriptor: libfuse splices (or, failing that, copies)
// the bytes straight from it to the device. Backends without a descriptor (the views) answer
// through read() into a buffer libfuse frees.
// One buffer of `size` bytes in memory, not yet placed: what libfuse's FUSE_BUFVEC_INIT makes
// (a C compound literal, which C++ with -Wpedantic refuses).
struct fuse_bufvec oneBuffer(size_t size) {
  struct fuse_bufvec v {};
  v.count = 1;
  v.buf[0].size = size;
  v.buf[0].flags = static_cast<enum fuse_buf_flags>(0);
  v.buf[0].fd = -1;
  return v;
}

int fsReadBuf(const char*, struct fuse_bufvec** bufp, size_t size, off_t off, struct fuse_file_info* fi) {
  auto* bv = static_cast<struct fuse_bufvec*>(std::malloc(sizeof(struct fuse_bufvec)));
  if (bv == nullptr) return -ENOMEM;
  *bv = oneBuffer(size);
  if (int fd = be().readFd(fi->fh); fd >= 0) {
    bv->buf[0].flags = static_cast<enum fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
    bv->buf[0].fd = fd;
    bv->buf[0].pos = off;
    *bufp = bv;
    return 0;
  }
  void* mem = std::malloc(size > 0 ? size : 1);
  int n = mem != nullptr ? be().read(fi->fh, static_cast<char*>(mem), size, off) : -ENOMEM;
  if (n < 0) {
    std::free(mem);
    std::free(bv);
    return n;
  }
  bv->buf[0].mem = mem;
  bv->buf[0].size = static_cast<size_t>(n);
  *bufp = bv;
  return 0;
}

long copyFromRequest(void* context, int fd, off_t offset, size_t size) {
  struct fuse_bufvec dst = oneBuffer(size);
  dst.buf[0].flags = static_cast<enum fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
  dst.buf[0].fd = fd;
  dst.buf[0].pos = offset;
  return static_cast<long>(
      fuse_buf_copy(&dst, static_cast<struct fuse_bufvec*>(context), fuse_buf_copy_flags{}));
}

// A write request whose data is still in libfuse's pipe (splice from the device) goes through
// writeFrom, so the backends save undo data before, and mark after, the splice into the source.
int fsWriteBuf(const char*, struct fuse_bufvec* buf, off_t off, struct fuse_file_info* fi) {
  const size_t size = fuse_buf_size(buf);
  if (buf->count == 1 && (buf->buf[0].flags & FUSE_BUF_IS_FD) == 0)
    return be().write(fi->fh, static_cast<const char*>(buf->buf[0].mem), size, off);
  int rc = be().writeFrom(fi->fh, size, off, WriteSource{copyFromRequest, buf});
  if (rc != -ENOSYS) return rc;
  std::unique_ptr<char, decltype(&std::free)> mem(static_cast<char*>(std::malloc(size > 0 ? size : 1)),
                                                  &std::free);
  if (!mem) return -ENOMEM;
  struct fuse_bufvec tmp = oneBuffer(size);
  tmp.buf[0].mem = mem.get();
  ssize_t got = fuse_buf_copy(&tmp, buf, fuse_buf_copy_flags{});
  if (got < 0) return static_cast<int>(got);
  return be().write(fi->fh, mem.get(), static_cast<size_t>(got), off);
}
int fsStatfs(const char*, struct statvfs* st) { return be().statfs(*st); }
int fsFlush(const char*, struct fuse_file_info* fi) { return be().flush(fi->fh); }
int fsRelease(const char*, struct fuse_file_info* fi) {
  ctx().closed(ctx().openFiles, fi->fh);
  return be().release(fi->fh);
}
int fsFsync(const char*, int datasync, struct fuse_file_info* fi) {
  return be().fsync(fi->fh, datasync != 0);
}
int fsOpendir(const char* path, struct fuse_file_info* fi) {
  Handle h = 0;
  int rc = be().opendir(path, h);
  if (rc == 0) {
    fi->fh = h;
    ctx().opened(ctx().openDirs, h);
  }
  return rc;
}
int fsReaddir(const char*, void* buf, fuse_fill_dir_t filler, off_t off, struct fuse_file_info* fi,
              enum fuse_readdir_flags) {
  return be().readdir(fi->fh, off, [&](const DirEntry& e) {
    struct stat st {};
    st.st_ino = e.ino;
    st.st_mode = static_cast<mode_t>(e.type) << 12;  // DT_* to S_IF*
    return filler(buf, e.name, &st, e.nextOffset, static_cast<fuse_fill_dir_flags>(0)) != 0;
  });
}
int fsReleasedir(const char*, struct fuse_file_info* fi) {
  ctx().closed(ctx().openDirs, fi->fh);
  return be().releasedir(fi->fh);
}
int fsFsyncdir(const char*, int datasync, struct fuse_file_info* fi) {
  return be().fsyncdir(fi->fh, datasync != 0);
}
int fsAccess(const char* path, int mask) { return be().access(path, mask); }
int fsUtimens(const char* path, const struct timespec ts[2], struct fuse_file_info* fi) {
  return fi != nullptr ? be().futimens(fi->fh, ts) : be().utimens(path, ts);
}
int fsFallocate(const char*, int mode, off_t off, off_t len, struct fuse_file_info* fi) {
  return be().fallocate(fi->fh, mode, off, len);
}

struct fuse_operations makeOperations() {
  struct fuse_operations ops {};
  ops.init = fsInit;
  ops.getattr = fsGetattr;
  ops.readlink = fsReadlink;
  ops.mknod = fsMknod;
  ops.mkdir = fsMkdir;
  ops.unlink = fsUnlink;
  ops.rmdir = fsRmdir;
  ops.symlink = fsSymlink;
  ops.rename = fsRename;
  ops.link = fsLink;
  ops.chmod = fsChmod;
  ops.chown = fsChown;
  ops.truncate = fsTruncate;
  ops.open = fsOpen;
  ops.create = fsCreate;
  ops.read = fsRead;
  ops.write = fsWrite;
  ops.read_buf = fsReadBuf;
  ops.write_buf = fsWriteBuf;
  ops.statfs = fsStatfs;
  ops.flush = fsFlush;
  ops.release = fsRelease;
  ops.fsync = fsFsync;
  ops.opendir = fsOpendir;
  ops.readdir = fsReaddir;
  ops.releasedir = fsReleasedir;
  ops.fsyncdir = fsFsyncdir;
  ops.access = fsAccess;
  ops.utimens = fsUtimens;
  ops.fallocate = fsFallocate;
  // No xattr, ioctl, lock or flock: the kernel keeps POSIX and BSD locks locally, and
  // extended attributes (security.*, trusted.*) are not part of the state.
  return ops;
}

struct FuseDeleter {
  void operator()(struct fuse* f) const { fuse_destroy(f); }
};
struct LoopConfigDeleter {
  void operator()(struct fuse_loop_config* c) const { fuse_loop_cfg_destroy(c); }
};

// Waits until `mountpoint` answers as a FUSE filesystem (the kernel's INIT has been served).
core::Status waitUsable(const std::string& mountpoint, const std::atomic<bool>& stopping) {
  using namespace std::chrono;
  const auto deadline = steady_clock::now() + seconds(20);
  while (!stopping.load()) {
    struct statfs sfs {};
    if (::statfs(mountpoint.c_str(), &sfs) != 0) {
      return core::Error::fromErrno("statefs: mount at " + mountpoint + " does not answer");
    }
    if (sfs.f_type == kFuseSuperMagic) return {};
    if (steady_clock::now() > deadline)
      return core::Error("statefs: mount at " + mountpoint + " did not appear");
    std::this_thread::sleep_for(milliseconds(10));
  }
  return core::Error("statefs: stopped before the mount became usable");
}

}  // namespace

void MountNotifier::invalidate(const std::string& path) {
  std::lock_guard lock(mu_);
  if (fuse_ == nullptr) return;
  const int rc = fuse_invalidate_path(fuse_, path.c_str());
  if (rc != 0 && rc != -ENOENT) spdlog::warn("statefs: invalidating {}: {}", path, std::strerror(-rc));
}

core::Status serve(const MountOptions& opts, StateBackend& backend, const ReadyFn& onReady) {
  struct stat mst {};
  if (::stat(opts.mountpoint.c_str(), &mst) != 0) {
    return core::Error::fromErrno("statefs: mountpoint " + opts.mountpoint);
  }
  if (!S_ISDIR(mst.st_mode))
    return core::Error("statefs: mountpoint " + opts.mountpoint + " is not a directory", ENOTDIR);
  ::umask(0);

  Context context{&backend, opts, {}, {}, {}};
  std::string mountOpts =
      std::string("fsname=") + kFsName + ",subtype=" + kSubtype + ",default_permissions,nosuid,nodev";
  if (opts.allowOther) mountOpts += ",allow_other";
  if (opts.readOnly) mountOpts += ",ro";
  std::string prog = kFsName, dashO = "-o";
  std::vector<char*> argv{prog.data(), dashO.data(), mountOpts.data()};
  struct fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  const struct fuse_operations ops = makeOperations();
  std::unique_ptr<struct fuse, FuseDeleter> fs(fuse_new(&args, &ops, sizeof ops, &context));
  fuse_opt_free_args(&args);
  if (!fs) return core::Error("statefs: fuse_new failed (invalid mount options: " + mountOpts + ")");

  if (fuse_mount(fs.get(), opts.mountpoint.c_str()) != 0) {
    return core::Error("statefs: cannot mount on " + opts.mountpoint +
                       " (see the message above; an unprivileged user needs a mountpoint it may write to, "
                       "/dev/fuse mode 666, setuid fusermount3, and for --allow-other user_allow_other in "
                       "/etc/fuse.conf — see tools/setup.sh)");
  }
  struct fuse_session* se = fuse_get_session(fs.get());
  if (opts.signals && fuse_set_signal_handlers(se) != 0) {
    fuse_unmount(fs.get());
    return core::Error("statefs: cannot install signal handlers");
  }

  std::atomic<bool> stopping{false};
  std::thread readiness([&] {
    core::Status s = waitUsable(opts.mountpoint, stopping);
    if (stopping.load()) return;
    if (!s.ok()) {
      if (opts.signals)
        ::kill(::getpid(), SIGTERM);  // ends the loop through the libfuse handler
      else
        fuse_exit(fs.get());
    }
    onReady(s);
  });

  if (opts.notifier != nullptr) {
    std::lock_guard lock(opts.notifier->mu_);
    opts.notifier->fuse_ = fs.get();
  }
  std::unique_ptr<struct fuse_loop_config, LoopConfigDeleter> loopCfg(fuse_loop_cfg_create());
  fuse_loop_cfg_set_max_threads(loopCfg.get(), opts.maxThreads);
  // Idle workers stay (up to maxThreads): with fewer, libfuse's loop ends a worker after each
  // request and starts another for the next one — one clone3 and a fresh receive buffer per
  // 1 MiB write; reads ran at a quarter, writes at about half the speed (docs/PERFORMANCE.md).
  fuse_loop_cfg_set_idle_threads(loopCfg.get(), opts.maxThreads);
  int rc = fuse_loop_mt(fs.get(), loopCfg.get());

  if (opts.notifier != nullptr) {
    std::lock_guard lock(opts.notifier->mu_);
    opts.notifier->fuse_ = nullptr;
  }
  stopping.store(true);
  fuse_unmount(fs.get());  // also wakes a readiness check blocked on the mount
  readiness.join();        // signal handlers stay until here: a late SIGTERM from it is harmless
  if (opts.signals) fuse_remove_signal_handlers(se);
  fs.reset();
  context.releaseLeftovers();
  // rc: 0 after `fusermount3 -u`/umount, the signal number after SIGTERM/SIGINT/SIGHUP,
  // negative errno on a failure of the FUSE channel.
  if (rc < 0) return core::Error("statefs: FUSE session failed", -rc);
  spdlog::info("statefs: unmounted {}", opts.mountpoint);
  return {};
}

namespace {

int runProgram(const std::vector<std::string>& argv) {
  std::vector<char*> a;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  pid_t pid = 0;
  if (::posix_spawnp(&pid, a[0], nullptr, nullptr, a.data(), environ) != 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Canonical path when it resolves; a dead FUSE mount (ENOTCONN) does not, so fall back to
// the lexically normalised absolute path.
std::string mountPath(const std::string& p) {
  char buf[PATH_MAX];
  if (::realpath(p.c_str(), buf) != nullptr) return buf;
  std::filesystem::path abs = std::filesystem::absolute(p).lexically_normal();
  std::string s = abs.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

bool isFuse(const MountEntry& e) { return e.fsType == "fuse" || e.fsType.rfind("fuse.", 0) == 0; }

}  // namespace

core::Result<bool> unmount(const std::string& mountpoint) {
  const std::string path = mountPath(mountpoint);
  bool didSomething = false;
  for (int round = 0; round < 4; ++round) {
    auto all = readOwnMountinfo();
    if (!all.ok()) return all.error();
    auto here = mountsAt(*all, path);
    if (here.empty()) return didSomething;
    if (!isFuse(here.back())) {
      return core::Error("statefs: " + path + " is a " + here.back().fsType +
                         " mount, not a FUSE mount; refusing");
    }
    if (::geteuid() == 0) {
      if (::umount2(path.c_str(), UMOUNT_NOFOLLOW) != 0 &&
          ::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0) {
        return core::Error::fromErrno("statefs: cannot unmount " + path);
      }
    } else if (runProgram({"fusermount3", "-u", "-q", path}) != 0 &&
               runProgram({"fusermount3", "-u", "-q", "-z", path}) != 0) {
      return core::Error("statefs: fusermount3 -u " + path + " failed");
    }
    didSomething = true;
  }
  return core::Error("statefs: " + path + " is still mounted after repeated unmounts");
}

}  // namespace sashimono::statefs
