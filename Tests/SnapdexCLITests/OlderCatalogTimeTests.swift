import Foundation
import Testing
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// A catalog older than format 3 stored a file time beyond 1677..2262 at the nearest end of
/// that range: there an end means "at or beyond it" (docs/FORMAT.md, "Times"). The golden
/// repository Tests/SnapdexCoreTests/Golden/repo-v2 (written by Snapdex 0.2) holds /d/future,
/// a file of 2300 it stored as 2262-04-11T23:47:16.854775807Z.
extension CLITests {
    static let goldenV2 = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("SnapdexCoreTests/Golden/repo-v2").path
    /// 2302-08-09T08:00:00.123456789Z, beyond 64-bit nanoseconds.
    static let y2302: (seconds: Int64, nanos: Int) = (10_495_900_800, 123_456_789)
    /// The last time 64-bit nanoseconds hold: 2262-04-11T23:47:16.854775807Z.
    static let lastNanosecond: (seconds: Int64, nanos: Int) = (9_223_372_036, 854_775_807)

    /// The golden repository, with its first point (6e502138) pointed at a tree this test
    /// builds, `snap/d/future` given `mtime`: its manifest's snapshot path and identity are
    /// rewritten (format version 2 kept); its catalog blocks are the old writer's.
    static func goldenWithSnapshot(_ s: Scratch, mtime: (seconds: Int64, nanos: Int)) throws -> CLI {
        RepoFiles.copy(goldenV2, s.path + "/repo")
        write(s.path + "/snap/d/future", "")
        chmod(s.path + "/snap/d", 0o755)
        chmod(s.path + "/snap/d/future", 0o644)
        setTimes(s.path + "/snap/d/future", seconds: mtime.seconds, nanos: mtime.nanos)
        let path = s.path + "/repo/catalogs/gold/6e502138dc12dc5458e77641b5bb9382.manifest"
        var m = try Manifest.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path))), path: path)
        #expect(m.formatVersion == 2)
        m.snapshotPath = s.path + "/snap"
        m.identity = try SnapshotIdentity.of(directory: s.path + "/snap").get()
        try Data(m.encode()).write(to: URL(fileURLWithPath: path))
        return CLI(repo: s.path + "/repo")
    }

    static func mtime(_ path: String) -> (seconds: Int64, nanos: Int)? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return (Int64(st.st_mtim.tv_sec), st.st_mtim.tv_nsec)
    }

    @Test func restoreAndCatAcceptAnOlderCatalogsBoundAndWriteTheSnapshotsTime() throws {
        let s = Scratch()
        let cli = try Self.goldenWithSnapshot(s, mtime: Self.y2302)
        // Accepted by the check, written as the snapshot holds it (not 2262).
        var r = cli.run(["restore", "6e502138", "/d/future", "--to", s.path + "/out"])
        #expect(r.status == 0, "\(r.out) \(r.err)")
        #expect(Self.mtime(s.path + "/out/d/future") ?? (0, 0) == Self.y2302)
        r = cli.run(["restore", "6e502138", "/d/future", "--to", s.path + "/loose", "--no-verify"])
        #expect(r.status == 0 && !r.err.contains("differs") && !r.out.contains("differs"), "\(r.out) \(r.err)")
        #expect(Self.mtime(s.path + "/loose/d/future") ?? (0, 0) == Self.y2302)
        r = cli.run(["restore", "6e502138", "/d/future", "--tar", s.path + "/a.tar"])
        #expect(r.status == 0, "\(r.err)")
        let tar = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: s.path + "/a.tar"))) ?? Data(), as: UTF8.self)
        #expect(tar.contains("mtime=10495900800.123456789"))
        #expect(cli.run("cat 6e502138 /d/future").status == 0)

        // What the user sees: a bound, in words and in JSON.
        r = cli.run("info 6e502138 /d/future")
        #expect(r.out.contains("Modify: at or after 2262-04-11 23:47:16.854775807 +0000"), "\(r.out)")
        r = cli.run("ls -l 6e502138 /d")
        #expect(r.out.contains(" at or after 2262-04-11 23:47 future"), "\(r.out)")
        r = cli.run("ls 6e502138 /d --json")
        #expect(r.out.contains("\"path\":\"/d/future\",\"type\":\"file\",\"size\":0,\"mode\":\"0644\",\"uid\":0,\"gid\":0,\"mtime\":\"2262-04-11T23:47:16.854775807Z\",\"mtime_bound\":\"at_or_after\",\"ctime\""), "\(r.out)")
        // find matches a bound only when every time it stands for matches.
        r = cli.run(["find", "future", "--newer", "2262-01-01", "--json"])
        #expect(r.out.contains("\"mtime_bound\":\"at_or_after\""), "\(r.out)")
        r = cli.run(["find", "future", "--older", "2262-04-11T23:47:16.854775807Z"])
        #expect(!r.out.contains("future"), "\(r.out)")
        #expect(cli.run("verify").status == 0)
    }

    @Test func anOlderCatalogsBoundAdmitsOnlyTimesAtOrBeyondItsEnd() throws {
        // The end itself is within the bound.
        let atEnd = Scratch()
        var cli = try Self.goldenWithSnapshot(atEnd, mtime: Self.lastNanosecond)
        var r = cli.run(["restore", "6e502138", "/d/future", "--to", atEnd.path + "/out"])
        #expect(r.status == 0, "\(r.err)")
        #expect(Self.mtime(atEnd.path + "/out/d/future") ?? (0, 0) == Self.lastNanosecond)

        // A time within 1677..2262 is not: the file changed since it was indexed.
        let changed = Scratch()
        cli = try Self.goldenWithSnapshot(changed, mtime: (4_102_444_800, 0))  // 2100-01-01
        r = cli.run(["restore", "6e502138", "/d/future", "--to", changed.path + "/out"])
        #expect(r.status == 1 && r.err.contains("changed since it was indexed"), "\(r.err)")
        r = cli.run("cat 6e502138 /d/future")
        #expect(r.status != 0 && r.err.contains("changed since it was indexed"), "\(r.err)")
        // --no-verify restores it as the snapshot holds it now, and says it differs.
        r = cli.run(["restore", "6e502138", "/d/future", "--to", changed.path + "/out", "--no-verify"])
        #expect(r.status == 0 && (r.out + r.err).contains("differs from the catalog"), "\(r.out) \(r.err)")
        #expect(Self.mtime(changed.path + "/out/d/future") ?? (0, 0) == (4_102_444_800, 0))
    }

    @Test func diffAndVersionsSeeNoChangeBetweenAnOlderBoundAndATimeWithinIt() throws {
        let s = Scratch()
        let cli = try Self.goldenWithSnapshot(s, mtime: Self.y2302)
        // A new (format 3) index of the same file holds its exact time.
        #expect(cli.run(["index", s.path + "/snap", "--source", "gold", "--at", "2026-12-03T00:00:00Z"]).status == 0)
        var r = cli.run(["diff", "6e502138", "gold@2026-12-03T00:00:00Z", "/d/future"])
        #expect(r.status == 0 && !r.out.contains("M /d/future"), "\(r.out)")
        r = cli.run("versions gold /d/future --json")
        let rows = r.out.split(separator: "\n")
        #expect(rows.count == 1 && rows.first?.contains("\"points\":3") == true, "\(r.out)")
        // The row shows the exact time the newest catalog knows.
        #expect(rows.first?.contains("\"mtime\":\"2302-08-09T08:00:00.123456789Z\"") == true && !r.out.contains("mtime_bound"), "\(r.out)")

        // A time within 1677..2262 is a change.
        Self.setTimes(s.path + "/snap/d/future", seconds: 4_102_444_800)
        #expect(cli.run(["index", s.path + "/snap", "--source", "gold", "--at", "2026-12-04T00:00:00Z"]).status == 0)
        r = cli.run(["diff", "6e502138", "gold@2026-12-04T00:00:00Z", "/d/future"])
        #expect(r.out.contains("M /d/future  (mtime)"), "\(r.out)")
        #expect(cli.run("versions gold /d/future --json").out.split(separator: "\n").count == 2)
    }

    @Test func aCopyOfAnOlderCatalogKeepsItsFormatVersionAndSoItsBounds() throws {
        let s = Scratch()
        RepoFiles.copy(Self.goldenV2, s.path + "/repo")
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run(["copy", "--to", s.path + "/offsite"]).status == 0)
        let offsite = CLI(repo: s.path + "/offsite")
        let r = offsite.run("ls 6e502138 /d --json")
        #expect(r.out.contains("\"mtime\":\"2262-04-11T23:47:16.854775807Z\",\"mtime_bound\":\"at_or_after\""), "\(r.out)")
        let repo = try Repository.open(at: s.path + "/offsite")
        for p in try repo.points() { #expect(try repo.manifest(of: p).formatVersion == 2) }
    }
}
