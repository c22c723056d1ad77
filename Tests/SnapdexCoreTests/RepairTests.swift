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

        // Forgotten after its first hit: its other blocks are gone when the search asks for them.
        forgotten = false
        skipped = try repo.find(query, in: [points[0]]) { _ in
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
        #expect(left.first?.repairedFrom == nil && left.first?.reason == "no snapshot holds it")
        #expect(Set(left.first?.points ?? []) == Set(try repo.points().map(\.id)))
    }
}
