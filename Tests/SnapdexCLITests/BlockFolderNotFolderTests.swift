import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

/// A file where a `blocks/XX` folder belongs: readers say it is damage (exit 3, one line,
/// advising `verify --repair`), and `verify --repair` moves it aside and writes the blocks again.
extension CLITests {
    @Test func aBlockFolderReplacedByAFileIsDamageThatVerifyRepairMovesAside() throws {
        let s = Scratch()
        let repo = s.path + "/repo"
        let cli = CLI(repo: repo)
        for i in 0..<20 { write(s.path + "/snaps/2026-11-01/f\(i)", "\(i)") }
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "s", "--snapshots", s.path + "/snaps"]).status == 0)
        #expect(cli.run("index --source s").status == 0)
        let folders = try FileManager.default.contentsOfDirectory(atPath: repo + "/blocks").filter { $0.count == 2 }
        #expect(!folders.isEmpty)
        for f in folders {
            try FileManager.default.removeItem(atPath: repo + "/blocks/" + f)
            write(repo + "/blocks/" + f, "junk")
        }
        for args in [["ls", "s@latest", "/"], ["info", "s@latest", "/f1"], ["cat", "s@latest", "/f1"],
                     ["restore", "s@latest", "/f1", "--to", s.path + "/out"], ["verify"]] {
            let r = cli.run(args)
            #expect(r.status == 3, "\(args): \(r.status) \(r.err)")
            #expect(Self.oneLine(r) && r.err.contains("snapdex --repo \(repo) verify --repair") && !r.err.contains("Not a directory"), "\(args): \(r.err)")
        }
        // The advice, run as printed.
        let repaired = cli.run("verify --repair")
        #expect(repaired.status == 0, "\(repaired.out) \(repaired.err)")
        #expect((repaired.out + repaired.err).contains("aside"), "\(repaired.out)")
        for f in folders {
            #expect(FileManager.default.fileExists(atPath: repo + "/blocks/" + f + ".damaged"))
        }
        #expect(cli.run("verify").status == 0)
        #expect(cli.run(["cat", "s@latest", "/f1"]).out == "1")
    }
}
