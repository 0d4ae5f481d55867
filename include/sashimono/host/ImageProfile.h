#pragma once
// What kind of process an image's container runs, from the image's `profile` file (next to its
// rootfs, written by tools/build-image.sh from docker/<image>/profile). Pure apart from
// readImageProfile, which reads through a FileSystem.
//   instance (no profile file): a plain workload, run as the unprivileged contract uid 1000 with
//            no capabilities at all (the `instance` test image: busybox httpd).
//   runtime  ("runtime"): the instance runtime (`sashimono runtime`), run as container root (the
//            tenant user on the host) with exactly kRuntimeCapabilities, a private data directory
//            bound at /data, and info files owned by container root; it starts the contract itself
//            as uid 1000 in new PID and mount namespaces (docs/TENANTS.md, docs/RUNTIME.md).
// A tenant's profile is decided once, at create, and kept in its record, so a restart after a
// crash runs the container exactly as it was created even if the image was rebuilt meanwhile.
#include <array>
#include <string>
#include <string_view>

#include "sashimono/core/Result.h"
#include "sashimono/host/FileSystem.h"

namespace sashimono::host {

enum class ImageProfile { kInstance, kRuntime };

const char* profileName(ImageProfile p);  // "instance" | "runtime"
// A profile's name (as in a record, or a profile file: surrounding whitespace ignored; empty =
// instance). Anything else is an error.
core::Result<ImageProfile> parseProfile(std::string_view text);
// <imagesDir>/<image>/profile; instance when the file does not exist.
core::Result<ImageProfile> readImageProfile(FileSystem& fs, const std::string& imagesDir,
                                            const std::string& image);
// The same on the Linux file system.
core::Result<ImageProfile> readImageProfile(const std::string& imagesDir, const std::string& image);

// The capabilities the runtime's container process holds (bounding, effective, permitted; none
// inheritable or ambient): setuid/setgid to start the contract as uid 1000, kill to stop it,
// sys_admin for its PID and mount namespaces (and the read-only remount of the contract fs for
// read requests), dac_override/fowner/chown to install bundles into the state filesystem, whose
// files belong to uid 1000. Capabilities of the user namespace only: none of them reaches
// anything outside the tenant (container root is the tenant's unprivileged host user).
inline constexpr std::array<const char*, 7> kRuntimeCapabilities = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SYS_ADMIN"};

}  // namespace sashimono::host
