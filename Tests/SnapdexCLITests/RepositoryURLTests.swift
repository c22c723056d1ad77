import Foundation
import Testing

/// `--repo s3://...` (or any `scheme://`) is refused with one line and exit 2 by every command
/// until repositories on object storage exist; it once created a folder named `s3:`.
@Suite struct RepositoryURLTests {
    func run(_ binary: String, _ args: [String], cwd: String, environment: [String: String] = [:]) throws -> (status: Int32, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "SNAPDEX_REPO")
        env["HOME"] = cwd
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let errPath = cwd + "/.err"
        FileManager.default.createFile(atPath: errPath, contents: nil)
        p.standardError = FileHandle(forWritingAtPath: errPath)
        p.standardOutput = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        defer { unlink(errPath) }
        return (p.terminationStatus, (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }

    @Test func urlsAreNeverTakenForLocalFolders() throws {
        guard let binary = builtSnapdex() else { return }
        let dir = NSTemporaryDirectory() + "snapdex-url-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lines: [[String]] = [
            ["init", "--repo", "s3://bkt/p"], ["--repo", "s3://bkt/p", "points"], ["points", "--repo=s3://bkt"],
            ["source", "list", "--repo", "gs://bkt/p"], ["index", "/nonexistent", "--source", "x", "--repo", "https://host/x"],
            ["rescan", "--repo", "s3://bkt/p"], ["verify", "--repo", "s3://bkt/p"], ["browse", "--repo", "s3://bkt/p"],
        ]
        for args in lines {
            let r = try run(binary, args, cwd: dir)
            #expect(r.status == 2, "\(args)")
            #expect(r.err.hasPrefix("snapdex: ") && r.err.split(separator: "\n").count == 1, "\(args): \(r.err)")
            #expect(r.err.contains("keeps repositories in local folders only"), "\(args): \(r.err)")
        }
        let fromEnvironment = try run(binary, ["init"], cwd: dir, environment: ["SNAPDEX_REPO": "s3://bkt/p"])
        #expect(fromEnvironment.status == 2 && fromEnvironment.err.contains("SNAPDEX_REPO"))
        let malformed = try run(binary, ["init", "--repo", "s3://Not_A_Bucket/p"], cwd: dir)
        #expect(malformed.status == 2)
        #expect(malformed.err.contains("a bucket name has only lower-case letters"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty, "nothing was created in the working directory")
    }
}
