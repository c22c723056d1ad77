#!/usr/bin/env python3
"""Churn benchmark: what a new point costs when its snapshot changed a little (issue 12, goal 1).
Not a test: it asserts nothing; it prints bytes added per point as a percentage of the first
point (blocks folder and manifests, measured on disk in the same run) and whether each goal
holds.

usage: python3 Benchmarks/churn-bench.py [--entries N] [--points P] [--binary PATH] [--work DIR]
       [--only hardlink,inplace,clustered] [--breakdown]

Builds a deterministic tree of N entries (default 218,000) with Benchmarks/make-tree.py, then,
for each scenario, indexes the tree, makes a second snapshot, indexes it, and goes on for a
chain of P points (default 30), one day of churn per point:
  hardlink   rsnapshot style: the next snapshot is `cp -al` of the last one, then 1% churn
             scattered across the tree: 0.6% of the files rewritten (replaced: new inode),
             0.2% removed, 0.2% added (new names in existing folders)
  inplace    the same tree changed in place (as between two ZFS or btrfs snapshots): 1% of
             the files rewritten in place (same inode), scattered
  clustered  as hardlink, but the 1% churn falls in a few folders
Goals: second point of `hardlink` <= 15% of the first, of `inplace` <= 5%; over each chain the
average point <= 20% of the first; reading any point needs at most a small bounded number of
blocks per part (printed: the most blocks any part of any point references).
--breakdown also prints what each point's new bytes are: per part kind (names, content, state),
whole parts, deltas and level-2 deltas ("delta2") apart, and per column (each column's bytes, or the delta literals that
land in it, compressed alone and scaled to the block's stored size: an estimate).
"""
import lzma
import os
import random
import shutil
import subprocess
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import importlib.util

_spec = importlib.util.spec_from_file_location("make_tree", os.path.join(HERE, "make-tree.py"))
make_tree = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_tree)

DAY = 86_400


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr.decode()}")
    return r.stdout


def catalog_bytes(repo):
    """Bytes of the block files and manifests: what a point costs, without the database."""
    total = 0
    for dirpath, _, files in os.walk(repo):
        for f in files:
            if dirpath.startswith(os.path.join(repo, "blocks")) or f.endswith(".manifest"):
                total += os.lstat(os.path.join(dirpath, f)).st_size
    return total


# A small reader of the manifest's chunk table (docs/FORMAT.md, "Manifests"), only to count
# the blocks each part needs.
def _varint(b, i):
    v = shift = 0
    while True:
        x = b[i]
        i += 1
        v |= (x & 0x7F) << shift
        shift += 7
        if x < 0x80:
            return v, i


def part_refs(form):
    """How many block references and part hashes a chunk table part of this form holds:
    whole 1/0, patch or delta 2/1, level-2 delta (format 4) 3/2."""
    return {0: (1, 0), 3: (3, 2)}.get(form, (2, 1))


def chunk_table(path):
    """The chunk table of a manifest: per chunk, per part, (form, [block hashes], whole hash)."""
    b = open(path, "rb").read()
    i, end = 12, len(b) - 32
    table = []
    while i < end:
        tag, i = _varint(b, i)
        n, i = _varint(b, i)
        value, i = b[i:i + n], i + n
        if tag != 32:
            continue
        j = 0
        chunks, j = _varint(value, j)
        for _ in range(chunks):
            _, j = _varint(value, j)
            n, j = _varint(value, j)
            j += n
            n, j = _varint(value, j)
            j += n
            _, j = _varint(value, j)
            parts, j = _varint(value, j)
            row = []
            for _ in range(parts):
                form, j = _varint(value, j)
                refs = []
                nrefs, nhashes = part_refs(form)
                for _ in range(nrefs):
                    refs.append(value[j:j + 32].hex())
                    j += 32
                    _, j = _varint(value, j)
                    _, j = _varint(value, j)
                whole = None
                for _ in range(nhashes):
                    whole = value[j:j + 32].hex()
                    j += 32
                row.append((form, refs, whole))
            table.append(row)
    return table


