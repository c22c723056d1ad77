import Foundation
import Testing
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Level-2 deltas (catalog format 4, docs/FORMAT.md "Levels"): a point's part stored as a
/// delta of the part a recent point's level-1 delta rebuilds, on trees spanning many chunks.
@Suite struct DeltaLevelTests {
    /// Four points of a 6,060-entry tree, each in its own snapshot folder: the second changes
    /// 12 of its 60 folders (a file added, one removed, one rewritten in each), the third and
    /// fourth one folder each (and add one file more there). So the second point's parts are level-1 deltas of the first's,
    /// and the third's and fourth's level-2 deltas over the second's.
    /// File names differ from folder to folder (with the same names in every folder, a delta
    /// may copy from a wrong folder and pay a jump at every difference after it).
    static func chain(_ tmp: TempDir) throws -> (Repository, [PointRecord], [String]) {
        let repo = try tmp.makeRepository()
        var snaps = [tmp.sub("snap0")]
        func file(_ d: Int, _ f: Int) -> String { "/d\(d)/file\((f * 7_919 + d * 104_729) % 1_000_003).txt" }
        for d in 0..<60 { for f in 0..<100 { Tree.write(snaps[0] + file(d, f), "content \(d) \(f)") } }
        func index(_ day: Int) throws {
            var options = IndexOptions(source: "s", directory: snaps[day])
            options.at = Timestamp(seconds: 1_000 + Int64(day) * 86_400)
            _ = try Indexer(repository: repo).run(options)
        }
        try index(0)
        for (day, folders) in [(1, Array(stride(from: 0, to: 60, by: 5))), (2, [31]), (3, [47])] {
            snaps.append(tmp.sub("snap\(day)"))
            try FileManager.default.copyItem(atPath: snaps[day - 1], toPath: snaps[day])
            for d in folders {
                Tree.write(snaps[day] + "/d\(d)/file\(d)-\(day).txt", "added on day \(day)")
                unlink(snaps[day] + file(d, (d + 20 + day) % 100))
                unlink(snaps[day] + file(d, (d + 40 + day) % 100))
                Tree.write(snaps[day] + file(d, (d + 40 + day) % 100), "rewritten on day \(day), longer than before")
                // Later days add a file more than they remove: the chunk's entry count is no
                // longer the one the level-1 delta was written with.
                if day >= 2 { Tree.write(snaps[day] + "/d\(d)/more-\(day).txt", "one more") }
            }
            try index(day)
        }
        return (repo, try repo.points().sorted { $0.time < $1.time }, snaps)
    }

