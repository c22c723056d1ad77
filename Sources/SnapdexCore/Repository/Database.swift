import GRDB

/// A source as the database mirrors it from `catalogs/SOURCE/source.json`.
public struct SourceRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "source"
    public var name: String
    public var snapshots: String?
    public var livePath: String?
    public var timeFrom: String
    /// The retention policy as `name=value` pairs separated by spaces; nil when none is set.
    public var policy: String?

    public enum Columns {
        static let name = Column(CodingKeys.name)
    }
}

/// One index (restore point), mirrored from its manifest.
public struct PointRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "point"
    public var id: String
    public var source: String
    public var time: Int64
    public var indexedAt: Int64
    public var kind: String
    public var label: String?
    public var snapshot: String
    public var entries: Int64
    public var files: Int64
    public var directories: Int64
    public var bytes: Int64
    public var hashed: Bool
    public var retainUntil: Int64?
    public var policy: String?
    public var manifestBytes: Int64
    /// The manifest file's identity when it was read (inode, size, mtime): a different one on
    /// disk means the file was replaced and the row must be read again.
    public var stamp: String = ""
    /// How many paths the walk could not read (manifest tag 15); above 0 the point is partial.
    public var unreadable: Int64 = 0

    public enum Columns {
        static let id = Column(CodingKeys.id)
        static let source = Column(CodingKeys.source)
        static let time = Column(CodingKeys.time)
    }

    public var pointTime: Timestamp { Timestamp(nanoseconds: time) }
    /// Whether the snapshot directory it was indexed from is still there.
    public var snapshotExists: Bool { FileIO.isDirectory(snapshot) }
    public var pointKind: PointKind { PointKind(rawValue: kind) ?? .scheduled }
    /// "partial" when some paths could not be read when it was indexed, else "ok".
    /// "missing" when its manifest is gone with no writer having removed it (damage).
    public var status: String { manifestIsMissing ? "missing" : unreadable > 0 ? "partial" : "ok" }
}

extension PointRecord {
    /// The columns a point is read from, in the order `fetchAll(_:filter:)` selects them.
    static let columnsRead = ["id", "source", "time", "indexedAt", "kind", "label", "snapshot", "entries", "files",
                              "directories", "bytes", "hashed", "retainUntil", "policy", "manifestBytes", "stamp", "unreadable"]

    /// Read by hand rather than through Codable, which costs several times more per row.
    public init(row: Row) throws {
        try self.init(SQLiteColumns { i in row[PointRecord.columnsRead[i]] as DatabaseValue })
    }

    /// A point from the values of `columnsRead`, in that order. A required column holding
    /// NULL or a value of another type (a damaged database) is damage that `snapdex rescan`
    /// repairs, never a trap.
    init(_ c: SQLiteColumns) throws {
        var repeats = Repeats()
        try self.init(c, repeats: &repeats)
    }

    /// The snapshot folder and policy text of the point read before: the points of a source
    /// mostly share both, and the same string serves them all (`points` reads 10,000).
    struct Repeats {
        var snapshot: String?
        var policy: String?
    }

    init(_ c: SQLiteColumns, repeats: inout Repeats) throws {
        var i = -1
        func optional<T>(_ read: (Int) -> T?) -> T? {
            i += 1
            return c.isNull(i) ? nil : read(i)
        }
        func required<T>(_ read: (Int) -> T?) throws -> T {
            i += 1
            guard let v = read(i) else {
                throw CatalogueUpdate.damaged("the point column \(PointRecord.columnsRead[i]) holds NULL or a value of the wrong type")
            }
            return v
        }
        id = try required(c.string)
        source = try required(c.string)
        time = try required(c.int64)
        indexedAt = try required(c.int64)
        kind = try required(c.string)
        label = optional(c.string)
        snapshot = try required { c.string($0, like: repeats.snapshot) }
        repeats.snapshot = snapshot
        entries = try required(c.int64)
        files = try required(c.int64)
        directories = try required(c.int64)
        bytes = try required(c.int64)
        hashed = try required(c.bool)
        retainUntil = optional(c.int64)
        policy = optional { c.string($0, like: repeats.policy) }
        if policy != nil { repeats.policy = policy }
        manifestBytes = try required(c.int64)
        stamp = try required(c.string)
        unreadable = try required(c.int64)
    }

