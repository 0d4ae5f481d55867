#!/usr/bin/env bash
# The floor for the tenant benchmark: the same steps as the provisioner, done by the plainest
# shell script (useradd, cgroup, disk, state mount, rootlesskit + containerd, ctr run, port
# forward). Test/benchmark code only; the product never runs a shell.
#   tenant_floor.sh create NAME PORT     tenant_floor.sh destroy NAME
# Environment: FLOOR_BASE (dir), FLOOR_CGROUP (cgroup parent), FLOOR_ROOTFS, SASHIMONO (binary).
set -euo pipefail
verb=$1 name=$2
u=smf-$name home=$FLOOR_BASE/$name img=$FLOOR_BASE/$name.img
cgs="/sys/fs/cgroup/cpu/$FLOOR_CGROUP/$name /sys/fs/cgroup/memory/$FLOOR_CGROUP/$name /sys/fs/cgroup/pids/$FLOOR_CGROUP/$name"

if [ "$verb" = create ]; then
  port=$3
  useradd -M -d "$home" -s /usr/sbin/nologin -U "$u"
  uid=$(id -u "$u"); gid=$(id -g "$u")
  sub=$(grep "^$u:" /etc/subuid | cut -d: -f2); cuid=$((sub + 999))
  useradd -M -d /nonexistent -s /usr/sbin/nologin -N -u "$cuid" -g "$gid" -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "${u}_c"
  for d in $cgs; do mkdir -p "$d"; done
  echo 100000 > "/sys/fs/cgroup/cpu/$FLOOR_CGROUP/$name/cpu.cfs_quota_us"
  echo 268435456 > "/sys/fs/cgroup/memory/$FLOOR_CGROUP/$name/memory.limit_in_bytes"
  echo 1024 > "/sys/fs/cgroup/pids/$FLOOR_CGROUP/$name/pids.max"
  for d in $cgs; do echo $$ > "$d/cgroup.procs"; done
  fallocate -l 256M "$img"
  mkfs.ext4 -q -F -m 0 -E "root_owner=$uid:$gid,lazy_itable_init=1,lazy_journal_init=1,nodiscard" "$img"
  mkdir -p "$home"
  mount -o loop,nodev,nosuid,noatime "$img" "$home"
  chmod 710 "$home"
  install -d -o "$cuid" -g "$gid" -m 700 "$home/state-data" "$home/state"
  runuser -u "${u}_c" -- "$SASHIMONO" statefs mount --source "$home/state-data" --mountpoint "$home/state" --allow-other
  install -d -o "$u" -g "$gid" -m 700 "$home/run" "$home/log"
  cat > "$home/containerd.toml" <<EOT
version = 2
root = "$home/containerd"
state = "$home/run/containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$home/run/containerd.sock"
EOT
  cat > "$home/spec.json" <<EOT
{"ociVersion":"1.0.2-dev","process":{"terminal":false,"user":{"uid":1000,"gid":1000},
 "args":["/bin/httpd","-f","-p","8080","-h","/www"],"env":["PATH=/bin"],"cwd":"/",
 "capabilities":{"bounding":[],"effective":[],"permitted":[]},"noNewPrivileges":true},
 "root":{"path":"$FLOOR_ROOTFS","readonly":true},"hostname":"instance",
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
  {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","mode=755"]},
  {"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620"]},
  {"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["nosuid","nodev","mode=1777"]},
  {"destination":"/state","type":"bind","source":"$home/state","options":["rbind","rw"]}],
 "linux":{"namespaces":[{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"}]}}
EOT
  env="HOME=$home XDG_RUNTIME_DIR=$home/run"
  runuser -u "$u" -- env $env rootlesskit --net=slirp4netns --disable-host-loopback --port-driver=builtin \
    --copy-up=/etc --copy-up=/run --state-dir="$home/run/rk" containerd -c "$home/containerd.toml" \
    > "$home/log/rootlesskit.log" 2>&1 < /dev/null &
  until [ -S "$home/run/containerd.sock" ] && [ -S "$home/run/rk/api.sock" ] && [ -s "$home/run/rk/child_pid" ]; do
    sleep 0.002
  done
  runuser -u "$u" -- env $env nsenter -U --preserve-credentials -m -n -t "$(cat "$home/run/rk/child_pid")" \
    ctr --address "$home/run/containerd.sock" run -d --config "$home/spec.json" instance
  runuser -u "$u" -- rootlessctl --socket "$home/run/rk/api.sock" add-ports "127.0.0.1:$port:8080/tcp" > /dev/null
elif [ "$verb" = destroy ]; then
  while [ -n "$(cat /sys/fs/cgroup/pids/$FLOOR_CGROUP/$name/cgroup.procs 2>/dev/null)" ]; do
    kill -9 $(cat "/sys/fs/cgroup/pids/$FLOOR_CGROUP/$name/cgroup.procs") 2>/dev/null || true
  done
  umount -l "$home/state" 2>/dev/null || true
  umount "$home" 2>/dev/null || umount -l "$home" 2>/dev/null || true
  for d in $cgs; do rmdir "$d" 2>/dev/null || true; done
  userdel "${u}_c" 2>/dev/null || true
  userdel "$u" 2>/dev/null || true
  rm -rf "$home" "$img"
fi
