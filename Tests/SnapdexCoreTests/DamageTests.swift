import Foundation
import Testing
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Damaged and crafted catalogs: reported as damage (exit 3), never a trap, never carried
/// into new indexes.
@Suite struct DamageTests {
    static let smallChunks = ChunkingParameters(minEntries: 4, maxEntries: 8, mask: 0x3)

    /// A repository with one source `s` indexed from `snaps/DAY` for each day, in small chunks.
    static func repository(_ tmp: TempDir, days: [String], hash: Bool = false,
                           tree: (String, String) -> Void) throws -> Repository {
        let repo = try tmp.makeRepository()
        Tree.mkdir(tmp.sub("snaps"))
        try repo.addSource(SourceConfig(name: "s", snapshots: tmp.sub("snaps")))
        for day in days {
            tree(tmp.sub("snaps/" + day), day)
            let indexer = Indexer(repository: repo)
            indexer.chunking = smallChunks
            var options = IndexOptions(source: "s", directory: tmp.sub("snaps/" + day))
            options.hash = hash
            _ = try indexer.run(options)
        }
        return repo
    }

    static func files(_ n: Int, prefix: String = "f") -> (String, String) -> Void {
        { dir, _ in for i in 0..<n { Tree.write(dir + "/d\(i % 3)/\(prefix)\(i)", "file \(i)") } }
    }

    /// Rewrites a point's manifest (checksum recomputed), as an attacker or a bug could.
    static func craft(_ repo: Repository, _ point: PointRecord, _ change: (inout Manifest) -> Void) throws {
        var m = try repo.manifest(of: point)
        change(&m)
        let path = repo.manifestPath(source: point.source, id: point.id)
        FileIO.remove(path)
        try FileIO.write(path, m.encode(), exclusive: true, durable: false)
    }

    /// Changes one byte of a block file.
    static func flip(_ repo: Repository, _ hash: Digest, at offset: (Int) -> Int) throws {
        let path = repo.blocks.path(of: hash)
        chmod(path, 0o600)
        var bytes = try FileIO.readAll(path)
        bytes[offset(bytes.count)] ^= 0x01
        FileIO.remove(path)
        try FileIO.write(path, bytes, exclusive: true, durable: false)
    }

    static func exitCode(_ body: () throws -> Void) -> Int32? {
        do {
            try body()
            return nil
        } catch let e as SnapdexError {
            return e.exitCode
        } catch {
            return -1
        }
    }

    // MARK: Item 1: no decoder traps

    @Test func aChunkWhoseEntryCountDisagreesWithItsNamesBlockIsDamageForFind() throws {
        let tmp = TempDir()
        let repo = try Self.repository(tmp, days: ["2026-11-01"], tree: Self.files(40))
        let p = try repo.points()[0]
        let m = try repo.manifest(of: p)
        let small = try #require(m.chunks.indices.min { m.chunks[$0].entries < m.chunks[$1].entries })
        let big = try #require(m.chunks.indices.max { m.chunks[$0].entries < m.chunks[$1].entries })
        #expect(m.chunks[small].entries < m.chunks[big].entries)
        // The big chunk's names with the small chunk's content part and count: the content
        // columns are shorter than the names.
        try Self.craft(repo, p) { m in
            m.chunks[big].parts[1] = m.chunks[small].parts[1]
            m.chunks[big].entries = m.chunks[small].entries
        }
        let query = FindQuery(pattern: .glob("*", path: false))
        #expect(Self.exitCode { try repo.find(query, in: [p]) { _ in } } == ExitStatus.damaged)
        #expect(Self.exitCode { try repo.list(point: p, path: [], recursive: true) { _ in } } == ExitStatus.damaged)
        #expect(try !repo.verify().isClean)

        // A count above the names block's, with a content part that agrees.
        try Self.craft(repo, p) { m in m.chunks[small].entries += 1 }
        #expect(Self.exitCode { try repo.find(query, in: [p]) { _ in } } == ExitStatus.damaged)
    }

