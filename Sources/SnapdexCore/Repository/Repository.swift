import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#endif

/// How a source's point times are found when a snapshot directory is indexed without `--at`.
public enum TimeSource: String, Sendable, Codable, CaseIterable {
    /// Read from the snapshot's name (or the date its tool recorded beside it); when the name
    /// holds no time, the directory's mtime, with a warning that says so.
    case auto
    /// Read from the snapshot's name only: a name without a time is an error.
    case name
    /// Always the directory's mtime (rsnapshot's `daily.0` names carry no time).
    case mtime

    /// The values as the command line takes them, for messages.
    public static let choices = "'auto', 'name' or 'mtime'"
}

/// A protected file system: where its snapshots appear and where it lives. Stored in
/// `catalogs/SOURCE/source.json`, mirrored in the database.
public struct SourceConfig: Codable, Equatable, Sendable {
    public var name: String
    public var snapshots: String?
    public var livePath: String?
    public var timeFrom: TimeSource
    /// Retention settings as `name=value` pairs separated by spaces; nil keeps everything.
    public var policy: String?
    /// Globs on snapshot names: when any is given, `index --source` indexes only the snapshots
    /// whose name matches one of them.
    public var include: [String] = []
    /// Globs on snapshot names that `index --source` skips.
    public var exclude: [String] = []

    public init(name: String, snapshots: String? = nil, livePath: String? = nil, timeFrom: TimeSource = .auto, policy: String? = nil,
                include: [String] = [], exclude: [String] = []) {
        self.name = name
        self.snapshots = snapshots
        self.livePath = livePath
        self.timeFrom = timeFrom
        self.policy = policy
        self.include = include
        self.exclude = exclude
    }

    /// The source.json version this Snapdex writes. Version 1 files (no `version` key) have no
    /// filters, and their `"timeFrom": "name"` meant what `auto` means now; version 3 files end
    /// with a checksum (`fileBytes`, `decodeFile`).
    static let fileVersion = 3

    enum CodingKeys: String, CodingKey {
        case version, name, snapshots, livePath, timeFrom, policy, include, exclude
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let version = try c.decodeIfPresent(Int.self, forKey: .version) ?? 1
        name = try c.decode(String.self, forKey: .name)
        snapshots = try c.decodeIfPresent(String.self, forKey: .snapshots)
        livePath = try c.decodeIfPresent(String.self, forKey: .livePath)
        timeFrom = try c.decodeIfPresent(TimeSource.self, forKey: .timeFrom) ?? .auto
        if version < 2 && timeFrom == .name { timeFrom = .auto }
        policy = try c.decodeIfPresent(String.self, forKey: .policy)
        include = try c.decodeIfPresent([String].self, forKey: .include) ?? []
        exclude = try c.decodeIfPresent([String].self, forKey: .exclude) ?? []
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(SourceConfig.fileVersion, forKey: .version)
        try c.encode(name, forKey: .name)
        try c.encodeIfPresent(snapshots, forKey: .snapshots)
        try c.encodeIfPresent(livePath, forKey: .livePath)
        try c.encode(timeFrom, forKey: .timeFrom)
        try c.encodeIfPresent(policy, forKey: .policy)
        if !include.isEmpty { try c.encode(include, forKey: .include) }
        if !exclude.isEmpty { try c.encode(exclude, forKey: .exclude) }
    }

    /// Whether `index --source` takes the snapshot named `name` (the filters allow it).
    public func accepts(snapshotName name: String) -> Bool {
        if !include.isEmpty && !include.contains(where: { fnmatch($0, name, 0) == 0 }) { return false }
        return !exclude.contains { fnmatch($0, name, 0) == 0 }
    }

    var record: SourceRecord {
        SourceRecord(name: name, snapshots: snapshots, livePath: livePath, timeFrom: timeFrom.rawValue, policy: policy)
    }

    static func validate(name: String) throws {
        let ok = !name.isEmpty && name.count <= 128 && !name.hasPrefix(".") && !name.hasPrefix("-")
            && name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) }
        guard ok else { throw SnapdexError.invalidSourceName(name) }
    }
}

