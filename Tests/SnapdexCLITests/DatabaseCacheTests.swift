import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// The database is a cache of the catalog files: whatever happens to it, no command loses a
/// catalog or a block, and the advice printed about it is safe to follow.
extension CLITests {
    /// A repository with one source (policy, live path, snapshots folder) and three points.
    static func cachedRepository(_ s: Scratch) -> CLI {
        for d in 1...3 {
            write(s.path + "/snaps/2026-11-0\(d)/dir/f", "day \(d)")
            write(s.path + "/snaps/2026-11-0\(d)/same", "same")
        }
        Tree.make(s.path + "/live")
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "home", "--snapshots", s.path + "/snaps", "--live-path", s.path + "/live"]).status == 0)
        #expect(cli.run("policy set home --keep-last 5").status == 0)
        #expect(cli.run("index --source home --hash").status == 0)
        return cli
    }

    static func blockFiles(_ repo: String) -> Set<String> {
        var out = Set<String>()
        for sub in (try? FileManager.default.contentsOfDirectory(atPath: repo + "/blocks")) ?? [] {
            for n in (try? FileManager.default.contentsOfDirectory(atPath: repo + "/blocks/" + sub)) ?? [] { out.insert(n) }
        }
        return out
    }

    static func removeDatabase(_ repo: String, truncate: Bool = false) {
        for suffix in ["", "-wal", "-shm"] { unlink(repo + "/snapdex.db" + suffix) }
        if truncate { FileManager.default.createFile(atPath: repo + "/snapdex.db", contents: Data()) }
    }

    @Test(arguments: [false, true])
    func aMissingOrEmptyDatabaseLosesNothing(truncate: Bool) throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = s.path + "/repo"
        let blocks = Self.blockFiles(repo)
        let points = cli.run("points --json").out
        let sourceJSON = try String(contentsOfFile: repo + "/catalogs/home/source.json", encoding: .utf8)
        #expect(blocks.count > 2)

        for command in ["gc", "expire", "verify", "points"] {
            Self.removeDatabase(repo, truncate: truncate)
            let r = cli.run(command)
            #expect(r.status == 0, "\(command): \(r.err)")
            #expect(r.err.contains("rebuilt it from them (3 point(s))"), "\(command): \(r.err)")
            #expect(Self.blockFiles(repo) == blocks, "\(command) deleted blocks")
            if command == "verify" { #expect(r.out.contains("3 point(s)"), "\(r.out)") }
        }
        #expect(cli.run("points --json").out == points)

        // A writer never re-creates a source over its source.json.
        Self.removeDatabase(repo, truncate: truncate)
        #expect(cli.run(["index", s.path + "/snaps/2026-11-03", "--source", "home", "--at", "2026-11-04T00:00:00Z"]).status == 0)
        #expect(try String(contentsOfFile: repo + "/catalogs/home/source.json", encoding: .utf8) == sourceJSON)
        Self.removeDatabase(repo, truncate: truncate)
        let add = cli.run(["source", "add", "home", "--snapshots", s.path + "/snaps"])
        #expect(add.status == 1 && add.err.contains("already exists"))
        #expect(try String(contentsOfFile: repo + "/catalogs/home/source.json", encoding: .utf8) == sourceJSON)
        #expect(cli.run("rescan").status == 0)
        #expect(cli.run("verify").status == 0)
        #expect(cli.run("points --json").out.split(separator: "\n").count == 4)
    }

    @Test func aDamagedDatabaseIsExitThreeAndTheAdvisedRescanRepairsIt() throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = s.path + "/repo"
        let points = cli.run("points --json").out
        var st = stat()
        #expect(stat(repo + "/snapdex.db", &st) == 0 && st.st_mode & 0o777 == 0o600)
        Self.removeDatabase(repo)
        try Data(repeating: 0x5a, count: 8192).write(to: URL(fileURLWithPath: repo + "/snapdex.db"))
        let r = cli.run("points")
        #expect(r.status == 3)
        #expect(r.err.split(separator: "\n").count == 1 && r.err.contains("run `snapdex --repo \(repo) rescan`"), "\(r.err)")
        // Followed as printed, the advice repairs it and loses nothing.
        let rescan = cli.run("rescan")
        #expect(rescan.status == 0, "\(rescan.err)")
        #expect(cli.run("points --json").out == points)
        #expect(cli.run("verify").status == 0)
    }

    @Test func pointsWithTheSameTimeSurviveARebuild() throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = s.path + "/repo"
        // Two manifests of one source and time (as an older version could leave after a
        // database loss): rescan must rebuild both, not fail on a uniqueness rule.
        let p = try Repository.open(at: repo).points()[0]
        var m = try Repository.open(at: repo).manifest(of: p)
        m.id = Array(repeating: 0xab, count: 16)
        try Data(m.encode()).write(to: URL(fileURLWithPath: repo + "/catalogs/home/\(m.idHex).manifest"))
        let r = cli.run("rescan")
        #expect(r.status == 0, "\(r.err)")
        #expect(cli.run("points --json").out.split(separator: "\n").count == 4)
    }

    @Test func aManifestCopiedOverAnotherIsDamageNotTheOtherPoint() throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = s.path + "/repo"
        let ps = try Repository.open(at: repo).points()
        let dir = repo + "/catalogs/home/"
        unlink(dir + ps[0].id + ".manifest")
        try FileManager.default.copyItem(atPath: dir + ps[2].id + ".manifest", toPath: dir + ps[0].id + ".manifest")
        let info = cli.run(["info", ps[0].id, "/"])
        #expect(info.status == 3 && info.err.contains("holds point \(ps[2].id.prefix(12))"), "\(info.out) \(info.err)")
        let verify = cli.run("verify")
        #expect(verify.status == 3, "\(verify.out)")
        // gc deletes nothing while a manifest cannot be trusted to say what it references.
        let blocks = Self.blockFiles(repo)
        #expect(cli.run("gc").status != 0)
        #expect(Self.blockFiles(repo) == blocks)
    }

    @Test func aFailedPolicyRewriteChangesNothing() throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = s.path + "/repo"
        let ps = try Repository.open(at: repo).points()
        let dir = repo + "/catalogs/home/"
        let path = dir + ps[1].id + ".manifest"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: path))
        let before = try ps.map { try Data(contentsOf: URL(fileURLWithPath: dir + $0.id + ".manifest")) }
        let sourceBefore = try Data(contentsOf: URL(fileURLWithPath: dir + "source.json"))
        let r = cli.run("policy set home --keep-last 1 --apply-to-existing")
        #expect(r.status == 3, "\(r.err)")
        #expect(try ps.map { try Data(contentsOf: URL(fileURLWithPath: dir + $0.id + ".manifest")) } == before)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "source.json")) == sourceBefore)
        #expect(cli.run("policy show home").out.contains("keep-last 5") || cli.run("policy show home").out.contains("keep-last=5"))
    }

    @Test func initNeverChangesWhatItDidNotCreate() throws {
        let s = Scratch()
        let file = s.path + "/afile"
        write(file, "precious")
        chmod(file, 0o644)
        let onFile = CLI(repo: file).run("init")
        #expect(onFile.status != 0 && onFile.err.contains("not a directory"), "\(onFile.err)")
        var st = stat()
        #expect(stat(file, &st) == 0 && st.st_mode & 0o7777 == 0o644)

        let full = s.path + "/full"
        write(full + "/mine.txt", "x")
        let onFull = CLI(repo: full).run("init")
        #expect(onFull.status != 0 && onFull.err.contains("not empty"), "\(onFull.err)")
        #expect(!FileManager.default.fileExists(atPath: full + "/config"))

        let shared = s.path + "/shared"
        Tree.make(shared)
        chmod(shared, 0o1777)
        #expect(CLI(repo: shared).run("init").status == 0)
        #expect(stat(shared, &st) == 0 && st.st_mode & 0o7777 == 0o1777)
        #expect(stat(shared + "/snapdex.db", &st) == 0 && st.st_mode & 0o777 == 0o600)
    }

    @Test func journalLinesNamingPathsOutsideTheRepositoryAreIgnored() throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = s.path + "/repo"
        write(s.path + "/x.manifest", "outside")
        write(s.path + "/repo/x.manifest", "outside")
        // With a checksum that matches, as a writer would never write them: the journal is
        // refused (exit 3) and `verify --repair` drops it, touching nothing it names.
        let lines = "point ../../../x other\nremove .. ../../x\nadd home ../../x\nremove home ../../../x\n"
        write(repo + "/journal", lines + "sha256 \(Digest.of(Array(lines.utf8)).hex)\n")
        let gc = cli.run("gc")
        #expect(gc.status == 3 && gc.err.contains("line 1 is not one Snapdex writes"), "\(gc.err)")
        #expect(cli.run("verify --repair").status == 0)
        #expect(FileManager.default.fileExists(atPath: s.path + "/x.manifest"))
        #expect(FileManager.default.fileExists(atPath: s.path + "/repo/x.manifest"))
        #expect(!FileManager.default.fileExists(atPath: repo + "/journal"))
        #expect(cli.run("verify").status == 0)
    }
}