    @Test func decodersNeverTrapOnMutatedInput() throws {
        var runs: [DirectoryGroup] = []
        for d in 0..<3 {
            var entries: [FileEntry] = []
            for i in 0..<20 {
                var e = FileEntry(name: Array("n\(i)".utf8), type: i % 5 == 0 ? .directory : i % 7 == 0 ? .symlink : .file)
                e.size = UInt64(i * 1000)
                e.mtime = FileTime(nanoseconds: Int64(i) * 1_000_000_007)
                e.ctime = FileTime(nanoseconds: Int64(i) * 1_000_000_007 + 5)
                e.inode = UInt64(100 + i)
                e.nlink = 1
                e.target = e.type == .symlink ? Array("t\(i)".utf8) : []
                if i % 2 == 0 { e.hash = Digest.of(e.name) }
                entries.append(e)
            }
            runs.append(DirectoryGroup(path: Array("dir\(d)".utf8), entries: entries))
        }
        let parts = ChunkCodec.encode(runs)
        var changed = runs
        changed[1].entries[3].size = 7
        let patch = try #require(try ChunkCodec.patch(kind: .content, names: parts[0], content: parts[1], base: parts[1], current: changed))
        var m = Manifest(id: Array(repeating: 1, count: 16), source: "s", pointTime: Timestamp(seconds: 1), indexedAt: Timestamp(seconds: 2),
                         kind: .scheduled, snapshotPath: "/x")
        m.chunks = [ChunkRef(firstDir: Array("dir0".utf8), firstName: Array("n0".utf8), entries: 60,
                             parts: parts.map { PartRef(block: BlockRef(hash: Digest.of($0), rawSize: $0.count, storedSize: 9)) })]
        let manifest = m.encode()
        let block = try Array(FormatConstants.blockMagic) + [1, 0, 1, 0] + [UInt8(parts[0].count & 0xff), UInt8(parts[0].count >> 8), 0, 0]
            + LZMA.compress(parts[0])
        var rng = SplitMix(seed: 8)
        for round in 0..<3000 {
            func mutate(_ bytes: [UInt8], from: Int = 0) -> [UInt8] {
                var b = bytes
                switch rng.next() % 4 {
                case 0: b[from + Int(rng.next() % UInt64(b.count - from))] ^= UInt8(1 << (rng.next() % 8))
                case 1: b[from + Int(rng.next() % UInt64(b.count - from))] = UInt8(truncatingIfNeeded: rng.next())
                case 2: b.removeLast(Int(rng.next() % UInt64(b.count - from)))
                default:
                    let i = from + Int(rng.next() % UInt64(b.count - from))
                    b.replaceSubrange(i..<min(b.count, i + 10), with: repeatElement(0xff, count: 10))
                }
                return b
            }
            let which = round % 4
            let names = which == 0 ? mutate(parts[0]) : parts[0]
            let content = which == 1 ? mutate(parts[1]) : parts[1]
            let state = which == 2 ? mutate(parts[2]) : parts[2]
            let p = which == 3 ? mutate(patch) : patch
            _ = try? ChunkCodec.decode(names: names, content: content, state: state, contentPatch: p)
            _ = try? ChunkCodec.decode(names: names, content: content, state: state, statePatch: p)
            _ = try? ChunkCodec.decodeContent(content, patch: p, count: 60)
            _ = try? ChunkCodec.decodeContent(content, patch: nil, count: Int(rng.next() % 100_000))
            // Past the checksum: a crafted manifest whose checksum is right.
            var body = mutate(Array(manifest.dropLast(32)), from: 12)
            body += Digest.of(body).bytes
            if let decoded = try? Manifest.decode(body, path: "m") {
                _ = decoded.pointTime.rfc3339(fraction: true)
                _ = decoded.retainUntil?.localDisplay()
            }
            _ = try? BlockStore.decode(mutate(block), hash: Digest.of(parts[0]))
        }
        #expect(Timestamp(nanoseconds: .min).seconds < 0)
        #expect(Timestamp(nanoseconds: .min).subsecondNanos >= 0)
    }

    // MARK: Item 2: a point that vanishes mid-read is skipped, not damage

    @Test func verifySkipsAPointForgottenBeforeItsManifestIsRead() throws {
        let tmp = TempDir()
        let repo = try Self.repository(tmp, days: ["2026-11-01", "2026-11-02"]) { dir, day in Self.files(30, prefix: day)(dir, day) }
        let points = try repo.points()
        _ = try repo.forget([points[1]])
        let report = try repo.verify(points: points)  // the caller's list is stale
        #expect(report.isClean, "\(report.damagedManifests) \(report.damagedBlocks.map(\.reason))")
    }

    // MARK: Item 3: damage in a block header is damage

