import Foundation
import Testing
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Copy jobs between real repositories on disk: what lands, what is sent, and when the
/// archive index is trusted.
@Suite struct CopyTests {
    /// A source repository with `count` points of a tree that spans several catalog chunks
    /// (6,000 files), each point changing a few files.
    static func series(_ tmp: TempDir, count: Int, from first: Int = 0, repo existing: Repository? = nil) throws -> Repository {
        let repo = try existing ?? tmp.makeRepository()
        let snap = tmp.sub("snap")
        if existing == nil { Tree.wide(at: snap + "/wide", count: 6_000) }
        for i in first..<(first + count) {
            Tree.write(snap + "/changing/file\(i % 7)", "version \(i)")
            Tree.write(snap + "/wide/f\(i * 37 % 6_000)", "changed in \(i)")
            var options = IndexOptions(source: "home", directory: snap)
            options.at = Timestamp(seconds: 1_700_000_000 + Int64(i) * 86_400)
            options.replace = true
            _ = try Indexer(repository: repo).run(options)
        }
        return repo
    }

    static func distinctBlocks(_ repo: Repository, _ points: [PointRecord]) throws -> (count: Int, bytes: Int64) {
        var seen: [Digest: Int] = [:]
        for p in points { for b in try repo.manifest(of: p).blocks { seen[b.hash] = b.storedSize } }
        return (seen.count, Int64(seen.values.reduce(0, +)))
    }

    @Test func aCopyLandsEveryPointWholeAndSendsEachBlockOnce() throws {
        let tmp = TempDir()
        let repo = try CopyTests.series(tmp, count: 4)
        let points = try repo.points()
        #expect(points.count == 4)
        let report = try repo.copy(CopyOptions(target: tmp.sub("offsite")))
        #expect(report.targetCreated)
        #expect(report.copied.map(\.id) == points.map(\.id))
        let distinct = try CopyTests.distinctBlocks(repo, points)
        #expect(report.blocksSent == distinct.count)
        #expect(report.bytesSent == distinct.bytes)
        let target = try Repository.open(at: tmp.sub("offsite"))
        let copies = try target.points()
        #expect(copies.map(\.id) == points.map(\.id))
        #expect(copies.map(\.time) == points.map(\.time))
        #expect(copies.map(\.snapshot) == points.map(\.snapshot))
        #expect(try target.verify().isClean)
        // The copies read as the originals do, chunk for chunk.
        for (a, b) in zip(points, copies) {
            let here = try repo.reader(for: a).list([], level: .full)?.map(\.name)
            let there = try target.reader(for: b).list([], level: .full)?.map(\.name)
            #expect(here == there)
            let wideHere = try repo.reader(for: a).list(Array("wide".utf8))
            let wideThere = try target.reader(for: b).list(Array("wide".utf8))
            #expect(wideHere?.count == 6_000 && wideHere == wideThere)
        }
        // Nothing new: nothing sent, one listing of the target's catalogs.
        let again = try repo.copy(CopyOptions(target: tmp.sub("offsite")))
        #expect(again.copied.isEmpty && again.present.count == 4)
        #expect(again.blocksSent == 0 && again.bytesSent == 0)
        #expect(again.requests.total <= 2)
    }

    @Test func aLaterCopySendsOnlyTheBlocksOfNewPoints() throws {
        let tmp = TempDir()
        let repo = try CopyTests.series(tmp, count: 3)
        _ = try repo.copy(CopyOptions(target: tmp.sub("offsite")))
        let before = Set(try repo.points().flatMap { try repo.manifest(of: $0).blockHashes })
        _ = try CopyTests.series(tmp, count: 2, from: 3, repo: repo)
        let all = try repo.points()
        let after = Set(try all.flatMap { try repo.manifest(of: $0).blockHashes })
        let report = try repo.copy(CopyOptions(target: tmp.sub("offsite")))
        #expect(report.copied.count == 2 && report.present.count == 3)
        #expect(report.rescanned == nil)
        #expect(report.blocksSent == after.subtracting(before).count)
        // Never asked block by block for what to send; a folder is asked for the blocks the
        // index says it holds (a stat each), which a target restored from a backup lacks. Its
        // catalogs are listed once to see whether anything is new (no lock when nothing is)
        // and once more under its lock.
        #expect(report.requests.head <= report.blocksSkipped && report.requests.list <= 2)
        #expect(try Repository.open(at: tmp.sub("offsite")).verify().isClean)
    }

