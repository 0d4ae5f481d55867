#pragma once
// Private helpers shared by the Bundle*.cpp files: errors, path rules, the entry assembler and
// the manifest as a JSON value. Not part of the runtime's public API.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "sashimono/runtime/Bundle.h"

namespace sashimono::runtime::detail {

// An Error with kBundleErrorCode and the "bundle: " prefix.
core::Error bundleError(const std::string& what);

// `s` in single quotes, bytes outside printable ASCII as \xNN, cut after 200 bytes; for paths
// and names from untrusted input in error messages.
std::string quote(std::string_view s);

// Whether `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool isUtf8(std::string_view s);
// Whether `s` holds a C0 control character or DEL.
bool hasControl(std::string_view s);

// Checks a canonical bundle path: relative, components separated by single '/', none empty,
// "." or "..", each ≤ kMaxNameBytes, total ≤ kMaxPathBytes, UTF-8, no control characters, no
// component equal to kInstallTempName. The error says what is wrong, not which entry.
core::Status checkPath(std::string_view path);

// Collects entries, adding implied parent directories, refusing duplicates and conflicts, and
// enforcing the entry count and the total file size.
class Assembler {
 public:
  explicit Assembler(const BundleLimits& limits) : limits_(limits) {}
  // `file.path` must be canonical (checked). Explicit directory entries may repeat a directory
  // already implied by an earlier file; any other repetition is a duplicate.
  core::Status add(BundleFile file);
  // File bytes still allowed by maxTotalBytes.
  [[nodiscard]] std::uint64_t remaining() const;
  // Sorted files, contract.json parsed, bin_path checked.
  core::Result<Bundle> finish() &&;

 private:
  struct Node {
    BundleFile file;
    bool explicitEntry = false;
  };
  core::Status insert(BundleFile file, bool explicitEntry);

  BundleLimits limits_;
  std::uint64_t fileBytes_ = 0;
  std::map<std::string, Node> nodes_;
};

// The manifest as a JSON object value (the same rules as parseContractManifest); `where`
// prefixes errors ("contract.json").
core::Result<ContractManifest> manifestFromValue(const rapidjson::Value& v, const std::string& where);
void writeManifest(rapidjson::Writer<rapidjson::StringBuffer>& w, const ContractManifest& m);

// Removes one leading "./" (tar archives made with `tar -C dir .` carry it).
std::string_view stripDotSlash(std::string_view p);

}  // namespace sashimono::runtime::detail
