import Foundation
import GRDB

/// One change to the database's record of points and the blocks they reference, inside one
/// write transaction: points are removed and added one by one, then `finish` settles each
/// touched block's reference count and what each point's blocks cost it.
///
/// The record is built to stay cheap at 10,000 points of 150 blocks each: a point's blocks are
/// one row (`pointBlocks.blocks`, block numbers), not one row per reference, and each block
/// keeps how many points reference it and the sum of their numbers. When that count is 1 the
/// sum *is* the one point, so a point's own bytes (blocks no other point references) and
/// shared bytes are kept up to date without a table of references to search: `points` reads
/// them, and a rebuild writes one row per point and one per block.
final class CatalogueUpdate {
    private let db: GRDB.Database
    /// Block numbers looked up or created in this update.
    private var numbers: [Digest: Int64] = [:]
    /// Per touched block: the change to its reference count and to the sum of its points.
    private var changes: [Int64: (refs: Int64, pointSum: Int64)] = [:]
    /// Points added in this update (by number) and their blocks; their costs are set at the end.
    private var added: [Int64: [Int64]] = [:]
    /// Points removed in this update: a block they owned has no owner to move bytes to.
    private var removed: Set<Int64> = []

    init(_ db: GRDB.Database) { self.db = db }

    /// Removes a point's rows; false when the database has no such point.
    @discardableResult
    func remove(point id: String) throws -> Bool {
        let row = try Row.fetchOne(db, sql: "SELECT n, blocks FROM pointBlocks WHERE point = ?", arguments: [id])
        if let row {
            guard let n: Int64 = row.checked("n"), let blob: [UInt8] = (row.checked("blocks") as Data?).map({ [UInt8]($0) }),
                  let blocks = BlockNumbers.decode(blob)
            else { throw CatalogueUpdate.damaged("a pointBlocks row holds a value of the wrong type") }
            for b in blocks { change(b, refs: -1, pointSum: -n) }
            if added.removeValue(forKey: n) == nil { removed.insert(n) }
        }
        let deleted = try db.cachedStatement(sql: "DELETE FROM point WHERE id = ?")
        try deleted.execute(arguments: [id])
        return row != nil || db.changesCount > 0
    }

    /// Records a published manifest, replacing the point's rows if it has them (a reader's
    /// reconcile may have recorded the manifest first; a rewrite records it again). `isNew`
    /// skips that look-up for a caller that has just seen the point is not there (a rebuild).
    func add(_ m: Manifest, manifestBytes: Int, stamp: String, isNew: Bool = false) throws {
        if !isNew { try remove(point: m.idHex) }
        var record = PointRecord(manifest: m, manifestBytes: manifestBytes)
        record.stamp = stamp
        try add(record, blocks: m.blocks)
    }

    /// Records a point and the blocks it references (a new one: the caller removed any rows it
    /// had). Rescan carries a point whose manifest is missing over this way.
    func add(_ record: PointRecord, blocks refs: [BlockRef]) throws {
        try record.insert(db, cached: true)
        var blocks = Set<Int64>()
        for b in refs { blocks.insert(try number(of: b)) }
        let sorted = blocks.sorted()
        let insert = try db.cachedStatement(sql: "INSERT INTO pointBlocks (point, blocks, ownBytes, sharedBytes) VALUES (?, ?, 0, 0)")
        try insert.execute(arguments: [record.id, Data(BlockNumbers.encode(sorted))])
        let n = db.lastInsertedRowID
        for b in sorted { change(b, refs: 1, pointSum: n) }
        added[n] = sorted
    }