    @Test func aTargetThatDeletedBlocksIsListedAgain() throws {
        let tmp = TempDir()
        let repo = try CopyTests.series(tmp, count: 3)
        _ = try repo.copy(CopyOptions(target: tmp.sub("offsite")))
        let target = try Repository.open(at: tmp.sub("offsite"))
        let newest = try #require(target.points().last)
        _ = try target.forget([newest])
        #expect(target.generation == 1)
        // The forgotten point comes back, with the blocks the forget deleted.
        let report = try repo.copy(CopyOptions(target: tmp.sub("offsite")))
        #expect(report.rescanned?.contains("generation") == true)
        #expect(report.copied.map(\.id) == [newest.id])
        #expect(report.blocksSent > 0)
        #expect(try Repository.open(at: tmp.sub("offsite")).verify().isClean)
        // gc and expire raise it too; a gc with nothing to delete does not.
        let gen = try #require(target.generation)
        _ = try target.withWriterLock { try target.collectGarbage() }
        #expect(target.generation == gen)
    }

    @Test func aMissingOrDamagedArchiveIndexIsRebuiltNeverTrusted() throws {
        let tmp = TempDir()
        let repo = try CopyTests.series(tmp, count: 2)
        _ = try repo.copy(CopyOptions(target: tmp.sub("offsite")))
        let archive = repo.root + "/archive"
        let file = try #require(FileIO.names(in: archive).first)
        #expect(file.count == 32)
        // Claim a block the target does not have: a flipped byte in a hash.
        var bytes = try FileIO.readAll(archive + "/" + file)
        bytes[ArchiveIndex.headerSize + 5] ^= 0x40
        try FileIO.write(archive + "/" + file, bytes, exclusive: false, durable: false)
        // The target loses a block behind the index's back (no generation change): only
        // --rescan notices that; a damaged index is noticed by itself.
        _ = try CopyTests.series(tmp, count: 1, from: 2, repo: repo)
        let report = try repo.copy(CopyOptions(target: tmp.sub("offsite")))
        #expect(report.rescanned == "the archive index is damaged")
        #expect(try Repository.open(at: tmp.sub("offsite")).verify().isClean)
        FileIO.remove(archive + "/" + file)
        _ = try CopyTests.series(tmp, count: 1, from: 3, repo: repo)
        let second = try repo.copy(CopyOptions(target: tmp.sub("offsite")))
        #expect(second.rescanned == "no archive index for it yet")
        #expect(second.blocksSent > 0)
        // The index written by the listing is the target's block set.
        let target = FolderObjectStore(root: tmp.sub("offsite"))
        let listed = Set(try target.list(prefix: "blocks/").compactMap { Digest(hex: String($0.key.suffix(64))) })
        let index = try #require(ArchiveIndex.decode(FileIO.readAll(archive + "/" + file), target: RepositoryMarks.id(config: try FileIO.readAll(tmp.sub("offsite/config")))))
        #expect(index.blocks == listed)
    }

    @Test func anInterruptedCopyIsFollowedByAListingNotBySendingTwice() throws {
        let tmp = TempDir()
        let repo = try CopyTests.series(tmp, count: 2)
        _ = try repo.copy(CopyOptions(target: tmp.sub("offsite")))
        // Blocks of a point that never got its manifest, as a killed copy leaves them, and
        // the marker it leaves.
        _ = try CopyTests.series(tmp, count: 1, from: 2, repo: repo)
        let newest = try #require(repo.points().last)
        let store = FolderObjectStore(root: tmp.sub("offsite"))
        let sentBefore = try repo.manifest(of: newest).blockHashes.filter { !FileIO.exists(tmp.sub("offsite/") + CopyTarget.blockKey($0)) }
        for h in sentBefore { try store.put(CopyTarget.blockKey(h), try FileIO.readAll(repo.blocks.path(of: h))) }
        let file = ArchiveIndexFile(repository: repo.root, target: RepositoryMarks.id(config: try FileIO.readAll(tmp.sub("offsite/config"))))
        try file.markRunning()
        let report = try repo.copy(CopyOptions(target: tmp.sub("offsite")))
        #expect(report.rescanned == "the last copy to it was interrupted")
        #expect(report.copied.map(\.id) == [newest.id])
        #expect(report.blocksSent == 0)
        #expect(!file.wasInterrupted)
    }

