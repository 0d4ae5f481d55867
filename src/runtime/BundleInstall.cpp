// packDirectory, installBundle and the install record (bundle.json): the parts of bundles that
// touch the filesystem.
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <limits>
#include <set>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "BundleInternal.h"
#include "sashimono/runtime/Bundle.h"
#include "sashimono/statefs/UniqueFd.h"

namespace sashimono::runtime {
namespace {

using core::Error;
using core::Result;
using core::Status;
using detail::bundleError;
using detail::quote;
using statefs::UniqueFd;

constexpr std::size_t kMaxRecordBytes = 64u << 20;
constexpr const char* kRecordTemp = "bundle.json.tmp";
constexpr int kRecordFormat = 1;

Error osError(const std::string& what, int err = errno) { return Error::fromErrno("bundle: " + what, err); }

Status writeAll(int fd, const std::uint8_t* p, std::size_t n, const std::string& what) {
  while (n != 0) {
    ssize_t k = ::write(fd, p, std::min<std::size_t>(n, 1u << 30));
    if (k < 0) {
      if (errno == EINTR) continue;
      return osError("writing " + what);
    }
    p += k;
    n -= static_cast<std::size_t>(k);
  }
  return {};
}

// Reads exactly `n` bytes from the start of `fd`; fails if the file holds more or fewer.
Status readExactly(int fd, std::uint8_t* p, std::size_t n, const std::string& what) {
  std::size_t got = 0;
  for (;;) {
    std::uint8_t extra;
    std::uint8_t* dst = got < n ? p + got : &extra;
    std::size_t want = got < n ? std::min<std::size_t>(n - got, 1u << 30) : 1;
    ssize_t k = ::read(fd, dst, want);
    if (k < 0) {
      if (errno == EINTR) continue;
      return osError("reading " + what);
    }
    if (k == 0) break;
    got += static_cast<std::size_t>(k);
    if (got > n) break;
  }
  if (got != n) return bundleError(what + " changed while it was read");
  return {};
}

// ---- packDirectory ----

class Packer {
 public:
  explicit Packer(const BundleLimits& limits) : limits_(limits), a_(limits) {}

  Status walk(int dirfd, const std::string& rel) {
    std::vector<std::string> names;
    {
      int dupfd = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
      if (dupfd < 0) return osError("listing " + where(rel));
      DIR* d = ::fdopendir(dupfd);
      if (d == nullptr) {
        int e = errno;
        ::close(dupfd);
        return osError("listing " + where(rel), e);
      }
      errno = 0;
      while (const dirent* e = ::readdir(d)) {
        std::string_view n = e->d_name;
        if (n != "." && n != "..") names.emplace_back(n);
        if (names.size() > limits_.maxEntries) break;  // the assembler will refuse it anyway
        errno = 0;
      }
      int e = errno;
      ::closedir(d);
      if (e != 0) return osError("listing " + where(rel), e);
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      if (rel.empty() && name == ".git") continue;
      const std::string path = rel.empty() ? name : rel + "/" + name;
      struct stat st {};
      if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return osError("examining " + quote(path));
      if (S_ISDIR(st.st_mode)) {
        BundleFile dir;
        dir.path = path;
        dir.directory = true;
        SASHI_TRY(a_.add(std::move(dir)));
        UniqueFd sub(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub.valid()) return osError("opening " + quote(path));
        SASHI_TRY(walk(sub.get(), path));
      } else if (S_ISREG(st.st_mode)) {
        SASHI_TRY(addFile(dirfd, name, path));
      } else {
        const char* what = S_ISLNK(st.st_mode)    ? "a symbolic link"
                           : S_ISFIFO(st.st_mode) ? "a FIFO"
                           : S_ISSOCK(st.st_mode) ? "a socket"
                                                  : "a device";
        return bundleError("entry " + quote(path) + ": " + what +
                           " (a bundle holds regular files and directories only)");
      }
    }
    return {};
  }

