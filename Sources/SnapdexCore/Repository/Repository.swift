import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#endif

/// How a source's point times are found when a snapshot directory is indexed without `--at`.
public enum TimeSource: String, Sendable, Codable, CaseIterable {
    /// Parsed from the directory name, else the directory's mtime.
    case name
    /// Always the directory's mtime (rsnapshot's `daily.0` names carry no time).
    case mtime
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

    public init(name: String, snapshots: String? = nil, livePath: String? = nil, timeFrom: TimeSource = .name, policy: String? = nil) {
        self.name = name
        self.snapshots = snapshots
        self.livePath = livePath
        self.timeFrom = timeFrom
        self.policy = policy
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
    public let database: DatabasePool
    public let blocks: BlockStore
    /// Stops a removal at this point without cleanup (tests).
    public var removalCrashPoint: RemovalCrashPoint?

    var catalogsDirectory: String { root + "/catalogs" }
    var journalPath: String { root + "/journal" }
    var lockPath: String { root + "/lock" }
    var sessionsPath: String { root + "/sessions.jsonl" }
    var databasePath: String { root + "/snapdex.db" }

    /// `--repo`, else `$SNAPDEX_REPO`, else `~/.local/share/snapdex`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let r = environment["SNAPDEX_REPO"], !r.isEmpty { return r }
        let home = environment["HOME"] ?? "/root"
        return home + "/.local/share/snapdex"
    }

    /// Creates a new, empty repository (mode 0700).
    @discardableResult
    public static func create(at path: String) throws -> Repository {
        let root = absolute(path)
        if FileIO.exists(root + "/config") { throw SnapdexError.repositoryExists(path: root) }
        if !FileIO.isDirectory(root) {
            let parent = (root as NSString).deletingLastPathComponent
            if !FileIO.isDirectory(parent) {
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            }
        }
        try FileIO.makeDirectory(root)
        chmod(root, 0o700)
        try FileIO.makeDirectory(root + "/catalogs")
        try FileIO.makeDirectory(root + "/blocks")
        let config = "{\"format\": \(FormatConstants.repositoryVersion), \"created\": \"\(Timestamp.now.rfc3339())\"}\n"
        _ = try Schema.open(path: root + "/snapdex.db")
        FileIO.remove(root + "/lock")
        try FileIO.write(root + "/lock", [], exclusive: false, durable: false)
        try FileIO.writeAtomically(root + "/config", Array(config.utf8), durable: true)
        try FileIO.syncDirectory(root)
        return try open(at: root)
    }

    /// Opens an existing repository.
    public static func open(at path: String) throws -> Repository {
        let root = absolute(path)
        guard let config = try? FileIO.readAll(root + "/config") else { throw SnapdexError.repositoryMissing(path: root) }
        struct Config: Decodable { var format: Int }
        guard let parsed = try? JSONDecoder().decode(Config.self, from: Data(config)) else {
            throw SnapdexError.invalidArgument("\(root)/config is not a Snapdex repository configuration; restore it or re-create the repository")
        }
        guard parsed.format <= FormatConstants.repositoryVersion else {
            throw SnapdexError.repositoryNewerFormat(path: root, found: parsed.format, supported: FormatConstants.repositoryVersion)
        }
        return try Repository(root: root)
    }

    private init(root: String) throws {
        self.root = root
        database = try Schema.open(path: root + "/snapdex.db")
        blocks = BlockStore(directory: root + "/blocks", known: [:])
    }

    static func absolute(_ path: String) -> String {
        var p = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p
    }

    // MARK: Sources

    public func sources() throws -> [SourceRecord] {
        try read { db in try SourceRecord.order(SourceRecord.Columns.name).fetchAll(db) }
    }

    public func source(named name: String) throws -> SourceRecord {
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
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileIO.writeAtomically(dir + "/source.json", Array(try encoder.encode(config)) + [10], durable: true)
        try FileIO.syncDirectory(dir)
        try write { db in try config.record.save(db) }
    }

    func loadSourceConfig(_ name: String) throws -> SourceConfig {
        let bytes = try FileIO.readAll(sourceDirectory(name) + "/source.json")
        do {
            return try JSONDecoder().decode(SourceConfig.self, from: Data(bytes))
        } catch {
            throw SnapdexError.invalidArgument("\(sourceDirectory(name))/source.json is damaged: \(error); fix it or re-add the source")
        }
    }

    // MARK: Points

    public func points(source: String? = nil) throws -> [PointRecord] {
        try read { db in
            var q = PointRecord.order(PointRecord.Columns.source, PointRecord.Columns.time)
            if let source { q = q.filter(PointRecord.Columns.source == source) }
            return try q.fetchAll(db)
        }
    }

    public func point(id: String) throws -> PointRecord? {
        try read { db in try PointRecord.fetchOne(db, key: id) }
    }

