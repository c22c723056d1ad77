import Foundation
import Testing
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Readers meeting a point that goes while they read it, and `verify --repair`.
@Suite struct RepairTests {
    @Test func findSkipsAPointForgottenWhileItIsSearched() throws {
        let tmp = TempDir()
        let repo = try DamageTests.repository(tmp, days: ["2026-11-01", "2026-11-02"]) { dir, day in DamageTests.files(30, prefix: day)(dir, day) }
        let points = try repo.points()
        let query = FindQuery(pattern: .glob("*", path: false))

        // Forgotten before the search reaches it.
        var forgotten = false
        var hits: [FindHit] = []
        var skipped = try repo.find(query, in: points) { hit in
            hits.append(hit)
            if !forgotten {
                forgotten = true
                _ = try repo.forget([points[1]])
            }
        }
        #expect(skipped == [points[1].id])
        #expect(Set(hits.map(\.point.id)) == [points[0].id])

        // Forgotten after its first hit: its other blocks are gone when the search asks for them
        // (without the helper thread, which may have read them all before).
        forgotten = false
        skipped = try repo.find(query, in: [points[0]], helper: false) { _ in
            if !forgotten {
                forgotten = true
                _ = try repo.forget([points[0]])
            }
        }
        #expect(skipped == [points[0].id])
    }

    @Test func verifySkipsAPointWhoseBlocksGoWhileItIsVerified() throws {
        let tmp = TempDir()
        let repo = try DamageTests.repository(tmp, days: ["2026-11-01", "2026-11-02"]) { dir, day in DamageTests.files(30, prefix: day)(dir, day) }
        let points = try repo.points()
        var (report, manifests, users) = try repo.verifyManifests([])
        _ = try repo.forget([points[1]])
        try repo.verifyBlocks(&report, manifests, users)
        #expect(report.isClean, "\(report.damagedBlocks.map(\.reason))")
        #expect(report.skipped == [points[1].id])
        #expect(report.pointsChecked == 1)
    }

    /// A catalog written before format 3 stored a time past 2262 clamped; repair re-encoded
    /// the unchanged snapshot with format 3's exact time, whose block has another hash, and so
    /// said "no snapshot holds it" and advised forgetting the point.
    @Test func repairReproducesACatalogOlderThanFormatThreeWithAClampedTime() throws {
        let tmp = TempDir()
        let repo = try tmp.makeRepository()
        let snap = tmp.sub("snap")
        for i in 0..<10 { Tree.write(snap + "/d/f\(i)", "file \(i)") }
        Tree.write(snap + "/d/future", "far")
        var times = [timespec(tv_sec: 10_413_792_000, tv_nsec: 123), timespec(tv_sec: 10_413_792_000, tv_nsec: 123)]  // 2300
        try #require(utimensat(AT_FDCWD, snap + "/d/future", &times, 0) == 0)
        // The point as Snapdex 0.2 wrote it: times clamped, manifest format 2.
        var options = IndexOptions(source: "s", directory: snap)
        options.at = Timestamp(seconds: 1_000)
        options.clampsTimes = true
        _ = try Indexer(repository: repo).run(options)
        let point = try repo.resolve("s@latest")
        let path = repo.manifestPath(source: "s", id: point.id)
        var m = try repo.manifest(of: point)
        m.formatVersion = 2
        try Data(m.encode()).write(to: URL(fileURLWithPath: path))
        _ = try repo.rescan()
        let content = m.chunks[0].parts[1].block.hash
        FileIO.remove(repo.blocks.path(of: content))

        let repairs = try repo.repair(try repo.verify())
        #expect(repairs.map(\.repairedFrom) == [point.id], "\(repairs.map { $0.reason ?? "-" })")
        #expect(try repo.verify().isClean)
        // What was written is the old encoding: the time is the end of the range, a bound.
        let entry = try #require(try repo.reader(for: point).entry(at: Array("d/future".utf8)))
        #expect(entry.mtime.bound == .atOrAfter && entry.mtime.storedNanoseconds == .max)
    }

    @Test func repairWritesDamagedMissingAndPatchBlocksAgainFromTheSnapshot() throws {
        let tmp = TempDir()
        let repo = try tmp.makeRepository()
        let snap = tmp.sub("snap")
        for i in 0..<60 { Tree.write(snap + "/d/f\(i)", "file \(i)") }
        let chunking = ChunkingParameters(minEntries: 16, maxEntries: 32, mask: 0xf)
        func index(_ seconds: Int64) throws {
            let indexer = Indexer(repository: repo)
            indexer.chunking = chunking
            var options = IndexOptions(source: "s", directory: snap)
            options.at = Timestamp(seconds: seconds)
            _ = try indexer.run(options)
        }
        try index(1_000)
        let fd = open(snap + "/d/f5", O_WRONLY | O_APPEND)
        _ = "more".withCString { Glibc.write(fd, $0, 4) }
        close(fd)
        try index(2_000)
        let newest = try repo.resolve("s@latest")
        let m = try repo.manifest(of: newest)
        let patched = try #require(m.chunks.first { $0.parts[1].base != nil })
        let other = try #require(m.chunks.first { $0.parts[1].base == nil && $0.parts[0].block != patched.parts[0].block })

        try DamageTests.flip(repo, patched.parts[1].block.hash) { $0 - 3 }  // a content patch
        FileIO.remove(repo.blocks.path(of: other.parts[0].block.hash))  // a whole names block
        try DamageTests.flip(repo, other.parts[2].block.hash) { $0 - 3 }  // a whole state block
        let report = try repo.verify()
        #expect(report.damagedBlocks.count == 3)
        #expect(report.damagedBlocks.filter(\.unreadable).count == 3)

        let repairs = try repo.repair(report, chunking: chunking)
        #expect(repairs.count == 3)
        #expect(repairs.filter { $0.repairedFrom == newest.id }.count == 3, "\(repairs.map { $0.reason ?? "-" })")
        #expect(try repo.verify().isClean)

        // The base of the patch is the older point's content, which no snapshot holds any more.
        let base = try #require(patched.parts[1].base).hash
        try DamageTests.flip(repo, base) { $0 - 3 }
        let left = try repo.repair(try repo.verify(), chunking: chunking)
        #expect(left.count == 1)
        #expect(left.first?.repairedFrom == nil && left.first?.reason?.hasPrefix("no snapshot holds it") == true)
        #expect(Set(left.first?.points ?? []) == Set(try repo.points().map(\.id)))
    }
}
