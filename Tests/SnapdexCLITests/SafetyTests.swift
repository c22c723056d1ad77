import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// restore, cat and forget: what they refuse, what they leave behind, and their exit statuses.
/// An extension of CLITests because Output.current is process-wide (one serialized suite).
extension CLITests {
    /// A repository with one hashed point, home@2026-11-21T03:00:00Z, of snap/alice/{a,b}.txt.
    static func smallRepository(_ s: Scratch) -> CLI {
        write(s.path + "/snap/alice/a.txt", "alpha")
        write(s.path + "/snap/alice/b.txt", "bravo")
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["index", s.path + "/snap", "--source", "home", "--at", "2026-11-21T03:00:00Z", "--hash"]).status == 0)
        return cli
    }

    static func names(in dir: String) -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: dir).sorted()) ?? [] }

    static func text(_ path: String) -> String? { FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } }

    @Test func aTarDryRunWritesNothingAndAnExistingArchiveIsRefused() throws {
        let s = Scratch()
        let cli = Self.smallRepository(s)
        let archive = s.path + "/out.tar"
        var r = cli.run(["restore", "home@latest", "/alice", "--tar", archive, "--dry-run"])
        #expect(r.status == 0, "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: archive))

        write(archive, "precious")
        r = cli.run(["restore", "home@latest", "/alice", "--tar", archive, "--dry-run"])
        #expect(Self.text(archive) == "precious")
        #expect(r.status == 1)
        r = cli.run(["restore", "home@latest", "/alice", "--tar", archive])
        #expect(r.status == 1)
        #expect(r.err.split(separator: "\n").count == 1 && r.err.contains("already exists") && r.err.contains("--overwrite"))
        #expect(Self.text(archive) == "precious")

        r = cli.run(["restore", "home@latest", "/alice", "--tar", archive, "--overwrite"])
        #expect(r.status == 0, "\(r.err)")
        let size = try FileManager.default.attributesOfItem(atPath: archive)[.size] as! Int
        #expect(size % 512 == 0 && Self.text(archive)?.contains("alpha") == true)
        #expect(Self.names(in: s.path) == ["out.tar", "repo", "snap"])
    }

    @Test func aTarThatFailsMidwayLeavesNoPartialArchive() throws {
        let s = Scratch()
        let cli = Self.smallRepository(s)
        try FileManager.default.removeItem(atPath: s.path + "/snap/alice/b.txt")  // vanished from the snapshot
        let archive = s.path + "/out.tar"
        var r = cli.run(["restore", "home@latest", "/alice", "--tar", archive])
        #expect(r.status == 1)
        #expect(r.err.contains("b.txt") && r.err.contains("not written"))
        #expect(!r.err.contains("nothing was published"))
        #expect(Self.names(in: s.path) == ["repo", "snap"])

        // A failed --overwrite leaves the old archive as it was.
        write(archive, "precious")
        r = cli.run(["restore", "home@latest", "/alice", "--tar", archive, "--overwrite"])
        #expect(r.status == 1)
        #expect(Self.text(archive) == "precious")
        #expect(Self.names(in: s.path) == ["out.tar", "repo", "snap"])
    }

    @Test func catChecksTheRecordedHashAndExitsOneOnAChangedFile() throws {
        let s = Scratch()
        let cli = Self.smallRepository(s)
        var r = cli.run("cat home@latest /alice/a.txt")
        #expect(r.status == 0 && r.out == "alpha")

        // Same size, same mtime, other bytes: only the hash tells.
        let a = s.path + "/snap/alice/a.txt"
        var st = stat()
        stat(a, &st)
        write(a, "ALPHA")
        var times = [st.st_atim, st.st_mtim]
        #expect(utimensat(AT_FDCWD, a, &times, 0) == 0)
        r = cli.run("cat home@latest /alice/a.txt")
        #expect(r.status == 1)
        #expect(r.err.split(separator: "\n").count == 1 && r.err.contains("SHA-256"))
        r = cli.run(["restore", "home@latest", "/alice/a.txt", "--to", s.path + "/out"])
        #expect(r.status != 0)
        #expect(cli.run("cat home@latest /alice/a.txt --no-verify").status == 0)

        // A changed size is found before anything is written; still a failure (1), not a usage error.
        write(s.path + "/snap/alice/b.txt", "bravo, longer")
        r = cli.run("cat home@latest /alice/b.txt")
        #expect(r.status == 1 && r.out.isEmpty)
        #expect(r.err.split(separator: "\n").count == 1 && r.err.contains("changed since it was indexed"))
    }

    @Test func forgetNamesWhatItRemovesAndRefusesAnInexactTime() throws {
        let s = Scratch()
        write(s.path + "/snap/a", "a")
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        for day in 1...3 {
            #expect(cli.run(["index", s.path + "/snap", "--source", "home", "--at", "2026-11-0\(day)T03:00:00Z"]).status == 0)
        }
        let repo = try Repository.open(at: s.path + "/repo")
        let ids = try repo.points().sorted { $0.time < $1.time }.map { String($0.id.prefix(8)) }

        var r = cli.run("forget home@2026-11-02")
        #expect(r.status == 2)
        #expect(r.err.split(separator: "\n").count == 1)
        #expect(r.err.contains(ids[1]) && r.err.contains("2026-11-02T03:00:00Z") && r.err.contains("--nearest"))
        #expect(try repo.points().count == 3)

        r = cli.run("forget home@2026-11-02 --nearest --dry-run --utc")
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("would forget") && r.out.contains(ids[1]) && r.out.contains("2026-11-02 03:00:00 +0000"))
        #expect(try repo.points().count == 3)

        r = cli.run("forget home@2026-11-02T03:00:00Z --utc")
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains(ids[1]) && r.out.contains("2026-11-02 03:00:00 +0000"))
        r = cli.run(["forget", "home@latest", ids[0], "--utc"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains(ids[0]) && r.out.contains(ids[2]) && r.out.contains("2026-11-01 03:00:00 +0000"))
        #expect(try repo.points().isEmpty)
    }

    @Test func inPlaceRefusesAMissingLivePath() throws {
        let s = Scratch()
        write(s.path + "/snaps/2026-11-01/alice/a.txt", "a")
        let live = s.path + "/live"
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "home", "--snapshots", s.path + "/snaps", "--live-path", live]).status == 0)
        #expect(cli.run("index --source home").status == 0)
        var r = cli.run("restore home@latest /alice --in-place")
        #expect(r.status == 1)
        #expect(r.err.split(separator: "\n").count == 1 && r.err.contains(live) && r.err.contains("mount"))
        #expect(!FileManager.default.fileExists(atPath: live))
        write(live, "a file, not a directory")
        #expect(cli.run("restore home@latest /alice --in-place").status == 1)
        try FileManager.default.removeItem(atPath: live)
        try FileManager.default.createDirectory(atPath: live, withIntermediateDirectories: false)
        r = cli.run("restore home@latest /alice --in-place")
        #expect(r.status == 0, "\(r.err)")
        #expect(Self.text(live + "/alice/a.txt") == "a")
    }

    @Test func restoringOnlyAbsentPathsFailsWithOneLine() throws {
        let s = Scratch()
        let cli = Self.smallRepository(s)
        var r = cli.run(["restore", "home@latest", "/nope", "--to", s.path + "/out"])
        #expect(r.status == 1)
        #expect(r.err.split(separator: "\n").count == 1 && r.err.contains("/nope is not in restore point"))
        #expect(!FileManager.default.fileExists(atPath: s.path + "/out"))
        // Some restored, some not: partial.
        r = cli.run(["restore", "home@latest", "/nope", "/alice/a.txt", "--to", s.path + "/out"])
        #expect(r.status == 4)
        #expect(Self.text(s.path + "/out/alice/a.txt") == "alpha")
    }

    /// A file that changed size since indexing, restored with --no-verify: exactly the bytes
    /// the snapshot holds (never padded or cut to the catalog's size), and a warning says so.
    @Test func noVerifyRestoresTheSnapshotsBytesNeverPaddedToTheCatalogSize() throws {
        let s = Scratch()
        let cli = Self.smallRepository(s)
        write(s.path + "/snap/alice/a.txt", "v3\n")  // 5 bytes in the catalog, 3 now
        var r = cli.run(["restore", "home@latest", "/alice/a.txt", "--to", s.path + "/out"])
        #expect(r.status == 1 && r.err.contains("--no-verify"))
        r = cli.run(["restore", "home@latest", "/alice/a.txt", "--to", s.path + "/out", "--no-verify"])
        #expect(r.status == 0, "\(r.err)")
        #expect(Self.text(s.path + "/out/alice/a.txt") == "v3\n")
        #expect(r.err.contains("warning: /alice/a.txt: differs from the catalog (3 bytes in the snapshot, 5 in the catalog)"))
        #expect(r.out.contains("(3 B)"))

        // Longer now: all of it, not the catalog's 5 bytes.
        write(s.path + "/snap/alice/b.txt", "bravo, longer")
        r = cli.run(["restore", "home@latest", "/alice/b.txt", "--to", s.path + "/out", "--no-verify"])
        #expect(r.status == 0 && Self.text(s.path + "/out/alice/b.txt") == "bravo, longer")

        // The archive's header says the size of what follows it.
        let archive = s.path + "/a.tar"
        r = cli.run(["restore", "home@latest", "/alice", "--tar", archive, "--no-verify"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("/alice/a.txt: differs") && r.err.contains("/alice/b.txt: differs"))
        let tar = Array(FileManager.default.contents(atPath: archive) ?? Data())
        var members: [String: String] = [:]
        var at = 0
        while at + 512 <= tar.count, tar[at] != 0 {
            let name = String(decoding: tar[at..<at + 100].prefix { $0 != 0 }, as: UTF8.self)
            let size = Int(String(decoding: tar[at + 124..<at + 135], as: UTF8.self), radix: 8) ?? 0
            members[name] = String(decoding: tar[at + 512..<min(tar.count, at + 512 + size)], as: UTF8.self)
            at += 512 + (size + 511) / 512 * 512
        }
        #expect(members["alice/a.txt"] == "v3\n" && members["alice/b.txt"] == "bravo, longer")

        r = cli.run(["cat", "home@latest", "/alice/a.txt", "--no-verify"])
        #expect(r.status == 0 && r.out == "v3\n" && r.err.contains("differs from the catalog"))
    }

    /// --keep-both run twice within one second picks a new name each time.
    @Test func keepBothTwiceInOneSecondPicksUniqueNames() throws {
        let s = Scratch()
        let cli = Self.smallRepository(s)
        let out = s.path + "/out"
        #expect(cli.run(["restore", "home@latest", "/alice/a.txt", "--to", out]).status == 0)
        for _ in 0..<3 {
            let r = cli.run(["restore", "home@latest", "/alice/a.txt", "--to", out, "--keep-both"])
            #expect(r.status == 0, "\(r.err)")
        }
        let names = Self.names(in: out + "/alice")
        #expect(names.count == 4 && names.allSatisfy { Self.text(out + "/alice/" + $0) == "alpha" }, "\(names)")
        #expect(names.filter { $0.hasPrefix("a.txt.restored-") }.count == 3)
    }

    /// A dry run decides as the real run does: a directory in the way of a file fails in both.
    @Test func dryRunAndRealRunAgreeOnADirectoryInTheWay() throws {
        let s = Scratch()
        let cli = Self.smallRepository(s)
        let out = s.path + "/out"
        write(out + "/alice/a.txt/inside", "a directory where the file goes")
        let dry = cli.run(["restore", "home@latest", "/alice/a.txt", "--to", out, "--overwrite", "--dry-run"])
        let real = cli.run(["restore", "home@latest", "/alice/a.txt", "--to", out, "--overwrite"])
        #expect(dry.status == 1 && real.status == 1)
        #expect(dry.out.contains("0 replaced, 1 failed") && real.out.contains("0 replaced, 1 failed"), "\(dry.out)")
        #expect(dry.err.contains("a directory is in the way") && real.err == dry.err)
        #expect(Self.text(out + "/alice/a.txt/inside") != nil)
    }

    /// --overwrite over a symlink counts as replaced; restore's messages quote paths as ls does.
    @Test func replacedSymlinksCountAndMessagesQuotePaths() throws {
        let s = Scratch()
        let cli = Self.smallRepository(s)
        let out = s.path + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        symlink(s.path + "/elsewhere", out + "/alice")  // where a directory goes
        var r = cli.run(["restore", "home@latest", "/alice", "--to", out, "--overwrite", "--dry-run"])
        #expect(r.out.contains("1 replaced"), "\(r.out)")
        r = cli.run(["restore", "home@latest", "/alice", "--to", out, "--overwrite"])
        #expect(r.status == 0 && r.out.contains("2 files, 1 dir") && r.out.contains("1 replaced"), "\(r.out)")
        #expect(Self.text(out + "/alice/a.txt") == "alpha" && !FileManager.default.fileExists(atPath: s.path + "/elsewhere"))
        symlink("nowhere", out + "/alice/link")
        try FileManager.default.removeItem(atPath: out + "/alice/b.txt")
        symlink("nowhere", out + "/alice/b.txt")  // where a file goes
        r = cli.run(["restore", "home@latest", "/alice/b.txt", "--to", out, "--overwrite"])
        #expect(r.status == 0 && r.out.contains("1 replaced"), "\(r.out)")

        // A name with a newline and a byte that is not UTF-8, where a directory must be.
        let snap = s.path + "/snap2"
        let odd = "new\nline\u{FFFD}"
        write(snap + "/\(odd)/f", "f")
        write(snap + "/bad/f", "f")
        let rename = (snap + "/bad").withCString { from in
            (Array((snap + "/x").utf8) + [0xff, 0]).withUnsafeBufferPointer { b in
                b.withMemoryRebound(to: CChar.self) { Glibc.rename(from, $0.baseAddress!) }
            }
        }
        #expect(rename == 0)
        #expect(cli.run(["index", snap, "--source", "odd", "--at", "2026-11-21T03:00:00Z"]).status == 0)
        let out2 = s.path + "/out2"
        write(out2 + "/\(odd)", "a file where the directory goes")
        let xff = (Array((out2 + "/x").utf8) + [0xff, 0]).withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT, 0o644) }
        }
        close(xff)
        r = cli.run(["restore", "odd@latest", "/", "--to", out2])
        #expect(r.status == 4 || r.status == 1)
        let lines = r.err.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        #expect(lines.count == 2 && lines.allSatisfy { $0.hasPrefix("snapdex: error: ") }, "\(r.err)")
        #expect(r.err.contains("'/new'$'\\n''line\u{FFFD}/f'") && r.err.contains("'/x'$'\\377''/f'"), "\(r.err)")
        #expect(r.err.contains("'/new'$'\\n''line\u{FFFD}' is a symlink or not a directory"), "\(r.err)")

        // Empty paths are usage errors.
        for option in ["--to", "--tar"] {
            r = cli.run(["restore", "home@latest", "/alice", option, ""])
            #expect(r.status == 2 && r.err.split(separator: "\n").count == 1 && r.err.contains("\(option) is an empty path"))
        }
    }
}
