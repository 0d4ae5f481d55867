#include "BundleTar.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <set>
#include <string_view>

#include "BundleInternal.h"

namespace sashimono::runtime::detail {
namespace {

using core::Bytes;
using core::ByteView;
using core::Error;
using core::Result;
using core::Status;

constexpr std::size_t kScratch = 64 * 1024;
constexpr std::size_t kMaxChunk = 1u << 30;  // zlib counts in uInt

std::string at(std::uint64_t offset) { return "offset " + std::to_string(offset); }

std::uint64_t padOf(std::uint64_t size) { return (kBlock - size % kBlock) % kBlock; }

bool allZero(const std::uint8_t* p, std::size_t n) {
  return std::all_of(p, p + n, [](std::uint8_t b) { return b == 0; });
}

// A NUL-terminated (or full-width) text field.
std::string field(const std::uint8_t* b, std::size_t off, std::size_t len) {
  if (len == 0) return {};
  const char* s = reinterpret_cast<const char*>(b + off);
  return std::string(s, ::strnlen(s, len));
}

// An octal number field: optional leading spaces, at least one octal digit, then only spaces
// and NULs. With `base256`, a first byte with the high bit set starts a GNU base-256 number
// (negative ones refused).
std::optional<std::uint64_t> parseNumber(const std::uint8_t* f, std::size_t len, bool base256) {
  std::uint64_t v = 0;
  if (base256 && (f[0] & 0x80) != 0) {
    if ((f[0] & 0x40) != 0) return std::nullopt;
    v = f[0] & 0x3F;
    for (std::size_t i = 1; i < len; ++i) {
      if (v > (std::numeric_limits<std::uint64_t>::max() >> 8)) return std::nullopt;
      v = (v << 8) | f[i];
    }
    return v;
  }
  std::size_t i = 0;
  while (i < len && f[i] == ' ') ++i;
  std::size_t start = i;
  for (; i < len && f[i] >= '0' && f[i] <= '7'; ++i) {
    if (v > (std::numeric_limits<std::uint64_t>::max() >> 3)) return std::nullopt;
    v = v * 8 + (f[i] - '0');
  }
  if (i == start) return std::nullopt;
  for (; i < len; ++i) {
    if (f[i] != ' ' && f[i] != 0) return std::nullopt;
  }
  return v;
}

std::optional<std::uint64_t> parseDecimal(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

struct Pending {
  std::optional<std::string> longName, longLink;  // GNU 'L', 'K'
  bool pax = false;                               // a pax 'x' header was seen
  std::optional<std::string> paxPath, paxLink;
  std::optional<std::uint64_t> paxSize;
  [[nodiscard]] bool any() const { return longName || longLink || pax; }
};

// Parses the records of a pax 'x' (global = false) or 'g' header: "<len> <key>=<value>\n".
Status parsePax(const Bytes& data, bool global, std::uint64_t off, Pending& p) {
  const std::string where =
      std::string(global ? "pax global header" : "pax extended header") + " at " + at(off);
  std::string_view s(reinterpret_cast<const char*>(data.data()), data.size());
  std::set<std::string_view> seen;
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t sp = s.find(' ', pos);
    auto len = sp == std::string_view::npos ? std::nullopt : parseDecimal(s.substr(pos, sp - pos));
    if (!len || *len < sp - pos + 4 || *len > s.size() - pos) {
      return bundleError(where + ": malformed record at byte " + std::to_string(pos));
    }
    std::string_view rec = s.substr(pos, static_cast<std::size_t>(*len));
    if (rec.back() != '\n')
      return bundleError(where + ": record at byte " + std::to_string(pos) + " lacks its newline");
    std::string_view kv = rec.substr(sp - pos + 1, rec.size() - (sp - pos + 1) - 1);
    std::size_t eq = kv.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return bundleError(where + ": record at byte " + std::to_string(pos) + " has no keyword");
    }
    std::string_view key = kv.substr(0, eq), value = kv.substr(eq + 1);
    if (!seen.insert(key).second) return bundleError(where + ": keyword " + quote(key) + " appears twice");
    if (key.starts_with("GNU.sparse.")) return bundleError(where + ": sparse files are not supported");
    if (key == "path" || key == "linkpath" || key == "size") {
      if (global) return bundleError(where + ": sets " + quote(key) + " for every entry (not supported)");
      if (key == "size") {
        p.paxSize = parseDecimal(value);
        if (!p.paxSize) return bundleError(where + ": size " + quote(value) + " is not a decimal number");
      } else {
        if (value.empty() || value.find('\0') != std::string_view::npos) {
          return bundleError(where + ": " + std::string(key) + " is empty or holds a NUL byte");
        }
        (key == "path" ? p.paxPath : p.paxLink) = std::string(value);
      }
    }
    // Every other keyword (mtime, atime, uid, uname, SCHILY.xattr.*, comment, ...) is ignored.
    pos += rec.size();
  }
  return {};
}

}  // namespace

