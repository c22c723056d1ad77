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
        let bad = try Self.run(["points", "--repo", "/nonexistent", "--cache-size", "lots"], cwd: dir)
        #expect(bad.status == 2)
        #expect(bad.out.contains("--cache-size takes a size"))
    }
}
