#pragma once
// Contract bundles: the archive a lease owner sends to install or replace a dApp contract.
//
// A bundle is a POSIX tar archive (ustar; GNU long names and pax extended headers are read too),
// optionally gzip-compressed, holding regular files and directories only, with a top-level
// `contract.json` manifest. docs/BUNDLE.md is the format specification; this header is the API.
//
// Bundles come from strangers: readBundle() is strict and bounded (BundleLimits) on any input,
// and every refusal is an Error with code kBundleErrorCode whose message names the entry or the
// manifest field at fault. Functions here are thread-compatible: no shared state; concurrent
// installBundle() calls on the same target directory are not supported.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"

namespace sashimono::runtime {

// Error::code of every refusal of bundle content (not of OS failures, which carry errno).
inline constexpr std::string_view kBundleErrorCode = "badBundle";

inline constexpr std::string_view kManifestPath = "contract.json";     // required, top level
inline constexpr std::string_view kInstallRecordName = "bundle.json";  // beside the state directory
// The name installBundle() uses for its temporary files; refused as any path component.
inline constexpr std::string_view kInstallTempName = ".sashimono-install.tmp";

inline constexpr std::size_t kMaxPathBytes = 1024;
inline constexpr std::size_t kMaxNameBytes = 255;
inline constexpr std::size_t kMaxManifestBytes = 1u << 20;
inline constexpr std::size_t kMaxVersionBytes = 64;
inline constexpr std::size_t kMaxBinPathBytes = 1024;
inline constexpr std::size_t kMaxBinArgsBytes = 4096;
inline constexpr std::size_t kMaxEnvEntries = 64;
inline constexpr std::size_t kMaxEnvKeyBytes = 128;
inline constexpr std::size_t kMaxEnvValueBytes = 4096;

struct BundleLimits {
  // Files plus directories, counting directories that are only implied by a file's path.
  std::size_t maxEntries = 10000;
  // Sum of the file sizes. Tar metadata (GNU long-name and pax records) has a budget of the
  // same size of its own, and the (decompressed) tar stream may be at most
  // 2 × maxTotalBytes + 4096 × maxEntries + 1 MiB long: the decompression-bomb guard.
  std::uint64_t maxTotalBytes = 64ull << 20;
};

struct BundleFile {
  std::string path;  // canonical: "a/b/c", no "./", no trailing '/'
  bool directory = false;
  bool executable = false;  // regular files only: installed 0755 when set, else 0644
  core::Bytes data;         // regular files only

  bool operator==(const BundleFile&) const = default;
};

// contract.json. Strings are kept as written in the manifest.
struct ContractManifest {
  std::string version;
  std::string binPath;  // absolute, or relative to the state directory (a file of the bundle)
  std::string binArgs;  // see splitBinArgs()
  std::vector<std::pair<std::string, std::string>> environment;  // in manifest order

  bool operator==(const ContractManifest&) const = default;
};

struct Bundle {
  ContractManifest contract;      // parsed from the file contract.json, which is also in `files`
  std::vector<BundleFile> files;  // sorted by path (byte-wise); every parent directory present

  bool operator==(const Bundle&) const = default;
};

// Reads a tar or tar.gz archive (detected by the gzip magic) into a Bundle.
[[nodiscard]] core::Result<Bundle> readBundle(core::ByteView archive, const BundleLimits& limits = {});

// Parses contract.json text strictly (unknown or duplicate keys are errors).
[[nodiscard]] core::Result<ContractManifest> parseContractManifest(std::string_view json);

// Canonical contract.json text for a manifest (keys in a fixed order, no whitespace).
[[nodiscard]] std::string renderContractManifest(const ContractManifest& manifest);

// The argument vector (after bin_path) the runtime passes for bin_args, as Hot Pocket does:
// split on the space character, empty pieces dropped; no quoting or escaping.
[[nodiscard]] std::vector<std::string> splitBinArgs(std::string_view binArgs);

// Builds a valid Bundle from files given in any order: checks every path, adds the implied
// parent directories, sorts, and parses contract.json. Directories' data/executable are ignored.
[[nodiscard]] core::Result<Bundle> makeBundle(std::vector<BundleFile> files, const BundleLimits& limits = {});

// A deterministic tar.gz: entries sorted, mode 0755/0644, uid/gid 0, mtime 0, no owner names.
// The bundle is validated as makeBundle() would (without size limits), and `contract` must
// equal what contract.json parses to.
[[nodiscard]] core::Result<core::Bytes> writeBundle(const Bundle& bundle);

// Packs a directory (for `sashimono deploy DIR`): regular files and directories, recursively.
// A top-level `.git` (directory or file) is skipped; anything else that is not a regular file or
// directory (symlink, socket, fifo, device) is an error naming its path. Never follows symlinks.
[[nodiscard]] core::Result<Bundle> packDirectory(const std::string& dir, const BundleLimits& limits = {});

// Installs into targetDir (the contract's state directory): directories created (0755), every
// file written through a temporary file and renamed into place (0755/0644); what the previous
// bundle installed and this one lacks is removed (directories only when empty); everything else
// in the state is kept. A non-directory where the bundle wants a directory, and a non-directory
// where it wants a file, are replaced; a non-empty directory where it wants a file is an error.
// The record of installed paths is `<targetDir>/../bundle.json` (see readInstallRecord). Every
// path is resolved beneath targetDir with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
// RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV), and leaves are never followed, so symlinks planted
// in the state cannot make the install touch anything outside targetDir. Needs openat2 (Linux
// 5.6+); fails cleanly where it is missing or filtered. Not atomic: after a failure or crash the
// record lists the union of old and new paths and a later install completes the cleanup.
[[nodiscard]] core::Status installBundle(const Bundle& bundle, const std::string& targetDir);

// The content of `<targetDir>/../bundle.json`.
struct InstallRecord {
  bool complete = false;  // false: an install began and did not finish
  ContractManifest contract;
  std::vector<std::string> files;        // sorted
  std::vector<std::string> directories;  // sorted

  bool operator==(const InstallRecord&) const = default;
};

// Reads the record of the last install into targetDir; nullopt when there is none.
[[nodiscard]] core::Result<std::optional<InstallRecord>> readInstallRecord(const std::string& targetDir);

}  // namespace sashimono::runtime