// ---- sources ----

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Fills up to n bytes; fewer only at the end of the stream.
  virtual Result<std::size_t> read(std::uint8_t* out, std::size_t n) = 0;
};

namespace {

class PlainSource final : public ByteSource {
 public:
  explicit PlainSource(ByteView data) : data_(data) {}
  Result<std::size_t> read(std::uint8_t* out, std::size_t n) override {
    std::size_t k = std::min(n, data_.size() - pos_);
    if (k != 0) std::memcpy(out, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  ByteView data_;
  std::size_t pos_ = 0;
};

class GzipSource final : public ByteSource {
 public:
  explicit GzipSource(ByteView data) {
    z_.next_in = const_cast<Bytef*>(data.data());  // zlib does not write through next_in
    left_ = data.size();
  }
  ~GzipSource() override {
    if (init_) inflateEnd(&z_);
  }
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;

  Status init() {
    if (inflateInit2(&z_, 15 + 16) != Z_OK) return Error("bundle: cannot initialise zlib");  // gzip only
    init_ = true;
    return {};
  }

  Result<std::size_t> read(std::uint8_t* out, std::size_t n) override {
    std::size_t got = 0;
    while (got < n && !ended_) {
      if (z_.avail_in == 0 && left_ != 0) {
        z_.avail_in = static_cast<uInt>(std::min<std::size_t>(left_, kMaxChunk));
        left_ -= z_.avail_in;
      }
      uInt want = static_cast<uInt>(std::min<std::size_t>(n - got, kMaxChunk));
      z_.next_out = out + got;
      z_.avail_out = want;
      int rc = inflate(&z_, Z_NO_FLUSH);
      got += want - z_.avail_out;
      if (rc == Z_STREAM_END) {
        ended_ = true;
        if (z_.avail_in != 0 || left_ != 0) return bundleError("bytes follow the gzip stream");
      } else if (rc == Z_BUF_ERROR || (rc == Z_OK && z_.avail_in == 0 && left_ == 0 && z_.avail_out != 0)) {
        if (z_.avail_in == 0 && left_ == 0) return bundleError("the gzip stream is truncated");
        return bundleError("the gzip stream is corrupt");
      } else if (rc != Z_OK) {
        return bundleError(std::string("the gzip stream is corrupt: ") +
                           (z_.msg != nullptr ? z_.msg : "error"));
      }
    }
    return got;
  }

 private:
  z_stream z_{};
  std::size_t left_ = 0;
  bool init_ = false;
  bool ended_ = false;
};

}  // namespace

// ---- reader ----

TarReader::TarReader(std::unique_ptr<ByteSource> src, std::uint64_t maxStream, std::uint64_t maxMeta)
    : src_(std::move(src)), maxStream_(maxStream), maxMeta_(maxMeta) {}
TarReader::TarReader(TarReader&&) noexcept = default;
TarReader& TarReader::operator=(TarReader&&) noexcept = default;
TarReader::~TarReader() = default;

Result<TarReader> TarReader::open(ByteView archive, std::uint64_t maxStreamBytes,
                                  std::uint64_t maxMetadataBytes) {
  if (archive.empty()) return bundleError("the archive is empty");
  if (archive.size() >= 2 && archive[0] == 0x1f && archive[1] == 0x8b) {
    auto gz = std::make_unique<GzipSource>(archive);
    SASHI_TRY(gz->init());
    return TarReader(std::move(gz), maxStreamBytes, maxMetadataBytes);
  }
  bool ustar = archive.size() >= kBlock && std::memcmp(archive.data() + 257, "ustar", 5) == 0;
  if (!ustar) {
    auto starts = [&](std::string_view magic) {
      return archive.size() >= magic.size() && std::memcmp(archive.data(), magic.data(), magic.size()) == 0;
    };
    if (starts("BZh")) return bundleError("bzip2 compression is not supported (use gzip: tar -czf)");
    if (starts(std::string_view("\xFD"
                                "7zXZ\0",
                                6)))
      return bundleError("xz compression is not supported (use gzip: tar -czf)");
    if (starts("\x28\xB5\x2F\xFD"))
      return bundleError("zstd compression is not supported (use gzip: tar -czf)");
    if (starts("PK\x03\x04"))
      return bundleError("this is a zip archive; a bundle is a tar or tar.gz archive");
  }
  return TarReader(std::make_unique<PlainSource>(archive), maxStreamBytes, maxMetadataBytes);
}

Status TarReader::readExact(std::uint8_t* out, std::size_t n, const char* what, std::uint64_t off) {
  if (n > maxStream_ || pos_ > maxStream_ - n) {
    return bundleError("the tar stream is longer than " + std::to_string(maxStream_) +
                       " bytes (the limit for this bundle's size and entry count)");
  }
  auto got = src_->read(out, n);
  if (!got) return got.error();
  pos_ += *got;
  if (*got != n)
    return bundleError(std::string("the archive is truncated: ") + what + " at " + at(off) + " ends early");
  return {};
}

Status TarReader::skip(std::uint64_t n) {
  std::array<std::uint8_t, kScratch> buf;
  while (n != 0) {
    std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(n, buf.size()));
    SASHI_TRY(readExact(buf.data(), k, "entry data", pos_));
    n -= k;
  }
  return {};
}

Result<Bytes> TarReader::readRecord(std::uint64_t size, std::size_t cap, const char* what,
                                    std::uint64_t off) {
  if (size > cap) {
    return bundleError(std::string(what) + " at " + at(off) + ": " + std::to_string(size) +
                       " bytes, more than " + std::to_string(cap));
  }
  metadataBytes_ += size;
  if (metadataBytes_ > maxMeta_) return bundleError("long-name and pax records exceed the size limit");
  Bytes data(static_cast<std::size_t>(size));
  SASHI_TRY(readExact(data.data(), data.size(), what, off));
  SASHI_TRY(skip(padOf(size)));
  return data;
}

Status TarReader::finishStream() {
  std::array<std::uint8_t, kScratch> buf;
  for (;;) {
    auto got = src_->read(buf.data(), buf.size());
    if (!got) return got.error();
    const std::uint8_t* nz =
        std::find_if(buf.data(), buf.data() + *got, [](std::uint8_t b) { return b != 0; });
    if (nz != buf.data() + *got) {
      return bundleError("non-zero bytes at " + at(pos_ + static_cast<std::uint64_t>(nz - buf.data())) +
                         ", after the end-of-archive marker");
    }
    pos_ += *got;
    if (pos_ > maxStream_) {
      return bundleError("the tar stream is longer than " + std::to_string(maxStream_) +
                         " bytes (the limit for this bundle's size and entry count)");
    }
    if (*got < buf.size()) return {};
  }
}

Result<std::optional<TarHeader>> TarReader::next() {
  if (done_) return std::optional<TarHeader>{};
  if (!dataTaken_) SASHI_TRY(skip(dataLeft_));
  SASHI_TRY(skip(padLeft_));
  dataTaken_ = true;
  dataLeft_ = padLeft_ = 0;

  Pending p;
  std::array<std::uint8_t, kBlock> b;
  for (;;) {
    const std::uint64_t off = pos_;
    if (pos_ > maxStream_ || maxStream_ - pos_ < kBlock) {
      return bundleError("the tar stream is longer than " + std::to_string(maxStream_) +
                         " bytes (the limit for this bundle's size and entry count)");
    }
    auto got = src_->read(b.data(), kBlock);
    if (!got) return got.error();
    pos_ += *got;
    if (*got == 0) {
      return bundleError("the archive ends at " + at(off) +
                         " without the end-of-archive marker (truncated?)");
    }
    if (*got != kBlock) return bundleError("the archive is truncated: header at " + at(off) + " ends early");

    if (allZero(b.data(), kBlock)) {
      if (p.any())
        return bundleError("the extended header before " + at(off) + " is not followed by an entry");
      auto second = src_->read(b.data(), kBlock);
      if (!second) return second.error();
      pos_ += *second;
      if (*second != kBlock || !allZero(b.data(), kBlock)) {
        return bundleError("the zero block at " + at(off) +
                           " is not followed by another (the end-of-archive marker is two zero blocks)");
      }
      SASHI_TRY(finishStream());
      done_ = true;
      return std::optional<TarHeader>{};
    }

    const bool posix = std::memcmp(b.data() + 257,
                                   "ustar\0"
                                   "00",
                                   8) == 0;
    const bool gnu = std::memcmp(b.data() + 257, "ustar  \0", 8) == 0;
    if (!posix && !gnu) return bundleError("header at " + at(off) + ": not a ustar or GNU tar header");
    auto sum = parseNumber(b.data() + 148, 8, false);
    std::uint64_t actual = 8 * ' ';
    for (std::size_t i = 0; i < kBlock; ++i) {
      if (i < 148 || i >= 156) actual += b[i];
    }
    if (!sum || *sum != actual) return bundleError("header at " + at(off) + ": bad checksum");

    const char type = static_cast<char>(b[156]);
    auto headerSize = [&]() -> Result<std::uint64_t> {
      auto s = parseNumber(b.data() + 124, 12, true);
      if (!s) return bundleError("header at " + at(off) + ": bad size field");
      return *s;
    };
    if (type == 'L' || type == 'K') {
      auto& slot = type == 'L' ? p.longName : p.longLink;
      if (slot) return bundleError("header at " + at(off) + ": a second GNU long-name record for one entry");
      auto size = headerSize();
      if (!size) return size.error();
      auto data = readRecord(*size, kMaxLongNameBytes, "GNU long-name record", off);
      if (!data) return data.error();
      std::string s = field(data->data(), 0, data->size());
      if (s.empty()) return bundleError("GNU long-name record at " + at(off) + " is empty");
      slot = std::move(s);
      continue;
    }
    if (type == 'x' || type == 'g') {
      if (type == 'x' && p.pax)
        return bundleError("header at " + at(off) + ": a second pax header for one entry");
      if (type == 'g' && p.any()) {
        return bundleError("header at " + at(off) + ": a pax global header after an extended header");
      }
      auto size = headerSize();
      if (!size) return size.error();
      auto data = readRecord(*size, kMaxPaxBytes, "pax header", off);
      if (!data) return data.error();
      SASHI_TRY(parsePax(*data, type == 'g', off, p));
      if (type == 'x') p.pax = true;
      continue;
    }

    TarHeader h;
    h.offset = off;
    h.type = type;
    if (p.paxPath) {
      h.path = std::move(*p.paxPath);
    } else if (p.longName) {
      h.path = std::move(*p.longName);
    } else {
      h.path = field(b.data(), 0, 100);
      if (posix && b[345] != 0) h.path = field(b.data(), 345, 155) + "/" + h.path;
    }
    if (p.paxLink) {
      h.linkName = std::move(*p.paxLink);
    } else if (p.longLink) {
      h.linkName = std::move(*p.longLink);
    } else {
      h.linkName = field(b.data(), 157, 100);
    }
    if (p.paxSize) {
      h.size = *p.paxSize;
    } else {
      auto size = headerSize();
      if (!size) return size.error();
      h.size = *size;
    }
    auto mode = parseNumber(b.data() + 100, 8, false);
    if (!mode || *mode > 07777777) return bundleError("header at " + at(off) + ": bad mode field");
    h.mode = static_cast<std::uint32_t>(*mode);
    dataLeft_ = h.size;
    padLeft_ = padOf(h.size);
    dataTaken_ = false;
    return std::optional<TarHeader>(std::move(h));
  }
}

Result<Bytes> TarReader::readData() {
  if (dataTaken_) return Error("bundle: entry data read twice");  // a bug in the caller
  dataTaken_ = true;
  if (dataLeft_ > maxStream_ - std::min(pos_, maxStream_)) {
    return bundleError("the tar stream is longer than " + std::to_string(maxStream_) +
                       " bytes (the limit for this bundle's size and entry count)");
  }
  Bytes data(static_cast<std::size_t>(dataLeft_));
  SASHI_TRY(readExact(data.data(), data.size(), "entry data", pos_));
  dataLeft_ = 0;
  return data;
}

// ---- writer ----

namespace {

void octal(std::uint8_t* f, std::size_t width, std::uint64_t v) {  // width-1 digits and a NUL
  f[width - 1] = 0;
  for (std::size_t i = width - 1; i-- > 0;) {
    f[i] = static_cast<std::uint8_t>('0' + (v & 7));
    v >>= 3;
  }
}

void putHeader(Bytes& out, std::string_view name, std::string_view prefix, char type, std::uint32_t mode,
               std::uint64_t size) {
  std::array<std::uint8_t, kBlock> b{};
  if (!name.empty()) std::memcpy(b.data(), name.data(), std::min<std::size_t>(name.size(), 100));
  octal(b.data() + 100, 8, mode);
  octal(b.data() + 108, 8, 0);
  octal(b.data() + 116, 8, 0);
  octal(b.data() + 124, 12, size);
  octal(b.data() + 136, 12, 0);
  std::memset(b.data() + 148, ' ', 8);
  b[156] = static_cast<std::uint8_t>(type);
  std::memcpy(b.data() + 257,
              "ustar\0"
              "00",
              8);
  octal(b.data() + 329, 8, 0);
  octal(b.data() + 337, 8, 0);
  if (!prefix.empty()) std::memcpy(b.data() + 345, prefix.data(), prefix.size());
  std::uint64_t sum = 0;
  for (std::uint8_t c : b) sum += c;
  octal(b.data() + 148, 7, sum);
  b[155] = ' ';
  out.insert(out.end(), b.begin(), b.end());
}

void putData(Bytes& out, const std::uint8_t* data, std::size_t n) {
  out.insert(out.end(), data, data + n);
  out.resize(out.size() + padOf(n), 0);
}

std::string paxRecord(std::string_view key, std::string_view value) {
  const std::size_t base = key.size() + value.size() + 3;  // ' ', '=', '\n'
  std::size_t len = base + std::to_string(base).size();
  len = base + std::to_string(len).size();
  return std::to_string(len) + " " + std::string(key) + "=" + std::string(value) + "\n";
}

Result<Bytes> gzip(const Bytes& in) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Error("bundle: cannot initialise zlib");
  }
  Bytes out(deflateBound(&z, static_cast<uLong>(std::min<std::size_t>(in.size(), kMaxChunk))) + 4096);
  z.next_in = const_cast<Bytef*>(in.data());
  std::size_t inLeft = in.size(), outPos = 0;
  for (;;) {
    if (out.size() - outPos < 4096) out.resize(out.size() * 2);
    uInt chunkIn = static_cast<uInt>(std::min(inLeft, kMaxChunk));
    uInt chunkOut = static_cast<uInt>(std::min(out.size() - outPos, kMaxChunk));
    z.avail_in = chunkIn;
    z.next_out = out.data() + outPos;
    z.avail_out = chunkOut;
    int rc = deflate(&z, inLeft == chunkIn ? Z_FINISH : Z_NO_FLUSH);
    inLeft -= chunkIn - z.avail_in;
    outPos += chunkOut - z.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      deflateEnd(&z);
      return Error("bundle: gzip compression failed");
    }
  }
  deflateEnd(&z);
  out.resize(outPos);
  return out;
}

}  // namespace

