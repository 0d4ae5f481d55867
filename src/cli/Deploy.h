#pragma once
// A contract bundle's upload as its owner (`sashimono deploy`, and `sashimono cluster create`
// through one member): the directory packed into the runtime's bundle input (docs/BUNDLE.md),
// sent as one input, and the instance's answer ("sashimono: deployed …") picked from its outputs.
#include <cstddef>
#include <optional>
#include <string>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/runtime/UserClient.h"

namespace sashimono::cli {

struct PackedBundle {
  core::Bytes input;    // the bundle input: prefix, then the bundle
  std::string version;  // contract.json's version
};

// Packs the bundle directory `dir` (contract.json at its top). Errors name the file.
[[nodiscard]] core::Result<PackedBundle> packBundleInput(const std::string& dir);

struct DeployOutcome {
  runtime::UserClient::InputOutcome input;
  std::string answer;  // the instance's "sashimono: …" output, empty if none
  // Why the deploy failed ("the upload was rejected: …", the instance's answer), or nothing.
  [[nodiscard]] std::optional<std::string> failure() const;
};

// Uploads `bundle` through `client` (which must talk as the owner, over BSON) and waits for its
// round. Errors: the connection's.
[[nodiscard]] core::Result<DeployOutcome> uploadBundle(runtime::UserClient& client,
                                                       const PackedBundle& bundle);

}  // namespace sashimono::cli
