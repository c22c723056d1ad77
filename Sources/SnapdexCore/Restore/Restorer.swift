import Crypto
import CSystemShims
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where restored entries go.
public enum RestoreTarget: Sendable {
    var directoryPath: String? {
        if case .directory(let d) = self { return d }
        return nil
    }

    /// Each restored path keeps its path under this directory (`/alice/a` → `DIR/alice/a`).
    case directory(String)
    /// The source's live path.
    case inPlace
    /// A pax archive written to this descriptor (standard output: never a terminal).
    case tar(Int32)
    /// A pax archive written to a temporary file beside this one and moved into place only
    /// when complete; an existing file is replaced only with the overwrite policy.
    case tarFile(String)
}

public struct RestoreOptions: Sendable {
    public var paths: [[UInt8]]
    public var target: RestoreTarget
    public var policy: ConflictPolicy = .skip
    public var dryRun = false
    public var verify = true
    public var now = Timestamp.now

    public init(paths: [[UInt8]], target: RestoreTarget) {
        self.paths = paths
        self.target = target
    }
}

/// One thing the restore did, or with `--dry-run` would do.
public struct RestoreEvent: Sendable {
    public var path: [UInt8]
    public var action: String
    public var reason: String?
    public var type: EntryType
    public var size: UInt64
}

public struct RestoreSummary: Sendable {
    public var files = 0
    public var directories = 0
    public var links = 0
    public var others = 0
    public var bytes: UInt64 = 0
    public var skipped = 0
    public var replaced = 0
    public var failed = 0
    /// "PATH: message" lines, for the session log.
    public var errors: [String] = []
    public var warnings: [String] = []
    /// The failed entries, with their paths as bytes, for messages that quote them.
    public var failures: [RestoreNote] = []
    /// Files restored with --no-verify that differ from the catalog.
    public var differences: [RestoreNote] = []
    public var seconds = 0.0
    /// Temporary files of killed restores (`.snapdex-PID-N.tmp` in the target,
    /// `.snapdex-tar-PID-N.tmp` beside a `--tar FILE`) removed.
    public var staleTempFilesRemoved = 0
    /// The `--tar FILE` that was not written because entries failed (its partial copy is removed).
    public var unwrittenArchive: String?
    /// Whether the restore was stopped (Ctrl-C in the browse shell) before every entry was
    /// done: what was restored stays, an archive is not written.
    public var cancelled = false

    /// 0 when nothing failed; 4 (partial) when something failed and something else was
    /// restored or skipped; 1 when every entry failed or the archive was not written.
    public var exitStatus: Int32 {
        if failed == 0 { return ExitStatus.success }
        if unwrittenArchive != nil || files + directories + links + others + skipped == 0 { return ExitStatus.failure }
        return ExitStatus.partial
    }
}

/// What went wrong, or what is worth saying, about one entry.
public struct RestoreNote: Sendable {
    /// The entry's path as `ls` would show it under the point (`/alice/a.txt`), as bytes.
    public var path: [UInt8]
    public var message: String
}

/// A failure confined to one entry: reported, counted, and the restore goes on.
struct EntryFailure: Error {
    let message: String
}

extension Repository {
    /// Restores paths of a point from the snapshot directory it was indexed from.
    /// `shouldStop` is asked between entries; when it says yes the restore stops there, an
    /// archive is discarded, and the session is logged as cancelled.
    public func restore(point: PointRecord, options: RestoreOptions, events: ((RestoreEvent) -> Void)? = nil,
                        progress: ((Int, UInt64, Double) -> Void)? = nil,
                        shouldStop: (() -> Bool)? = nil) throws -> RestoreSummary {
        // Where the snapshot is now (a rotation may have renamed its folder); never another one.
        let snapshot = try snapshotFolder(of: point)
        var options = options
        let targetText: String
        switch options.target {
        case .directory(let dir): targetText = dir
        case .inPlace: targetText = "live path"
        case .tar: targetText = "tar to standard output"
        case .tarFile(let path): targetText = "tar \(path)"
        }
        if case .inPlace = options.target {
            guard let live = try source(named: point.source).livePath else {
                throw SnapdexError.invalidArgument("source \(point.source) has no live path; set one with `snapdex source set \(point.source) --live-path DIR`, or restore with --to DIR")
            }
            // A missing live path is an unmounted file system: never create it.
            guard FileIO.isDirectory(live) else { throw SnapdexError.livePathMissing(source: point.source, path: live) }
            options.target = .directory(live)
        }
        let targetLogged = targetText == "live path" ? "live path \(options.target.directoryPath ?? "")" : targetText
        let reader = try reader(for: point)
        // Nothing to restore is an error, not a partial restore.
        if !options.paths.isEmpty, try options.paths.allSatisfy({ try reader.entry(at: $0, level: .names) == nil }) {
            throw reader.missingPathError(pointName: String(point.id.prefix(12)), path: options.paths[0])
        }
        var archive: ArchiveFile?
        switch options.target {
        case .tar(let fd):
            if !options.dryRun { try ArchiveFile.refuseTerminal(fd) }
        case .tarFile(let path):
            if options.dryRun {
                try ArchiveFile.check(path, overwrite: options.policy == .overwrite)
                options.target = .tar(-1)
            } else {
                let a = try ArchiveFile(creating: path, overwrite: options.policy == .overwrite)
                archive = a
                options.target = .tar(a.fd)
            }
        case .directory, .inPlace:
            break
        }
        let started = Timestamp.now
        var s: RestoreSummary
        do {
            let restorer = try Restorer(reader: reader, snapshot: snapshot, options: options)
            restorer.events = events
            restorer.progress = progress
            restorer.shouldStop = shouldStop
            s = try restorer.run()
            s.staleTempFilesRemoved += archive?.staleTempFilesRemoved ?? 0
        } catch let w as ArchiveWriteFailure {
            archive?.discard()
            guard let archive, !archive.isDirect else { throw SnapdexError.archiveIncomplete(reason: "cannot write it: \(w.errno)") }
            throw SnapdexError.archiveNotWritten(path: archive.path, reason: "cannot write it: \(w.errno)", oldKept: archive.replacing)
        } catch {
            archive?.discard()
            throw error
        }
        if let archive {
            if s.cancelled {
                archive.discard()
            } else if s.failed > 0 && !archive.isDirect {
                archive.discard()
                s.unwrittenArchive = archive.path
            } else {
                try archive.publish()
            }
        }
        if !options.dryRun {
            logSession(SessionRecord(
                kind: "restore", started: started.rfc3339(), ended: Timestamp.now.rfc3339(),
                result: s.cancelled ? "cancelled" : s.exitStatus == ExitStatus.success ? "ok" : s.exitStatus == ExitStatus.partial ? "partial" : "failed",
                counts: ["files": Int64(s.files), "directories": Int64(s.directories), "bytes": Int64(s.bytes),
                         "skipped": Int64(s.skipped), "replaced": Int64(s.replaced), "failed": Int64(s.failed)],
                points: [point.id], warnings: Array((s.errors + s.differences.map { "\(String(decoding: $0.path, as: UTF8.self)): \($0.message)" } + s.warnings).prefix(100)), message: nil,
                source: point.source, paths: options.paths.map { String(decoding: PathBytes.display($0), as: UTF8.self) },
                target: targetLogged))
        }
        return s
    }

