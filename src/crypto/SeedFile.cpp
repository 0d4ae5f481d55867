#include "sashimono/crypto/SeedFile.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace sashimono::crypto {

namespace {

std::string_view trimmed(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string octalMode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Closes the descriptor and wipes the buffer however the read ends.
struct SeedBuffer {
  int fd = -1;
  std::string text;
  ~SeedBuffer() {
    if (fd >= 0) ::close(fd);
    if (!text.empty()) sodium_memzero(text.data(), text.size());
  }
};

}  // namespace

core::Status checkSeedFileMode(const std::string& path, mode_t mode) {
  if ((mode & 077) == 0) return {};
  return core::Error("seed file " + path + " is mode " + octalMode(mode) +
                     " (readable by group or others): chmod 600 " + path);
}

core::Result<Seed> decodeSeedText(std::string_view text) {
  const auto t = trimmed(text);
  if (t.empty()) return core::Error("no seed (empty)");
  return decodeSeed(t);
}

core::Result<Seed> readSeedFile(const std::string& path) {
  SeedBuffer b;
  b.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (b.fd < 0) return core::Error::fromErrno("cannot open seed file " + path);
  struct stat st {};
  if (::fstat(b.fd, &st) != 0) return core::Error::fromErrno("stat " + path);
  if (!S_ISREG(st.st_mode)) return core::Error("seed file " + path + " is not a regular file");
  SASHI_TRY(checkSeedFileMode(path, st.st_mode));
  b.text.assign(kMaxSeedFileBytes + 1, '\0');
  std::size_t got = 0;
  while (got < b.text.size()) {
    const ssize_t n = ::read(b.fd, b.text.data() + got, b.text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return core::Error::fromErrno("read " + path);
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > kMaxSeedFileBytes) return core::Error("seed file " + path + " is not a seed file (too long)");
  auto seed = decodeSeedText(std::string_view(b.text.data(), got));
  if (!seed) return seed.error().context("seed file " + path);
  return seed;
}

core::Status writeSeedFile(const std::string& path, std::string_view seedText) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return core::Error::fromErrno("cannot create seed file " + path);
  std::string line(seedText);
  line += '\n';
  const ssize_t n = ::write(fd, line.data(), line.size());
  const int e = errno;
  const bool ok = n == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  sodium_memzero(line.data(), line.size());
  ::close(fd);
  if (!ok) return core::Error::fromErrno("write " + path, n < 0 ? e : EIO);
  return {};
}

}  // namespace sashimono::crypto