/// A Snapdex repository: catalogs (manifests and blocks) and the SQLite database that indexes
/// them. Layout:
///
///     REPO/config                     format version
///     REPO/snapdex.db                 SQLite (WAL), rebuildable by `rescan`
///     REPO/catalogs/SOURCE/source.json
///     REPO/catalogs/SOURCE/ID.manifest
///     REPO/blocks/XX/HASH             compressed catalog blocks, content addressed
///     REPO/lock                       the writer lock (flock)
///     REPO/journal                    present only while a writer changes points
///     REPO/sessions.jsonl             the session log
public final class Repository {
    public let root: String
    /// The cache of the catalog files; in memory when the repository's own cannot be written.
    public internal(set) var database: any DatabaseWriter
    public let blocks: BlockStore
    /// Stops a removal at this point without cleanup (tests).
    public var removalCrashPoint: RemovalCrashPoint?
    /// Things people should know about how the repository was opened (the database was
    /// rebuilt from the catalog files, a source.json is damaged); the CLI prints them.
    public internal(set) var notes: [String] = []
    /// Says what people must fix that a command met but got past (a session log that is
    /// not a file); the CLI prints it as a warning, even with -q. Nil: nothing is said.
    public var warn: ((String) -> Void)?
    /// Whether `logSession` already said why the log was not written (said once a run).
    private var saidSessionLogSkipped = false
    /// What the reconcile that opened the repository changed (a rebuild, when the database
    /// was new).
    var reconciledAtOpen = ReconcileReport()
    /// For a repository on object storage: the store, and this host's cache of it, which
    /// `root` then is.
    public let mirror: StoreMirror?

    /// Where the repository is, as people name it: its folder, or its object storage URL.
    public var location: String { mirror?.store.location ?? root }

    var catalogsDirectory: String { root + "/catalogs" }
    var journalPath: String { root + "/journal" }
    var lockPath: String { root + "/lock" }
    var sessionsPath: String { root + "/sessions.jsonl" }
    var databasePath: String { root + "/snapdex.db" }

    /// `--repo`, else `$SNAPDEX_REPO`, else `~/.local/share/snapdex`.
    public static func defaultPath(environment: [String: String] = PathString.environment(["SNAPDEX_REPO", "HOME"])) -> String {
        if let r = environment["SNAPDEX_REPO"], !r.isEmpty { return r }
        let home = environment["HOME"] ?? "/root"
        return home + "/.local/share/snapdex"
    }

    /// Creates a new, empty repository: a new directory (mode 0700), or an existing empty one,
    /// whose mode is left as its owner set it.
    @discardableResult
    public static func create(at path: String) throws -> Repository {
        guard !path.isEmpty else { throw SnapdexError.invalidArgument("the repository path is empty; name a directory with --repo DIR") }
        let root = absolute(path)
        if FileIO.exists(root + "/config") { throw SnapdexError.repositoryExists(path: root) }
        if FileIO.exists(root) {
            guard FileIO.isDirectory(root) else { throw SnapdexError.repositoryPathTaken(path: root, why: "it is not a directory") }
            // What a killed init left is finished, not refused: it was never a repository.
            if HalfMadeRepository.isHalfMade(root) {
                HalfMadeRepository.clear(root)
            } else if !FileIO.names(in: root).isEmpty {
                throw SnapdexError.repositoryPathTaken(path: root, why: "the directory is not empty and is not a Snapdex repository")
            }
        } else {
            let parent = (root as NSString).deletingLastPathComponent
            if !FileIO.isDirectory(parent), case .failure(let e) = PathCalls.makeDirectories(parent) {
                throw SnapdexError.io("cannot create directory", parent, e)
            }
            if PathCalls.mkdir(root, 0o700) != 0 { throw SnapdexError.io("cannot create directory", root, .current) }
        }
        // An empty folder another user made for root to fill: the files are that user's.
        FileIO.adoptOwner(of: root)
        try FileIO.makeDirectory(root + "/catalogs")
        try FileIO.makeDirectory(root + "/blocks")
        let config = RepositoryConfig.text(id: RepositoryConfig.newID())
        _ = try Schema.open(path: root + "/snapdex.db")
        FileIO.remove(root + "/lock")
        try FileIO.write(root + "/lock", [], exclusive: false, durable: false)
        try FileIO.writeAtomically(root + "/config", config, durable: true)
        try FileIO.syncDirectory(root)
        return try open(at: root)
    }

