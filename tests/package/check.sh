#!/usr/bin/env bash
# The Debian package, from the programs of a build directory (no compiling: scripts/package with
# SLUICE_PREBUILT): it builds with dpkg-buildpackage; lintian finds no error or warning; the
# systemd unit passes `systemd-analyze verify` with the package's files in place; every manual
# page renders without warnings (`man -l`) and documents every option its program's --help
# lists (and sluice-vsctl's and sluice-ofctl's every command); the bash completion completes
# commands, options, tables and columns, and bridge and port names from a running switch.
# tests/package/install_test.sh installs the package in a clean root and runs the service.
# Usage: check.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "${1:?usage: check.sh BUILD_DIR}" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d /tmp/sluice-pkgcheck.XXXXXX)
PID=""
cleanup() {
  local rc=$?
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "[$(date +%T)] $*"; }
for tool in dpkg-buildpackage dh lintian systemd-analyze man; do
  command -v $tool >/dev/null || { echo "$tool not installed (scripts/setup)"; exit 77; }
done
[ -r /usr/share/bash-completion/bash_completion ] || { echo "bash-completion not installed"; exit 77; }

step "scripts/package (programs from $BUILD)"
# No -dbgsym package: its compression is most of the time and nothing here reads it.
DEB_BUILD_OPTIONS=noautodbgsym PACKAGE_DIR=$BUILD/packages SLUICE_PREBUILT=$BUILD \
  "$SRC/scripts/package" >/dev/null
DEB=$(ls "$BUILD"/packages/sluice-switch_*.deb)
ROOT=$TMP/root
dpkg-deb -x "$DEB" "$ROOT"
for f in usr/sbin/sluice-switchd usr/sbin/sluice-ovsdb-server usr/bin/sluice-vsctl \
  usr/bin/sluice-ofctl usr/bin/sluice-appctl usr/bin/sluice-ovsdb-tool \
  usr/share/sluice/vswitch.ovsschema lib/systemd/system/sluice-switchd.service \
  etc/sluice/sluice-switchd.conf etc/logrotate.d/sluice-switch \
  usr/share/bash-completion/completions/sluice-vsctl; do
  [ -e "$ROOT/$f" ] || fail "the package has no /$f"
done

step "lintian"
lintian --fail-on error,warning "$BUILD"/packages/sluice-switch_*.changes 2>&1 |
  grep -v "running with root privileges" | tee "$TMP/lintian" || true
grep -E "^[EW]:" "$TMP/lintian" && fail "lintian errors or warnings"

step "systemd-analyze verify"
# The unit's programs and manual page (Documentation=man:) are looked up in the package's tree.
mkdir -p "$TMP/bin"
ln -s "$ROOT/usr/sbin/sluice-switchd" "$TMP/bin/sluice-switchd"
sed "s|/usr/sbin/sluice-switchd|$ROOT/usr/sbin/sluice-switchd|" \
  "$ROOT/lib/systemd/system/sluice-switchd.service" >"$TMP/sluice-switchd.service"
MANPATH=$ROOT/usr/share/man SYSTEMD_LOG_LEVEL=notice \
  systemd-analyze verify "$TMP/sluice-switchd.service" >"$TMP/verify" 2>&1 ||
  { cat "$TMP/verify"; fail "systemd-analyze verify"; }
# Only complaints about the unit itself count (not about units of the machine it runs on).
grep "sluice-switchd.service" "$TMP/verify" && fail "systemd-analyze verify: $(cat "$TMP/verify")"
# The service reads the configuration file: every option in it is one sluice-switchd knows.
"$ROOT/usr/sbin/sluice-switchd" --config="$ROOT/etc/sluice/sluice-switchd.conf" --version \
  >/dev/null || fail "sluice-switchd rejects the packaged configuration file"

step "manual pages"
declare -A page=([sluice-switchd]=usr/sbin [sluice-ovsdb-server]=usr/sbin [sluice-vsctl]=usr/bin
  [sluice-ofctl]=usr/bin [sluice-appctl]=usr/bin [sluice-ovsdb-tool]=usr/bin
  [sluice-pki]=usr/bin)