    /// Inserts the point's row with a statement prepared once per database connection (a
    /// rebuild inserts 10,000).
    func insert(_ db: GRDB.Database, cached: Bool) throws {
        let columns = PointRecord.columnsRead
        let statement = try db.cachedStatement(sql: "INSERT INTO point (\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))")
        let values: [(any DatabaseValueConvertible)?] = [id, source, time, indexedAt, kind, label, snapshot, entries, files, directories, bytes,
                                                          hashed, retainUntil, policy, manifestBytes, stamp, unreadable]
        try statement.execute(arguments: StatementArguments(values))
    }

    /// Points in the order `points` lists them (source, time, id), those of one source when
    /// it is given. Columns are read by position: 10,000 rows read by name cost a lowercased
    /// copy of each name.
    static func fetchAll(_ db: GRDB.Database, source: String?) throws -> [PointRecord] {
        let sql = "SELECT \(columnsRead.joined(separator: ", ")) FROM point"
            + (source == nil ? "" : " WHERE source = ?") + " ORDER BY source, time, id"
        let statement = try db.makeStatement(sql: sql)
        let rows = try Row.fetchCursor(statement, arguments: StatementArguments(source.map { [$0] } ?? []))
        let columns = SQLiteColumns(statement)
        var out: [PointRecord] = []
        while try rows.next() != nil { out.append(try PointRecord(columns)) }
        return out
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

enum Schema {
    /// Migrations are never edited once shipped; add a new one instead.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.create(table: "source") { t in
                t.primaryKey("name", .text)
                t.column("snapshots", .text)
                t.column("livePath", .text)
                t.column("timeFrom", .text).notNull().defaults(to: "name")
                t.column("policy", .text)
            }
            try db.create(table: "point") { t in
                t.primaryKey("id", .text)
                t.column("source", .text).notNull().indexed().references("source", onDelete: .cascade)
                t.column("time", .integer).notNull()
                t.column("indexedAt", .integer).notNull()
                t.column("kind", .text).notNull()
                t.column("label", .text)
                t.column("snapshot", .text).notNull()
                t.column("entries", .integer).notNull()
                t.column("files", .integer).notNull()
                t.column("directories", .integer).notNull()
                t.column("bytes", .integer).notNull()
                t.column("hashed", .boolean).notNull()
                t.column("retainUntil", .integer)
                t.column("policy", .text)
                t.column("manifestBytes", .integer).notNull()
                t.uniqueKey(["source", "time"])
            }
            try db.create(table: "block", options: .withoutRowID) { t in
                t.primaryKey("hash", .blob)
                t.column("rawSize", .integer).notNull()
                t.column("storedSize", .integer).notNull()
            }
            try db.create(table: "pointBlock", options: .withoutRowID) { t in
                t.column("point", .text).notNull().references("point", onDelete: .cascade)
                t.column("hash", .blob).notNull().references("block")
                t.primaryKey(["point", "hash"])
            }
            try db.create(index: "pointBlockHash", on: "pointBlock", columns: ["hash"])
        }
        // The database is a cache of the catalog files, so a new schema starts empty and is
        // filled from the manifests by the reconcile that follows every open. v2 drops the
        // (source, time) key (two snapshots may share a time) and records each manifest
        // file's identity, so a manifest replaced or rewritten behind the database's back is
        // noticed.
        m.registerMigration("v2") { db in
            for t in ["pointBlock", "block", "point", "source"] { try db.drop(table: t) }
            try db.create(table: "source") { t in
                t.primaryKey("name", .text)
                t.column("snapshots", .text)
                t.column("livePath", .text)
                t.column("timeFrom", .text).notNull().defaults(to: "name")
                t.column("policy", .text)
            }
            try db.create(table: "point") { t in
                t.primaryKey("id", .text)
                t.column("source", .text).notNull().indexed().references("source", onDelete: .cascade)
                t.column("time", .integer).notNull()
                t.column("indexedAt", .integer).notNull()
                t.column("kind", .text).notNull()
                t.column("label", .text)
                t.column("snapshot", .text).notNull()
                t.column("entries", .integer).notNull()
                t.column("files", .integer).notNull()
                t.column("directories", .integer).notNull()
                t.column("bytes", .integer).notNull()
                t.column("hashed", .boolean).notNull()
                t.column("retainUntil", .integer)
                t.column("policy", .text)
                t.column("manifestBytes", .integer).notNull()
                t.column("stamp", .text).notNull().defaults(to: "")
            }
            try db.create(index: "pointSourceTime", on: "point", columns: ["source", "time"])
            try db.create(table: "block", options: .withoutRowID) { t in
                t.primaryKey("hash", .blob)
                t.column("rawSize", .integer).notNull()
                t.column("storedSize", .integer).notNull()
            }
            try db.create(table: "pointBlock", options: .withoutRowID) { t in
                t.column("point", .text).notNull().references("point", onDelete: .cascade)
                t.column("hash", .blob).notNull().references("block")
                t.primaryKey(["point", "hash"])
            }
            try db.create(index: "pointBlockHash", on: "pointBlock", columns: ["hash"])
        }
        // Each point's count of unreadable paths (manifest tag 15), so `points` shows partial
        // points without reading manifests. Rows are emptied for the reconcile to refill.
        m.registerMigration("v4-unreadable") { db in
            for t in ["pointBlock", "block", "point", "source"] { try db.execute(sql: "DELETE FROM \(t)") }
            try db.alter(table: "point") { t in t.add(column: "unreadable", .integer).notNull().defaults(to: 0) }
        }
        // 10,000 points: one row per point-block reference (150 a point) made a rebuild take 45 s
        // and `points` sum sizes over 1.5 million rows. A point's blocks become one row of block
        // numbers, and each block keeps its reference count and the sum of its points' numbers,
        // which names the owner when the count is 1: each point's own and shared bytes are kept
        // current. Rows are emptied for the reconcile to refill.
        m.registerMigration("v5-scale") { db in
            for t in ["pointBlock", "block"] { try db.drop(table: t) }
            for t in ["point", "source"] { try db.execute(sql: "DELETE FROM \(t)") }
            try db.create(table: "block") { t in
                t.autoIncrementedPrimaryKey("n")
                t.column("hash", .blob).notNull().unique()
                t.column("rawSize", .integer).notNull()
                t.column("storedSize", .integer).notNull()
                t.column("refs", .integer).notNull()
                t.column("pointSum", .integer).notNull()
            }
            try db.create(index: "blockUnreferenced", on: "block", columns: ["n"], condition: Column("refs") == 0)
            try db.create(table: "pointBlocks") { t in
                t.autoIncrementedPrimaryKey("n")
                t.column("point", .text).notNull().unique().references("point", onDelete: .cascade)
                t.column("blocks", .blob).notNull()
                t.column("ownBytes", .integer).notNull()
                t.column("sharedBytes", .integer).notNull()
            }
        }
        return m
    }

    /// Opens (creating, mode 0600) the repository's database. A file that is not a database
    /// is damage (exit 3) that `snapdex rescan` repairs; a database the process may not write
    /// (a read-only repository) is reported as such so the caller can fall back to memory.
    static func open(path: String) throws -> any DatabaseWriter {
        // SQLite would block opening a FIFO (or read a device): only regular files reach it.
        for suffix in ["", "-wal", "-shm"] { try FileIO.requireRegularOrAbsent(path + suffix) }
        if !FileIO.exists(path), let fd = try? FileIO.openRegular(path, O_WRONLY | O_CREAT) { close(fd) }
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        do {
            let pool = try DatabasePool(path: sqlitePath(path), configuration: config)
            try migrator.migrate(pool)
            return pool
        } catch let e as DatabaseError {
            switch e.resultCode {
            case .SQLITE_NOTADB, .SQLITE_CORRUPT, .SQLITE_CONSTRAINT: throw SnapdexError.databaseDamaged(path: path, reason: e.message ?? "\(e)")
            case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_FULL, .SQLITE_IOERR:
                throw SnapdexError.databaseUnwritable(path: path, reason: e.message ?? "\(e)")
            default: throw SnapdexError.database(e.message ?? "\(e)")
            }
        }
    }

    /// The path to give SQLite, which takes UTF-8: a path holding other bytes is reached
    /// through a descriptor of its folder (`/proc/self/fd/N/NAME`), kept open for the process.
    static func sqlitePath(_ path: String) -> String {
        guard PathString.hasRawBytes(path), let slash = path.lastIndex(of: "/") else { return path }
        let name = String(path[path.index(after: slash)...])
        let fd = PathCalls.open(slash == path.startIndex ? "/" : String(path[..<slash]), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0, !PathString.hasRawBytes(name) else { return path }
        return "/proc/self/fd/\(fd)/\(name)"
    }

    /// Puts every page of `fresh` into the database at `live` in one transaction (SQLite's
    /// backup). Readers hold the live file, its -wal and its -shm open: a file renamed over it
    /// would share those with them and read as damage, so its contents are replaced instead,
    /// which readers see whole or not at all. A live file SQLite cannot open as a database is
    /// one no reader can use: it is replaced by renaming the new file over it.
    static func replace(_ live: String, with fresh: any DatabaseWriter) throws {
        for suffix in ["", "-wal", "-shm"] { try FileIO.requireRegularOrAbsent(live + suffix) }
        var config = Configuration()
        config.busyMode = .timeout(10)
        do {
            let old = try DatabaseQueue(path: sqlitePath(live), configuration: config)
            try fresh.backup(to: old)
            return
        } catch let e as DatabaseError where e.resultCode == .SQLITE_NOTADB || e.resultCode == .SQLITE_CORRUPT {
            // Not a database at all: renamed over below.
        }
        try fresh.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        let path = fresh.path
        try fresh.close()
        for suffix in ["-wal", "-shm"] { FileIO.remove(live + suffix) }
        guard rename(path, live) == 0 else { throw SnapdexError.io("rename", live, Errno.current) }
    }

    /// A database in memory, filled from the catalog files, for a repository whose own
    /// database cannot be written (read-only media, a full disk): readers still work.
    static func inMemory() throws -> any DatabaseWriter {
        var config = Configuration()
        config.foreignKeysEnabled = true
        let queue = try DatabaseQueue(configuration: config)
        try migrator.migrate(queue)
        return queue
    }
}

