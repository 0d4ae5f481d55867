#include "Deploy.h"

#include <algorithm>

#include "sashimono/runtime/Bundle.h"
#include "sashimono/runtime/Instance.h"

namespace sashimono::cli {

core::Result<PackedBundle> packBundleInput(const std::string& dir) {
  auto bundle = runtime::packDirectory(dir);
  if (!bundle) return bundle.error();
  auto bytes = runtime::writeBundle(*bundle);
  if (!bytes) return bytes.error();
  PackedBundle out;
  out.version = bundle->contract.version;
  // Sized once and copied into (not insert()): GCC 12 at -O3 reports a false -Warray-bounds on
  // the reallocating insert after the 19-byte prefix, which broke Release builds.
  out.input.resize(runtime::kBundleInputPrefix.size() + bytes->size());
  std::copy(
      bytes->begin(), bytes->end(),
      std::copy(runtime::kBundleInputPrefix.begin(), runtime::kBundleInputPrefix.end(), out.input.begin()));
  return out;
}

std::optional<std::string> DeployOutcome::failure() const {
  if (input.status != "accepted") return "the upload was rejected: " + input.reason;
  if (answer.rfind("sashimono: deployed", 0) != 0)
    return answer.empty() ? "the instance did not answer the upload" : answer;
  return std::nullopt;
}

core::Result<DeployOutcome> uploadBundle(runtime::UserClient& client, const PackedBundle& bundle) {
  auto r = client.submit(bundle.input);
  if (!r) return r.error();
  DeployOutcome out;
  out.input = std::move(*r);
  for (const auto& o : out.input.outputs) {
    auto s = core::asString(o);
    if (s.rfind("sashimono: ", 0) == 0) out.answer = s;
  }
  return out;
}

}  // namespace sashimono::cli
