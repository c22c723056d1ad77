import Foundation
import Testing
@testable import SnapdexCore
import CSystemShims

#if canImport(Glibc)
import Glibc
#endif

@Suite struct RestoreTests {
    /// A repository with one point of `snap`, indexed with hashes.
    static func indexed(_ tmp: TempDir, _ snap: String, hash: Bool = true) throws -> (Repository, PointRecord) {
        let repo = try tmp.makeRepository()
        var o = IndexOptions(source: "home", directory: snap)
        o.at = Timestamp(seconds: 1_767_236_400)
        o.hash = hash
        _ = try Indexer(repository: repo).run(o)
        return (repo, try repo.resolve("home@latest"))
    }

    static func content(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    @Test func restoreRoundTripsBytesAndFields() throws {
        let tmp = TempDir()
        let snap = tmp.sub("snap")
        Tree.awkward(at: snap)
        // A sparse file: 8 MiB with one byte at the end.
        let sparse = open(snap + "/alice/sparse.img", O_WRONLY | O_CREAT, 0o640)
        _ = pwrite(sparse, "x", 1, 8 << 20)
        close(sparse)
        #expect(setxattr(snap + "/alice/docs/report.txt", "user.origin", "lab", 3, 0) == 0)
        chmod(snap + "/alice/docs", 0o750)
        var times = [timespec(tv_sec: 1_600_000_000, tv_nsec: 123_456_789), timespec(tv_sec: 1_600_000_000, tv_nsec: 123_456_789)]
        utimensat(AT_FDCWD, snap + "/alice/docs/report.txt", &times, 0)
        let (repo, point) = try Self.indexed(tmp, snap)

        let target = tmp.sub("target")
        var opts = RestoreOptions(paths: [[]], target: .directory(target))
        opts.now = Timestamp(seconds: 1_800_000_000)
        let s = try repo.restore(point: point, options: opts)
        #expect(s.failed == 0, "\(s.errors)")

        let want = ReferenceWalk.walk(snap), got = ReferenceWalk.walk(target)
        #expect(got.map(\.path) == want.map(\.path))
        for (a, b) in zip(want, got) {
            #expect(a.type == b.type && a.mode == b.mode && a.size == b.size && a.target == b.target, "\(String(decoding: a.path, as: UTF8.self))")
            if a.type != .directory || a.path != Array("/".utf8) { #expect(a.mtime == b.mtime, "mtime of \(String(decoding: a.path, as: UTF8.self))") }
            if a.type == .file {
                #expect(Self.content(snap + String(decoding: a.path, as: UTF8.self)) == Self.content(target + String(decoding: b.path, as: UTF8.self)))
            }
        }
        // Hard links among restored files stay hard links.
        let hl = got.filter { $0.path == Array("/alice/hardlink".utf8) || $0.path == Array("/alice/docs/report.txt".utf8) }
        #expect(hl.count == 2 && hl[0].inode == hl[1].inode && hl[0].nlink == 2)
        // Extended attributes and holes.
        var value = [UInt8](repeating: 0, count: 16)
        #expect(getxattr(target + "/alice/docs/report.txt", "user.origin", &value, 16) == 3)
        var st = stat()
        stat(target + "/alice/sparse.img", &st)
        #expect(st.st_size == (8 << 20) + 1)
        #expect(st.st_blocks * 512 < 1 << 20)
    }

    @Test func conflictPoliciesAndDryRun() throws {
        let tmp = TempDir()
        let snap = tmp.sub("snap")
        Tree.write(snap + "/a.txt", "from the snapshot")
        Tree.write(snap + "/b.txt", "snapshot b")
        var old = [timespec(tv_sec: 1_500_000_000, tv_nsec: 0), timespec(tv_sec: 1_500_000_000, tv_nsec: 0)]
        utimensat(AT_FDCWD, snap + "/b.txt", &old, 0)
        let (repo, point) = try Self.indexed(tmp, snap)
        let target = tmp.sub("t")
        func reset() {
            try? FileManager.default.removeItem(atPath: target)
            Tree.write(target + "/a.txt", "existing a")   // newer than nothing: mtime now
            Tree.write(target + "/b.txt", "existing b")   // newer than the snapshot's b
        }
        func run(_ policy: ConflictPolicy, dry: Bool = false) throws -> RestoreSummary {
            var o = RestoreOptions(paths: [Array("a.txt".utf8), Array("b.txt".utf8)], target: .directory(target))
            o.policy = policy
            o.dryRun = dry
            o.now = Timestamp(seconds: 1_800_000_000)
            return try repo.restore(point: point, options: o)
        }
        reset()
        #expect(try run(.skip).skipped == 2)
        #expect(String(decoding: Self.content(target + "/a.txt")!, as: UTF8.self) == "existing a\n".dropLast() + "")
        reset()
        #expect(try run(.overwrite).replaced == 2)
        #expect(Self.content(target + "/a.txt") == Data("from the snapshot".utf8))
        reset()
        var a = [timespec(tv_sec: 1_000_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000_000, tv_nsec: 0)]
        utimensat(AT_FDCWD, target + "/a.txt", &a, 0)  // older than the snapshot's a
        let newer = try run(.ifNewer)
        #expect(newer.replaced == 1 && newer.skipped == 1)
        #expect(Self.content(target + "/a.txt") == Data("from the snapshot".utf8))
        #expect(Self.content(target + "/b.txt") == Data("existing b".utf8))
        reset()
        #expect(try run(.keepBoth).failed == 0)
        #expect(Self.content(target + "/a.txt.restored-20270115T080000") == Data("from the snapshot".utf8))
        #expect(Self.content(target + "/a.txt") == Data("existing a".utf8))
        // A dry run writes nothing, not even the target directory.
        try FileManager.default.removeItem(atPath: target)
        var events: [String] = []
        var o = RestoreOptions(paths: [[]], target: .directory(target))
        o.dryRun = true
        let dry = try repo.restore(point: point, options: o) { events.append($0.action) }
        #expect(dry.files == 2 && events == ["create", "create"])
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    @Test func restoreNeverFollowsASymlinkPlantedInTheTarget() throws {
        let tmp = TempDir()
        let snap = tmp.sub("snap")
        Tree.write(snap + "/alice/docs/a.txt", "a")
        let (repo, point) = try Self.indexed(tmp, snap)
        let outside = tmp.sub("outside")
        Tree.mkdir(outside)
        let target = tmp.sub("t")
        Tree.mkdir(target)
        symlink(outside, target + "/alice")
        let s = try repo.restore(point: point, options: RestoreOptions(paths: [Array("alice".utf8)], target: .directory(target)))
        #expect(s.failed > 0)
        #expect(s.errors.joined().contains("not following it"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
        // --overwrite replaces the symlink itself with a real directory; outside stays empty.
        var o = RestoreOptions(paths: [Array("alice".utf8)], target: .directory(target))
        o.policy = .overwrite
        let s2 = try repo.restore(point: point, options: o)
        #expect(s2.failed == 0, "\(s2.errors)")
        #expect(Self.content(target + "/alice/docs/a.txt") == Data("a".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
    }

    @Test func aDamagedCatalogWithClimbingNamesWritesNothingOutside() throws {
        let tmp = TempDir()
        let repo = try tmp.makeRepository()
        let snap = tmp.sub("snap")
        Tree.write(snap + "/ok.txt", "fine")
        // A catalog made by hand with names no file system gives: "..", "../evil", "/etc/x".
        let root = FileEntry(name: [], type: .directory, permissions: 0o755)
        let entries = [FileEntry(name: Array("..".utf8), type: .directory, permissions: 0o755),
                       FileEntry(name: Array("../evil".utf8), type: .file, size: 4),
                       FileEntry(name: Array("/etc/x".utf8), type: .file, size: 4),
                       FileEntry(name: Array("ok.txt".utf8), type: .file, size: 4)]
        repo.blocks.begin(known: [:])
        let writer = CatalogWriter(sink: repo.blocks)
        try writer.add(DirectoryGroup(path: Array("../up".utf8), entries: [FileEntry(name: Array("x".utf8), type: .file, size: 1)]))
        try writer.add(DirectoryGroup(path: [], entries: [root] + entries))
        var m = Manifest(id: Array(repeating: 9, count: 16), source: "evil", pointTime: Timestamp(seconds: 1), indexedAt: Timestamp(seconds: 1),
                         kind: .manual, snapshotPath: snap)
        m.chunks = try writer.finish()
        try repo.saveSource(SourceConfig(name: "evil"))
        let bytes = m.encode()
        try FileIO.write(repo.manifestPath(source: "evil", id: m.idHex), bytes, exclusive: true, durable: true)
        try repo.write { db in try Catalogue.insert(m, manifestBytes: bytes.count, stamp: "", in: db) }

        let target = tmp.sub("deep/t")
        let s = try repo.restore(point: try repo.resolve("evil@latest"), options: RestoreOptions(paths: [[]], target: .directory(target)))
        // "..", "../evil", "/etc/x" and the entry under "../up" are refused as unsafe; ok.txt's
        // made-up mtime does not match the snapshot, so it fails verification.
        #expect(s.failed == 5)
        #expect(s.errors.filter { $0.contains("unsafe name") }.count == 4)
        #expect(!FileManager.default.fileExists(atPath: tmp.sub("deep/evil")))
        #expect(!FileManager.default.fileExists(atPath: tmp.sub("deep/up")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.sub("deep")) == ["t"])
    }

    @Test func aChangedSnapshotFileFailsAloneAndAGoneSnapshotIsOneClearError() throws {
        let tmp = TempDir()
        let snap = tmp.sub("snap")
        Tree.write(snap + "/same.txt", "same")
        Tree.write(snap + "/changed.txt", "before")
        let (repo, point) = try Self.indexed(tmp, snap)
        Tree.write(snap + "/changed.txt", "after!")  // same size, new mtime and content
        let target = tmp.sub("t")
        let s = try repo.restore(point: point, options: RestoreOptions(paths: [[]], target: .directory(target)))
        #expect(s.failed == 1 && s.files == 1)
        #expect(s.errors.first?.contains("changed since it was indexed") == true)
        #expect(!FileManager.default.fileExists(atPath: target + "/changed.txt"))
        #expect(Self.content(target + "/same.txt") == Data("same".utf8))

        try FileManager.default.removeItem(atPath: snap)
        #expect(throws: SnapdexError.snapshotGone(point: String(point.id.prefix(12)), path: snap)) {
            _ = try repo.restore(point: point, options: RestoreOptions(paths: [[]], target: .directory(target)))
        }
    }

    @Test func aPaxArchiveExtractsToTheSameTree() throws {
        let tmp = TempDir()
        let snap = tmp.sub("snap")
        Tree.awkward(at: snap)
        Tree.deepChain(at: snap + "/deep", depth: 4)
        let (repo, point) = try Self.indexed(tmp, snap)
        let archive = tmp.sub("out.tar")
        let fd = open(archive, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let s = try repo.restore(point: point, options: RestoreOptions(paths: [Array("alice".utf8), Array("deep".utf8)], target: .tar(fd)))
        close(fd)
        #expect(s.failed == 0, "\(s.errors)")
        let out = tmp.sub("x")
        Tree.mkdir(out)
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        tar.arguments = ["-xf", archive, "-C", out]
        try tar.run()
        tar.waitUntilExit()
        #expect(tar.terminationStatus == 0)
        let want = ReferenceWalk.walk(snap).filter { $0.path.starts(with: Array("/alice".utf8)) || $0.path.starts(with: Array("/deep".utf8)) }
        let got = ReferenceWalk.walk(out)
        #expect(got.map(\.path) == want.map(\.path))
        #expect(zip(want, got).allSatisfy { $0.type == $1.type && $0.size == $1.size && $0.target == $1.target })
        #expect(zip(want, got).allSatisfy { $0.type == .directory || $0.mtime == $1.mtime })
    }

    @Test func anArchiveWriteErrorStopsTheRestoreAndSaysTheArchiveIsIncomplete() throws {
        let tmp = TempDir()
        let snap = tmp.sub("snap")
        Tree.write(snap + "/a.txt", "a")
        Tree.write(snap + "/b.txt", "b")
        let (repo, point) = try Self.indexed(tmp, snap)
        let full = open("/dev/full", O_WRONLY | O_CLOEXEC)
        #expect(full >= 0)
        defer { close(full) }
        do {
            _ = try repo.restore(point: point, options: RestoreOptions(paths: [[]], target: .tar(full)))
            Issue.record("a write error on the archive must stop the restore")
        } catch let e as SnapdexError {
            #expect(e.description.contains("incomplete") && !e.description.contains("nothing was published"), "\(e)")
            #expect(e.exitCode == 1)
        }
    }

    @Test func anArchiveIsNeverWrittenToATerminal() throws {
        // The master side of a new pseudo-terminal is a terminal too (posix_openpt's fd).
        let pty = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        #expect(pty >= 0 && isatty(pty) == 1)
        defer { close(pty) }
        #expect(throws: SnapdexError.archiveToTerminal) { try ArchiveFile.refuseTerminal(pty) }
        let devnull = open("/dev/null", O_WRONLY)
        defer { close(devnull) }
        try ArchiveFile.refuseTerminal(devnull)
    }

    @Test func anArchiveIsWrittenBesideItsFile() throws {
        #expect(ArchiveFile.directory(of: "/x.tar") == "/")
        #expect(ArchiveFile.directory(of: "a/b/x.tar") == "a/b/")
        #expect(ArchiveFile.directory(of: "x.tar") == "")
        let tmp = TempDir()
        let archive = try ArchiveFile(creating: tmp.sub("x.tar"), overwrite: false)
        #expect(write(archive.fd, "tar", 3) == 3)
        let names = try FileManager.default.contentsOfDirectory(atPath: tmp.path)
        #expect(names.count == 1 && names[0].hasPrefix(".snapdex-tar-"))
        try archive.publish()
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path) == ["x.tar"])
        #expect(Self.content(tmp.sub("x.tar")) == Data("tar".utf8))
    }

    @Test func staleTempFilesOfAKilledRestoreAreRemoved() throws {
        let tmp = TempDir()
        let snap = tmp.sub("snap")
        Tree.write(snap + "/alice/a.txt", "a")
        Tree.write(snap + "/other/c.txt", "c")
        let (repo, point) = try Self.indexed(tmp, snap)
        // A process that has ended: its pid names a dead restore.
        let done = Process()
        done.executableURL = URL(fileURLWithPath: "/bin/true")
        try done.run()
        done.waitUntilExit()
        let dead = done.processIdentifier
        let target = tmp.sub("t")
        Tree.write(target + "/alice/.snapdex-\(dead)-123.tmp", "stale")
        symlink("nowhere", target + "/alice/.snapdex-\(dead)-4294967295.tmp")
        Tree.write(target + "/alice/.snapdex-1-5.tmp", "pid 1 is alive")
        Tree.write(target + "/alice/.snapdex-\(dead)-x.tmp", "not the pattern")
        Tree.write(target + "/alice/keep.snapdex-\(dead)-1.tmp", "not the pattern")
        Tree.write(target + "/alice/.snapdex-\(dead)-1.tmp.bak", "not the pattern")
        Tree.write(target + "/other/.snapdex-\(dead)-7.tmp", "not restored into")
        let s = try repo.restore(point: point, options: RestoreOptions(paths: [Array("alice".utf8)], target: .directory(target)))
        #expect(s.failed == 0, "\(s.errors)")
        #expect(s.staleTempFilesRemoved == 2)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: target + "/alice"))
        #expect(left == [".snapdex-\(dead)-1.tmp.bak", ".snapdex-\(dead)-x.tmp", ".snapdex-1-5.tmp", "a.txt", "keep.snapdex-\(dead)-1.tmp"])
        #expect(FileManager.default.fileExists(atPath: target + "/other/.snapdex-\(dead)-7.tmp"))
    }

    @Test func restoreRefusesEntriesWhereSnapshotAndCatalogDisagree() throws {
        let tmp = TempDir()
        let snap = tmp.sub("snap")
        Tree.write(snap + "/tool", "#!/bin/sh\n")
        Tree.write(snap + "/plain.txt", "plain")
        symlink("plain.txt", snap + "/link")
        mkfifo(snap + "/pipe", 0o644)
        chmod(snap + "/tool", 0o755)
        let (repo, point) = try Self.indexed(tmp, snap)
        // The catalog now disagrees with the snapshot: a setuid bit (mtime unchanged), another
        // symlink target, a symlink where a fifo was.
        chmod(snap + "/tool", 0o4755)
        unlink(snap + "/link")
        symlink("/etc/shadow", snap + "/link")
        unlink(snap + "/pipe")
        symlink("plain.txt", snap + "/pipe")
        let target = tmp.sub("t")
        let s = try repo.restore(point: point, options: RestoreOptions(paths: [[]], target: .directory(target)))
        #expect(s.failed == 3, "\(s.errors)")
        for name in ["tool", "link", "pipe"] {
            #expect(s.errors.contains { $0.hasPrefix("/\(name): ") && $0.contains("does not match the catalog") }, "\(s.errors)")
            var st = stat()
            #expect(lstat(target + "/" + name, &st) != 0)
        }
        #expect(Self.content(target + "/plain.txt") == Data("plain".utf8))
        // The same check refuses them in an archive.
        let archive = tmp.sub("out.tar")
        let fd = open(archive, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { close(fd) }
        let a = try repo.restore(point: point, options: RestoreOptions(paths: [[]], target: .tar(fd)))
        #expect(a.failed == 3)

        // Device numbers are compared too.
        var st = stat()
        st.st_mode = S_IFCHR | 0o600
        st.st_rdev = 0x103  // 1,3
        let dev = FileEntry(name: Array("null".utf8), type: .charDevice, permissions: 0o600, device: 0x105)
        #expect(Restorer.disagreement(catalog: dev, snapshot: st, target: nil)?.contains("device") == true)
        st.st_rdev = 0x105
        #expect(Restorer.disagreement(catalog: dev, snapshot: st, target: nil) == nil)
    }

    @Test func conflictDecisionsAreAPureFunction() {
        let e = FileEntry(name: Array("f".utf8), type: .file, mtime: FileTime(nanoseconds: 100))
        let now = Timestamp(seconds: 1_800_000_000)
        #expect(RestorePlanner.decide(e, existing: nil, policy: .skip, now: now) == .create)
        #expect(RestorePlanner.decide(e, existing: ExistingEntry(type: .file, mtime: FileTime(nanoseconds: 50)), policy: .ifNewer, now: now) == .replace("the snapshot's copy is newer"))
        #expect(RestorePlanner.decide(e, existing: ExistingEntry(type: .file, mtime: FileTime(nanoseconds: 100)), policy: .ifNewer, now: now) == .skip("the existing copy is as new or newer"))
        #expect(RestorePlanner.decide(e, existing: ExistingEntry(type: .directory, mtime: FileTime(nanoseconds: 1)), policy: .ifNewer, now: now) == .skip("a directory is in the way"))
        #expect(RestorePlanner.decide(e, existing: ExistingEntry(type: .directory, mtime: FileTime(nanoseconds: 1)), policy: .overwrite, now: now)
            == .refuse("a directory is in the way; a directory is never replaced by a file"))
        #expect(RestorePlanner.decide(e, existing: ExistingEntry(type: .symlink, mtime: FileTime(nanoseconds: 1)), policy: .overwrite, now: now) == .replace("already exists; --overwrite replaces it"))
        let taken: Set<[UInt8]> = [Array("f.r".utf8), Array("f.r-2".utf8)]
        #expect(RestorePlanner.unusedName(Array("f.r".utf8)) { taken.contains($0) } == Array("f.r-3".utf8))
        let d = FileEntry(name: Array("d".utf8), type: .directory)
        #expect(RestorePlanner.decide(d, existing: ExistingEntry(type: .directory, mtime: FileTime(nanoseconds: 1)), policy: .skip, now: now) == .merge)
        #expect(!RestorePlanner.isSafeName(Array("..".utf8)) && !RestorePlanner.isSafeName(Array("a/b".utf8)) && !RestorePlanner.isSafeName([]))
        #expect(RestorePlanner.isSafePath(Array("a/b".utf8)) && !RestorePlanner.isSafePath(Array("a/../b".utf8)) && !RestorePlanner.isSafePath(Array("/a".utf8)))
    }
}

extension RestoreTests {
    /// A killed process its parent has not reaped yet still has its pid: a zombie's
    /// temporaries are left over all the same.
    @Test func aZombiesTemporariesAreAbandoned() throws {
        var pid: pid_t = 0
        let args: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
        defer { free(args[0]) }
        #expect(posix_spawn(&pid, "/bin/true", nil, nil, args, environ) == 0)
        // Not reaped yet: a zombie once it exits.
        var zombie = false
        for _ in 0..<500 where !zombie {
            usleep(2000)
            zombie = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.contains(") Z ") == true
        }
        #expect(zombie && kill(pid, 0) == 0)
        #expect(StaleTemporaries.isAbandoned(pid: pid, changed: Int(time(nil))))
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        #expect(StaleTemporaries.isAbandoned(pid: pid, changed: Int(time(nil))))
        // A live process older than the file may be the restore that made it.
        #expect(!StaleTemporaries.isAbandoned(pid: 1, changed: Int(time(nil))))
        #expect(!StaleTemporaries.isAbandoned(pid: getpid(), changed: 0))
    }
}
