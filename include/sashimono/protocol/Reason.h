#pragma once
// The fixed list of error reasons a host gives in `*.error` replies (docs/PROTOCOL.md §7).
// Parse errors carry the reason's name in core::Error::code, so a failed parse maps directly
// to the reply a host sends.
#include <optional>
#include <string_view>

#include "sashimono/core/Result.h"

namespace sashimono::protocol {

enum class Reason {
  badPayload,          // "bad_payload": memo missing/duplicated/undecodable, a field wrong
  unknownType,         // "unknown_type": a sashimono.* memo type that is not a request
  unsupportedVersion,  // "unsupported_version": envelope or payload version not supported
  notXrp,              // "not_xrp": the payment is not in XRP
  partialPayment,      // "partial_payment": tfPartialPayment set
  underpaid,           // "underpaid": less than one moment's price
  noCapacity,          // "no_capacity": no free instance slot
  imageNotAllowed,     // "image_not_allowed": image not offered by this host
  configOutOfBounds,   // "config_out_of_bounds": a config value outside the host's bounds
  unknownLease,        // "unknown_lease": no live lease with that id on this host
  notOwner,            // "not_owner": the lease belongs to another account
  momentsLimit,        // "moments_limit": the lease already holds the maximum moments
  provisioningFailed,  // "provisioning_failed": the host could not create the instance
  internalError,       // "internal_error": any other host-side failure
};

std::string_view reasonName(Reason r);
std::optional<Reason> parseReason(std::string_view name);
// The reason carried by an error's code; badPayload when the code is not a reason name.
Reason reasonOf(const core::Error& e);
// Builds an error with the reason's name as its code.
core::Error reasonError(Reason r, std::string message);

inline constexpr Reason kAllReasons[] = {
    Reason::badPayload,         Reason::unknownType,  Reason::unsupportedVersion, Reason::notXrp,
    Reason::partialPayment,     Reason::underpaid,    Reason::noCapacity,         Reason::imageNotAllowed,
    Reason::configOutOfBounds,  Reason::unknownLease, Reason::notOwner,           Reason::momentsLimit,
    Reason::provisioningFailed, Reason::internalError};

}  // namespace sashimono::protocol
