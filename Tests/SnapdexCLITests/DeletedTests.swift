import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// `versions` shows deletions and `find --deleted` lists them (issue 9, item 9), on catalogs
/// of several chunks.
extension CLITests {
    /// Four days: back.txt goes, comes back and goes again; /gone and /a/f17 go on day 3.
    static func deletionSnapshots(in s: Scratch) {
        for day in 1...4 {
            let snap = s.path + "/snaps/2026-11-0\(day)"
            Tree.make(snap + "/a")
            for i in 0..<5000 where !(i == 17 && day >= 3) { Tree.touch(snap + "/a/f\(i)") }
            write(snap + "/top.txt", "top")
            if day == 1 || day == 3 { write(snap + "/back.txt", "back \(day)") }
            if day <= 2 {
                write(snap + "/gone/old.txt", "old")
                write(snap + "/gone/sub/x", "x")
            }
        }
    }

    @Test func versionsShowsDeletionsAndFindDeletedListsThem() throws {
        let s = Scratch()
        Self.deletionSnapshots(in: s)
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "t", "--snapshots", s.path + "/snaps"]).status == 0)
        #expect(cli.run("index --source t").status == 0)
        let repo = try Repository.open(at: s.path + "/repo")
        for p in try repo.points() { #expect(try repo.manifest(of: p).chunks.count > 1, "the test needs several chunks") }
        let ids = try repo.points(source: "t").map(\.id)

        let back = cli.run("versions t /back.txt --json").out.split(separator: "\n").map {
            try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        #expect(back.map { $0["state"] as? String } == ["present", "deleted", "present", "deleted"])
        #expect(back.map { $0["first_point"] as? String } == ids)
        #expect(back.last?["exists"] as? Bool == false)
        let text = cli.run("versions t /back.txt").out.split(separator: "\n")
        #expect(text.count == 5)
        #expect(text.last?.contains("deleted") == true && text.last?.hasPrefix(String(ids[3].prefix(8))) == true, "\(text)")
        #expect(!cli.run("versions t /top.txt").out.contains("deleted"))
        let f17 = cli.run("versions t /a/f17").out.split(separator: "\n")
        // Each day's f17 has its own mtime, so days 1 and 2 are two versions; then one deletion.
        #expect(f17.count == 4 && f17[3].contains("deleted") && f17[3].hasPrefix(String(ids[2].prefix(8))), "\(f17)")

        let all = cli.run("find --deleted --source t")
        #expect(all.status == 0, "\(all.err)")
        let lines = all.out.split(separator: "\n").dropFirst()
        #expect(all.out.hasPrefix("ID "), "a header names the columns: \(all.out)")
        let paths = lines.compactMap { $0.components(separatedBy: "  ").last }
        #expect(paths == ["/a/f17", "/back.txt", "/gone", "/gone/old.txt", "/gone/sub", "/gone/sub/x"], "\(all.out)")
        let short = try repo.shortIDs()
        #expect(lines.dropFirst().first?.hasPrefix(short[ids[2]]! + " ") == true, "back.txt was last in day 3: \(all.out)")
        #expect(lines.first?.hasPrefix(short[ids[1]]! + " ") == true, "f17 was last in day 2: \(all.out)")
        let json = cli.run("find --deleted /a --type f --json").out.split(separator: "\n").map {
            try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        #expect(json.count == 1)
        #expect(json.first?["path"] as? String == "/a/f17")
        #expect(json.first?["point"] as? String == ids[1])
        #expect(json.first?["deleted_point"] as? String == ids[2])
        #expect(cli.run("find --deleted /gone/sub").out.split(separator: "\n").count == 3)
        #expect(cli.run("find --deleted /top.txt").out.isEmpty)
        #expect(cli.run("find --deleted --latest-only").status == ExitStatus.usage)
        #expect(cli.run("find").status == ExitStatus.usage)
        // A plain find still works with its pattern.
        #expect(cli.run("find top.txt --source t --json").out.split(separator: "\n").count == 4)
    }
}