extension CLITests {
    /// A policy rewrite killed after its first manifest is finished by the next writer: every
    /// manifest then holds the new policy, none the old.
    @Test func aKilledPolicyRewriteIsFinishedNotLeftMixed() throws {
        let s = Scratch()
        _ = Self.cachedRepository(s)
        let repo = try Repository.open(at: s.path + "/repo")
        repo.removalCrashPoint = .midRewrite
        #expect(throws: SimulatedCrash.self) {
            try repo.setPolicy(source: "home", policy: RetentionPolicy(keepLast: 1), applyToExisting: true)
        }
        let next = try Repository.open(at: s.path + "/repo")
        try next.withWriterLock {}
        #expect(try next.loadSourceConfig("home").policy == "keep-last=1")
        for p in try next.points() {
            #expect(try next.manifest(of: p).policy == [Manifest.PolicySetting(name: "keep-last", value: 1)])
            #expect(p.policy == "keep-last=1")
        }
    }
}

extension CLITests {
    @Test func oneDamagedSourceJSONBlocksNoOtherSourceAndIsExitThree() throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = s.path + "/repo"
        write(s.path + "/other/2026-11-05/g", "g")
        #expect(cli.run(["source", "add", "other", "--snapshots", s.path + "/other"]).status == 0)
        #expect(cli.run("index --source other").status == 0)
        write(repo + "/catalogs/home/source.json", "{\"name\": \"home\", \"snapshots\": 7")
        let points = cli.run("points --json")
        #expect(points.status == 0 && points.out.split(separator: "\n").count == 4, "\(points.err)")
        #expect(points.err.contains("source.json is damaged"))
        let index = cli.run("index --source home")
        #expect(index.status == 3 && index.err.split(separator: "\n").last?.contains("source.json is damaged") == true, "\(index.err)")
        #expect(!index.err.contains("DecodingError"))
        let rescan = cli.run("rescan")
        #expect(rescan.status == 3 && rescan.err.contains("source.json"), "\(rescan.err)")
        #expect(cli.run("points --json").out.split(separator: "\n").count == 4)
        #expect(cli.run("index --source other").status == 0)

