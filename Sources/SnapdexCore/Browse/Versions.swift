/// A run of consecutive points in which a path had the same version, or did not exist.
public struct VersionRow {
    public var first: PointRecord
    public var last: PointRecord
    public var count: Int
    /// The entry, or nil for a gap where the path did not exist.
    public var entry: FileEntry?
}

extension Repository {
    /// Each distinct version of `path` across a source's points, oldest first: runs of
    /// points in which its type, size, mtime and (when recorded) hash were the same, and the
    /// gaps where it did not exist.
    public func versions(source: String, path: [UInt8]) throws -> [VersionRow] {
        _ = try self.source(named: source)
        let cache = ChunkCache(limit: 16)
        var rows: [VersionRow] = []
        for p in try points(source: source) {
            let e = try reader(for: p, cache: cache).entry(at: path, level: .content)
            if var last = rows.last, Self.sameVersion(last.entry, e) {
                last.last = p
                last.count += 1
                rows[rows.count - 1] = last
            } else {
                rows.append(VersionRow(first: p, last: p, count: 1, entry: e))
            }
        }
        // A path absent before its first version is not a gap worth showing.
        while let first = rows.first, first.entry == nil { rows.removeFirst() }
        while let last = rows.last, last.entry == nil, rows.count > 1 { rows.removeLast() }
        return rows
    }

    static func sameVersion(_ a: FileEntry?, _ b: FileEntry?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case let (x?, y?):
            guard x.type == y.type, x.size == y.size, x.mtime == y.mtime, x.target == y.target else { return false }
            if let hx = x.hash, let hy = y.hash { return hx == hy }
            return true
        default: return false
        }
    }
}