for prog in "${!page[@]}"; do
  man_file=$(ls "$ROOT"/usr/share/man/man*/"$prog".*.gz 2>/dev/null) || fail "no manual page for $prog"
  LC_ALL=C.UTF-8 MANWIDTH=100 man --warnings -l "$man_file" >"$TMP/$prog.txt" 2>"$TMP/$prog.warn"
  [ -s "$TMP/$prog.warn" ] && fail "man -l $prog: $(cat "$TMP/$prog.warn")"
  grep -q "^NAME" "$TMP/$prog.txt" || fail "$prog's page has no NAME section"
  # Every option of --help (CLI11's "-x,--long", ovs-style "  --long=ARG") is in the page.
  help=$("$ROOT/${page[$prog]}/$prog" --help 2>&1 || true)
  for opt in $(grep -oE -- '(^|[ ,])--[a-z][a-z-]*' <<<"$help" | tr -d ' ,' | sort -u); do
    grep -qF -- "$opt" "$TMP/$prog.txt" || fail "$prog's manual page lacks $opt"
  done
  # Commands, for the two tools whose --help lists them ("  command ARGS   text").
  if [ $prog = sluice-vsctl ] || [ $prog = sluice-ofctl ]; then
    for cmd in $(sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' <<<"$help" | sort -u); do
      grep -qE -- "(^| )$cmd( |,|$)" "$TMP/$prog.txt" || fail "$prog's manual page lacks $cmd"
    done
  fi
done
# sluice-ovsdb-tool's usage (on stderr) lists its commands.
for cmd in $("$ROOT/usr/bin/sluice-ovsdb-tool" 2>&1 | grep -oE '(^  |\| )[a-z][a-z-]+' | tr -d ' |'); do
  grep -qE -- "(^| )$cmd( |,|$)" "$TMP/sluice-ovsdb-tool.txt" ||
    fail "sluice-ovsdb-tool's manual page lacks $cmd"
done

step "bash completion against a running switch"
RUN=$TMP/run
mkdir -p "$RUN"
"$ROOT/usr/sbin/sluice-switchd" --rundir "$RUN" --log-file "$TMP/switchd.log" \
  --log-level console:warn >"$TMP/switchd.out" 2>&1 &
PID=$!
for _ in $(seq 300); do [ -S "$RUN/db.sock" ] && [ -S "$RUN/sluice-switchd.ctl" ] && break; sleep 0.1; done
BR=brpc$$
"$ROOT/usr/bin/sluice-vsctl" --db=unix:"$RUN/db.sock" --timeout=30 add-br $BR ||
  fail "add-br: $(cat "$TMP/switchd.out")"
cat >"$TMP/complete.bash" <<EOF
source /usr/share/bash-completion/bash_completion
source "$ROOT/usr/share/bash-completion/completions/sluice-vsctl"
export PATH="$ROOT/usr/bin:$ROOT/usr/sbin:\$PATH" SLUICE_RUNDIR="$RUN"
complete_line() {  # FUNCTION WORD...: prints the completions of the last word
  local fn=\$1; shift
  COMP_WORDS=("\$@"); COMP_CWORD=\$((\$# - 1)); COMP_LINE="\$*"; COMP_POINT=\${#COMP_LINE}
  COMPREPLY=()
  \$fn "\$1" "\${COMP_WORDS[-1]}" "\${COMP_WORDS[-2]}" 2>/dev/null
  printf '%s\n' "\${COMPREPLY[@]}"
}
EOF
expect_completion() {  # WANT FUNCTION WORD...
  local want=$1
  shift
  local got
  got=$(bash -c "source '$TMP/complete.bash'; complete_line \"\$@\"" _ "$@")
  grep -qx -- "$want" <<<"$got" || fail "completing '${*:2}': no '$want' in: $(echo $got)"
}
DB=--db=unix:$RUN/db.sock
expect_completion add-br _sluice_vsctl sluice-vsctl ad
expect_completion --no-wait _sluice_vsctl sluice-vsctl --no
expect_completion $BR _sluice_vsctl sluice-vsctl "$DB" del-br ""
expect_completion Bridge _sluice_vsctl sluice-vsctl "$DB" list Br
expect_completion $BR _sluice_vsctl sluice-vsctl "$DB" list Bridge ""
expect_completion ofport_request _sluice_vsctl sluice-vsctl "$DB" get Interface $BR of
expect_completion fail_mode= _sluice_vsctl sluice-vsctl "$DB" set Bridge $BR fail
expect_completion $BR _sluice_vsctl sluice-vsctl "$DB" add-br x -- add-port ""
expect_completion dump-flows _sluice_ofctl sluice-ofctl dump-f
expect_completion $BR _sluice_ofctl sluice-ofctl dump-flows ""
expect_completion LOCAL _sluice_ofctl sluice-ofctl mod-port $BR ""
expect_completion no-forward _sluice_ofctl sluice-ofctl mod-port $BR LOCAL no-f
expect_completion sluice-switchd _sluice_appctl sluice-appctl -t ""
expect_completion fdb/show _sluice_appctl sluice-appctl fdb/
expect_completion $BR _sluice_appctl sluice-appctl fdb/show ""
expect_completion $BR _sluice_appctl sluice-appctl dpctl/del-if ""
expect_completion dpdk: _sluice_appctl sluice-appctl vlog/set dp
echo "package check: PASS"