    /// Settles the touched blocks' counts, moves bytes between own and shared for the points
    /// that kept them, and sets the costs of the points added. Returns nothing: blocks whose
    /// count fell to 0 are found by `Catalogue.deleteUnreferencedBlocks`.
    func finish() throws {
        let read = try db.cachedStatement(sql: "SELECT refs, pointSum, storedSize FROM block WHERE n = ?")
        let write = try db.cachedStatement(sql: "UPDATE block SET refs = ?, pointSum = ? WHERE n = ?")
        var settled: [Int64: (refs: Int64, size: Int64)] = [:]
        var moved: [Int64: Int64] = [:]  // per surviving point: bytes that became its own (negative: shared)
        for (b, c) in changes {
            guard let row = try Row.fetchOne(read, arguments: [b]), let refs: Int64 = row.checked("refs"),
                  let sum: Int64 = row.checked("pointSum"), let size: Int64 = row.checked("storedSize")
            else { throw CatalogueUpdate.damaged("a block row is missing or holds a value of the wrong type") }
            let newRefs = refs + c.refs, newSum = sum + c.pointSum
            guard newRefs >= 0 else { throw CatalogueUpdate.damaged("a block's reference count fell below zero") }
            try write.execute(arguments: [newRefs, newSum, b])
            settled[b] = (newRefs, size)
            // Only a count crossing 1 changes what a point that kept the block pays for it.
            if refs == 1 && newRefs > 1 && !removed.contains(sum) && added[sum] == nil { moved[sum, default: 0] -= size }
            if refs > 1 && newRefs == 1 && added[newSum] == nil { moved[newSum, default: 0] += size }
        }
        let shift = try db.cachedStatement(sql: "UPDATE pointBlocks SET ownBytes = ownBytes + ?, sharedBytes = sharedBytes - ? WHERE n = ?")
        for (n, bytes) in moved where bytes != 0 { try shift.execute(arguments: [bytes, bytes, n]) }
        let cost = try db.cachedStatement(sql: "UPDATE pointBlocks SET ownBytes = ?, sharedBytes = ? WHERE n = ?")
        for (n, blocks) in added {
            var own: Int64 = 0, shared: Int64 = 0
            for b in blocks {
                guard let s = settled[b] else { continue }
                if s.refs == 1 { own += s.size } else { shared += s.size }
            }
            try cost.execute(arguments: [own, shared, n])
        }
        changes = [:]
        added = [:]
        removed = []
    }

    private func change(_ block: Int64, refs: Int64, pointSum: Int64) {
        let c = changes[block] ?? (0, 0)
        changes[block] = (c.refs + refs, c.pointSum &+ pointSum)
    }

    /// The block's number, creating its row (with no references yet) when it is new.
    private func number(of b: BlockRef) throws -> Int64 {
        if let n = numbers[b.hash] { return n }
        let hash = Data(b.hash.bytes)
        let find = try db.cachedStatement(sql: "SELECT n FROM block WHERE hash = ?")
        let n: Int64
        if let found = try Int64.fetchOne(find, arguments: [hash]) {
            n = found
        } else {
            let insert = try db.cachedStatement(sql: "INSERT INTO block (hash, rawSize, storedSize, refs, pointSum) VALUES (?, ?, ?, 0, 0)")
            try insert.execute(arguments: [hash, b.rawSize, b.storedSize])
            n = db.lastInsertedRowID
        }
        numbers[b.hash] = n
        return n
    }

    /// Damage found in the database's own rows: reported as SQLite reports corruption, so the
    /// caller says to run `snapdex rescan` (exit 3).
    static func damaged(_ why: String) -> DatabaseError {
        DatabaseError(resultCode: .SQLITE_CORRUPT, message: why)
    }
}

/// A point's block numbers as stored in `pointBlocks.blocks`: ascending, each a varint of its
/// difference from the one before (the first from 0).
enum BlockNumbers {
    static func encode(_ sorted: [Int64]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(sorted.count * 2)
        var previous: Int64 = 0
        for n in sorted {
            var v = UInt64(n - previous)
            while v >= 0x80 {
                out.append(UInt8(v & 0x7f) | 0x80)
                v >>= 7
            }
            out.append(UInt8(v))
            previous = n
        }
        return out
    }

    /// The numbers, or nil when the bytes are not such a list (a damaged database).
    static func decode(_ bytes: [UInt8]) -> [Int64]? {
        var out: [Int64] = []
        var value: UInt64 = 0, shift: UInt64 = 0, previous: Int64 = 0
        for byte in bytes {
            guard shift < 63 else { return nil }
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 != 0 {
                shift += 7
                continue
            }
            guard value <= UInt64(Int64.max - previous) else { return nil }
            previous += Int64(value)
            out.append(previous)
            value = 0
            shift = 0
        }
        return shift == 0 ? out : nil
    }
}