def blocks_per_part(path):
    b = open(path, "rb").read()
    i, end = 12, len(b) - 32
    most = 0
    while i < end:
        tag, i = _varint(b, i)
        n, i = _varint(b, i)
        value, i = b[i:i + n], i + n
        if tag != 32:
            continue
        j = 0
        chunks, j = _varint(value, j)
        for _ in range(chunks):
            _, j = _varint(value, j)  # shared prefix
            n, j = _varint(value, j)
            j += n  # directory suffix
            n, j = _varint(value, j)
            j += n  # first name
            _, j = _varint(value, j)  # entries
            parts, j = _varint(value, j)
            for _ in range(parts):
                form, j = _varint(value, j)
                refs, hashes = part_refs(form)
                for _ in range(refs):
                    j += 32
                    _, j = _varint(value, j)
                    _, j = _varint(value, j)
                j += 32 * hashes
                most = max(most, refs)
    return most


# What each new point's bytes are (--breakdown): per part kind, whole or delta, and per column.
COLUMNS = {
    0: ["runs", "types", "names", "modes", "uids", "gids", "targets", "devices"],
    1: ["sizes", "mtimes", "hash kinds", "hashes", "mtime exceptions"],
    2: ["ctimes", "inodes", "nlinks", "trees", "ctime exceptions"],
}
KINDS = {0: "names", 1: "content", 2: "state"}


def block_path(repo, h):
    return os.path.join(repo, "blocks", h[:2], h)


def read_block(repo, h):
    return lzma.decompress(open(block_path(repo, h), "rb").read()[16:], format=lzma.FORMAT_XZ)


def part_columns(raw):
    """(kind, [(start, end)] of each column's bytes in the part)."""
    kind = raw[0]
    _, i = _varint(raw, 1)
    n, i = _varint(raw, i)
    cols = []
    for _ in range(n):
        length, i = _varint(raw, i)
        cols.append((i, i + length))
        i += length
    return kind, cols


def _zigzag(b, i):
    v, i = _varint(b, i)
    return (v >> 1) ^ -(v & 1), i


def literal_positions(delta, base):
    """Runs the delta's instructions; returns the rebuilt part, the positions in it of every
    literal byte, and the size of the ops column."""
    _, cols = part_columns(delta)
    (o0, o1), (l0, l1) = cols[0], cols[1]
    out = bytearray()
    lit = []
    i, li, expected = o0, l0, 0
    while i < o1:
        n, i = _varint(delta, i)
        lit.extend(range(len(out), len(out) + n))
        out += delta[li:li + n]
        li += n
        c, i = _varint(delta, i)
        if c:
            d, i = _zigzag(delta, i)
            start = expected + d
            out += base[start:start + c]
            expected = start + c
    return bytes(out), lit, o1 - o0


def squeeze(data):
    return len(lzma.compress(bytes(data), preset=1)) if data else 0


