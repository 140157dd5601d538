#!/usr/bin/env bash
# The Debian package installed, run as a service and purged in a clean Debian 12 root: slow
# (a root made with mmdebstrap from Debian's archive, a package build), so scripts/test runs it
# only with SLUICE_PACKAGE_TEST=1.
#
# 1. scripts/package builds the package (from the sources; SLUICE_PREBUILT=DIR packages DIR's
#    programs instead) and mmdebstrap makes a bookworm root with systemd.
# 2. In that root (chroot): the package's dependencies from the archive, a list of every file,
#    then the package itself (dpkg): its postinst enables the unit.
# 3. The root boots with systemd as PID 1 in a container (systemd-nspawn, private network): the
#    machine running the test does not run systemd, the container does, so the unit runs as
#    systemd runs it: Type=notify readiness, the sandboxing, RuntimeDirectory/StateDirectory/
#    LogsDirectory. `systemctl start` returns once sluice-switchd has sent READY=1; then
#    sluice-vsctl add-br and show, sluice-ofctl and sluice-appctl with their default paths; the
#    journal holds no warning; logrotate rotates the log and the daemon writes to the new file;
#    a killed daemon is restarted (Restart=on-failure); `systemctl stop` stops it cleanly.
# 4. Purged: every file is as before the package was installed.
# Usage: install_test.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "${1:?usage: install_test.sh BUILD_DIR}" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$BUILD/package-test
ROOT=$WORK/root
NSPAWN_PID=""
# systemd-nspawn keeps state in /run/systemd/nspawn, which a host without systemd lacks.
NSPAWN_STATE=/run/systemd/nspawn
[ -e $NSPAWN_STATE ] && NSPAWN_STATE=""
step() { echo "[$(date +%T)] $*"; }
fail() {
  echo "FAIL: $*" >&2
  [ -f "$WORK/console.log" ] && { echo "---- container console (last 30 lines)"; tail -30 "$WORK/console.log"; } >&2
  exit 1
}
cleanup() {
  local rc=$?
  if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
    kill "$NSPAWN_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$NSPAWN_PID" 2>/dev/null || true
  fi
  for m in proc sys dev/pts dev; do umount "$ROOT/$m" 2>/dev/null || true; done
  [ -n "$NSPAWN_STATE" ] && rm -rf "$NSPAWN_STATE"
  [ $rc -eq 0 ] && rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
for tool in mmdebstrap systemd-nspawn nsenter dpkg-buildpackage; do
  command -v $tool >/dev/null || { echo "$tool not installed (scripts/setup)"; exit 77; }
done

rm -rf "$WORK"
mkdir -p "$WORK"
step "scripts/package${SLUICE_PREBUILT:+ (programs from $SLUICE_PREBUILT)}"
DEB_BUILD_OPTIONS=noautodbgsym PACKAGE_DIR=$WORK/packages "$SRC/scripts/package" >/dev/null
DEB=$(ls "$WORK"/packages/sluice-switch_*.deb)

step "mmdebstrap: a Debian 12 root with systemd"
mmdebstrap --quiet --variant=apt --include=systemd,systemd-sysv,dbus,logrotate,iproute2 \
  bookworm "$ROOT" "deb http://deb.debian.org/debian bookworm main" \
  "deb http://deb.debian.org/debian bookworm-updates main" \
  "deb http://deb.debian.org/debian-security bookworm-security main" >"$WORK/mmdebstrap.log" 2>&1 ||
  { tail -20 "$WORK/mmdebstrap.log"; fail "mmdebstrap"; }

in_root() { chroot "$ROOT" /usr/bin/env DEBIAN_FRONTEND=noninteractive "$@"; }
mount -t proc proc "$ROOT/proc"
mount --bind /dev "$ROOT/dev"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
step "the package's dependencies from the archive"
cp "$DEB" "$ROOT/tmp/"
in_root apt-get update -qq >"$WORK/apt.log" 2>&1 || { tail -20 "$WORK/apt.log"; fail "apt-get update"; }
in_root apt-get satisfy -y -qq --no-install-recommends "$(dpkg-deb -f "$DEB" Depends)" \
  >>"$WORK/apt.log" 2>&1 || { tail -20 "$WORK/apt.log"; fail "apt-get satisfy"; }
in_root apt-get clean
umount "$ROOT/dev" "$ROOT/proc"

# Every file but the volatile ones (journal, apt and dpkg bookkeeping, caches), with its type,
# mode and contents' checksum for regular files.
snapshot() {
  (cd "$ROOT" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run \
    -o -path ./tmp -o -path ./var/log/journal -o -path ./var/lib/dpkg -o -path ./var/lib/apt \
    -o -path ./var/cache -o -path ./var/lib/systemd -o -path ./var/log/apt \
    -o -path ./var/log/dpkg.log -o -path ./var/log/alternatives.log -o -path ./etc/machine-id \
    -o -path ./var/lib/dbus/machine-id -o -path ./var/lib/logrotate \) -prune -o \
    -printf '%y %m %p\n' | sort) >"$1"
}
snapshot "$WORK/before"