        write(repo + "/config", "{\"form")
        let damaged = cli.run("points")
        #expect(damaged.status == 3 && damaged.err.contains("config is damaged"), "\(damaged.err)")
    }

    /// Readers work on a repository mounted read-only, even when its database must be rebuilt
    /// (here in memory). Needs a read-only bind mount, so root.
    @Test(.enabled(if: getuid() == 0)) func readersWorkOnAReadOnlyRepository() throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = s.path + "/repo"
        let points = cli.run("points --json").out
        Self.removeDatabase(repo)
        try #require(Self.sh("mount --bind '\(repo)' '\(repo)' && mount -o remount,ro,bind '\(repo)'") == 0)
        defer { _ = Self.sh("umount '\(repo)'") }
        #expect(open(repo + "/probe", O_WRONLY | O_CREAT, 0o600) == -1 && errno == EROFS)
        let r = cli.run("points --json")
        #expect(r.status == 0 && r.out == points, "\(r.err)")
        // One true note: nothing on disk was rebuilt (it said so on every command).
        #expect(r.err.split(separator: "\n").count == 1 && r.err.contains("cannot be opened for writing") && !r.err.contains("rebuilt"), "\(r.err)")
        #expect(cli.run("ls home@latest /dir").out == "f\n")
        #expect(cli.run("find f").status == 0)
        #expect(cli.run("verify").status == 0)
        #expect(cli.run("gc").status != 0)
    }
}

