import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

/// `catalogs/SOURCE` replaced by a file or FIFO hides every point of that source: read as
/// gone, they would be dropped and gc would free their blocks. Every command refuses instead.
extension CLITests {
    @Test func aSourceFolderReplacedByAFileOrFIFOIsDamageAndNoBlockIsDeleted() throws {
        let s = Scratch()
        let repo = s.path + "/repo"
        let cli = CLI(repo: repo)
        for i in 0..<20 { write(s.path + "/snaps/2026-11-01/f\(i)", "\(i)") }
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "s", "--snapshots", s.path + "/snaps"]).status == 0)
        #expect(cli.run("index --source s").status == 0)
        func blocks() -> Int {
            (FileManager.default.enumerator(atPath: repo + "/blocks")?.allObjects as? [String] ?? []).filter { $0.count > 3 }.count
        }
        let before = blocks()
        #expect(before > 0)
        try FileManager.default.moveItem(atPath: repo + "/catalogs/s", toPath: s.path + "/s.aside")
        for makeIt in [{ write(repo + "/catalogs/s", "junk") }, { _ = mkfifo(repo + "/catalogs/s", 0o600) }] {
            makeIt()
            for args in [["points"], ["points", "--json"], ["verify"], ["gc"], ["expire", "--now", "2030-01-01"], ["ls", "s@latest", "/"],
                         ["find", "f1"], ["forget", "s@latest"]] {
                let r = cli.run(args)
                #expect(r.status == 3, "\(args): \(r.status) \(r.out) \(r.err)")
                #expect(Self.oneLine(r) && r.err.contains(repo + "/catalogs/s") && r.err.contains("put the folder back"), "\(args): \(r.err)")
            }
            #expect(blocks() == before)
            try FileManager.default.removeItem(atPath: repo + "/catalogs/s")
        }
        try FileManager.default.moveItem(atPath: s.path + "/s.aside", toPath: repo + "/catalogs/s")
        let r = cli.run("verify")
        #expect(r.status == 0, "\(r.out) \(r.err)")
        #expect(cli.run("points --json").out.split(separator: "\n").count == 1)
    }
}
