import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Every listing, info, restore, diff, versions, find and browse path on catalogs that span
/// many chunks, the root included: the first release's tests only ever read one-chunk roots.
extension CLITests {
    /// Two layouts: a big folder below a small root (the root group starts mid-chunk, in the
    /// last chunk), and a root with thousands of children (the root group spans chunks).
    static func multiChunkSnapshots(in s: Scratch) {
        for (day, layout) in [("2026-11-01", "deep"), ("2026-11-02", "deep"), ("2026-11-03", "wide")] {
            let snap = s.path + "/snaps/\(day)"
            Tree.make(snap + "/a")
            if layout == "deep" {
                for i in 0..<5000 { Tree.touch(snap + "/a/f\(i)") }
                write(snap + "/top.txt", day)
            } else {
                for i in 0..<20000 { Tree.touch(snap + "/r\(i)") }
                write(snap + "/top.txt", "wide")
                write(snap + "/a/inner.txt", "i")
            }
        }
    }

    @Test func everyPathWorksOnMultiChunkCatalogsRootIncluded() throws {
        let s = Scratch()
        Self.multiChunkSnapshots(in: s)
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "t", "--snapshots", s.path + "/snaps"]).status == 0)
        #expect(cli.run("index --source t --hash").status == 0)
        let repo = try Repository.open(at: s.path + "/repo")
        for p in try repo.points() {
            #expect(try repo.manifest(of: p).chunks.count > 1, "the test needs catalogs of several chunks")
        }
        let wide = try repo.manifest(of: try repo.resolve("t@2026-11-03"))
        #expect(wide.chunks.filter { $0.firstDir.isEmpty }.count > 1, "the wide root group must span chunks")

        for point in ["t@2026-11-01", "t@latest"] {
            let ls = cli.run(["ls", point])
            #expect(ls.status == 0, "\(point): \(ls.err)")
            #expect(ls.out.split(separator: "\n").contains("top.txt"))
            #expect(ls.out.split(separator: "\n").contains("a"))
            #expect(cli.run(["ls", point, "/"]).out == ls.out)
            let info = cli.run(["info", point, "/"])
            #expect(info.status == 0, "\(point): \(info.err)")
            let restore = cli.run(["restore", point, "/", "--to", s.path + "/out-\(point.suffix(6))"])
            #expect(restore.status == 0, "\(point): \(restore.err)")
            #expect(FileManager.default.contents(atPath: s.path + "/out-\(point.suffix(6))/top.txt") != nil)
        }
        let wideLs = cli.run("ls t@latest")
        #expect(wideLs.out.split(separator: "\n").count == 20002)
        #expect(cli.run("ls t@2026-11-01 /a").out.split(separator: "\n").count == 5000)

        let diff = cli.run("diff t@2026-11-01 t@2026-11-02")
        #expect(diff.status == 0 && diff.out.contains("M /top.txt"), "\(diff.out) \(diff.err)")
        let rootDiff = cli.run("diff t@2026-11-02 t@2026-11-03 /")
        #expect(rootDiff.status == 0 && rootDiff.out.contains("+ /r19999"), "\(rootDiff.err)")
        let versions = cli.run("versions t /top.txt")
        #expect(versions.status == 0 && versions.out.split(separator: "\n").count == 4, "\(versions.out) \(versions.err)")
        let find = cli.run(["find", "top.txt"])
        #expect(find.status == 0 && find.out.split(separator: "\n").count == 4, "\(find.err)")  // a header and 3 hits

        // The browse shell, scripted: ls at the root, cd down and back up, info of the root.
        let captured = Output(capture: true)
        let saved = Output.current
        Output.current = captured
        defer { Output.current = saved }
        let shell = try BrowseShell(repository: repo, point: try repo.resolve("t@2026-11-01"))
        var lines = ["ls", "cd a", "cd /", "info /", "exit"].makeIterator()
        let ok = shell.scripted { lines.next() }
        captured.flush()
        #expect(ok, "\(captured.capturedErrorText)")
        #expect(captured.capturedText.split(separator: "\n").contains("top.txt"))
    }
}

extension Tree {
    static func make(_ path: String) {
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// An empty file, without Foundation's per-file overhead (tests make thousands).
    static func touch(_ path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(fd >= 0)
        close(fd)
    }
}

enum Tree {}