    @Test func copiesKeepKindLabelAndHoldAndTakeTheTargetPolicy() throws {
        let tmp = TempDir()
        let repo = try CopyTests.series(tmp, count: 3)
        _ = try repo.setPolicy(source: "home", policy: RetentionPolicy(keepLast: 3), applyToExisting: true)
        var manual = IndexOptions(source: "home", directory: tmp.sub("snap"))
        manual.at = Timestamp(seconds: 1_600_000_000)
        manual.manual = true
        manual.label = "before upgrade"
        _ = try Indexer(repository: repo).run(manual)
        let oldest = try #require(repo.points().first { $0.pointKind == .scheduled })
        try repo.keep(oldest, until: .never)
        // The first copy makes the target; its policy for home is set there, then more copies land.
        let first = CopyOptions(target: tmp.sub("offsite"))
        var only = first
        only.points = [try #require(repo.points().last)]
        _ = try repo.copy(only)
        let target = try Repository.open(at: tmp.sub("offsite"))
        _ = try target.setPolicy(source: "home", policy: RetentionPolicy(keepLast: 1), applyToExisting: false)
        var expiring = first
        expiring.expire = true
        // Older than the target's newest copy: copied because named.
        expiring.points = try repo.points()
        let report = try repo.copy(expiring)
        #expect(report.copied.count == 3)
        let copies = try Repository.open(at: tmp.sub("offsite")).points()
        let byID = Dictionary(uniqueKeysWithValues: copies.map { ($0.id, $0) })
        // keep-last 1 there: the manual point and the held one stay, as does the first copy
        // (which landed under its origin's keep-last 3); the other copy, not the newest, goes.
        let m = try #require(byID.values.first { $0.label == "before upgrade" })
        #expect(m.pointKind == .manual)
        #expect(byID[oldest.id]?.retainUntil == Timestamp.never.nanoseconds)
        let manifest = try target.manifest(of: try #require(byID[oldest.id]))
        #expect(manifest.policy == [Manifest.PolicySetting(name: "keep-last", value: 1)])
        #expect(manifest.originPolicy?.settings == [Manifest.PolicySetting(name: "keep-last", value: 3)])
        #expect(manifest.copiedFrom?.repository == repo.id)
        #expect(manifest.formatVersion == FormatConstants.catalogVersion)
        #expect(report.expired["home"]?.expired.count == 1)
        #expect(copies.count == 3)
    }

    @Test func aDryRunChangesNothingAndPredictsTheCopy() throws {
        let tmp = TempDir()
        let repo = try CopyTests.series(tmp, count: 2)
        var options = CopyOptions(target: tmp.sub("offsite"))
        options.dryRun = true
        let plan = try repo.copy(options)
        #expect(!FileManager.default.fileExists(atPath: tmp.sub("offsite")))
        #expect(!FileManager.default.fileExists(atPath: repo.root + "/archive"))
        options.dryRun = false
        let done = try repo.copy(options)
        #expect(plan.copied.map(\.id) == done.copied.map(\.id))
        #expect(plan.blocksSent == done.blocksSent && plan.bytesSent == done.bytesSent)
    }

    /// A repository written by Snapdex 0.2 (catalog format 2, a config without an id),
    /// committed under Golden/repo-v2-copy: still read and verified, and copied like any other.
    @Test func aVersion2RepositoryIsReadAndCopied() throws {
        let tmp = TempDir()
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/repo-v2-copy").path
        try FileManager.default.copyItem(atPath: golden, toPath: tmp.sub("old"))
        let old = try Repository.open(at: tmp.sub("old"))
        let p = try #require(old.points().first)
        let m = try old.manifest(of: p)
        #expect(m.formatVersion == 2 && m.copiedFrom == nil && m.originPolicy == nil)
        #expect(try old.verify().isClean)
        #expect(try old.reader(for: p).list(Array("docs".utf8))?.map(\.name) == [Array("a.txt".utf8)])
        // Its id comes from its config's bytes, the same at every open.
        #expect(old.id == Array(Digest.of(try FileIO.readAll(tmp.sub("old/config"))).bytes.prefix(16)))
        let report = try old.copy(CopyOptions(target: tmp.sub("new")))
        #expect(report.copied.map(\.id) == [p.id])
        let copy = try Repository.open(at: tmp.sub("new"))
        let c = try #require(copy.points().first)
        #expect(c.retainUntil == Timestamp.never.nanoseconds)
        #expect(try copy.manifest(of: c).copiedFrom?.repository == old.id)
        #expect(try copy.verify().isClean)
    }

    @Test func aRepositoryIsNotItsOwnTarget() throws {
        let tmp = TempDir()
        let repo = try CopyTests.series(tmp, count: 1)
        #expect(throws: SnapdexError.self) { try repo.copy(CopyOptions(target: repo.root)) }
        #expect(throws: SnapdexError.self) { try repo.copy(CopyOptions(target: "s3://bucket/prefix")) }
    }
}
