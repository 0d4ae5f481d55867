#pragma once
// The output proof a hotpocket-js-client with trustedServerKeys verifies (fact sheet 2.6).
//
// Per user: output hash = H(pk33 ‖ v(o1) ‖ v(o2) ‖ …) where v(o) is the output as a JSON-mode
// client decodes it: when the raw bytes are a JSON string literal ("…" that parses as one JSON
// string), the decoded string's UTF-8; otherwise the raw bytes. So a Node contract's
// user.send("text") (which writes "text" with quotes) verifies in JSON mode, and raw text and
// binary verify in both modes. Outputs that a JSON client decodes to objects, arrays, numbers
// or booleans cannot be verified by that client whatever the server does (docs/RUNTIME.md).
//
// Tree: leaves = the users' output hashes sorted ascending, then the state hash; consecutive
// nodes are grouped in blocks of 16, a block of two or more gets parent H(concat), a block of
// one is promoted unchanged; repeated until one root (always an array: ≥ 2 leaves). Each user
// receives the tree collapsed to the path of its leaf, with its own leaf as null. Pure.
#include <cstddef>
#include <vector>

#include "sashimono/core/Bytes.h"
#include "sashimono/runtime/Ledger.h"
#include "sashimono/runtime/Value.h"

namespace sashimono::runtime {

// v(o) above.
core::Bytes clientVisibleOutput(core::ByteView raw);
Hash userOutputHash(const PubKey& user, const std::vector<core::Bytes>& outputs);

class OutputTree {
 public:
  // userHashes: any order (sorted inside). With no users the root is zeros (nothing to prove).
  OutputTree(std::vector<Hash> userHashes, const Hash& stateHash);

  [[nodiscard]] const Hash& root() const { return root_; }
  [[nodiscard]] bool empty() const { return leafCount_ == 0; }
  // The collapsed tree for the user whose output hash is `userHash` (must be one of the leaves).
  [[nodiscard]] Value collapsedFor(const Hash& userHash) const;

 private:
  struct Node {
    Hash hash{};
    std::vector<std::size_t> children;  // indices into the previous level
    std::size_t firstLeaf = 0, lastLeaf = 0;
  };
  [[nodiscard]] Value collapse(std::size_t level, std::size_t index, std::size_t leaf) const;

  std::vector<std::vector<Node>> levels_;
  std::size_t leafCount_ = 0;
  Hash root_{};
};

}  // namespace sashimono::runtime
