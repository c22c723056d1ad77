#!/usr/bin/env python3
"""Search benchmark (issue 12, goal 2): `find` across the 30 points of a 1M-entry tree, beside
plocate over 30 databases of the same trees, in the same run. Not a test: it prints times,
peak memory and ratios; the goals are printed beside them.

The chain: one tree from make-tree.py, indexed 30 times (one point a day); before each index
after the first, 1% of its files are rewritten in place (make-tree.py --change, uniform), so
names are shared between points and content parts are patched, as between daily ZFS or btrfs
snapshots. After each index, `updatedb` writes that day's plocate database of the same tree.
The chain is kept under --work and reused while N and --points are the same.

Queries: a selective name (one file's exact name), a broad glob (`budget*.xlsx`, hundreds of
hits a point), and the selective name in one point. plocate runs with -b (basename) and -d
over the 30 databases: the same question asked of the same trees. Each command runs 5 times;
the best wall time, the best CPU time (user + system: on a shared machine, closer to what an
idle one would take) and the largest peak RSS are shown. The first snapdex run of each query is
shown too ("cold"): it may build caches that later runs use.

usage: python3 Benchmarks/search-bench.py [N] [--points 30] [--binary PATH]
                                          [--baseline PATH] [--work DIR]
--baseline runs an older snapdex binary on the same repository, so a before/after ratio is
measured in the same run. plocate is installed from Debian when missing (needs root or sudo).
"""
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(cmd):
    t = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%U %S %M"] + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr.decode()}")
    user, system, rss = r.stderr.decode().strip().splitlines()[-1].split()
    return dt, int(rss) / 1024, r.stdout, float(user) + float(system)


def best(cmd, runs=5):
    results = [timed(cmd) for _ in range(runs)]
    return results[0][0], min(r[0] for r in results), max(r[1] for r in results), results[0][2], min(r[3] for r in results)


def ensure_plocate():
    if shutil.which("plocate") and shutil.which("updatedb"):
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "plocate"], check=True)


def updatedb(tree, db):
    # The tree lives under /tmp, which Debian's updatedb.conf prunes: no pruning at all here.
    subprocess.run(["updatedb", "-l", "0", "-U", tree, "-o", db, "--prunepaths", "", "--prunefs", "",
                    "--prunenames", ""], check=True)


