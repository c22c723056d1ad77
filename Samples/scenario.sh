#!/usr/bin/env bash
# The scenario `make demo` runs: build 8 daily hard-link snapshots, index them into a fresh
# repository, look around, verify, lose the database and rebuild it.
#
# usage: Samples/scenario.sh [SNAPDEX_BINARY]      (work folder: $DEMO_DIR, default /tmp/snapdex-demo)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
snapdex=$(realpath "${1:-$here/../.build/release/snapdex}")
demo=${DEMO_DIR:-/tmp/snapdex-demo}
export TZ=UTC
export SNAPDEX_REPO=$demo/repo

step() {  # step DESCRIPTION, then the command line to show and run
    local what=$1
    shift
    printf '\n## %s\n$ snapdex %s\n' "$what" "$*"
    "$snapdex" "$@"
}

rm -rf "$demo"
mkdir -p "$demo"
bash "$here/make-snapshots.sh" "$demo/snapshots"

step "Create a repository" init
step "Add the source whose snapshots we keep" source add home --snapshots "$demo/snapshots"
step "Index every snapshot not indexed yet, with content hashes" index --source home --hash
step "Nothing new the second time" index --source home
step "The restore points" points --source home
step "A directory as it is in the newest point" ls home@latest /alice/docs -l
step "The same directory three days earlier" ls home@2026-11-19 /alice/docs -l
step "Odd names are quoted like GNU ls does" ls home@latest /alice
step "One entry as JSON (non-UTF-8 names carry path_b64)" ls home@latest /alice --json
step "A one-off index of a directory, as a manual point of a new source" \
    index "$demo/snapshots/2026-11-20" --source web --at 2026-11-20T03:00:00Z --manual --label "one-off"
step "Every block decodes and matches its hash" verify

# A ZFS source whose snapshots sanoid names: the time is in each name, the folders share one mtime.
zfs=$demo/tank/.zfs/snapshot
step "A ZFS dataset's sanoid snapshots: frequent ones are left out by name" \
    source add tank --snapshots "$zfs" --exclude 'autosnap_*_frequently'
step "One index run takes each daily and hourly snapshot at the time in its name" index --source tank
step "Daily and hourly snapshots of one instant are two points" points --source tank
step "Nothing new the second time; the filter's leftovers are counted" index --source tank

step "Find a file across every point" find 'budget*'
step "Each version of it, and where it lives" versions home /alice/docs/budget.xlsx
step "What changed in alice's home over four days" diff home@2026-11-18 home@latest /alice
step "Everything recorded about one file" info home@latest /alice/docs/budget.xlsx
step "An old file's bytes" cat home@2026-11-16 /etc/hosts
step "Restore a folder as it was on 2026-11-19" restore home@2026-11-19 /alice/docs --to "$demo/rescue"
step "Again: what is there already is skipped" restore home@2026-11-19 /alice/docs --to "$demo/rescue"
step "What --keep-both would do with the newest budget" \
    restore home@latest /alice/docs/budget.xlsx --to "$demo/rescue" --keep-both --dry-run
printf '\n## A scripted browse session\n$ snapdex browse home@latest < session.txt\n'
printf 'cd /alice\nls\nmark docs\nmarked\nuse 2026-11-17\ncat docs/budget.xlsx\nrestore --to %s/rescue-browse\n' "$demo" \
    | tee "$demo/session.txt" | sed 's/^/  | /'
"$snapdex" browse home@latest < "$demo/session.txt"

step "A retention policy for the daily points, applied to the existing ones too" \
    policy set home --keep-days 3 --weekly 2 --apply-to-existing
step "What the policy will do, and why each survivor stays" expire --dry-run --now 2026-11-23
step "A legal hold on one point" point keep home@2026-11-16 --until 2030-01-01
step "Expire for real" expire --now 2026-11-23
step "Running it again changes nothing" expire --now 2026-11-23
step "Every remaining block is still whole" verify

# An rsnapshot source: daily.0 is always the newest; each run renames daily.N to daily.N+1,
# copies daily.1 to a new daily.0 as hard links (cp -al) and syncs the day into it.
rs=$demo/rsnapshot
rotate() {  # rotate DAY: what one rsnapshot run does, with the home series' DAY as the new day
    printf '\n$ rsnapshot daily   # rotate, cp -al daily.1 daily.0, sync %s into it\n' "$1"
    (cd "$rs" && { [ ! -d daily.1 ] || mv daily.1 daily.2; } && mv daily.0 daily.1 && cp -al daily.1 daily.0 \
        && rm -rf daily.0/localhost && cp -al "$demo/snapshots/$1" daily.0/localhost && touch -d "$1 04:00" daily.0)
}
step "An rsnapshot backup whose folders rotate" source add backup --snapshots "$rs" --time-from mtime
step "Index its daily.0" index --source backup
rotate 2026-11-21
step "Each point is found where the rotation moved it; the new daily.0 is a new point" index --source backup
rotate 2026-11-22
step "Again, two rotations on" index --source backup
step "Each point now lives in another folder" points --source backup
step "The oldest point reads its own day's bytes, from daily.2" cat backup@2026-11-20 /localhost/etc/hosts
step "And the newest its own, from daily.0" cat backup@latest /localhost/etc/hosts

printf '\n## Lose the database: the catalog files are the truth\n$ rm %s/snapdex.db\n' "$SNAPDEX_REPO"
rm -f "$SNAPDEX_REPO/snapdex.db"
step "The next command notices and rebuilds it from the manifests by itself" points
step "What ran" sessions
printf '\n## Bad input gets one line and a non-zero exit\n$ snapdex ls home@1999-01-01 /\n'
if "$snapdex" ls home@1999-01-01 /; then exit 1; else echo "(exit status $?)"; fi
printf '\ndemo finished: repository in %s\n' "$SNAPDEX_REPO"
