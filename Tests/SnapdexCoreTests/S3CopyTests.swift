import Foundation
import Testing
@testable import SnapdexCore

/// `snapdex copy` to and from repositories in a bucket of the test gateway (TestGateway), as
/// people run it: real processes, real requests signed for real.
@Suite(.enabled(if: TestGateway.isAvailable, TestGateway.skipReason))
struct S3CopyTests {
    let dir = NSTemporaryDirectory() + "snapdex-s3copy-\(UUID().uuidString)"
    let bucket = "t-copy-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)

    static let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/snapdex").path

    func environment() throws -> [String: String] {
        let server = try TestGateway.server()
        return ["AWS_ENDPOINT_URL": server.endpoint.description, "AWS_ACCESS_KEY_ID": server.accessKey,
                "AWS_SECRET_ACCESS_KEY": server.secretKey, "XDG_CACHE_HOME": dir + "/cache", "HOME": dir, "TZ": "UTC",
                "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
    }

    /// Runs snapdex; its standard output and standard error apart.
    func run(_ args: [String], extra: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: S3CopyTests.binary)
        p.arguments = args
        p.environment = try environment().merging(extra) { _, b in b }
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let out = dir + "/.out", err = dir + "/.err"
        FileManager.default.createFile(atPath: out, contents: nil)
        FileManager.default.createFile(atPath: err, contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: out)
        p.standardError = FileHandle(forWritingAtPath: err)
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return (p.terminationStatus, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }

    /// The store of `s3://BUCKET/PREFIX`, for looking at what is in it.
    func store(_ prefix: String) throws -> S3ObjectStore {
        S3ObjectStore(url: ObjectStorageURL(bucket: bucket, prefix: prefix), configuration: try TestGateway.configuration())
    }

    /// The one JSON object of an output that must be exactly one.
    func object(_ text: String) throws -> [String: Any] {
        let lines = text.split(separator: "\n")
        #expect(lines.count == 1, "not one JSON document: \(text)")
        return try #require(try JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8)) as? [String: Any])
    }

    /// A snapshot series of `days` days, each of `files` small files (many catalog chunks),
    /// each day changing a tenth of them and adding one.
    func series(days: Int, files: Int) throws {
        for day in 0..<days {
            let root = dir + "/snaps/2026-12-\(String(format: "%02d", day + 1))"
            for i in 0..<files {
                let d = root + "/d\(i / 100)"
                if i % 100 == 0 { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
                let version = i % 10 == 0 ? day : 0
                try Data("file \(i) version \(version)\n".utf8).write(to: URL(fileURLWithPath: d + "/f\(i).txt"))
            }
            try Data("day \(day)\n".utf8).write(to: URL(fileURLWithPath: root + "/day\(day).txt"))
        }
    }

    /// Block objects in the store, by key.
    func blockKeys(_ s: S3ObjectStore) throws -> Set<String> { Set(try s.list(prefix: "blocks/").map(\.key)) }

    func manifests(_ s: S3ObjectStore) throws -> [String] { try s.list(prefix: "catalogs/").map(\.key).filter { $0.hasSuffix(".manifest") } }

    @Test func aCopyToABucketLandsWholeAndAKilledCopySendsNothingTwice() throws {
        guard FileManager.default.isExecutableFile(atPath: S3CopyTests.binary) else { Issue.record("snapdex is not built; run `make test`"); return }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try series(days: 3, files: 6_000)
        let repo = dir + "/repo"
        #expect(try run(["init", "--repo", repo]).status == 0)
        #expect(try run(["source", "add", "home", "--snapshots", dir + "/snaps", "--repo", repo]).status == 0)
        #expect(try run(["index", "--source", "home", "--repo", repo]).status == 0)
        let target = "s3://\(bucket)/offsite"
        let there = try store("offsite")

        // Killed after its second block: the bucket and the repository are made, no point is
        // published without its blocks.
        let killed = try run(["copy", "--to", target, "--repo", repo], extra: ["SNAPDEX_CRASH_AFTER_BLOCKS_SENT": "2"])
        #expect(killed.status == 137, "\(killed.out) \(killed.err)")
        #expect(try there.get("config") != nil)
        let landed = try manifests(there)
        let sentBefore = try blockKeys(there)
        #expect(sentBefore.count == 2 && landed.count < 3)

        // The rerun lists the target (the last copy was killed) and sends only the rest.
        let rerun = try run(["copy", "--to", target, "--json", "--repo", repo])
        #expect(rerun.status == 0, "\(rerun.out) \(rerun.err)")
        let report = try object(rerun.out)
        #expect(report["points_copied"] as? Int == 3 - landed.count)
        #expect(report["rescanned"] as? Bool == true)
        let all = try blockKeys(there)
        #expect(report["blocks_sent"] as? Int == all.count - sentBefore.count, "\(report)")
        // The requests are the target's, by kind: a PUT for each block and manifest at least.
        let kinds = try #require(report["requests_by_kind"] as? [String: Int])
        #expect(kinds["put"]! >= all.count - sentBefore.count + 3 - landed.count)
        #expect(report["requests"] as? Int == kinds["get"]! + kinds["put"]! + kinds["list"]! + kinds["head"]! + kinds["delete"]!)
        #expect(try manifests(there).count == 3)

        // The target is a repository like any: every point verifies, a file reads back.
        let verify = try run(["verify", "--repo", target])
        #expect(verify.status == 0, "\(verify.out) \(verify.err)")
        #expect(try run(["cat", "home@latest", "day2.txt", "--repo", target]).out == "day 2\n")

        // Nothing new: no block, and no lock either (nothing is sent that a gc there could
        // remove): the open's GET of the config and LIST of catalogs/ decide it.
        let again = try object(try run(["copy", "--to", target, "--json", "--repo", repo]).out)
        #expect(again["points_copied"] as? Int == 0 && again["blocks_sent"] as? Int == 0 && again["rescanned"] as? Bool == false)
        #expect(again["points_present"] as? Int == 3)
        let quiet = try #require(again["requests_by_kind"] as? [String: Int])
        #expect((again["requests"] as? Int ?? 99) <= 3 && quiet["put"] == 0 && quiet["delete"] == 0, "\(again)")
        #expect(try there.list(prefix: "locks/").isEmpty)
    }

    /// A copy target pruned by its own forget on another host (its own cache folder) raises
    /// its generation; the next copy from here notices, lists the target's blocks again, and
    /// sends back those the forget deleted, so every point verifies there.
    @Test func aTargetPrunedOnAnotherHostIsNoticedThroughItsGeneration() throws {
        guard FileManager.default.isExecutableFile(atPath: S3CopyTests.binary) else { Issue.record("snapdex is not built; run `make test`"); return }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try series(days: 3, files: 300)
        // Catalog chunks only the newest point has: forgetting it deletes blocks whatever its
        // delta shares with the others.
        let only = dir + "/snaps/2026-12-03/only-last"
        try FileManager.default.createDirectory(atPath: only, withIntermediateDirectories: true)
        for i in 0..<12_000 { FileManager.default.createFile(atPath: only + "/u\(i)", contents: nil) }
        let repo = dir + "/repo"
        #expect(try run(["init", "--repo", repo]).status == 0)
        #expect(try run(["source", "add", "home", "--snapshots", dir + "/snaps", "--repo", repo]).status == 0)
        #expect(try run(["index", "--source", "home", "--repo", repo]).status == 0)
        let target = "s3://\(bucket)/offsite"
        let there = try store("offsite")
        let first = try object(try run(["copy", "--to", target, "--json", "--repo", repo]).out)
        #expect(first["points_copied"] as? Int == 3)
        let blocksBefore = try blockKeys(there)

        // Another host forgets the newest point there: the blocks only it used are deleted.
        let otherHost = ["XDG_CACHE_HOME": dir + "/cache-b"]
        let forget = try run(["forget", "home@latest", "--repo", target], extra: otherHost)
        #expect(forget.status == 0, "\(forget.out) \(forget.err)")
        let gone = blocksBefore.subtracting(try blockKeys(there))
        let generation = try there.get("generation")
        #expect(!gone.isEmpty && generation == Array("1\n".utf8))
        let gc = try run(["gc", "--repo", target], extra: otherHost)
        #expect(gc.status == 0, "\(gc.out) \(gc.err)")

        // The chain's newest there is now the second point, so the third is copied again; the
        // generation moved, so the archive index (which still lists the deleted blocks) is not
        // trusted: the copy lists the target and sends exactly what is gone.
        let next = try object(try run(["copy", "--to", target, "--json", "--repo", repo]).out)
        #expect(next["points_copied"] as? Int == 1 && next["rescanned"] as? Bool == true, "\(next)")
        #expect(next["blocks_sent"] as? Int == gone.count, "\(next)")
        #expect(try blockKeys(there) == blocksBefore)

        // Every point verifies there, read by a third host.
        let verify = try run(["verify", "--repo", target], extra: ["XDG_CACHE_HOME": dir + "/cache-c"])
        #expect(verify.status == 0 && verify.out.contains("no damage found"), "\(verify.out) \(verify.err)")
        #expect(try run(["cat", "home@latest", "day2.txt", "--repo", target], extra: ["XDG_CACHE_HOME": dir + "/cache-c"]).out == "day 2\n")
    }

    @Test func aBucketRaisesItsGenerationWhenItDeletesBlocksAndACopyListsItAgain() throws {
        guard FileManager.default.isExecutableFile(atPath: S3CopyTests.binary) else { Issue.record("snapdex is not built; run `make test`"); return }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try series(days: 3, files: 300)
        // Catalog chunks only the first point has, so that forgetting it deletes blocks
        // whatever the later points' deltas share with it (which depends on file times).
        let only = dir + "/snaps/2026-12-01/only-first"
        try FileManager.default.createDirectory(atPath: only, withIntermediateDirectories: true)
        for i in 0..<12_000 { FileManager.default.createFile(atPath: only + "/u\(i)", contents: nil) }
        let repo = dir + "/repo"
        #expect(try run(["init", "--repo", repo]).status == 0)
        #expect(try run(["source", "add", "home", "--snapshots", dir + "/snaps", "--repo", repo]).status == 0)
        #expect(try run(["index", "--source", "home", "--repo", repo]).status == 0)
        let target = "s3://\(bucket)/offsite"
        let there = try store("offsite")
        #expect(try run(["copy", "--to", target, "--repo", repo]).status == 0)
        #expect(try there.get("generation") == nil)

        // forget on the bucket deletes the blocks only that point used: the generation rises first.
        let line = try #require(try run(["points", "--json", "--repo", target]).out.split(separator: "\n").first)
        let at = try #require(line.range(of: "\"id\":\""))
        let first = String(line[at.upperBound...].prefix(32))
        let forget = try run(["forget", first, "--repo", target])
        #expect(forget.status == 0, "\(forget.out) \(forget.err)")
        #expect(try there.get("generation") == Array("1\n".utf8))

        // The next copy notices (the forgotten point is older than the target's newest, so it
        // is not sent again) and rebuilds its index by listing.
        let next = try object(try run(["copy", "--to", target, "--json", "--repo", repo]).out)
        #expect(next["points_copied"] as? Int == 0 && next["points_older"] as? Int == 1)

        // Named, the forgotten point is sent again: the copy noticed the generation moved,
        // listed the bucket, and sent only the blocks it lost.
        let named = try object(try run(["copy", "--to", target, "--json", first, "--repo", repo]).out)
        #expect(named["points_copied"] as? Int == 1 && named["rescanned"] as? Bool == true)
        #expect((named["blocks_sent"] as? Int ?? 0) > 0 && (named["blocks_skipped"] as? Int ?? 0) > 0)
        #expect(try run(["verify", "--repo", target]).status == 0)
        let quiet = try object(try run(["copy", "--rescan", "--to", target, "--json", "--repo", repo]).out)
        #expect(quiet["rescanned"] as? Bool == true && quiet["blocks_sent"] as? Int == 0)

        // expire on the bucket (a policy that keeps the newest only) raises it again.
        let policy = try run(["policy", "set", "home", "--keep-last", "1", "--apply-to-existing", "--repo", target])
        #expect(policy.status == 0, "\(policy.out) \(policy.err)")
        let expire = try run(["expire", "--repo", target])
        #expect(expire.status == 0 && expire.out.contains("2 expired, "), "\(expire.out) ERR \(expire.err)")
        #expect(try there.get("generation") == Array("2\n".utf8))

        #expect(try run(["verify", "--repo", target]).status == 0)
    }

    @Test func aRepositoryInABucketIsCopiedToAFolderAndToAnotherBucket() throws {
        guard FileManager.default.isExecutableFile(atPath: S3CopyTests.binary) else { Issue.record("snapdex is not built; run `make test`"); return }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try series(days: 2, files: 6_000)
        let repo = "s3://\(bucket)/site"
        #expect(try run(["init", "--repo", repo]).status == 0)
        #expect(try run(["source", "add", "home", "--snapshots", dir + "/snaps", "--repo", repo]).status == 0)
        #expect(try run(["index", "--source", "home", "--repo", repo]).status == 0)
        // This host's cache of the source holds no blocks: the copy reads them from the bucket.
        let cached = try run(["rescan", "--repo", repo])
        #expect(cached.status == 0)

        let folder = dir + "/offsite"
        let toFolder = try run(["copy", "--to", folder, "--json", "--repo", repo])
        #expect(toFolder.status == 0, "\(toFolder.out) \(toFolder.err)")
        let f = try object(toFolder.out)
        #expect(f["points_copied"] as? Int == 2 && f["target_created"] as? Bool == true)
        #expect(try run(["verify", "--repo", folder]).status == 0)

        let other = "s3://\(bucket)-b/copy"
        let dry = try run(["copy", "--to", other, "--dry-run", "--repo", repo])
        #expect(dry.status == 0 && dry.out.contains("would copy 2 point(s)"), "\(dry.out) \(dry.err)")
        let toBucket = try run(["copy", "--to", other, "--json", "--repo", repo])
        #expect(toBucket.status == 0, "\(toBucket.out) \(toBucket.err)")
        let b = try object(toBucket.out)
        #expect(b["points_copied"] as? Int == 2 && b["target_created"] as? Bool == true)
        #expect(b["blocks_sent"] as? Int == f["blocks_sent"] as? Int)
        #expect(try run(["verify", "--repo", other]).status == 0)
        #expect(try run(["cat", "home@latest", "day1.txt", "--repo", other]).out == "day 1\n")
        // A bucket is not its own target.
        let itself = try run(["copy", "--to", repo, "--repo", repo])
        #expect(itself.status == 2 && itself.err.contains("is this repository"), "\(itself.err)")
    }

    /// The README's walkthrough on object storage, pasted into bash against the test gateway:
    /// its own lines that start and stop a gateway are left out (this one is the test's), the
    /// demo folder and bucket names are made this test's own.
    @Test func theReadmeWalkthroughOnObjectStorageWorksAsPasted() throws {
        guard FileManager.default.isExecutableFile(atPath: S3CopyTests.binary) else { Issue.record("snapdex is not built; run `make test`"); return }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let package = URL(fileURLWithPath: S3CopyTests.binary).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let readme = try String(contentsOfFile: package + "/README.md", encoding: .utf8)
        let blocks = readme.components(separatedBy: "```")
        let block = try #require(blocks.enumerated().first { $0.offset % 2 == 1 && $0.element.contains("scripts/start-rgw.sh /tmp/snapdex-rgw") }?.element,
                                 "README.md has no walkthrough that starts the test gateway")
        var commands: [String] = []
        for line in block.split(separator: "\n") where line.hasPrefix("$ ") {
            let command = String(line.dropFirst(2))
            if command.contains("start-rgw.sh") || command.contains("stop-rgw.sh") || command.contains("/tmp/snapdex-rgw/env") { continue }
            commands.append(command.replacingOccurrences(of: "/tmp/snapdex-demo", with: dir + "/demo")
                .replacingOccurrences(of: "s3://catalogs/", with: "s3://\(bucket)-a/")
                .replacingOccurrences(of: "s3://offsite/", with: "s3://\(bucket)-b/"))
        }
        #expect(commands.contains { $0.contains("copy --to s3://") } && commands.contains { $0.contains("copy --to \(dir)/demo/") })
        var env = try environment()
        env["PATH"] = URL(fileURLWithPath: S3CopyTests.binary).deletingLastPathComponent().path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-e", "-c", commands.joined(separator: "\n")]
        p.environment = env
        p.currentDirectoryURL = URL(fileURLWithPath: package)
        let out = dir + "/.readme"
        FileManager.default.createFile(atPath: out, contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: out)
        p.standardError = FileHandle(forWritingAtPath: out)
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        #expect(p.terminationStatus == 0, "\(text)")
        // What the README shows them print.
        for line in ["copied 8 point(s) to \(dir)/demo/offsite (made a new repository)", "copied 0 point(s) to s3://\(bucket)-b/site-a, 8 already there",
                     "\"points_copied\":8", "/alice/docs/budget.xlsx", "no damage found"] {
            #expect(text.contains(line), "\(line) not in: \(text)")
        }
    }
}
