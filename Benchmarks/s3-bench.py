#!/usr/bin/env python3
"""Object-storage benchmark (issue 11): a repository on the S3 gateway against the same work on
a local folder, measured in the same run. Not a test: it asserts nothing; it prints each figure,
its ratio against the baseline and the goal.

usage: python3 Benchmarks/s3-bench.py [--entries N] [--copy-entries M] [--points P]
                                      [--binary PATH] [--work DIR] [--only index|copy]

The gateway is Ceph's RADOS Gateway on loopback, started by scripts/start-rgw.sh exactly as
`make test` starts it (one monitor, one memstore OSD, radosgw/beast) and stopped by
scripts/stop-rgw.sh at the end. The binary is the release build (`swift build -c release`).

The tree: Benchmarks/make-tree.py DIR N (default N = 1,000,000 entries, seed 42): directories
3 to 9 levels deep, sparse files of skewed sizes, kept in WORK/tree between runs.
  1. index of the tree into a local folder (the baseline) and into s3://BUCKET/repo:
     seconds, ratio (goal <= 1.5x). The tree is walked once before, so both read it warm.
  2. `ls POINT DIR` of a directory 3+ levels down: local (baseline) and s3 with this host's
     cache warm (goal <= 1.2x), run in turns, best of 15 each; s3 with an empty cache (a new
     XDG_CACHE_HOME each run, best of 3, goal < 300 ms).
  3. copy jobs on a chain of P points (default 30) of an M-entry tree (default 100,000; one
     snapshot a day, `cp -al` of the last and 1% of the files replaced), indexed into an s3
     repository: a copy of the P points to an s3 target sends <= 1.05x the bytes of their
     distinct blocks (the block files the indexing host's cache holds); a copy with nothing new sends no
     block and makes a handful of requests. When this build cannot copy to an s3 target, the
     copy goes to a folder target instead, and the script says so.
"""
import glob
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, file))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_tree = _load("make_tree", "make-tree.py")


def report(label, value, goal=None, ok=None):
    tail = "" if goal is None else f"   goal {goal}: {'ok' if ok else 'MISSED'}"
    print(f"  {label:<62} {value}{tail}", flush=True)


