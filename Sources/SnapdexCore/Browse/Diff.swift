/// One difference between two points.
public struct DiffEntry {
    public enum Kind: String { case added, removed, changed }
    public var kind: Kind
    public var path: [UInt8]
    public var old: FileEntry?
    public var new: FileEntry?
    /// For `changed`: which fields (type, size, mtime, mode, uid, gid, target, hash).
    public var fields: [String]
}

/// Yields a catalog's complete directory groups one at a time, in catalog order.
final class GroupStream {
    private let reader: CatalogReader
    private let root: [UInt8]
    private var chunkIndex = 0
    private var pending: [DirectoryGroup] = []
    private var position = 0

    init(reader: CatalogReader, root: [UInt8]) {
        self.reader = reader
        self.root = root
    }

    /// The next group within `root`, or nil at the end.
    func next() throws -> DirectoryGroup? {
        while true {
            guard var g = try nextRaw() else { return nil }
            // A group split across chunks continues in the next run with the same path.
            while let more = try peekRaw(), more.path == g.path {
                g.entries += more.entries
                position += 1
            }
            if g.path.isEmpty { g.entries.removeAll { $0.name.isEmpty } }
            if PathBytes.isWithin(g.path, root) { return g }
            if CatalogOrder.compareDirectories(g.path, root) > 0 { return nil }
        }
    }

    private func nextRaw() throws -> DirectoryGroup? {
        guard let g = try peekRaw() else { return nil }
        position += 1
        return g
    }

    private func peekRaw() throws -> DirectoryGroup? {
        while position >= pending.count {
            guard chunkIndex < reader.manifest.chunks.count else { return nil }
            pending = try reader.chunk(chunkIndex, level: .content)
            chunkIndex += 1
            position = 0
        }
        return pending[position]
    }
}

extension Repository {
    /// Compares two points under `path`, walking both catalogs in order, a chunk at a time.
    /// Directories are reported when added or removed, or when their mode or owner changed
    /// (a changed child is reported itself).
    public func diff(_ a: PointRecord, _ b: PointRecord, path: [UInt8], _ body: (DiffEntry) throws -> Void) throws {
        let cache = ChunkCache(limit: 8)
        let ra = try reader(for: a, cache: cache), rb = try reader(for: b, cache: cache)
        let ea = try ra.entry(at: path, level: .content), eb = try rb.entry(at: path, level: .content)
        guard ea != nil || eb != nil else {
            throw SnapdexError.pathInNeitherPoint(String(a.id.prefix(12)), String(b.id.prefix(12)), path: String(decoding: PathBytes.display(path), as: UTF8.self))
        }
        if ea?.type != .directory || eb?.type != .directory {
            // A file (or a path that is a directory in only one point): compare the entries.
            let dir = PathBytes.split(path).dir
            try Self.diffGroup(DirectoryGroup(path: dir, entries: ea.map { [$0] } ?? []),
                               DirectoryGroup(path: dir, entries: eb.map { [$0] } ?? []), body)
            if ea?.type != .directory && eb?.type != .directory { return }
        }
        let sa = GroupStream(reader: ra, root: path), sb = GroupStream(reader: rb, root: path)
        var ga = try sa.next(), gb = try sb.next()
        while ga != nil || gb != nil {
            let c: Int
            switch (ga, gb) {
            case let (x?, y?): c = CatalogOrder.compareDirectories(x.path, y.path)
            case (_?, nil): c = -1
            default: c = 1
            }
            if c < 0 {
                for e in ga!.entries { try body(DiffEntry(kind: .removed, path: PathBytes.join(ga!.path, e.name), old: e, new: nil, fields: [])) }
                ga = try sa.next()
            } else if c > 0 {
                for e in gb!.entries { try body(DiffEntry(kind: .added, path: PathBytes.join(gb!.path, e.name), old: nil, new: e, fields: [])) }
                gb = try sb.next()
            } else {
                try Self.diffGroup(ga!, gb!, body)
                ga = try sa.next()
                gb = try sb.next()
            }
        }
    }

    static func diffGroup(_ a: DirectoryGroup, _ b: DirectoryGroup, _ body: (DiffEntry) throws -> Void) throws {
        var i = 0, j = 0
        while i < a.entries.count || j < b.entries.count {
            let x = i < a.entries.count ? a.entries[i] : nil
            let y = j < b.entries.count ? b.entries[j] : nil
            if let x, y == nil || x.name.lexicographicallyPrecedes(y!.name) {
                try body(DiffEntry(kind: .removed, path: PathBytes.join(a.path, x.name), old: x, new: nil, fields: []))
                i += 1
            } else if let y, x == nil || y.name.lexicographicallyPrecedes(x!.name) {
                try body(DiffEntry(kind: .added, path: PathBytes.join(b.path, y.name), old: nil, new: y, fields: []))
                j += 1
            } else {
                let fields = changedFields(x!, y!)
                if !fields.isEmpty {
                    try body(DiffEntry(kind: .changed, path: PathBytes.join(a.path, x!.name), old: x, new: y, fields: fields))
                }
                i += 1
                j += 1
            }
        }
    }

    static func changedFields(_ a: FileEntry, _ b: FileEntry) -> [String] {
        var f: [String] = []
        if a.type != b.type { return ["type"] }
        if a.type != .directory {
            if a.size != b.size { f.append("size") }
            // A bound an older catalog kept is no change from a time within it.
            if !a.mtime.mayBeSameTime(as: b.mtime) { f.append("mtime") }
        }
        if a.permissions != b.permissions { f.append("mode") }
        if a.uid != b.uid { f.append("uid") }
        if a.gid != b.gid { f.append("gid") }
        if a.target != b.target { f.append("target") }
        if let ha = a.hash, let hb = b.hash, ha != hb { f.append("hash") }
        return f
    }
}
