import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A session log that is not a regular file, and a copy refused for its source repository's
/// `archive` folder: real processes, real folders.
@Suite struct SessionLogAndCopyRefusalTests {
    let binary = packageRoot.appendingPathComponent(".build/debug/snapdex").path

    func run(_ args: [String]) throws -> (status: Int32, out: String) { try runTool(binary, args) }

    /// Writers skipped the session log without a word when sessions.jsonl was a folder: now
    /// one line says so and how to fix it (followed as printed, the next run is logged), and
    /// the exit status is the command's own.
    @Test func aSessionLogThatIsNotAFileIsSaidOnceAndItsAdviceWorks() throws {
        guard builtSnapdex() != nil else { return }
        let s = Scratch()
        let repo = s.path + "/repo"
        for day in ["2026-11-01", "2026-11-02", "2026-11-03"] { write(s.path + "/snaps/\(day)/f", day) }
        #expect(try run(["init", "--repo", repo]).status == 0)
        #expect(try run(["source", "add", "s", "--snapshots", s.path + "/snaps", "--repo", repo]).status == 0)
        mkdir(repo + "/sessions.jsonl", 0o700)
        // Three points, three sessions not logged: one line.
        let r = try run(["index", "--source", "s", "-q", "--repo", repo])
        #expect(r.status == 0, "\(r.out)")
        let lines = r.out.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("\(repo)/sessions.jsonl is a folder, not a regular file") && lines[0].contains("not logged"), "\(r.out)")
        // Other writers say it too, keeping their exit status.
        let forget = try run(["forget", "s@2026-11-01", "--repo", repo])
        #expect(forget.status == 0 && forget.out.contains("sessions.jsonl is a folder"), "\(forget.out)")
        // The advice, run as printed.
        let parts = r.out.split(separator: "`", omittingEmptySubsequences: false)
        let mv = try #require(parts.count >= 3 ? String(parts[1]) : nil, "\(r.out)")
        #expect(mv.hasPrefix("mv -- "), "\(mv)")
        #expect(try runTool("/bin/sh", ["-c", mv]).status == 0)
        write(s.path + "/snaps/2026-11-04/f", "4")
        let again = try run(["index", "--source", "s", "--repo", repo])
        #expect(again.status == 0 && !again.out.contains("sessions.jsonl"), "\(again.out)")
        #expect(try run(["sessions", "--repo", repo]).out.contains("index"))
    }

    /// With `archive` a symbolic link in the source repository, `copy --to NEW` made NEW a
    /// repository and only then refused: now it refuses before making anything.
    @Test func aCopyRefusedForASymlinkedArchiveMakesNoTarget() throws {
        guard builtSnapdex() != nil else { return }
        let s = Scratch()
        let repo = s.path + "/repo", target = s.path + "/new-target"
        write(s.path + "/snaps/2026-11-01/f", "1")
        #expect(try run(["init", "--repo", repo]).status == 0)
        #expect(try run(["source", "add", "s", "--snapshots", s.path + "/snaps", "--repo", repo]).status == 0)
        #expect(try run(["index", "--source", "s", "--repo", repo]).status == 0)
        try FileManager.default.createDirectory(atPath: s.path + "/elsewhere", withIntermediateDirectories: true)
        symlink(s.path + "/elsewhere", repo + "/archive")
        for dry in [[], ["--dry-run"]] {
            let r = try run(["copy", "--to", target, "--repo", repo] + dry)
            #expect(r.status == 3 && r.out.contains("\(repo)/archive is a symbolic link"), "\(r.out)")
            #expect(!FileManager.default.fileExists(atPath: target), "\(dry): the refused copy made \(target)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.path + "/elsewhere").isEmpty)
    }
}