class Bench:
    def __init__(self, binary, work, gateway):
        self.binary, self.work = binary, work
        self.env = dict(os.environ)
        self.env.update({"AWS_ENDPOINT_URL": gateway["SNAPDEX_TEST_S3_ENDPOINT"],
                         "AWS_ACCESS_KEY_ID": gateway["SNAPDEX_TEST_S3_ACCESS_KEY"],
                         "AWS_SECRET_ACCESS_KEY": gateway["SNAPDEX_TEST_S3_SECRET_KEY"],
                         "AWS_REGION": "us-east-1", "XDG_CACHE_HOME": os.path.join(work, "cache"), "TZ": "UTC"})
        self.env.pop("SNAPDEX_REPO", None)

    def run(self, *args, cache=None, check=True):
        env = dict(self.env)
        if cache:
            env["XDG_CACHE_HOME"] = cache
        t = time.perf_counter()
        r = subprocess.run([self.binary, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        dt = time.perf_counter() - t
        if check and r.returncode != 0:
            sys.exit(f"failed ({r.returncode}): snapdex {' '.join(args)}\n{r.stderr.decode()}")
        return dt, r

    def best(self, runs, *args, fresh_cache=False):
        times = []
        for i in range(runs):
            cache = None
            if fresh_cache:
                cache = tempfile.mkdtemp(prefix="cold-", dir=self.work)
            times.append(self.run(*args, cache=cache)[0])
            if cache:
                shutil.rmtree(cache, ignore_errors=True)
        return min(times)


    def best_of_pairs(self, runs, first, second):
        """The best time of each of two commands, run in turns."""
        a, b = [], []
        for _ in range(runs):
            a.append(self.run(*first)[0])
            b.append(self.run(*second)[0])
        return min(a), min(b)


def start_gateway(work):
    state = os.path.join(work, "rgw")
    shutil.rmtree(state, ignore_errors=True)
    r = subprocess.run(["bash", os.path.join(ROOT, "scripts", "start-rgw.sh"), state],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        sys.exit("s3-bench: the gateway did not start:\n" + r.stderr.decode()[-2000:])
    values = dict(line.split("=", 1) for line in r.stdout.decode().splitlines() if "=" in line)
    return state, values


def requests_of(result):
    """The requests a --json run reports: in its summary object, or (a command whose output is
    a list of objects, such as an index of new points) in a `{"requests":...}` line on
    standard error."""
    for line in reversed(result.stdout.decode().splitlines() + result.stderr.decode().splitlines()):
        if '"requests"' in line:
            try:
                found = json.loads(line).get("requests")
            except ValueError:
                continue
            if isinstance(found, dict):
                return found
    sys.exit("s3-bench: the run reported no requests:\n" + result.stderr.decode()[-2000:])


def probe_directory(tree):
    for d, dirs, files in os.walk(tree):
        dirs.sort()
        if d.count("/") - tree.count("/") >= 3 and len(files) >= 5:
            return "/" + os.path.relpath(d, tree)
    return "/"


def part_index_and_ls(b, entries):
    tree = os.path.join(b.work, "tree")
    if not (os.path.exists(tree + ".done") and open(tree + ".done").read() == str(entries)):
        shutil.rmtree(tree, ignore_errors=True)
        t = time.perf_counter()
        make_tree.build(tree, entries, 42)
        open(tree + ".done", "w").write(str(entries))
        print(f"  made the tree in {time.perf_counter() - t:.0f} s")
    subprocess.run(["find", tree], stdout=subprocess.DEVNULL, check=True)
    local = os.path.join(b.work, "local")
    shutil.rmtree(local, ignore_errors=True)
    shutil.rmtree(os.path.join(b.work, "cache"), ignore_errors=True)
    bucket = "s3bench-" + "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
    s3 = f"s3://{bucket}/repo"
    at = "2026-10-01T03:00:00Z"
    print(f"1. index of a {entries}-entry tree")
    b.run("init", "--repo", local)
    b.run("init", "--repo", s3)
    t_local, _ = b.run("index", tree, "--source", "bench", "--at", at, "--repo", local, "-q")
    t_s3, r = b.run("index", tree, "--source", "bench", "--at", at, "--repo", s3, "--json")
    requests = requests_of(r)
    report("local folder (baseline)", f"{t_local:.2f} s")
    report("s3 (the gateway on loopback)", f"{t_s3:.2f} s = {t_s3 / t_local:.2f}x", "<= 1.5x", t_s3 / t_local <= 1.5)
    report("  its requests", f"{requests['put']} PUT, {requests['get']} GET, {requests['list']} LIST, "
           f"{requests['head']} HEAD; {requests['bytes_sent'] / 1e6:.1f} MB sent")

    rel = probe_directory(tree)
    print(f"2. ls bench@latest {rel}")
    ls = ("ls", "bench@latest", rel)
    b.run(*ls, "--repo", local)
    b.run(*ls, "--repo", s3)
    # Taken in turns, so that both see the same load of a shared machine (the best of runs
    # in a row moves 2x with it), and more of them than a quiet machine would need.
    local_ls, warm = b.best_of_pairs(15, (*ls, "--repo", local), (*ls, "--repo", s3))
    cold = b.best(3, *ls, "--repo", s3, fresh_cache=True)
    report("local folder (baseline)", f"{local_ls * 1000:.1f} ms")
    report("s3, this host's cache warm", f"{warm * 1000:.1f} ms = {warm / local_ls:.2f}x", "<= 1.2x", warm / local_ls <= 1.2)
    report("s3, an empty cache (a host new to the repository)", f"{cold * 1000:.1f} ms = {cold / local_ls:.2f}x",
           "< 300 ms", cold < 0.3)


def cached_blocks(cache_root):
    """The block files this host's cache holds: after indexing every point here (nothing
    expired, the cache under its cap), exactly the distinct blocks of those points."""
    blocks = {}
    for path in glob.glob(os.path.join(cache_root, "snapdex", "*", "blocks", "*", "*")):
        if len(os.path.basename(path)) == 64:
            blocks[os.path.basename(path)] = os.path.getsize(path)
    return blocks


def copy_summary(result):
    return next(json.loads(l) for l in result.stdout.decode().splitlines() if '"points_copied"' in l)


def part_copy(b, entries, points):
    print(f"3. copy jobs: {points} points of a {entries}-entry tree in an s3 repository")
    snaps = os.path.join(b.work, "snaps")
    shutil.rmtree(snaps, ignore_errors=True)
    os.makedirs(snaps)
    bucket = "s3copy-" + "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
    source = f"s3://{bucket}/origin"
    cache = os.path.join(b.work, "copy-cache")
    shutil.rmtree(cache, ignore_errors=True)
    b.run("init", "--repo", source, cache=cache)
    b.run("source", "add", "bench", "--snapshots", snaps, "--time-from", "name", "--repo", source, cache=cache)
    previous = None
    for p in range(points):
        snap = os.path.join(snaps, f"2026-10-{p + 1:02d}")
        if previous is None:
            make_tree.build(snap, entries, 42)
        else:
            subprocess.run(["cp", "-al", previous, snap], check=True)
            make_tree.change(snap, 0.01, "replace", "uniform", 1000 + p)
        previous = snap
    b.run("index", "--source", "bench", "--repo", source, "-q", cache=cache)
    base = cached_blocks(cache)
    base_bytes = sum(base.values())
    target = f"s3://{bucket}/offsite"
    _, first = b.run("copy", "--to", target, "--json", "--repo", source, cache=cache, check=False)
    if first.returncode != 0:
        why = (first.stderr.decode().strip().splitlines() or ["?"])[-1]
        target = os.path.join(b.work, "offsite")
        shutil.rmtree(target, ignore_errors=True)
        print(f"  this build does not copy to an s3 target ({why});")
        print(f"  measured instead: a copy from the s3 repository to a folder target ({target})")
        _, first = b.run("copy", "--to", target, "--json", "--repo", source, cache=cache)
    summary = copy_summary(first)
    ratio = summary["bytes_sent"] / base_bytes
    report("points copied", summary["points_copied"])
    report("blocks sent / distinct blocks", f"{summary['blocks_sent']} / {len(base)}")
    report("bytes sent / bytes of their distinct blocks (baseline)", f"{summary['bytes_sent']} / {base_bytes} = {ratio:.3f}x",
           "<= 1.05x", ratio <= 1.05)
    report("requests", summary["requests"])
    _, again = b.run("copy", "--to", target, "--json", "--repo", source, cache=cache)
    second = copy_summary(again)
    report("a copy with nothing new: blocks sent", second["blocks_sent"], "0", second["blocks_sent"] == 0)
    report("  its requests (1 source)", second["requests"], "a handful (<= 5)", second["requests"] <= 5)


def main(argv):
    entries, copy_entries, points, only = 1_000_000, 100_000, 30, None
    binary = os.path.join(ROOT, ".build", "release", "snapdex")
    work = "/tmp/snapdex-s3-bench"
    i = 0
    while i < len(argv):
        if argv[i] == "--entries": entries = int(argv[i + 1]); i += 2
        elif argv[i] == "--copy-entries": copy_entries = int(argv[i + 1]); i += 2
        elif argv[i] == "--points": points = int(argv[i + 1]); i += 2
        elif argv[i] == "--binary": binary = argv[i + 1]; i += 2
        elif argv[i] == "--work": work = argv[i + 1]; i += 2
        elif argv[i] == "--only": only = argv[i + 1]; i += 2
        else: sys.exit(__doc__)
    binary = os.path.abspath(binary)
    if not os.access(binary, os.X_OK):
        sys.exit(f"s3-bench: no snapdex at {binary}: build it with `swift build -c release`, or name one with --binary")
    os.makedirs(work, exist_ok=True)
    state, gateway = start_gateway(work)
    try:
        print(f"s3-bench: {binary}; gateway {gateway['SNAPDEX_TEST_S3_ENDPOINT']}; work in {work}", flush=True)
        b = Bench(binary, work, gateway)
        if only in (None, "index"):
            part_index_and_ls(b, entries)
        if only in (None, "copy"):
            part_copy(b, copy_entries, points)
    finally:
        subprocess.run(["bash", os.path.join(ROOT, "scripts", "stop-rgw.sh"), state], stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main(sys.argv[1:])