step "dpkg -i $(basename "$DEB")"
in_root dpkg -i "/tmp/$(basename "$DEB")" >"$WORK/dpkg.log" 2>&1 || { cat "$WORK/dpkg.log"; fail "dpkg -i"; }
[ -L "$ROOT/etc/systemd/system/multi-user.target.wants/sluice-switchd.service" ] ||
  fail "the package did not enable sluice-switchd.service"
# (no man-db in the root: tests/package/check.sh checks Documentation=man: on the host)
in_root systemd-analyze verify --man=no /lib/systemd/system/sluice-switchd.service >"$WORK/verify" 2>&1 ||
  { cat "$WORK/verify"; fail "systemd-analyze verify in the root"; }
grep sluice "$WORK/verify" && fail "systemd-analyze verify: $(cat "$WORK/verify")"
# The service is enabled: it would start at boot. Disable it here so that the test starts it
# (and sees `systemctl start` wait for readiness), then enable it again before purging.
rm "$ROOT/etc/systemd/system/multi-user.target.wants/sluice-switchd.service"

step "booting the root with systemd (systemd-nspawn)"
# nspawn shows the container only part of /sys, without /sys/module, where DPDK's EAL looks for
# the vfio module (and, not finding /sys/module, refuses to start): the host's, read-only.
systemd-nspawn -D "$ROOT" --boot --register=no --keep-unit --private-network \
  --bind-ro=/sys/module --timezone=off --resolv-conf=off --machine=sluice-pkg-$$ --console=passive >"$WORK/console.log" 2>&1 &
NSPAWN_PID=$!
LEADER=""
for _ in $(seq 300); do
  LEADER=$(pgrep -P "$NSPAWN_PID" -x systemd || true)
  [ -n "$LEADER" ] && break
  kill -0 "$NSPAWN_PID" 2>/dev/null || fail "systemd-nspawn exited: $(cat "$WORK/console.log")"
  sleep 0.1
done
[ -n "$LEADER" ] || fail "no systemd in the container"
ct() { nsenter --target "$LEADER" --mount --uts --ipc --net --pid -- "$@"; }
for _ in $(seq 300); do ct test -S /run/systemd/private && break; sleep 0.1; done
state=$(ct timeout 120 systemctl is-system-running --wait 2>&1 || true)
[ "$state" = running ] || [ "$state" = degraded ] || fail "container systemd: $state"

step "systemctl start sluice-switchd (Type=notify: returns once READY=1 is sent)"
t0=$(date +%s%N)
ct timeout 120 systemctl start sluice-switchd || {
  ct systemctl status --no-pager sluice-switchd
  ct journalctl --no-pager -u sluice-switchd
  fail "systemctl start"
}
echo "  started in $((($(date +%s%N) - t0) / 1000000)) ms"
[ "$(ct systemctl is-active sluice-switchd)" = active ] || fail "not active after start"
ct systemctl show -p StatusText sluice-switchd | grep -q "StatusText=configuration applied" ||
  fail "no STATUS from sd_notify: $(ct systemctl show -p StatusText sluice-switchd)"
