#!/usr/bin/env python3
"""Copy benchmark: what `snapdex copy` sends (issue 11, copy jobs). Not a test: it asserts
nothing; it prints each figure against its goal and against a baseline measured in the same
run.

usage: python3 Benchmarks/copy-bench.py [--entries N] [--points P] [--binary PATH] [--work DIR]

Builds a deterministic tree of N entries (default 100,000) with Benchmarks/make-tree.py and a
chain of P points (default 30) of it, one snapshot a day in rsnapshot style (`cp -al` of the
last one, then 1% of the files rewritten, scattered), indexed into one repository. Then:
  1. copies the P points to a new folder repository (`copy --json`): bytes sent, against the
     baseline, the stored bytes of the distinct blocks the P manifests reference (read from
     the manifests' chunk tables); goal <= 1.05x;
  2. copies again with nothing new: blocks sent (goal 0) and requests made, per source
     (goal: a handful);
  3. adds one point and copies it: blocks sent against the blocks only that point adds;
  4. forgets a point in the target (its generation rises) and copies: the listing this
     costs, in requests, and that only the forgotten point's missing blocks are sent.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
import importlib.util

_spec = importlib.util.spec_from_file_location("make_tree", os.path.join(HERE, "make-tree.py"))
make_tree = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_tree)


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr.decode()}")
    return r.stdout.decode()


# A small reader of the manifest's chunk table (docs/FORMAT.md, "Manifests"), only to list
# the blocks (hash, stored size) a point references.
def _varint(b, i):
    v = s = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return v, i


def manifest_blocks(path):
    b = open(path, "rb").read()
    end = len(b) - 32
    i = 12
    out = {}
    while i < end:
        tag, i = _varint(b, i)
        n, i = _varint(b, i)
        value = b[i:i + n]
        i += n
        if tag != 32:
            continue
        j = 0
        count, j = _varint(value, j)
        for _ in range(count):
            _, j = _varint(value, j)           # shared prefix
            n, j = _varint(value, j); j += n   # dir suffix
            n, j = _varint(value, j); j += n   # first name
            _, j = _varint(value, j)           # entries
            parts, j = _varint(value, j)
            for _ in range(parts):
                form, j = _varint(value, j)
                for _ in range(2 if form == 1 else 1):
                    h = value[j:j + 32]; j += 32
                    _, j = _varint(value, j)
                    stored, j = _varint(value, j)
                    out[h] = stored
                if form == 1:
                    j += 32
    return out


def distinct_blocks(repo):
    blocks = {}
    for dirpath, _, files in os.walk(os.path.join(repo, "catalogs")):
        for f in files:
            if f.endswith(".manifest"):
                blocks.update(manifest_blocks(os.path.join(dirpath, f)))
    return blocks


def copy(binary, repo, target, *extra):
    out = run([binary, "copy", "--to", target, "--json", "--repo", repo, *extra])
    return json.loads(out.strip().splitlines()[-1])


def report(label, value, goal=None, ok=None):
    tail = "" if goal is None else f"   goal {goal}: {'ok' if ok else 'MISSED'}"
    print(f"  {label:<58} {value}{tail}")


def main(argv):
    entries, points = 100_000, 30
    binary = os.path.join(os.path.dirname(HERE), ".build", "release", "snapdex")
    work = None
    i = 0
    while i < len(argv):
        if argv[i] == "--entries": entries = int(argv[i + 1]); i += 2
        elif argv[i] == "--points": points = int(argv[i + 1]); i += 2
        elif argv[i] == "--binary": binary = argv[i + 1]; i += 2
        elif argv[i] == "--work": work = argv[i + 1]; i += 2
        else: sys.exit(__doc__)
    if not os.access(binary, os.X_OK):
        binary = os.path.join(os.path.dirname(HERE), ".build", "debug", "snapdex")
    work = work or tempfile.mkdtemp(prefix="snapdex-copy-bench-")
    os.makedirs(work, exist_ok=True)
    repo, target, snaps = (os.path.join(work, n) for n in ("repo", "offsite", "snaps"))
    for d in (repo, target, snaps):
        shutil.rmtree(d, ignore_errors=True)
    os.makedirs(snaps)
    print(f"copy-bench: {entries} entries, {points} points, {binary}, in {work}")
    run([binary, "init", "--repo", repo])
    run([binary, "source", "add", "bench", "--snapshots", snaps, "--time-from", "name", "--repo", repo])
    previous = None
    for p in range(points + 1):
        snap = os.path.join(snaps, f"2026-10-{p + 1:02d}")
        if previous is None:
            make_tree.build(snap, entries, 42)
        else:
            subprocess.run(["cp", "-al", previous, snap], check=True)
            make_tree.change(snap, 0.01, "replace", "uniform", 1000 + p)
        previous = snap
        if p < points:
            run([binary, "index", "--source", "bench", "--repo", repo, "-q"])
    base = distinct_blocks(repo)
    base_bytes = sum(base.values())

    print("1. first copy of the chain")
    first = copy(binary, repo, target)
    ratio = first["bytes_sent"] / base_bytes
    report("points copied", first["points_copied"])
    report("blocks sent / distinct blocks", f"{first['blocks_sent']} / {len(base)}")
    report("bytes sent / bytes of the distinct blocks (baseline)", f"{first['bytes_sent']} / {base_bytes} = {ratio:.3f}x",
           "<= 1.05x", ratio <= 1.05)
    every = first["requests_by_kind"]["bytes_sent"] / base_bytes
    report("every byte put (manifests too) / the same baseline", f"{first['requests_by_kind']['bytes_sent']} / {base_bytes} = {every:.3f}x",
           "<= 1.05x", every <= 1.05)
    report("requests", f"{first['requests']} ({first['requests_by_kind']})")
    report("seconds", f"{first['seconds']:.2f}")

    print("2. a copy with nothing new")
    again = copy(binary, repo, target)
    report("blocks sent", again["blocks_sent"], "0", again["blocks_sent"] == 0)
    report("requests per source (1 source)", again["requests"], "a handful (<= 5)", again["requests"] <= 5)

    print("3. one new point")
    run([binary, "index", "--source", "bench", "--repo", repo, "-q"])
    new = {h: s for h, s in distinct_blocks(repo).items() if h not in base}
    third = copy(binary, repo, target)
    report("blocks sent / blocks only the new point adds (baseline)", f"{third['blocks_sent']} / {len(new)}",
           "equal", third["blocks_sent"] == len(new))
    report("bytes sent / their bytes", f"{third['bytes_sent']} / {sum(new.values())}")
    report("requests", third["requests"])

    print("4. the target forgot its newest point (its generation rose)")
    there = run([binary, "points", "--json", "--repo", target]).strip().splitlines()
    newest = json.loads(there[-1])["id"]
    run([binary, "forget", newest, "--repo", target])
    fourth = copy(binary, repo, target, newest)
    report("listed the target again", fourth["rescanned"], "true", fourth["rescanned"])
    report("blocks sent (those the forget deleted)", fourth["blocks_sent"])
    report("requests (a listing of blocks/ included)", f"{fourth['requests']} ({fourth['requests_by_kind']})")
    verify = subprocess.run([binary, "verify", "--repo", target], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    report("target verifies", verify.stdout.decode().strip(), "clean", verify.returncode == 0)


if __name__ == "__main__":
    main(sys.argv[1:])
