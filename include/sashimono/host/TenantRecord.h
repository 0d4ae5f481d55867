#pragma once
// The tenant's journal record: what was asked for, what was allocated, and how far creation
// got. Written (atomically: temp file, fsync, rename) before each side effect, so a crash at any
// point leaves a record that reconcile can act on.
#include <cstdint>
#include <optional>
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

// An upgrade that has switched the tenant to another image version and is not finished yet: what
// it ran before (restored by a rollback), and until when (unix seconds) the upgrade command is
// still watching it. Until then a heal leaves the tenant to it; after, a restart rolls it back.
struct PendingUpgrade {
  std::string image;
  std::string rootfs;  // "" when the tenant was not pinned yet
  std::vector<std::string> args;
  std::int64_t deadline = 0;
  bool operator==(const PendingUpgrade&) const = default;
};

struct TenantRecord {
  TenantSpec spec;
  TenantState state = TenantState::kCreating;
  std::string step;  // last step started (for diagnostics)
  std::vector<PortForward> ports;
  // Decided from the image at create (ImageProfile.h) and used by every later start, so a
  // restart runs the container as it was created. Records without it (older) are instance.
  ImageProfile profile = ImageProfile::kInstance;
  // The resolved rootfs of the image version the tenant runs (ImageVersions.h), pinned at its
  // first start; "" in records made before versions were pinned (they run <image>/rootfs).
  std::string rootfs;
  // spec.args came from the image's cmd (none were asked for): an upgrade takes the new
  // version's cmd. Records without it keep their args.
  bool argsFromImage = false;
  std::optional<PendingUpgrade> upgrade;
};

std::string renderRecord(const TenantRecord& r);
core::Result<TenantRecord> parseRecord(std::string_view json);
// Checks every tenant-supplied field of a spec.
core::Status validateSpec(const TenantSpec& s);

}  // namespace sashimono::host