def breakdown(repo, manifest, new_blocks):
    """Stored bytes of a point's new blocks by part kind and form, and each one's share by
    column (estimated: each column's bytes, or a delta's literals falling in it, compressed
    alone, then scaled to the block's stored size)."""
    stored = {}
    for row in chunk_table(manifest):
        for p, (form, refs, whole) in enumerate(row):
            h = refs[-1]
            if h not in new_blocks:
                continue
            new_blocks.discard(h)
            size = os.lstat(block_path(repo, h)).st_size
            raw = read_block(repo, h)
            kind = KINDS[p]
            form_name = {0: "whole", 1: "patch", 2: "delta", 3: "delta2"}[form]
            shares = {}
            if form == 0:
                _, cols = part_columns(raw)
                for c, (a, b) in enumerate(cols):
                    shares[COLUMNS[p][c] if c < len(COLUMNS[p]) else f"column {c}"] = squeeze(raw[a:b])
            elif form in (2, 3):
                _, delta_cols = part_columns(raw)
                base = read_block(repo, refs[0])
                if form == 3:  # a level-2 delta applies to the part its level-1 delta rebuilds
                    base, _, _ = literal_positions(read_block(repo, refs[1]), base)
                rebuilt, lit, _ = literal_positions(raw, base)
                _, cols = part_columns(rebuilt)
                per = {}
                for pos in lit:
                    for c, (a, b) in enumerate(cols):
                        if a <= pos < b:
                            per.setdefault(c, bytearray()).append(rebuilt[pos])
                            break
                    else:
                        per.setdefault(-1, bytearray()).append(rebuilt[pos])
                shares["delta ops"] = squeeze(raw[delta_cols[0][0]:delta_cols[0][1]])
                for c, data in per.items():
                    name = "part headers" if c < 0 else (COLUMNS[p][c] if c < len(COLUMNS[p]) else f"column {c}")
                    shares[name] = squeeze(data)
            total = sum(shares.values()) or 1
            key = (kind, form_name)
            entry = stored.setdefault(key, {"bytes": 0, "blocks": 0, "columns": {}})
            entry["bytes"] += size
            entry["blocks"] += 1
            for name, v in shares.items():
                entry["columns"][name] = entry["columns"].get(name, 0) + size * v / total
    return stored


def regular_files(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for f in sorted(filenames):
            p = os.path.join(dirpath, f)
            if os.path.isfile(p) and not os.path.islink(p):
                out.append(p)
    return out


def churn(root, rng, rewrite, remove, add, replace, clustered):
    """Changes the tree as one day would: rewrites (replacing the file when `replace`, as rsync
    into a hard-link tree does, else in place), removes and adds, spread over the whole tree or
    (clustered) over a few folders."""
    files = regular_files(root)
    n = len(files)
    want = [int(n * rewrite), int(n * remove), int(n * add)]
    total = sum(want)
    if clustered:
        by_dir = {}
        for f in files:
            by_dir.setdefault(os.path.dirname(f), []).append(f)
        dirs = sorted(by_dir)
        rng.shuffle(dirs)
        pool = []
        for d in dirs:
            if len(pool) >= total:
                break
            pool.extend(by_dir[d])
        chosen = rng.sample(pool, min(total, len(pool)))
    else:
        chosen = rng.sample(files, total)
    t = make_tree.BASE + 200_000_000 + rng.randint(0, 10 * DAY)
    rewrites, removes, adds = chosen[:want[0]], chosen[want[0]:want[0] + want[1]], chosen[want[0] + want[1]:]
    for p in rewrites:
        old = os.lstat(p)
        if replace:
            os.unlink(p)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT, 0o644)
        os.ftruncate(fd, make_tree.size(rng))
        os.fchmod(fd, old.st_mode & 0o7777)
        os.close(fd)
        os.utime(p, ns=(t * 1_000_000_000, t * 1_000_000_000 + rng.randint(0, 999_999_999)))
    for p in removes:
        os.unlink(p)
    for p in adds:
        # A new file beside an existing one, so adds land where the tree already has files.
        d = os.path.dirname(p)
        for _ in range(20):
            q = os.path.join(d, make_tree.name(rng, False) + f"-{rng.randint(0, 99999)}")
            if not os.path.lexists(q):
                break
        fd = os.open(q, os.O_WRONLY | os.O_CREAT, 0o644)
        os.ftruncate(fd, make_tree.size(rng))
        os.close(fd)
        os.utime(q, ns=(t * 1_000_000_000, t * 1_000_000_000 + rng.randint(0, 999_999_999)))