extension PointRecord {
    init(manifest m: Manifest, manifestBytes: Int) {
        self.init(id: m.idHex, source: m.source, time: m.pointTime.nanoseconds, indexedAt: m.indexedAt.nanoseconds,
                  kind: m.kind.rawValue, label: m.label, snapshot: m.snapshotPath, entries: Int64(m.counts.entries),
                  files: Int64(m.counts.files), directories: Int64(m.counts.directories), bytes: Int64(m.counts.bytes),
                  hashed: m.hashed, retainUntil: m.retainUntil?.nanoseconds,
                  policy: m.policy.isEmpty ? nil : (m.policy.map { "\($0.name)=\($0.value)" }
                      + (m.calendarZone.map { ["zone=\($0)"] } ?? [])).joined(separator: " "),
                  manifestBytes: Int64(manifestBytes), unreadable: Int64(clamping: m.unreadable.total))
    }
}

enum Catalogue {
    /// Records a published manifest: its point, its blocks and their references, after
    /// removing the points it replaces. Idempotent: a reader's reconcile may have recorded the
    /// manifest first.
    static func insert(_ m: Manifest, manifestBytes: Int, stamp: String, replacing: [String] = [], in db: GRDB.Database) throws {
        let update = CatalogueUpdate(db)
        for id in replacing { try update.remove(point: id) }
        try update.add(m, manifestBytes: manifestBytes, stamp: stamp)
        try update.finish()
    }

