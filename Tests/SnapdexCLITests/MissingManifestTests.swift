import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// A manifest the repository recorded that is gone with no writer having removed it (deleted by
/// accident, or lost) is damage: reported until it is put back or its point forgotten, and its
/// blocks are kept until then, so that putting it back still helps (issue 8, REV11).
extension CLITests {
    /// The repository of `cachedRepository` with the manifest of home@2026-11-02 moved aside;
    /// returns its path, where it was put, and the blocks it references.
    static func missingManifest(_ s: Scratch, _ cli: CLI) throws -> (path: String, saved: String, blocks: Set<String>) {
        let repo = try Repository.open(at: cli.repo)
        let point = try repo.resolve("home@2026-11-02")
        let path = repo.manifestPath(source: "home", id: point.id)
        let blocks = Set(try repo.manifest(of: point).blockHashes.map(\.hex))
        let saved = s.path + "/saved.manifest"
        #expect(rename(path, saved) == 0)
        return (path, saved, blocks)
    }

    @Test func aDeletedManifestIsDamageUntilItIsPutBackAndNoWriterFreesItsBlocks() throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        #expect(cli.run(["source", "add", "work", "--snapshots", s.path + "/snaps"]).status == 0)
        #expect(cli.run("index --source work").status == 0)
        let (path, saved, blocks) = try Self.missingManifest(s, cli)
        let id = (path as NSString).lastPathComponent.prefix(12)

        // The next command keeps the point (marked), says why, and verify exits 3 naming it.
        let points = cli.run("points")
        #expect(points.status == 0 && points.out.contains("missing"), "\(points.out)")
        #expect(points.err.contains("is missing and no snapdex command removed it") && !points.err.contains("removed)"), "\(points.err)")
        let verify = cli.run("verify")
        #expect(verify.status == 3 && verify.out.contains("damaged manifest of point \(id)"), "\(verify.out)")
        let ls = cli.run(["ls", "home@2026-11-02", "/"])
        #expect(ls.status == 3 && ls.err.contains("forget home@2026-11-02T00:00:00Z"), "\(ls.err)")
        #expect(cli.run("rescan").status == 3)
        #expect(cli.run("verify").status == 3)

        // No writer frees a block the point used (other points' removals included).
        for command in ["gc", "expire", "verify --repair", "forget home@2026-11-01 --nearest", "source remove work --purge"] {
            _ = cli.run(command)
            #expect(blocks.isSubset(of: Self.blockFiles(cli.repo)), "\(command) freed a block of the point whose manifest is missing")
        }

        // Put back: clean again, and the point reads.
        #expect(rename(saved, path) == 0)
        let after = cli.run("verify")
        #expect(after.status == 0 && after.out.contains("no damage found"), "\(after.out) \(after.err)")
        #expect(cli.run(["ls", "home@2026-11-02", "/"]).status == 0)
        #expect(!cli.run("points").out.contains("missing"))
        #expect(cli.run("verify").err.isEmpty)
    }

    /// The advice, run as printed: the point goes, and with it (at the latest at the next gc)
    /// the blocks only it used.
    @Test func forgetAsPrintedDropsAPointWhoseManifestIsMissing() throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let (_, _, blocks) = try Self.missingManifest(s, cli)
        let err = cli.run("verify").err
        let advice = try #require(err.split(separator: "`").map(String.init).first { $0.hasPrefix("snapdex ") && $0.contains(" forget ") })
        #expect(advice == "snapdex --repo \(s.path)/repo forget home@2026-11-02T00:00:00Z")
        let forget = cli.run(Array(advice.split(separator: " ").dropFirst().map(String.init)))
        #expect(forget.status == 0, "\(forget.err)")
        #expect(cli.run("gc").status == 0)
        let v = cli.run("verify")
        #expect(v.status == 0 && v.out.contains("verified 2 point(s)") && v.err.isEmpty, "\(v.out) \(v.err)")
        let others = try Repository.open(at: cli.repo)
        var used = Set<String>()
        for p in try others.points() { used.formUnion(try others.manifest(of: p).blockHashes.map(\.hex)) }
        #expect(blocks.subtracting(used).isDisjoint(with: Self.blockFiles(cli.repo)))
    }

    /// rescan carries the record over (exit 3 with the same advice), so the blocks stay.
    @Test func rescanKeepsTheRecordOfAMissingManifest() throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let (path, saved, blocks) = try Self.missingManifest(s, cli)
        let r = cli.run("rescan")
        #expect(r.status == 3 && r.err.contains("whose manifest is missing"), "\(r.err)")
        #expect(cli.run("gc").status == 0)
        #expect(blocks.isSubset(of: Self.blockFiles(cli.repo)))
        #expect(cli.run("verify").status == 3)
        #expect(rename(saved, path) == 0)
        #expect(cli.run("verify").status == 0)
    }

    /// A forget killed between removing the manifest and its database commit is a writer's
    /// removal: the journal names it, so no damage is reported, and the next writer finishes it.
    @Test func aKilledForgetIsNotDamage() throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = try Repository.open(at: cli.repo)
        let point = try repo.resolve("home@2026-11-02")
        repo.removalCrashPoint = .afterManifestsRemoved
        #expect(throws: SimulatedCrash.self) { _ = try repo.forget([point]) }
        let reader = cli.run("points")
        #expect(reader.status == 0 && !reader.out.contains(String(point.id.prefix(8))) && !reader.err.contains("missing"), "\(reader.out) \(reader.err)")
        let v = cli.run("verify")
        #expect(v.status == 0 && v.out.contains("verified 2 point(s)") && v.err.isEmpty, "\(v.out) \(v.err)")
        #expect(cli.run("gc").status == 0)
        #expect(cli.run("verify").status == 0)
    }

    /// A copy of the repository (new inodes, same times) is the same repository: its first
    /// command re-reads the manifests silently and reports no damage.
    @Test func aCopyOfTheRepositoryIsNeitherDamagedNorBehind() throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        #expect(cli.run("verify").status == 0)
        #expect(system("cp -a '\(s.path)/repo' '\(s.path)/copy'") == 0)
        let copy = CLI(repo: s.path + "/copy")
        let first = copy.run("points")
        #expect(first.status == 0 && first.err.isEmpty, "\(first.err)")
        let v = copy.run("verify")
        #expect(v.status == 0 && v.err.isEmpty && v.out.contains("verified 3 point(s)"), "\(v.out) \(v.err)")
    }
}