    /// Opens a point's file in its snapshot for reading, checking it still matches the catalog.
    public func openSnapshotFile(point: PointRecord, path: [UInt8], verify: Bool = true) throws -> (fd: Int32, entry: FileEntry) {
        let snapshot = try snapshotFolder(of: point)
        let display = String(decoding: PathBytes.display(path), as: UTF8.self)
        let catalog = try reader(for: point)
        guard let entry = try catalog.entry(at: path) else {
            throw catalog.missingPathError(pointName: String(point.id.prefix(12)), path: path)
        }
        guard entry.type == .file else { throw SnapdexError.invalidArgument("\(display) is a \(entry.type.word), not a file") }
        let source = try DirectoryOpener(root: snapshot, create: false)
        defer { source.close() }
        do {
            let dir = try source.open(PathBytes.split(path).dir)
            let fd = try Restorer.openVerified(name: entry.name, in: dir, entry: entry, verify: verify)
            return (fd, entry)
        } catch let f as EntryFailure {
            throw SnapdexError.snapshotFileMismatch(path: display, message: f.message)
        }
    }

    /// Streams a point's file from its snapshot to `write`, checked like a restore: size and
    /// mtime before the first byte, size and SHA-256 (when recorded) after the last. A
    /// mismatch found at the end is thrown after the bytes were written. Without `verify`,
    /// returns how the file differs from the catalog in size or mtime (nil when it does not):
    /// the bytes written are the snapshot's as they are now.
    @discardableResult
    public func readSnapshotFile(point: PointRecord, path: [UInt8], verify: Bool = true,
                                 _ write: (UnsafeRawBufferPointer) throws -> Void) throws -> String? {
        let (fd, entry) = try openSnapshotFile(point: point, path: path, verify: verify)
        defer { close(fd) }
        let difference = verify ? nil : Restorer.difference(fd: fd, from: entry)
        let display = String(decoding: PathBytes.display(path), as: UTF8.self)
        var hasher = SHA256()
        let hashing = verify && entry.hash != nil
        var total: UInt64 = 0
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        reading: while true {
            switch buf.withUnsafeMutableBytes({ b in syscall { Glibc.read(fd, b.baseAddress, b.count) } }) {
            case .failure(let e): throw SnapdexError.io("cannot read", display, e)
            case .success(0): break reading
            case .success(let n):
                try buf.withUnsafeBytes { b in
                    let chunk = UnsafeRawBufferPointer(rebasing: b[0..<n])
                    if hashing { hasher.update(bufferPointer: chunk) }
                    try write(chunk)
                }
                total += UInt64(n)
            }
        }
        guard verify else { return difference }
        let changed = "the snapshot's file changed since it was indexed"
        let after = "what was written is not what the point recorded; use --no-verify to read it anyway"
        if total != entry.size {
            throw SnapdexError.snapshotFileMismatch(path: display, message: "\(changed) (its size differs); \(after)")
        }
        if hashing, let h = entry.hash, Digest(trusted: Array(hasher.finalize())) != h {
            throw SnapdexError.snapshotFileMismatch(path: display, message: "\(changed) (SHA-256 differs); \(after)")
        }
        return nil
    }
}

/// Opens directories below a root one component at a time, never following a symlink, and
/// optionally creating what is missing. Keeps the descriptors it opened until closed.
final class DirectoryOpener {
    let rootFD: Int32
    private let create: Bool
    private var cache: [[UInt8]: Int32] = [:]
    /// Directories this opener created, in creation order.
    private(set) var created: [[UInt8]] = []
    /// Directories it created where --overwrite removed a file or symlink first.
    private(set) var replaced: Set<[UInt8]> = []
    var replaceNonDirectories = false
    /// A restore target, where --overwrite replaces what is in the way; in a snapshot
    /// (read-only, what the point was indexed from) there is nothing to overwrite.
    var isTarget = false

