#!/usr/bin/env python3
"""Database benchmark: `snapdex points` and a full rebuild of snapdex.db at 10,000 points, as
ratios to SQLite doing the same reads and writes, measured in the same run. Not a test: it
asserts nothing; it prints numbers and whether each goal of issue 12 (goal 4) holds.

usage: python3 Benchmarks/db-bench.py [POINTS] [--entries N] [--binary PATH] [--before PATH]
                                      [--work DIR] [--reuse] [--check]

How the repository is built (indexing 10,000 snapshots would take hours):
  1. Benchmarks/make-tree.py makes a tree of N entries (default 200,000: about 50 chunks, so
     about 150 block references per point, like the 218k-entry tree of the issue);
  2. `snapdex index` indexes it once, for real, under source "bench" with a retention policy;
  3. every other point is that manifest written again the way the indexer writes one: a fresh
     random id, its own point time (one an hour) and indexing time, and a new state block of
     its own for the chunk with the smallest state part (the part's first link count set to
     the point's number, so it stays a valid part; compressed as the indexer does: xz, LZMA2
     preset 1, no check), then the SHA-256 trailer over the new bytes. So each point shares
     every block but one with the others, as hourly points of a quiet file system do.
  --reuse measures the repository a previous run left in the work folder instead.
  --check runs `snapdex verify` on the result (slow at 10,000 points; use it with few points).

Figures (best of 5 warm runs for points; one run each for the rebuilds), each as elapsed (wall)
and user + system (cpu) seconds: on a machine shared with other work, wall time grows with
their load, and cpu time is the closer estimate of an idle machine's wall time:
  points            `snapdex points` against `sqlite3 snapdex.db 'SELECT * FROM point'`
  points --json     the same, JSON Lines
  rescan            `snapdex rescan`: seconds and peak RSS against `sqlite3` loading a dump of
                    the database it builds (SQLite writing the same rows, nothing else)
  automatic rebuild `snapdex points` with snapdex.db deleted
--before BINARY measures the same figures with another build (e.g. main before a change) on
the same repository, each with a database of its own making.
"""
import hashlib
import lzma
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GOAL_POINTS_S = 0.100
GOAL_REBUILD_S = 5.0
GOAL_REBUILD_MB = 200


# Manifest and part encodings (docs/FORMAT.md: "Integers", "Manifests", "Chunks").

def varint(data, i):
    v = shift = 0
    while True:
        b = data[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return v, i


def put_varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def zigzag(v):
    return ((v << 1) ^ (v >> 63)) & 0xFFFFFFFFFFFFFFFF


def fields(manifest):
    """The manifest's (tag, value) fields, without header and checksum."""
    body = manifest[12:-32]
    out, i = [], 0
    while i < len(body):
        tag, i = varint(body, i)
        n, i = varint(body, i)
        out.append((tag, body[i:i + n]))
        i += n
    return out


def encode(header, fs):
    body = bytearray(header)
    for tag, value in fs:
        body += put_varint(tag) + put_varint(len(value)) + value
    return bytes(body) + hashlib.sha256(body).digest()


def chunk_refs(table):
    """Per chunk, per part: (form, offset of its first block reference, that reference)."""
    out, i = [], 0
    count, i = varint(table, i)
    for _ in range(count):
        _, i = varint(table, i)  # shared prefix
        n, i = varint(table, i)
        i += n  # suffix
        n, i = varint(table, i)
        i += n  # first name
        _, i = varint(table, i)  # entries
        nparts, i = varint(table, i)
        parts = []
        for _ in range(nparts):
            form, i = varint(table, i)
            refs = []
            for _ in range(1 if form == 0 else 2):
                start = i
                h = table[i:i + 32]
                raw, i = varint(table, i + 32)
                stored, i = varint(table, i)
                refs.append((start, i, h, raw, stored))
            if form != 0:
                i += 32  # the whole part's hash of a patched (1) or delta (2) part
            parts.append((form, refs))
        out.append(parts)
    if i != len(table):
        raise ValueError("chunk table not as docs/FORMAT.md describes it")
    return out


def block_path(repo, h):
    x = h.hex()
    return os.path.join(repo, "blocks", x[:2], x)


def read_block(repo, h):
    with open(block_path(repo, h), "rb") as f:
        data = f.read()
    return lzma.decompress(data[16:], format=lzma.FORMAT_XZ)


def write_block(repo, raw):
    h = hashlib.sha256(raw).digest()
    xz = lzma.compress(raw, format=lzma.FORMAT_XZ, check=lzma.CHECK_NONE,
                       filters=[{"id": lzma.FILTER_LZMA2, "preset": 1}])
    data = b"SNAPDEXB" + bytes([1, raw[0], 1, 0]) + struct.pack("<I", len(raw)) + xz
    path = block_path(repo, h)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o400)
    return h, len(raw), len(data)