    /// Opens an existing repository.
    public static func open(at path: String) throws -> Repository {
        try Repository(root: try checkedRoot(path))
    }

    /// The absolute root of the repository at `path`, after checking its configuration.
    static func checkedRoot(_ path: String) throws -> String {
        guard !path.isEmpty else { throw SnapdexError.invalidArgument("the repository path is empty; name a directory with --repo DIR") }
        let root = absolute(path)
        let config: [UInt8]
        do {
            config = try FileIO.readAll(root + "/config")
        } catch let e as SnapdexError where e.isNotRegularFile {
            throw e
        } catch {
            // Another user's repository is theirs, not missing or damaged: `init` would fail
            // there and restoring the config would change nothing.
            if FileIO.isDirectory(root) && access(root, X_OK) != 0 && (errno == EACCES || errno == EPERM) {
                throw SnapdexError.permissionDenied(path: root, repository: root)
            }
            if case SnapdexError.io(_, _, let e) = error, e.code == EACCES || e.code == EPERM {
                throw SnapdexError.permissionDenied(path: root + "/config", repository: root)
            }
            // What a killed init left holds no catalog: no repository yet, which init finishes.
            if HalfMadeRepository.isHalfMade(root) { throw SnapdexError.repositoryMissing(path: root) }
            // A folder with a repository's catalogs but no config lost its config: damage, not
            // "no repository" (whose advice, `init`, refuses a folder that is not empty).
            if FileIO.isDirectory(root + "/catalogs") { throw SnapdexError.configDamaged(path: root + "/config", reason: "missing") }
            // `init` refuses a path that is taken, so only a free one gets that advice.
            if FileIO.exists(root) && !FileIO.isDirectory(root) { throw SnapdexError.notARepository(path: root, what: "a file") }
            if FileIO.isDirectory(root) && !FileIO.names(in: root).isEmpty {
                throw SnapdexError.notARepository(path: root, what: "a directory of other files")
            }
            throw SnapdexError.repositoryMissing(path: root)
        }
        let parsed: RepositoryConfig
        do {
            parsed = try RepositoryConfig.decodeFile(config)
        } catch {
            throw SnapdexError.configDamaged(path: root + "/config", reason: error.reason)
        }
        guard parsed.format <= FormatConstants.repositoryVersion else {
            throw SnapdexError.repositoryNewerFormat(path: root, found: parsed.format, supported: FormatConstants.repositoryVersion)
        }
        return root
    }

