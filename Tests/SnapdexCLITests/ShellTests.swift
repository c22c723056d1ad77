import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

extension CLITests {
    /// Drives the browse shell line by line and compares what it printed with
    /// Transcripts/browse.txt (SNAPDEX_UPDATE_GOLDEN=1 rewrites it; review the diff).
    @Test func browseShellTranscript() throws {
        let s = Scratch()
        for (day, budget) in [("2026-11-01", "rent,1200"), ("2026-11-02", "rent,1250")] {
            let snap = s.path + "/snaps/\(day)"
            write(snap + "/alice/docs/budget.xlsx", budget)
            write(snap + "/alice/docs/letter.txt", "dear bob")
            write(snap + "/alice/notes with spaces.txt", "n")
            write(snap + "/bob/todo.txt", day == "2026-11-01" ? "milk" : "milk, eggs")
            var t = [timespec(tv_sec: 1_762_000_000, tv_nsec: 0), timespec(tv_sec: 1_762_000_000, tv_nsec: 0)]
            for f in ["alice/docs/budget.xlsx", "alice/docs/letter.txt", "alice/notes with spaces.txt", "bob/todo.txt"] {
                if day == "2026-11-02" && (f.contains("budget") || f.contains("todo")) { t[1].tv_sec = 1_762_090_000 }
                else { t[1].tv_sec = 1_762_000_000 }
                utimensat(AT_FDCWD, snap + "/" + f, &t, 0)
            }
        }
        _ = Self.indexedSource(s, "home", snapshots: s.path + "/snaps", index: ["--hash"])

        let script = """
            pwd
            ls
            cd alice
            ls
            cd docs
            pwd
            cat budget.xlsx
            cd /nowhere
            cd ..
            mark docs 'notes with spaces.txt'
            marked
            unmark docs
            mark *.txt
            marked
            restore --to \(s.path)/rescue
            restore --to \(s.path)/rescue
            restore --to \(s.path)/rescue --overwrite --dry-run docs/budget.xlsx
            use 2026-11-01
            cat docs/budget.xlsx
            diff home@latest /
            use nosuch@latest
            bogus
            help mark
            exit
            ls
            """
        let repo = try Repository.open(at: s.path + "/repo")
        let captured = Output(capture: true)
        let saved = Output.current
        Output.current = captured
        defer { Output.current = saved }
        let shell = try BrowseShell(repository: repo, point: try repo.resolve("home@latest"))
        var transcript = ""
        var lines = script.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).makeIterator()
        var outSeen = 0, errSeen = 0
        let ok = shell.scripted {
            captured.flush()
            let out = captured.captured, err = captured.capturedErrors
            transcript += String(decoding: out[outSeen...], as: UTF8.self)
            transcript += String(decoding: err[errSeen...], as: UTF8.self).split(separator: "\n").map { "! \($0)\n" }.joined()
            outSeen = out.count
            errSeen = err.count
            guard let line = lines.next() else { return nil }
            transcript += "> \(line)\n"
            return line
        }
        transcript = transcript.replacingOccurrences(of: s.path, with: "$TMP")
        #expect(!ok)  // some commands failed on purpose
        #expect(FileManager.default.contents(atPath: s.path + "/rescue/alice/notes with spaces.txt") == Data("n".utf8))

        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Transcripts/browse.txt")
        if ProcessInfo.processInfo.environment["SNAPDEX_UPDATE_GOLDEN"] == "1" {
            try transcript.write(to: file, atomically: true, encoding: .utf8)
        } else {
            #expect(transcript == (try String(contentsOf: file, encoding: .utf8)))
        }
    }
}

extension CLITests {
    @Test func aPartialRestoreExitsFour() throws {
        let s = Scratch()
        write(s.path + "/snap/ok.txt", "ok")
        write(s.path + "/snap/changes.txt", "before")
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["index", s.path + "/snap", "--source", "x", "--at", "2026-01-01"]).status == 0)
        write(s.path + "/snap/changes.txt", "after, longer")
        let r = cli.run(["restore", "x@latest", "/", "--to", s.path + "/out"])
        #expect(r.status == 4)
        #expect(r.err.contains("changes.txt: the snapshot's file changed since it was indexed"))
        #expect(r.out.contains("1 failed"))
    }
}
