import Crypto
import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#endif

/// What `snapdex index` was asked to do.
public struct IndexOptions: Sendable {
    public var source: String
    /// One snapshot directory; nil indexes every directory under the source's snapshots folder
    /// that has no index yet.
    public var directory: String?
    public var at: Timestamp?
    /// Overrides the source's time source for this run (`index --time-from`).
    public var timeFrom: TimeSource?
    public var manual = false
    public var hash = false
    public var walk = WalkOptions()
    public var label: String?
    public var replace = false
    /// Store file times as catalogs before format 3 did, clamped to 64-bit nanoseconds, so
    /// that a repair reproduces such a catalog's blocks byte for byte.
    var clampsTimes = false
    public var keepUntil: Timestamp?
    public var wait: Double = 0
    /// Index `directory` even when it has no entries (`index DIR --allow-empty`).
    public var allowEmpty = false
    /// The words typed after `snapdex`, so that an error's advice is the same command with one
    /// option changed; nil advises a command built from these options alone.
    public var commandLine: [String]?

    public init(source: String, directory: String? = nil) {
        self.source = source
        self.directory = directory
    }
}

extension IndexOptions {
    /// The command an error advises: the user's own command line with `option` set, else `fallback`.
    func retry(setting option: String, to value: String? = nil, or fallback: String) -> String {
        commandLine.map { ShellWord.retry($0, setting: option, to: value) } ?? fallback
    }
}

/// What one index run produced; printed at the end and as `--json`.
public struct IndexSummary: Codable, Sendable {
    public var id: String
    public var source: String
    public var time: String
    public var snapshot: String
    public var entries: UInt64
    public var files: UInt64
    public var directories: UInt64
    public var bytes: UInt64
    public var newBlocks: Int
    public var reusedBlocks: Int
    public var bytesWritten: Int
    public var catalogBytes: Int
    public var hashedFiles: UInt64
    public var hashesReused: UInt64
    public var seconds: Double
    public var warnings: [String]
    public var replaced: String?
    /// How many paths could not be read; above 0 the point is partial.
    public var unreadable: UInt64 = 0
    /// The warnings (of `warnings`) that name a path the point lacks.
    public var unreadablePaths: [String] = []

    /// A point with unreadable paths is partial: it exists, but lacks what could not be read.
    public var isPartial: Bool { unreadable > 0 }

    enum CodingKeys: String, CodingKey {
        case id, source, time, snapshot, entries, files, directories, bytes
        case newBlocks = "new_blocks", reusedBlocks = "reused_blocks", bytesWritten = "bytes_written"
        case catalogBytes = "catalog_bytes", hashedFiles = "hashed_files", hashesReused = "hashes_reused"
        case seconds, warnings, replaced, unreadable
        case unreadablePaths = "unreadable_paths"
    }
}

public struct IndexProgress: Sendable {
    public var entries: UInt64
    public var bytes: UInt64
    public var seconds: Double
}

/// Places where tests stop an index run as if the process had been killed there.
public enum CrashPoint: String, Sendable, CaseIterable {
    case afterSomeBlocks = "after-blocks"
    case beforeManifestRename = "before-manifest-rename"
    case beforeCommit = "before-commit"
}

/// Thrown at an injected crash point; the indexer then skips all cleanup, as a killed process would.
public struct SimulatedCrash: Error {}