    init(root: String, create: Bool) throws {
        if create, case .failure(let e) = PathCalls.makeDirectories(root) { throw SnapdexError.io("cannot create directory", root, e) }
        switch FS.openDirectory(path: root) {
        case .success(let fd): rootFD = fd
        case .failure(let e): throw SnapdexError.io("cannot open", root, e)
        }
        self.create = create
    }

    func open(_ path: [UInt8]) throws -> Int32 {
        if path.isEmpty { return rootFD }
        if let fd = cache[path] { return fd }
        let (dir, name) = PathBytes.split(path)
        let parent = try open(dir)
        let shown = PathBytes.shown(path)
        switch FS.openDirectory(name, in: parent) {
        case .success(let fd):
            remember(path, fd)
            return fd
        case .failure(let e) where e == .noEntry && create:
            let made = FS.withCName(name) { mkdirat(parent, $0, 0o700) }
            guard made == 0 else { throw EntryFailure(message: "cannot create directory \(shown): \(Errno.current)") }
            created.append(path)
            return try open(path)
        case .failure(let e) where (e == .loop || e == .notDirectory) && create && replaceNonDirectories:
            // --overwrite: a file or symlink where a directory belongs is replaced, never followed.
            guard FS.withCName(name, { unlinkat(parent, $0, 0) }) == 0 else {
                throw EntryFailure(message: "cannot remove \(shown) to make a directory: \(Errno.current)")
            }
            replaced.insert(path)
            return try open(path)
        case .failure(let e) where e == .loop || e == .notDirectory:
            throw EntryFailure(message: isTarget
                ? "\(shown) is a symlink or not a directory; not following it (use --overwrite to replace it)"
                : "\(shown) is a symlink or not a directory in the snapshot, where the catalog has a directory; not following it (the snapshot changed since it was indexed: index it again)")
        case .failure(let e):
            throw EntryFailure(message: "cannot open directory \(shown): \(e)")
        }
    }

    private func remember(_ path: [UInt8], _ fd: Int32) {
        if cache.count >= 128 {
            // Keep the descriptors of the current path's ancestors; drop the rest.
            for (p, f) in cache where !PathBytes.isWithin(path, p) {
                Glibc.close(f)
                cache[p] = nil
            }
        }
        cache[path] = fd
    }

    func close() {
        for f in cache.values { Glibc.close(f) }
        cache.removeAll()
        Glibc.close(rootFD)
    }
}

/// Restores entries of one point, reading every file from the snapshot relative to
/// directory descriptors, and writing relative to the target's.
final class Restorer {
    let reader: CatalogReader
    let options: RestoreOptions
    let source: DirectoryOpener
    var target: DirectoryOpener?
    var tar: TarWriter?
    var events: ((RestoreEvent) -> Void)?
    var progress: ((Int, UInt64, Double) -> Void)?
    /// Asked before each entry; yes stops the restore there.
    var shouldStop: (() -> Bool)?
    private var summary = RestoreSummary()
    /// First restored path of each inode with several links, so the others become links.
    private var linked: [UInt64: [UInt8]] = [:]
    private let isRoot = geteuid() == 0
    private var warnedOwner = false
    /// Entries whose mtime the target's file system could not hold (ext4 keeps 1901..2446),
    /// and the first of them as an example for the warning.
    private var timesNotHeld = 0
    private var firstTimeNotHeld: String?
    private let started = Timestamp.now
    private var nextReport = 256
    /// Directories already searched for stale temporary files.
    private var swept: Set<[UInt8]> = []

    init(reader: CatalogReader, snapshot: String, options: RestoreOptions) throws {
        self.reader = reader
        self.options = options
        source = try DirectoryOpener(root: snapshot, create: false)
        switch options.target {
        case .directory(let dir):
            if options.dryRun {
                target = FileIO.isDirectory(dir) ? try DirectoryOpener(root: dir, create: false) : nil
            } else {
                target = try DirectoryOpener(root: dir, create: true)
                target?.replaceNonDirectories = options.policy == .overwrite
            }
            target?.isTarget = true
        case .tar(let fd):
            tar = TarWriter(fd: fd)
        case .inPlace, .tarFile:
            preconditionFailure("resolved by Repository.restore")
        }
    }

    /// Thrown between entries when `shouldStop` says yes; ends `run`.
    private struct Stopped: Error {}

    func run() throws -> RestoreSummary {
        defer {
            source.close()
            target?.close()
        }
        do {
            try restorePaths()
        } catch is Stopped {
            summary.cancelled = true
            summary.seconds = Double(Timestamp.now.nanoseconds - started.nanoseconds) / 1e9
            return summary
        }
        if let tar, !options.dryRun { try tar.finish() }
        if let firstTimeNotHeld {
            summary.warnings.append("the target's file system cannot hold the mtime of \(timesNotHeld) restored entr\(timesNotHeld == 1 ? "y" : "ies"): "
                + "\(firstTimeNotHeld); --tar records such times exactly")
        }
        summary.seconds = Double(Timestamp.now.nanoseconds - started.nanoseconds) / 1e9
        return summary
    }