    @Test func laterPointsAreLevelTwoDeltasOverTheLevelOneOfARecentPoint() throws {
        let tmp = TempDir()
        let (repo, points, snaps) = try Self.chain(tmp)
        let m = try points.map { try repo.manifest(of: $0) }
        #expect(m[0].chunks.count >= 2)
        #expect(m[1].chunks.allSatisfy { $0.parts[0].form == 2 })
        for later in [m[2], m[3]] {
            // Every names part that changed since the second point builds on that point's
            // level-1 delta of its chunk (the others are the second point's parts).
            for (c, chunk) in later.chunks.enumerated() {
                let part = chunk.parts[0]
                if part == m[1].chunks[c].parts[0] { continue }
                #expect(part.form == 3, "chunk \(c) names form \(part.form)")
                #expect(part.level1 == m[1].chunks[c].parts[0].block && part.intermediate == m[1].chunks[c].parts[0].whole)
                #expect(part.base == m[0].chunks[c].parts[0].block)
            }
            #expect(later.chunks.contains { $0.parts[0].form == 3 })
            #expect(later.chunks.flatMap(\.parts).allSatisfy { $0.blocks.count <= 3 })
        }
        // Each point reads as its snapshot is.
        for (p, snap) in zip(points, snaps) { #expect(try IndexerTests.catalogItems(repo, p) == ReferenceWalk.walk(snap)) }
        #expect(try repo.verify().isClean)
        // A manifest with a level-2 delta needs a format-4 reader; one with deltas only, 3.
        let oldest = try points.map { Array(try FileIO.readAll(repo.manifestPath(source: "s", id: $0.id))[8..<12]) }
        #expect(oldest == [[4, 0, 1, 0], [4, 0, 3, 0], [4, 0, 4, 0], [4, 0, 4, 0]])
        // The fourth point's new bytes are a small part of the first's.
        let firstBytes = m[0].blocks.reduce(0) { $0 + $1.storedSize }
        let newBytes = Set(m[3].blocks.map(\.hash)).subtracting(m[0...2].flatMap { $0.blocks.map(\.hash) }).count
        #expect(newBytes <= m[3].chunks.count * 3 && firstBytes > 0)
    }

    @Test func aDamagedLevelOneIsDamageOfEveryPointThatNeedsItAndRepairRewritesIt() throws {
        let tmp = TempDir()
        let (repo, points, snaps) = try Self.chain(tmp)
        let fourth = try repo.manifest(of: points[3])
        let level1 = try #require(fourth.chunks.first { $0.parts[0].form == 3 }?.parts[0].level1).hash
        try DamageTests.flip(repo, level1) { $0 - 3 }
        let report = try repo.verify()
        let damaged = try #require(report.damagedBlocks.first { $0.hash == level1.hex })
        #expect(Set(damaged.points) == Set(points[1...].map(\.id)))
        #expect(DamageTests.exitCode { _ = try IndexerTests.catalogItems(repo, points[3]) } == 3)
        // Only the second point's snapshot gives it back: the later points' parts build on it.
        let repairs = try repo.repair(report)
        #expect(repairs.first { $0.hash == level1.hex }?.repairedFrom == points[1].id, "\(repairs)")
        #expect(try repo.verify().isClean)
        #expect(try IndexerTests.catalogItems(repo, points[3]) == ReferenceWalk.walk(snaps[3]))
    }

    @Test func aDamagedLevelTwoIsRepairedFromASnapshotOfAPointThatUsesIt() throws {
        let tmp = TempDir()
        let (repo, points, snaps) = try Self.chain(tmp)
        let third = try repo.manifest(of: points[2])
        let level2 = try #require(third.chunks.flatMap(\.parts).first { $0.form == 3 }?.block).hash
        let users = try points.filter { try repo.manifest(of: $0).blockHashes.contains(level2) }.map(\.id)
        try DamageTests.flip(repo, level2) { $0 - 3 }
        let report = try repo.verify()
        #expect(report.damagedBlocks.first { $0.hash == level2.hex }?.points.sorted() == users.sorted())
        let repairs = try repo.repair(report)
        #expect(users.contains(repairs.first { $0.hash == level2.hex }?.repairedFrom ?? "none"), "\(repairs)")
        #expect(try repo.verify().isClean)
        #expect(try IndexerTests.catalogItems(repo, points[2]) == ReferenceWalk.walk(snaps[2]))
    }

    @Test func forgettingThePointsThatWroteTheBaseAndLevelOneKeepsLaterPointsReadable() throws {
        let tmp = TempDir()
        let (repo, points, snaps) = try Self.chain(tmp)
        _ = try repo.forget([points[1]])
        #expect(try repo.verify().isClean)
        _ = try repo.forget([points[0]])
        #expect(try repo.verify().isClean)
        for i in [2, 3] { #expect(try IndexerTests.catalogItems(repo, points[i]) == ReferenceWalk.walk(snaps[i])) }
        // A new point still builds on what is left.
        var options = IndexOptions(source: "s", directory: snaps[3])
        options.at = Timestamp(seconds: 1_000 + 4 * 86_400)
        _ = try Indexer(repository: repo).run(options)
        #expect(try repo.verify().isClean)
        #expect(try IndexerTests.catalogItems(repo, try repo.resolve("s@latest")) == ReferenceWalk.walk(snaps[3]))
    }

    @Test func aCopySendsTheBlocksALevelTwoPointNeeds() throws {
        let tmp = TempDir()
        let (repo, points, snaps) = try Self.chain(tmp)
        // Only the last point: its base and level-1 delta go with it.
        var options = CopyOptions(target: tmp.sub("offsite"))
        options.points = [points[3]]
        let report = try repo.copy(options)
        #expect(report.copied.map(\.id) == [points[3].id])
        let target = try Repository.open(at: tmp.sub("offsite"))
        #expect(try target.verify().isClean)
        let copy = try #require(try target.points().first)
        #expect(try IndexerTests.catalogItems(target, copy) == ReferenceWalk.walk(snaps[3]))
    }
}
