#!/usr/bin/env bash
# Builds an instance root filesystem locally (no registry) from busybox-static, docker/<name>/ and,
# for images that list them in docker/<name>/binaries, host binaries with their shared libraries.
#   tools/build-image.sh [--out DIR] [--name NAME] [--sashimono PATH] [--if-changed]
#   tools/build-image.sh [--name NAME] [--sashimono PATH] --oci FILE.tar [--ref REF] [--gzip-level N]
#   tools/build-image.sh [--name NAME] [--sashimono PATH] --print-definition
# Defaults: DIR /var/lib/sashimono/images, NAME instance, PATH build/release/src/sashimono (only
# read by definitions that name @sashimono), REF docker.io/library/NAME:latest, N 6 (1-9).
# Result: DIR/NAME/{rootfs,cmd,definition[,profile]} (root-owned, read-only for everyone else,
# shared by all tenants). Replaces an earlier build atomically. --if-changed does nothing when
# DIR/NAME/definition already matches (the hash of this script, the definition's files and the
# content of every binary and library copied in). --oci writes an OCI image archive instead
# (oci-layout, index.json, one manifest, a config, one gzip layer; deterministic), which
# `ctr images import` accepts. docker/README.md describes the definition files.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=/var/lib/sashimono/images
name=instance
sashimono="$here/build/release/src/sashimono"
oci=""
ref=""
gzip_level=6
if_changed=0
print_definition=0
usage() {
  echo "usage: $0 [--out DIR] [--name NAME] [--sashimono PATH] [--if-changed | --oci FILE.tar [--ref REF] [--gzip-level N] | --print-definition]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
    --name) [ $# -ge 2 ] || usage; name=$2; shift 2 ;;
    --sashimono) [ $# -ge 2 ] || usage; sashimono=$2; shift 2 ;;
    --oci) [ $# -ge 2 ] || usage; oci=$2; shift 2 ;;
    --ref) [ $# -ge 2 ] || usage; ref=$2; shift 2 ;;
    --gzip-level) [ $# -ge 2 ] || usage; gzip_level=$2; shift 2 ;;
    --if-changed) if_changed=1; shift ;;
    --print-definition) print_definition=1; shift ;;
    *) usage ;;
  esac