class Chain:
    def __init__(self, binary, work, name, detail=False):
        self.binary = binary
        self.detail = detail
        self.breakdowns = []
        self.repo = os.path.join(work, "repo-" + name)
        shutil.rmtree(self.repo, ignore_errors=True)
        run([binary, "init", "--repo", self.repo])
        self.costs = []
        self.day = 0

    def block_set(self):
        out = set()
        for dirpath, _, files in os.walk(os.path.join(self.repo, "blocks")):
            out.update(f for f in files if len(f) == 64)
        return out

    def manifests(self):
        folder = os.path.join(self.repo, "catalogs", "bench")
        return set(f for f in os.listdir(folder) if f.endswith(".manifest")) if os.path.isdir(folder) else set()

    def index(self, tree):
        before = catalog_bytes(self.repo)
        if self.detail:
            blocks_before, manifests_before = self.block_set(), self.manifests()
        self.day += 1
        at = f"2026-01-01T00:00:00Z" if self.day == 1 else f"2026-{1 + (self.day - 1) // 28:02d}-{1 + (self.day - 1) % 28:02d}T00:00:00Z"
        run([self.binary, "index", tree, "--source", "bench", "--at", at, "--repo", self.repo])
        self.costs.append(catalog_bytes(self.repo) - before)
        if self.detail:
            (new,) = self.manifests() - manifests_before
            path = os.path.join(self.repo, "catalogs", "bench", new)
            parts = breakdown(self.repo, path, self.block_set() - blocks_before)
            parts[("manifest", "")] = {"bytes": os.lstat(path).st_size, "blocks": 0, "columns": {}}
            self.breakdowns.append(parts)

    def most_blocks_per_part(self):
        folder = os.path.join(self.repo, "catalogs", "bench")
        return max(blocks_per_part(os.path.join(folder, f)) for f in os.listdir(folder) if f.endswith(".manifest"))


def report(label, value, target=None, ok=None):
    mark = "" if ok is None else ("  OK" if ok else "  MISSED")
    print(f"{label:62s} {value:>12s}" + (f"   target {target}{mark}" if target else ""), flush=True)


def print_breakdown(name, breakdowns, first):
    """Per point: each part kind's new bytes (whole parts, deltas) as % of the first point;
    then, averaged over points 2..P, the same by column."""
    keys = [("names", "whole"), ("names", "delta"), ("names", "delta2"), ("content", "whole"), ("content", "delta"),
            ("content", "delta2"), ("state", "whole"), ("state", "delta"), ("state", "delta2"), ("manifest", "")]
    label = lambda k: (k[0] + " " + k[1]).strip()
    print(f"  {name}: new bytes per point by part, % of the first point (whole parts / deltas)")
    print("  point " + "".join(f"{label(k):>15s}" for k in keys))
    for n, b in enumerate(breakdowns, 1):
        row = "".join(f"{b.get(k, {}).get('bytes', 0) / first * 100:15.2f}" for k in keys)
        print(f"  {n:5d} {row}")
    later = breakdowns[1:]
    if not later:
        return
    print(f"  {name}: average of points 2..{len(breakdowns)} by column, % of the first point")
    for k in keys[:-1]:
        cols = {}
        for b in later:
            for c, v in b.get(k, {}).get("columns", {}).items():
                cols[c] = cols.get(c, 0) + v / len(later)
        total = sum(b.get(k, {}).get("bytes", 0) for b in later) / len(later)
        blocks = sum(b.get(k, {}).get("blocks", 0) for b in later) / len(later)
        if total == 0:
            continue
        detail = ", ".join(f"{c} {v / first * 100:.2f}" for c, v in sorted(cols.items(), key=lambda x: -x[1]) if v / first >= 0.0005)
        print(f"  {label(k):15s} {total / first * 100:6.2f}% in {blocks:5.1f} blocks: {detail}")
    m = sum(b[("manifest", "")]["bytes"] for b in later) / len(later)
    print(f"  {'manifest':15s} {m / first * 100:6.2f}%")


