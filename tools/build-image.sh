#!/usr/bin/env bash
# Builds an instance root filesystem locally (no registry) from busybox-static, docker/<name>/ and,
# for images that list them in docker/<name>/binaries, host binaries with their shared libraries.
#   tools/build-image.sh [--out DIR] [--name NAME] [--sashimono PATH] [--www DIR] [--if-changed]
#   tools/build-image.sh [--name NAME] [--sashimono PATH] --oci FILE.tar [--ref REF] [--gzip-level N]
#   tools/build-image.sh [--name NAME] [--sashimono PATH] --print-definition
# Defaults: DIR /var/lib/sashimono/images, NAME instance, PATH build/release/src/sashimono (only
# read by definitions that name @sashimono), REF docker.io/library/NAME:latest, N 6 (1-9).
# Result: a new version DIR/NAME/versions/<definition>-<UTC time>/{rootfs,cmd,definition[,profile]}
# (root-owned, read-only for everyone else, shared by all tenants), made DIR/NAME/current by an
# atomic symlink swap; DIR/NAME/{rootfs,cmd,definition,profile} are symlinks into current/. Earlier
# versions stay (tenants pin theirs; `sashimono host upgrade-tenants` moves them and removes the
# versions nobody uses). A flat DIR/NAME of an older build is converted in place first (its files
# moved to versions/legacy-<definition>/, which tenants running it keep using). Builds of one image
# are serialized by a flock on DIR/NAME/.lock. --if-changed does nothing when the current
# version's definition already matches (the hash of this script, the definition's files and the
# content of every binary and library copied in). --www DIR: the web root copied to /www instead of
# docker/NAME/www (tests: a version with other content). --oci writes an OCI image archive instead
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
www=""
print_definition=0
usage() {
  echo "usage: $0 [--out DIR] [--name NAME] [--sashimono PATH] [--www DIR] [--if-changed | --oci FILE.tar [--ref REF] [--gzip-level N] | --print-definition]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
    --name) [ $# -ge 2 ] || usage; name=$2; shift 2 ;;
    --sashimono) [ $# -ge 2 ] || usage; sashimono=$2; shift 2 ;;
    --www) [ $# -ge 2 ] || usage; www=$2; shift 2 ;;
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
if [ -n "$www" ]; then
  [ -d "$www" ] || { echo "build-image: --www $www is not a directory" >&2; exit 1; }
  www=$(cd "$www" && pwd)
else
  www="$src/www"
fi
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
    (cd "$here" && find "docker/$name" -type f -not -path "docker/$name/www/*" -print0 | LC_ALL=C sort -z |
      xargs -0 sha256sum)
    if [ -d "$www" ]; then (cd "$www" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum); fi
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
  dir="$out/$name"
  mkdir -p "$dir"
  chmod 755 "$out" "$dir"
  # One build of an image at a time; `sashimono host upgrade-tenants` holds it while it prunes.
  exec 9> "$dir/.lock"
  flock 9
  tmp="$dir/.build.$$"
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
if [ -d "$www" ]; then
  mkdir -p "$root/www"
  cp -r "$www"/. "$root/www/"
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

# Points link $1 (in $dir) at $2 by a rename over it: readers see the old or the new target.
swap_link() {
  [ "$(readlink "$dir/$1" 2>/dev/null || true)" = "$2" ] && return 0
  ln -sfn "$2" "$dir/.$1.link.$$"
  mv -T "$dir/.$1.link.$$" "$dir/$1"
}
if [ -z "$oci" ]; then
  mkdir -p "$dir/versions"
  chmod 755 "$dir/versions"
  # A flat image of an older build: its files become a version of their own (renames: tenants
  # running it keep their mounts), current points at it until the new version replaces it.
  if [ -d "$dir/rootfs" ] && [ ! -L "$dir/rootfs" ]; then
    old_def=$(cat "$dir/definition" 2>/dev/null || true)
    [[ "$old_def" =~ ^[0-9a-f]{16}$ ]] || old_def=unknown
    lid="legacy-$old_def"
    n=1
    while [ -e "$dir/versions/$lid" ]; do lid="legacy-$old_def-$n"; n=$((n + 1)); done
    mkdir "$dir/versions/$lid"
    for f in rootfs cmd definition profile; do
      if [ -e "$dir/$f" ] && [ ! -L "$dir/$f" ]; then mv "$dir/$f" "$dir/versions/$lid/$f"; fi
    done
    swap_link current "versions/$lid"
    for f in rootfs cmd definition profile; do swap_link "$f" "current/$f"; done
    echo "build-image: converted the flat $dir into version $lid"
  fi
  id="$want-$(date -u +%Y%m%dT%H%M%SZ)"
  n=1
  while [ -e "$dir/versions/$id" ]; do id="$want-$(date -u +%Y%m%dT%H%M%SZ)-$n"; n=$((n + 1)); done
  mv "$tmp" "$dir/versions/$id"
  trap - EXIT
  swap_link current "versions/$id"
  # Into current/ (profile dangles for images without one: readers treat it as absent).
  for f in rootfs cmd definition profile; do swap_link "$f" "current/$f"; done
  echo "build-image: $dir/versions/$id is current ($(du -sh "$dir/versions/$id/rootfs" | cut -f1), definition $want)"
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
