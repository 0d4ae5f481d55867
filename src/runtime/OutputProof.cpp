#include "sashimono/runtime/OutputProof.h"

#include <algorithm>

#include "sashimono/crypto/Blake3.h"
#include "sashimono/runtime/Codec.h"

namespace sashimono::runtime {

core::Bytes clientVisibleOutput(core::ByteView raw) {
  if (raw.size() >= 2 && raw.front() == '"' && raw.back() == '"') {
    auto v = parseJson(core::asString(raw), ParseLimits{1, raw.size() + 1});
    if (v.ok() && v->isString()) {
      const auto& s = v->asString();
      return core::Bytes(s.begin(), s.end());
    }
  }
  return core::Bytes(raw.begin(), raw.end());
}

Hash userOutputHash(const PubKey& user, const std::vector<core::Bytes>& outputs) {
  crypto::Blake3 h;
  h.update(user);
  for (const auto& o : outputs) h.update(clientVisibleOutput(o));
  return h.finalize();
}

OutputTree::OutputTree(std::vector<Hash> userHashes, const Hash& stateHash) {
  leafCount_ = userHashes.size();
  if (userHashes.empty()) return;
  std::sort(userHashes.begin(), userHashes.end());
  userHashes.push_back(stateHash);
  std::vector<Node> level;
  for (std::size_t i = 0; i < userHashes.size(); ++i) level.push_back(Node{userHashes[i], {}, i, i});
  levels_.push_back(level);
  while (levels_.back().size() > 1) {
    const auto& prev = levels_.back();
    std::vector<Node> next;
    for (std::size_t start = 0; start < prev.size(); start += 16) {
      std::size_t end = std::min(prev.size(), start + 16);
      Node n;
      n.firstLeaf = prev[start].firstLeaf;
      n.lastLeaf = prev[end - 1].lastLeaf;
      if (end - start == 1) {
        n.hash = prev[start].hash;  // promoted: same node one level up
        n.children = {start};
      } else {
        crypto::Blake3 h;
        for (std::size_t i = start; i < end; ++i) {
          h.update(prev[i].hash);
          n.children.push_back(i);
        }
        n.hash = h.finalize();
      }
      next.push_back(std::move(n));
    }
    levels_.push_back(std::move(next));
  }
  root_ = levels_.back().front().hash;
}

Value OutputTree::collapse(std::size_t level, std::size_t index, std::size_t leaf) const {
  const Node& n = levels_[level][index];
  if (level == 0) return index == leaf ? Value() : Value::binary(core::toBytes(n.hash));
  if (leaf < n.firstLeaf || leaf > n.lastLeaf) return Value::binary(core::toBytes(n.hash));
  if (n.children.size() == 1) return collapse(level - 1, n.children.front(), leaf);  // promoted
  Array a;
  for (auto c : n.children) a.push_back(collapse(level - 1, c, leaf));
  return Value(std::move(a));
}

Value OutputTree::collapsedFor(const Hash& userHash) const {
  if (levels_.empty()) return Value(Array{});
  const auto& leaves = levels_.front();
  for (std::size_t i = 0; i + 1 < leaves.size(); ++i) {
    if (leaves[i].hash == userHash) return collapse(levels_.size() - 1, 0, i);
  }
  return Value(Array{});
}

}  // namespace sashimono::runtime