    @Test func aFlippedVersionByteIsDamageNotANewerFormat() throws {
        let tmp = TempDir()
        let repo = try Self.repository(tmp, days: ["2026-11-01"], tree: Self.files(10))
        let p = try repo.points()[0]
        let h = try repo.manifest(of: p).chunks[0].parts[0].block.hash
        for offset in [8, 9, 10, 12, 15] {
            try Self.flip(repo, h) { _ in offset }
            #expect(Self.exitCode { _ = try repo.blocks.read(h) } == ExitStatus.damaged, "byte \(offset)")
            #expect(Self.exitCode { try repo.list(point: p, path: [], recursive: true) { _ in } } == ExitStatus.damaged)
            try Self.flip(repo, h) { _ in offset }
            #expect(throws: Never.self) { try repo.blocks.read(h) }
        }
    }

    // MARK: Item 4: impossible names

    @Test func verifyFlagsImpossibleNamesAndRestoreRefusesRepeatedOnes() throws {
        let tmp = TempDir()
        let repo = try tmp.makeRepository()
        // Real odd names are fine.
        Tree.awkward(at: tmp.sub("snap"))
        _ = try Indexer(repository: repo).run(IndexOptions(source: "ok", directory: tmp.sub("snap")))
        #expect(try repo.verify().isClean)

        func file(_ name: [UInt8]) -> FileEntry { FileEntry(name: name, type: .file, size: 1) }
        let cases: [(String, DirectoryGroup)] = [
            ("empty", DirectoryGroup(path: Array("d".utf8), entries: [file([]), file(Array("a".utf8))])),
            ("dot", DirectoryGroup(path: Array("d".utf8), entries: [file(Array(".".utf8))])),
            ("dotdot", DirectoryGroup(path: Array("d".utf8), entries: [file(Array("..".utf8))])),
            ("slash", DirectoryGroup(path: Array("d".utf8), entries: [file(Array("a/b".utf8))])),
            ("nul", DirectoryGroup(path: Array("d".utf8), entries: [file([0x61, 0, 0x62])])),
            ("twice", DirectoryGroup(path: Array("d".utf8), entries: [file(Array("dup".utf8)), file(Array("dup".utf8))])),
            ("dirpath", DirectoryGroup(path: Array("d/../e".utf8), entries: [file(Array("x".utf8))])),
        ]
        Tree.write(tmp.sub("snap2/d/dup"), "1")
        for (i, (name, group)) in cases.enumerated() {
            repo.blocks.begin(known: [:])
            let writer = CatalogWriter(sink: repo.blocks)
            try writer.add(group)
            try writer.add(DirectoryGroup(path: [], entries: [FileEntry(name: [], type: .directory, permissions: 0o755),
                                                              FileEntry(name: Array("d".utf8), type: .directory, permissions: 0o755)]))
            var m = Manifest(id: Array(repeating: UInt8(i + 1), count: 16), source: name, pointTime: Timestamp(seconds: 1),
                             indexedAt: Timestamp(seconds: 1), kind: .manual, snapshotPath: tmp.sub("snap2"))
            m.chunks = try writer.finish()
            try repo.saveSource(SourceConfig(name: name))
            let bytes = m.encode()
            try FileIO.write(repo.manifestPath(source: name, id: m.idHex), bytes, exclusive: true, durable: true)
            try repo.write { db in try Catalogue.insert(m, manifestBytes: bytes.count, stamp: "", in: db) }
            let p = try repo.resolve(name + "@latest")
            let report = try repo.verify(points: [p])
            #expect(report.damagedBlocks.count == 1, "\(name)")
            #expect(report.damagedBlocks.first?.points == [p.id])
            #expect(report.damagedBlocks.first?.unreadable == false)
        }
        let twice = try repo.verify(points: [try repo.resolve("twice@latest")]).damagedBlocks[0].reason
        #expect(twice.contains("'dup' appears twice in directory '/d'"), "\(twice)")

        // Restore acts on neither entry named twice.
        let target = tmp.sub("target")
        let s = try repo.restore(point: try repo.resolve("twice@latest"), options: RestoreOptions(paths: [[]], target: .directory(target)))
        #expect(s.errors.filter { $0.contains("twice") }.count == 2, "\(s.errors)")
        #expect(!FileManager.default.fileExists(atPath: target + "/d/dup"))
        let one = try repo.restore(point: try repo.resolve("twice@latest"),
                                   options: RestoreOptions(paths: [Array("d/dup".utf8)], target: .directory(target)))
        #expect(one.errors.count == 1 && one.errors[0].contains("twice"), "\(one.errors)")
        #expect(!FileManager.default.fileExists(atPath: target + "/d/dup"))
    }

