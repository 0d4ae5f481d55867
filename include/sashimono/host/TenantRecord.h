#pragma once
// The tenant's journal record: what was asked for, what was allocated, and how far creation
// got. Written (atomically: temp file, fsync, rename) before each side effect, so a crash at any
// point leaves a record that reconcile can act on.
#include <string>
#include <string_view>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/host/Cgroups.h"
#include "sashimono/host/ImageProfile.h"
#include "sashimono/host/Ports.h"

namespace sashimono::host {

struct TenantSpec {
  std::string name;
  std::string image = "instance";
  CgroupLimits limits;
  std::uint64_t diskBytes = 256ull << 20;
  std::vector<std::string> args;  // empty: the image's default (/bin/instance)
  std::vector<std::string> env;
};

// A record holds creating, ready or destroying; orphaned is what inspect reports for pieces that
// have no record, and is never written. On disk a state is its name (stateName), and records keep
// that text: "creating", "ready", "destroying".
enum class TenantState { kCreating, kReady, kDestroying, kOrphaned };
const char* stateName(TenantState s);  // "creating" | "ready" | "destroying" | "orphaned"
// The state of that name; anything else is an error that quotes the text.
core::Result<TenantState> parseTenantState(std::string_view text);

struct TenantRecord {
  TenantSpec spec;
  TenantState state = TenantState::kCreating;
  std::string step;  // last step started (for diagnostics)
  std::vector<PortForward> ports;
  // Decided from the image at create (ImageProfile.h) and used by every later start, so a
  // restart runs the container as it was created. Records without it (older) are instance.
  ImageProfile profile = ImageProfile::kInstance;
};

std::string renderRecord(const TenantRecord& r);
core::Result<TenantRecord> parseRecord(std::string_view json);
// Checks every tenant-supplied field of a spec.
core::Status validateSpec(const TenantSpec& s);

}  // namespace sashimono::host
