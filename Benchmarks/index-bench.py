#!/usr/bin/env python3
"""Indexing benchmark: time, size and memory of `snapdex index`, as ratios to GNU find over the
same tree, measured in the same run. Not a test: it asserts nothing; it prints numbers and
whether each target of the core issue holds.

usage: python3 Benchmarks/index-bench.py [N] [--binary PATH] [--work DIR] [--skip-usr]

Builds a deterministic tree of N entries (default 1,000,000) with Benchmarks/make-tree.py,
then measures:
  find DIR -printf (the walk's floor; best of three warm runs), with its CPU time
  first index, unchanged re-index (wall time, and CPU time against find's: all threads, and
  the walking thread alone, which bounds the wall time on an idle 2-core machine), re-index after 1% of files changed in place
  (clustered in a few directories, and spread uniformly), catalog bytes per entry,
  bytes added by each re-index, peak RSS;
  a hard-link copy (cp -al, as rsnapshot makes) with 1% of files replaced: bytes added;
and the same size and time figures for /usr, plus a hard-link copy of /usr/share.
"""
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FIND_FORMAT = "%y %m %U %G %s %T@ %C@ %i %p\n"


def run(cmd, **kw):
    t = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr.decode()}")
    return dt, r.stdout


def measure(cmd):
    """Runs cmd with its output thrown away; returns (wall seconds, CPU seconds of all its
    threads, CPU seconds of its main thread, peak RSS in MB). The main thread's CPU is read
    from /proc/PID/task/PID/schedstat while it runs: it is what bounds the wall time of an
    index on an idle machine with 2 cores, where compression and block checks run beside
    the walk, and it does not depend on what else the machine runs."""
    with tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        main = 0
        stat = f"/proc/{p.pid}/task/{p.pid}/schedstat"
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            try:
                with open(stat) as f:
                    main = max(main, int(f.read().split()[0]))
            except (OSError, ValueError, IndexError):
                pass
            time.sleep(0.002)
        dt = time.perf_counter() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            err.seek(0)
            sys.exit(f"failed: {' '.join(cmd)}\n{err.read().decode()}")
    return dt, usage.ru_utime + usage.ru_stime, main / 1e9, usage.ru_maxrss / 1024


def find_time(tree):
    """find -printf over tree, best of three warm runs: (wall seconds, CPU seconds)."""
    runs = [measure(["find", tree, "-printf", FIND_FORMAT]) for _ in range(3)]
    return min(r[0] for r in runs), min(r[1] for r in runs)


def repo_bytes(repo, catalog_only=False):
    total = 0
    for dirpath, _, files in os.walk(repo):
        for f in files:
            if catalog_only and not (dirpath.startswith(os.path.join(repo, "blocks")) or f.endswith(".manifest")):
                continue
            total += os.lstat(os.path.join(dirpath, f)).st_size
    return total


def entries(tree):
    n = 0
    for _, dirs, files in os.walk(tree):
        n += len(dirs) + len(files)
    return n


def xz_floor(tree):
    find = subprocess.Popen(["find", tree, "-printf", FIND_FORMAT], stdout=subprocess.PIPE)
    xz = subprocess.run(["xz", "-1"], stdin=find.stdout, stdout=subprocess.PIPE, check=True)
    find.wait()
    return len(xz.stdout)


class Bench:
    def __init__(self, binary, work):
        self.binary = binary
        self.work = work
        self.results = []
        self.peak = 0.0
        self.cpu = (0.0, 0.0)

    def snapdex(self, *args):
        return [self.binary] + list(args)

    def init(self, name):
        repo = os.path.join(self.work, name)
        shutil.rmtree(repo, ignore_errors=True)
        run(self.snapdex("init", "--repo", repo))
        return repo

    def index(self, repo, tree, at, source="bench"):
        before = repo_bytes(repo)
        dt, cpu, main, rss = measure(self.snapdex("index", tree, "--source", source, "--at", at, "--repo", repo))
        self.peak = max(self.peak, rss)
        self.cpu = (cpu, main)
        return dt, repo_bytes(repo) - before, rss

    def report_cpu(self, find_cpu, goal):
        """The last index's CPU against find's: all threads, and the walking thread alone
        against issue 12's goal (`goal` times find)."""
        cpu, main = self.cpu
        self.report("  CPU, all threads / find's CPU", f"{cpu / find_cpu:.2f}x")
        self.report("  CPU of the walking thread / find's CPU", f"{main / find_cpu:.2f}x", f"<= {goal}x", main / find_cpu <= goal)

    def report(self, label, value, target=None, ok=None):
        mark = "" if ok is None else ("  OK" if ok else "  MISSED")
        line = f"{label:58s} {value:>14s}" + (f"   target {target}{mark}" if target else "")
        print(line, flush=True)


