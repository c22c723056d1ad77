import Foundation
import Testing

/// `--repo` and SNAPDEX_REPO with a URL, as real processes.
@Suite struct ObjectStorageCLITests {
    /// Runs the built snapdex in `cwd` with `environment` added; status and all output.
    static func run(_ args: [String], cwd: String, environment: [String: String] = [:]) throws -> (status: Int32, out: String) {
        guard let binary = builtSnapdex() else { return (-1, "") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func aURLIsNeverTakenForALocalPath() throws {
        let dir = NSTemporaryDirectory() + "/snapdex-url-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (args, env) in [(["init", "--repo", "s3://bucket/prefix"], [:]), (["points"], ["SNAPDEX_REPO": "s3://bucket/prefix"]),
                            (["init", "--repo", "gs://bucket"], [:])] {
            let r = try Self.run(args, cwd: dir, environment: env)
            #expect(r.status != 0)
            #expect(r.out.split(separator: "\n").count == 1)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
        }
        // A URL with one slash is a mistyped URL: refused (exit 2) with the right form, never
        // a folder named `s3:`; the folder stays reachable as ./s3:/...
        for typo in ["s3:/bucket/prefix", "S3:bucket", "file:/srv/catalogs"] {
            let r = try Self.run(["init", "--repo", typo], cwd: dir)
            #expect(r.status == 2 && r.out.split(separator: "\n").count == 1 && r.out.contains("two slashes"), "\(typo): \(r.out)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
        }
        #expect(try Self.run(["init", "--repo", "./s3:/bucket"], cwd: dir).status == 0)
        try FileManager.default.removeItem(atPath: dir + "/s3:")
        // A local repository is not opened as object storage: its writers lock another way.
        #expect(try Self.run(["init", "--repo", dir + "/local"], cwd: dir).status == 0)
        let both = try Self.run(["points", "--repo", "file://" + dir + "/local"], cwd: dir)
        #expect(both.status == 2 && both.out.contains("use --repo " + dir + "/local"))
        #expect(try Self.run(["points", "--repo", dir + "/local"], cwd: dir).status == 0)
        // Like --repo, --cache-size may come before the command's name.
        #expect(try Self.run(["--cache-size", "2G", "--repo", dir + "/local", "points"], cwd: dir).status == 0)
        let bad = try Self.run(["points", "--repo", "/nonexistent", "--cache-size", "lots"], cwd: dir)
        #expect(bad.status == 2)
        #expect(bad.out.contains("--cache-size takes a size"))
    }
}

/// A repository on object storage (a folder as the store, `file:///PATH`) used by real
/// processes; each "host" is its own cache folder (XDG_CACHE_HOME).
@Suite struct StoreRepositoryProcessTests {
    let dir = NSTemporaryDirectory() + "/snapdex-store-\(UUID().uuidString)"
    var url: String { "file://" + dir + "/bucket" }

    func run(_ args: [String], host: String = "a", extra: [String: String] = [:]) throws -> (status: Int32, out: String) {
        try ObjectStorageCLITests.run(args, cwd: dir, environment: ["SNAPDEX_REPO": url, "XDG_CACHE_HOME": dir + "/cache-" + host, "TZ": "UTC"].merging(extra) { _, b in b })
    }

    func tree(_ path: String, files: Int, tag: String) {
        for d in 0..<(files / 100) {
            for f in 0..<100 { write(path + "/d\(d)/f\(f).txt", "\(tag) \(d) \(f)") }
        }
    }

    func blockFiles() -> [String: UInt64] {
        var out: [String: UInt64] = [:]
        let root = dir + "/bucket/blocks"
        for sub in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            for n in (try? FileManager.default.contentsOfDirectory(atPath: root + "/" + sub)) ?? [] where n.count == 64 {
                var st = stat()
                if stat(root + "/" + sub + "/" + n, &st) == 0 { out[n] = UInt64(st.st_ino) }
            }
        }
        return out
    }

    func manifests(_ source: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/bucket/catalogs/" + source)) ?? []).filter { $0.hasSuffix(".manifest") }
    }

