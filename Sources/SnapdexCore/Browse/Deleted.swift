/// A path that an earlier point of a source holds and the source's newest point does not
/// (`find --deleted`, after httm's `-d`).
public struct DeletedHit {
    public var path: [UInt8]
    /// The entry as the last point that holds it recorded it.
    public var entry: FileEntry
    /// The newest point that holds the path.
    public var lastPoint: PointRecord
    /// The point after it, the first that lacks the path.
    public var goneIn: PointRecord
}

extension Repository {
    /// Every path under `root` (catalog form; `[]` is the whole snapshot) that some earlier
    /// point of a source holds and its newest point lacks, with the newest point that holds
    /// it, sorted by source then path. `query` narrows by type, size and mtime.
    ///
    /// Points are read newest first, so the first point found holding a path is its last one.
    /// A chunk whose names block the newest point also has holds only paths the newest point
    /// holds: it is skipped without being decoded, so an unchanged tree costs one look at each
    /// manifest. A path the newest point could not read (a partial point) is not called deleted.
    public func deleted(source: String?, under root: [UInt8], matching query: FindQuery?, _ body: (DeletedHit) throws -> Void) throws {
        if let source { _ = try self.source(named: source) }
        let sources = try source.map { [$0] } ?? self.sources().map(\.name)
        for name in sources {
            var hits: [DeletedHit] = []
            try deleted(source: name, under: root, matching: query) { hits.append($0) }
            hits.sort { $0.path.lexicographicallyPrecedes($1.path) }
            for h in hits { try body(h) }
        }
    }

    private func deleted(source: String, under root: [UInt8], matching query: FindQuery?, _ found: (DeletedHit) -> Void) throws {
        let points = try self.points(source: source).sorted { ($0.time, $0.indexedAt) < ($1.time, $1.indexedAt) }
        guard let newest = points.last, points.count > 1 else { return }
        let cache = ChunkCache(limit: 16)
        let now = try reader(for: newest, cache: cache)
        let unchanged = Set(now.manifest.chunks.map { $0.parts[0].block.hash })
        // The newest point's names in one directory at a time: groups come in catalog order.
        var namesDir: [UInt8]? = nil
        var names = Set<[UInt8]>()
        func newestHas(_ dir: [UInt8], _ name: [UInt8]) throws -> Bool {
            if namesDir != dir {
                namesDir = dir
                names = Set((try now.list(dir, level: .names) ?? []).map(\.name))
            }
            return names.contains(name)
        }
        var reported = Set<[UInt8]>()
        for k in stride(from: points.count - 2, through: 0, by: -1) {
            let point = points[k]
            let old = try reader(for: point, cache: cache)
            for (i, chunk) in old.manifest.chunks.enumerated() where !unchanged.contains(chunk.parts[0].block.hash) {
                for g in try old.chunk(i, level: .content) {
                    let inside = PathBytes.isWithin(g.path, root)
                    // Outside the subtree only `root` itself may be in this group.
                    guard inside || PathBytes.isWithin(root, g.path) else { continue }
                    for e in g.entries where !e.name.isEmpty {
                        let path = PathBytes.join(g.path, e.name)
                        guard inside || PathBytes.isWithin(path, root) else { continue }
                        guard !reported.contains(path), try !newestHas(g.path, e.name) else { continue }
                        if let query, !(query.matchesName(dir: g.path, e) && query.matchesContent(e)) { continue }
                        guard now.unreadableReason(for: path) == nil else { continue }
                        reported.insert(path)
                        found(DeletedHit(path: path, entry: e, lastPoint: point, goneIn: points[k + 1]))
                    }
                }
            }
        }
    }
}