extension CLITests {
    /// Snapshots whose folders share a time are separate points, and "nothing to index" is true.
    @Test func foldersOfOneTimeAreSeparatePointsAndRotationsAreRecognised() throws {
        let s = Scratch()
        var t = [timespec(tv_sec: 1_763_000_000, tv_nsec: 0), timespec(tv_sec: 1_763_000_000, tv_nsec: 0)]
        for n in ["tank@a", "tank@b", "tank@c", "tank@d"] {
            write(s.path + "/snaps/\(n)/file", n)
            utimensat(AT_FDCWD, s.path + "/snaps/\(n)", &t, 0)
        }
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "tank", "--snapshots", s.path + "/snaps"]).status == 0)
        let first = cli.run("index --source tank")
        #expect(first.status == 0, "\(first.err)")
        #expect(first.out.components(separatedBy: "indexed tank@").count - 1 == 4, "\(first.out)")
        let again = cli.run("index --source tank")
        #expect(again.status == 0 && again.out.contains("nothing to index"), "\(again.out) \(again.err)")
        #expect(cli.run("points --json").out.split(separator: "\n").count == 4)

        // rsnapshot: daily.0 becomes daily.1 and a new daily.0 appears; only the new one is new.
        write(s.path + "/rs/daily.0/f", "day 1")
        t[1].tv_sec = 1_763_100_000
        utimensat(AT_FDCWD, s.path + "/rs/daily.0", &t, 0)
        #expect(cli.run(["source", "add", "rs", "--snapshots", s.path + "/rs", "--time-from", "mtime"]).status == 0)
        #expect(cli.run("index --source rs").status == 0)
        rename(s.path + "/rs/daily.0", s.path + "/rs/daily.1")
        write(s.path + "/rs/daily.0/f", "day 2")
        t[1].tv_sec = 1_763_186_400
        utimensat(AT_FDCWD, s.path + "/rs/daily.0", &t, 0)
        let rotated = cli.run("index --source rs")
        #expect(rotated.status == 0 && rotated.out.components(separatedBy: "indexed rs@").count - 1 == 1, "\(rotated.out)")
        #expect(cli.run("points --source rs --json").out.split(separator: "\n").count == 2)
    }
}

extension CLITests {
    /// A damaged manifest that the database never took in (it was rebuilt after the damage)
    /// is still reported by verify: the files are what verify checks.
    @Test func verifyReportsDamagedManifestsTheDatabaseDoesNotKnow() throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = s.path + "/repo"
        let p = try Repository.open(at: repo).points()[0]
        let path = repo + "/catalogs/home/\(p.id).manifest"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: path))
        Self.removeDatabase(repo)
        let points = cli.run("points")
        #expect(points.err.contains("1 manifest(s) cannot be read"), "\(points.err)")
        let verify = cli.run("verify")
        #expect(verify.status == 3 && verify.out.contains("damaged manifest of point \(p.id.prefix(12))"), "\(verify.out)")
    }
}

extension CLITests {
    /// Each piece of advice about sources and existing points, followed as printed, helps.
    @Test func sourceAndIndexAdviceIsSafeToFollow() throws {
        let s = Scratch()
        write(s.path + "/snaps/2026-11-01/f", "1")
        Tree.make(s.path + "/live")
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run("source add home").status == 0)
        let noFolder = cli.run("index --source home")
        #expect(noFolder.status == 1 && noFolder.err.contains("`snapdex --repo \(cli.repo) source set home --snapshots DIR`"), "\(noFolder.err)")
        #expect(cli.run(["source", "set", "home", "--snapshots", s.path + "/snaps", "--live-path", s.path + "/live"]).status == 0)
        #expect(cli.run("index --source home").status == 0)
        #expect(cli.run("source list --json").out.contains(s.path + "/live"))

