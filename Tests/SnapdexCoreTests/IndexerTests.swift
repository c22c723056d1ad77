import Foundation
import Testing
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

@Suite struct IndexerTests {
    /// Every entry of a point, with its full path, in catalog order.
    static func catalogItems(_ repo: Repository, _ point: PointRecord) throws -> [ReferenceWalk.Item] {
        var items: [ReferenceWalk.Item] = []
        try repo.list(point: point, path: [], recursive: true) { g in
            for e in g.entries {
                items.append(ReferenceWalk.Item(path: PathBytes.display(PathBytes.join(g.path, e.name)), type: e.type, mode: e.permissions,
                                                uid: e.uid, gid: e.gid, size: e.size, mtime: e.mtime, ctime: e.ctime,
                                                inode: e.inode, nlink: e.nlink, target: e.target))
            }
        }
        return items.sorted { $0.path.lexicographicallyPrecedes($1.path) }
    }

    @Test func roundTripMatchesAnIndependentWalk() throws {
        let tmp = TempDir()
        let snap = tmp.sub("snap")
        Tree.awkward(at: snap)
        Tree.wide(at: snap + "/wide", count: 20_000)
        Tree.deepChain(at: snap + "/deep", depth: 120)  // 120 * 41 bytes > PATH_MAX (4096)
        let repo = try tmp.makeRepository()
        var options = IndexOptions(source: "home", directory: snap)
        options.at = Timestamp(seconds: 1_700_000_000)
        let summary = try Indexer(repository: repo).run(options)
        #expect(summary.count == 1)
        #expect(summary[0].warnings.isEmpty)
        let point = try repo.resolve("home@latest")
        let expected = ReferenceWalk.walk(snap)
        let got = try Self.catalogItems(repo, point)
        #expect(got.count == expected.count)
        #expect(got == expected)
        #expect(expected.contains { $0.path.count > 4096 })
        #expect(summary[0].entries == UInt64(expected.count))
        // Real names and order, however odd, are never taken for damage.
        #expect(try repo.verify().isClean)
    }

    /// A tree of names created in random order with random nanosecond times, across many
    /// chunks: the catalog holds what lstat says, each directory in name order, its content
    /// blocks keep the random columns uncompressed, and the xz tool reads every block.
    @Test func randomNamesAndTimesRoundTripWithStoredColumns() throws {
        let tmp = TempDir()
        let snap = tmp.sub("snap")
        var rng = SplitMix(seed: 3)
        var names = Set<String>()
        while names.count < 12_000 {
            names.insert("d\(rng.next() % 40)/" + String((0..<(4 + Int(rng.next() % 12))).map { _ in Character(UnicodeScalar(UInt8(97 + rng.next() % 26))) }))
        }
        for name in names.shuffled(using: &rng) {
            let path = snap + "/" + name
            Tree.mkdir((path as NSString).deletingLastPathComponent)
            let fd = open(path, O_WRONLY | O_CREAT, 0o644)
            ftruncate(fd, off_t(rng.next() % 1_000_000))
            var times = [timespec(tv_sec: Int(1_600_000_000 + rng.next() % 100_000_000), tv_nsec: Int(rng.next() % 1_000_000_000))]
            times.append(times[0])
            futimens(fd, times)
            close(fd)
        }
        let repo = try tmp.makeRepository()
        var options = IndexOptions(source: "r", directory: snap)
        options.at = Timestamp(seconds: 1_700_000_000)
        let summary = try Indexer(repository: repo).run(options)[0]
        #expect(summary.warnings.isEmpty)
        let point = try repo.resolve("r@latest")
        let expected = ReferenceWalk.walk(snap)
        #expect(try Self.catalogItems(repo, point) == expected)
        var order: [[UInt8]] = []
        try repo.list(point: point, path: Array("d7".utf8), recursive: false) { g in order += g.entries.map(\.name) }
        #expect(order.count > 200)
        #expect(order == order.sorted { $0.lexicographicallyPrecedes($1) })
        let manifest = try repo.manifest(of: point)
        #expect(manifest.chunks.count >= 2)
        for chunk in manifest.chunks {
            let content = chunk.parts[Int(PartKind.content.rawValue)].block
            // Stored, not compressed: LZMA would not have shrunk it by a tenth.
            #expect(content.storedSize * 10 > content.rawSize * 9)
            let file = repo.blocks.path(of: content.hash)
            let xz = Process()
            xz.executableURL = URL(fileURLWithPath: "/bin/sh")
            xz.arguments = ["-c", "tail -c +17 \"$0\" | xz -dc | sha256sum", file]
            let pipe = Pipe()
            xz.standardOutput = pipe
            try xz.run()
            let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            xz.waitUntilExit()
            #expect(out.hasPrefix(content.hash.hex))
        }
        #expect(try repo.verify().isClean)
    }

