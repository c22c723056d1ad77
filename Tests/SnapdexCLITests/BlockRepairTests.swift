import Foundation
import Testing
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// `verify --repair` where what is in a block file's place is not a file, and what it writes:
/// real processes, real folders.
@Suite struct BlockRepairTests {
    let binary = packageRoot.appendingPathComponent(".build/debug/snapdex").path

    func run(_ args: [String]) throws -> (status: Int32, out: String) { try runTool(binary, args) }

    func blockFiles(_ repo: String) -> [String] {
        ((FileManager.default.enumerator(atPath: repo + "/blocks")?.allObjects as? [String]) ?? [])
            .filter { $0.count == 67 }.map { repo + "/blocks/" + $0 }.sorted()
    }

    /// A folder (with a file in it), a FIFO or a symbolic link out of the repository where
    /// each block file belongs: readers say damaged (3); the repair used to fail on a folder
    /// ("cannot rename ...: Is a directory", exit 1) and so could never repair it. Now the
    /// folder is moved aside whole and named, a link or FIFO is replaced (never followed),
    /// and the repository verifies.
    @Test(arguments: ["folder", "fifo", "link"])
    func whateverStandsWhereABlockBelongsIsMovedAsideAndTheBlockRepaired(kind: String) throws {
        guard builtSnapdex() != nil else { return }
        let s = Scratch()
        let repo = s.path + "/repo"
        for i in 0..<60 { write(s.path + "/snaps/2026-11-01/f\(i)", "\(i)") }
        write(s.path + "/outside", "not snapdex's")
        #expect(try run(["init", "--repo", repo]).status == 0)
        #expect(try run(["source", "add", "s", "--snapshots", s.path + "/snaps", "--repo", repo]).status == 0)
        #expect(try run(["index", "--source", "s", "--repo", repo]).status == 0)
        let blocks = blockFiles(repo)
        #expect(!blocks.isEmpty)
        for b in blocks {
            unlink(b)
            switch kind {
            case "folder":
                mkdir(b, 0o700)
                write(b + "/inside", "kept")
            case "fifo": mkfifo(b, 0o600)
            default: symlink(s.path + "/outside", b)
            }
        }
        for reader in [["ls", "s@latest", "/"], ["info", "s@latest", "/f1"], ["cat", "s@latest", "/f1"], ["find", "f1*"]] {
            let r = try run(reader + ["--repo", repo])
            #expect(r.status == 3, "\(reader): \(r.out)")
        }
        let r = try run(["verify", "--repair", "--repo", repo])
        #expect(r.status == 0, "\(r.out)")
        let repaired = r.out.split(separator: "\n").filter { $0.hasPrefix("repaired block") }
        #expect(repaired.count == blocks.count, "\(r.out)")
        for line in repaired {
            switch kind {
            case "folder": #expect(line.contains("a folder in its place was moved to \(repo)/blocks/"), "\(line)")
            case "fifo": #expect(line.contains("a FIFO in its place was replaced"), "\(line)")
            default: #expect(line.contains("a symbolic link in its place was replaced"), "\(line)")
            }
        }
        #expect(try run(["verify", "--repo", repo]).status == 0)
        #expect(try run(["cat", "s@latest", "/f1", "--repo", repo]).out == "1")
        // Nothing outside the repository was touched; a folder kept what it held, beside the block.
        #expect(try String(contentsOfFile: s.path + "/outside", encoding: .utf8) == "not snapdex's")
        if kind == "folder" {
            for b in blocks { #expect((try? String(contentsOfFile: b + ".damaged/inside", encoding: .utf8)) == "kept") }
        }
        // gc leaves what was moved aside alone, and the blocks it stood for.
        #expect(try run(["gc", "--repo", repo]).status == 0)
        #expect(try run(["verify", "--repo", repo]).status == 0)
    }

    /// A folder where a block belongs that a new index reuses: the index writes it anew
    /// (moving the folder aside) instead of failing on the rename.
    @Test func anIndexWritesABlockAnewOverAFolderInItsPlace() throws {
        guard builtSnapdex() != nil else { return }
        let s = Scratch()
        let repo = s.path + "/repo"
        for i in 0..<60 { write(s.path + "/snaps/2026-11-01/f\(i)", "\(i)") }
        #expect(try run(["init", "--repo", repo]).status == 0)
        #expect(try run(["source", "add", "s", "--snapshots", s.path + "/snaps", "--repo", repo]).status == 0)
        #expect(try run(["index", "--source", "s", "--repo", repo]).status == 0)
        for b in blockFiles(repo) {
            unlink(b)
            mkdir(b, 0o700)
        }
        #expect(try runTool("/bin/cp", ["-a", s.path + "/snaps/2026-11-01", s.path + "/snaps/2026-11-02"]).status == 0)
        let r = try run(["index", "--source", "s", "--repo", repo])
        #expect(r.status == 0, "\(r.out)")
        #expect(try run(["verify", "s@latest", "--repo", repo]).status == 0)
    }

    /// A repaired block is the very file the indexer wrote: the repair used to compress
    /// every part, where the writer stores a content delta LZMA barely shrinks uncompressed
    /// (so find reads it fast). Every block of a series with such deltas is removed and
    /// repaired, and each file compared byte for byte.
    @Test func repairedBlocksAreByteForByteWhatTheIndexerWrote() throws {
        guard builtSnapdex() != nil else { return }
        let s = Scratch()
        let repo = s.path + "/repo"
        var rng = SystemRandomNumberGenerator()
        // Three separate trees (no hard links: each has its own mtimes) of 5,200 files; in
        // each next day the files of two folders get random nanosecond mtimes, a run of
        // random bytes in the content part that makes a content delta LZMA cannot shrink.
        for (n, day) in ["2026-11-01", "2026-11-02", "2026-11-03"].enumerated() {
            let root = s.path + "/snaps/" + day
            for i in 0..<5_200 {
                let path = root + "/d\(i / 100)/f\(i)"
                write(path, "\(i)")
                var times = [timespec(tv_sec: 1_700_000_000, tv_nsec: 0), timespec(tv_sec: 1_700_000_000, tv_nsec: 0)]
                if n > 0 && [n * 10, n * 10 + 1].contains(i / 100) {
                    times[1] = timespec(tv_sec: Int.random(in: 0...(1 << 33), using: &rng), tv_nsec: Int.random(in: 0..<1_000_000_000, using: &rng))
                }
                #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
            }
        }
        #expect(try run(["init", "--repo", repo]).status == 0)
        #expect(try run(["source", "add", "s", "--snapshots", s.path + "/snaps", "--repo", repo]).status == 0)
        #expect(try run(["index", "--source", "s", "--repo", repo]).status == 0)

        // The tree must have made a content delta stored uncompressed, or this proves nothing.
        let r0 = try Repository.open(at: repo)
        let contentDeltas = try r0.points().flatMap { p in try r0.manifest(of: p).chunks.compactMap { $0.parts.count > 1 && $0.parts[1].delta ? $0.parts[1].block : nil } }
        let stored = contentDeltas.filter { b in
            let raw = (try? r0.blocks.read(b.hash)) ?? []
            let file = (try? FileIO.readAll(r0.blocks.path(of: b.hash))) ?? []
            return !raw.isEmpty && file.count > raw.count
        }
        #expect(!stored.isEmpty, "no content delta was stored uncompressed: the test proves nothing")

        var before: [String: [UInt8]] = [:]
        for f in blockFiles(repo) { before[f] = try FileIO.readAll(f) }
        for f in before.keys { unlink(f) }
        let r = try run(["verify", "--repair", "--repo", repo])
        #expect(r.status == 0, "\(r.out)")
        #expect(Set(blockFiles(repo)) == Set(before.keys))
        for (f, bytes) in before {
            #expect((try? FileIO.readAll(f)) == bytes, "\(f) differs from what the indexer wrote")
        }
    }

    /// An rsnapshot-like chain (`cp -al` of the last snapshot, then a few changes), indexed
    /// after each copy: the next copy changes the ctimes and link counts of the files it
    /// shares, so a lost state block of an older point cannot be made again from its
    /// snapshot, which still exists. The repair said "no snapshot holds it"; now it says why,
    /// and its advice, followed as printed, brings the points back with the same files.
    @Test func aLostStateBlockOfAHardLinkChainSaysWhyAndItsAdviceWorks() throws {
        guard builtSnapdex() != nil else { return }
        let s = Scratch()
        let repo = s.path + "/repo"
        let first = s.path + "/snaps/2026-11-01"
        for i in 0..<5_200 { write(first + "/d\(i / 100)/f\(i)", "\(i)") }
        #expect(try run(["init", "--repo", repo]).status == 0)
        #expect(try run(["source", "add", "s", "--snapshots", s.path + "/snaps", "--repo", repo]).status == 0)
        #expect(try run(["index", "--source", "s", "--repo", repo]).status == 0)
        var before = first
        for day in ["2026-11-02", "2026-11-03", "2026-11-04"] {
            let snap = s.path + "/snaps/" + day
            #expect(try runTool("/bin/cp", ["-al", before, snap]).status == 0)
            write(snap + "/new-" + day, day)
            unlink(snap + "/d10/f\(1_000 + Int(day.suffix(1))!)")
            #expect(try run(["index", "--source", "s", "--repo", repo]).status == 0)
            before = snap
        }
        let r0 = try Repository.open(at: repo)
        let points = try r0.points().sorted { $0.time < $1.time }
        #expect(points.count == 4)
        let second = try r0.manifest(of: points[1])
        let state = try #require(second.chunks.map { $0.parts[2] }.first { $0.delta && $0.level1 == nil }, "no level-1 state delta: the test proves nothing")
        unlink(r0.blocks.path(of: state.block.hash))

        let r = try run(["verify", "--repair", "--repo", repo])
        #expect(r.status == 3, "\(r.out)")
        let line = try #require(r.out.split(separator: "\n").first { $0.contains("could not repair block \(state.block.hash.hex)") }, "\(r.out)")
        #expect(line.contains("still has the same names and contents") && line.contains("link counts"), "\(line)")
        #expect(!line.hasSuffix("no snapshot holds it"), "\(line)")
        let advice = try #require(r.out.split(separator: "\n").first { $0.contains("`snapdex --repo \(repo) forget") }, "\(r.out)")
        #expect(advice.contains("`snapdex --repo \(repo) index --source s`"), "\(advice)")
        // Both commands, run as printed.
        let spans = advice.split(separator: "`", omittingEmptySubsequences: false)
        let commands = stride(from: 1, to: spans.count - 1, by: 2).map { spans[$0].split(separator: " ").map(String.init) }
        #expect(commands.count == 2)
        for c in commands {
            let followed = try runTool(binary, Array(c.dropFirst()))
            #expect(followed.status == 0, "\(c): \(followed.out)")
        }
        #expect(try run(["verify", "--repo", repo]).status == 0)
        let after = try Repository.open(at: repo).points()
        #expect(after.map(\.time).sorted() == points.map(\.time))
        #expect(try run(["cat", "s@2026-11-02", "/new-2026-11-02", "--repo", repo]).out == "2026-11-02")
        #expect(try run(["cat", "s@2026-11-02", "/d10/f1003", "--repo", repo]).out == "1003")
    }
}
