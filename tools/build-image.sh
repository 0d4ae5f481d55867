#!/usr/bin/env bash
# Builds the instance root filesystem locally (no registry) from busybox-static and docker/<name>/.
#   tools/build-image.sh [--out DIR] [--name NAME]     default: /var/lib/sashimono/images, instance
# Result: DIR/NAME/rootfs (root-owned, read-only for everyone else, shared by all tenants) and
# DIR/NAME/cmd (the default command, one argument per line). Replaces an earlier build atomically.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=/var/lib/sashimono/images
name=instance
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --name) name=$2; shift 2 ;;
    *) echo "usage: $0 [--out DIR] [--name NAME]" >&2; exit 2 ;;
  esac
done
src="$here/docker/$name"
[ -d "$src" ] || { echo "build-image: no image definition $src" >&2; exit 1; }
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || { echo "build-image: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
if ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked' && ldd "$busybox" >/dev/null 2>&1; then
  echo "build-image: $busybox is not static (install busybox-static)" >&2; exit 1
fi
umask 022
mkdir -p "$out"
chmod 755 "$out"
tmp="$out/.$name.tmp.$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
root="$tmp/rootfs"
mkdir -p "$root"/{bin,etc,proc,dev,sys,tmp,state,run/sashimono,www}
cp "$busybox" "$root/bin/busybox"
for a in $(cat "$src/applets"); do ln -s busybox "$root/bin/$a"; done
cp "$src"/etc/* "$root/etc/"
: > "$root/etc/hosts"
: > "$root/etc/resolv.conf"
cp -r "$src"/www/. "$root/www/"
cp "$src/cmd" "$tmp/cmd"
# What it was built from: tools/setup.sh rebuilds when this changes.
(cd "$here" && cat tools/build-image.sh $(find "docker/$name" -type f | sort) | sha256sum | cut -c1-16) > "$tmp/definition"
chown -R 0:0 "$tmp" 2>/dev/null || true
chmod -R go-w "$tmp"
if [ -e "$out/$name" ]; then
  mv "$out/$name" "$out/.$name.old.$$"
  mv "$tmp" "$out/$name"
  rm -rf "$out/.$name.old.$$"
else
  mv "$tmp" "$out/$name"
fi
trap - EXIT
echo "build-image: $out/$name/rootfs ($(du -sh "$out/$name/rootfs" | cut -f1))"