/// Indexes snapshot directories into catalogs and publishes them: blocks, then the manifest
/// (temp file, fsync, rename, fsync of the folder), then the database commit.
public final class Indexer {
    let repository: Repository
    public var progress: ((IndexProgress) -> Void)?
    /// Called as each snapshot directory's walk starts, with its point time.
    public var willIndex: ((String, Timestamp) -> Void)?
    /// Called once before the first walk with how many directories this run will index.
    public var planned: ((Int) -> Void)?
    /// Called as each point is published, so a long run reports what is done as it goes.
    public var didIndex: ((IndexSummary) -> Void)?
    /// Called with each warning about the run rather than about one walk, before anything is
    /// indexed: a point time guessed from the folder's mtime (a name without one), a symlink or
    /// an empty folder skipped in the snapshots folder.
    public var warning: ((String) -> Void)?
    /// The snapshots without an index that the source's --include/--exclude globs left out of
    /// the last run.
    public private(set) var filteredOut: [String] = []
    /// Stops the run at this point without cleanup (tests). `SNAPDEX_CRASH_AT` does the same
    /// for a real process, which then exits at once with status 137.
    public var crashPoint: CrashPoint?
    public var chunking = ChunkingParameters.standard
    /// Points whose snapshot folder the last run found moved, and recorded at its new place.
    public private(set) var relocated: [Relocation] = []
    /// Called as each relocation is recorded, before anything is indexed.
    public var didRelocate: ((Relocation) -> Void)?

    public init(repository: Repository) {
        self.repository = repository
        if let env = ProcessInfo.processInfo.environment["SNAPDEX_CRASH_AT"] { crashPoint = CrashPoint(rawValue: env) }
    }

    private func crash(at point: CrashPoint) throws {
        guard crashPoint == point else { return }
        if ProcessInfo.processInfo.environment["SNAPDEX_CRASH_AT"] == point.rawValue { _exit(137) }
        throw SimulatedCrash()
    }

    public func run(_ options: IndexOptions) throws -> [IndexSummary] {
        try repository.withWriterLock(wait: options.wait, scope: .source(options.source)) {
            repository.blocks.begin(known: try repository.knownBlocks())
            let config = try sourceConfig(for: options)
            var summaries: [IndexSummary] = []
            relocated = []
            let targets = try targets(options, config)
            planned?(targets.count)
            for (dir, time) in targets {
                willIndex?(dir, time)
                let summary = try indexOne(directory: dir, time: time, config: config, options: options)
                didIndex?(summary)
                summaries.append(summary)
            }
            return summaries
        }
    }

    private func sourceConfig(for options: IndexOptions) throws -> SourceConfig {
        try SourceConfig.validate(name: options.source)
        // The file decides, never the database: a source.json on disk is never overwritten.
        if FileIO.exists(repository.sourceDirectory(options.source) + "/source.json") {
            return try repository.loadSourceConfig(options.source)
        }
        guard options.directory != nil else { throw repository.sourceConfigProblem(options.source) ?? SnapdexError.sourceUnknown(options.source) }
        // A source that has points lost its source.json: defaults written now would hide the
        // damage and drop its settings (`verify --repair` rebuilds it from the points).
        if FileIO.isDirectory(repository.sourceDirectory(options.source)), !(try repository.points(source: options.source)).isEmpty {
            throw repository.sourceConfigProblem(options.source)
                ?? SnapdexError.sourceConfigDamaged(path: repository.sourceDirectory(options.source) + "/source.json", source: options.source, reason: "missing")
        }
        let config = SourceConfig(name: options.source)
        try repository.saveSource(config)
        return config
    }