Result<Bytes> writeTarGz(const std::vector<BundleFile>& files) {
  Bytes tar;
  for (const BundleFile& f : files) {
    const std::string full = f.directory ? f.path + "/" : f.path;
    const std::uint64_t size = f.directory ? 0 : f.data.size();
    if (size > 077777777777ull) return bundleError("entry " + quote(f.path) + ": larger than 8 GiB");
    const char type = f.directory ? '5' : '0';
    const std::uint32_t mode = f.directory || f.executable ? 0755 : 0644;
    std::string_view name = full, prefix;
    bool fits = full.size() <= 100;
    for (std::size_t i = full.find('/'); !fits && i != std::string::npos && i <= 155;
         i = full.find('/', i + 1)) {
      if (full.size() - i - 1 <= 100 && i + 1 < full.size()) {
        prefix = std::string_view(full).substr(0, i);
        name = std::string_view(full).substr(i + 1);
        fits = true;
      }
    }
    if (!fits) {
      std::string rec = paxRecord("path", full);
      putHeader(tar, "././@PaxHeader", "", 'x', 0644, rec.size());
      putData(tar, reinterpret_cast<const std::uint8_t*>(rec.data()), rec.size());
      name = std::string_view(full).substr(0, 100);
    }
    putHeader(tar, name, prefix, type, mode, size);
    if (!f.directory) putData(tar, f.data.data(), f.data.size());
  }
  tar.resize(tar.size() + 2 * kBlock, 0);
  return gzip(tar);
}

}  // namespace sashimono::runtime::detail
