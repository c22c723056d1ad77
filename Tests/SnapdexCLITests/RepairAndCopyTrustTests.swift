import Foundation
import Testing
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Repairs and copies that used to trust what they should check: `verify --repair` of deltas
/// whose bases were lost too, `copy` to a target that lacks blocks its archive index lists,
/// and advice about a copy's target that named the source. Real processes, real folders.
@Suite struct RepairAndCopyTrustTests {
    let binary = packageRoot.appendingPathComponent(".build/debug/snapdex").path

    func run(_ args: [String]) throws -> (status: Int32, out: String) { try runTool(binary, args) }

    /// Source `s` with three points of a 5,200-file tree (several catalog chunks), each a
    /// hard-linked copy of the one before with a few files changed.
    func series(_ s: Scratch) throws -> String {
        let repo = s.path + "/repo"
        let first = s.path + "/snaps/2026-11-01"
        for i in 0..<5_200 { write(first + "/d\(i / 100)/f\(i)", "\(i)") }
        for (day, before) in [("2026-11-02", first), ("2026-11-03", s.path + "/snaps/2026-11-02")] {
            let snap = s.path + "/snaps/" + day
            #expect(try runTool("/bin/cp", ["-al", before, snap]).status == 0)
            for k in 0..<3 { unlink(snap + "/d\(k * 20)/f\(k * 2_000 + 1)") }
            write(snap + "/new-" + day, day)
        }
        #expect(try run(["init", "--repo", repo]).status == 0)
        #expect(try run(["source", "add", "s", "--snapshots", s.path + "/snaps", "--repo", repo]).status == 0)
        let r = try run(["index", "--source", "s", "--repo", repo])
        #expect(r.status == 0, "\(r.out)")
        return repo
    }

    func blockFiles(_ repo: String) -> [String] {
        ((FileManager.default.enumerator(atPath: repo + "/blocks")?.allObjects as? [String]) ?? [])
            .filter { $0.count == 67 }.map { repo + "/blocks/" + $0 }
    }

    /// Every block lost, snapshots intact: the first repair wrote the whole blocks, but said
    /// of each delta (made against a base it had not repaired yet) "no snapshot holds it" and
    /// advised forgetting points that a second run repaired.
    @Test func oneRepairWritesBasesAndTheDeltasBuiltOnThem() throws {
        guard builtSnapdex() != nil else { return }
        let s = Scratch()
        let repo = try series(s)
        let r0 = try Repository.open(at: repo)
        let deltas = try r0.points().flatMap { try r0.manifest(of: $0).chunks.flatMap(\.parts) }.filter(\.delta)
        #expect(!deltas.isEmpty, "the tree made no delta parts: the test proves nothing")
        for f in blockFiles(repo) { unlink(f) }

        let r = try run(["verify", "--repair", "--repo", repo])
        #expect(r.status == 0, "\(r.out)")
        #expect(!r.out.contains("could not repair"), "\(r.out)")
        #expect(try run(["verify", "--repo", repo]).status == 0)
        #expect(try run(["points", "--repo", repo]).out.split(separator: "\n").filter { $0.contains("2026-11-0") }.count == 3)
    }

    /// A delta whose base no snapshot holds cannot be made again: said so, not "no snapshot
    /// holds it", and the advice printed (forget) leaves a repository that verifies.
    @Test func aDeltaWhoseBaseIsLostSaysSoAndItsAdviceWorks() throws {
        guard builtSnapdex() != nil else { return }
        let s = Scratch()
        let repo = try series(s)
        let r0 = try Repository.open(at: repo)
        let points = try r0.points().sorted { $0.time < $1.time }
        let newest = try r0.manifest(of: points[2])
        let part = try #require(newest.chunks.flatMap(\.parts).first { $0.delta })
        let base = try #require(part.base).hash
        // The snapshots of the points that hold the base as a part of their own are gone.
        let holders = try points.filter { try r0.manifest(of: $0).chunks.flatMap(\.parts).contains { $0.block.hash == base } }
        #expect(!holders.isEmpty && !holders.contains { $0.id == points[2].id })
        for p in holders { try FileManager.default.removeItem(atPath: p.snapshot) }
        unlink(r0.blocks.path(of: base))
        unlink(r0.blocks.path(of: part.block.hash))

        let r = try run(["verify", "--repair", "--repo", repo])
        #expect(r.status == 3)
        let lines = r.out.split(separator: "\n").filter { $0.contains("could not repair") }.map(String.init)
        let deltaLine = try #require(lines.first { $0.contains(part.block.hash.hex) }, "\(r.out)")
        #expect(deltaLine.contains("stored as a change to block \(base.hex)"), "\(deltaLine)")
        // Run as printed: it names the repository (--repo) it was printed for.
        let advice = try #require(r.out.split(separator: "\n").first { $0.contains("`snapdex --repo \(repo) forget") }, "\(r.out)")
        let forget = try #require(CLITests.advice(String(advice)))
        #expect(forget.starts(with: ["--repo", repo, "forget"]))
        let forgot = try run(forget)
        #expect(forgot.status == 0, "\(forgot.out)")
        let after = try run(["verify", "--repo", repo])
        #expect(after.status == 0, "\(after.out)")
    }

