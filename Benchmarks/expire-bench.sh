#!/usr/bin/env bash
# Expire benchmark: 10,000 indexes of one source (hourly points, each with a file of its own),
# a policy under which 1,000 of them expire; times the plan alone (--dry-run) and the real
# expire, and says how many blocks the real run freed. Not a test: it prints numbers.
#
# usage: Benchmarks/expire-bench.sh [SNAPDEX_BINARY] [POINTS]   (work folder: /tmp/snapdex-expire-bench)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
snapdex=$(realpath "${1:-$here/../.build/release/snapdex}")
points=${2:-10000}
work=/tmp/snapdex-expire-bench
export TZ=UTC
rm -rf "$work"
mkdir -p "$work/snaps"
echo "making $points snapshot directories ..."
python3 - "$work/snaps" "$points" <<'PY'
import os, sys, datetime
root, n = sys.argv[1], int(sys.argv[2])
t0 = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
for i in range(n):
    t = t0 + datetime.timedelta(hours=i)
    d = os.path.join(root, t.strftime("%Y-%m-%dT%H:%M:%SZ"))
    os.makedirs(os.path.join(d, "docs"))
    for f in range(20):
        open(os.path.join(d, "docs", f"shared-{f}.txt"), "w").write("the same every hour\n")
    open(os.path.join(d, "docs", "hourly.log"), "w").write(f"hour {i}\n" * (i % 50 + 1))
PY
"$snapdex" init --repo "$work/repo" > /dev/null
"$snapdex" source add bench --snapshots "$work/snaps" --repo "$work/repo" > /dev/null
start=$(date +%s.%N)
"$snapdex" index --source bench --repo "$work/repo" > /dev/null
end=$(date +%s.%N)
echo "indexed $points points in $(echo "$end - $start" | bc) s"
# NOW is half an hour before hour POINTS; keep-days covers 90% of the points, so the oldest
# tenth expires.
keep_days=$(( (points - points / 10) / 24 ))
now=$(python3 -c "import datetime; print((datetime.datetime(2025,1,1,tzinfo=datetime.timezone.utc)+datetime.timedelta(hours=$points, minutes=-30)).strftime('%Y-%m-%dT%H:%M:%SZ'))")
"$snapdex" policy set bench --keep-days "$keep_days" --apply-to-existing --repo "$work/repo" > /dev/null
t() { local s e; s=$(date +%s.%N); "$@" > "$work/out.txt"; e=$(date +%s.%N); echo "$e - $s" | bc; }
dry=$(t "$snapdex" expire --dry-run --now "$now" --repo "$work/repo")
echo "plan (--dry-run): $dry s; $(tail -1 "$work/out.txt")"
blocks_before=$(find "$work/repo/blocks" -type f | wc -l)
real=$(t "$snapdex" expire --now "$now" --repo "$work/repo")
echo "expire: $real s; $(tail -1 "$work/out.txt")"
echo "block files: $blocks_before before, $(find "$work/repo/blocks" -type f | wc -l) after"
again=$(t "$snapdex" expire --now "$now" --repo "$work/repo")
echo "expire again: $again s; $(tail -1 "$work/out.txt")"
"$snapdex" verify --repo "$work/repo" | tail -1
