#!/usr/bin/env python3
"""Browse benchmark: a tree of N entries (default 1,000,000) indexed as 30 daily points with
1% of the files changed in place each day; then the whole-process time and peak RSS of ls of
one directory, find of a name pattern across all points, versions of one path, restoring one
small file, and cat. Not a test: it prints numbers and the targets of the browse issue.

usage: python3 Benchmarks/browse-bench.py [N] [--points 30] [--binary PATH] [--work DIR]
"""
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(cmd):
    t = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr.decode()}")
    return dt, int(r.stderr.decode().strip().splitlines()[-1]) / 1024, r.stdout


def best(cmd, runs=3):
    results = [timed(cmd) for _ in range(runs)]
    return min(r[0] for r in results), max(r[1] for r in results), results[0][2]


def main(argv):
    n, points, binary, work = 1_000_000, 30, os.path.join(HERE, "..", ".build", "release", "snapdex"), "/tmp/snapdex-browse-bench"
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--points":
            points = int(args.pop(0))
        elif a == "--binary":
            binary = args.pop(0)
        elif a == "--work":
            work = args.pop(0)
        else:
            n = int(a)
    binary = os.path.abspath(binary)
    tree, repo = os.path.join(work, "tree"), os.path.join(work, "repo")
    os.makedirs(work, exist_ok=True)
    if not (os.path.exists(tree + ".done") and open(tree + ".done").read() == str(n)):
        shutil.rmtree(tree, ignore_errors=True)
        subprocess.run([sys.executable, os.path.join(HERE, "make-tree.py"), tree, str(n)], check=True)
        open(tree + ".done", "w").write(str(n))
    shutil.rmtree(repo, ignore_errors=True)
    snap = lambda *a: [binary] + list(a) + ["--repo", repo]
    subprocess.run(snap("init"), check=True, stdout=subprocess.DEVNULL)
    t0 = time.perf_counter()
    for day in range(points):
        if day:
            subprocess.run([sys.executable, os.path.join(HERE, "make-tree.py"), "--change", tree, "0.01", "--mode", "inplace",
                            "--spread", "uniform", "--seed", str(100 + day)], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(snap("index", tree, "--source", "bench", "--at", f"2026-10-{day + 1:02d}T03:00:00Z"), check=True,
                       stdout=subprocess.DEVNULL)
    print(f"indexed {points} points of a {n}-entry tree in {time.perf_counter() - t0:.0f} s")
    size = sum(os.lstat(os.path.join(d, f)).st_size for d, _, fs in os.walk(repo) for f in fs)
    print(f"repository: {size / 1e6:.1f} MB for {points} points")

    # A directory a few levels down, and a small file in it.
    probe_dir = probe_file = None
    for d, dirs, files in os.walk(tree):
        dirs.sort()
        small = [f for f in sorted(files) if os.path.getsize(os.path.join(d, f)) < 8192]
        if d.count("/") - tree.count("/") >= 3 and len(files) >= 5 and small:
            probe_dir, probe_file = d, os.path.join(d, small[0])
            break
    rel_dir = "/" + os.path.relpath(probe_dir, tree)
    rel_file = "/" + os.path.relpath(probe_file, tree)
    name = os.path.basename(probe_file)
    pattern = name  # one file's name, as a user looks for budget.xlsx

    def report(label, secs, rss, target):
        print(f"{label:46s} {secs * 1000:9.1f} ms  {rss:6.1f} MB   target {target}")

    s, m, _ = best(snap("ls", "bench@latest", rel_dir))
    report(f"ls {rel_dir}", s, m, "<= 50 ms")
    s, m, out = best(snap("find", pattern), runs=2)
    report(f"find '{pattern}' across {points} points ({len(out.splitlines())} hits)", s, m, "<= 3000 ms")
    s, m, out = best(snap("find", "budget*.xlsx"), runs=2)
    report(f"find 'budget*.xlsx' across {points} points ({len(out.splitlines())} hits)", s, m, "<= 3000 ms")
    first = subprocess.run(snap("points", "--json"), stdout=subprocess.PIPE, check=True).stdout.decode().splitlines()[0]
    first_id = first.split('"id":"')[1].split('"')[0]
    s1, m1, _ = best(snap("find", pattern, "--point", first_id), runs=2)
    report(f"find '{pattern}' in 1 point (memory flat?)", s1, m1, "memory close to the line above")
    s, m, _ = best(snap("versions", "bench", rel_file))
    report(f"versions {rel_file}", s, m, "<= 1000 ms")
    out_dir = os.path.join(work, "restored")
    shutil.rmtree(out_dir, ignore_errors=True)
    s, m, _ = timed(snap("restore", "bench@latest", rel_file, "--to", out_dir, "--no-verify"))
    report("restore one small file", s, m, "<= 100 ms")
    s, m, _ = best(snap("cat", "bench@latest", rel_file, "--no-verify"))
    report("cat one small file", s, m, "")


if __name__ == "__main__":
    main(sys.argv[1:])