    /// Notes an entry whose mtime came back other than it was set: the file system moved it
    /// to the nearest time it can hold, without an error.
    private func checkTimeHeld(_ e: FileEntry, _ st: stat?) {
        guard let st, !e.mtime.admits(st.fileMTime) else { return }
        timesNotHeld += 1
        if firstTimeNotHeld == nil {
            firstTimeNotHeld = "\(String(decoding: PathBytes.display(e.name), as: UTF8.self)) has \(st.fileMTime.rfc3339(fraction: true)), not \(e.mtime.rfc3339(fraction: true))"
        }
    }

    private func restorePaths() throws {
        for path in options.paths {
            guard let entry = try reader.entry(at: path) else {
                fail(path, "not in this restore point")
                continue
            }
            if !path.isEmpty, let siblings = try reader.list(PathBytes.split(path).dir), siblings.filter({ $0.name == entry.name }).count > 1 {
                fail(path, "the catalog lists this name twice in its directory (damaged); refused")
                continue
            }
            if entry.type == .directory {
                try reader.forEachGroup(under: path) { g in
                    // A name listed twice is damage: which entry is the real one is unknown.
                    var seen: [[UInt8]: Int] = [:]
                    for e in g.entries { seen[e.name, default: 0] += 1 }
                    for e in g.entries where !e.name.isEmpty {
                        if seen[e.name, default: 0] > 1 {
                            fail(PathBytes.join(g.path, e.name), "the catalog lists this name twice in its directory (damaged); refused")
                            continue
                        }
                        try restore(dir: g.path, e)
                    }
                    return true
                }
            }
            if !path.isEmpty { try restore(dir: PathBytes.split(path).dir, entry) } else { restoreRootAttributes(entry) }
            fixAncestors(of: path)
        }
    }

    // MARK: One entry

    private func restore(dir: [UInt8], _ e: FileEntry) throws {
        if shouldStop?() == true { throw Stopped() }
        let path = PathBytes.join(dir, e.name)
        guard RestorePlanner.isSafePath(dir), RestorePlanner.isSafeName(e.name) else {
            fail(path, "unsafe name in the catalog (empty, '.', '..' or containing '/' or NUL); refused")
            return
        }
        do {
            if tar != nil {
                try archive(dir: dir, e)
            } else {
                try write(dir: dir, e)
            }
        } catch let f as EntryFailure {
            fail(path, f.message)
        } catch let w as ArchiveWriteFailure {
            throw w
        } catch {
            fail(path, "\(error)")
        }
        let done = summary.files + summary.directories + summary.links + summary.others
        if done >= nextReport, let progress {
            nextReport = done + 256
            progress(done, summary.bytes, Double(Timestamp.now.nanoseconds - started.nanoseconds) / 1e9)
        }
    }

