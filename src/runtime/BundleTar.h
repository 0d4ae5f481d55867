#pragma once
// The tar layer of bundles (private): a pull reader over a tar or tar.gz byte string that
// resolves GNU long names and pax extended headers, and the deterministic tar.gz writer.
// Knows nothing of bundle rules (entry types, paths, contract.json): see Bundle.cpp.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/runtime/Bundle.h"

namespace sashimono::runtime::detail {

inline constexpr std::size_t kBlock = 512;
inline constexpr std::size_t kMaxLongNameBytes = 4096;  // data of a GNU 'L' or 'K' record
inline constexpr std::size_t kMaxPaxBytes = 64 * 1024;  // data of a pax 'x' or 'g' record

// One archive member after its long-name and pax records were applied.
struct TarHeader {
  std::string path;      // as stored (not normalised)
  std::string linkName;  // for links
  char type = '0';       // the ustar typeflag
  std::uint32_t mode = 0;
  std::uint64_t size = 0;
  std::uint64_t offset = 0;  // of the header block in the (decompressed) tar stream
};

class ByteSource;

class TarReader {
 public:
  // `archive` is read in place and must outlive the reader. Gzip is detected by its magic.
  // maxStreamBytes bounds the decompressed tar stream; maxMetadataBytes the data of long-name
  // and pax records together.
  static core::Result<TarReader> open(core::ByteView archive, std::uint64_t maxStreamBytes,
                                      std::uint64_t maxMetadataBytes);
  TarReader(TarReader&&) noexcept;
  TarReader& operator=(TarReader&&) noexcept;
  ~TarReader();

  // The next member; nullopt at the end-of-archive marker, after checking that only zero bytes
  // follow it (and, for gzip, that the gzip stream ends there). Skips unread member data.
  core::Result<std::optional<TarHeader>> next();
  // The current member's data (its size bytes); at most once per member.
  core::Result<core::Bytes> readData();

 private:
  explicit TarReader(std::unique_ptr<ByteSource> src, std::uint64_t maxStream, std::uint64_t maxMeta);
  core::Status readExact(std::uint8_t* out, std::size_t n, const char* what, std::uint64_t at);
  core::Status skip(std::uint64_t n);
  core::Result<core::Bytes> readRecord(std::uint64_t size, std::size_t cap, const char* what,
                                       std::uint64_t at);
  core::Status finishStream();

  std::unique_ptr<ByteSource> src_;
  std::uint64_t maxStream_;
  std::uint64_t maxMeta_;
  std::uint64_t pos_ = 0;            // bytes taken from the tar stream
  std::uint64_t metadataBytes_ = 0;  // data of L/K/x/g records
  std::uint64_t dataLeft_ = 0;       // unread data of the current member
  std::uint64_t padLeft_ = 0;        // padding after it
  bool dataTaken_ = true;
  bool done_ = false;
};

// A deterministic gzip-compressed ustar archive of `files` (already valid and sorted).
core::Result<core::Bytes> writeTarGz(const std::vector<BundleFile>& files);

}  // namespace sashimono::runtime::detail
