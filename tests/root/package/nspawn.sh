# A throwaway systemd machine for the service test (sourced after lib.sh): systemd-nspawn boots
# /lib/systemd/systemd on an overlay of this machine's own root (a tmpfs upper layer: nothing it
# writes reaches the machine), with its own network namespace (loopback only) and PID namespace.
# What real tenants need inside, found by trying (docs/OPERATIONS.md, "How the service is tested"):
#   SYSTEMD_NSPAWN_API_VFS_WRITABLE=1  no read-only overmounts on /proc/sys etc.: runc mounts a new
#                                      proc inside the tenant's user namespace, which the kernel
#                                      refuses while parts of /proc are hidden by overmounts
#   --capability=all                   mounts (FUSE, loop, ext4), cgroups, mknod, user namespaces
#   --system-call-filter=@keyring      runc makes a session keyring for the container; nspawn's
#                                      filter answers keyctl/add_key with EPERM
#   --bind /dev/fuse /dev/net/tun /dev/loop-control, loop nodes made inside (mknod)
#   the v1 controllers remounted read-write inside (nspawn mounts them read-only)
# The machine's processes are kept in cgroups of their own (smtest-svc-<pid> in every v1 hierarchy
# and the unified one), whose subtree nspawn and the tenants inside use, and which the cleanup
# empties and removes. Needs a host without systemd as PID 1 (as CI and this machine): nspawn runs
# unregistered (--register=no --keep-unit).
ns_name=smtest-svc-$$
ns_run=/run/$ns_name
ns_root=$ns_run/root
ns_data=/var/tmp/$ns_name
ns_pid=""
ns_hier="systemd unified cpu cpuacct memory pids"

ns_require() {
  command -v systemd-nspawn >/dev/null || skip "needs systemd-nspawn (apt-get install systemd-container)"
  [ -x /lib/systemd/systemd ] || skip "needs /lib/systemd/systemd"
  [ ! -d /run/systemd/system ] || skip "systemd is PID 1 here: this test boots its own (run it where it is not)"
  grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || skip "needs overlayfs"
  for h in $ns_hier; do [ -d /sys/fs/cgroup/$h ] || skip "needs the cgroup v1/hybrid hierarchy $h"; done
  for d in /dev/fuse /dev/net/tun /dev/loop-control; do [ -e $d ] || skip "needs $d"; done
}

# ns_boot DEB_DIR: boots the machine with DEB_DIR at /pkg (read-only) and ns_data at /var/lib/sashimono.
ns_boot() {
  mkdir -p $ns_run $ns_data
  mount -t tmpfs -o mode=0755 tmpfs $ns_run
  mkdir -p $ns_run/up $ns_run/work $ns_root
  mount -t overlay overlay -o lowerdir=/,upperdir=$ns_run/up,workdir=$ns_run/work $ns_root
  # Boot into a target of its own: only sysinit (journald, tmpfiles, udev-less /dev), no services
  # of this machine (databases, timers that would take the dpkg lock, network configuration).
  local sd=$ns_root/etc/systemd/system
  printf '[Unit]\nDescription=sashimono service test\nRequires=sysinit.target\nAfter=sysinit.target\n' >$sd/smtest.target
  ln -sfn smtest.target $sd/default.target
  for u in systemd-networkd-wait-online.service ifupdown-wait-online.service NetworkManager-wait-online.service \
    networking.service systemd-timesyncd.service; do ln -sfn /dev/null $sd/$u; done
  systemd-id128 new >$ns_root/etc/machine-id
  # A Docker-made image's policy-rc.d (exit 101: "start no service") is not part of a real host.
  rm -f $ns_root/usr/sbin/policy-rc.d
  for h in $ns_hier; do mkdir -p /sys/fs/cgroup/$h/$ns_name; done
  (
    for h in $ns_hier; do echo $BASHPID >/sys/fs/cgroup/$h/$ns_name/cgroup.procs; done
    export SYSTEMD_NSPAWN_API_VFS_WRITABLE=1
    exec systemd-nspawn --quiet --directory=$ns_root --boot --register=no --keep-unit --machine=$ns_name \
      --private-network --capability=all --system-call-filter=@keyring --console=passive \
      --bind=/dev/fuse --bind=/dev/net/tun --bind=/dev/loop-control \
      --bind=$ns_data:/var/lib/sashimono --bind-ro="$1":/pkg
  ) >$ns_data.log 2>&1 &
  ns_pid=$!
  disown $ns_pid
  local leader=""
  for _ in $(seq 1 300); do
    leader=$(head -1 /sys/fs/cgroup/systemd/$ns_name/payload/init.scope/cgroup.procs 2>/dev/null || true)
    [ -n "$leader" ] && break
    kill -0 $ns_pid 2>/dev/null || { cat $ns_data.log; fail "systemd-nspawn exited"; }
    sleep 0.1
  done
  [ -n "$leader" ] || fail "the machine did not start"
  ns_leader=$leader
  timeout=300 wait_for ns test -S /run/systemd/private || fail "the machine's systemd does not answer"
  local st
  st=$(ns timeout 60 systemctl is-system-running --wait 2>&1 || true)
  case "$st" in running | degraded) ;; *) ns systemctl --failed --no-pager || true; fail "machine state: $st" ;; esac
  ns sh -c 'for c in cpu cpuacct memory pids; do mount -o remount,bind,rw /sys/fs/cgroup/$c; done
            for i in $(seq 0 255); do [ -e /dev/loop$i ] || mknod -m 0660 /dev/loop$i b 7 $i; done'
}

# ns CMD...: runs CMD in the machine (all its namespaces, its root).
ns() { nsenter -t "$ns_leader" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

# ns_cleanup [NAME]: removes the machine NAME (default: this test's) and all it left.
ns_cleanup() {
  set +e
  local name=${1:-$ns_name}
  local run=/run/$name data=/var/tmp/$name
  # The machine is thrown away: every process in its cgroups (nspawn, its systemd and services, the
  # tenants, which outlive their node by design) is killed at once; its mounts die with it.
  for _ in $(seq 1 50); do
    local pids
    pids=$(find /sys/fs/cgroup/{systemd,cpu,memory,pids}/$name -name cgroup.procs -exec cat {} + 2>/dev/null)
    [ -z "$pids" ] && break
    kill -KILL $pids 2>/dev/null
    sleep 0.1
  done
  for h in $ns_hier; do
    [ ! -d /sys/fs/cgroup/$h/$name ] || find /sys/fs/cgroup/$h/$name -depth -type d -exec rmdir {} + 2>/dev/null
  done
  for dev in /sys/block/loop*; do
    case "$(cat $dev/loop/backing_file 2>/dev/null)" in $data/* | $run/*) losetup -d /dev/${dev##*/} ;; esac
  done
  awk -v a="$run" -v b="$data" 'index($5, a) == 1 || index($5, b) == 1 { print $5 }' /proc/self/mountinfo |
    sort -r | while read -r mp; do umount -l "$mp"; done
  rm -rf --one-file-system $data $data.log $data.pkg
  rmdir $run 2>/dev/null
  return 0
}

# Machines of earlier runs that were killed before their cleanup (their test process is gone).
ns_reap_stale() {
  local d n
  for d in /sys/fs/cgroup/systemd/smtest-svc-* /run/smtest-svc-* /var/tmp/smtest-svc-*; do
    [ -e "$d" ] || continue
    n=${d##*/}
    n=${n%.log}
    n=${n%.pkg}
    alive "${n#smtest-svc-}" && continue
    echo "removing the leftovers of an earlier run: $n"
    ns_cleanup "$n"
  done
}
