#pragma once
// Lease ⇄ JSON text, for the node's store. The acquire request is kept in its protocol form
// (protocol::renderPayload / parseAcquire), so a stored lease passes the same checks as a new
// one. Pure functions; thread-safe.
#include <string>
#include <string_view>

#include "sashimono/core/Result.h"
#include "sashimono/lease/Lease.h"

namespace sashimono::node {

[[nodiscard]] std::string renderLease(const lease::Lease& lease);
[[nodiscard]] core::Result<lease::Lease> parseLease(std::string_view json);

}  // namespace sashimono::node
