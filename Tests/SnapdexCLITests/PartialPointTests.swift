import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Points indexed from trees with parts that cannot be read (issue 9, item 5). Permission
/// bits do not stop root, and the tests run as root here: the index run is then a real
/// `snapdex` process with its privileges dropped to nobody by setpriv(1). As another user,
/// the bits alone stop it and the process runs as that user.
extension CLITests {
    static let nobody: uid_t = 65534

    /// Runs the built snapdex as an unprivileged user; nil when it is not built.
    static func runUnprivileged(_ args: [String]) throws -> (status: Int32, out: String)? {
        let binary = packageRoot.appendingPathComponent(".build/debug/snapdex").path
        guard FileManager.default.isExecutableFile(atPath: binary) else { return nil }
        if getuid() == 0 {
            return try runTool("/usr/bin/setpriv", ["--reuid=\(nobody)", "--regid=\(nobody)", "--clear-groups", "--", binary] + args)
        }
        return try runTool(binary, args)
    }

    /// Makes `repo` (0700; as root, owned by the unprivileged user) and runs `init` there as
    /// that user; false, with an issue recorded, when snapdex is not built.
    static func initUnprivileged(_ repo: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Bool {
        mkdir(repo, 0o700)
        if getuid() == 0 { chown(repo, nobody, nobody) }
        guard let initRun = try runUnprivileged(["init", "--repo", repo]) else {
            Issue.record("snapdex is not built in .build/debug; run `swift build` first", sourceLocation: sourceLocation)
            return false
        }
        #expect(initRun.status == 0, "\(initRun.out)", sourceLocation: sourceLocation)
        return true
    }

    /// A snapshot of more than one chunk with a folder that cannot be listed, a folder that can
    /// be listed but not searched (its entries cannot be stat'ed), and a file that cannot be
    /// read for its hash.
    static func partlyUnreadableSnapshot(at snap: String) {
        Tree.make(snap + "/a")
        for i in 0..<5000 { Tree.touch(snap + "/a/f\(i)") }
        write(snap + "/ok/public.txt", "p")
        write(snap + "/ok/private.txt", "secret bytes")
        write(snap + "/secret/inner/x.txt", "x")
        write(snap + "/noexec/a", "a")
        write(snap + "/noexec/b", "b")
        chmod(snap + "/ok/private.txt", 0)
        chmod(snap + "/secret", 0)
        chmod(snap + "/noexec", 0o444)
    }

    @Test func unreadablePathsMakeAPartialPointThatSaysWhatItLacks() throws {
        let s = Scratch()
        chmod(s.path, 0o755)
        let snap = s.path + "/snap"
        let repo = s.path + "/repo"
        Self.partlyUnreadableSnapshot(at: snap)
        defer { for d in ["/secret", "/noexec"] { chmod(snap + d, 0o755) } }
        guard try Self.initUnprivileged(repo) else { return }
        // -q hides chatter, not what the point lacks.
        let index = try #require(try Self.runUnprivileged(["index", snap, "--source", "t", "--at", "2026-11-21T03:00:00Z",
                                                          "--hash", "-q", "--repo", repo]))
        #expect(index.status == ExitStatus.partial, "\(index.out)")
        #expect(index.out.contains("/secret: directory could not be read (Permission denied)"), "\(index.out)")
        #expect(index.out.contains("/noexec/a: could not be read (not in the point) (Permission denied)"))
        #expect(index.out.contains("/ok/private.txt: content could not be read for its hash"))
        #expect(index.out.contains("t@2026-11-21T03:00:00Z is partial: 4 path(s) could not be read"))

        // The same tree indexed by root (or its owner) is whole.
        if getuid() != 0 { for d in ["/secret", "/noexec"] { chmod(snap + d, 0o755) } }
        let cli = CLI(repo: repo)
        let whole = getuid() == 0
        if whole {
            let again = cli.run(["index", snap, "--source", "t", "--at", "2026-11-22T03:00:00Z", "--hash"])
            #expect(again.status == 0, "\(again.err)")
        }

        let points = cli.run("points --source t")
        #expect(points.status == 0)
        let rows = points.out.split(separator: "\n")
        #expect(rows.first?.contains("STATUS") == true)
        #expect(rows.dropFirst().first?.contains(" partial ") == true, "\(points.out)")
        if whole { #expect(rows.dropFirst(2).first?.contains(" ok ") == true, "\(points.out)") }
        let json = cli.run("points --source t --json").out.split(separator: "\n").map {
            try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        #expect(json.first?["status"] as? String == "partial")
        #expect(json.first?["unreadable"] as? Int == 4)
        if whole { #expect(json.last?["status"] as? String == "ok") }

        let first = "t@2026-11-21T03:00:00Z"
        let repoHandle = try Repository.open(at: repo)
        #expect(try repoHandle.manifest(of: try repoHandle.resolve(first)).chunks.count > 1, "the test needs several chunks")
        // A folder that could not be read is not silently empty.
        let lsSecret = cli.run(["ls", first, "/secret"])
        #expect(lsSecret.status == 0)
        #expect(lsSecret.out.isEmpty)
        #expect(lsSecret.err.contains("/secret could not be read when the point was indexed (Permission denied): what it held is not in this point"), "\(lsSecret.err)")
        #expect(cli.run(["ls", first, "/secret", "-q"]).err.contains("could not be read"))
        let lsNoexec = cli.run(["ls", first, "/noexec"])
        #expect(lsNoexec.err.contains("/noexec/a could not be read when the point was indexed"))
        #expect(lsNoexec.err.contains("/noexec/b could not be read"))
        let lsRoot = cli.run(["ls", first, "/", "--json"])
        #expect(lsRoot.out.split(separator: "\n").contains { $0.contains("\"path\":\"/secret\"") && $0.contains("\"unreadable\":\"directory\"") })
        let lsAll = cli.run(["ls", first, "/", "-R"])
        #expect(lsAll.status == 0)
        #expect(lsAll.err.contains("/secret could not be read") && lsAll.err.contains("/ok/private.txt could not be read"), "\(lsAll.err)")
        // A path under it says why it is missing, and the command it suggests works as printed.
        let under = cli.run(["ls", first, "/secret/inner"])
        #expect(under.status == ExitStatus.failure)
        #expect(under.err.contains("/secret/inner is not in restore point "))
        #expect(under.err.contains(": /secret could not be read when the point was indexed (Permission denied)"), "\(under.err)")
        let advice = try #require(under.err.firstMatch(of: /`snapdex --repo [^ ]+ (versions [^`]*)`/)?.1, "\(under.err)")
        let followed = cli.run(String(advice))
        // Where a partial point could not read it, versions says "not read", never "deleted".
        #expect(followed.status == 0, "\(followed.err)")
        #expect(followed.out.contains("not read") && !followed.out.contains("deleted"), "\(followed.out)")
        if whole { #expect(followed.out.contains("dir")) }
        // Nor does find --deleted call what a partial point lacks deleted.
        #expect(!cli.run("find --deleted --source t").out.contains("/secret"))
        #expect(cli.run(["info", first, "/secret/inner/x.txt"]).err.contains("/secret could not be read"))
        #expect(cli.run(["cat", first, "/secret/inner/x.txt"]).err.contains("/secret could not be read"))
        let restoreUnder = cli.run(["restore", first, "/secret/inner", "--to", s.path + "/out-under"])
        #expect(restoreUnder.status == ExitStatus.failure && restoreUnder.err.contains("/secret could not be read"), "\(restoreUnder.err)")
        // Restoring a folder that lacks something says what it lacks.
        let restore = cli.run(["restore", first, "/", "--to", s.path + "/out"])
        #expect(restore.status == 0, "\(restore.err)")
        #expect(restore.err.contains("/secret could not be read when the point was indexed"), "\(restore.err)")
        #expect(!cli.run(["restore", first, "/a", "--to", s.path + "/out-a"]).err.contains("could not be read"))

        let info = cli.run(["info", first, "/secret"])
        #expect(info.status == 0)
        #expect(info.out.contains("Tree: not read when indexed (Permission denied): its children are not in this point"), "\(info.out)")
        #expect(!info.out.contains("0 children"))
        #expect(cli.run(["info", first, "/ok/private.txt"]).out.contains("SHA256: not read when indexed (Permission denied)"))
        let infoRoot = cli.run(["info", first, "/"]).out
        #expect(infoRoot.contains("Missing: 4 path(s) under it"), "\(infoRoot)")
        #expect(infoRoot.contains(", partial"))
        #expect(cli.run(["info", first, "/secret", "--json"]).out.contains("\"unreadable\":\"directory\""))

        if whole {
            let diff = cli.run(["diff", first, "t@latest"])
            #expect(diff.err.contains("/secret could not be read when the point was indexed"), "\(diff.err)")
        }

        // A partial point is not damage, and the session says what happened.
        let verify = cli.run("verify")
        #expect(verify.status == 0, "\(verify.out) \(verify.err)")
        #expect(verify.out.contains("no damage found"))
        let sessions = cli.run("sessions --json").out.split(separator: "\n").first.map(String.init) ?? ""
        #expect(sessions.contains("\"result\":\"partial\""), "\(sessions)")
    }

    /// A point made by this version reads back its unreadable paths; the list is bounded and
    /// the count is not.
    @Test func unreadableListIsBoundedAndRoundTrips() throws {
        var m = Manifest(id: Array(repeating: 7, count: 16), source: "t", pointTime: Timestamp(nanoseconds: 1),
                         indexedAt: Timestamp(nanoseconds: 2), kind: .scheduled, snapshotPath: "/s")
        for i in 0..<(UnreadableList.limit + 5) {
            m.unreadable.append(UnreadablePath(path: Array("d/\(i)".utf8) + [0xff, 10], what: i % 2 == 0 ? .directory : .entry, errno: Errno(EACCES)))
        }
        #expect(m.unreadable.total == UInt64(UnreadableList.limit + 5))
        #expect(m.unreadable.listed.count == UnreadableList.limit)
        let back = try Manifest.decode(m.encode(), path: "test")
        #expect(back.unreadable == m.unreadable)
        #expect(back.formatVersion == FormatConstants.catalogVersion)
        // A point with nothing unreadable writes no tag 15.
        var plain = m
        plain.unreadable = UnreadableList()
        #expect(try Manifest.decode(plain.encode(), path: "test").unreadable.isEmpty)
        #expect(plain.encode().count < m.encode().count)
    }
}
