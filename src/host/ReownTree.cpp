// reownTree: gives a tree's files of one owner to another (Disks.h).
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "sashimono/host/Disks.h"

namespace sashimono::host {
namespace {

struct Walk {
  Reown what;
  std::uint64_t changed = 0;
  int error = 0;
  std::string errorPath;
};
thread_local Walk* tWalk = nullptr;

int visit(const char* path, const struct stat* st, int type, struct FTW*) {
  Walk& w = *tWalk;
  if (type == FTW_NS || type == FTW_DNR) {
    w.error = errno != 0 ? errno : EACCES;
    w.errorPath = path;
    return 1;
  }
  const bool u = st->st_uid == w.what.fromUid;
  const bool g = st->st_gid == w.what.fromGid;
  if (!u && !g) return 0;
  if (::lchown(path, u ? w.what.toUid : static_cast<uid_t>(-1), g ? w.what.toGid : static_cast<gid_t>(-1)) !=
      0) {
    w.error = errno;
    w.errorPath = path;
    return 1;
  }
  // chown clears a regular file's set-id bits; the mode is part of the state, keep it. (Never a
  // symlink here: lstat said what it is, and no tenant process runs meanwhile.)
  if (S_ISREG(st->st_mode) && (st->st_mode & (S_ISUID | S_ISGID)) != 0 &&
      ::chmod(path, st->st_mode & 07777) != 0) {
    w.error = errno;
    w.errorPath = path;
    return 1;
  }
  ++w.changed;
  return 0;
}

}  // namespace

core::Result<std::uint64_t> reownTree(const std::string& dir, const Reown& what) {
  Walk w;
  w.what = what;
  tWalk = &w;
  // FTW_PHYS: symlinks are not followed (lchown changes the link itself); FTW_MOUNT: stays on
  // the directory's filesystem.
  const int rc = ::nftw(dir.c_str(), visit, 64, FTW_PHYS | FTW_MOUNT);
  tWalk = nullptr;
  if (w.error != 0)
    return core::Error::fromErrno("cannot give " + w.errorPath + " to its new owner", w.error);
  if (rc != 0) return core::Error::fromErrno("cannot walk " + dir);
  return w.changed;
}

}  // namespace sashimono::host