MAINPID=$(ct systemctl show -p MainPID --value sluice-switchd)
[ "$MAINPID" -gt 1 ] || fail "MainPID $MAINPID"
ct test -S /run/sluice/db.sock || fail "no /run/sluice/db.sock"

step "sluice-vsctl, sluice-ofctl, sluice-appctl with their default paths"
ct sluice-vsctl --timeout=30 add-br br0 || fail "sluice-vsctl add-br br0"
ct sluice-vsctl show | tee "$WORK/show"
grep -q "Bridge br0" "$WORK/show" || fail "sluice-vsctl show has no br0"
ct sluice-ofctl dump-flows br0 | grep -q "actions=NORMAL" || fail "sluice-ofctl dump-flows br0"
ct sluice-appctl version | grep -q "sluice-switchd (Sluice)" || fail "sluice-appctl version"
ct test -f /var/lib/sluice/conf.db || fail "no /var/lib/sluice/conf.db"
# The log file is flushed every second (warnings and errors at once).
wait_for_log() {
  for _ in $(seq 50); do ct grep -q "$1" /var/log/sluice/sluice-switchd.log && return 0; sleep 0.1; done
  return 1
}
wait_for_log "ready" || fail "nothing in the log file"
# Quiet: the journal (the daemon's console, at warn) holds no warning or error.
invocation=$(ct systemctl show -p InvocationID --value sluice-switchd)
warnings=$(ct journalctl --no-pager -q _SYSTEMD_INVOCATION_ID="$invocation" -p warning)
[ -z "$warnings" ] || fail "warnings in the journal: $warnings"

step "logrotate: the log is rotated and reopened"
ct logrotate -f /etc/logrotate.d/sluice-switch || fail "logrotate"
ct test -f /var/log/sluice/sluice-switchd.log.1 || fail "no rotated log"
ct sluice-vsctl --timeout=30 add-br br1 || fail "add-br br1"
wait_for_log "added bridge br1" || fail "the daemon did not write to the new log file"

step "a killed daemon is restarted (Restart=on-failure)"
ct systemctl kill --kill-whom=main --signal=KILL sluice-switchd
for _ in $(seq 300); do
  newpid=$(ct systemctl show -p MainPID --value sluice-switchd)
  [ "$newpid" != "$MAINPID" ] && [ "$newpid" != 0 ] &&
    [ "$(ct systemctl is-active sluice-switchd)" = active ] && break
  sleep 0.1
done
[ "$(ct systemctl show -p NRestarts --value sluice-switchd)" = 1 ] || fail "not restarted"
ct sluice-vsctl show | grep -q "Bridge br1" || fail "configuration lost over the restart"

step "systemctl stop sluice-switchd"
ct timeout 60 systemctl stop sluice-switchd || fail "systemctl stop"
[ "$(ct systemctl is-active sluice-switchd || true)" = inactive ] || fail "not inactive after stop"
ct test -e /run/sluice && fail "/run/sluice left after stop"
ct test -e "/run/dpdk/sluice-$newpid" && fail "DPDK's runtime directory left after stop"
ct systemctl poweroff || true
for _ in $(seq 300); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$NSPAWN_PID" 2>/dev/null && fail "container did not power off"
NSPAWN_PID=""

step "apt-get purge sluice-switch: nothing left behind"
in_root systemctl enable sluice-switchd >/dev/null 2>&1 || true
mount -t proc proc "$ROOT/proc"
in_root apt-get purge -y -qq sluice-switch >"$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log"; fail "purge"; }
umount "$ROOT/proc"
rm -f "$ROOT/tmp/$(basename "$DEB")"
snapshot "$WORK/after"
diff "$WORK/before" "$WORK/after" >"$WORK/diff" || fail "files differ after purge:
$(cat "$WORK/diff")"
echo "package install test: PASS"