    @Test func reindexingAnUnchangedTreeWritesNoBlocks() throws {
        let tmp = TempDir()
        let snap = tmp.sub("snap")
        for d in 0..<40 { for f in 0..<100 { Tree.write(snap + "/d\(d)/file\(f).txt", "content \(d) \(f)") } }
        let repo = try tmp.makeRepository()
        var first = IndexOptions(source: "s", directory: snap)
        first.at = Timestamp(seconds: 1_000)
        first.hash = true
        let a = try Indexer(repository: repo).run(first)[0]
        #expect(a.warnings.isEmpty, "\(a.warnings)")
        #expect(a.hashedFiles == a.files)
        var second = first
        second.at = Timestamp(seconds: 2_000)
        let b = try Indexer(repository: repo).run(second)[0]
        #expect(a.newBlocks > 0)
        #expect(b.newBlocks == 0)
        #expect(b.hashesReused == b.files)

        // Change 1% of the files in place (same inode), as between two ZFS snapshots:
        // ten files in each of four directories.
        for d in 0..<4 {
            for f in 0..<10 {
                let fd = open(snap + "/d\(d * 10)/file\(f).txt", O_WRONLY | O_APPEND)
                _ = "changed".withCString { write(fd, $0, 7) }
                close(fd)
            }
        }
        var third = first
        third.at = Timestamp(seconds: 3_000)
        let c = try Indexer(repository: repo).run(third)[0]
        print("1% changed in place: \(c.newBlocks) new blocks of \(c.newBlocks + c.reusedBlocks), \(c.bytesWritten) bytes written (first index \(a.bytesWritten))")
        #expect(c.newBlocks > 0)
        #expect(c.newBlocks < a.newBlocks)
        #expect(c.hashesReused == c.files - 40)
        let point = try repo.resolve("s@latest")
        let changed = try repo.reader(for: point).entry(at: Array("d0/file0.txt".utf8))
        #expect(changed?.size == UInt64("content 0 0changed".utf8.count))
        // The changed parts were stored as patches of the first index's blocks...
        let m = try repo.manifest(of: point)
        #expect(m.chunks.flatMap(\.parts).contains { $0.base != nil })
        // find reads patched content parts without decoding the entries' names again.
        var hits: [FindHit] = []
        try repo.find(FindQuery(pattern: .glob("file0.txt", path: false)), in: try repo.points()) { hits.append($0) }
        #expect(hits.count == 3 * 40)
        let found = hits.filter { $0.point.id == point.id && $0.path == Array("d0/file0.txt".utf8) }
        #expect(found.count == 1 && found.first?.entry.size == changed?.size && found.first?.entry.mtime == changed?.mtime)
        #expect(found.first?.entry.hash == changed?.hash)
        #expect(c.bytesWritten * 10 < a.bytesWritten, "new \(c.newBlocks), reused \(c.reusedBlocks), written \(c.bytesWritten)")
        // ...and deleting every earlier index breaks nothing: the catalog is still whole.
        try repo.withWriterLock { try repo.forgetLocked(try repo.points().filter { $0.id != point.id }) }
        #expect(try repo.points().map(\.id) == [point.id])
        #expect(try repo.verify().isClean)
        #expect(try Self.catalogItems(repo, point) == ReferenceWalk.walk(snap))
    }

