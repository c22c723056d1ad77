import Foundation
import Testing
@testable import SnapdexCore
import SnapdexTestSupport

extension S3CopyTests {
    /// A bucket restored from an older backup (or a clone of another target) lacks a point
    /// and blocks this repository's archive index says it holds: the copy lists it (the index
    /// claims every block of a point the bucket does not hold) and sends what is missing,
    /// instead of publishing the point without its blocks.
    @Test func aCopyToABucketRestoredFromABackupSendsTheBlocksItLacks() throws {
        guard FileManager.default.isExecutableFile(atPath: Snapdex.binary) else { Issue.record("snapdex is not built; run `make test`"); return }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try series(days: 2, files: 6_000)
        let repo = dir + "/repo"
        #expect(try run(["init", "--repo", repo]).status == 0)
        #expect(try run(["source", "add", "home", "--snapshots", dir + "/snaps", "--repo", repo]).status == 0)
        #expect(try run(["index", "--source", "home", "--repo", repo]).status == 0)
        let target = "s3://\(bucket)/offsite"
        let there = try store("offsite")
        #expect(try run(["copy", "--to", target, "--repo", repo, "home@2026-12-01"]).status == 0)
        let backup = try blockKeys(there)
        let first = try manifests(there)
        #expect(try run(["copy", "--to", target, "--repo", repo]).status == 0)
        // The bucket as it was before the second copy.
        for key in try blockKeys(there).subtracting(backup) { try there.delete(key) }
        for key in try manifests(there) where !first.contains(key) { try there.delete(key) }

        let r = try run(["copy", "--to", target, "--json", "--repo", repo])
        #expect(r.status == 0, "\(r.out) \(r.err)")
        let report = try object(r.out)
        #expect(report["points_copied"] as? Int == 1 && report["rescanned"] as? Bool == true, "\(report)")
        #expect((report["blocks_sent"] as? Int ?? 0) > 0, "\(report)")
        let verify = try run(["verify", "--repo", target])
        #expect(verify.status == 0, "\(verify.out) \(verify.err)")

        // Nothing new: still a handful of requests, no listing of the blocks.
        let again = try object(try run(["copy", "--to", target, "--json", "--repo", repo]).out)
        #expect(again["blocks_sent"] as? Int == 0 && again["rescanned"] as? Bool == false)
        #expect((again["requests"] as? Int ?? 99) <= 12, "\(again)")
    }
}