        let dir = s.path + "/snaps/2026-11-01"
        let twice = cli.run(["index", dir, "--source", "home"])
        #expect(twice.status == 1 && twice.err.contains("pass --replace"), "\(twice.err)")
        let replaced = cli.run(["index", dir, "--source", "home", "--replace"])
        #expect(replaced.status == 0, "\(replaced.err)")
        #expect(cli.run("points --json").out.split(separator: "\n").count == 1)
        #expect(cli.run("verify").status == 0)

        let remove = cli.run("source remove home")
        #expect(remove.status == 1 && remove.err.contains("for good"), "\(remove.err)")
        #expect(cli.run("points --json").out.split(separator: "\n").count == 1)
        #expect(cli.run("source set home").status == 2)
        #expect(cli.run("source set nosuch --time-from mtime").status == 1)
    }
}

extension CLITests {
    /// verify's advice for a damaged manifest, followed as printed, removes it, whether or not
    /// the database knew the point, and loses no block another point uses.
    @Test(arguments: [false, true])
    func verifyAdviceForADamagedManifestWorks(databaseRebuilt: Bool) throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = s.path + "/repo"
        let p = try Repository.open(at: repo).points()[1]
        let path = repo + "/catalogs/home/\(p.id).manifest"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: path))
        if databaseRebuilt { Self.removeDatabase(repo) }
        let verify = cli.run("verify")
        #expect(verify.status == 3)
        let advice = try #require(verify.err.range(of: "`snapdex --repo \(cli.repo) forget ").map { verify.err[$0.upperBound...].prefix { $0 != "`" } })
        let forget = cli.run(["forget"] + advice.split(separator: " ").map(String.init))
        #expect(forget.status == 0, "\(forget.err)")
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(cli.run("verify").status == 0)
        #expect(cli.run("points --json").out.split(separator: "\n").count == 2)
    }
}

extension CLITests {
    /// Readers work on a repository whose disk is full, even when the database must be
    /// rebuilt (in memory); writers fail with one line and publish nothing. A small tmpfs
    /// makes the full disk real, so root.
    @Test(.enabled(if: getuid() == 0)) func readersWorkOnAFullDisk() throws {
        let s = Scratch()
        let mnt = s.path + "/small"
        Tree.make(mnt)
        try #require(Self.sh("mount -t tmpfs -o size=4m tmpfs '\(mnt)'") == 0)
        defer { _ = Self.sh("umount '\(mnt)'") }
        for d in 1...2 { write(s.path + "/snaps/2026-11-0\(d)/f", "day \(d)") }
        let cli = CLI(repo: mnt + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "home", "--snapshots", s.path + "/snaps"]).status == 0)
        #expect(cli.run("index --source home").status == 0)
        let points = cli.run("points --json").out
        Self.removeDatabase(mnt + "/repo")
        _ = Self.sh("dd if=/dev/zero of='\(mnt)/filler' bs=64k 2>/dev/null")
        let r = cli.run("points --json")
        #expect(r.status == 0 && r.out == points, "\(r.err)")
        #expect(cli.run("ls home@latest /").out == "f\n")
        #expect(cli.run("verify").status == 0)
        write(s.path + "/snaps/2026-11-03/g", String(repeating: "x", count: 100_000))
        let index = cli.run("index --source home")
        let errors = index.err.split(separator: "\n").filter { !$0.hasPrefix("snapdex: warning:") }
        #expect(index.status == 1 && errors.count == 1 && errors[0].contains("no space left"), "\(index.err)")
        unlink(mnt + "/filler")
        #expect(cli.run("verify").status == 0)
        #expect(cli.run("points --json").out == points)
    }
}
