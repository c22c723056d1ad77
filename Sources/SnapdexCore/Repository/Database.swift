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

    public enum Columns {
        static let id = Column(CodingKeys.id)
        static let source = Column(CodingKeys.source)
        static let time = Column(CodingKeys.time)
    }

    public var pointTime: Timestamp { Timestamp(nanoseconds: time) }
    /// Whether the snapshot directory it was indexed from is still there.
    public var snapshotExists: Bool { FileIO.isDirectory(snapshot) }
    public var pointKind: PointKind { PointKind(rawValue: kind) ?? .scheduled }
}

/// A block the repository holds, and the points that reference it.
struct BlockRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "block"
    var hash: Data
    var rawSize: Int64
    var storedSize: Int64
}

struct PointBlockRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "pointBlock"
    var point: String
    var hash: Data
}

import Foundation

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
        return m
    }

    static func open(path: String, readOnly: Bool = false) throws -> DatabasePool {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        do {
            let pool = try DatabasePool(path: path, configuration: config)
            try migrator.migrate(pool)
            return pool
        } catch let e as DatabaseError {
            throw SnapdexError.database(e.message ?? "\(e)")
        }
    }
}

extension PointRecord {
    init(manifest m: Manifest, manifestBytes: Int) {
        self.init(id: m.idHex, source: m.source, time: m.pointTime.nanoseconds, indexedAt: m.indexedAt.nanoseconds,
                  kind: m.kind.rawValue, label: m.label, snapshot: m.snapshotPath, entries: Int64(m.counts.entries),
                  files: Int64(m.counts.files), directories: Int64(m.counts.directories), bytes: Int64(m.counts.bytes),
                  hashed: m.hashed, retainUntil: m.retainUntil?.nanoseconds,
                  policy: m.policy.isEmpty ? nil : m.policy.map { "\($0.name)=\($0.value)" }.joined(separator: " "),
                  manifestBytes: Int64(manifestBytes))
    }
}

enum Catalogue {
    /// Records a published manifest: its point, its blocks and their references.
    static func insert(_ m: Manifest, manifestBytes: Int, in db: GRDB.Database) throws {
        try PointRecord(manifest: m, manifestBytes: manifestBytes).insert(db)
        var seen = Set<Digest>()
        for b in m.blocks where seen.insert(b.hash).inserted {
            try db.execute(sql: "INSERT OR IGNORE INTO block (hash, rawSize, storedSize) VALUES (?, ?, ?)",
                           arguments: [Data(b.hash.bytes), b.rawSize, b.storedSize])
            try db.execute(sql: "INSERT INTO pointBlock (point, hash) VALUES (?, ?)", arguments: [m.idHex, Data(b.hash.bytes)])
        }
    }

    /// Deletes points and returns the blocks no remaining point references (their rows are
    /// deleted too; the caller removes their files after the commit).
    static func delete(points ids: [String], in db: GRDB.Database) throws -> [Digest] {
        for id in ids { _ = try PointRecord.deleteOne(db, key: id) }
        return try deleteUnreferencedBlocks(in: db)
    }

    static func deleteUnreferencedBlocks(in db: GRDB.Database) throws -> [Digest] {
        let rows = try Data.fetchAll(db, sql: "SELECT hash FROM block WHERE hash NOT IN (SELECT hash FROM pointBlock)")
        try db.execute(sql: "DELETE FROM block WHERE hash NOT IN (SELECT hash FROM pointBlock)")
        return rows.compactMap { Digest(bytes: [UInt8]($0)) }
    }
}