    @Test func theWalkthroughWorksOnObjectStorageAndAnotherHostReadsIt() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        tree(dir + "/snaps/2026-01-01", files: 6_000, tag: "one")
        tree(dir + "/snaps/2026-01-02", files: 6_000, tag: "one")
        write(dir + "/snaps/2026-01-02/d0/new.txt", "new")
        #expect(try run(["init"]).status == 0)
        #expect(try run(["init"]).status == 1)
        #expect(try run(["source", "add", "home", "--snapshots", dir + "/snaps", "--live-path", dir + "/live"]).status == 0)
        let index = try run(["-v", "index", "--source", "home"])
        #expect(index.status == 0)
        #expect(index.out.contains("object storage:") && index.out.contains("PUT"))
        #expect(manifests("home").count == 2)
        // Host b: every reader, from the store and its own cache.
        let points = try run(["points", "--json"], host: "b")
        #expect(points.status == 0)
        let last = points.out.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.hasPrefix("{\"requests\":{\"get\":") && last.contains("\"list\":1"))
        #expect(try run(["ls", "home@latest", "d0"], host: "b").out.contains("new.txt"))
        #expect(try run(["find", "new.txt"], host: "b").out.contains("/d0/new.txt"))
        #expect(try run(["versions", "home", "d1/f1.txt"], host: "b").status == 0)
        #expect(try run(["diff", "home@2026-01-01", "home@latest"], host: "b").out.contains("+ /d0/new.txt"))
        #expect(try run(["info", "home@latest", "d0/new.txt"], host: "b").status == 0)
        #expect(try run(["cat", "home@latest", "d0/new.txt"], host: "b").out == "new")
        #expect(try run(["restore", "home@latest", "d0/new.txt", "--to", dir + "/out"], host: "b").status == 0)
        #expect(FileManager.default.fileExists(atPath: dir + "/out/d0/new.txt"))
        #expect(try run(["verify"], host: "b").status == 0)
        // The database is a cache of this host's: rescan rebuilds it, even when damaged.
        let db = dir + "/cache-b/snapdex/" + ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/cache-b/snapdex"))?.first ?? "") + "/snapdex.db"
        try Data("not a database".utf8).write(to: URL(fileURLWithPath: db))
        let rescan = try run(["rescan"], host: "b")
        #expect(rescan.status == 0 && rescan.out.contains("2 point(s)"), "\(rescan.out)")
        #expect(try run(["verify", "--repair"], host: "b").out.contains("does not work on a repository on object storage"))
        // Writers on host b; host a sees the result.
        #expect(try run(["policy", "set", "home", "--keep-last", "1", "--apply-to-existing"], host: "b").status == 0)
        #expect(try run(["expire"], host: "b").status == 0)
        #expect(manifests("home").count == 1)
        #expect(try run(["points"]).out.split(separator: "\n").count == 2)
        #expect(try run(["gc"]).status == 0)
        #expect(try run(["verify"]).status == 0)
        #expect(try run(["source", "remove", "home", "--purge"]).status == 0)
        #expect(blockFiles().isEmpty)
        #expect(try run(["points"], host: "b").out.contains("no restore points"))
    }

    @Test func twoIndexersOfOtherSourcesAndAGcAtOnceLoseNothing() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        tree(dir + "/home/2026-01-01", files: 6_000, tag: "home")
        tree(dir + "/mail/2026-01-01", files: 6_000, tag: "mail")
        #expect(try run(["init"]).status == 0)
        #expect(try run(["source", "add", "home", "--snapshots", dir + "/home"]).status == 0)
        #expect(try run(["source", "add", "mail", "--snapshots", dir + "/mail"]).status == 0)
        final class Results: @unchecked Sendable {
            var all: [String: (status: Int32, out: String)] = [:]
        }
        let results = Results()
        let lock = NSLock()
        let jobs: [(String, [String])] = [("a", ["index", "--source", "home", "--wait", "300"]), ("b", ["index", "--source", "mail", "--wait", "300"]),
                                          ("c", ["gc", "--wait", "300"])]
        DispatchQueue.concurrentPerform(iterations: jobs.count) { i in
            let r = (try? run(jobs[i].1, host: jobs[i].0)) ?? (-1, "did not run")
            lock.withLock { results.all[jobs[i].0] = r }
        }
        for (host, r) in results.all { #expect(r.status == 0, "host \(host): \(r.out)") }
        let verify = try run(["verify"], host: "d")
        #expect(verify.status == 0, "\(verify.out)")
        #expect(verify.out.contains("verified 2 point(s)"))
        #expect(try !FileManager.default.contentsOfDirectory(atPath: dir + "/bucket").contains("locks")
                || FileManager.default.contentsOfDirectory(atPath: dir + "/bucket/locks").isEmpty)
    }

    @Test func killedWhileSendingThenRerunLosesNothingAndSendsNothingTwice() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        tree(dir + "/snaps/2026-01-01", files: 6_000, tag: "k")
        #expect(try run(["init"]).status == 0)
        #expect(try run(["source", "add", "home", "--snapshots", dir + "/snaps"]).status == 0)
        let killed = try run(["index", "--source", "home"], extra: ["SNAPDEX_CRASH_AFTER_BLOCKS_SENT": "2"])
        #expect(killed.status == 137)
        #expect(manifests("home").isEmpty)
        let sent = blockFiles()
        #expect(sent.count == 2)
        // The dead writer's lock is this host's, of a process that is gone: named, and ignored.
        let rerun = try run(["index", "--source", "home"])
        #expect(rerun.status == 0, "\(rerun.out)")
        #expect(rerun.out.contains("presumed dead"))
        #expect(manifests("home").count == 1)
        let after = blockFiles()
        // The blocks sent before the kill are the same objects: not sent again.
        for (name, inode) in sent { #expect(after[name] == inode) }
        #expect(try run(["verify"], host: "b").status == 0)
    }
}
