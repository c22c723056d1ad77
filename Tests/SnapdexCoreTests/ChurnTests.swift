import Foundation
import Testing
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Points that share under churn: parts stored as deltas of the previous point's parts
/// (docs/FORMAT.md, "Part 4: delta"), on trees spanning many chunks.
@Suite struct ChurnTests {
    /// 60 folders of 100 files (6,060 entries, several chunks), then one file added, one
    /// removed and one rewritten in every fifth folder: every chunk's names part changes.
    static func churnedRepository(_ tmp: TempDir) throws -> (Repository, String) {
        let repo = try tmp.makeRepository()
        let snap = tmp.sub("snap")
        for d in 0..<60 { for f in 0..<100 { Tree.write(snap + "/d\(d)/file\(f).txt", "content \(d) \(f)") } }
        var options = IndexOptions(source: "s", directory: snap)
        options.at = Timestamp(seconds: 1_000)
        _ = try Indexer(repository: repo).run(options)
        for d in stride(from: 0, to: 60, by: 5) {
            Tree.write(snap + "/d\(d)/file\(d)b.txt", "added")
            unlink(snap + "/d\(d)/file\(d + 20).txt")
            unlink(snap + "/d\(d)/file\(d + 30).txt")
            Tree.write(snap + "/d\(d)/file\(d + 30).txt", "rewritten, longer than before")
        }
        options.at = Timestamp(seconds: 2_000)
        _ = try Indexer(repository: repo).run(options)
        return (repo, snap)
    }

    @Test func addsAndRemovesAcrossTheTreeShareTheNamesAndContentOfThePreviousPoint() throws {
        let tmp = TempDir()
        let (repo, snap) = try Self.churnedRepository(tmp)
        let points = try repo.points().sorted { $0.time < $1.time }
        let first = try repo.manifest(of: points[0]), second = try repo.manifest(of: points[1])
        #expect(first.chunks.count >= 2)
        // Every chunk changed; its names and content are deltas of the first point's blocks.
        for (i, kind) in ["names", "content"].enumerated() {
            let deltas = second.chunks.filter { $0.parts[i].delta }.count
            #expect(deltas == second.chunks.count, "\(kind): \(deltas) of \(second.chunks.count) chunks are deltas")
        }
        let firstBytes = first.blocks.reduce(0) { $0 + $1.storedSize }
        let newBytes = Set(second.blocks).subtracting(first.blocks).reduce(0) { $0 + $1.storedSize }
        #expect(newBytes * 4 < firstBytes, "second point wrote \(newBytes) bytes, first \(firstBytes)")
        // And it reads back as the tree is.
        #expect(try IndexerTests.catalogItems(repo, points[1]) == ReferenceWalk.walk(snap))
        #expect(try repo.verify().isClean)
        // Manifests with deltas need a format-3 reader; others keep saying 1.
        #expect(Array(try FileIO.readAll(repo.manifestPath(source: "s", id: points[1].id))[10..<12]) == [3, 0])
        #expect(Array(try FileIO.readAll(repo.manifestPath(source: "s", id: points[0].id))[10..<12]) == [1, 0])
    }

    @Test func aDamagedBaseIsDamageOfEveryPointThatNeedsIt() throws {
        let tmp = TempDir()
        let (repo, _) = try Self.churnedRepository(tmp)
        let points = try repo.points()
        let second = try repo.manifest(of: try repo.resolve("s@latest"))
        let base = try #require(second.chunks.first { $0.parts[0].delta }?.parts[0].base).hash
        try DamageTests.flip(repo, base) { $0 - 3 }
        let report = try repo.verify()
        let damaged = try #require(report.damagedBlocks.first { $0.hash == base.hex })
        #expect(Set(damaged.points) == Set(points.map(\.id)))
        #expect(DamageTests.exitCode { _ = try IndexerTests.catalogItems(repo, try repo.resolve("s@latest")) } == 3)
    }

    @Test func forgettingThePointThatWroteABaseKeepsTheDeltasReadable() throws {
        let tmp = TempDir()
        let (repo, snap) = try Self.churnedRepository(tmp)
        let points = try repo.points().sorted { $0.time < $1.time }
        _ = try repo.forget([points[0]])
        #expect(try repo.verify().isClean)
        #expect(try IndexerTests.catalogItems(repo, points[1]) == ReferenceWalk.walk(snap))
    }

