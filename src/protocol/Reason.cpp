#include "sashimono/protocol/Reason.h"

#include <string>

namespace sashimono::protocol {

std::string_view reasonName(Reason r) {
  switch (r) {
    case Reason::badPayload:
      return "bad_payload";
    case Reason::unknownType:
      return "unknown_type";
    case Reason::unsupportedVersion:
      return "unsupported_version";
    case Reason::notXrp:
      return "not_xrp";
    case Reason::partialPayment:
      return "partial_payment";
    case Reason::underpaid:
      return "underpaid";
    case Reason::noCapacity:
      return "no_capacity";
    case Reason::imageNotAllowed:
      return "image_not_allowed";
    case Reason::configOutOfBounds:
      return "config_out_of_bounds";
    case Reason::unknownLease:
      return "unknown_lease";
    case Reason::notOwner:
      return "not_owner";
    case Reason::momentsLimit:
      return "moments_limit";
    case Reason::provisioningFailed:
      return "provisioning_failed";
    case Reason::internalError:
      return "internal_error";
  }
  return "internal_error";
}

std::optional<Reason> parseReason(std::string_view name) {
  for (Reason r : kAllReasons) {
    if (reasonName(r) == name) return r;
  }
  return std::nullopt;
}

Reason reasonOf(const core::Error& e) { return parseReason(e.code).value_or(Reason::badPayload); }

core::Error reasonError(Reason r, std::string message) {
  return core::Error::withCode(std::string(reasonName(r)), std::move(message));
}

}  // namespace sashimono::protocol
