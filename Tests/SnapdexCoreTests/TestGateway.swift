import Foundation
import Testing
@testable import SnapdexCore

/// The S3 server the object-storage tests run against: a real Ceph RADOS Gateway, which
/// checks signatures for real.
///
/// `make test` starts one for the whole run (scripts/start-rgw.sh) and passes it in
/// `SNAPDEX_TEST_S3_ENDPOINT`, `SNAPDEX_TEST_S3_ACCESS_KEY` and `SNAPDEX_TEST_S3_SECRET_KEY`.
/// Without them (a plain `swift test`) the first test that needs it starts one through the
/// same script and the process stops it when it exits; when radosgw is not installed, those
/// tests are skipped with the reason (`TestGateway.skipReason`).
enum TestGateway {
    struct Server: Sendable {
        var endpoint: S3Endpoint
        var accessKey: String
        var secretKey: String
    }

    /// Tests that need the gateway: `@Test(.enabled(if: TestGateway.isAvailable, TestGateway.skipReason))`.
    static var isAvailable: Bool { ProcessInfo.processInfo.environment["SNAPDEX_TEST_S3_ENDPOINT"] != nil || radosgwInstalled }

    static let skipReason: Comment = "radosgw is not installed and SNAPDEX_TEST_S3_ENDPOINT is not set: the object-storage tests need an S3 gateway; `make test` installs and starts one (apt-get install --no-install-recommends radosgw ceph-mon ceph-osd curl)"

    static var radosgwInstalled: Bool {
        ["/usr/bin/radosgw", "/usr/local/bin/radosgw"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The gateway, started on first use when the environment names none.
    static func server() throws -> Server { try shared.get() }

    private static let shared: Result<Server, GatewayError> = {
        let env = ProcessInfo.processInfo.environment
        if let endpoint = env["SNAPDEX_TEST_S3_ENDPOINT"] {
            guard let e = try? S3Endpoint.parse(endpoint) else { return .failure(GatewayError(why: "SNAPDEX_TEST_S3_ENDPOINT=\(endpoint) is not a URL")) }
            return .success(Server(endpoint: e, accessKey: env["SNAPDEX_TEST_S3_ACCESS_KEY"] ?? "", secretKey: env["SNAPDEX_TEST_S3_SECRET_KEY"] ?? ""))
        }
        return startOwn()
    }()

    struct GatewayError: Error, CustomStringConvertible {
        var why: String
        var description: String { why }
    }

    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts")

    /// Where the process's own gateway lives, for the exit handler (a C function cannot capture).
    nonisolated(unsafe) static var ownDirectory: String?

    private static func startOwn() -> Result<Server, GatewayError> {
        let dir = NSTemporaryDirectory() + "snapdex-rgw-\(getpid())"
        let log = dir + ".log"
        FileManager.default.createFile(atPath: log, contents: nil)
        // `system`, not Process: the daemons outlive the script and inherit what it had open,
        // and Foundation's Process then never sees it end.
        let script = scripts.appendingPathComponent("start-rgw.sh").path
        let status = system("/bin/bash '\(script)' '\(dir)' </dev/null >/dev/null 2>'\(log)'")
        ownDirectory = dir
        atexit { if let d = TestGateway.ownDirectory { TestGateway.stopOwn(d) } }
        guard status == 0 else {
            let logged = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return .failure(GatewayError(why: "start-rgw.sh failed (log \(log)): " + logged.suffix(2000)))
        }
        var values: [String: String] = [:]
        for line in ((try? String(contentsOfFile: dir + "/env", encoding: .utf8)) ?? "").split(separator: "\n") {
            let kv = line.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { values[String(kv[0])] = String(kv[1]) }
        }
        guard let text = values["SNAPDEX_TEST_S3_ENDPOINT"], let e = try? S3Endpoint.parse(text) else {
            return .failure(GatewayError(why: "start-rgw.sh wrote no endpoint to \(dir)/env"))
        }
        try? FileManager.default.removeItem(atPath: log)
        print("TestGateway: started radosgw at \(text) for this test process (scripts/start-rgw.sh \(dir))")
        return .success(Server(endpoint: e, accessKey: values["SNAPDEX_TEST_S3_ACCESS_KEY"] ?? "", secretKey: values["SNAPDEX_TEST_S3_SECRET_KEY"] ?? ""))
    }

    /// Runs at exit: `system`, because Foundation's Process may not run while the process ends.
    static func stopOwn(_ dir: String) {
        let script = scripts.appendingPathComponent("stop-rgw.sh").path
        _ = system("/bin/bash '\(script)' '\(dir)' >/dev/null 2>&1")
    }

    /// A configuration for the gateway (or `endpoint`, a proxy in front of it), with `retry`.
    static func configuration(endpoint: S3Endpoint? = nil, secret: String? = nil, retry: RetryPolicy = .standard) throws -> S3Configuration {
        let s = try server()
        return S3Configuration(endpoint: endpoint ?? s.endpoint, region: "us-east-1",
                               credentials: S3Credentials(accessKeyID: s.accessKey, secretAccessKey: secret ?? s.secretKey, origin: "the test gateway"),
                               retry: retry)
    }

    /// A new bucket of its own for one test, so tests run in parallel without meeting.
    static func freshStore(prefix: String = "repo", retry: RetryPolicy = .standard, function: String = #function) throws -> S3ObjectStore {
        let name = "t-" + String(function.lowercased().filter { $0.isLetter || $0.isNumber }.prefix(30)) + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let store = S3ObjectStore(url: ObjectStorageURL(bucket: name, prefix: prefix), configuration: try configuration(retry: retry))
        try store.createBucketIfMissing()
        return store
    }
}