def state_part_with_nlink(raw, value):
    """A state part whose first entry's link count is `value` (columns re-encoded)."""
    i = 1
    count, i = varint(raw, i)
    ncols, i = varint(raw, i)
    cols = []
    for _ in range(ncols):
        n, i = varint(raw, i)
        cols.append(raw[i:i + n])
        i += n
    _, j = varint(cols[2], 0)
    cols[2] = put_varint(value) + cols[2][j:]
    out = bytearray(raw[:1]) + put_varint(count) + put_varint(ncols)
    for c in cols:
        out += put_varint(len(c)) + c
    return bytes(out)


def clone_points(repo, source, count, hour_ns):
    folder = os.path.join(repo, "catalogs", source)
    [name] = [n for n in os.listdir(folder) if n.endswith(".manifest")]
    with open(os.path.join(folder, name), "rb") as f:
        base = f.read()
    header, fs = base[:12], fields(base)
    table = dict(fs)[32]
    chunks = chunk_refs(table)
    # The smallest whole state part: its copies cost the least to compress.
    candidates = [(refs[0][3], c) for c, parts in enumerate(chunks) for k, (form, refs) in enumerate(parts) if k == 2 and form == 0]
    _, victim = min(candidates)
    start, end, h, _, _ = chunks[victim][2][1][0]
    state = read_block(repo, h)
    t0 = None
    for tag, value in fs:
        if tag == 3:
            z, _ = varint(value, 0)
            t0 = (z >> 1) ^ -(z & 1)
    rng = random.Random(1)
    for k in range(1, count):
        pid = bytes(rng.getrandbits(8) for _ in range(16))
        t = t0 + k * hour_ns
        nh, raw, stored = write_block(repo, state_part_with_nlink(state, k + 1))
        new_table = table[:start] + nh + put_varint(raw) + put_varint(stored) + table[end:]
        out = []
        for tag, value in fs:
            if tag == 1:
                value = pid
            elif tag in (3, 4):
                value = put_varint(zigzag(t))
            elif tag == 32:
                value = new_table
            out.append((tag, value))
        data = encode(header, out)
        path = os.path.join(folder, pid.hex() + ".manifest")
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.rename(path + ".tmp", path)
    return len(chunks), sum(len(refs) for parts in chunks for _, refs in parts)


# Measuring.