    /// The directories to index, oldest first, with their point times. A folder is indexed
    /// when no point's snapshot is in it, judged by identity (device, inode and fingerprint)
    /// and not by name or time: first each point whose folder a rotation renamed
    /// (rsnapshot's daily.0 -> daily.1) is re-located to the folder that now holds it, so a
    /// new folder under an old name (`cp -al daily.1 daily.0`) is a new snapshot.
    private func targets(_ options: IndexOptions, _ config: SourceConfig) throws -> [(String, Timestamp)] {
        let timeFrom = options.timeFrom ?? config.timeFrom
        if let dir = options.directory {
            let snapshot = SnapshotLayout.snapshot(at: Repository.absolute(dir))
            if snapshot.layout == .plain, SnapshotLayout.isSnapshotsFolder(snapshot.root) {
                throw SnapdexError.snapshotsFolderNotSnapshot(path: snapshot.root, advice: "`snapdex source set \(config.name) --snapshots \(ShellWord.quoted(snapshot.root))`, then `snapdex index --source \(config.name)`")
            }
            if !options.allowEmpty, SnapshotLayout.isEmptyDirectory(snapshot.root) {
                throw SnapdexError.snapshotEmpty(path: snapshot.root, retry: options.retry(setting: "--allow-empty", or: "snapdex index \(ShellWord.quoted(snapshot.root)) --source \(config.name) --allow-empty"))
            }
            if let at = options.at { return [(snapshot.root, at)] }
            let t = try SnapshotTime.of(snapshot, timeFrom: timeFrom)
            try t.check(retry: options.retry(setting: "--time-from", to: "auto", or: "snapdex index \(ShellWord.quoted(snapshot.root)) --source \(config.name) --time-from auto"))
            if let w = t.warning { warning?(w) }
            // A snapshot indexed before under another name (a rotation renamed it) is
            // re-located, not indexed again.
            if !options.replace, let moved = try movedPoint(to: snapshot.root, time: t.time, source: config.name) {
                try record(moved, to: snapshot.root)
                return []
            }
            return [(snapshot.root, t.time)]
        }
        guard let folder = config.snapshots else { throw SnapdexError.sourceHasNoSnapshotsFolder(config.name) }
        guard FileIO.isDirectory(folder) else { throw SnapdexError.snapshotDirectoryMissing(folder) }
        let points = try repository.points(source: config.name)
        let snapshots = SnapshotLayout.snapshots(in: folder)
        let folders = SnapshotFolders(roots: snapshots.map(\.root))
        var claimed = Set<String>()
        // With --replace, a partial point whose folder is still there is indexed again (as a
        // user who can read what it lacks), at its own time, replacing it.
        var again: [(String, Timestamp)] = []
        for p in points {
            guard let recorded = try? repository.manifest(of: p).identity else {
                // Indexed before identities were recorded: its folder while it has its time.
                if let s = snapshots.first(where: { $0.root == p.snapshot }), (try? SnapshotTime.of(s, timeFrom: timeFrom).time) == p.pointTime {
                    claimed.insert(p.snapshot)
                }
                continue
            }
            guard let now = folders.holder(of: recorded, recordedAt: p.snapshot) else { continue }
            claimed.insert(now)
            if now != p.snapshot { try record(p, to: now) }
            if options.replace && p.unreadable > 0 { again.append((now, p.pointTime)) }
        }
        var found: [(String, Timestamp)] = []
        var readings: [String: SnapshotTime] = [:]
        // Every snapshot takes part in recognising what is indexed already; the filters only
        // decide which of the rest are indexed now.
        for link in SnapshotLayout.symlinks(in: folder) {
            warning?("\(link) is a symlink, not a snapshot: skipped (symlinks are never followed)")
        }
        for snapshot in snapshots where !claimed.contains(snapshot.root) {
            if !config.accepts(snapshotName: snapshot.name) {
                filteredOut.append(snapshot.root)
                continue
            }
            if SnapshotLayout.isEmptyDirectory(snapshot.root) {
                warning?("\(snapshot.root) is empty: skipped (a snapshot that failed to mount looks like this); mount it, or index it as empty with `snapdex index \(ShellWord.quoted(snapshot.root)) --source \(config.name) --allow-empty`")
                continue
            }
            let t = try SnapshotTime.of(snapshot, timeFrom: timeFrom)
            readings[snapshot.root] = t
            found.append((snapshot.root, t.time))
        }
        // Only the snapshots about to be indexed are refused or warned about: the others have
        // their points already.
        for (path, _) in found where readings[path]?.layout == .plain && SnapshotLayout.isSnapshotsFolder(path) {
            throw SnapdexError.snapshotsFolderNotSnapshot(path: path, advice: "`snapdex source set \(config.name) --snapshots \(ShellWord.quoted(path))`")
        }
        for (path, _) in found {
            try readings[path]?.check(retry: options.retry(setting: "--time-from", to: "auto", or: "snapdex index --source \(ShellWord.quoted(config.name)) --time-from auto"))
        }
        for (path, _) in found { if let w = readings[path]?.warning { warning?(w) } }
        return (found + again).sorted { ($0.1, $0.0) < ($1.1, $1.0) }
    }

