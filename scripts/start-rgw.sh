#!/bin/bash
# start-rgw.sh - the S3 server of Snapdex's object-storage tests: a throw-away single-node
# Ceph cluster (1 mon, 1 memstore OSD, 1 radosgw/beast, no mgr) on 127.0.0.1. Adapted from
# the project's shared tools; `make test` runs it once per test run, and a test process
# started without SNAPDEX_TEST_S3_ENDPOINT runs it itself (Tests/SnapdexCoreTests/TestGateway.swift).
#
# Usage: scripts/start-rgw.sh [DIR]
#   DIR        state directory (created; default: mktemp -d /tmp/rgw.XXXXXX)
# Environment (all optional):
#   RGW_PORT   S3 port on 127.0.0.1 (default: a random free port, so that parallel runs
#              never meet)
#   MON_PORT   monitor port on 127.0.0.1 (default: a random free port)
#   S3_ACCESS_KEY / S3_SECRET_KEY   fixed credentials of the S3 user "tester"
#   MEMSTORE_BYTES  capacity of the in-memory OSD (default 2 GiB; data lives in RAM)
#   READY_TIMEOUT   seconds to wait for each stage (default 90)
#
# On success prints the variables the tests read (SNAPDEX_TEST_S3_ENDPOINT,
# SNAPDEX_TEST_S3_ACCESS_KEY, SNAPDEX_TEST_S3_SECRET_KEY, SNAPDEX_TEST_S3_DIR) as KEY=VALUE
# lines on stdout and writes the same to DIR/env.  Stop with: scripts/stop-rgw.sh DIR
# On failure it kills the daemons it started, keeps DIR (logs in DIR/log), exits 1.
# Needs: apt-get install --no-install-recommends radosgw ceph-mon ceph-osd curl
# Nothing is written to /etc/ceph, /var/lib/ceph, /var/log/ceph or /run/ceph.
set -euo pipefail

DIR=${1:-$(mktemp -d /tmp/rgw.XXXXXX)}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
S3_ACCESS_KEY=${S3_ACCESS_KEY:-TESTACCESSKEY0000001}
S3_SECRET_KEY=${S3_SECRET_KEY:-testsecretkey00000000000000000000000001}
MEMSTORE_BYTES=${MEMSTORE_BYTES:-2147483648}
READY_TIMEOUT=${READY_TIMEOUT:-90}
T0=$(date +%s.%N)

