import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

/// `points` never shows a point whose manifest is damaged as "ok": its status is "damaged"
/// (table and JSON), and the listing exits 3, as verify does.
extension CLITests {
    @Test func pointsShowsAPointWithADamagedManifestAsDamagedAndExits3() throws {
        let s = Scratch()
        let repo = s.path + "/repo"
        let cli = CLI(repo: repo)
        for i in 0..<20 {
            write(s.path + "/snaps/2026-11-01/f\(i)", "a\(i)")
            write(s.path + "/snaps/2026-11-02/f\(i)", "b\(i)")
        }
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "s", "--snapshots", s.path + "/snaps"]).status == 0)
        #expect(cli.run("index --source s").status == 0)
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: repo + "/catalogs/s").filter { $0.hasSuffix(".manifest") }.sorted().first)
        let path = repo + "/catalogs/s/" + name
        chmod(path, 0o644)
        var bytes = [UInt8](try #require(FileManager.default.contents(atPath: path)))
        bytes[40] ^= 1
        bytes[60] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(cli.run("verify").status == 3)
        let id = String(name.prefix(8))
        let table = cli.run("points -q")
        #expect(table.status == 3, "\(table.out) \(table.err)")
        let row = table.out.split(separator: "\n").first { $0.hasPrefix(id) } ?? ""
        #expect(row.contains(" damaged ") && !row.contains(" ok "), "\(table.out)")
        #expect(table.out.split(separator: "\n").count == 3, "\(table.out)")
        #expect(Self.oneLine(table) && table.err.contains(id) && table.err.contains("damaged"), "\(table.err)")
        let json = cli.run("points --json -q")
        #expect(json.status == 3)
        let lines = json.out.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.contains { $0.contains(String(name.prefix(32))) && $0.contains("\"status\":\"damaged\"") }, "\(json.out)")
        #expect(lines.contains { !$0.contains(String(name.prefix(32))) && $0.contains("\"status\":\"ok\"") }, "\(json.out)")
    }
}