    public func manifest(of point: PointRecord) throws -> Manifest {
        let path = manifestPath(source: point.source, id: point.id)
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readAll(path)
        } catch SnapdexError.io(_, _, let e) where e == .noEntry {
            if try self.point(id: point.id) == nil || journalNames(point.id) { throw SnapdexError.pointExpired(point.id) }
            throw SnapdexError.manifestDamaged(path: path, reason: "file is missing")
        }
        return try Manifest.decode(bytes, path: path)
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
            let rows = try Row.fetchAll(db, sql: """
                SELECT pb.point AS point,
                       SUM(CASE WHEN rc.n = 1 THEN b.storedSize ELSE 0 END) AS own,
                       SUM(CASE WHEN rc.n > 1 THEN b.storedSize ELSE 0 END) AS shared
                FROM pointBlock pb
                JOIN block b ON b.hash = pb.hash
                JOIN (SELECT hash, COUNT(*) AS n FROM pointBlock GROUP BY hash) rc ON rc.hash = pb.hash
                GROUP BY pb.point
                """)
            var out: [String: (Int64, Int64)] = [:]
            for r in rows { out[r["point"]] = (r["own"], r["shared"]) }
            return out
        }
    }

    // MARK: Database access with errors the user can act on

    func read<T>(_ body: (GRDB.Database) throws -> T) throws -> T {
        do { return try database.read(body) } catch let e as DatabaseError { throw SnapdexError.database(e.message ?? "\(e)") }
    }

    func write<T>(_ body: (GRDB.Database) throws -> T) throws -> T {
        do {
            return try database.write(body)
        } catch let e as DatabaseError {
            if e.resultCode == .SQLITE_FULL { throw SnapdexError.diskFull(path: databasePath) }
            throw SnapdexError.database(e.message ?? "\(e)")
        }
    }

    // MARK: Writing

    /// Runs `body` holding the writer lock, after finishing whatever a killed writer left.
    public func withWriterLock<T>(wait: Double = 0, _ body: () throws -> T) throws -> T {
        let lock = try WriterLock(path: lockPath, wait: wait)
        defer { lock.release() }
        try recover()
        return try body()
    }

    /// Notes, durably, which points a writer is about to add or remove, so that a crash at any
    /// instant can be finished by the next writer.
    func beginJournal(points: [(source: String, id: String)]) throws {
        let text = points.map { "point \($0.source) \($0.id)\n" }.joined()
        try FileIO.writeAtomically(journalPath, Array(text.utf8), durable: true)
        try FileIO.syncDirectory(root)
    }

    func endJournal() { FileIO.remove(journalPath) }

    /// Whether a writer's journal names this point: it is being added or removed.
    func journalNames(_ id: String) -> Bool {
        guard let bytes = try? FileIO.readAll(journalPath) else { return false }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").contains { $0.hasSuffix(" " + id) }
    }

    /// Finishes what a killed writer left: for each point in its journal, the manifest file and
    /// the database row must agree. A manifest with no row was never committed and is removed;
    /// a row with no manifest was being removed and goes too. Then temporary files and blocks
    /// no point references are deleted.
    func recover() throws {
        guard let journal = try? FileIO.readAll(journalPath) else { return }
        for line in String(decoding: journal, as: UTF8.self).split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count == 3, f[0] == "point" else { continue }
            let (source, id) = (String(f[1]), String(f[2]))
            let path = manifestPath(source: source, id: id)
            let inDatabase = try point(id: id) != nil
            if FileIO.exists(path) && !inDatabase {
                FileIO.remove(path)
            } else if !FileIO.exists(path) && inDatabase {
                _ = try write { db in try Catalogue.delete(points: [id], in: db) }
            } else if inDatabase, let bytes = try? FileIO.readAll(path), let m = try? Manifest.decode(bytes, path: path) {
                // A rewritten manifest (retain-until, policy) whose row was not yet updated.
                try write { db in try PointRecord(manifest: m, manifestBytes: bytes.count).update(db) }
            }
        }
        for s in FileIO.names(in: catalogsDirectory) {
            try? FileIO.syncDirectory(sourceDirectory(s))
            for n in FileIO.names(in: sourceDirectory(s)) where n.hasSuffix(".tmp") { FileIO.remove(sourceDirectory(s) + "/" + n) }
        }
        _ = try collectGarbage()
        FileIO.remove(journalPath)
    }

    /// Deletes block files and rows that no point references. Returns how many files went.
    @discardableResult
    public func collectGarbage() throws -> Int {
        let orphanRows = try write { db in try Catalogue.deleteUnreferencedBlocks(in: db) }
        for h in orphanRows { FileIO.remove(blocks.path(of: h)) }
        let known = try knownBlocks()
        var removed = orphanRows.count
        for sub in FileIO.names(in: blocks.directory) {
            let dir = blocks.directory + "/" + sub
            for n in FileIO.names(in: dir) {
                if n.hasSuffix(".tmp") {
                    FileIO.remove(dir + "/" + n)
                } else if let h = Digest(hex: n), known[h] == nil {
                    FileIO.remove(dir + "/" + n)
                    removed += 1
                }
            }
        }
        return removed
    }

    func knownBlocks() throws -> [Digest: Int] {
        try read { db in
            var out: [Digest: Int] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT hash, storedSize FROM block")
            while let r = try rows.next() {
                if let d = Digest(bytes: [UInt8](r["hash"] as Data)) { out[d] = r["storedSize"] }
            }
            return out
        }
    }

    /// Appends one line to the session log.
    public func logSession(_ session: SessionRecord) {
        guard var line = try? JSONEncoder().encode(session) else { return }
        line.append(10)
        let fd = Glibc.open(sessionsPath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
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
}