    @Test(arguments: CrashPoint.allCases)
    func aKilledRunLeavesAConsistentRepository(crash: CrashPoint) throws {
        let tmp = TempDir()
        let snap = tmp.sub("snap")
        for d in 0..<30 { for f in 0..<200 { Tree.write(snap + "/d\(d)/file\(f).txt", "c \(d) \(f)") } }
        let repo = try tmp.makeRepository()
        var options = IndexOptions(source: "s", directory: snap)
        options.at = Timestamp(seconds: 5_000)
        let indexer = Indexer(repository: repo)
        indexer.chunking = ChunkingParameters(minEntries: 64, maxEntries: 256, mask: 0x3f)
        indexer.crashPoint = crash
        #expect(throws: SimulatedCrash.self) { try indexer.run(options) }
        #expect(try repo.points().isEmpty)

        // The next writer finishes what the killed one left: a manifest renamed into place is
        // the commit point, so it rolls forward (the same time is then refused); before that,
        // it rolls back and indexing again succeeds.
        let again = Indexer(repository: repo)
        if crash == .beforeCommit {
            #expect(throws: SnapdexError.self) { try again.run(options) }
        } else {
            #expect(try again.run(options).count == 1)
        }
        #expect(try repo.points().count == 1)
        #expect(try repo.verify().isClean)
        #expect(!FileManager.default.fileExists(atPath: repo.root + "/journal"))
        let manifests = try FileManager.default.contentsOfDirectory(atPath: repo.root + "/catalogs/s").filter { $0.hasSuffix(".manifest") }
        #expect(manifests.count == 1)
        // Exactly the referenced blocks are on disk.
        let m = try repo.manifest(of: try repo.resolve("s@latest"))
        var onDisk = 0
        for sub in try FileManager.default.contentsOfDirectory(atPath: repo.root + "/blocks") {
            onDisk += try FileManager.default.contentsOfDirectory(atPath: repo.root + "/blocks/" + sub).count
        }
        #expect(onDisk == m.blockHashes.count)
    }

