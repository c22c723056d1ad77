import Foundation
import Testing
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Many hosts on one bucket of the real gateway, as real snapdex processes. Each host is its
/// own cache folder (XDG_CACHE_HOME) and, where the system allows (`unshare --uts`), its own
/// host name, so lock objects name the host that wrote them and a lock of another host is
/// waited out, not recognised by its pid. Requests that a test must see, fail or stop go
/// through a FaultProxy in front of the gateway.
@Suite(.enabled(if: TestGateway.isAvailable, TestGateway.skipReason))
struct S3HostsTests {
    @Test func twoIndexersOfOtherSourcesAndAGcAtOnceLoseNothing() throws {
        let bucket = try S3Hosts()
        bucket.tree("home/2026-01-01", files: 6_000, tag: "home")
        bucket.tree("home/2026-01-02", files: 6_000, tag: "home")
        Tree.write(bucket.dir + "/home/2026-01-02/d3/new.txt", "new")
        bucket.tree("mail/2026-01-01", files: 6_000, tag: "mail")
        #expect(try bucket.run(["init"]).status == 0)
        #expect(try bucket.run(["source", "add", "home", "--snapshots", bucket.dir + "/home"]).status == 0)
        #expect(try bucket.run(["source", "add", "mail", "--snapshots", bucket.dir + "/mail"]).status == 0)
        let jobs = [try bucket.start(["index", "--source", "home", "--wait", "300"], host: "host-a"),
                    try bucket.start(["index", "--source", "mail", "--wait", "300"], host: "host-b"),
                    try bucket.start(["gc", "--wait", "300"], host: "host-c")]
        for job in jobs {
            let r = job.wait()
            #expect(r.status == 0, "\(job.args): \(r.out)")
        }
        let verify = try bucket.run(["verify"], host: "host-d")
        #expect(verify.status == 0 && verify.out.contains("verified 3 point(s)"), "\(verify.out)")
        #expect(try bucket.run(["cat", "home@latest", "d3/new.txt"], host: "host-d").out == "new")
        #expect(try bucket.keys("catalogs/").filter { $0.hasSuffix(".manifest") }.count == 3)
        #expect(try bucket.keys("locks/").isEmpty)
    }