    /// Deletes points and returns the blocks no remaining point references (their rows are
    /// deleted too; the caller removes their files after the commit).
    static func delete(points ids: [String], in db: GRDB.Database) throws -> [Digest] {
        let update = CatalogueUpdate(db)
        for id in ids { try update.remove(point: id) }
        try update.finish()
        return try deleteUnreferencedBlocks(in: db)
    }

    /// Deletes a source's row after its points' (which its row would otherwise take along
    /// without settling what their blocks cost the points that remain).
    static func deleteSource(_ name: String, in db: GRDB.Database) throws {
        try _ = delete(points: String.fetchAll(db, sql: "SELECT id FROM point WHERE source = ?", arguments: [name]), in: db)
        _ = try SourceRecord.deleteOne(db, key: name)
    }

    static func deleteUnreferencedBlocks(in db: GRDB.Database) throws -> [Digest] {
        let rows = try Data.fetchAll(db, sql: "SELECT hash FROM block WHERE refs = 0")
        try db.execute(sql: "DELETE FROM block WHERE refs = 0")
        return rows.compactMap { Digest(bytes: [UInt8]($0)) }
    }
}

extension Row {
    /// The column's value as `T`, or nil when it is NULL or cannot be converted. GRDB's plain
    /// subscripts trap on both, and a damaged database may hold either.
    func checked<T: DatabaseValueConvertible>(_ column: String) -> T? {
        T.fromDatabaseValue(self[column] as DatabaseValue)
    }

    /// The value of the column at `index`, as `checked(_:)` gives it.
    func checked<T: DatabaseValueConvertible>(at index: Int) -> T? {
        T.fromDatabaseValue(self[index] as DatabaseValue)
    }
}