    /// `databaseFile`: another file to build the database in (rescan), with no fallback to
    /// memory when it cannot be written.
    init(root: String, announce: Bool = true, mirror: StoreMirror? = nil, databaseFile: String? = nil) throws {
        self.root = root
        self.mirror = mirror
        FileIO.adoptOwner(of: root)
        // In memory, the database is built from the catalog files on every open, which the
        // note below says once; saying it was rebuilt as well would not be true of the file.
        var inMemory = false
        do {
            database = try Schema.open(path: databaseFile ?? root + "/snapdex.db")
        } catch SnapdexError.databaseUnwritable(_, let why) where databaseFile == nil {
            database = try Schema.inMemory()
            inMemory = true
            notes.append("the database \(root)/snapdex.db cannot be opened for writing (\(why)); answering from the catalog files")
        }
        blocks = BlockStore(directory: root + "/blocks", known: [:])
        if let mirror {
            blocks.fetchMissing = { [mirror] h in try mirror.fetchBlock(h) }
            blocks.didStore = { [mirror] bytes in mirror.didCache(bytes: bytes) }
        }
        let report = try reconcile()
        reconciledAtOpen = report
        // SQLite made these files as root: the repository's owner must still open them.
        for suffix in ["", "-wal", "-shm"] where FileIO.exists(root + "/snapdex.db" + suffix) { FileIO.adopt(path: root + "/snapdex.db" + suffix) }
        guard announce else { return }
        // A host's cache of a repository on object storage is filled this way on first use.
        if try !inMemory && mirror == nil && report.added > 0 && report.added == (read { db in try PointRecord.fetchCount(db) }) && report.removed == 0 && report.updated == 0 {
            notes.append("the database did not know the catalog files; rebuilt it from them (\(report.added) point(s))")
        } else if !inMemory && mirror == nil && report.added + report.removed + report.updated > 0 {
            // A row whose manifest went missing is kept, not removed: the note below says so.
            notes.append("the database was behind the catalog files; updated it from them (\(report.added) point(s) added, \(report.updated) re-read, \(report.removed) removed)")
        }
        if !report.forbidden.isEmpty {
            notes.append("\(report.forbidden.count) manifest(s) cannot be read: permission denied (\(report.forbidden.prefix(3).joined(separator: ", "))); run snapdex as the user that owns \(root)")
        }
        if !report.unreadable.isEmpty {
            notes.append("\(report.unreadable.count) manifest(s) cannot be read (\(report.unreadable.prefix(3).joined(separator: ", "))); run `snapdex verify`")
        }
        // Said on every run until it is dealt with: nothing else shows the point is unreadable.
        let missing = try pointsWithMissingManifest()
        for p in missing.prefix(3) { notes.append("\(manifestMissing(p))") }
        if missing.count > 3 { notes.append("\(missing.count - 3) more point(s) whose manifest is missing; `snapdex verify` lists them") }
        if report.returned > 0 { notes.append("\(report.returned) missing manifest(s) are back; their point(s) can be read again") }
    }

    static func absolute(_ path: String) -> String {
        var p = path.hasPrefix("/") ? path : PathCalls.currentDirectory() + "/" + path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p
    }

    // MARK: Sources

    public func sources() throws -> [SourceRecord] {
        try read { db in try SourceRecord.order(SourceRecord.Columns.name).fetchAll(db) }
    }

    public func source(named name: String) throws -> SourceRecord {
        guard !name.isEmpty else {
            throw SnapdexError.invalidArgument("the source name is empty; name one (`snapdex source list` lists them), as in SOURCE@latest")
        }
        guard let s = try read({ db in try SourceRecord.fetchOne(db, key: name) }) else { throw SnapdexError.sourceUnknown(name) }
        return s
    }

    func sourceDirectory(_ name: String) -> String { catalogsDirectory + "/" + name }

    func manifestPath(source: String, id: String) -> String { sourceDirectory(source) + "/" + id + ".manifest" }

    /// Writes a source's configuration file and its database row (the caller holds the lock).
    func saveSource(_ config: SourceConfig) throws {
        try SourceConfig.validate(name: config.name)
        let dir = sourceDirectory(config.name)
        try FileIO.makeDirectory(dir)
        try FileIO.writeAtomically(dir + "/source.json", try config.fileBytes(), durable: true)
        try FileIO.syncDirectory(dir)
        try write { db in try config.record.save(db) }
    }

    func loadSourceConfig(_ name: String) throws -> SourceConfig {
        let path = sourceDirectory(name) + "/source.json"
        guard FileIO.exists(path) else {
            throw FileIO.isDirectory(sourceDirectory(name)) ? SnapdexError.sourceConfigDamaged(path: path, source: name, reason: "missing") : .sourceUnknown(name)
        }
        let bytes = try FileIO.readAll(path)
        do {
            return try SourceConfig.decodeFile(bytes, name: name)
        } catch {
            throw SnapdexError.sourceConfigDamaged(path: path, source: name, reason: error.reason)
        }
    }