def timed(cmd, stdin=None):
    """(seconds, peak RSS in MB, stdout, CPU seconds) of one run; exits on failure. CPU time
    and peak RSS are the child's own rusage (wait4), to the microsecond: /usr/bin/time rounds
    CPU seconds to 10 ms, a tenth of the `points` goal."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=stdin, stdout=out, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        dt = time.perf_counter() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if p.returncode != 0:
            sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{err.read().decode()[-2000:]}")
        return dt, usage.ru_maxrss / 1024, out.read(), usage.ru_utime + usage.ru_stime


def best(cmd, runs=5):
    """Best wall and best CPU seconds of `runs` warm runs."""
    timed(cmd)
    runs = [timed(cmd) for _ in range(runs)]
    return min(r[0] for r in runs), min(r[3] for r in runs)


def drop_database(repo):
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(os.path.join(repo, "snapdex.db" + suffix))
        except FileNotFoundError:
            pass


def ratio(x, base):
    return f"{x / base:.1f}x" if base > 0 else "-"


def measure(binary, repo, work, label):
    run = lambda *args: [binary] + list(args) + ["--repo", repo]
    db = os.path.join(repo, "snapdex.db")
    drop_database(repo)
    rescan_s, rescan_mb, _, rescan_cpu = timed(run("rescan"))
    drop_database(repo)
    auto_s, auto_mb, _, auto_cpu = timed(run("points"))
    points_s, points_cpu = best(run("points"))
    json_s, json_cpu = best(run("points", "--json"))
    sqlite_s, sqlite_cpu = best(["sqlite3", db, "SELECT * FROM point"])
    dump = os.path.join(work, "dump.sql")
    with open(dump, "wb") as f:
        subprocess.run(["sqlite3", db, ".dump"], stdout=f, check=True)
    copy = os.path.join(work, "copy.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(copy + suffix):
            os.unlink(copy + suffix)
    with open(dump, "rb") as f:
        load_s, load_mb, _, load_cpu = timed(["sqlite3", copy], stdin=f)
    size_mb = os.path.getsize(db) / 1e6
    verdict = lambda x, goal: "met" if x <= goal else "MISSED"
    print(f"\n{label}: {binary}")
    print("  (wall: elapsed seconds; cpu: user + system seconds, what an idle machine's wall time would be"
          " close to; on a shared machine wall time grows with the others' load)")
    print(f"  points              wall {points_s * 1000:6.0f} ms  cpu {points_cpu * 1000:6.0f} ms  goal <= {GOAL_POINTS_S * 1000:.0f} ms:"
          f" wall {verdict(points_s, GOAL_POINTS_S)}, cpu {verdict(points_cpu, GOAL_POINTS_S)};"
          f"  wall {ratio(points_s, sqlite_s)} sqlite3 reading the point table ({sqlite_s * 1000:.0f} ms wall,"
          f" {sqlite_cpu * 1000:.0f} ms cpu)")
    print(f"  points --json       wall {json_s * 1000:6.0f} ms  cpu {json_cpu * 1000:6.0f} ms  goal <= {GOAL_POINTS_S * 1000:.0f} ms:"
          f" wall {verdict(json_s, GOAL_POINTS_S)}, cpu {verdict(json_cpu, GOAL_POINTS_S)};  wall {ratio(json_s, sqlite_s)} sqlite3")
    print(f"  rescan              wall {rescan_s:6.2f} s   cpu {rescan_cpu:6.2f} s   goal <= {GOAL_REBUILD_S:.0f} s:"
          f" wall {verdict(rescan_s, GOAL_REBUILD_S)}, cpu {verdict(rescan_cpu, GOAL_REBUILD_S)};"
          f"  cpu {ratio(rescan_cpu, load_cpu)} sqlite3 loading a dump of the same database ({load_cpu:.2f} s cpu, {load_s:.2f} s wall)")
    print(f"  rescan peak RSS     {rescan_mb:6.0f} MB  goal <= {GOAL_REBUILD_MB} MB: {verdict(rescan_mb, GOAL_REBUILD_MB)};"
          f"  {ratio(rescan_mb, load_mb)} sqlite3 loading the dump ({load_mb:.0f} MB)")
    print(f"  automatic rebuild   wall {auto_s:6.2f} s   cpu {auto_cpu:6.2f} s   goal <= {GOAL_REBUILD_S:.0f} s:"
          f" wall {verdict(auto_s, GOAL_REBUILD_S)}, cpu {verdict(auto_cpu, GOAL_REBUILD_S)};"
          f"  peak RSS {auto_mb:.0f} MB (goal <= {GOAL_REBUILD_MB}: {verdict(auto_mb, GOAL_REBUILD_MB)})")
    print(f"  snapdex.db          {size_mb:6.1f} MB")
    drop_database(repo)


def main():
    args = sys.argv[1:]
    opt = lambda name, default: args[args.index(name) + 1] if name in args else default
    positional = [a for i, a in enumerate(args) if not a.startswith("--") and (i == 0 or not args[i - 1] in ("--entries", "--binary", "--before", "--work"))]
    points = int(positional[0]) if positional else 10_000
    entries = int(opt("--entries", 200_000))
    binary = os.path.realpath(opt("--binary", os.path.join(HERE, "..", ".build", "release", "snapdex")))
    before = opt("--before", None)
    work = opt("--work", "/tmp/snapdex-db-bench")
    tree, repo = os.path.join(work, "tree"), os.path.join(work, "repo")
    if "--reuse" in args and os.path.isdir(repo):
        print(f"reusing {repo}")
    else:
        build(binary, work, tree, repo, points, entries)
    if "--check" in args:
        r = subprocess.run([binary, "verify", "--repo", repo], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        print(f"verify: exit {r.returncode}: {r.stdout.decode().strip().splitlines()[-1]}")
    if before:
        measure(os.path.realpath(before), repo, work, "before")
    measure(binary, repo, work, "this build")


def build(binary, work, tree, repo, points, entries):
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    t = time.perf_counter()
    subprocess.run([sys.executable, os.path.join(HERE, "make-tree.py"), tree, str(entries)], check=True, stdout=subprocess.DEVNULL)
    sn = lambda *a: subprocess.run([binary] + list(a) + ["--repo", repo], check=True, stdout=subprocess.DEVNULL)
    sn("init")
    sn("source", "add", "bench")
    sn("policy", "set", "bench", "--hourly", "48", "--daily", "60", "--weekly", "52", "--monthly", "24", "--zone", "UTC")
    sn("index", tree, "--source", "bench", "--at", "2025-01-01T00:00:00Z")
    chunks, refs = clone_points(repo, "bench", points, 3600 * 10**9)
    shutil.rmtree(tree)
    print(f"built {points} points of a {entries}-entry tree ({chunks} chunks, {refs} block references a point) "
          f"in {time.perf_counter() - t:.0f} s: {repo}")


if __name__ == "__main__":
    main()
