import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Snapshot folders that rotations rename (rsnapshot, Time Machine style): each point keeps
/// its own day's bytes. An extension of CLITests because Output.current is process-wide.
extension CLITests {
    /// Runs `command` with /bin/sh; its exit status.
    static func sh(_ command: String) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        try? p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    @Test func rsnapshotRotationKeepsEachDaysBytes() throws {
        let s = Scratch()
        let rs = s.path + "/rs"
        // Every day has the same folder mtime, as `cp -al` keeps it.
        write(rs + "/daily.0/localhost/etc/motd", "day 0")
        write(rs + "/daily.0/localhost/home/unchanged.txt", "same every day")
        write(rs + "/daily.0/README", "top-level file, hard-linked into every day")
        setMTime(rs + "/daily.0", 1_763_100_000)
        let cli = Self.indexedSource(s, "rs", snapshots: rs, ["--time-from", "mtime"])
        var ids = try Repository.open(at: s.path + "/repo").points().map(\.id)  // ids[day]
        #expect(ids.count == 1)

        for day in 1...3 {
            // rsnapshot: rotate, copy the newest day as hard links, then rsync changes into it
            // (a changed file is a new inode). The new daily.0 keeps daily.1's name and mtime.
            let rotate = "cd '\(rs)' && { [ ! -d daily.2 ] || mv daily.2 daily.3; } && { [ ! -d daily.1 ] || mv daily.1 daily.2; }"
                + " && mv daily.0 daily.1 && cp -al daily.1 daily.0 && rm daily.0/localhost/etc/motd"
            #expect(Self.sh(rotate) == 0)
            write(rs + "/daily.0/localhost/etc/motd", "day \(day)")
            setMTime(rs + "/daily.0/localhost/etc", 1_763_100_000)
            setMTime(rs + "/daily.0", 1_763_100_000)
            let r = cli.run("index --source rs")
            #expect(r.status == 0, "\(r.err)")
            #expect(r.out.components(separatedBy: "indexed rs@").count - 1 == 1, "\(r.out)")
            #expect(r.out.contains("from \(rs)/daily.0"), "\(r.out)")
            #expect(r.out.components(separatedBy: "moved rs@").count - 1 == day, "\(r.out)")
            let now = try Repository.open(at: s.path + "/repo").points().map(\.id)
            let new = now.filter { !ids.contains($0) }
            try #require(new.count == 1)
            ids.append(new[0])
            // A run with nothing new says so and moves nothing.
            let again = cli.run("index --source rs")
            #expect(again.status == 0 && again.out.contains("nothing to index") && !again.out.contains("moved"), "\(again.out)")
        }

        // Each day's point reads its own day's bytes, by cat and by restore, from its new folder.
        for (day, id) in ids.enumerated() {
            let c = cli.run(["cat", String(id.prefix(12)), "/localhost/etc/motd"])
            #expect(c.status == 0 && c.out == "day \(day)", "day \(day): \(c.out) \(c.err)")
            let to = s.path + "/restored-\(day)"
            let r = cli.run(["restore", String(id.prefix(12)), "/localhost", "--to", to])
            #expect(r.status == 0, "\(r.err)")
            #expect(Self.text(to + "/localhost/etc/motd") == "day \(day)")
            #expect(Self.text(to + "/localhost/home/unchanged.txt") == "same every day")
        }
        let points = cli.run("points --source rs --json").out
        for (day, folder) in ["daily.3", "daily.2", "daily.1", "daily.0"].enumerated() {
            #expect(points.contains("\"snapshot\":\"\(rs)/\(folder)\""), "day \(day) at \(folder): \(points)")
        }
        #expect(cli.run("verify").status == 0)

        // The oldest day leaves (rsnapshot's retain): its folder name now holds another day.
        #expect(Self.sh("cd '\(rs)' && rm -rf daily.3 && mv daily.2 daily.3") == 0)
        for args in [["cat", String(ids[0].prefix(12)), "/localhost/etc/motd"],
                     ["cat", String(ids[0].prefix(12)), "/localhost/etc/motd", "--no-verify"],
                     ["restore", String(ids[0].prefix(12)), "/localhost", "--to", s.path + "/never", "--no-verify"]] {
            let r = cli.run(args)
            #expect(r.status == 1, "\(args): \(r.out) \(r.err)")
            #expect(r.out.isEmpty && r.err.contains("no longer holds the snapshot of point"), "\(r.err)")
            #expect(!r.err.contains("--no-verify") && r.err.split(separator: "\n").count == 1, "\(r.err)")
        }
        #expect(!FileManager.default.fileExists(atPath: s.path + "/never"))
        // Day 1's point, moved again without an index run, is still found by cat.
        let c = cli.run(["cat", String(ids[1].prefix(12)), "/localhost/etc/motd"])
        #expect(c.status == 0 && c.out == "day 1", "\(c.err)")
    }

