import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

extension CLITests {
    /// `-q` leaves nothing but errors: every command that changes things prints nothing on
    /// success, on standard output or error; listings asked for (--dry-run) still print.
    @Test func quietSilencesEveryChangingCommand() throws {
        let s = Scratch()
        for day in ["2026-11-01", "2026-11-02", "2026-11-03"] {
            write(s.path + "/snaps/\(day)/docs/a.txt", "a \(day)")
        }
        try FileManager.default.createDirectory(atPath: s.path + "/live", withIntermediateDirectories: true)
        let cli = CLI(repo: s.path + "/repo")
        let commands: [[String]] = [
            ["init"],
            ["source", "add", "home", "--snapshots", s.path + "/snaps"],
            ["source", "set", "home", "--live-path", s.path + "/live"],
            ["index", "--source", "home"],
            ["policy", "set", "home", "--keep-last", "2", "--zone", "UTC"],
            ["policy", "set", "home", "--keep-last", "2", "--zone", "UTC", "--apply-to-existing"],
            ["point", "keep", "home@2026-11-01", "--until", "2100-01-01"],
            ["point", "keep", "home@2026-11-01", "--release"],
            ["restore", "home@latest", "/docs", "--to", s.path + "/out"],
            ["restore", "home@latest", "/docs", "--tar", s.path + "/out.tar"],
            ["expire"],
            ["forget", "home@latest"],
            ["gc"],
            ["rescan"],
            ["verify"],
            ["policy", "set", "home", "--clear"],
            ["source", "add", "other", "--snapshots", s.path + "/snaps"],
            ["source", "remove", "other"],
        ]
        for c in commands {
            let r = cli.run(c + ["-q"])
            #expect(r.status == 0 && r.out.isEmpty && r.err.isEmpty, "snapdex \(c.joined(separator: " ")) -q: \(r)")
        }
        // What was asked for prints even with -q.
        let listed = cli.run(["forget", "home@latest", "--dry-run", "-q"])
        #expect(listed.status == 0 && listed.out.contains("would forget"))
        #expect(cli.run(["points", "-q"]).out.contains("home"))
    }

    /// Advice fits the case: a file or a folder of other things given as --repo is named for
    /// what it is (init would refuse it); an empty source name is a usage error; a missing
    /// live path is called a live path.
    @Test func adviceNamesWhatIsWrong() throws {
        let s = Scratch()
        write(s.path + "/afile", "x")
        write(s.path + "/junk/a", "x")
        let file = CLI(repo: s.path + "/afile").run("points")
        #expect(file.status == 1 && file.err.contains("is a file, not a Snapdex repository") && !file.err.contains("init"), "\(file.err)")
        let junk = CLI(repo: s.path + "/junk").run("points")
        #expect(junk.status == 1 && junk.err.contains("not a Snapdex repository") && !junk.err.contains("init"), "\(junk.err)")
        // An empty folder (or none) is where `init` works, so there the advice stays, and works.
        try FileManager.default.createDirectory(atPath: s.path + "/empty", withIntermediateDirectories: true)
        let empty = CLI(repo: s.path + "/empty").run("points")
        #expect(empty.status == 1 && empty.err.contains("snapdex init --repo \(s.path)/empty"), "\(empty.err)")
        #expect(CLI(repo: s.path + "/empty").run(["init", "--repo", s.path + "/empty"]).status == 0)

        write(s.path + "/snap/a.txt", "a")
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["index", s.path + "/snap", "--source", "tank", "--at", "2026-01-01"]).status == 0)
        let noName = cli.run(["ls", "@latest"])
        #expect(noName.status == 2 && noName.err.contains("source name is empty") && !noName.err.contains("source add  "), "\(noName.err)")
        let live = cli.run(["source", "set", "tank", "--live-path", s.path + "/missing"])
        #expect(live.status == 1 && live.err.contains("live path \(s.path)/missing does not exist") && !live.err.contains("snapshot"), "\(live.err)")
    }

    /// A mark records the point it was made in: `marked` shows it, and restore takes each
    /// mark from its own point even after `use` moved the shell on.
    @Test func marksRememberTheirPoint() throws {
        let binary = packageRoot.appendingPathComponent(".build/debug/snapdex").path
        let s = Scratch()
        for (day, text) in [("2026-11-01", "first"), ("2026-11-02", "second")] {
            for i in 0..<3 { write(s.path + "/snaps/\(day)/dir03/f00\(i).txt", "\(text) \(i)\n") }
        }
        let repo = s.path + "/repo"
        #expect(try runTool(binary, ["init", "--repo", repo]).status == 0)
        #expect(try runTool(binary, ["source", "add", "home", "--snapshots", s.path + "/snaps", "--repo", repo]).status == 0)
        #expect(try runTool(binary, ["index", "--source", "home", "--repo", repo]).status == 0)
        let first = try Repository.open(at: repo).resolve("home@2026-11-01").id
        let other = try Repository.open(at: repo).resolve("home@2026-11-02").id
        let script = "mark /dir03/f001.txt\nuse \(other)\nmarked\nmark /dir03/f002.txt\nrestore --to \(s.path)/x\n"
        let r = try runTool(binary, ["browse", first, "--repo", repo], stdin: script)
        #expect(r.status == 0, "\(r.out)")
        #expect(r.out.contains("/dir03/f001.txt  (home@2026-11-01T"), "\(r.out)")
        #expect(try String(contentsOfFile: s.path + "/x/dir03/f001.txt", encoding: .utf8) == "first 1\n")
        #expect(try String(contentsOfFile: s.path + "/x/dir03/f002.txt", encoding: .utf8) == "second 2\n")
        // One archive holds one point: marks from two are refused, with advice that works.
        let tar = try runTool(binary, ["browse", first, "--repo", repo], stdin: "mark /dir03/f001.txt\nuse \(other)\nmark /dir03/f002.txt\nrestore --tar \(s.path)/m.tar\nunmark /dir03/f001.txt\nrestore --tar \(s.path)/m.tar\n")
        #expect(tar.status == 1 && FileManager.default.fileExists(atPath: s.path + "/m.tar"), "\(tar.out)")
    }
}
