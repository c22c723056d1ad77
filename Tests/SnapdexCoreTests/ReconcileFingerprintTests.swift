import Foundation
import GRDB
import Testing
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Opening a repository compares a fingerprint of the manifests on disk (source, id, and each
/// file's inode, size and mtime) with one of the database's point rows, and reads nothing
/// more when they agree. Every change behind the database's back must still be noticed.
struct ReconcileFingerprintTests {
    /// A repository of three points, and the time of each by id as the files say.
    static func repository(_ tmp: TempDir) throws -> Repository {
        let repo = try tmp.makeRepository()
        for day in 1...3 {
            DatabaseScaleTests.snapshot(tmp.sub("snaps/2026-11-0\(day)"), entries: 60, changed: 0..<day, tag: "day \(day)")
        }
        try repo.addSource(SourceConfig(name: "home", snapshots: tmp.sub("snaps")))
        #expect(try Indexer(repository: repo).run(IndexOptions(source: "home")).count == 3)
        return repo
    }

    /// The points a fresh open lists, as (id, time).
    static func listed(_ root: String) throws -> [String: Int64] {
        Dictionary(uniqueKeysWithValues: try Repository.open(at: root).points().map { ($0.id, $0.time) })
    }

    @Test func anUnchangedRepositoryIsNotReconciled() throws {
        let tmp = TempDir()
        let repo = try Self.repository(tmp)
        let files = CatalogFingerprint(catalogs: repo.catalogsDirectory)
        #expect(files.count == 3 && files.sources == ["home"])
        #expect(try repo.read { db in try CatalogFingerprint(db) } == files)
        #expect(try Repository.open(at: repo.root).reconciledAtOpen == ReconcileReport())
    }

    @Test func aManifestAddedRemovedRenamedOverOrRewrittenInPlaceIsNoticed() throws {
        let tmp = TempDir()
        let repo = try Self.repository(tmp)
        let points = try repo.points()
        let dir = repo.catalogsDirectory + "/home/"

        // Added: a copy of a manifest as another point.
        var twin = try repo.manifest(of: points[0])
        twin.id = Array(repeating: 7, count: 16)
        twin.pointTime = Timestamp(nanoseconds: twin.pointTime.nanoseconds + 1)
        try FileIO.write(dir + twin.idHex + ".manifest", twin.encode(), exclusive: true, durable: false)
        #expect(try Self.listed(repo.root)[twin.idHex] == twin.pointTime.nanoseconds)

        // Removed behind Snapdex's back: damage, so the point stays, marked missing, until it
        // is forgotten.
        unlink(dir + points[1].id + ".manifest")
        #expect(try Self.listed(repo.root)[points[1].id] != nil)
        #expect(try Repository.open(at: repo.root).pointsWithMissingManifest().map(\.id) == [points[1].id])
        _ = try Repository.open(at: repo.root).forget([points[1]])
        #expect(try Self.listed(repo.root)[points[1].id] == nil)

        // Renamed over: the same point with another time.
        var moved = try repo.manifest(of: points[2])
        moved.pointTime = Timestamp(nanoseconds: moved.pointTime.nanoseconds + 5)
        try FileIO.writeAtomically(dir + points[2].id + ".manifest", moved.encode(), durable: false)
        #expect(try Self.listed(repo.root)[points[2].id] == moved.pointTime.nanoseconds)

        // Rewritten in place, same size and inode: only the mtime tells (set apart from the
        // old one, which a coarse clock could otherwise repeat).
        let path = dir + points[0].id + ".manifest"
        var st = stat()
        #expect(lstat(path, &st) == 0)
        var changed = try repo.manifest(of: points[0])
        changed.pointTime = Timestamp(nanoseconds: changed.pointTime.nanoseconds + 3)
        let bytes = changed.encode()
        #expect(bytes.count == Int(st.st_size))
        chmod(path, 0o600)
        let fd = open(path, O_WRONLY)
        #expect(fd >= 0 && pwrite(fd, bytes, bytes.count, 0) == bytes.count)
        var times = [st.st_atim, timespec(tv_sec: st.st_mtim.tv_sec - 10, tv_nsec: st.st_mtim.tv_nsec)]
        #expect(futimens(fd, &times) == 0)
        close(fd)
        var after = stat()
        #expect(lstat(path, &after) == 0 && after.st_ino == st.st_ino && after.st_size == st.st_size)
        #expect(try Self.listed(repo.root)[points[0].id] == changed.pointTime.nanoseconds)
        #expect(try Self.listed(repo.root).count == 3)
    }

    /// The files are the truth: rows the database lost or gained behind Snapdex's back are
    /// put right too.
    @Test func aDatabaseThatLostOrGainedARowIsPutRight() throws {
        let tmp = TempDir()
        let repo = try Self.repository(tmp)
        let points = try repo.points()
        try repo.write { db in try db.execute(sql: "DELETE FROM point WHERE id = ?", arguments: [points[0].id]) }
        #expect(try Self.listed(repo.root).count == 3)

        try repo.write { db in try db.execute(sql: "UPDATE point SET stamp = 'other' WHERE id = ?", arguments: [points[1].id]) }
        let reopened = try Repository.open(at: repo.root)
        // The manifest holds what the row held: only the row's stamp is put right.
        #expect(reopened.reconciledAtOpen.restamped == 1 && reopened.reconciledAtOpen.updated == 0)
        #expect(try reopened.points() == points)
    }
}