def synthetic(b, n, work):
    tree = os.path.join(work, "tree")
    if not os.path.isdir(tree) or not os.path.exists(tree + ".done") or open(tree + ".done").read() != str(n):
        shutil.rmtree(tree, ignore_errors=True)
        print(f"building a {n}-entry tree in {tree} ...", flush=True)
        subprocess.run([sys.executable, os.path.join(HERE, "make-tree.py"), tree, str(n)], check=True)
        open(tree + ".done", "w").write(str(n))
    count = entries(tree)
    print(f"\n== synthetic tree: {count} entries ==")
    f, fcpu = find_time(tree)
    b.report("find -printf (best of 3, warm)", f"{f:.2f} s, CPU {fcpu:.2f} s")
    repo = b.init("repo-synthetic")
    t1, bytes1, rss1 = b.index(repo, tree, "2026-01-01T00:00:00Z")
    b.report("first index", f"{t1:.2f} s", "<= 1.5x find", t1 / f <= 1.5)
    b.report("  ratio to find", f"{t1 / f:.2f}x")
    b.report_cpu(fcpu, 1.0)
    t2, bytes2, _ = b.index(repo, tree, "2026-01-02T00:00:00Z")
    b.report("unchanged re-index", f"{t2:.2f} s", "<= 1.2x find", t2 / f <= 1.2)
    b.report("  ratio to find", f"{t2 / f:.2f}x")
    b.report_cpu(fcpu, 0.9)
    b.report("  bytes added by the unchanged re-index", f"{bytes2}")
    catalog = repo_bytes(repo, catalog_only=True) - bytes2
    b.report("catalog bytes per entry (first index)", f"{catalog / count:.2f}")
    floor = xz_floor(tree)
    b.report("find -printf ... | xz -1, bytes per entry", f"{floor / count:.2f}")
    b.report("  catalog smaller than find | xz -1", f"{catalog / floor:.2f}x", "< 1.0x", catalog < floor)

    # 1% of the files change in place between two snapshots, first in a few directories,
    # then (from a fresh repository, so that each figure is one day's change) spread evenly.
    for spread in ("clustered", "uniform"):
        if spread == "uniform":
            repo = b.init("repo-synthetic")
            _, bytes1, _ = b.index(repo, tree, "2026-01-01T00:00:00Z")
        subprocess.run([sys.executable, os.path.join(HERE, "make-tree.py"), "--change", tree, "0.01",
                        "--mode", "inplace", "--spread", spread, "--seed", "7" if spread == "clustered" else "8"],
                       check=True, stdout=subprocess.DEVNULL)
        t3, bytes3, _ = b.index(repo, tree, "2026-01-03T00:00:00Z")
        b.report(f"re-index after 1% changed in place ({spread})", f"{t3:.2f} s")
        b.report(f"  bytes added / first index ({spread})", f"{bytes3 / bytes1 * 100:.1f}%", "<= 5%", bytes3 / bytes1 <= 0.05)

    # Hard-link snapshot, as rsnapshot makes it: yesterday's tree is indexed, then copied
    # with cp -al (every file's link count and ctime change, every directory is new), then
    # 1% of the files are replaced (new inodes), and the copy is indexed.
    copy = os.path.join(work, "tree-hardlink")
    shutil.rmtree(copy, ignore_errors=True)
    repo2 = b.init("repo-hardlink")
    _, h1, _ = b.index(repo2, tree, "2026-01-01T00:00:00Z")
    subprocess.run(["cp", "-al", tree, copy], check=True)
    subprocess.run([sys.executable, os.path.join(HERE, "make-tree.py"), "--change", copy, "0.01", "--mode", "replace",
                    "--spread", "clustered", "--seed", "9"], check=True, stdout=subprocess.DEVNULL)
    _, h2, _ = b.index(repo2, copy, "2026-01-02T00:00:00Z")
    b.report("hard-link copy with 1% replaced: bytes added / first", f"{h2 / h1 * 100:.1f}%", "<= 40%", h2 / h1 <= 0.40)
    shutil.rmtree(copy, ignore_errors=True)
    b.report("peak RSS of any index run", f"{b.peak:.1f} MB", "<= 150 MB", b.peak <= 150)
    return rss1


