import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The real `snapdex` binary in .build/debug run as a process, shared by both test targets:
/// its output goes to files (never a pipe that could fill up and stall it).

/// One finished run of the binary.
public struct ToolRun: Sendable {
    public var args: [String]
    public var status: Int32
    public var killedBySignal: Int32?
    public var out: Data
    public var err: String
    public var seconds: Double

    public var text: String { String(decoding: out, as: UTF8.self) }
    /// A Swift trap: death by a signal we did not send, a status of 128 or more, or the runtime's message.
    public var trapped: Bool { killedBySignal.map { $0 != SIGKILL } ?? (status >= 128) || err.contains("Fatal error") }
    public var line: String { "snapdex " + args.joined(separator: " ") }
    /// A report of damage (what a reader must never say about an intact repository).
    public var reportsDamage: Bool { status == 3 || err.contains("damaged") || err.contains("missing") }
}

public struct Snapdex: Sendable {
    public static let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/snapdex").path
    public static var isBuilt: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    /// The repository given as `--repo` and SNAPDEX_REPO (none when empty).
    public let repo: String
    /// Where output files go (a scratch folder of the test).
    public let scratch: String

    public init(repo: String, scratch: String) {
        self.repo = repo
        self.scratch = scratch
    }

    /// Runs `snapdex ARGS --repo REPO` with this process's environment, SNAPDEX_REPO=REPO and
    /// TZ=UTC, changed by `environment`. With `killAfter`, sends SIGKILL after that many
    /// seconds; with `timeout`, only if the run is still going then (a hang fails, not stalls,
    /// a test).
    @discardableResult
    public func run(_ args: [String], killAfter: Double? = nil, timeout: Double? = nil, passRepo: Bool = true, cwd: String? = nil,
                    environment: [String: String] = [:]) -> ToolRun {
        let id = UUID().uuidString
        let outPath = scratch + "/.out-" + id, errPath = scratch + "/.err-" + id
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        defer { unlink(outPath); unlink(errPath) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = passRepo && !repo.isEmpty ? args + ["--repo", repo] : args
        var env = ProcessInfo.processInfo.environment
        if !repo.isEmpty { env["SNAPDEX_REPO"] = repo }
        env["TZ"] = "UTC"
        p.environment = env.merging(environment) { _, given in given }
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle(forWritingAtPath: outPath)
        p.standardError = FileHandle(forWritingAtPath: errPath)
        let start = Date()
        do { try p.run() } catch {
            return ToolRun(args: args, status: 127, killedBySignal: nil, out: Data(), err: "cannot start \(Self.binary): \(error)", seconds: 0)
        }
        if let killAfter {
            usleep(UInt32(max(0, killAfter) * 1_000_000))
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        }
        if let timeout {
            let deadline = start.addingTimeInterval(timeout)
            while p.isRunning && Date() < deadline { usleep(10_000) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        }
        p.waitUntilExit()
        let seconds = Date().timeIntervalSince(start)
        let signaled = p.terminationReason == .uncaughtSignal
        return ToolRun(
            args: args, status: signaled ? 128 + p.terminationStatus : p.terminationStatus,
            killedBySignal: signaled ? p.terminationStatus : nil,
            out: FileManager.default.contents(atPath: outPath) ?? Data(),
            err: String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self),
            seconds: seconds)
    }
}
