import GRDB
import GRDBSQLite

/// One point as `points` lists it: its row, what its blocks cost, why retention keeps it.
public struct PointListingRow: Sendable {
    public var point: PointRecord
    /// Stored bytes of the blocks only this point references (its manifest not included).
    public var ownBytes: Int64
    /// Stored bytes of the blocks it shares with other points.
    public var sharedBytes: Int64
    /// Each reason retention keeps the point now; empty when the next expire would remove it.
    public var retention: [String]
    /// Whether its snapshot folder still exists.
    public var snapshotExists: Bool
    /// Why its manifest cannot be read now (changed on disk and damaged, as `verify` finds),
    /// or nil; the database's row is what it was before.
    public var manifestDamage: SnapdexError? = nil

    /// "damaged" when its manifest cannot be read, else the point's own status ("partial", "ok").
    public var status: String { manifestDamage != nil ? "damaged" : point.status }
}

/// The points of a repository (or of one source) in the order `points` lists them: by
/// source, time and id.
public struct PointListing: Sendable {
    public var rows: [PointListingRow]
    /// The one length every listed id is cut to: the longest unique prefix (at least 8
    /// characters, as `Repository.shortIDs`) that any of them needs among all the
    /// repository's points, so that a column never mixes 8- and 12-character ids.
    public var idWidth: Int
}

extension Repository {
    /// Every point of `source` (or all), with its sizes and its retention reasons at `now`.
    /// Built for 10,000 points: the tables are scanned in the order SQLite keeps them, and
    /// rows are matched with their sizes and retention reasons by position, never through a
    /// dictionary of ids.
    public func pointListing(source: String? = nil, now: Timestamp) throws -> PointListing {
        var (rows, width) = try read { db in
            (try Repository.listedPoints(db, source: source), try Repository.idWidth(db, source: source))
        }
        // Rows are read and changed in place: a copy of each would retain and release every
        // string it holds.
        var policies = PolicyTexts()
        let candidates = rows.withUnsafeBufferPointer { rows in rows.indices.map { Repository.candidate(rows[$0].point, policies: &policies) } }
        let reasons = RetentionPlanner.reasons(candidates, now: now, localZone: .local)
        var folders: [String: Bool] = [:]  // points of a source often share their snapshot folder
        for i in rows.indices {
            // Kept by expire until it is put back or forgotten (`retentionPlan(of:now:)`).
            rows[i].retention = reasons[i].isEmpty && rows[i].point.manifestIsMissing ? ["manifest missing"] : reasons[i]
            let exists = folders[rows[i].point.snapshot] ?? rows[i].point.snapshotExists
            folders[rows[i].point.snapshot] = exists
            rows[i].snapshotExists = exists
        }
        let damage = reconciledAtOpen.damage
        if !damage.isEmpty {
            for i in rows.indices {
                let path = manifestPath(source: rows[i].point.source, id: rows[i].point.id)
                if let why = damage[path] { rows[i].manifestDamage = .pointDamaged(point: String(rows[i].point.id.prefix(width)), why: why) }
            }
        }
        return PointListing(rows: rows, idWidth: width)
    }