    /// A relocation is journalled: a writer killed after the journal and before the
    /// manifest rewrite leaves the next writer to finish it.
    @Test func aJournalledRelocationIsFinishedByTheNextWriter() throws {
        let s = Scratch()
        write(s.path + "/rs/daily.0/f", "day 0")
        let cli = Self.indexedSource(s, "rs", snapshots: s.path + "/rs")
        let repo = try Repository.open(at: s.path + "/repo")
        let p = try repo.points()[0]
        #expect(rename(s.path + "/rs/daily.0", s.path + "/rs/daily.1") == 0)
        let moved = s.path + "/rs/daily.1"
        let journal = Journal(rewrites: [.init(source: "rs", id: p.id)], change: .snapshotPath(moved))
        #expect(Journal.decode(journal.encode()) == journal)
        try repo.beginJournal(journal)
        // The next writer (here: an index run with nothing new) finishes the rewrite first.
        let r = cli.run("index --source rs")
        #expect(r.status == 0 && r.out.contains("nothing to index") && !r.out.contains("moved"), "\(r.out) \(r.err)")
        #expect(try Repository.open(at: s.path + "/repo").points()[0].snapshot == moved)
        #expect(try repo.manifest(of: repo.points()[0]).snapshotPath == moved)
        // What a journal names is checked: a relative path, or one with a NUL, is ignored.
        for bad in ["snapshot 2e2f78", "snapshot 2f00", "snapshot zz"] {
            #expect(Journal.decode(Array("rewrite rs \(p.id)\n\(bad)\n".utf8)).change == nil)
        }
    }
}

extension CLITests {
    /// `index DIR` of a snapshot a rotation renamed records where it is now; it is not a
    /// second point of the same snapshot.
    @Test func indexingARenamedSnapshotByItsNewNameRelocatesIt() throws {
        let s = Scratch()
        write(s.path + "/rs/daily.0/f", "day 0")
        setMTime(s.path + "/rs/daily.0", 1_763_100_000)
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["index", s.path + "/rs/daily.0", "--source", "rs", "--time-from", "mtime"]).status == 0)
        #expect(rename(s.path + "/rs/daily.0", s.path + "/rs/daily.1") == 0)
        let r = cli.run(["index", s.path + "/rs/daily.1", "--source", "rs", "--time-from", "mtime"])
        #expect(r.status == 0 && r.out.hasPrefix("moved rs@") && r.out.contains("nothing to index"), "\(r.out) \(r.err)")
        let points = try Repository.open(at: s.path + "/repo").points()
        #expect(points.count == 1 && points.first?.snapshot == s.path + "/rs/daily.1")
        // A new folder where it was is a new snapshot.
        write(s.path + "/rs/daily.0/f", "day 1")
        setMTime(s.path + "/rs/daily.0", 1_763_100_000)
        #expect(cli.run(["index", s.path + "/rs/daily.0", "--source", "rs", "--time-from", "mtime"]).status == 0)
        #expect(try Repository.open(at: s.path + "/repo").points().count == 2)
    }
}
