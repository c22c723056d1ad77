import Foundation
import GRDB
import Testing
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// The database keeps each point's own and shared catalog bytes and each block's reference
/// count up to date through every kind of change, so `points` needs no join: after each change
/// they must equal what the manifests on disk say, and what a rebuild from them computes.
struct DatabaseScaleTests {
    /// Own and shared bytes per point, and reference counts per block, from the manifests alone.
    static func expected(_ repo: Repository) throws -> (sizes: [String: [Int64]], refs: [Digest: Int64]) {
        var blocksOf: [String: [Digest: Int64]] = [:]
        var refs: [Digest: Int64] = [:]
        for p in try repo.points() {
            var mine: [Digest: Int64] = [:]
            for b in try repo.manifest(of: p).blocks where mine[b.hash] == nil { mine[b.hash] = Int64(b.storedSize) }
            for h in mine.keys { refs[h, default: 0] += 1 }
            blocksOf[p.id] = mine
        }
        var sizes: [String: [Int64]] = [:]
        for (id, mine) in blocksOf {
            let own = mine.filter { refs[$0.key] == 1 }.values.reduce(0, +)
            sizes[id] = [own, mine.values.reduce(0, +) - own]
        }
        return (sizes, refs)
    }

    /// Checks the database against the manifests: sizes, counts, and that a block referenced
    /// once names its one point by its sum.
    static func check(_ repo: Repository, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let want = try expected(repo)
        let sizes = try repo.catalogSizes().mapValues { [$0.own, $0.shared] }
        #expect(sizes == want.sizes, "\(what): sizes", sourceLocation: sourceLocation)
        let rows = try repo.read { db in try Row.fetchAll(db, sql: "SELECT hash, refs, pointSum FROM block") }
        var refs: [Digest: Int64] = [:]
        for r in rows { refs[Digest(bytes: [UInt8](r["hash"] as Data))!] = r["refs"] }
        #expect(refs == want.refs, "\(what): reference counts", sourceLocation: sourceLocation)
        let owners = try repo.read { db in
            try Row.fetchAll(db, sql: """
                SELECT b.hash AS hash, p.point AS point FROM block b JOIN pointBlocks p ON p.n = b.pointSum WHERE b.refs = 1
                """)
        }
        #expect(owners.count == want.refs.values.filter { $0 == 1 }.count, "\(what): owners", sourceLocation: sourceLocation)
        for o in owners {
            let id: String = o["point"]
            let m = try repo.manifest(of: try #require(try repo.point(id: id)))
            #expect(m.blockHashes.contains(Digest(bytes: [UInt8](o["hash"] as Data))!), "\(what): owner", sourceLocation: sourceLocation)
        }
    }

    /// A snapshot of `entries` files in nested folders, `changed` of them written with `tag`.
    static func snapshot(_ path: String, entries: Int, changed: Range<Int>, tag: String) {
        for i in 0..<entries {
            let text = changed.contains(i) ? "\(tag) \(i)" : "file \(i)"
            Tree.write(path + "/d\(i / 50)/f\(i)", text)
        }
    }

    @Test func ownAndSharedBytesFollowEveryChangeAndEqualARebuild() throws {
        let tmp = TempDir()
        let repo = try tmp.makeRepository()
        // Chunks of about 32 entries: each point shares some blocks and owns others.
        for (day, changed) in [(1, 0..<0), (2, 0..<3), (3, 500..<510), (4, 0..<3), (5, 200..<240)] {
            Self.snapshot(tmp.sub("snaps/2026-11-0\(day)"), entries: 600, changed: changed, tag: "day \(day)")
        }
        try repo.addSource(SourceConfig(name: "home", snapshots: tmp.sub("snaps")))
        Tree.write(tmp.sub("other/2026-11-01/f"), "other")
        try repo.addSource(SourceConfig(name: "other", snapshots: tmp.sub("other")))
        let indexer = Indexer(repository: repo)
        indexer.chunking = ChunkingParameters(minEntries: 16, maxEntries: 64, mask: 0xf)
        #expect(try indexer.run(IndexOptions(source: "home")).count == 5)
        #expect(try indexer.run(IndexOptions(source: "other")).count == 1)
        try Self.check(repo, "indexed")
        #expect(try repo.catalogSizes().values.contains { $0.own > 0 && $0.shared > 0 })

        // Index again, replacing a point.
        Self.snapshot(tmp.sub("snaps/2026-11-03"), entries: 600, changed: 100..<120, tag: "again")
        var replace = IndexOptions(source: "home", directory: tmp.sub("snaps/2026-11-03"))
        replace.replace = true
        #expect(try indexer.run(replace).count == 1)
        try Self.check(repo, "replaced")

        // Forget, rewrite every manifest, expire.
        let points = try repo.points(source: "home")
        _ = try repo.forget([points[1]])
        try Self.check(repo, "forgotten")
        #expect(try repo.setPolicy(source: "home", policy: RetentionPolicy(text: "keep-last=2"), applyToExisting: true) == 4)
        try Self.check(repo, "rewritten")
        _ = try repo.expire(source: "home", now: .now, dryRun: false)
        #expect(try repo.points(source: "home").count == 2)
        try Self.check(repo, "expired")

        // Behind the database's back: a manifest copied in, another removed; then reopened.
        let kept = try repo.points(source: "home")
        let copy = try repo.manifest(of: kept[0])
        var twin = copy
        twin.id = Array(repeating: 7, count: 16)
        twin.pointTime = Timestamp(nanoseconds: copy.pointTime.nanoseconds + 1)
        try FileIO.write(repo.manifestPath(source: "home", id: twin.idHex), twin.encode(), exclusive: true, durable: false)
        unlink(repo.manifestPath(source: "home", id: kept[1].id))
        let reopened = try Repository.open(at: repo.root)
        // A manifest removed behind Snapdex's back is damage: the point stays, marked, until
        // it is forgotten (or its manifest put back).
        let missing = try reopened.pointsWithMissingManifest()
        #expect(missing.map(\.id) == [kept[1].id])
        _ = try reopened.forget(missing)
        try Self.check(reopened, "reconciled")

        // A source removed with its points, then a rebuild that must agree with all of it.
        #expect(try reopened.removeSource("other", purge: true) == 1)
        try Self.check(reopened, "source removed")
        let before = try reopened.catalogSizes().mapValues { [$0.own, $0.shared] }
        let listed = try reopened.points()
        _ = try reopened.rescan()
        #expect(try reopened.catalogSizes().mapValues { [$0.own, $0.shared] } == before)
        #expect(try reopened.points() == listed)
        try Self.check(reopened, "rebuilt")
        #expect(try reopened.verify().isClean)
    }

    /// A database left by Snapdex 0.2 (schema up to "v4-unreadable", one row per point-block
    /// reference) is emptied by "v5-scale" and refilled from the catalog files on open.
    @Test func aVersion4DatabaseIsRebuiltInTheNewSchema() throws {
        let tmp = TempDir()
        let repo = try tmp.makeRepository()
        Self.snapshot(tmp.sub("snaps/2026-11-01"), entries: 50, changed: 0..<0, tag: "")
        Self.snapshot(tmp.sub("snaps/2026-11-02"), entries: 50, changed: 0..<5, tag: "two")
        try repo.addSource(SourceConfig(name: "home", snapshots: tmp.sub("snaps")))
        #expect(try Indexer(repository: repo).run(IndexOptions(source: "home")).count == 2)
        let points = try repo.points()
        let sizes = try repo.catalogSizes().mapValues { [$0.own, $0.shared] }

        let path = repo.root + "/snapdex.db"
        for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
        let old = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(old, upTo: "v4-unreadable")
        try old.write { db in
            try db.execute(sql: "INSERT INTO source (name, timeFrom) VALUES ('home', 'auto')")
            try db.execute(sql: """
                INSERT INTO point (id, source, time, indexedAt, kind, snapshot, entries, files, directories, bytes, hashed, manifestBytes, stamp)
                VALUES ('\(points[0].id)', 'home', 0, 0, 'scheduled', '/', 0, 0, 0, 0, 0, 0, 'stale')
                """)
            try db.execute(sql: "INSERT INTO block (hash, rawSize, storedSize) VALUES (x'00', 1, 1)")
            try db.execute(sql: "INSERT INTO pointBlock (point, hash) VALUES ('\(points[0].id)', x'00')")
        }
        try old.close()

        let reopened = try Repository.open(at: repo.root)
        #expect(reopened.notes.contains { $0.contains("rebuilt it from them (2 point(s))") }, "\(reopened.notes)")
        #expect(try reopened.points() == points)
        #expect(try reopened.catalogSizes().mapValues { [$0.own, $0.shared] } == sizes)
        try Self.check(reopened, "migrated")
        let tables = try reopened.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'pointBlock'") }
        #expect(tables.isEmpty)
    }

    @Test func blockNumbersRoundTripAndDamageIsRefused() {
        for numbers: [Int64] in [[], [1], [1, 2, 3], [5, 300, 70_000, 1 << 40, Int64.max]] {
            #expect(BlockNumbers.decode(BlockNumbers.encode(numbers)) == numbers)
        }
        #expect(BlockNumbers.decode([0x80]) == nil)
        #expect(BlockNumbers.decode([UInt8](repeating: 0xff, count: 11)) == nil)
        #expect(BlockNumbers.decode([0x7f] + [UInt8](repeating: 0xff, count: 8) + [0x7f]) == nil)
    }
}