    /// Records, durably, that `p`'s snapshot is now at `path`, and reports it.
    private func record(_ p: PointRecord, to path: String) throws {
        try repository.relocate(p, to: path)
        let r = Relocation(id: p.id, source: p.source, time: p.pointTime, from: p.snapshot, to: path)
        relocated.append(r)
        didRelocate?(r)
    }

    /// The point of `time` whose snapshot a rotation moved to `path`: its recorded folder no
    /// longer holds it, and `path` has its identity (device, inode, samples with mtimes).
    private func movedPoint(to path: String, time: Timestamp, source: String) throws -> PointRecord? {
        guard case .success(let found) = SnapshotIdentity.of(directory: path) else { return nil }
        for p in try repository.points(source: source) where p.snapshot != path && p.pointTime == time {
            guard let recorded = try? repository.manifest(of: p).identity, recorded.isHeld(by: found, atRecordedPath: false),
                  SnapshotFolders(roots: [p.snapshot]).holder(of: recorded, recordedAt: p.snapshot) != p.snapshot else { continue }
            return p
        }
        return nil
    }

    private func indexOne(directory: String, time: Timestamp, config: SourceConfig, options: IndexOptions) throws -> IndexSummary {
        let started = Timestamp.now
        guard FileIO.exists(directory) else { throw SnapdexError.snapshotDirectoryMissing(directory) }
        guard FileIO.isDirectory(directory) else { throw SnapdexError.notADirectory(directory) }
        let identity: SnapshotIdentity
        switch SnapshotIdentity.of(directory: directory) {
        case .success(let i): identity = i
        case .failure(let e): throw SnapdexError.io("cannot read", directory, e)
        }
        // The same snapshot at the same time: same folder, and the folder still holds the
        // snapshot that point recorded. Another folder of that time, or a new folder under the
        // old name, is another point, unless --replace asks to replace the folder's point.
        let existing = try repository.read { db in
            try PointRecord.filter(PointRecord.Columns.source == config.name && PointRecord.Columns.time == time.nanoseconds
                                   && Column("snapshot") == directory).fetchAll(db)
        }.first { p in
            guard !options.replace, let recorded = try? repository.manifest(of: p).identity else { return true }
            return recorded.isHeld(by: identity, atRecordedPath: true)
        }
        if let existing, !options.replace {
            throw SnapdexError.pointExists(source: config.name, time: time.exactRFC3339(), id: String(existing.id.prefix(12)))
        }
        var rng = SystemRandomNumberGenerator()
        let id = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let idHex = Hex.encode(id)
        // The newest other index: its blocks are the bases for patches, and with --hash its
        // hashes are reused for files that did not change.
        func newestOther(hashed: Bool) throws -> PointRecord? {
            try repository.read { db in
                // Not a point whose manifest is missing: there is no catalog to start from.
                var q = PointRecord.filter(PointRecord.Columns.source == config.name && PointRecord.Columns.id != (existing?.id ?? ""))
                    .filter(Column("stamp") != PointRecord.missingStamp)
                if hashed { q = q.filter(Column("hashed") == true) }
                return try q.order(PointRecord.Columns.time.desc).fetchOne(db)
            }
        }
        let newest = try newestOther(hashed: false)
        let newestHashed = try newestOther(hashed: true)

        var journal = Journal(adds: [.init(source: config.name, id: idHex)])
        if let existing { journal.removes.append(.init(source: config.name, id: existing.id)) }
        try repository.beginJournal(journal)
        let store = repository.blocks
        store.beginPoint()
        let manifestPath = repository.manifestPath(source: config.name, id: idHex)
        var committed = false
        do {
            var manifest = Manifest(id: id, source: config.name, pointTime: time, indexedAt: started,
                                    kind: options.manual ? .manual : .scheduled, snapshotPath: directory)
            manifest.label = options.label
            manifest.retainUntil = options.keepUntil
            manifest.hashed = options.hash
            manifest.identity = identity
            let policy = try RetentionPolicy(text: config.policy ?? "")
            manifest.policy = Manifest.settings(of: policy)
            manifest.calendarZone = policy.isEmpty ? nil : policy.zone?.name
            let (chunks, counts, warnings, readerFloor) = try walk(directory: directory, options: options, base: newest,
                                                      hashesFrom: options.hash ? newestHashed : nil, store: store)
            manifest.chunks = chunks
            manifest.readerFloor = readerFloor
            manifest.counts = counts
            for w in warnings { if let u = w.unreadable { manifest.unreadable.append(u) } }

            try FileIO.syncFileSystem(repository.blocks.directory)
            let bytes = manifest.encode()
            try FileIO.write(manifestPath + ".tmp", bytes, exclusive: false, durable: true)
            try crash(at: .beforeManifestRename)
            if case .failure(let e) = syscall({ PathCalls.rename(manifestPath + ".tmp", manifestPath) }) {
                throw SnapdexError.io("cannot rename", manifestPath, e)
            }
            try FileIO.syncDirectory(repository.sourceDirectory(config.name))
            try crash(at: .beforeCommit)
            // The renamed manifest is the commit point; the database follows. Blocks the
            // replaced point frees are deleted only when no manifest on disk references them.
            let stamp = ManifestFile.stamp(of: manifestPath) ?? ""
            committed = true
            if let existing { try RepositoryFolder.removeFile(repository.manifestPath(source: existing.source, id: existing.id), in: repository.root) }
            let freed = try repository.write { db in
                try Catalogue.insert(manifest, manifestBytes: bytes.count, stamp: stamp, replacing: existing.map { [$0.id] } ?? [], in: db)
                return try Catalogue.deleteUnreferencedBlocks(in: db)
            }
            _ = repository.deleteBlocks(freed)
            repository.endJournal()

            let catalogBytes = Set(manifest.blocks).reduce(bytes.count) { $0 + $1.storedSize }
            let summary = IndexSummary(
                id: idHex, source: config.name, time: time.exactRFC3339(), snapshot: directory, entries: counts.entries,
                files: counts.files, directories: counts.directories, bytes: counts.bytes, newBlocks: store.written.count,
                reusedBlocks: store.reused, bytesWritten: store.bytesWritten + bytes.count, catalogBytes: catalogBytes,
                hashedFiles: counts.hashedFiles, hashesReused: counts.hashesReused,
                seconds: Double(Timestamp.now.nanoseconds - started.nanoseconds) / 1e9,
                warnings: warnings.map { $0.description }, replaced: existing?.id, unreadable: manifest.unreadable.total,
                unreadablePaths: warnings.filter { $0.unreadable != nil }.map { $0.description })
            repository.logSession(SessionRecord(
                kind: "index", started: started.rfc3339(), ended: Timestamp.now.rfc3339(),
                result: summary.isPartial ? "partial" : "ok",
                counts: ["entries": Int64(counts.entries), "new_blocks": Int64(store.written.count),
                         "bytes_written": Int64(summary.bytesWritten), "warnings": Int64(warnings.count),
                         "unreadable": Int64(manifest.unreadable.total)],
                points: [idHex], warnings: Array(warnings.prefix(100).map { $0.description }), message: nil,
                source: config.name))
            return summary
        } catch is SimulatedCrash {
            throw SimulatedCrash()
        } catch {
            if !committed {
                store.discardWritten()
                try? RepositoryFolder.removeFile(manifestPath + ".tmp", in: repository.root)
                try? RepositoryFolder.removeFile(manifestPath, in: repository.root)
                // A reader may have recorded the renamed manifest: without its row, the removal
                // is not taken for damage once the journal is gone.
                _ = try? repository.write { db in try Catalogue.delete(points: [idHex], in: db) }
                repository.endJournal()
            }
            repository.logSession(SessionRecord(
                kind: "index", started: started.rfc3339(), ended: Timestamp.now.rfc3339(), result: "failed",
                counts: [:], points: [], warnings: [], message: "\(error)", source: config.name))
            throw error
        }
    }