    /// gc holds its lock (its next request is kept at the proxy's gate): forget and expire are
    /// refused at once naming it, and an expire that waits goes on only once gc is done.
    @Test func exclusiveWritersRunAloneAndTheSecondWaitsOrIsRefusedNamingTheLock() throws {
        let bucket = try S3Hosts()
        bucket.tree("home/2026-01-01", files: 6_000, tag: "one")
        bucket.tree("home/2026-01-02", files: 6_000, tag: "two")
        #expect(try bucket.run(["init"]).status == 0)
        #expect(try bucket.run(["source", "add", "home", "--snapshots", bucket.dir + "/home"]).status == 0)
        #expect(try bucket.run(["policy", "set", "home", "--keep-last", "1"]).status == 0)
        #expect(try bucket.run(["index", "--source", "home"]).status == 0)
        let gate = try FaultProxy(upstream: bucket.server.endpoint)
        defer { gate.stop() }
        gate.setRule { [unowned gate] r in
            if r.isPut(under: "locks/") { gate.hold() }
            return nil
        }
        let gc = try bucket.start(["gc"], host: "host-b", through: gate)
        #expect(gate.awaitHeldRequest(seconds: 120), "gc never wrote its lock")
        gate.setRule(nil)
        let holder = bucket.namesHosts ? "host host-b" : "pid \(gc.pid)"
        for args in [["forget", "home@latest"], ["expire"], ["index", "--source", "home"]] {
            let r = try bucket.run(args + ["--wait", "0"], host: "host-a")
            #expect(r.status == 1, "\(args): \(r.out)")
            #expect(r.out.contains("in use by another writer") && r.out.contains("changing points of every source") && r.out.contains(holder)
                    && r.out.contains("--wait SECONDS") && r.out.split(separator: "\n").count == 1, "\(args): \(r.out)")
        }
        // An expire that waits: it lists the locks again and again, and writes its own only
        // after gc removed gc's.
        let watch = try FaultProxy(upstream: bucket.server.endpoint)
        defer { watch.stop() }
        let expire = try bucket.start(["expire", "--wait", "300"], host: "host-a", through: watch)
        #expect(bucket.until(seconds: 120) { watch.seenRequests.filter(\.listsLocks).count >= 3 }, "expire never waited")
        #expect(!watch.seenRequests.contains { $0.isPut(under: "locks/") }, "expire took a lock while gc held one")
        gate.release()
        let gcDone = gc.wait()
        #expect(gcDone.status == 0, "\(gcDone.out)")
        let expired = expire.wait()
        #expect(expired.status == 0, "\(expired.out)")
        #expect(try bucket.keys("catalogs/home/").filter { $0.hasSuffix(".manifest") }.count == 1)
        #expect(try bucket.keys("locks/").isEmpty)
        let verify = try bucket.run(["verify"], host: "host-c")
        #expect(verify.status == 0 && verify.out.contains("verified 1 point(s)"), "\(verify.out)")
    }

    /// A gc on host-b is killed (-9) holding its lock: the lock stays live until its expiry
    /// (another host's pid means nothing here), so a writer is refused naming it; after the
    /// expiry a waiting gc names it as presumed dead, takes over and removes it.
    @Test(.enabled(if: S3Hosts.canNameHosts, "unshare --uts is not allowed here: every process has this host's name"))
    func aKilledHostsLockIsNamedStaleAndTakenOverAfterItsExpiry() throws {
        let bucket = try S3Hosts()
        bucket.tree("home/2026-01-01", files: 6_000, tag: "one")
        #expect(try bucket.run(["init"]).status == 0)
        #expect(try bucket.run(["source", "add", "home", "--snapshots", bucket.dir + "/home"]).status == 0)
        #expect(try bucket.run(["index", "--source", "home"]).status == 0)
        let gate = try FaultProxy(upstream: bucket.server.endpoint)
        defer { gate.stop() }
        gate.setRule { [unowned gate] r in
            if r.isPut(under: "locks/") { gate.hold() }
            return nil
        }
        // The dead host's lock expires 20 s after it was written (SNAPDEX_LOCK_LIFETIME).
        let gc = try bucket.start(["gc"], host: "host-b", through: gate, extra: ["SNAPDEX_LOCK_LIFETIME": "20"])
        #expect(gate.awaitHeldRequest(seconds: 120), "gc never wrote its lock")
        gc.kill()
        #expect(gc.wait().killed)
        gate.release()
        let dead = try bucket.keys("locks/")
        #expect(dead.count == 1)
        let refused = try bucket.run(["forget", "home@latest", "--wait", "0"], host: "host-a")
        #expect(refused.status == 1 && refused.out.contains("host host-b") && refused.out.contains("pid \(gc.pid)"), "\(refused.out)")
        let takeover = try bucket.run(["gc", "--wait", "300"], host: "host-a")
        #expect(takeover.status == 0, "\(takeover.out)")
        #expect(takeover.out.contains(dead.first ?? "?") && takeover.out.contains("host host-b") && takeover.out.contains("expired at")
                && takeover.out.contains("presumed dead"), "\(takeover.out)")
        #expect(try bucket.keys("locks/").isEmpty)
        #expect(try bucket.run(["verify"], host: "host-c").status == 0)
    }

    /// The proxy kills the index (-9) as it asks to send its sixth block; the rerun sends
    /// each block the first run did not, once, and the point verifies on another host.
    @Test func killedWhileIndexingThenRerunLosesNothingAndSendsNoBlockTwice() throws {
        let bucket = try S3Hosts()
        bucket.tree("home/2026-01-01", files: 20_000, tag: "k")
        #expect(try bucket.run(["init"]).status == 0)
        #expect(try bucket.run(["source", "add", "home", "--snapshots", bucket.dir + "/home"]).status == 0)
        let proxy = try FaultProxy(upstream: bucket.server.endpoint)
        defer { proxy.stop() }
        let victim = PidBox()
        let blockPuts = LockedCount()
        proxy.setRule { r in
            guard r.isPut(under: "blocks/") else { return nil }
            blockPuts.add()
            if blockPuts.value == 6 {
                victim.kill()
                return .drop
            }
            return nil
        }
        let killed = try bucket.start(["index", "--source", "home"], host: "host-a", through: proxy)
        victim.pid = killed.pid
        let first = killed.wait()
        #expect(first.killed, "the index ended before its sixth block: \(first.out)")
        proxy.setRule(nil)
        let sentBefore = proxy.seenRequests.filter { $0.isPut(under: "blocks/") }.map(\.path).dropLast()
        #expect(sentBefore.count == 5)
        #expect(try bucket.keys("catalogs/home/").filter { $0.hasSuffix(".manifest") }.isEmpty)
        #expect(try bucket.keys("blocks/").count == 5)

        let mark = proxy.seenRequests.count
        let rerun = try bucket.run(["index", "--source", "home", "--json"], host: "host-a", through: proxy)
        #expect(rerun.status == 0, "\(rerun.out)")
        let requests = proxy.seenRequests.dropFirst(mark)
        let sentNow = requests.filter { $0.isPut(under: "blocks/") }.map(\.path)
        #expect(Set(sentNow).isDisjoint(with: sentBefore), "a block was sent twice")
        #expect(sentNow.count == Set(sentNow).count)
        #expect(sentNow.count + sentBefore.count == (try bucket.keys("blocks/").count))
        // What --json reports is what reached the server.
        let reported = S3Hosts.requests(rerun.out)
        #expect(reported?["put"] == requests.filter { $0.method == "PUT" }.count, "\(rerun.out)")
        #expect(reported?["head"] == requests.filter { $0.method == "HEAD" }.count)
        let verify = try bucket.run(["verify"], host: "host-b")
        #expect(verify.status == 0 && verify.out.contains("verified 1 point(s)"), "\(verify.out)")
        let found = try bucket.run(["find", "f99.txt"], host: "host-b").out
        #expect(found.contains("/d0/f99.txt") && found.contains("/d199/f99.txt"), "\(found)")
    }

    /// Errors, dropped and reset connections on block PUTs are retried and the index lands
    /// whole; when every attempt fails, nothing half-done is published, the message says to
    /// rerun, and the rerun completes.
    @Test func faultsDuringAnIndexAreRetriedOrGiveUpWithNothingHalfPublished() throws {
        let bucket = try S3Hosts()
        bucket.tree("home/2026-01-01", files: 6_000, tag: "one")
        #expect(try bucket.run(["init"]).status == 0)
        #expect(try bucket.run(["source", "add", "home", "--snapshots", bucket.dir + "/home"]).status == 0)
        let proxy = try FaultProxy(upstream: bucket.server.endpoint)
        defer { proxy.stop() }
        let faults: [FaultProxy.Fault] = [.status(503, code: "SlowDown"), .drop, .reset, .status(429, code: "TooManyRequests"),
                                          .status(500, code: "InternalError"), .delay(0.3), .dropAnswer]
        let blockPuts = LockedCount()
        proxy.setRule { r in
            guard r.isPut(under: "blocks/") else { return nil }
            blockPuts.add()
            return blockPuts.value <= faults.count ? faults[blockPuts.value - 1] : nil
        }
        let retried = try bucket.run(["-v", "index", "--source", "home"], host: "host-a", through: proxy)
        #expect(retried.status == 0, "\(retried.out)")
        #expect(blockPuts.value > faults.count)
        #expect(try bucket.run(["verify"], host: "host-b").out.contains("verified 1 point(s)"))

        // A gateway that refuses every block of the next index: six attempts each, then it stops.
        bucket.tree("home/2026-01-02", files: 6_000, tag: "two")
        proxy.setRule { r in r.isPut(under: "blocks/") ? .status(503, code: "SlowDown") : nil }
        let failed = try bucket.run(["index", "--source", "home"], host: "host-a", through: proxy)
        #expect(failed.status == 1, "\(failed.out)")
        let last = failed.out.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.contains("503 SlowDown") && last.contains("nothing half-done is visible") && last.contains("rerun `snapdex --repo \(bucket.repo) index --source home`"), "\(last)")
        #expect(try bucket.keys("catalogs/home/").filter { $0.hasSuffix(".manifest") }.count == 1)
        #expect(try bucket.keys("locks/").isEmpty)
        let points = try bucket.run(["points"], host: "host-b")
        #expect(points.out.contains("2026-01-01") && !points.out.contains("2026-01-02"), "\(points.out)")
        #expect(try bucket.run(["verify"], host: "host-b").status == 0)
        proxy.setRule(nil)
        // The command the message names, run as printed.
        let printed = last.components(separatedBy: "rerun `snapdex ").last?.components(separatedBy: "`").first ?? ""
        let again = try bucket.run(printed.split(separator: " ").map(String.init), host: "host-a", through: proxy)
        #expect(again.status == 0, "\(again.out)")
        let verify = try bucket.run(["verify"], host: "host-b")
        #expect(verify.status == 0 && verify.out.contains("verified 2 point(s)"), "\(verify.out)")
    }
}

