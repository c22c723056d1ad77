import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Defects a hostile review found in indexing and the session log.
extension CLITests {
    /// Symlinks in a snapshots folder are skipped with a warning, never followed; an empty
    /// snapshot folder is skipped with a warning; every warning printed is counted.
    @Test func symlinksAndEmptyFoldersAreSkippedAndCounted() throws {
        let s = Scratch()
        write(s.path + "/snaps/2026-11-20/f", "a")
        write(s.path + "/snaps/nightly/f", "b")
        setMTime(s.path + "/snaps/nightly", 1_763_000_000)
        Tree.make(s.path + "/snaps/2026-11-22")
        symlink("/etc", s.path + "/snaps/2026-11-21")
        symlink("2026-11-20", s.path + "/snaps/latest")
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "u", "--snapshots", s.path + "/snaps"]).status == 0)
        let r = cli.run("index --source u")
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("\(s.path)/snaps/2026-11-21 is a symlink, not a snapshot: skipped"), "\(r.err)")
        #expect(r.err.contains("\(s.path)/snaps/latest is a symlink"), "\(r.err)")
        #expect(r.err.contains("\(s.path)/snaps/2026-11-22 is empty: skipped"), "\(r.err)")
        let times = pointTimes(cli, source: "u")
        #expect(Set(times.keys) == [s.path + "/snaps/2026-11-20", s.path + "/snaps/nightly"], "\(times)")
        // Two skipped symlinks, one empty folder and one guessed time: 4 warnings printed.
        #expect(r.out.contains("total: 2 points of u"), "\(r.out)")
        #expect(r.out.contains("4 warnings"), "\(r.out)")
        // The advice for the empty folder works as printed.
        let advice = try #require(r.err.split(separator: "`").dropFirst().first.map(String.init))
        #expect(advice == "snapdex index \(s.path)/snaps/2026-11-22 --source u --allow-empty")
        let plain = cli.run(Array(advice.split(separator: " ").dropFirst().dropLast().map(String.init)))
        #expect(plain.status == 1 && plain.err.contains("is empty, so it is not indexed"), "\(plain.err)")
        let allowed = cli.run(Array(advice.split(separator: " ").dropFirst().map(String.init)))
        #expect(allowed.status == 0, "\(allowed.err)")
        #expect(pointTimes(cli, source: "u").count == 3)
    }

    /// A single DIR whose time is guessed: the summary counts that warning.
    @Test func guessedTimeIsCountedForOneDirectory() {
        let s = Scratch()
        write(s.path + "/nightly.0/f", "a")
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        let r = cli.run(["index", s.path + "/nightly.0", "--source", "u"])
        #expect(r.status == 0 && r.err.contains("warning"), "\(r.err)")
        #expect(r.out.contains("1 warning"), "\(r.out)")
    }

    /// `index --source S --json` with nothing to index prints a JSON object, never plain text.
    @Test func indexJSONWithNothingToIndexIsJSON() throws {
        let s = Scratch()
        write(s.path + "/snaps/2026-11-20/f", "a")
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "u", "--snapshots", s.path + "/snaps"]).status == 0)
        #expect(cli.run("index --source u").status == 0)
        let r = cli.run("index --source u --json")
        #expect(r.status == 0, "\(r.err)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any], "\(r.out)")
        #expect(o["indexed"] as? Int == 0)
        #expect(o["source"] as? String == "u")
        #expect((o["message"] as? String)?.hasPrefix("nothing to index") == true)
    }

    /// A torn last line of sessions.jsonl stays one unreadable line: the next record survives.
    @Test func tornSessionLineDoesNotSwallowTheNext() throws {
        let s = Scratch()
        write(s.path + "/snaps/2026-11-20/f", "a")
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "u", "--snapshots", s.path + "/snaps"]).status == 0)
        let fd = open(s.path + "/repo/sessions.jsonl", O_WRONLY | O_APPEND | O_CREAT, 0o600)
        _ = "{\"broken".withCString { Glibc.write(fd, $0, 8) }
        close(fd)
        #expect(cli.run("index --source u").status == 0)
        let log = try Repository.open(at: s.path + "/repo").sessionLog()
        #expect(log.unreadable == 1)
        #expect(log.sessions.contains { $0.kind == "index" }, "\(log.sessions.map(\.kind))")
    }
}