    /// Walks `directory` into a catalog whose parts go to `store`. The previous index (`base`,
    /// the patch bases) and the hashed one (`previous`, hashes of unchanged files) only save
    /// work: when they cannot be read (damaged), parts are stored whole and files hashed again.
    func walk(directory: String, options: IndexOptions, base: PointRecord?, hashesFrom previous: PointRecord?,
              store: BlockSink) throws -> ([ChunkRef], CatalogCounts, [WalkWarning], readerFloor: UInt16)
    {
        let writer = CatalogWriter(sink: store, parameters: chunking, previous: base.flatMap { try? repository.manifest(of: $0) })
        let walker = TreeWalker(options: options.walk)
        let cursor = previous.flatMap { p in (try? repository.reader(for: p)).map { GroupCursor(reader: $0) } }
        let clock = Timestamp.now
        var nextReport: UInt64 = 4096
        var hashedReused: UInt64 = 0
        var hashWarnings: [WalkWarning] = []
        let blockStore = store as? BlockStore
        if crashPoint == .afterSomeBlocks, let blockStore {
            var writes = 0
            blockStore.beforeWrite = { [unowned self] in
                writes += 1
                if writes > 2 { try self.crash(at: .afterSomeBlocks) }
            }
        }
        defer {
            blockStore?.beforeWrite = nil
            _ = try? store.finishWrites()  // no worker may outlive a failed walk
        }

        try walker.walk(root: directory) { group, dirFD in
            if options.hash {
                let before = cursor?.advance(to: group.path)
                var old: [[UInt8]: FileEntry] = [:]
                if let before { for e in before where e.hash != nil { old[e.name] = e } }
                for i in group.entries.indices where group.entries[i].type == .file {
                    let e = group.entries[i]
                    if let o = old[e.name], o.inode == e.inode, o.size == e.size, o.mtime == e.mtime, o.ctime == e.ctime {
                        group.entries[i].hash = o.hash
                        hashedReused += 1
                        continue
                    }
                    switch FileHasher.hash(name: e.name, in: dirFD, expectInode: e.inode) {
                    case .success(let d): group.entries[i].hash = d
                    case .failure(let why):
                        let path = PathBytes.join(group.path, e.name)
                        hashWarnings.append(WalkWarning(path: "/" + String(decoding: path, as: UTF8.self), message: "cannot hash: \(why)",
                                                        unreadable: UnreadablePath(path: path, what: .content, errno: why)))
                    }
                }
            }
            if options.clampsTimes {
                for i in group.entries.indices {
                    group.entries[i].mtime = FileTime(nanoseconds: group.entries[i].mtime.storedNanoseconds)
                    group.entries[i].ctime = FileTime(nanoseconds: group.entries[i].ctime.storedNanoseconds)
                }
            }
            try writer.add(group)
            // The writer already counts entries and bytes; progress reads its totals.
            let counted = writer.counts
            if counted.entries >= nextReport, let progress {
                nextReport = counted.entries + 8192
                progress(IndexProgress(entries: counted.entries, bytes: counted.bytes,
                                       seconds: Double(Timestamp.now.nanoseconds - clock.nanoseconds) / 1e9))
            }
        }
        let chunks = try writer.finish()
        var counts = writer.counts
        counts.hashesReused = hashedReused
        let warnings = walker.warnings + hashWarnings
        counts.warnings = UInt64(warnings.count)
        return (chunks, counts, warnings, writer.needsFormat4State ? 4 : 1)
    }
}