    /// Case A: the target is restored from a backup older than the last copy; the archive
    /// index lists blocks it no longer has. Copy sent none and published points without them.
    @Test func aCopyToATargetRestoredFromABackupSendsTheBlocksItLacks() throws {
        guard builtSnapdex() != nil else { return }
        let s = Scratch()
        let repo = try series(s)
        let target = s.path + "/offsite", backup = s.path + "/offsite.bak"
        #expect(try run(["copy", "--to", target, "--repo", repo, "s@2026-11-01"]).status == 0)
        #expect(try runTool("/bin/cp", ["-a", target, backup]).status == 0)
        #expect(try run(["copy", "--to", target, "--repo", repo]).status == 0)
        try FileManager.default.removeItem(atPath: target)
        try FileManager.default.moveItem(atPath: backup, toPath: target)

        let r = try run(["copy", "--to", target, "--repo", repo])
        #expect(r.status == 0, "\(r.out)")
        #expect(!r.out.contains("sent 0 block"), "\(r.out)")
        let v = try run(["verify", "--repo", target])
        #expect(v.status == 0, "\(v.out)")
    }

    /// Case B: rotating offsite disks, B cloned from A (same repository id and generation).
    @Test func aCopyToADiskClonedFromAnotherTargetSendsTheBlocksItLacks() throws {
        guard builtSnapdex() != nil else { return }
        let s = Scratch()
        let repo = try series(s)
        let a = s.path + "/diskA", b = s.path + "/diskB"
        #expect(try run(["copy", "--to", a, "--repo", repo, "s@2026-11-01"]).status == 0)
        #expect(try runTool("/bin/cp", ["-a", a, b]).status == 0)
        #expect(try run(["copy", "--to", a, "--repo", repo]).status == 0)
        let r = try run(["copy", "--to", b, "--repo", repo])
        #expect(r.status == 0, "\(r.out)")
        let v = try run(["verify", "--repo", b])
        #expect(v.status == 0, "\(v.out)")
    }

    /// Points already in the target without their blocks (an older copy trusted a wrong
    /// index, or the blocks were lost there): `copy --rescan` sends what they lack.
    @Test func copyRescanSendsTheBlocksOfPointsAlreadyThere() throws {
        guard builtSnapdex() != nil else { return }
        let s = Scratch()
        let repo = try series(s)
        let target = s.path + "/offsite"
        #expect(try run(["copy", "--to", target, "--repo", repo]).status == 0)
        let lost = blockFiles(target).sorted().prefix(4)
        for f in lost { unlink(f) }
        #expect(try run(["verify", "--repo", target]).status == 3)

        let r = try run(["copy", "--to", target, "--rescan", "--repo", repo])
        #expect(r.status == 0, "\(r.out)")
        #expect(r.out.contains("sent \(lost.count) block(s)"), "\(r.out)")
        let v = try run(["verify", "--repo", target])
        #expect(v.status == 0, "\(v.out)")
    }

    /// `copy --expire` with a damaged manifest in the target advised `snapdex verify`, which
    /// as printed checked the source and found nothing.
    @Test func adviceAboutACopysTargetNamesTheTarget() throws {
        guard builtSnapdex() != nil else { return }
        let s = Scratch()
        let repo = try series(s)
        let target = s.path + "/offsite"
        #expect(try run(["copy", "--to", target, "--repo", repo, "s@2026-11-01", "s@2026-11-02"]).status == 0)
        #expect(try run(["policy", "set", "--repo", target, "s", "--keep-last", "1"]).status == 0)
        let manifests = ((FileManager.default.enumerator(atPath: target + "/catalogs/s")?.allObjects as? [String]) ?? []).filter { $0.hasSuffix(".manifest") }
        let damaged = target + "/catalogs/s/" + (try #require(manifests.sorted().first))
        chmod(damaged, 0o644)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: damaged))
        bytes[bytes.count / 2] ^= 1
        try bytes.write(to: URL(fileURLWithPath: damaged))

        let r = try run(["copy", "--to", target, "--expire", "--repo", repo])
        #expect(r.status == 3, "\(r.out)")
        let advice = try #require(CLITests.advice(r.out), "\(r.out)")
        #expect(advice.starts(with: ["--repo", target]), "\(advice)")
        let followed = try run(advice)
        #expect(followed.status == 3, "\(followed.out)")
        #expect(followed.out.contains("damaged manifest"), "\(followed.out)")
    }
}