def build_chain(binary, tree, repo, dbs, n, points):
    marker = repo + ".done"
    if os.path.exists(marker) and open(marker).read() == f"{n} {points}":
        return
    shutil.rmtree(repo, ignore_errors=True)
    shutil.rmtree(dbs, ignore_errors=True)
    os.makedirs(dbs)
    subprocess.run([binary, "init", "--repo", repo], check=True, stdout=subprocess.DEVNULL)
    t0 = time.perf_counter()
    for day in range(points):
        if day:
            subprocess.run([sys.executable, os.path.join(HERE, "make-tree.py"), "--change", tree, "0.01", "--mode", "inplace",
                            "--spread", "uniform", "--seed", str(100 + day)], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([binary, "index", tree, "--source", "bench", "--at", f"2026-10-{day + 1:02d}T03:00:00Z", "--repo", repo],
                       check=True, stdout=subprocess.DEVNULL)
        updatedb(tree, os.path.join(dbs, f"day{day:02d}.db"))
    open(marker, "w").write(f"{n} {points}")
    print(f"built the chain: {points} points of a {n}-entry tree, and {points} plocate databases, in {time.perf_counter() - t0:.0f} s")


def main(argv):
    n, points, work = 1_000_000, 30, "/tmp/snapdex-search-bench"
    binary = os.path.join(HERE, "..", ".build", "release", "snapdex")
    baseline = None
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--points":
            points = int(args.pop(0))
        elif a == "--binary":
            binary = args.pop(0)
        elif a == "--baseline":
            baseline = os.path.abspath(args.pop(0))
        elif a == "--work":
            work = args.pop(0)
        else:
            n = int(a)
    binary = os.path.abspath(binary)
    ensure_plocate()
    tree, repo, dbs = os.path.join(work, "tree"), os.path.join(work, "repo"), os.path.join(work, "plocate")
    os.makedirs(work, exist_ok=True)
    if not (os.path.exists(tree + ".done") and open(tree + ".done").read() == str(n)):
        shutil.rmtree(tree, ignore_errors=True)
        shutil.rmtree(repo + ".done", ignore_errors=True)
        subprocess.run([sys.executable, os.path.join(HERE, "make-tree.py"), tree, str(n)], check=True)
        open(tree + ".done", "w").write(str(n))
    build_chain(binary, tree, repo, dbs, n, points)
    all_dbs = ":".join(os.path.join(dbs, f"day{d:02d}.db") for d in range(points))

    # One file's exact name, as a user looks for budget.xlsx; a glob with hundreds of hits a point.
    selective = None
    for d, dirs, files in os.walk(tree):
        dirs.sort()
        for f in sorted(files):
            if "-" in f and "." in f and d.count("/") - tree.count("/") >= 3:
                selective = f
                break
        if selective:
            break
    broad = "budget*.xlsx"
    points_json = subprocess.run([binary, "points", "--json", "--repo", repo], stdout=subprocess.PIPE, check=True).stdout.decode()
    first_id = points_json.splitlines()[0].split('"id":"')[1].split('"')[0]

    print(f"{n} entries x {points} points; times are the best of 5 runs (cold: the first), memory the peak RSS")
    print(f"load average before the queries: {os.getloadavg()[0]:.1f}")
    print(f"{'query':44s} {'tool':9s} {'cold ms':>9s} {'best ms':>9s} {'CPU ms':>9s} {'MB':>7s} {'lines':>7s}")
    rows = {}

    def run(label, tool, cmd):
        cold, s, m, out, cpu = best(cmd)
        rows[(label, tool)] = (s, m, cpu)
        print(f"{label:44s} {tool:9s} {cold * 1000:9.1f} {s * 1000:9.1f} {cpu * 1000:9.1f} {m:7.1f} {len(out.splitlines()):7d}")

    queries = [
        (f"name '{selective}', {points} points", [selective], [selective]),
        (f"glob '{broad}', {points} points", [broad], [broad]),
        (f"name '{selective}', 1 point", [selective, "--point", first_id], None),
    ]
    for label, args, plocate_args in queries:
        run(label, "snapdex", [binary, "find"] + args + ["--repo", repo])
        if baseline:
            run(label, "baseline", [baseline, "find"] + args + ["--repo", repo])
        if plocate_args:
            run(label, "plocate", ["plocate", "-b", "-d", all_dbs] + plocate_args)
    # plocate over one database, for the one-point line.
    run(f"name '{selective}', 1 point", "plocate", ["plocate", "-b", "-d", os.path.join(dbs, "day00.db"), selective])

    print()
    goals = [(queries[0][0], 100), (queries[1][0], 500), (queries[2][0], 50)]
    for label, goal in goals:
        s, m, cpu = rows[(label, "snapdex")]
        line = f"{label:44s} {s * 1000:7.1f} ms, CPU {cpu * 1000:7.1f} ms (goal <= {goal} ms)"
        if (label, "plocate") in rows:
            line += f"  {s / rows[(label, 'plocate')][0]:5.1f}x plocate (goal <= 5x)"
        if (label, "baseline") in rows:
            line += f"  {rows[(label, 'baseline')][0] / s:5.1f}x faster than baseline ({rows[(label, 'baseline')][2] / cpu:4.1f}x in CPU)"
        print(line)
    print(f"load average after the queries: {os.getloadavg()[0]:.1f}")
    one, many = rows[(queries[2][0], "snapdex")][1], rows[(queries[0][0], "snapdex")][1]
    print(f"memory: {many:.1f} MB for {points} points, {one:.1f} MB for 1 ({many / one:.2f}x; goal: flat)")


if __name__ == "__main__":
    main(sys.argv[1:])