/// SHA-256 of a file's content, read relative to its directory descriptor.
enum FileHasher {
    static func hash(name: [UInt8], in dirFD: Int32, expectInode: UInt64) -> Result<Digest, Errno> {
        let fd: Int32
        switch FS.openFile(name, in: dirFD) {
        case .success(let f): fd = f
        case .failure(let e): return .failure(e)
        }
        defer { close(fd) }
        if case .success(let st) = FS.fstat(fd), UInt64(st.st_ino) != expectInode { return .failure(Errno(ESTALE)) }
        var hasher = SHA256()
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let r = buf.withUnsafeMutableBytes { b in syscall { read(fd, b.baseAddress, b.count) } }
            switch r {
            case .failure(let e): return .failure(e)
            case .success(0): return .success(Digest(trusted: Array(hasher.finalize())))
            case .success(let n): buf.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
        }
    }
}

/// The point time of a snapshot, and where it came from.
public struct SnapshotTime: Sendable {
    public var time: Timestamp
    /// Why the snapshot's name gave no time, when the folder's mtime stands in for it.
    public var nameFailure: String?
    public var timeFrom: TimeSource
    public var root: String
    public var layout: SnapshotFolder.Layout = .plain

    /// The warning people see when the mtime stood in for the name (`--time-from auto`).
    public var warning: String? {
        guard let why = nameFailure, timeFrom == .auto else { return nil }
        return "snapshot \(root): \(why); its point time is the folder's mtime, \(time.rfc3339()) (--time-from name refuses such names, --time-from mtime uses mtimes without a word)"
    }