extension FaultProxy.Seen {
    /// A LIST of the lock objects (`GET /bucket?list-type=2&prefix=.../locks/`).
    var listsLocks: Bool { method == "GET" && query.contains("list-type=2") && query.contains("locks%2F") }
}

/// The pid a proxy rule kills (set once the process runs).
final class PidBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: pid_t = 0
    var pid: pid_t {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }

    func kill() {
        let p = pid
        if p > 0 { _ = Glibc.kill(p, SIGKILL) }
    }
}

/// A bucket of its own on the test gateway, the snapdex binary, and the hosts that use it.
final class S3Hosts {
    let server: TestGateway.Server
    let dir: String
    let repo: String
    private let temp = TempDir()

    static let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/snapdex").path

    /// Whether a process may be given a host name of its own (a UTS namespace; root here).
    static let canNameHosts: Bool = system("/usr/bin/unshare --uts /bin/true >/dev/null 2>&1") == 0

    var namesHosts: Bool { Self.canNameHosts }

    init(function: String = #function) throws {
        server = try TestGateway.server()
        dir = temp.path
        let name = "t-hosts-" + String(function.lowercased().filter { $0.isLetter }.prefix(24)) + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        repo = "s3://\(name)/site"
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else { throw TestGateway.GatewayError(why: "snapdex is not built; run `make test`") }
    }

