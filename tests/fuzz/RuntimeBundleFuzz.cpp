// Fuzzes the contract bundle reader with bytes from strangers.
//
// The input is an archive (tar or tar.gz). readBundle must never crash, hang or allocate beyond
// its limits; every refusal must carry kBundleErrorCode; every bundle it accepts must write
// (writeBundle) and read back to an equal Bundle, and writing that again must give the same
// bytes (the writer is deterministic). An input starting with '{' is also parsed as
// contract.json: an accepted manifest must render and parse back to the same value.
//
// A custom mutator repairs the checksums of ustar headers in three mutations out of four, so that
// mutations reach the path, pax and manifest rules behind the checksum; the target itself still
// sees only what the fuzzer hands it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "sashimono/runtime/Bundle.h"

using namespace sashimono;
using namespace sashimono::runtime;

namespace {
[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "%s\n  %s\n", what, detail.c_str());
  std::abort();
}

// Small limits keep each run fast; the round trip must hold under the same limits.
const BundleLimits kLimits{500, 2u << 20};

void fixChecksums(std::uint8_t* data, std::size_t size) {
  for (std::size_t off = 0; off + 512 <= size; off += 512) {
    std::uint8_t* h = data + off;
    if (std::memcmp(h + 257, "ustar", 5) != 0) continue;
    std::memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (std::size_t i = 0; i < 512; ++i) sum += h[i];
    std::snprintf(reinterpret_cast<char*>(h + 148), 8, "%06o", sum & 0777777);
    h[155] = ' ';
  }
}
}  // namespace

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t maxSize);

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t maxSize,
                                               unsigned int seed) {
  size = LLVMFuzzerMutate(data, size, maxSize);
  if (seed % 4 != 0) fixChecksums(data, size);
  return size;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto bundle = readBundle(core::ByteView(data, size), kLimits);
  if (bundle.ok()) {
    auto written = writeBundle(*bundle);
    if (!written) fail("an accepted bundle cannot be written", written.error().message);
    auto again = readBundle(*written, kLimits);
    if (!again) fail("a written bundle does not read back", again.error().message);
    if (!(*again == *bundle)) fail("the bundle read back differs", renderContractManifest(again->contract));
    auto rewritten = writeBundle(*again);
    if (!rewritten || *rewritten != *written) fail("the writer is not deterministic", "");
  } else if (bundle.error().code != kBundleErrorCode) {
    fail("a refusal without the bundle error code", bundle.error().message);
  }

  if (size != 0 && data[0] == '{') {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto manifest = parseContractManifest(text);
    if (manifest.ok()) {
      std::string rendered = renderContractManifest(*manifest);
      auto back = parseContractManifest(rendered);
      if (!back) fail("a rendered manifest does not parse", back.error().message);
      if (!(*back == *manifest)) fail("the manifest parsed back differs", rendered);
      if (renderContractManifest(*back) != rendered) fail("rendering is not canonical", rendered);
    } else if (manifest.error().code != kBundleErrorCode) {
      fail("a manifest refusal without the bundle error code", manifest.error().message);
    }
  }
  return 0;
}