    @Test func anImpossibleSizeInACatalogIsRefusedByRestoreEvenWithoutVerify() throws {
        let tmp = TempDir()
        let repo = try tmp.makeRepository()
        Tree.write(tmp.sub("snap/big"), "small")
        repo.blocks.begin(known: [:])
        let writer = CatalogWriter(sink: repo.blocks)
        try writer.add(DirectoryGroup(path: [], entries: [FileEntry(name: [], type: .directory, permissions: 0o755),
                                                          FileEntry(name: Array("big".utf8), type: .file, size: .max)]))
        var m = Manifest(id: Array(repeating: 7, count: 16), source: "big", pointTime: Timestamp(seconds: 1),
                         indexedAt: Timestamp(seconds: 1), kind: .manual, snapshotPath: tmp.sub("snap"))
        m.chunks = try writer.finish()
        try repo.saveSource(SourceConfig(name: "big"))
        let bytes = m.encode()
        try FileIO.write(repo.manifestPath(source: "big", id: m.idHex), bytes, exclusive: true, durable: true)
        try repo.write { db in try Catalogue.insert(m, manifestBytes: bytes.count, stamp: "", in: db) }
        let p = try repo.resolve("big@latest")
        var options = RestoreOptions(paths: [Array("big".utf8)], target: .directory(tmp.sub("target")))
        options.verify = false
        let s = try repo.restore(point: p, options: options)
        #expect(s.errors.count == 1 && s.errors[0].contains("impossible size"), "\(s.errors)")
        let fd = open(tmp.sub("out.tar"), O_WRONLY | O_CREAT, 0o600)
        defer { close(fd) }
        options.target = .tar(fd)
        let t = try repo.restore(point: p, options: options)
        #expect(t.errors.count == 1 && t.errors[0].contains("impossible size"), "\(t.errors)")
    }

    // MARK: Item 5: damage is never reused

    @Test func aDamagedBlockIsWrittenAnewByTheNextIndexOfTheSameTree() throws {
        let tmp = TempDir()
        let same: (String, String) -> Void = Self.files(30)
        let repo = try Self.repository(tmp, days: ["2026-11-01", "2026-11-02"], hash: true, tree: same)
        let newest = try repo.resolve("s@latest")
        let victims = try repo.manifest(of: newest).chunks[1].parts.map(\.block.hash)
        try Self.flip(repo, victims[0]) { $0 - 5 }
        try Self.flip(repo, victims[1]) { $0 - 5 }
        FileIO.remove(repo.blocks.path(of: victims[2]))
        #expect(try !repo.verify().isClean)

        // A hashed index whose previous hashed point is damaged still works, and writes the
        // damaged blocks anew instead of reusing them: everything verifies again.
        let indexer = Indexer(repository: repo)
        indexer.chunking = Self.smallChunks
        var options = IndexOptions(source: "s", directory: newest.snapshot)
        options.at = Timestamp(seconds: 1_800_000_000)
        options.hash = true
        let summary = try indexer.run(options)[0]
        #expect(summary.newBlocks == 3, "\(summary.newBlocks) new, \(summary.reusedBlocks) reused")
        #expect(summary.hashedFiles == 30)
        let report = try repo.verify()
        #expect(report.isClean, "\(report.damagedBlocks.map(\.reason))")
        #expect(summary.warnings.isEmpty)
    }

    @Test func replacingAPointRewritesItsDamagedBlock() throws {
        let tmp = TempDir()
        let repo = try Self.repository(tmp, days: ["2026-11-01"], tree: Self.files(30))
        let p = try repo.points()[0]
        let victim = try repo.manifest(of: p).chunks[0].parts[0].block.hash
        try Self.flip(repo, victim) { $0 - 5 }
        let indexer = Indexer(repository: repo)
        indexer.chunking = Self.smallChunks
        var options = IndexOptions(source: "s", directory: p.snapshot)
        options.replace = true
        let summary = try indexer.run(options)[0]
        #expect(summary.newBlocks == 1)
        #expect(try repo.verify().isClean)
    }
}