    func tree(_ path: String, files: Int, tag: String) {
        for d in 0..<(files / 100) {
            for f in 0..<100 { Tree.write(dir + "/\(path)/d\(d)/f\(f).txt", "\(tag) \(d) \(f)") }
        }
    }

    /// The store, seen directly (the test's own look at the bucket).
    func keys(_ prefix: String) throws -> [String] {
        let url = try ObjectStorageURL.parse(repo)
        let store = S3ObjectStore(url: url, configuration: try TestGateway.configuration())
        defer { store.shutdown() }
        return try store.list(prefix: prefix).map(\.key)
    }

    func environment(host: String, endpoint: S3Endpoint, extra: [String: String]) -> [String: String] {
        ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": dir, "TZ": "UTC", "SNAPDEX_REPO": repo,
         "XDG_CACHE_HOME": dir + "/cache-" + host, "AWS_ENDPOINT_URL": endpoint.description,
         "AWS_ACCESS_KEY_ID": server.accessKey, "AWS_SECRET_ACCESS_KEY": server.secretKey, "AWS_REGION": "us-east-1"]
            .merging(extra) { _, b in b }
    }

    final class Running: @unchecked Sendable {
        let process: Process
        let args: [String]
        let output: String
        var pid: pid_t { process.processIdentifier }

        init(process: Process, args: [String], output: String) {
            self.process = process
            self.args = args
            self.output = output
        }

        func kill() { _ = Glibc.kill(pid, SIGKILL) }

        func wait() -> (status: Int32, out: String, killed: Bool) {
            process.waitUntilExit()
            let out = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            let killed = process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
            return (process.terminationStatus, out, killed)
        }
    }

    /// Starts snapdex as `host` (its cache; its name, where processes may have one), talking
    /// to the gateway or to `proxy` in front of it.
    func start(_ args: [String], host: String = "host-a", through proxy: FaultProxy? = nil, extra: [String: String] = [:]) throws -> Running {
        let p = Process()
        if namesHosts {
            // unshare and sh exec: the process id is snapdex's.
            p.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
            p.arguments = ["--uts", "/bin/sh", "-c", "hostname \"$1\" && shift && exec \"$@\"", "sh", host, Self.binary] + args
        } else {
            p.executableURL = URL(fileURLWithPath: Self.binary)
            p.arguments = args
        }
        p.environment = environment(host: host, endpoint: proxy?.endpoint ?? server.endpoint, extra: extra)
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let output = dir + "/.out-" + UUID().uuidString
        FileManager.default.createFile(atPath: output, contents: nil)
        // One handle for both: two would each write from offset 0, over each other.
        let handle = FileHandle(forWritingAtPath: output)
        p.standardOutput = handle
        p.standardError = handle
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return Running(process: p, args: args, output: output)
    }

    func run(_ args: [String], host: String = "host-a", through proxy: FaultProxy? = nil, extra: [String: String] = [:]) throws -> (status: Int32, out: String) {
        let r = try start(args, host: host, through: proxy, extra: extra).wait()
        return (r.status, r.out)
    }

    /// Polls `condition` until it holds (true) or `seconds` pass (false).
    func until(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }

    /// The `{"requests": {...}}` line of a --json run, by kind.
    static func requests(_ out: String) -> [String: Int]? {
        guard let line = out.split(separator: "\n").last(where: { $0.hasPrefix("{\"requests\":") }),
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let counts = object["requests"] as? [String: Any] else { return nil }
        return counts.compactMapValues { ($0 as? NSNumber)?.intValue }
    }
}
