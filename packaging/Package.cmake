# The Debian package (docs/OPERATIONS.md): `cpack -G DEB` in a build directory, or
# tools/package.sh for the Release package. CPack, not debhelper: the build is CMake and no Debian
# source package is needed, so CPack packs what `install()` lists below in one step, with
# dpkg-shlibdeps for the library dependencies; the maintainer scripts are ours (packaging/debian).
set(pkg ${CMAKE_SOURCE_DIR}/packaging)
# `cpack` packs the binary as built (tools/package.sh builds it first); it does not build `all`.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
install(TARGETS sashimono RUNTIME DESTINATION bin)
install(FILES ${pkg}/systemd/sashimono.service ${pkg}/systemd/sashimono-config.path
        DESTINATION lib/systemd/system)
install(FILES ${pkg}/tmpfiles.conf DESTINATION lib/tmpfiles.d RENAME sashimono.conf)
install(FILES ${pkg}/udev.rules DESTINATION lib/udev/rules.d RENAME 60-sashimono.rules)
install(FILES ${pkg}/sysctl.conf DESTINATION lib/sysctl.d RENAME 60-sashimono.conf)
install(FILES ${pkg}/modules-load.conf DESTINATION lib/modules-load.d RENAME sashimono.conf)
install(FILES ${CMAKE_SOURCE_DIR}/config/host.example.json ${CMAKE_SOURCE_DIR}/docs/OPERATIONS.md
              ${CMAKE_SOURCE_DIR}/docs/NODE.md ${CMAKE_SOURCE_DIR}/docs/TENANTS.md
        DESTINATION share/doc/sashimono)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sashimono)
set(CPACK_PACKAGE_VENDOR "Sashimono")
set(CPACK_PACKAGE_CONTACT "Sashimono host operators <sashimono@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "host node of the Sashimono decentralized dApp hosting network")
set(CPACK_PACKAGE_DESCRIPTION
    "Follows the host's account on an XRPL-compatible ledger, verifies signed deployment requests,\n"
    "leases capacity and runs each dApp instance in an isolated tenant (own Linux user, rootless\n"
    "containerd, FUSE state filesystem, cgroup and disk limits), replying on the ledger.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # sashimono_<version>_<arch>.deb
set(CPACK_STRIP_FILES ON)  # no debug information in the package (the build directory keeps it)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The programs the node runs for its tenants (docs/TENANTS.md): containerd + runc (ctr, the shim),
# rootlesskit, slirp4netns, uidmap (newuidmap/newgidmap), fuse3 (fusermount3), e2fsprogs
# (mkfs.ext4), util-linux (nsenter, losetup), passwd (useradd/userdel), procps (pgrep in postrm),
# init-system-helpers (deb-systemd-helper in the maintainer scripts).
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "containerd, runc, rootlesskit, slirp4netns, uidmap, fuse3, e2fsprogs, util-linux, passwd, procps, init-system-helpers")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "busybox-static")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${pkg}/debian/postinst ${pkg}/debian/prerm ${pkg}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
