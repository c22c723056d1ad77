#!/bin/bash
# stop-rgw.sh DIR - stop the daemons started by scripts/start-rgw.sh DIR and delete DIR.
# PIDs come from DIR/pids (and DIR/run/*.pid, in case start was interrupted);
# a PID is signalled only if it still runs a process started with -c DIR/ceph.conf.
set -uo pipefail
DIR=${1:?usage: stop-rgw.sh DIR}
[ -d "$DIR" ] || { echo "stop-rgw: $DIR does not exist" >&2; exit 0; }
DIR=$(cd "$DIR" && pwd)
ours() {   # ours PID: true if PID is alive and was started with -c DIR/ceph.conf
    [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' < "/proc/$1/cmdline" | grep -qF -- "-c $DIR/ceph.conf"
}
pids=()
for name in client.rgw.s3 osd.0 mon.a; do            # stop order: radosgw, osd, mon
    for pid in $(awk -v n="$name" '$2 == n {print $1}' "$DIR/pids" 2>/dev/null) \
               $(cat "$DIR/run/$name.pid" 2>/dev/null); do
        case " ${pids[*]} " in *" $pid "*) continue;; esac
        ours "$pid" && pids+=("$pid")
    done
done
for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 50); do ours "$pid" || break; sleep 0.1; done      # up to 5 s
    if ours "$pid"; then kill -KILL "$pid" 2>/dev/null; sleep 0.2; fi
done
rm -rf -- "$DIR"
echo "stop-rgw: stopped ${#pids[@]} daemon(s), removed $DIR" >&2
