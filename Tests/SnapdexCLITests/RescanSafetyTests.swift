import Foundation
import Testing
import SnapdexTestSupport
@testable import SnapdexCLI
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Review 9: rescan, the cure every database error advises, must neither report success it
/// did not have (a full disk) nor show readers a half-built database.
extension CLITests {
    /// A small tmpfs makes the full disk real, so root.
    @Test(.enabled(if: getuid() == 0)) func rescanOnAFullDiskFailsAndKeepsTheOldDatabase() throws {
        let s = Scratch()
        let mnt = s.path + "/small"
        Tree.make(mnt)
        func sh(_ command: String) -> Int32 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", command]
            try? p.run()
            p.waitUntilExit()
            return p.terminationStatus
        }
        try #require(sh("mount -t tmpfs -o size=2m tmpfs '\(mnt)'") == 0)
        defer { _ = sh("umount '\(mnt)'") }
        for d in 1...2 { write(s.path + "/snaps/2026-11-0\(d)/f", "day \(d)") }
        let cli = CLI(repo: mnt + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "home", "--snapshots", s.path + "/snaps"]).status == 0)
        #expect(cli.run("index --source home").status == 0)
        #expect(cli.run("rescan").status == 0)
        let points = cli.run("points --json").out
        let db = mnt + "/repo/snapdex.db"
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        _ = sh("dd if=/dev/zero of='\(mnt)/filler' bs=4k 2>/dev/null")
        let r = cli.run("rescan")
        let errors = r.err.split(separator: "\n").filter { !$0.hasPrefix("snapdex: warning:") }
        #expect(r.status == 1 && errors.count == 1 && errors[0].contains("no space left") && !r.out.contains("rebuilt"), "\(r.out) \(r.err)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
        #expect(!FileManager.default.fileExists(atPath: db + ".rescan"))
        #expect(cli.run("points --json").out == points)
        // The advice, as printed: free some space and run it again. The old database was whole.
        unlink(mnt + "/filler")
        let after = cli.run("points --json")
        #expect(after.out == points && after.err.isEmpty, "\(after.err)")
        #expect(cli.run("rescan").status == 0)
        #expect(cli.run("points --json").out == points)
    }

    /// Readers running while rescans run (two at once) see the old database or the new one.
    @Test func readersNeverSeeAHalfBuiltDatabaseDuringRescans() throws {
        guard Snapdex.isBuilt else { Issue.record("snapdex is not built in .build/debug; run `swift build`"); return }
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        _ = cli
        let tool = Snapdex(repo: s.path + "/repo", scratch: s.path)
        let stop = Date().addingTimeInterval(6)
        let failures = CampaignTests.Findings()
        let threads = (0..<2).map { _ in
            Thread {
                while Date() < stop {
                    let r = tool.run(["rescan", "-q", "--wait", "30"])
                    if r.status != 0 { failures.note("`\(r.line)` exit \(r.status): \(r.err.prefix(200))") }
                }
            }
        }
        threads.forEach { $0.start() }
        var runs = 0
        while Date() < stop {
            for args in [["points"], ["ls", "home@latest", "/"], ["find", "f*"]] {
                let r = tool.run(args)
                runs += 1
                if r.status != 0 || r.err.contains("damaged") || r.err.contains("error") { failures.note("`\(r.line)` exit \(r.status): \(r.err.prefix(200))") }
            }
        }
        while threads.contains(where: { !$0.isFinished }) { usleep(20_000) }
        #expect(runs > 0)
        for line in failures.lines.prefix(10) { Issue.record(Comment(rawValue: line)) }
        #expect(cli.run("verify").status == 0)
    }
}
