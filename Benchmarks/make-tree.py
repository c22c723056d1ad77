#!/usr/bin/env python3
"""Builds a deterministic directory tree of about N entries for benchmarks.

Realistic shape: directories nest 3 to 9 levels deep with a few to a few dozen children;
names come from a vocabulary of words, numbers and extensions; files are sparse (their size
costs no disk) with a skewed size distribution; mtimes come in bursts, as package managers
and people write them.

usage: make-tree.py DIR [N] [--seed S]
       make-tree.py --change DIR FRACTION [--mode inplace|replace] [--spread uniform|clustered] [--seed S]
The second form changes FRACTION of the regular files: in place (same inode, as between two
ZFS or btrfs snapshots) or by replacing them (new inode, as rsnapshot does in a hard-link tree).
"""
import os
import random
import sys

WORDS = ("src lib doc docs test tests build include share bin etc var log cache config data assets images img "
         "icons fonts locale man util utils core api app web server client model view controller service "
         "report invoice budget photo music video notes draft final backup archive project module package "
         "index main readme license changelog setup install update user admin home alice bob carol dave "
         "linux python swift rust java node vendor third_party examples samples scripts tools plugin theme").split()
EXTS = [".txt", ".md", ".c", ".h", ".py", ".swift", ".json", ".xml", ".html", ".css", ".js", ".png", ".jpg",
        ".so", ".gz", ".conf", ".log", "", ".pdf", ".xlsx", ".mo", ".po", ".svg"]
BASE = 1_600_000_000


def name(rng, is_dir):
    w = rng.choice(WORDS)
    r = rng.random()
    if r < 0.3:
        w += "_" + rng.choice(WORDS)
    elif r < 0.6:
        w += "-" + str(rng.randint(0, 999))
    if not is_dir:
        w += rng.choice(EXTS)
    return w


def size(rng):
    r = rng.random()
    if r < 0.05:
        return 0
    if r < 0.7:
        return rng.randint(1, 8192)
    if r < 0.97:
        return rng.randint(8192, 1 << 20)
    return rng.randint(1 << 20, 1 << 30)


def build(root, n, seed):
    rng = random.Random(seed)
    os.makedirs(root, exist_ok=True)
    made = 0
    stack = [(root, 0)]
    dirs_made = []
    while stack and made < n:
        path, depth = stack.pop()
        burst = BASE + rng.randint(0, 150_000_000)
        nfiles = int(rng.paretovariate(1.2) * 6) if depth > 0 else 4
        nfiles = min(nfiles, 400)
        names = set()
        for _ in range(nfiles):
            names.add(name(rng, False))
        for f in sorted(names):
            if made >= n:
                break
            p = os.path.join(path, f)
            fd = os.open(p, os.O_WRONLY | os.O_CREAT, 0o644)
            os.ftruncate(fd, size(rng))
            os.close(fd)
            t = burst + rng.randint(0, 3600)
            os.utime(p, ns=(t * 1_000_000_000, t * 1_000_000_000 + rng.randint(0, 999_999_999)))
            made += 1
        if depth < 9:
            nd = rng.choice([0, 0, 1, 2, 3, 4, 6, 8, 12]) if depth > 1 else 10
            subs = set(name(rng, True) for _ in range(nd))
            for d in sorted(subs):
                if made >= n:
                    break
                p = os.path.join(path, d)
                if os.path.exists(p):
                    continue
                os.mkdir(p)
                made += 1
                dirs_made.append(p)
                stack.append((p, depth + 1))
        if not stack and made < n:
            stack.append((rng.choice(dirs_made) if dirs_made else root, rng.randint(2, 6)))
    # Directory mtimes last, in the same bursts.
    for p in dirs_made:
        t = BASE + rng.randint(0, 150_000_000)
        os.utime(p, (t, t))
    return made


def files_under(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for f in sorted(filenames):
            out.append(os.path.join(dirpath, f))
    return out


def change(root, fraction, mode, spread, seed):
    rng = random.Random(seed)
    files = files_under(root)
    want = max(1, int(len(files) * fraction))
    if spread == "uniform":
        chosen = rng.sample(files, want)
    else:
        by_dir = {}
        for f in files:
            by_dir.setdefault(os.path.dirname(f), []).append(f)
        dirs = sorted(by_dir)
        rng.shuffle(dirs)
        chosen = []
        for d in dirs:
            if len(chosen) >= want:
                break
            chosen.extend(by_dir[d][: want - len(chosen)])
    t = BASE + 200_000_000
    for p in chosen:
        old = os.lstat(p)
        if mode == "replace":
            # As rsync -a into a hard-link tree does: a new inode, the same mode and owner.
            os.unlink(p)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT, 0o644)
        os.ftruncate(fd, size(rng))
        os.fchmod(fd, old.st_mode & 0o7777)
        os.fchown(fd, old.st_uid, old.st_gid)
        os.close(fd)
        os.utime(p, ns=(t * 1_000_000_000, t * 1_000_000_000 + rng.randint(0, 999_999_999)))
    return len(chosen)


def main(argv):
    seed = 42
    if "--seed" in argv:
        i = argv.index("--seed")
        seed = int(argv[i + 1])
        del argv[i:i + 2]
    if argv and argv[0] == "--change":
        mode = "inplace"
        spread = "uniform"
        if "--mode" in argv:
            mode = argv[argv.index("--mode") + 1]
        if "--spread" in argv:
            spread = argv[argv.index("--spread") + 1]
        n = change(argv[1], float(argv[2]), mode, spread, seed)
        print(f"changed {n} files ({mode}, {spread})")
        return
    root = argv[0]
    n = int(argv[1]) if len(argv) > 1 else 1_000_000
    made = build(root, n, seed)
    print(f"made {made} entries in {root}")


if __name__ == "__main__":
    main(sys.argv[1:])
