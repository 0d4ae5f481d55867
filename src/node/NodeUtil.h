#pragma once
// Helpers shared by the node's stage files (Node.cpp, NodeClassify.cpp, NodeAct.cpp).
#include <string>

#include "sashimono/core/Bytes.h"
#include "sashimono/crypto/Hash.h"

namespace sashimono::node {

// The first 16 hex digits of a hash, for logs.
inline std::string shortHex(const crypto::Hash256& h) { return core::toHex(h).substr(0, 16); }

}  // namespace sashimono::node