    /// Why a source's `source.json` cannot be trusted (damage, exit 3), or nil when it reads
    /// back as that source's configuration. A source folder without one is damaged too: `source
    /// add` and `index` always write it first.
    public func sourceConfigProblem(_ name: String) -> SnapdexError? {
        do {
            _ = try loadSourceConfig(name)
            return nil
        } catch let e as SnapdexError where e.isNotRegularFile || e.isPermissionDenied {
            return e
        } catch let e as SnapdexError {
            if case .sourceConfigDamaged = e { return e }
            if case .sourceUnknown = e { return e }
            return .sourceConfigDamaged(path: sourceDirectory(name) + "/source.json", source: name, reason: "\(e)")
        } catch {
            return .sourceConfigDamaged(path: sourceDirectory(name) + "/source.json", source: name, reason: "\(error)")
        }
    }

    // MARK: Points

    public func points(source: String? = nil) throws -> [PointRecord] {
        // Points that share a time are ordered by id: the one rule for which is newest.
        try read { db in try PointRecord.fetchAll(db, source: source) }
    }

    public func point(id: String) throws -> PointRecord? {
        try read { db in try PointRecord.fetchOne(db, key: id) }
    }

    /// A repository file's bytes; a file the current user may not read is a permission
    /// error naming the repository, never damage.
    func readRepositoryFile(_ path: String) throws -> [UInt8] {
        try Repository.readFile(path, repository: root)
    }

    static func readFile(_ path: String, repository: String) throws -> [UInt8] {
        do {
            return try FileIO.readAll(path)
        } catch SnapdexError.io(_, _, let e) where e == .accessDenied || e == .notPermitted {
            throw SnapdexError.permissionDenied(path: path, repository: repository)
        }
    }

    public func manifest(of point: PointRecord) throws -> Manifest {
        let path = manifestPath(source: point.source, id: point.id)
        let bytes: [UInt8]
        do {
            bytes = try readRepositoryFile(path)
        } catch SnapdexError.io(_, _, let e) where e == .noEntry {
            guard let now = try self.point(id: point.id), !journalNames(point.id) else { throw SnapdexError.pointExpired(point.id) }
            // On object storage, a removal this host's database has not judged yet
            // (`RemovalJudge`) is taken as a writer's until it is.
            if mirror != nil && !now.manifestIsMissing { throw SnapdexError.pointExpired(point.id) }
            throw manifestMissing(now)
        }
        let m = try Manifest.decode(bytes, path: path)
        // A manifest copied over another is not that point's catalog.
        guard m.idHex == point.id, m.source == point.source else {
            throw SnapdexError.manifestDamaged(path: path, reason: "it holds point \(m.idHex.prefix(12)) of source '\(m.source)'")
        }
        return m
    }

    /// A reader over one point's catalog. A block that vanishes because the point was expired
    /// meanwhile is reported as such, never as garbage.
    public func reader(for point: PointRecord, cache: ChunkCache = ChunkCache(limit: 8)) throws -> CatalogReader {
        let m = try manifest(of: point)
        let store = blocks
        return CatalogReader(manifest: m, cache: cache) { [weak self] hash in
            do {
                return try store.read(hash)
            } catch SnapdexError.blockMissing(let h) {
                if let self, try self.point(id: point.id) == nil { throw SnapdexError.pointExpired(point.id) }
                throw SnapdexError.blockMissing(hash: h)
            }
        }
    }