    /// Files with scattered nanosecond mtimes, 1% of them given new ones: each chunk's content
    /// delta is mostly new mtimes, which LZMA barely shrinks. Such deltas are stored as xz
    /// *uncompressed* chunks (any xz reader reads them), so `find`, which reads a point's
    /// content delta for every chunk with a hit, does not spend ~40 ns a byte decoding them.
    @Test func contentDeltasThatBarelyCompressAreStored() throws {
        let tmp = TempDir()
        let repo = try tmp.makeRepository()
        let snap = tmp.sub("snap")
        var rng = SplitMix(seed: 31)
        func touch(_ path: String) {
            let t = timespec(tv_sec: 1_500_000_000 + Int(rng.next() % 200_000_000), tv_nsec: Int(rng.next() % 1_000_000_000))
            var times = [t, t]
            #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        }
        for d in 0..<60 {
            for f in 0..<100 {
                Tree.write(snap + "/d\(d)/file\(f).txt", String(repeating: "x", count: Int(rng.next() % 3_000)))
                touch(snap + "/d\(d)/file\(f).txt")
            }
        }
        var options = IndexOptions(source: "s", directory: snap)
        options.at = Timestamp(seconds: 1_000)
        _ = try Indexer(repository: repo).run(options)
        for d in 0..<60 { touch(snap + "/d\(d)/file\(d).txt") }
        options.at = Timestamp(seconds: 2_000)
        _ = try Indexer(repository: repo).run(options)
        let latest = try repo.resolve("s@latest")
        let second = try repo.manifest(of: latest)
        let deltas = second.chunks.map(\.parts[1]).filter(\.delta)
        #expect(second.chunks.count >= 2 && deltas.count == second.chunks.count)
        for part in deltas {
            let file = try FileIO.readAll(repo.blocks.path(of: part.block.hash))
            // 16 bytes of header, then the part as it is in an xz stream of stored chunks.
            #expect(Array(file[16...]) == (try LZMA.store(try repo.blocks.read(part.block.hash))))
        }
        // The names and the first point's whole parts stay compressed, and so do state deltas
        // (ctimes: `find` never reads them).
        let names = second.chunks[0].parts[0].root
        #expect(try FileIO.readAll(repo.blocks.path(of: names.hash)).count * 2 < names.rawSize)
        for part in second.chunks.map(\.parts[2]) where part.delta {
            let file = try FileIO.readAll(repo.blocks.path(of: part.block.hash))
            #expect(Array(file[16...]) != (try LZMA.store(try repo.blocks.read(part.block.hash))))
        }
        // Read back: the second point's entries, and a search of both, as the tree is.
        #expect(try IndexerTests.catalogItems(repo, latest) == ReferenceWalk.walk(snap))
        var hits: [FindHit] = []
        try repo.find(FindQuery(pattern: .glob("file7.txt", path: false)), in: try repo.points()) { hits.append($0) }
        #expect(hits.count == 120)
        var st = stat()
        for hit in hits where hit.point.id == latest.id {
            #expect(stat(snap + "/" + PathString.string(hit.path), &st) == 0)
            #expect(hit.entry.size == UInt64(st.st_size))
            #expect(hit.entry.mtime == FileTime(nanoseconds: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)))
        }
        #expect(try repo.verify().isClean)
    }

    @Test func onlyDeltasThatBarelyCompressAreStoredWhole() throws {
        var rng = SplitMix(seed: 3)
        let random = (0..<4_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let delta = [PartKind.delta.rawValue] + random
        #expect(IncompressibleColumns.storesWhole(delta, compressedSize: delta.count * 9 / 10))
        #expect(!IncompressibleColumns.storesWhole(delta, compressedSize: delta.count / 2))
        // Whole parts are shared by many points and read once a search: kept compressed.
        #expect(!IncompressibleColumns.storesWhole([PartKind.content.rawValue] + random, compressedSize: 4_000))
        #expect(!IncompressibleColumns.storesWhole([], compressedSize: 0))
    }

    @Test func deltasRebuildTheirTargetAndStayUnderAQuarter() throws {
        var rng = SplitMix(seed: 12)
        var base: [UInt8] = []
        for _ in 0..<40_000 { base.append(UInt8(truncatingIfNeeded: rng.next() % 40)) }
        var target = base
        for _ in 0..<100 {
            let at = Int(rng.next() % UInt64(target.count - 20))
            switch rng.next() % 3 {
            case 0: target.insert(contentsOf: (0..<7).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
            case 1: target.removeSubrange(at..<(at + 5))
            default: target[at] &+= 1
            }
        }
        let delta = try #require(PartDelta.make(base: base, target: target, entries: 9))
        #expect(delta.count * 20 < target.count, "\(delta.count) bytes for \(target.count)")
        #expect(try PartDelta.apply(delta, base: base, entries: 9) == target)
        #expect(PartDelta.make(base: [], target: [1, 2, 3, 4, 5, 6, 7, 8], entries: 0) == nil)
        // Unrelated bytes: stored whole instead.
        #expect(PartDelta.make(base: base, target: (0..<40_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, entries: 9) == nil)
    }

    /// A names part whose columns repeat one value (types, modes, owners): an entry removed or
    /// added shifts the rest of each column by a byte or two, and the delta picks the copy up
    /// again near where it was, instead of at the first place in the base that holds the same
    /// eight bytes (4,751 bytes of instructions before, for these ten entries).
    @Test func aDeltaResumesItsCopyNearWhereEntriesWereAddedOrRemoved() throws {
        func names(_ skip: Set<Int>, _ extra: Set<Int>) -> [UInt8] {
            var rng = SplitMix(seed: 5)
            var entries: [FileEntry] = []
            for i in 0..<5_000 {
                let name = Array(String(format: "file-%05d.txt", i).utf8)
                let r = rng.next()
                if !skip.contains(i) {
                    entries.append(FileEntry(name: name, type: r % 8 == 0 ? .directory : .file,
                                             permissions: [0o644, 0o755, 0o600, 0o644][Int(r >> 8 % 4)], uid: 1000, gid: 1000))
                }
                if extra.contains(i) { entries.append(FileEntry(name: name + Array("-new".utf8), type: .file, uid: 1000, gid: 1000)) }
            }
            return ChunkCodec.encode([DirectoryGroup(path: Array("home/user".utf8), entries: entries)])[0]
        }
        let base = names([], [])
        let target = names([150, 1_210, 2_480, 3_333, 4_900], [600, 1_800, 2_222, 3_900, 4_444])
        let delta = try #require(PartDelta.make(base: base, target: target, entries: 5_000))
        #expect(try PartDelta.apply(delta, base: base, entries: 5_000) == target)
        let (_, columns) = try ChunkCodec.columns(delta, kind: .delta, expected: 5_000)
        // Ten entries changed in six columns each: about 60 instructions of 3 or 4 bytes.
        #expect(columns[0].remaining < 300, "\(columns[0].remaining) bytes of instructions")
    }

    @Test func aDamagedDeltaIsDamageNeverATrap() throws {
        var rng = SplitMix(seed: 13)
        let base = (0..<5_000).map { UInt8(truncatingIfNeeded: $0 * 7 % 251) }
        var target = base
        target.insert(contentsOf: [9, 9, 9], at: 1_000)
        target.removeSubrange(3_000..<3_010)
        let delta = try #require(PartDelta.make(base: base, target: target, entries: 3))
        for _ in 0..<3_000 {
            var d = delta
            switch rng.next() % 3 {
            case 0: d[Int(rng.next() % UInt64(d.count))] ^= UInt8(1 << (rng.next() % 8))
            case 1: d.removeLast(Int(rng.next() % UInt64(d.count)))
            default: d[Int(rng.next() % UInt64(d.count))] = 0xff
            }
            // Either damage, or bytes that the caller's hash check then refuses.
            if let out = try? PartDelta.apply(d, base: base, entries: 3), d != delta { _ = out }
        }
        #expect(throws: ChunkCodec.Damaged.self) { try PartDelta.apply(delta, base: Array(base.prefix(100)), entries: 3) }
    }
}