    @Test func rescanRebuildsTheSamePointsAndVerifyCatchesAFlippedByte() throws {
        let tmp = TempDir()
        let repo = try tmp.makeRepository()
        for day in 1...3 {
            let snap = tmp.sub("snaps/2026-11-0\(day)")
            for f in 0..<50 { Tree.write(snap + "/dir/file\(f)", "day \(day <= 2 ? 1 : day) file \(f)") }
        }
        let cfg = SourceConfig(name: "home", snapshots: tmp.sub("snaps"))
        try repo.addSource(cfg)
        let summaries = try Indexer(repository: repo).run(IndexOptions(source: "home"))
        #expect(summaries.count == 3)
        let before = try repo.points()
        let sizesBefore = try repo.catalogSizes()

        for suffix in ["", "-wal", "-shm"] { unlink(repo.root + "/snapdex.db" + suffix) }
        // The database is a cache: opening rebuilds it from the manifests, and says so.
        let reopened = try Repository.open(at: repo.root)
        #expect(try reopened.points() == before)
        #expect(reopened.notes.contains { $0.contains("rebuilt it from them (3 point(s))") })
        let report = try reopened.rescan()
        #expect(report.points == 3)
        #expect(report.skipped.isEmpty)
        #expect(try reopened.points() == before)
        #expect(try reopened.sources().map(\.name) == ["home"])
        let sizesAfter = try reopened.catalogSizes()
        #expect(sizesAfter.mapValues { [$0.own, $0.shared] } == sizesBefore.mapValues { [$0.own, $0.shared] })
        #expect(try reopened.verify().isClean)

        // Flip one byte in one block: verify names it and the points that use it.
        let m = try reopened.manifest(of: before[0])
        let victim = m.chunks[0].parts[0].block.hash
        let path = reopened.blocks.path(of: victim)
        chmod(path, 0o600)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count - 5] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))
        let damaged = try reopened.verify()
        #expect(!damaged.isClean)
        #expect(damaged.damagedBlocks.map(\.hash) == [victim.hex])
        let users = before.filter { (try? reopened.manifest(of: $0).blockHashes.contains(victim)) == true }.map(\.id).sorted()
        #expect(damaged.damagedBlocks[0].points == users)
        #expect(users.count >= 1)
    }

    @Test func aSecondWriterFailsNamingTheHolder() throws {
        let tmp = TempDir()
        let repo = try tmp.makeRepository()
        try repo.withWriterLock {
            let other = try Repository.open(at: repo.root)
            do {
                try other.withWriterLock(wait: 0.2) {}
                Issue.record("second writer got the lock")
            } catch let e as SnapdexError {
                guard case .repositoryLocked(_, let pid) = e else { Issue.record("wrong error \(e)"); return }
                #expect(pid == getpid())
                #expect("\(e)".contains("--wait"))
            }
        }
        try repo.withWriterLock {}  // released
    }

    /// `release` unlocks before it closes. The lock belongs to the open file description, and a
    /// child process started while it is held can share that description (close-on-exec does
    /// not cover a descriptor given to the child on purpose, nor the instant between fork and
    /// exec): closing alone would leave the repository locked until the child exits.
    @Test func releasingTheLockFreesItWhileAChildStillHoldsItsDescriptor() throws {
        let tmp = TempDir()
        let repo = try tmp.makeRepository()
        var child: pid_t = 0
        defer {
            if child > 0 {
                kill(child, SIGKILL)
                var status: Int32 = 0
                waitpid(child, &status, 0)
            }
        }
        let lockPath = try #require(realpath(repo.root + "/lock", nil).map { p in defer { free(p) }; return String(cString: p) })
        try repo.withWriterLock {
            // The lock's descriptor, found as the process sees it.
            let fd = try #require(FileIO.names(in: "/proc/self/fd").compactMap(Int32.init).first { fd in
                var buffer = [CChar](repeating: 0, count: 4096)
                let n = readlink("/proc/self/fd/\(fd)", &buffer, buffer.count - 1)
                return n > 0 && String(cString: buffer) == lockPath
            })
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_adddup2(&actions, fd, 3)
            var argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sleep"), strdup("60"), nil]
            defer { argv.forEach { free($0) } }
            #expect(posix_spawn(&child, "/bin/sleep", &actions, nil, &argv, environ) == 0)
            var buffer = [CChar](repeating: 0, count: 4096)
            #expect(readlink("/proc/\(child)/fd/3", &buffer, buffer.count - 1) > 0 && String(cString: buffer) == lockPath)
        }
        // The child still has the lock file open; the lock itself is free.
        #expect(kill(child, 0) == 0)
        let other = try Repository.open(at: repo.root)
        try other.withWriterLock(wait: 0) {}
    }

    @Test func indexingTheSamePointTwiceIsRefusedUnlessReplace() throws {
        let tmp = TempDir()
        let snap = tmp.sub("snap")
        Tree.write(snap + "/a", "a")
        let repo = try tmp.makeRepository()
        var options = IndexOptions(source: "s", directory: snap)
        options.at = Timestamp(seconds: 10)
        let first = try Indexer(repository: repo).run(options)[0]
        #expect(throws: SnapdexError.self) { try Indexer(repository: repo).run(options) }
        Tree.write(snap + "/b", "b")
        options.replace = true
        let second = try Indexer(repository: repo).run(options)[0]
        #expect(second.replaced == first.id)
        let points = try repo.points()
        #expect(points.map(\.id) == [second.id])
        #expect(try repo.verify().isClean)
        #expect(!FileManager.default.fileExists(atPath: repo.root + "/catalogs/s/\(first.id).manifest"))

        // Replacing with an unchanged tree: the new index shares every block of the old one,
        // and none of them may be freed with it.
        let third = try Indexer(repository: repo).run(options)[0]
        #expect(third.newBlocks == 0 && third.replaced == second.id)
        #expect(try repo.verify().isClean)
        var names: [String] = []
        try repo.list(point: try repo.resolve("s@latest"), path: [], recursive: true) { g in names += g.entries.map { String(decoding: $0.name, as: UTF8.self) } }
        #expect(names == ["a", "b"])
    }

    @Test func excludesAndPointReferences() throws {
        let tmp = TempDir()
        let repo = try tmp.makeRepository()
        for (i, day) in ["2026-11-01", "2026-11-02", "2026-11-03"].enumerated() {
            let snap = tmp.sub("snaps/\(day)")
            Tree.write(snap + "/keep.txt", "k\(i)")
            Tree.write(snap + "/cache/junk.tmp", "j")
            Tree.write(snap + "/x.tmp", "x")
        }
        try repo.addSource(SourceConfig(name: "home", snapshots: tmp.sub("snaps")))
        var options = IndexOptions(source: "home")
        options.walk.excludes = ["*.tmp", "/cache"]
        _ = try Indexer(repository: repo).run(options)
        let latest = try repo.resolve("home@latest")
        var names: [String] = []
        try repo.list(point: latest, path: [], recursive: true) { g in names += g.entries.map { String(decoding: $0.name, as: UTF8.self) } }
        #expect(names == ["keep.txt"])
        let nov2 = try repo.resolve("home@2026-11-02")
        #expect(nov2.pointTime == TimeParser.parse("2026-11-02"))
        #expect(try repo.resolve(String(nov2.id.prefix(6))).id == nov2.id)
        #expect(throws: SnapdexError.self) { try repo.resolve("home@2026-10-01") }
        #expect(throws: SnapdexError.self) { try repo.resolve("nosuch@latest") }
        #expect(throws: SnapdexError.self) { try repo.resolve("zz") }
        // Nothing new to index the second time.
        #expect(try Indexer(repository: repo).run(options).isEmpty)
    }
}