    /// Stored bytes of each point's blocks: those only it references, and those it shares.
    public func catalogSizes() throws -> [String: (own: Int64, shared: Int64)] {
        try read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT point, ownBytes, sharedBytes FROM pointBlocks")
            var out: [String: (Int64, Int64)] = [:]
            while let r = try rows.next() {
                guard let point: String = r.checked(at: 0), let own: Int64 = r.checked(at: 1), let shared: Int64 = r.checked(at: 2)
                else { throw SnapdexError.databaseDamaged(path: databasePath, reason: "a block row holds a value of the wrong type") }
                out[point] = (own, shared)
            }
            return out
        }
    }

    // MARK: Database access with errors the user can act on

    func read<T>(_ body: (GRDB.Database) throws -> T) throws -> T {
        do { return try database.read(body) } catch let e as DatabaseError { throw databaseError(e) }
    }

    func write<T>(_ body: (GRDB.Database) throws -> T) throws -> T {
        do {
            return try database.write(body)
        } catch let e as DatabaseError {
            if e.resultCode == .SQLITE_FULL { throw SnapdexError.diskFull(path: databasePath) }
            throw databaseError(e)
        }
    }

    /// A database error as Snapdex reports it: a database found corrupt while it is used
    /// (not only when opened) is damage, exit 3, which `snapdex rescan` repairs.
    func databaseError(_ e: DatabaseError) -> SnapdexError {
        switch e.resultCode {
        // Snapdex writes the cache idempotently, so a constraint failure means its tables and
        // indexes disagree (a damaged page SQLite did not notice): damage that rescan repairs.
        case .SQLITE_CORRUPT, .SQLITE_NOTADB, .SQLITE_CONSTRAINT: return .databaseDamaged(path: databasePath, reason: e.message ?? "\(e)")
        default: return .database(e.message ?? "\(e)")
        }
    }

    // MARK: Writing

    /// Runs `body` holding the writer lock, after finishing whatever a killed writer left.
    /// On object storage the lock is also a lock object for `scope` (index runs of different
    /// sources run at once), the cache is brought up to date first, and what `body` changed
    /// is sent to the store after it, even when it failed part way (what it published stays
    /// published, as in a local repository).
    /// `dropDamagedJournal`: a journal that cannot be trusted is removed rather than refused
    /// (`verify --repair`); nothing it names is rolled forward.
    public func withWriterLock<T>(wait: Double = 0, scope: LockScope = .exclusive, dropDamagedJournal: Bool = false,
                                  _ body: () throws -> T) throws -> T {
        if let mirror { try mirror.lock(scope, wait: wait) }
        defer { mirror?.unlock() }
        let lock: WriterLock
        do {
            lock = try WriterLock(path: lockPath, wait: wait)
        } catch SnapdexError.repositoryLocked(_, let pid) where mirror != nil {
            // The lock objects let hosts write other sources at once; one host's writers
            // share its cache, and take turns at it.
            throw SnapdexError.storeCacheLocked(location: location, cache: root, pid: pid)
        }
        defer { lock.release() }
        if let mirror {
            try mirror.pull()
            try mirror.beginWrite()
        }
        try RepositoryFolder.check(root: root)
        try recover(dropDamagedJournal: dropDamagedJournal)
        guard let mirror else { return try body() }
        mirror.heldBlocks = try missingPointBlocks()
        let result: T
        do {
            result = try body()
        } catch {
            try? pushToStore(mirror)
            throw error
        }
        try pushToStore(mirror)
        return result
    }

    private func pushToStore(_ mirror: StoreMirror) throws {
        do {
            try mirror.push()
        } catch let e as SnapdexError {
            if case .storeSendFailed = e { throw e }
            // What failed, without the store error's own advice: this error gives the advice.
            if case .objectStorage(let s) = e, let what = s.description.split(separator: ";").first {
                throw SnapdexError.storeSendFailed(location: mirror.store.location, why: String(what))
            }
            throw SnapdexError.storeSendFailed(location: mirror.store.location, why: "\(e)")
        } catch {
            throw SnapdexError.storeSendFailed(location: mirror.store.location, why: "\(error)")
        }
        mirror.trimCacheIfFull(holdingLock: true)
    }

    /// Notes, durably, what a writer is about to change, so that whoever takes the lock next
    /// can finish it (roll forward) whatever instant the writer was killed at.
    func beginJournal(_ journal: Journal) throws {
        try FileIO.writeAtomically(journalPath, journal.encode(), durable: true)
        try FileIO.syncDirectory(root)
    }

    func endJournal() { FileIO.remove(journalPath) }

    /// Throws what `recover` would for a journal that cannot be trusted, changing nothing (a
    /// dry run fails where its run would).
    func refuseDamagedJournal() throws {
        if let bytes = try FileIO.readIfReadable(journalPath), let damage = Journal.decode(bytes).damage {
            throw SnapdexError.journalDamaged(path: journalPath, reason: damage)
        }
    }

    /// Whether a writer's journal names this point: it is being added, removed or rewritten.
    func journalNames(_ id: String) -> Bool {
        // A damaged journal's points are still named: a reader only asks whether a missing
        // manifest may be one a writer is changing.
        guard let bytes = try? FileIO.readAll(journalPath) else { return false }
        return Journal.decode(bytes).points.contains { $0.id == id }
    }

    /// Finishes what a killed writer left, judged by the files alone. An index whose manifest
    /// was renamed into place is kept, and the point it replaced goes; one that never got
    /// there leaves only blocks, which gc removes. Removals are completed. A rewrite is
    /// applied to every manifest it names, so none is left with the old value. Then the
    /// database is brought in step with the files and unreferenced blocks are deleted.
    ///
    /// A journal that cannot be trusted (`Journal.damage`) is refused, changing nothing; with
    /// `dropDamagedJournal` it is removed instead, and the files decide alone: every manifest on
    /// disk stays a point (one being replaced may stay beside its replacement), no rewrite is
    /// redone, and only `.tmp` files and unreferenced blocks go.
    func recover(dropDamagedJournal: Bool = false) throws {
        // A journal that never got renamed into place: its writer had changed nothing yet.
        FileIO.remove(journalPath + ".tmp")
        try requireUsableGeneration()
        guard let bytes = try FileIO.readIfReadable(journalPath) else {
            try removeCatalogTemporaries()
            try reconcile()
            return
        }
        var journal = Journal.decode(bytes)
        if let damage = journal.damage {
            guard dropDamagedJournal else { throw SnapdexError.journalDamaged(path: journalPath, reason: damage) }
            journal = Journal()
        }
        let published = journal.adds.allSatisfy { FileIO.exists(manifestPath(source: $0.source, id: $0.id)) }
        if published {
            for p in journal.removes { try RepositoryFolder.removeFile(manifestPath(source: p.source, id: p.id), in: root) }
        } else {
            for p in journal.adds { try RepositoryFolder.removeFile(manifestPath(source: p.source, id: p.id), in: root) }
        }
        if let change = journal.change {
            for p in journal.rewrites {
                let path = manifestPath(source: p.source, id: p.id)
                guard let old = try? FileIO.readAll(path), var m = try? Manifest.decode(old, path: path) else { continue }
                change.apply(to: &m)
                try FileIO.writeAtomically(path, m.encode(), durable: true)
            }
            if let name = journal.policySource, case .policy(let settings, let zone) = change, var config = try? loadSourceConfig(name) {
                let text = RetentionPolicy(settings: settings.map { ($0.name, $0.value) }, zone: zone).text
                config.policy = text.isEmpty ? nil : text
                try saveSource(config)
            }
        }
        for s in CatalogListing(catalogs: catalogsDirectory).sources { try? FileIO.syncDirectory(sourceDirectory(s)) }
        try removeCatalogTemporaries()
        try reconcile()
        do {
            try collectGarbage()
        } catch SnapdexError.catalogsUnreadable, SnapdexError.manifestNotRegular {
            // Damaged manifests: their blocks are unknown, so none is deleted; verify reports them.
        }
        FileIO.remove(journalPath)
    }

    /// Removes the `.tmp` files a killed writer left in the catalog folders (a manifest or a
    /// source.json never renamed into place). The caller holds the lock.
    func removeCatalogTemporaries() throws {
        for s in CatalogListing(catalogs: catalogsDirectory).sources {
            let folder = "catalogs/" + s
            try RepositoryFolder.remove(try RepositoryFolder.names(folder, in: root).filter { $0.hasSuffix(".tmp") }, from: folder, in: root)
        }
    }

    /// Deletes block files that no manifest on disk references (never on the database's
    /// word alone), and temporary files. Returns how many blocks went.
    @discardableResult
    public func collectGarbage() throws -> Int {
        let live = try liveBlocks()
        // Each blocks/XX is opened without following a symbolic link (RepositoryFolder).
        var doomed: [(folder: String, names: [String])] = []
        for sub in try RepositoryFolder.names("blocks", in: root) where sub.utf8.count == 2 {
            let folder = "blocks/" + sub
            let names = try RepositoryFolder.names(folder, in: root)
            try RepositoryFolder.remove(names.filter { $0.hasSuffix(".tmp") }, from: folder, in: root)
            let unreferenced = names.filter { n in Digest(hex: n).map { !live.contains($0) } ?? false }
            if !unreferenced.isEmpty { doomed.append((folder, unreferenced)) }
        }
        if !doomed.isEmpty { try bumpGeneration() }
        var removed = 0
        for d in doomed { removed += try RepositoryFolder.remove(d.names, from: d.folder, in: root) }
        _ = try write { db in try Catalogue.deleteUnreferencedBlocks(in: db) }
        // On object storage the cache's blocks are only copies: what counts is the store's.
        if let mirror {
            mirror.heldBlocks = try missingPointBlocks()
            return try mirror.collectGarbage()
        }
        return removed
    }

    /// Deletes those of `candidates` that no manifest on disk references. When a manifest
    /// cannot be read nothing is deleted: gc removes them once the damage is dealt with.
    func deleteBlocks(_ candidates: [Digest]) -> Int {
        guard !candidates.isEmpty, let live = try? liveBlocks() else { return 0 }
        let doomed = candidates.filter { !live.contains($0) }
        // Without a raised generation, a copy job could trust an index listing these.
        guard !doomed.isEmpty, (try? bumpGeneration()) != nil else { return 0 }
        var removed = 0
        for h in doomed {
            guard (try? RepositoryFolder.removeFile(blocks.path(of: h), in: root)) != nil else { continue }
            blocks.known[h] = nil
            removed += 1
        }
        return removed
    }

    func knownBlocks() throws -> [Digest: Int] {
        try read { db in
            var out: [Digest: Int] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT hash, storedSize FROM block")
            while let r = try rows.next() {
                guard let hash: Data = r.checked("hash"), let size: Int = r.checked("storedSize")
                else { throw SnapdexError.databaseDamaged(path: databasePath, reason: "a block row holds a value of the wrong type") }
                if let d = Digest(bytes: [UInt8](hash)) { out[d] = size }
            }
            return out
        }
    }

    /// Appends one line to the session log.
    public func logSession(_ session: SessionRecord) {
        guard var line = try? JSONEncoder().encode(session) else { return }
        line.append(10)
        // Logged after the work is done: a log that cannot be written does not fail it. One
        // that is not a regular file is said once (it would stay unwritten for every run).
        let fd: Int32
        do {
            fd = try FileIO.openRegular(sessionsPath, O_RDWR | O_APPEND | O_CREAT)
        } catch SnapdexError.notRegularFile(let path, let kind) {
            if !saidSessionLogSkipped {
                saidSessionLogSkipped = true
                let aside = ShellWord.quoted(path + ".damaged")
                warn?("\(path) is \(kind), not a regular file, so this \(session.kind) was not logged; move it aside with `mv -- \(ShellWord.quoted(path)) \(aside)` and the next run starts a new log")
            }
            return
        } catch {
            return
        }
        FileIO.adopt(fd)
        // A line torn by a crash (no newline at its end) is ended first, so it stays one
        // unreadable line and does not swallow this record. Writers hold the repository lock.
        var last: UInt8 = 10
        let size = lseek(fd, 0, SEEK_END)
        if size > 0, pread(fd, &last, 1, size - 1) == 1, last != 10 { line.insert(10, at: 0) }
        _ = line.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    public func sessions() throws -> [SessionRecord] { try sessionLog().sessions }
}

/// One run of index, expire, restore or forget, as logged in `REPO/sessions.jsonl`.
public struct SessionRecord: Codable, Sendable {
    public var kind: String
    public var started: String
    public var ended: String
    public var result: String
    public var counts: [String: Int64]
    public var points: [String]
    public var warnings: [String]
    public var message: String?
    /// For expire: each point's fate and reasons (`keep ID reason, reason` / `expire ID`).
    public var plan: [String]?
    /// The source the session worked on (index, restore, expire with --source); absent in
    /// sessions logged before Snapdex 0.2.0.
    public var source: String? = nil
    /// For restore: the paths asked for (as displayed; not exact bytes) and where they went
    /// (a directory, `tar FILE` or `tar to standard output`).
    public var paths: [String]? = nil
    public var target: String? = nil
}