def scenario(binary, work, tree0, name, points, second_goal, detail=False):
    rng = random.Random(zlib.crc32(name.encode()))
    chain = Chain(binary, work, name, detail)
    hardlink = name != "inplace"
    if hardlink:
        trees = [os.path.join(work, f"{name}-0")]
        shutil.rmtree(trees[0], ignore_errors=True)
        run(["cp", "-al", tree0, trees[0]])
    else:
        trees = [os.path.join(work, f"{name}-0")]
        shutil.rmtree(trees[0], ignore_errors=True)
        run(["cp", "-a", tree0, trees[0]])
    chain.index(trees[-1])
    for day in range(1, points):
        if hardlink:
            nxt = os.path.join(work, f"{name}-{day}")
            shutil.rmtree(nxt, ignore_errors=True)
            run(["cp", "-al", trees[-1], nxt])
            trees.append(nxt)
            churn(nxt, rng, 0.006, 0.002, 0.002, replace=True, clustered=name == "clustered")
            # rsnapshot keeps several; two on disk are enough to make every link count change.
            if len(trees) > 2:
                shutil.rmtree(trees.pop(0))
        else:
            churn(trees[-1], rng, 0.01, 0, 0, replace=False, clustered=False)
        chain.index(trees[-1])
    for t in trees:
        shutil.rmtree(t, ignore_errors=True)
    first = chain.costs[0]
    print(f"\n== {name}: {points} points; first point {first} bytes ==")
    if points > 1:
        second = chain.costs[1] / first
        report(f"{name}: second point / first", f"{second * 100:.1f}%", f"<= {second_goal}%", second * 100 <= second_goal)
    if points > 2:
        print("  per point (% of first): " + " ".join(f"{c / first * 100:.1f}" for c in chain.costs[1:]))
        avg_all = sum(chain.costs) / len(chain.costs) / first
        avg_later = sum(chain.costs[1:]) / (len(chain.costs) - 1) / first
        # The goal is judged on the points after the first (the first alone is 1/P of the
        # average over all of them).
        report(f"{name}: average of points 2..{points} / first", f"{avg_later * 100:.1f}%", "<= 20%", avg_later <= 0.20)
        report(f"{name}: average of all {points} points / first", f"{avg_all * 100:.1f}%")
    report(f"{name}: most blocks any part of any point needs", f"{chain.most_blocks_per_part()}")
    if chain.detail:
        print_breakdown(name, chain.breakdowns, first)
    shutil.rmtree(chain.repo, ignore_errors=True)


def main(argv):
    entries, points = 218_000, 30
    binary = os.path.join(HERE, "..", ".build", "release", "snapdex")
    work = "/tmp/snapdex-churn-bench"
    only = ["hardlink", "inplace", "clustered"]
    detail = False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--entries":
            entries = int(argv[i + 1])
        elif a == "--points":
            points = int(argv[i + 1])
        elif a == "--binary":
            binary = argv[i + 1]
        elif a == "--work":
            work = argv[i + 1]
        elif a == "--only":
            only = argv[i + 1].split(",")
        elif a == "--breakdown":
            detail = True
            i += 1
            continue
        else:
            sys.exit(__doc__)
        i += 2
    binary = os.path.abspath(binary)
    if not os.access(binary, os.X_OK):
        sys.exit(f"no snapdex binary at {binary}: run `swift build -c release` or pass --binary")
    os.makedirs(work, exist_ok=True)
    tree = os.path.join(work, "tree")
    if not os.path.exists(tree + ".done") or open(tree + ".done").read() != str(entries):
        shutil.rmtree(tree, ignore_errors=True)
        print(f"building a {entries}-entry tree in {tree} ...", flush=True)
        make_tree.build(tree, entries, 42)
        open(tree + ".done", "w").write(str(entries))
    print(f"binary {binary}; {entries} entries; {points} points per chain")
    goals = {"hardlink": 15, "inplace": 5, "clustered": 15}
    for name in only:
        scenario(binary, work, tree, name, points, goals[name], detail)


if __name__ == "__main__":
    main(sys.argv[1:])
