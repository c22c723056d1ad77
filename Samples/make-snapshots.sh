#!/usr/bin/env bash
# Builds a series of 8 daily snapshots of a small home-directory tree, the way rsnapshot
# does: each day is a hard-link copy (cp -al) of the day before, then files are added,
# changed (replaced, which breaks the link), renamed and deleted. Deterministic: same
# content and mtimes every run.
#
# usage: Samples/make-snapshots.sh DIR      (DIR/2026-11-15 ... DIR/2026-11-22 are made,
#        and beside DIR a ZFS dataset's sanoid snapshots: DIR/../tank/.zfs/snapshot/autosnap_*)
set -euo pipefail
out=${1:?usage: make-snapshots.sh DIR}
rm -rf "$out"
mkdir -p "$out"
export TZ=UTC

put() {  # put PATH DATE CONTENT...
    local path=$1 date=$2
    shift 2
    mkdir -p "$(dirname "$path")"
    rm -f "$path"
    printf '%s\n' "$@" > "$path"
    touch -d "$date" "$path"
}

d=$out/2026-11-15
mkdir -p "$d"
cd "$d"
for i in $(seq 1 12); do put "alice/docs/letter-$i.txt" "2026-10-0$((i % 9 + 1)) 10:00" "Dear reader number $i," "kind regards, Alice"; done
put alice/docs/budget.xlsx "2026-11-01 09:30" "rent,1200" "food,400"
put alice/docs/report.md "2026-11-10 16:00" "# Report" "Draft one."
for i in $(seq 1 20); do put "alice/photos/2026/IMG_$((1000 + i)).jpg" "2026-08-1$((i % 9)) 12:00" "jpeg bytes $i $(printf 'x%.0s' $(seq 1 $((i * 7))))"; done
for f in main.swift Walk.swift Catalog.swift Repository.swift; do put "alice/projects/snapdex/Sources/$f" "2026-11-14 18:00" "// $f" "print(\"$f\")"; done
put alice/projects/snapdex/README.md "2026-11-14 18:05" "# snapdex"
put alice/.config/app.conf "2026-09-01 08:00" "theme=dark" "font=mono"
put "alice/notes with spaces.txt" "2026-11-02 07:00" "spaces in names are common"
put "$(printf 'alice/odd\nname.txt')" "2026-11-03 07:00" "a newline in the name"
put "$(printf 'alice/caf\xe9-latin1.txt')" "2026-11-04 07:00" "a Latin-1 name, not UTF-8"
for i in $(seq 1 15); do put "bob/music/track-$(printf %02d "$i").ogg" "2026-07-01 20:00" "ogg $i"; done
put bob/notes/todo.txt "2026-11-14 21:00" "- buy milk"
put etc/hosts "2026-01-01 00:00" "127.0.0.1 localhost" "10.0.0.5 fileserver"
ln -s docs/budget.xlsx alice/current-budget
ln -s /nonexistent/mount bob/old-mount
mkdir -p shared/empty
touch -d "2026-11-15 00:00" shared/empty

next_day() {  # next_day FROM TO
    cp -al "$out/$1" "$out/$2"
    cd "$out/$2"
}

next_day 2026-11-15 2026-11-16
put alice/docs/report.md "2026-11-16 11:00" "# Report" "Draft two, longer." "With a second paragraph."
put bob/notes/todo.txt "2026-11-16 08:00" "- buy milk" "- call Alice"

next_day 2026-11-16 2026-11-17
put alice/docs/budget.xlsx "2026-11-17 09:00" "rent,1200" "food,450" "books,60"
put alice/photos/2026/IMG_1021.jpg "2026-11-17 14:00" "new photo"
put etc/hosts "2026-11-17 03:00" "127.0.0.1 localhost" "10.0.0.6 fileserver"

next_day 2026-11-17 2026-11-18
mv alice/docs/letter-3.txt alice/docs/letter-to-carol.txt
rm bob/music/track-07.ogg

next_day 2026-11-18 2026-11-19
put alice/docs/report.md "2026-11-19 17:30" "# Report" "Final version." "Sent to the board."
put alice/projects/snapdex/Sources/Walk.swift "2026-11-19 10:00" "// Walk.swift" "walk faster"

next_day 2026-11-19 2026-11-20
rm -r alice/photos/2026/IMG_1001.jpg alice/photos/2026/IMG_1002.jpg
put bob/notes/ideas.txt "2026-11-20 22:00" "index every snapshot"

next_day 2026-11-20 2026-11-21
put alice/docs/budget.xlsx "2026-11-21 09:15" "rent,1250" "food,450" "books,60"
rm etc/hosts
put etc/hosts "2026-11-21 03:00" "127.0.0.1 localhost"

next_day 2026-11-21 2026-11-22
put alice/docs/report-v2.md "2026-11-22 08:00" "# Report v2"
mv bob/notes/todo.txt bob/notes/done.txt

echo "made 8 snapshots in $out"

# A ZFS dataset (tank) snapshotted by sanoid: .zfs/snapshot/autosnap_DATE_TIME_TYPE, daily,
# hourly and frequent snapshots side by side, in local time (UTC here). ZFS shows every
# snapshot folder with one mtime, so only the names tell their times apart.
zfs=$(dirname "$out")/tank/.zfs/snapshot
rm -rf "$(dirname "$out")/tank"
mkdir -p "$zfs"
sanoid_snap() {  # sanoid_snap DAY TIME TYPE: the home series' DAY as the dataset's snapshot
    cp -al "$out/$1" "$zfs/autosnap_$1_$2_$3"
}
sanoid_snap 2026-11-20 00:00:01 daily
sanoid_snap 2026-11-21 00:00:01 daily
sanoid_snap 2026-11-21 00:00:01 hourly
sanoid_snap 2026-11-21 01:00:01 hourly
sanoid_snap 2026-11-22 00:00:01 daily
sanoid_snap 2026-11-22 00:00:01 hourly
sanoid_snap 2026-11-22 00:15:01 frequently
sanoid_snap 2026-11-22 00:30:01 frequently
for d in "$zfs"/*; do touch -d "2026-11-22 00:30:01" "$d"; done
echo "made 8 sanoid snapshots in $zfs"

# An rsnapshot backup of the home series: rsnapshot keeps daily.0 (newest), daily.1, ...
# and renames them all on each run (scenario.sh rotates it). Here only the first run:
# daily.0 holds the home series' 2026-11-20 under localhost/, as rsnapshot lays it out.
rs=$(dirname "$out")/rsnapshot
rm -rf "$rs"
mkdir -p "$rs/daily.0"
cp -al "$out/2026-11-20" "$rs/daily.0/localhost"
touch -d "2026-11-20 04:00" "$rs/daily.0"
echo "made rsnapshot's daily.0 in $rs"
