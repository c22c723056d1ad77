/// A run of consecutive points in which a path had the same version, was deleted, or could
/// not be read.
public struct VersionRow {
    public var first: PointRecord
    public var last: PointRecord
    public var count: Int
    /// The entry, or nil where the path is not in the points.
    public var entry: FileEntry?
    /// Set where the points lack the path because it (or a directory above it) could not be
    /// read when they were indexed: whether it existed there is not known.
    public var notRead: UnreadablePath?

    /// A run of points that lack the path after it existed: `first` is the first point without it.
    public var isDeleted: Bool { entry == nil && notRead == nil }
}

extension Repository {
    /// Each distinct version of `path` across a source's points, oldest first: runs of
    /// points in which its type, size, mtime and (when recorded) hash were the same, the runs
    /// where it was deleted (after its last version too), and the runs of partial points that
    /// could not read it.
    public func versions(source: String, path: [UInt8]) throws -> [VersionRow] {
        _ = try self.source(named: source)
        let cache = ChunkCache(limit: 16)
        var rows: [VersionRow] = []
        for p in try points(source: source) {
            let reader = try reader(for: p, cache: cache)
            let e = try reader.entry(at: path, level: .content)
            let notRead = e == nil ? reader.unreadableReason(for: path) : nil
            if var last = rows.last, Self.sameVersion(last.entry, e), (last.notRead == nil) == (notRead == nil) {
                last.last = p
                last.count += 1
                // Where an older catalog kept only a bound, a newer one's exact time says more.
                if let e, last.entry?.mtime.bound != .exact, e.mtime.bound == .exact { last.entry = e }
                rows[rows.count - 1] = last
            } else {
                rows.append(VersionRow(first: p, last: p, count: 1, entry: e, notRead: notRead))
            }
        }
        // A path absent before its first version was not deleted: it did not exist yet.
        while let first = rows.first, first.isDeleted { rows.removeFirst() }
        // Never seen, only not read somewhere: the partial points are all there is to say.
        if !rows.contains(where: { $0.entry != nil }) { rows.removeAll { $0.notRead == nil } }
        return rows
    }

    static func sameVersion(_ a: FileEntry?, _ b: FileEntry?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case let (x?, y?):
            guard x.type == y.type, x.size == y.size, x.mtime.mayBeSameTime(as: y.mtime), x.target == y.target else { return false }
            if let hx = x.hash, let hy = y.hash { return hx == hy }
            return true
        default: return false
        }
    }
}