    /// The point rows in the order `PointRecord.fetchAll` gives them, each with its own and
    /// shared bytes (0 and 0 for a point without a block row, as `catalogSizes`).
    /// SQLite is asked for neither the order nor the join: its index on (source, time) visits
    /// the table's rows in random order, and a lookup per point in `pointBlocks` does too,
    /// which costs three times the two plain scans and the sort here.
    private static func listedPoints(_ db: GRDB.Database, source: String?) throws -> [PointListingRow] {
        let n = PointRecord.columnsRead.count
        let statement = try db.makeStatement(sql: "SELECT \(PointRecord.columnsRead.joined(separator: ", ")), rowid FROM point"
            + (source == nil ? "" : " WHERE source = ?"))
        let cursor = try Row.fetchCursor(statement, arguments: StatementArguments(source.map { [$0] } ?? []))
        let c = SQLiteColumns(statement)
        var rows: [PointListingRow] = []
        var position: [Int64: Int] = [:]
        var repeats = PointRecord.Repeats()
        while try cursor.next() != nil {
            guard let rowid = c.int64(n) else { throw CatalogueUpdate.damaged("a point row has no rowid") }
            position[rowid] = rows.count
            rows.append(PointListingRow(point: try PointRecord(c, repeats: &repeats), ownBytes: 0, sharedBytes: 0, retention: [], snapshotExists: false))
        }
        let blocks = try db.makeStatement(sql: "SELECT p.rowid, b.ownBytes, b.sharedBytes FROM pointBlocks b CROSS JOIN point p ON p.id = b.point")
        let blockRows = try Row.fetchCursor(blocks)
        let b = SQLiteColumns(blocks)
        while try blockRows.next() != nil {
            guard let own = b.int64(1), let shared = b.int64(2) else { throw CatalogueUpdate.damaged("a block row holds a value of the wrong type") }
            if let rowid = b.int64(0), let i = position[rowid] { (rows[i].ownBytes, rows[i].sharedBytes) = (own, shared) }
        }
        // ORDER BY source, time, id: text in byte order (SQLite's BINARY collation). A
        // repository has a handful of sources, so each point gets its source's rank first.
        var names: [String] = []
        var known: [String: Int] = [:]
        let rank = rows.indices.map { i in
            if let k = known[rows[i].point.source] { return k }
            known[rows[i].point.source] = names.count
            names.append(rows[i].point.source)
            return names.count - 1
        }
        let byName = names.indices.sorted { names[$0].utf8.lexicographicallyPrecedes(names[$1].utf8) }
        var order = [Int](repeating: 0, count: names.count)
        for (k, i) in byName.enumerated() { order[i] = k }
        let sorted = rows.indices.sorted { a, b in
            let (sa, sb) = (order[rank[a]], order[rank[b]])
            if sa != sb { return sa < sb }
            let (ta, tb) = (rows[a].point.time, rows[b].point.time)
            if ta != tb { return ta < tb }
            return rows[a].point.id.utf8.lexicographicallyPrecedes(rows[b].point.id.utf8)
        }
        // Put row sorted[k] at k, cycle by cycle, by swaps (moves, no copies).
        var placed = [Bool](repeating: false, count: rows.count)
        for start in rows.indices where !placed[start] {
            var k = start
            while true {
                placed[k] = true
                let next = sorted[k]
                if next == start { break }
                rows.swapAt(k, next)
                k = next
            }
        }
        return rows
    }

    /// `PointListing.idWidth` for the points of `source` (or all): the ids in the byte order
    /// SQLite sorts them in, each compared with its neighbours as `shortIDs` does, without a
    /// string per id.
    private static func idWidth(_ db: GRDB.Database, source: String?) throws -> Int {
        let statement = try db.makeStatement(sql: source == nil ? "SELECT id, 1 FROM point ORDER BY id" : "SELECT id, source = ? FROM point ORDER BY id")
        let cursor = try Row.fetchCursor(statement, arguments: StatementArguments(source.map { [$0] } ?? []))
        let c = SQLiteColumns(statement)
        var width: Int?
        // The id before the current one: its bytes, whether it is listed, and the prefix it
        // needs so far (from its own predecessor).
        var previous: (id: [UInt8], listed: Bool, needs: Int)?
        func settle(_ p: (id: [UInt8], listed: Bool, needs: Int)) {
            guard p.listed else { return }
            // As shortIDs cuts it: `needs` characters, at most the whole id.
            let cut = p.id.allSatisfy { $0 < 0x80 } ? min(p.needs, p.id.count) : String(decoding: p.id, as: UTF8.self).prefix(p.needs).count
            width = max(width ?? cut, cut)
        }
        while try cursor.next() != nil {
            guard c.hasBytes(0) else { throw CatalogueUpdate.damaged("a point row holds a value of the wrong type") }
            let id = c.textOrBlob(0)
            var needs = 8
            if var p = previous {
                previous = nil  // p's buffer is then its own, reused below
                let common = zip(p.id, id).prefix { $0 == $1 }.count
                p.needs = max(p.needs, common + 1)
                needs = common + 1 > 8 ? common + 1 : 8
                settle(p)
                p.id.replaceSubrange(p.id.indices, with: id)  // reuses the buffer
                (p.listed, p.needs) = (c.int64(1) == 1, needs)
                previous = p
            } else {
                previous = (Array(id), c.int64(1) == 1, needs)
            }
        }
        if let p = previous { settle(p) }
        return width ?? 8
    }
}