log() { echo "[start-rgw $(date +%T)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

on_exit() {           # on failure: kill what we started (by PID), show logs, keep DIR
    local rc=$?
    [ "$rc" = 0 ] && return
    for f in "$DIR"/log/*.log; do
        [ -f "$f" ] && { echo "--- tail $f" >&2; tail -n 15 "$f" >&2; }
    done
    for f in "$DIR"/run/*.pid; do
        [ -s "$f" ] || continue
        pid=$(cat "$f")
        tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-c $DIR/ceph.conf" \
            && kill -KILL "$pid" 2>/dev/null
    done
    log "FAILED (rc=$rc); daemons killed, logs kept in $DIR"
}
trap on_exit EXIT

port_free() {         # true if nothing listens on 127.0.0.1:PORT (ss, else a bash /dev/tcp probe)
    if command -v ss >/dev/null; then ! ss -Htln "sport = :$1" | grep -q .
    else ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; fi
}
pick_port() {         # pick_port [PREFERRED]: PREFERRED if free, else a random free port
    local p=${1:-}
    if [ -n "$p" ] && port_free "$p"; then echo "$p"; return; fi
    for _ in $(seq 200); do
        p=$(( 20000 + RANDOM % 30000 ))
        port_free "$p" && { echo "$p"; return; }
    done
    die "no free port found"
}
RGW_PORT=${RGW_PORT:-$(pick_port)}
MON_PORT=${MON_PORT:-$(pick_port)}
port_free "$RGW_PORT" || die "RGW_PORT $RGW_PORT already in use"
port_free "$MON_PORT" || die "MON_PORT $MON_PORT already in use"

[ -e "$DIR/ceph.conf" ] && die "$DIR already holds a cluster"
mkdir -p "$DIR"/{run,log,crash,mon.a,osd.0,rgw}
: > "$DIR/keyring"
CONF="$DIR/ceph.conf"
export CEPH_CONF="$CONF"          # for the ceph / radosgw-admin CLIs
FSID=$(cat /proc/sys/kernel/random/uuid)
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)

cat > "$CONF" <<EOF
[global]
fsid = $FSID
mon host = v2:127.0.0.1:$MON_PORT
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
# no cephx between daemons / clients (S3 SigV4 auth in RGW is unaffected)
auth cluster required = none
auth service required = none
auth client required = none
# radosgw defaults to ms_mon_client_mode=secure, impossible without cephx
ms mon client mode = crc
keyring = $DIR/keyring
run dir = $DIR/run
pid file = $DIR/run/\$name.pid
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
crash dir = $DIR/crash
log to stderr = false
err to stderr = false
# single OSD, tiny pools
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
# commit map changes quickly (pool creation) - default 1 s
paxos propose interval = 0.05

[mon]
mon data = $DIR/mon.\$id
mon cluster log file = $DIR/log/mon-cluster.log

[osd]
osd data = $DIR/osd.\$id
osd objectstore = memstore
memstore device bytes = $MEMSTORE_BYTES
osd class load list = *
osd class default list = *

[client]
client mount timeout = 30

[client.rgw.s3]
rgw data = $DIR/rgw
# tcp_nodelay=1: without it every GET costs ~40 ms (Nagle + delayed ACK)
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
rgw dns name = localhost
EOF

wait_for() {          # wait_for DESCRIPTION COMMAND...
    local what=$1; shift
    local deadline=$(( $(date +%s) + READY_TIMEOUT ))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || die "timeout waiting for $what"
        sleep 0.2
    done
}
record_pid() {        # record_pid NAME: append the daemon's PID (from its pid file) to DIR/pids
    local f="$DIR/run/$1.pid"
    wait_for "pid file $f" test -s "$f"
    echo "$(cat "$f") $1" >> "$DIR/pids"
}

# ---- monitor --------------------------------------------------------------
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
ceph-mon -c "$CONF" -i a --mkfs --monmap "$DIR/monmap" --keyring /dev/null \
    || die "ceph-mon --mkfs failed"
# The daemons get no stdin/stdout/stderr of ours: a caller reading our output through a pipe
# (a test process) would otherwise wait for them to exit before it sees end of file.
DAEMON_OUT="$DIR/log/daemons.out"
ceph-mon -c "$CONF" -i a </dev/null >>"$DAEMON_OUT" 2>&1 || die "ceph-mon failed to start"      # daemonizes
record_pid mon.a
wait_for "monitor" ceph --connect-timeout 5 mon stat
log "mon up"

# ---- OSD (memstore: all data in RAM) --------------------------------------
OSD_ID=$(ceph osd new "$OSD_UUID")
[ "$OSD_ID" = 0 ] || die "unexpected osd id '$OSD_ID'"
ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$OSD_UUID" >/dev/null 2>&1 \
    || die "ceph-osd --mkfs failed"
ceph-osd -c "$CONF" -i 0 </dev/null >>"$DAEMON_OUT" 2>&1 || die "ceph-osd failed to start"      # daemonizes
record_pid osd.0
osd_up() { ceph osd dump 2>/dev/null | grep -q '^osd\.0 up'; }
wait_for "osd.0 up" osd_up
log "osd up"

# ---- S3 user (radosgw-admin also creates the default zone and its pools) --
radosgw-admin user create --uid=tester --display-name="Test User" \
    --access-key="$S3_ACCESS_KEY" --secret-key="$S3_SECRET_KEY" >/dev/null \
    || die "radosgw-admin user create failed"
log "user created"

# ---- radosgw ---------------------------------------------------------------
radosgw -c "$CONF" -n client.rgw.s3 </dev/null >>"$DAEMON_OUT" 2>&1 || die "radosgw failed to start"   # daemonizes
record_pid client.rgw.s3
s3_up() { curl -fsS -o /dev/null "http://127.0.0.1:$RGW_PORT/"; }
wait_for "radosgw on 127.0.0.1:$RGW_PORT" s3_up
# Signed (SigV4) create + delete of a bucket: proves the credentials work and
# makes RGW create its bucket index/data pools now rather than in the first test.
# (curl's --aws-sigv4 does not add x-amz-content-sha256 itself; RGW requires it.)
s3() { curl -fsS -o /dev/null --aws-sigv4 "aws:amz:us-east-1:s3" \
          --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
          -X "$1" "http://127.0.0.1:$RGW_PORT/$2"; }
s3 PUT warmup-bucket || die "signed CreateBucket failed"
s3 DELETE warmup-bucket || die "signed DeleteBucket failed"

cat > "$DIR/env" <<EOF
SNAPDEX_TEST_S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
SNAPDEX_TEST_S3_ACCESS_KEY=$S3_ACCESS_KEY
SNAPDEX_TEST_S3_SECRET_KEY=$S3_SECRET_KEY
SNAPDEX_TEST_S3_DIR=$DIR
EOF
cat "$DIR/env"
log "ready in $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s; stop with: scripts/stop-rgw.sh $DIR"
