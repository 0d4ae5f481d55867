#include "sashimono/lease/Lease.h"

namespace sashimono::lease {

const char* leaseStateName(LeaseState s) {
  switch (s) {
    case LeaseState::provisioning:
      return "provisioning";
    case LeaseState::active:
      return "active";
    case LeaseState::ending:
      return "ending";
  }
  return "unknown";
}

const char* endCauseName(EndCause c) {
  switch (c) {
    case EndCause::none:
      return "none";
    case EndCause::terminated:
      return "terminated";
    case EndCause::expired:
      return "expired";
    case EndCause::provisioningFailed:
      return "provisioning_failed";
    case EndCause::orphan:
      return "orphan";
  }
  return "unknown";
}

}  // namespace sashimono::lease