def real_usr(b, work):
    count = entries("/usr")
    print(f"\n== real tree: /usr, {count} entries ==")
    f, fcpu = find_time("/usr")
    b.report("find -printf (best of 3, warm)", f"{f:.2f} s, CPU {fcpu:.2f} s")
    repo = b.init("repo-usr")
    t1, _, _ = b.index(repo, "/usr", "2026-01-01T00:00:00Z", source="usr")
    b.report("first index", f"{t1:.2f} s ({t1 / f:.2f}x find)")
    b.report_cpu(fcpu, 1.0)
    t2, _, _ = b.index(repo, "/usr", "2026-01-02T00:00:00Z", source="usr")
    b.report("unchanged re-index", f"{t2:.2f} s ({t2 / f:.2f}x find)")
    b.report_cpu(fcpu, 0.9)
    shutil.rmtree(repo)
    repo = b.init("repo-usr")
    b.index(repo, "/usr", "2026-01-01T00:00:00Z", source="usr")
    whole = repo_bytes(repo)
    catalog = repo_bytes(repo, catalog_only=True)
    b.report("catalog bytes per entry (blocks + manifest)", f"{catalog / count:.2f}")
    b.report("whole repository bytes per entry (with snapdex.db)", f"{whole / count:.2f}", "<= 8", whole / count <= 8)
    b.report("find -printf ... | xz -1, bytes per entry", f"{xz_floor('/usr') / count:.2f}")

    share = os.path.join(work, "usr-share-copy")
    base = os.path.join(work, "usr-share")
    for p in (share, base):
        shutil.rmtree(p, ignore_errors=True)
    # Hard links need one file system: copy /usr/share here, index it, then link-copy it.
    subprocess.run(["cp", "-a", "/usr/share", base], check=True)
    repo = b.init("repo-share")
    _, s1, _ = b.index(repo, base, "2026-01-01T00:00:00Z", source="share")
    subprocess.run(["cp", "-al", base, share], check=True)
    subprocess.run([sys.executable, os.path.join(HERE, "make-tree.py"), "--change", share, "0.01", "--mode", "replace",
                    "--spread", "clustered", "--seed", "11"], check=True, stdout=subprocess.DEVNULL)
    _, s2, _ = b.index(repo, share, "2026-01-02T00:00:00Z", source="share")
    b.report("hard-link copy of /usr/share, 1% replaced: added / first", f"{s2 / s1 * 100:.1f}%", "<= 40%", s2 / s1 <= 0.40)
    for p in (share, base):
        shutil.rmtree(p, ignore_errors=True)


def main(argv):
    n = 1_000_000
    binary = os.path.join(HERE, "..", ".build", "release", "snapdex")
    work = "/tmp/snapdex-bench"
    skip_usr = False
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--binary":
            binary = args.pop(0)
        elif a == "--work":
            work = args.pop(0)
        elif a == "--skip-usr":
            skip_usr = True
        else:
            n = int(a)
    binary = os.path.abspath(binary)
    if not os.path.exists(binary):
        sys.exit(f"no binary at {binary}: run `make release` first")
    os.makedirs(work, exist_ok=True)
    b = Bench(binary, work)
    synthetic(b, n, work)
    if not skip_usr:
        real_usr(b, work)


if __name__ == "__main__":
    main(sys.argv[1:])