  Result<Bundle> finish() && { return std::move(a_).finish(); }

 private:
  static std::string where(const std::string& rel) { return rel.empty() ? "the directory" : quote(rel); }

  Status addFile(int dirfd, const std::string& name, const std::string& path) {
    UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
    if (!fd.valid()) return osError("opening " + quote(path));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return osError("examining " + quote(path));
    if (!S_ISREG(st.st_mode)) return bundleError("entry " + quote(path) + ": changed while it was packed");
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size > a_.remaining()) {
      return bundleError("entry " + quote(path) + ": the files hold more than " +
                         std::to_string(limits_.maxTotalBytes) + " bytes together (the limit)");
    }
    BundleFile f;
    f.path = path;
    f.executable = (st.st_mode & S_IXUSR) != 0;
    f.data.resize(static_cast<std::size_t>(size));
    SASHI_TRY(readExactly(fd.get(), f.data.data(), f.data.size(), "entry " + quote(path)));
    return a_.add(std::move(f));
  }

  BundleLimits limits_;
  detail::Assembler a_;
};

// ---- resolution beneath the state directory ----

constexpr std::uint64_t kResolve =
    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;

// Opens `rel` (canonical, or "" for the root itself) beneath `root`; the new fd, or -errno.
int openBeneath(int root, const std::string& rel, int flags) {
  struct open_how how {};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.resolve = kResolve;
  const char* p = rel.empty() ? "." : rel.c_str();
  for (int attempt = 0; attempt < 8; ++attempt) {
    long fd = ::syscall(SYS_openat2, root, p, &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    if (errno != EAGAIN && errno != EINTR) return -errno;  // EAGAIN: a concurrent rename; retry
  }
  return -EAGAIN;
}

// The parent directory of a bundle path, as an O_PATH fd beneath the root, and the leaf name.
struct Parent {
  UniqueFd fd;
  std::string leaf;
};

int parentOf(int root, const std::string& path, Parent& out) {
  std::size_t slash = path.rfind('/');
  int fd = openBeneath(root, slash == std::string::npos ? std::string() : path.substr(0, slash),
                       O_PATH | O_DIRECTORY);
  if (fd < 0) return fd;
  out.fd.reset(fd);
  out.leaf = slash == std::string::npos ? path : path.substr(slash + 1);
  return 0;
}

Status reachParent(int root, const std::string& path, Parent& out) {
  if (int rc = parentOf(root, path, out); rc != 0) {
    return osError("install: cannot reach the directory of " + quote(path) +
                       (rc == -ELOOP ? " (a symbolic link is in the way)" : std::string()),
                   -rc);
  }
  return {};
}

Status setDirMode(const Parent& p, const std::string& path) {
  UniqueFd fd(::openat(p.fd.get(), p.leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid() || ::fchmod(fd.get(), 0755) != 0)
    return osError("install: setting the mode of " + quote(path));
  return {};
}

Status ensureDir(int root, const std::string& path) {
  Parent p;
  SASHI_TRY(reachParent(root, path, p));
  if (::mkdirat(p.fd.get(), p.leaf.c_str(), 0755) == 0) return setDirMode(p, path);
  if (errno != EEXIST) return osError("install: creating directory " + quote(path));
  struct stat st {};
  if (::fstatat(p.fd.get(), p.leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return osError("install: examining " + quote(path));
  }
  if (!S_ISDIR(st.st_mode)) {
    // A file, symlink or other non-directory of the state where the bundle has a directory:
    // the bundle's paths belong to the bundle. unlinkat never follows a symlink.
    if (::unlinkat(p.fd.get(), p.leaf.c_str(), 0) != 0) return osError("install: replacing " + quote(path));
    if (::mkdirat(p.fd.get(), p.leaf.c_str(), 0755) != 0)
      return osError("install: creating directory " + quote(path));
  }
  return setDirMode(p, path);
}

Status writeFile(int root, const BundleFile& f) {
  Parent p;
  SASHI_TRY(reachParent(root, f.path, p));
  const std::string tmp(kInstallTempName);
  const int dir = p.fd.get();
  UniqueFd fd(::openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid() && errno == EEXIST) {  // left over from an interrupted install
    if (::unlinkat(dir, tmp.c_str(), 0) != 0) return osError("install: removing a stale " + quote(tmp));
    fd.reset(::openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  }
  if (!fd.valid()) return osError("install: creating a temporary file for " + quote(f.path));
  auto fail = [&](const Error& e) -> Status {
    ::unlinkat(dir, tmp.c_str(), 0);
    return e;
  };
  if (auto st = writeAll(fd.get(), f.data.data(), f.data.size(), quote(f.path)); !st) return fail(st.error());
  if (::fchmod(fd.get(), f.executable ? 0755 : 0644) != 0)
    return fail(osError("install: mode of " + quote(f.path)));
  if (::close(fd.release()) != 0) return fail(osError("install: writing " + quote(f.path)));
  if (::renameat(dir, tmp.c_str(), dir, p.leaf.c_str()) == 0) return {};
  if (errno != EISDIR && errno != ENOTEMPTY && errno != EEXIST) {
    return fail(osError("install: renaming into place " + quote(f.path)));
  }
  // A directory where the bundle has a file: replaced only when empty; state files are kept.
  if (::unlinkat(dir, p.leaf.c_str(), AT_REMOVEDIR) != 0) {
    return fail(osError("install: " + quote(f.path) + " is a directory holding other files in the state"));
  }
  if (::renameat(dir, tmp.c_str(), dir, p.leaf.c_str()) != 0) {
    return fail(osError("install: renaming into place " + quote(f.path)));
  }
  return {};
}

bool unreachable(int rc) { return rc == -ENOENT || rc == -ENOTDIR || rc == -ELOOP || rc == -EXDEV; }

// Removes a file of the previous bundle. Nothing to do when it is gone, or a directory now, or
// cannot be reached without following a symlink (then nothing of ours is there).
Status removeStaleFile(int root, const std::string& path) {
  Parent p;
  if (int rc = parentOf(root, path, p); rc != 0) {
    if (unreachable(rc)) return {};
    return osError("install: cannot reach the directory of " + quote(path), -rc);
  }
  if (::unlinkat(p.fd.get(), p.leaf.c_str(), 0) != 0 && errno != ENOENT && errno != EISDIR &&
      errno != ENOTDIR) {
    return osError("install: removing " + quote(path) + " of the previous bundle");
  }
  return {};
}

// Removes a directory of the previous bundle when empty; one holding state files is kept.
Status removeStaleDir(int root, const std::string& path) {
  Parent p;
  if (int rc = parentOf(root, path, p); rc != 0) {
    if (unreachable(rc)) return {};
    return osError("install: cannot reach the directory of " + quote(path), -rc);
  }
  if (::unlinkat(p.fd.get(), p.leaf.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT && errno != ENOTEMPTY &&
      errno != EEXIST && errno != ENOTDIR && errno != EBUSY) {
    return osError("install: removing directory " + quote(path) + " of the previous bundle");
  }
  return {};
}

// ---- the install record ----

std::string renderRecord(const InstallRecord& r) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto strings = [&](const char* key, const std::vector<std::string>& v) {
    w.Key(key);
    w.StartArray();
    for (const auto& s : v) w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    w.EndArray();
  };
  w.StartObject();
  w.Key("format");
  w.Int(kRecordFormat);
  w.Key("complete");
  w.Bool(r.complete);
  w.Key("contract");
  detail::writeManifest(w, r.contract);
  strings("files", r.files);
  strings("directories", r.directories);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

Error recordError(const std::string& what) {
  return Error::withCode(std::string(kBundleErrorCode),
                         std::string(kInstallRecordName) + ": " + what +
                             " (written only by installBundle; remove it to install without cleanup)");
}

Result<InstallRecord> parseRecord(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError())
    return recordError("invalid JSON at offset " + std::to_string(doc.GetErrorOffset()));
  if (!doc.IsObject()) return recordError("expected an object");
  InstallRecord r;
  std::set<std::string_view> seen;
  auto paths = [&](const rapidjson::Value& v, const char* key, std::vector<std::string>& out) -> Status {
    if (!v.IsArray()) return recordError(std::string("field '") + key + "': expected an array");
    for (const auto& e : v.GetArray()) {
      if (!e.IsString()) return recordError(std::string("field '") + key + "': expected strings");
      std::string s(e.GetString(), e.GetStringLength());
      if (auto st = detail::checkPath(s); !st) {
        return recordError(std::string("field '") + key + "': " + quote(s) + ": " + st.error().message);
      }
      out.push_back(std::move(s));
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return {};
  };
  for (auto m = doc.MemberBegin(); m != doc.MemberEnd(); ++m) {
    std::string_view key(m->name.GetString(), m->name.GetStringLength());
    if (!seen.insert(key).second) return recordError("duplicate field " + quote(key));
    const rapidjson::Value& v = m->value;
    if (key == "format") {
      if (!v.IsInt() || v.GetInt() != kRecordFormat) return recordError("field 'format': expected 1");
    } else if (key == "complete") {
      if (!v.IsBool()) return recordError("field 'complete': expected a boolean");
      r.complete = v.GetBool();
    } else if (key == "contract") {
      auto c = detail::manifestFromValue(v, std::string(kInstallRecordName) + ": contract");
      if (!c) return c.error();
      r.contract = std::move(*c);
    } else if (key == "files") {
      SASHI_TRY(paths(v, "files", r.files));
    } else if (key == "directories") {
      SASHI_TRY(paths(v, "directories", r.directories));
    } else {
      return recordError("unknown field " + quote(key));
    }
  }
  for (const char* k : {"format", "complete", "contract", "files", "directories"}) {
    if (seen.count(k) == 0) return recordError(std::string("field '") + k + "': missing");
  }
  return r;
}

Result<std::optional<InstallRecord>> readRecordAt(int parentfd) {
  const std::string name(kInstallRecordName);
  UniqueFd fd(::openat(parentfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::optional<InstallRecord>{};
    return osError("reading " + name);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return osError("reading " + name);
  if (!S_ISREG(st.st_mode)) return recordError("not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > kMaxRecordBytes) return recordError("too large");
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  SASHI_TRY(readExactly(fd.get(), reinterpret_cast<std::uint8_t*>(text.data()), text.size(), name));
  auto r = parseRecord(text);
  if (!r) return r.error();
  return std::optional<InstallRecord>(std::move(*r));
}

Status writeRecordAt(int parentfd, const InstallRecord& r) {
  const std::string text = renderRecord(r);
  UniqueFd fd(::openat(parentfd, kRecordTemp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd.valid()) return osError(std::string("writing ") + kRecordTemp);
  SASHI_TRY(writeAll(fd.get(), reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), kRecordTemp));
  if (::fsync(fd.get()) != 0 || ::close(fd.release()) != 0)
    return osError(std::string("writing ") + kRecordTemp);
  if (::renameat(parentfd, kRecordTemp, parentfd, std::string(kInstallRecordName).c_str()) != 0) {
    return osError("replacing " + std::string(kInstallRecordName));
  }
  if (::fsync(parentfd) != 0) return osError("syncing the directory of " + std::string(kInstallRecordName));
  return {};
}

struct Target {
  UniqueFd root;    // O_PATH, the state directory
  UniqueFd parent;  // O_RDONLY, where bundle.json lives
};

Result<Target> openTarget(const std::string& targetDir) {
  Target t;
  t.root.reset(::open(targetDir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!t.root.valid()) return osError("opening the state directory " + targetDir);
  t.parent.reset(::openat(t.root.get(), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!t.parent.valid()) return osError("opening the parent of " + targetDir);
  return t;
}

std::vector<std::string> unite(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::string> out;
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace

Result<Bundle> packDirectory(const std::string& dir, const BundleLimits& limits) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return osError("opening " + dir);
  Packer p(limits);
  SASHI_TRY(p.walk(fd.get(), ""));
  return std::move(p).finish();
}

Result<std::optional<InstallRecord>> readInstallRecord(const std::string& targetDir) {
  auto t = openTarget(targetDir);
  if (!t) return t.error();
  return readRecordAt(t->parent.get());
}

Status installBundle(const Bundle& bundle, const std::string& targetDir) {
  // Validate as makeBundle would, without copying file data, and insist on its canonical form.
  std::vector<BundleFile> shape;
  shape.reserve(bundle.files.size());
  for (const BundleFile& f : bundle.files) {
    BundleFile s;
    s.path = f.path;
    s.directory = f.directory;
    s.executable = f.executable;
    if (f.path == kManifestPath) s.data = f.data;
    shape.push_back(std::move(s));
  }
  auto valid = makeBundle(std::move(shape), BundleLimits{std::numeric_limits<std::size_t>::max(),
                                                         std::numeric_limits<std::uint64_t>::max()});
  if (!valid) return valid.error();
  if (valid->files.size() != bundle.files.size() ||
      !std::equal(valid->files.begin(), valid->files.end(), bundle.files.begin(),
                  [](const BundleFile& a, const BundleFile& b) {
                    return a.path == b.path && a.directory == b.directory;
                  })) {
    return bundleError("files are not sorted or lack parent directories (build bundles with makeBundle)");
  }
  if (!(valid->contract == bundle.contract)) {
    return bundleError("the bundle's contract does not match its " + std::string(kManifestPath));
  }

  auto target = openTarget(targetDir);
  if (!target) return target.error();
  const int root = target->root.get();
  if (int rc = openBeneath(root, "", O_PATH | O_DIRECTORY); rc < 0) {
    return osError(
        "install: openat2 with RESOLVE_BENEATH is unavailable (Linux 5.6+ and a seccomp profile "
        "allowing it are required)",
        -rc);
  } else {
    ::close(rc);
  }

  InstallRecord next;
  next.contract = bundle.contract;
  for (const BundleFile& f : bundle.files) (f.directory ? next.directories : next.files).push_back(f.path);
  auto prevResult = readRecordAt(target->parent.get());
  if (!prevResult) return prevResult.error();
  const std::optional<InstallRecord>& prev = *prevResult;

  // First record the union, so that a crash from here on leaves every path we may have
  // written listed for the next install's cleanup.
  InstallRecord intent = next;
  if (prev) {
    intent.files = unite(prev->files, next.files);
    intent.directories = unite(prev->directories, next.directories);
  }
  SASHI_TRY(writeRecordAt(target->parent.get(), intent));

  if (prev) {
    std::set<std::string> keep(next.files.begin(), next.files.end());
    keep.insert(next.directories.begin(), next.directories.end());
    for (const std::string& f : prev->files) {
      if (keep.count(f) == 0) SASHI_TRY(removeStaleFile(root, f));
    }
    for (auto d = prev->directories.rbegin(); d != prev->directories.rend(); ++d) {  // children first
      if (keep.count(*d) == 0) SASHI_TRY(removeStaleDir(root, *d));
    }
  }
  for (const BundleFile& f : bundle.files) {
    if (f.directory) SASHI_TRY(ensureDir(root, f.path));
  }
  for (const BundleFile& f : bundle.files) {
    if (!f.directory) SASHI_TRY(writeFile(root, f));
  }
  UniqueFd rd(::openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!rd.valid() || ::syncfs(rd.get()) != 0) return osError("install: syncing the state directory");

  next.complete = true;
  return writeRecordAt(target->parent.get(), next);
}

}  // namespace sashimono::runtime