    private func write(dir: [UInt8], _ e: FileEntry) throws {
        let path = PathBytes.join(dir, e.name)
        // What is written: the catalog's entry, with the snapshot's time where it kept a bound.
        var w = resolved(e, in: dir)
        // What is there now decides the action.
        var existing: ExistingEntry?
        var dfd: Int32 = -1
        if let target {
            if options.dryRun {
                dfd = (try? target.open(dir)) ?? -1
            } else {
                dfd = try target.open(dir)
                sweepStaleTemporaries(in: dfd, dir: dir)
            }
            if dfd >= 0, case .success(let st) = FS.lstat(e.name, in: dfd) {
                existing = ExistingEntry(type: EntryType(mode: UInt32(st.st_mode)) ?? .file, mtime: st.fileMTime)
            }
        }
        var action = RestorePlanner.decide(w, existing: existing, policy: options.policy, now: options.now)
        // Restoring its children made the directory already (catalog order puts them first),
        // over a file or symlink that --overwrite replaced.
        if action == .merge, target?.replaced.contains(path) == true {
            action = .replace("a file or symlink was in the way; --overwrite replaces it")
        } else if action == .merge, target?.created.contains(path) == true {
            action = .create
        }
        if case .keepBoth(let name) = action, dfd >= 0 {
            action = .keepBoth(name: RestorePlanner.unusedName(name) { n in
                if case .success = FS.lstat(n, in: dfd) { return true }
                return false
            })
        }
        if case .skip(let why) = action {
            summary.skipped += 1
            report(path, e, "skip", why)
            return
        }
        if case .refuse(let why) = action { throw EntryFailure(message: why) }
        try checkSnapshot(dir: dir, e)
        var reason: String?
        if case .replace(let why) = action { reason = why }
        if case .keepBoth(let n) = action { reason = "as " + String(decoding: PathBytes.quoted(n), as: UTF8.self) }
        if options.dryRun {
            count(e, action)
            if e.type == .file { summary.bytes += e.size }
            report(path, e, action.word, reason)
            return
        }
        let finalName: [UInt8]
        if case .keepBoth(let n) = action { finalName = n } else { finalName = e.name }

        switch e.type {
        case .directory:
            let fd = try target!.open(PathBytes.join(dir, finalName))
            try applyAttributes(fd: fd, w)
        case .file:
            if e.nlink > 1, let first = linked[e.inode] {
                let (fdir, fname) = PathBytes.split(first)
                let ffd = try target!.open(fdir)
                try place(dfd: dfd, finalName: finalName, action: action) { tmp in
                    FS.withCName(fname) { f in FS.withCName(tmp) { t in linkat(ffd, f, dfd, t, 0) } }
                }
                summary.links += 1
                report(path, e, action.word, reason)
                return
            }
            let sfd = try Restorer.openVerified(name: e.name, in: try source.open(dir), entry: e, verify: options.verify)
            defer { Glibc.close(sfd) }
            w.mtime = Self.restoredTime(e, snapshot: sfd, verify: options.verify)
            let size = try Self.currentSize(sfd)
            noteDifference(path, fd: sfd, e)
            try place(dfd: dfd, finalName: finalName, action: action) { tmp in
                let out = FS.withCName(tmp) { openat(dfd, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
                guard out >= 0 else { return -1 }
                defer { Glibc.close(out) }
                do {
                    try copy(from: sfd, to: out, size: size, e)
                    try applyAttributes(fd: out, w, atimeFrom: sfd)
                } catch let f as EntryFailure {
                    FS.withCName(tmp) { _ = unlinkat(dfd, $0, 0) }
                    throw f
                }
                return 0
            }
            if e.nlink > 1 { linked[e.inode] = PathBytes.join(dir, finalName) }
            summary.bytes += size
        case .symlink:
            try place(dfd: dfd, finalName: finalName, action: action) { tmp in
                FS.withCName(e.target) { t in FS.withCName(tmp) { symlinkat(t, dfd, $0) } }
            }
            try applyAttributes(at: dfd, name: finalName, w, follow: false)
        case .fifo:
            try place(dfd: dfd, finalName: finalName, action: action) { tmp in
                FS.withCName(tmp) { mkfifoat(dfd, $0, mode_t(e.permissions)) }
            }
            try applyAttributes(at: dfd, name: finalName, w, follow: false)
        case .charDevice, .blockDevice:
            guard isRoot else { throw EntryFailure(message: "device nodes can be restored only by root") }
            try place(dfd: dfd, finalName: finalName, action: action) { tmp in
                FS.withCName(tmp) { mknodat(dfd, $0, mode_t(e.mode), dev_t(e.device)) }
            }
            try applyAttributes(at: dfd, name: finalName, w, follow: false)
        case .socket:
            summary.skipped += 1
            report(path, e, "skip", "a socket cannot be restored")
            return
        }
        count(e, action)
        report(path, e, action.word, reason)
    }

    /// Makes the entry under a temporary name with `make`, then moves it into place: a new
    /// name is linked (never replacing anything), a replaced one is renamed over.
    private func place(dfd: Int32, finalName: [UInt8], action: RestoreAction, make: ([UInt8]) throws -> Int32) throws {
        let tmp = Self.temporaryName(pid: getpid(), n: UInt32.random(in: 0...UInt32.max))
        guard try make(tmp) == 0 else { throw EntryFailure(message: "cannot create: \(Errno.current)") }
        let r: Int32
        if case .replace = action {
            r = FS.withCName(tmp) { t in FS.withCName(finalName) { renameat(dfd, t, dfd, $0) } }
        } else {
            // renameat2(RENAME_NOREPLACE) through linkat + unlinkat works for every type.
            r = FS.withCName(tmp) { t in FS.withCName(finalName) { f in
                var st = stat()
                if fstatat(dfd, f, &st, AT_SYMLINK_NOFOLLOW) == 0 { errno = EEXIST; return -1 }
                return renameat(dfd, t, dfd, f)
            } }
        }
        if r != 0 {
            let e = Errno.current
            FS.withCName(tmp) { _ = unlinkat(dfd, $0, 0) }
            throw EntryFailure(message: "cannot put it in place: \(e)")
        }
    }

    private func count(_ e: FileEntry, _ action: RestoreAction) {
        if action == .merge { return }
        if case .replace = action { summary.replaced += 1 }
        switch e.type {
        case .file: summary.files += 1
        case .directory: summary.directories += 1
        default: summary.others += 1
        }
    }

    // MARK: Checks and leftovers

    /// Refuses an entry whose snapshot copy is not what the catalog says: the restore takes
    /// type, device numbers, mode bits, owners and link targets from the catalog, so a
    /// damaged or stale catalog must not make a device, a setuid file or a symlink the
    /// snapshot does not hold.
    private func checkSnapshot(dir: [UInt8], _ e: FileEntry) throws {
        if e.type == .socket { return }
        let sdir = try source.open(dir)
        let st: stat
        switch FS.lstat(e.name, in: sdir) {
        case .success(let s): st = s
        case .failure(let err): throw EntryFailure(message: "cannot find it in the snapshot: \(err)")
        }
        var target: [UInt8]?
        if e.type == .symlink, (UInt32(st.st_mode) & 0o170000) == 0o120000 {
            switch FS.readlink(e.name, in: sdir, sizeHint: Int(st.st_size)) {
            case .success(let t): target = t
            case .failure(let err): throw EntryFailure(message: "cannot read the link in the snapshot: \(err)")
            }
        }
        if let why = Self.disagreement(catalog: e, snapshot: st, target: target) {
            throw EntryFailure(message: "the snapshot's entry does not match the catalog (\(why)); refused")
        }
    }

    /// Why the snapshot's `lstat` (and link target) disagrees with the catalog entry, or nil.
    static func disagreement(catalog e: FileEntry, snapshot st: stat, target: [UInt8]?) -> String? {
        let mode = UInt32(st.st_mode)
        guard let type = EntryType(mode: mode), type == e.type else {
            return "a \(EntryType(mode: mode)?.word ?? "strange entry") in the snapshot, a \(e.type.word) in the catalog"
        }
        if (type == .charDevice || type == .blockDevice) && UInt64(st.st_rdev) != e.device {
            // glibc's major/minor split of a dev_t.
            func pair(_ d: UInt64) -> String { "\((d >> 8) & 0xfff | (d >> 32) & ~0xfff),\(d & 0xff | (d >> 12) & ~0xff)" }
            return "device \(pair(UInt64(st.st_rdev))) in the snapshot, \(pair(e.device)) in the catalog"
        }
        if mode & 0o7777 != e.permissions {
            return "mode \(String(mode & 0o7777, radix: 8)) in the snapshot, \(String(e.permissions, radix: 8)) in the catalog"
        }
        if st.st_uid != e.uid || st.st_gid != e.gid {
            return "owner \(st.st_uid):\(st.st_gid) in the snapshot, \(e.uid):\(e.gid) in the catalog"
        }
        if type == .symlink, let target, target != e.target { return "another link target in the snapshot" }
        return nil
    }

    /// The name `place` creates an entry under before moving it into place.
    static func temporaryName(pid: pid_t, n: UInt32) -> [UInt8] { StaleTemporaries.name(prefix: StaleTemporaries.restorePrefix, pid: pid, n: n) }

    /// A killed restore leaves its temporary names behind. Once per directory restored into
    /// (not one this restore made), even when every entry in it is skipped, removes those
    /// whose process is gone; never a directory, never another name.
    private func sweepStaleTemporaries(in dfd: Int32, dir: [UInt8]) {
        guard swept.insert(dir).inserted, target?.created.contains(dir) != true else { return }
        summary.staleTempFilesRemoved += StaleTemporaries.sweep(in: dfd, prefix: StaleTemporaries.restorePrefix)
    }

    // MARK: Data and attributes

    /// Opens a snapshot file and checks it is still what the catalog recorded.
    static func openVerified(name: [UInt8], in dir: Int32, entry e: FileEntry, verify: Bool) throws -> Int32 {
        // Copies count bytes in Int and off_t: a size no file can have is damage, even with --no-verify.
        guard Int64(exactly: e.size) != nil else { throw EntryFailure(message: "the catalog gives it an impossible size (damaged); refused") }
        let fd: Int32
        switch FS.openFile(name, in: dir) {
        case .success(let f): fd = f
        case .failure(let err): throw EntryFailure(message: "cannot open it in the snapshot: \(err)")
        }
        if case .success(let st) = FS.fstat(fd) {
            let isFile = (UInt32(st.st_mode) & 0o170000) == 0o100000
            if !isFile || (verify && difference(fd: fd, from: e) != nil) {
                Glibc.close(fd)
                throw EntryFailure(message: "the snapshot's file changed since it was indexed (size or mtime differ); use --no-verify to restore it anyway")
            }
        }
        // The read below is blocking; O_NONBLOCK only kept a fifo swapped in from hanging the open.
        _ = fcntl(fd, F_SETFL, 0)
        return fd
    }

    /// How many bytes an open snapshot file holds now: what a restore copies, whatever the
    /// catalog says (with --no-verify they may differ; never pad or cut to the catalog's size).
    static func currentSize(_ fd: Int32) throws -> UInt64 {
        guard case .success(let st) = FS.fstat(fd), st.st_size >= 0 else { throw EntryFailure(message: "cannot look at it in the snapshot: \(Errno.current)") }
        return UInt64(st.st_size)
    }

    /// How an open snapshot file differs from its catalog entry in size or mtime, or nil.
    static func difference(fd: Int32, from e: FileEntry) -> String? {
        guard case .success(let st) = FS.fstat(fd) else { return nil }
        if UInt64(st.st_size) != e.size { return "\(st.st_size) bytes in the snapshot, \(e.size) in the catalog" }
        if !e.mtime.admits(st.fileMTime) { return "another mtime in the snapshot than in the catalog" }
        return nil
    }

    /// The mtime a restore gives an entry: the catalog's, except where a catalog older than
    /// format 3 kept only a bound (`FileTime.Bound`): then the snapshot's own, when the bound
    /// admits it or `--no-verify` takes the snapshot as it is now.
    static func restoredTime(_ e: FileEntry, snapshot: FileTime?, verify: Bool) -> FileTime {
        guard e.mtime.bound != .exact, let snapshot, !verify || e.mtime.admits(snapshot) else { return e.mtime }
        return snapshot
    }

    /// `restoredTime` with the time of an open snapshot file: the one whose bytes are copied.
    static func restoredTime(_ e: FileEntry, snapshot fd: Int32, verify: Bool) -> FileTime {
        guard e.mtime.bound != .exact, case .success(let st) = FS.fstat(fd) else { return e.mtime }
        return restoredTime(e, snapshot: st.fileMTime, verify: verify)
    }

    /// The entry with `restoredTime` from the snapshot's `lstat` of it (in `dir`), looked up
    /// only for a bound.
    private func resolved(_ e: FileEntry, in dir: [UInt8]) -> FileEntry {
        guard e.mtime.bound != .exact, let sdir = try? source.open(dir), case .success(let st) = FS.lstat(e.name, in: sdir) else { return e }
        var w = e
        w.mtime = Self.restoredTime(e, snapshot: st.fileMTime, verify: options.verify)
        return w
    }

    /// With --no-verify, a file that differs from the catalog is restored as the snapshot
    /// holds it, and the user is told.
    private func noteDifference(_ path: [UInt8], fd: Int32, _ e: FileEntry) {
        guard !options.verify, let why = Self.difference(fd: fd, from: e) else { return }
        let message = "differs from the catalog (\(why)); restored as the snapshot holds it now (--no-verify)"
        summary.differences.append(RestoreNote(path: PathBytes.display(path), message: message))
    }

    /// Copies a regular file, keeping holes where the source has them, and checks the
    /// recorded SHA-256 while copying.
    private func copy(from sfd: Int32, to dfd: Int32, size fileSize: UInt64, _ e: FileEntry) throws {
        var hasher = SHA256()
        let hashing = options.verify && e.hash != nil
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        var offset: off_t = 0
        let size = off_t(fileSize)
        while offset < size {
            var data = lseek(sfd, offset, SDX_SEEK_DATA)
            if data < 0 { data = errno == ENXIO ? size : offset }
            if data > offset && hashing {
                // A hole reads as zeros: hash them without writing them.
                var left = Int(data - offset)
                let zeros = [UInt8](repeating: 0, count: min(left, 1 << 20))
                while left > 0 {
                    let n = min(left, zeros.count)
                    zeros.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                    left -= n
                }
            }
            offset = data
            if offset >= size { break }
            var hole = lseek(sfd, offset, SDX_SEEK_HOLE)
            if hole < 0 { hole = size }
            while offset < hole {
                let want = min(buf.count, Int(hole - offset))
                let n = buf.withUnsafeMutableBytes { b in syscall { pread(sfd, b.baseAddress, want, offset) } }
                guard case .success(let got) = n, got > 0 else { throw EntryFailure(message: "cannot read it from the snapshot") }
                var done = 0
                while done < got {
                    let w = buf.withUnsafeBytes { b in syscall { pwrite(dfd, b.baseAddress! + done, got - done, offset + off_t(done)) } }
                    switch w {
                    case .failure(let err): throw EntryFailure(message: err == .noSpace ? "no space left in the target" : "cannot write: \(err)")
                    case .success(let k): done += k
                    }
                }
                if hashing { buf.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<got])) } }
                offset += off_t(got)
            }
        }
        guard ftruncate(dfd, size) == 0 else { throw EntryFailure(message: "cannot set its size: \(Errno.current)") }
        if hashing, Digest(trusted: Array(hasher.finalize())) != e.hash {
            throw EntryFailure(message: "the snapshot's file changed since it was indexed (SHA-256 differs); use --no-verify to restore it anyway")
        }
    }

    /// Mode, owner (as root), extended attributes and times, on an open file or directory.
    private func applyAttributes(fd: Int32, _ e: FileEntry, atimeFrom sfd: Int32? = nil) throws {
        if isRoot { _ = fchown(fd, e.uid, e.gid) } else { warnOwner() }
        _ = fchmod(fd, mode_t(e.permissions))
        if let sfd { copyXattrs(from: sfd, to: fd) }
        var times = [timespec(tv_sec: 0, tv_nsec: Int(SDX_UTIME_OMIT)), e.mtime.spec]
        if let sfd, case .success(let st) = FS.fstat(sfd) { times[0] = st.st_atim }
        if futimens(fd, &times) == 0, case .success(let st) = FS.fstat(fd) { checkTimeHeld(e, st) }
    }

    /// Owner and times of a symlink, fifo or device by name, without following it.
    private func applyAttributes(at dfd: Int32, name: [UInt8], _ e: FileEntry, follow: Bool) throws {
        FS.withCName(name) { n in
            if isRoot { _ = fchownat(dfd, n, e.uid, e.gid, AT_SYMLINK_NOFOLLOW) }
            var times = [timespec(tv_sec: 0, tv_nsec: Int(SDX_UTIME_OMIT)), e.mtime.spec]
            if utimensat(dfd, n, &times, AT_SYMLINK_NOFOLLOW) == 0 {
                var st = stat()
                if fstatat(dfd, n, &st, AT_SYMLINK_NOFOLLOW) == 0 { checkTimeHeld(e, st) }
            }
        }
        if !isRoot { warnOwner() }
    }

    private func copyXattrs(from sfd: Int32, to dfd: Int32) {
        let size = flistxattr(sfd, nil, 0)
        guard size > 0 else { return }
        var names = [CChar](repeating: 0, count: size)
        let n = flistxattr(sfd, &names, size)
        guard n > 0 else { return }
        var start = 0
        for i in 0..<n where names[i] == 0 {
            let name = Array(names[start..<i]) + [0]
            start = i + 1
            let vsize = fgetxattr(sfd, name, nil, 0)
            guard vsize >= 0 else { continue }
            var value = [UInt8](repeating: 0, count: max(vsize, 1))
            let got = fgetxattr(sfd, name, &value, vsize)
            guard got >= 0 else { continue }
            if fsetxattr(dfd, name, value, got, 0) != 0 {
                summary.warnings.append("cannot set extended attribute \(String(decoding: name.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)): \(Errno.current)")
            }
        }
    }

    private func warnOwner() {
        guard !warnedOwner else { return }
        warnedOwner = true
        summary.warnings.append("not running as root: files get your owner and group, not the recorded ones")
    }

    /// Gives the directories above each restored path that this restore created the
    /// attributes the catalog records for them.
    private func fixAncestors(of path: [UInt8]) {
        guard let target, !options.dryRun else { return }
        var dir = PathBytes.split(path).dir
        while !dir.isEmpty {
            if target.created.contains(dir), let e = try? reader.entry(at: dir), let fd = try? target.open(dir) {
                do {
                    try checkSnapshot(dir: PathBytes.split(dir).dir, e)
                    try applyAttributes(fd: fd, resolved(e, in: PathBytes.split(dir).dir))
                } catch let f as EntryFailure {
                    fail(dir, f.message)
                } catch {}
            }
            dir = PathBytes.split(dir).dir
        }
    }

    private func restoreRootAttributes(_ e: FileEntry) {
        guard let target, !options.dryRun, options.policy == .overwrite || target.created.isEmpty == false else { return }
        guard case .success(let st) = FS.fstat(source.rootFD) else { return }
        if let why = Self.disagreement(catalog: e, snapshot: st, target: nil) {
            fail([], "the snapshot's entry does not match the catalog (\(why)); its attributes are not restored")
            return
        }
        var w = e
        w.mtime = Self.restoredTime(e, snapshot: st.fileMTime, verify: options.verify)
        try? applyAttributes(fd: target.rootFD, w)
    }

    // MARK: Archive

    private func archive(dir: [UInt8], _ e: FileEntry) throws {
        let path = PathBytes.join(dir, e.name)
        try checkSnapshot(dir: dir, e)
        if options.dryRun {
            count(e, .create)
            report(path, e, "archive", nil)
            return
        }
        // The pax mtime: the catalog's, or the snapshot's where the catalog kept a bound.
        var h = TarWriter.Header(path: path + (e.type == .directory ? [PathBytes.slash] : []), type: UInt8(ascii: "0"),
                                 mode: e.permissions, uid: e.uid, gid: e.gid, size: 0, mtime: resolved(e, in: dir).mtime)
        switch e.type {
        case .directory: h.type = UInt8(ascii: "5")
        case .symlink:
            h.type = UInt8(ascii: "2")
            h.link = e.target
        case .fifo: h.type = UInt8(ascii: "6")
        case .charDevice, .blockDevice:
            h.type = UInt8(ascii: e.type == .charDevice ? "3" : "4")
            h.device = e.device
        case .socket:
            summary.skipped += 1
            report(path, e, "skip", "a socket cannot be archived")
            return
        case .file:
            if e.nlink > 1, let first = linked[e.inode] {
                h.type = UInt8(ascii: "1")
                h.link = first
                try tar!.write(h)
                summary.links += 1
                report(path, e, "archive", nil)
                return
            }
            let sfd = try Restorer.openVerified(name: e.name, in: try source.open(dir), entry: e, verify: options.verify)
            defer { Glibc.close(sfd) }
            // The header's size is the snapshot file's size now (the catalog's unless
            // --no-verify let a changed file through); a file that shrinks while it is read
            // is padded so the archive stays valid, and fails.
            // A file with holes is archived as its data runs (GNU sparse 1.0); the holes are
            // still hashed, as the zeros they read as.
            h.mtime = Self.restoredTime(e, snapshot: sfd, verify: options.verify)
            let size = try Self.currentSize(sfd)
            noteDifference(path, fd: sfd, e)
            h.size = size
            let segments = TarWriter.canBeSparse(path: path) ? SparseFile.dataSegments(fd: sfd, size: size) : nil
            h.sparse = segments
            try tar!.write(h)
            var buf = [UInt8](repeating: 0, count: 1 << 20)
            var hasher = SHA256()
            var short = false
            var hashed: UInt64 = 0
            let zeros = [UInt8](repeating: 0, count: 1 << 16)
            func hashZeros(upTo end: UInt64) {
                while hashed < end {
                    let n = Int(min(UInt64(zeros.count), end - hashed))
                    zeros.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                    hashed += UInt64(n)
                }
            }
            var stored: UInt64 = 0
            for run in segments ?? [SparseFile.Segment(offset: 0, length: size)] {
                hashZeros(upTo: run.offset)
                var left = Int(run.length)
                var at = off_t(run.offset)
                while left > 0 {
                    let n = buf.withUnsafeMutableBytes { b in syscall { pread(sfd, b.baseAddress, min(b.count, left), at) } }
                    guard case .success(let got) = n, got > 0 else { break }
                    try buf.withUnsafeBytes { try tar!.writeData(UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
                    buf.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
                    left -= got
                    at += off_t(got)
                    hashed += UInt64(got)
                }
                if left > 0 {
                    short = true
                    try [UInt8](repeating: 0, count: left).withUnsafeBytes { try tar!.writeData($0) }
                    hashed += UInt64(left)
                }
                stored += run.length
            }
            hashZeros(upTo: size)
            try tar!.padTo512(Int(stored))
            if short { throw EntryFailure(message: "the snapshot's file got shorter while it was read; its archived copy is padded with zeros") }
            if options.verify, let h = e.hash, Digest(trusted: Array(hasher.finalize())) != h {
                throw EntryFailure(message: "the snapshot's file changed since it was indexed (SHA-256 differs); its archived copy does not match the catalog")
            }
            if e.nlink > 1 { linked[e.inode] = path }
            summary.bytes += size
            count(e, .create)
            report(path, e, "archive", nil)
            return
        }
        try tar!.write(h)
        count(e, .create)
        report(path, e, "archive", nil)
    }

    // MARK: Reporting

    private func report(_ path: [UInt8], _ e: FileEntry, _ action: String, _ reason: String?) {
        events?(RestoreEvent(path: PathBytes.display(path), action: action, reason: reason, type: e.type, size: e.size))
    }

    private func fail(_ path: [UInt8], _ message: String) {
        summary.failed += 1
        summary.errors.append("\(String(decoding: PathBytes.display(path), as: UTF8.self)): \(message)")
        summary.failures.append(RestoreNote(path: PathBytes.display(path), message: message))
        events?(RestoreEvent(path: PathBytes.display(path), action: "fail", reason: message, type: .file, size: 0))
    }
}