done
[[ "$name" =~ ^[a-z][a-z0-9._-]{0,63}$ ]] || { echo "build-image: bad image name '$name'" >&2; exit 2; }
[[ "$gzip_level" =~ ^[1-9]$ ]] || { echo "build-image: --gzip-level must be 1..9" >&2; exit 2; }
src="$here/docker/$name"
[ -d "$src" ] || { echo "build-image: no image definition $src" >&2; exit 1; }
[ -n "$ref" ] || ref="docker.io/library/$name:latest"
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || { echo "build-image: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
if ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked' && ldd "$busybox" >/dev/null 2>&1; then
  echo "build-image: $busybox is not static (install busybox-static)" >&2; exit 1
fi

# SHA-256 of a file, lower-case hex. OpenSSL's uses the CPU's SHA instructions (several times
# faster than coreutils' on a sanitizer build of the runtime); same digest either way.
if command -v openssl > /dev/null; then
  sha256_of() { openssl dgst -sha256 -r "$1" | cut -d' ' -f1; }
else
  sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
fi

# Host binaries: "DEST SOURCE" per line of docker/<name>/binaries; SOURCE @sashimono = --sashimono.
binaries=()  # pairs: dest source
if [ -f "$src/binaries" ]; then
  while read -r dest from _; do
    [ -n "$dest" ] || continue
    case "$dest" in \#*) continue ;; esac
    [ "$from" = "@sashimono" ] && from=$sashimono
    [ -n "$from" ] || from=$dest
    [[ "$dest" == /* ]] || { echo "build-image: $src/binaries: '$dest' is not an absolute path" >&2; exit 1; }
    [ -f "$from" ] && [ -x "$from" ] || { echo "build-image: $from (for $dest) is not an executable file" >&2; exit 1; }
    binaries+=("$dest" "$(readlink -f "$from")")
  done < "$src/binaries"
fi
# The shared-library closure of every ELF binary, as the dynamic loader resolves it on this host
# (paths as ldd prints them, the loader included); copied to the same paths in the image.
libraries=()
for ((i = 1; i < ${#binaries[@]}; i += 2)); do
  b=${binaries[i]}
  if ! file -L "$b" | grep -q 'dynamically linked'; then continue; fi
  while read -r lib; do libraries+=("$lib"); done < <(
    ldd "$b" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
done
if [ ${#libraries[@]} -gt 0 ]; then
  mapfile -t libraries < <(printf '%s\n' "${libraries[@]}" | LC_ALL=C sort -u)
fi
for lib in "${libraries[@]}"; do
  [ -f "$lib" ] || { echo "build-image: library $lib not found" >&2; exit 1; }
done

# What it is built from: tools/setup.sh and --if-changed rebuild when this changes. Content of
# every copied binary and library included, so a rebuilt runtime binary rebuilds the image.
definition() {
  {
    sha256_of "$here/tools/build-image.sh"
    (cd "$here" && find "docker/$name" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    sha256_of "$busybox"
    for ((i = 0; i < ${#binaries[@]}; i += 2)); do
      echo "${binaries[i]} $(sha256_of "${binaries[i + 1]}")"
    done
    for lib in "${libraries[@]}"; do echo "$lib $(sha256_of "$lib")"; done
  } | sha256sum | cut -c1-16
}
want=$(definition)
if [ $print_definition = 1 ]; then echo "$want"; exit 0; fi
if [ $if_changed = 1 ] && [ -z "$oci" ] && [ -d "$out/$name/rootfs" ] &&
   [ "$(cat "$out/$name/definition" 2>/dev/null || true)" = "$want" ]; then
  echo "build-image: $out/$name is up to date"
  exit 0
fi

umask 022
if [ -n "$oci" ]; then
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/build-image.XXXXXX")
else
  mkdir -p "$out"
  chmod 755 "$out"
  tmp="$out/.$name.tmp.$$"
  rm -rf "$tmp"
  mkdir "$tmp"
fi
trap 'rm -rf "$tmp"' EXIT
root="$tmp/rootfs"
# Empty mount points: runc cannot create them in a read-only root.
mkdir -p "$root"/{bin,etc,proc,dev,sys,tmp,state,run/sashimono,run/statefs,run/views,data}
cp "$busybox" "$root/bin/busybox"
for a in $(cat "$src/applets"); do ln -s busybox "$root/bin/$a"; done
cp "$src"/etc/* "$root/etc/"
: > "$root/etc/hosts"
: > "$root/etc/resolv.conf"
if [ -d "$src/www" ]; then
  mkdir -p "$root/www"
  cp -r "$src"/www/. "$root/www/"
fi
for ((i = 0; i < ${#binaries[@]}; i += 2)); do
  mkdir -p "$root$(dirname "${binaries[i]}")"
  cp "${binaries[i + 1]}" "$root${binaries[i]}"
  chmod 755 "$root${binaries[i]}"
done
for lib in "${libraries[@]}"; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
  chmod 755 "$root$lib"
done
cp "$src/cmd" "$tmp/cmd"
[ -f "$src/profile" ] && cp "$src/profile" "$tmp/profile"
echo "$want" > "$tmp/definition"
chown -R 0:0 "$tmp" 2>/dev/null || true
chmod -R go-w "$tmp"

if [ -z "$oci" ]; then
  if [ -e "$out/$name" ]; then
    mv "$out/$name" "$out/.$name.old.$$"
    mv "$tmp" "$out/$name"
    rm -rf "$out/.$name.old.$$"
  else
    mv "$tmp" "$out/$name"
  fi
  trap - EXIT
  echo "build-image: $out/$name/rootfs ($(du -sh "$out/$name/rootfs" | cut -f1), definition $want)"
  exit 0
fi

# ---- OCI image archive ----
json_string() {  # a JSON string literal of $1 (no control characters allowed)
  local s=$1
  if [[ "$s" =~ [[:cntrl:]] ]]; then echo "build-image: control character in '$s'" >&2; exit 1; fi
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}
blob() {  # moves file $1 into blobs/sha256/<digest>; prints the digest's hex
  local d
  d=$(sha256_of "$1")
  mv "$1" "$tmp/oci/blobs/sha256/$d"
  echo "$d"
}
case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  *) arch=$(uname -m) ;;
esac
profile=$(cat "$tmp/profile" 2>/dev/null || true)
if [ "$profile" = runtime ]; then user="0:0"; else user="1000:1000"; fi
mkdir -p "$tmp/oci/blobs/sha256"
# The layer: the rootfs, sorted, owned by 0:0, every mtime 0, gzip without name and time.
tarflags=(--format=gnu --numeric-owner --owner=0 --group=0 --mtime=@0 --no-acls --no-xattrs --no-selinux)
(cd "$root" && find . -mindepth 1 -printf '%P\0' | LC_ALL=C sort -z |
  tar "${tarflags[@]}" --no-recursion --null -T - -cf "$tmp/layer.tar")
diffid=$(sha256_of "$tmp/layer.tar")
gzip -n "-$gzip_level" "$tmp/layer.tar"
layer_size=$(stat -c %s "$tmp/layer.tar.gz")
layer=$(blob "$tmp/layer.tar.gz")
cmd_json=""
while IFS= read -r line || [ -n "$line" ]; do
  [ -n "$line" ] || continue
  cmd_json+="${cmd_json:+,}$(json_string "$line")"
done < "$tmp/cmd"
printf '%s' "{\"architecture\":\"$arch\",\"os\":\"linux\",\"created\":\"1970-01-01T00:00:00Z\",\
\"config\":{\"User\":\"$user\",\"Env\":[\"PATH=/usr/local/bin:/usr/bin:/bin\"],\"Cmd\":[$cmd_json],\
\"WorkingDir\":\"/\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:$diffid\"]},\
\"history\":[{\"created\":\"1970-01-01T00:00:00Z\",\"created_by\":\"tools/build-image.sh $name $want\"}]}" \
  > "$tmp/config.json"
config_size=$(stat -c %s "$tmp/config.json")
config=$(blob "$tmp/config.json")
printf '%s' "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\
\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$config\",\"size\":$config_size},\
\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$layer\",\"size\":$layer_size}]}" \
  > "$tmp/manifest.json"
manifest_size=$(stat -c %s "$tmp/manifest.json")
manifest=$(blob "$tmp/manifest.json")
printf '%s' "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\
\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$manifest\",\
\"size\":$manifest_size,\"annotations\":{\"org.opencontainers.image.ref.name\":$(json_string "$ref")},\
\"platform\":{\"architecture\":\"$arch\",\"os\":\"linux\"}}]}" > "$tmp/oci/index.json"
printf '%s' '{"imageLayoutVersion":"1.0.0"}' > "$tmp/oci/oci-layout"
(cd "$tmp/oci" && find . -mindepth 1 -printf '%P\0' | LC_ALL=C sort -z |
  tar "${tarflags[@]}" --mode=u=rwX,go=rX --no-recursion --null -T - -cf "$tmp/image.tar")
mv "$tmp/image.tar" "$oci"
echo "build-image: $oci (OCI archive of $name as $ref, $(du -sh "$oci" | cut -f1), definition $want)"