    /// Throws when `--time-from name` and the name gave no time; `retry` is the command to advise.
    public func check(retry: String) throws {
        if let why = nameFailure, timeFrom == .name { throw SnapdexError.snapshotNameHasNoTime(path: root, why: why, retry: retry) }
    }

    /// The time of `snapshot`: what its tool recorded (snapper's info.xml), else its name,
    /// else (and always with `.mtime`) its root folder's mtime.
    public static func of(_ snapshot: SnapshotFolder, timeFrom: TimeSource) throws -> SnapshotTime {
        var failure: String?
        if timeFrom != .mtime {
            switch snapshot.recorded ?? SnapshotName.read(snapshot.name) {
            case .time(let t): return SnapshotTime(time: t, nameFailure: nil, timeFrom: timeFrom, root: snapshot.root, layout: snapshot.layout)
            case .none:
                failure = snapshot.layout == .snapper
                    ? "its info.xml has no <date> and its name '\(snapshot.name)' holds no time"
                    : "its name '\(snapshot.name)' holds no date and time in a form snapdex knows"
            case .impossible(let why): failure = "the date in its name '\(snapshot.name)' does not exist (\(why))"
            }
        }
        return SnapshotTime(time: try mtime(of: snapshot.root), nameFailure: failure, timeFrom: timeFrom, root: snapshot.root, layout: snapshot.layout)
    }

    /// The point time of one snapshot directory, as `index DIR` reads it (no warning).
    public static func of(directory: String, timeFrom: TimeSource) throws -> Timestamp {
        try of(SnapshotLayout.snapshot(at: directory), timeFrom: timeFrom == .name ? .auto : timeFrom).time
    }

    static func mtime(of directory: String) throws -> Timestamp {
        var st = stat()
        guard PathCalls.stat(directory, &st) == 0 else {
            if errno == ENOENT { throw SnapdexError.snapshotDirectoryMissing(directory) }
            throw SnapdexError.io("cannot stat", directory, .current)
        }
        // A point time is a Timestamp (manifest tag 3): a folder time outside it is refused.
        guard let t = FileTime(st.st_mtim).timestamp else {
            throw SnapdexError.invalidArgument("the mtime of \(directory), \(FileTime(st.st_mtim).rfc3339()), is outside the point times snapdex can store (\(Timestamp.rangeDescription)); give the point time with --at (see `snapdex index --help`)")
        }
        return t
    }
}
