/// How much of each chunk to decode: names alone answer `find` by name; content adds sizes,
/// mtimes and hashes; full adds ctime, inode, link count and directory totals.
public enum DecodeLevel: Int, Sendable, Comparable {
    case names = 0, content = 1, full = 2
    public static func < (a: DecodeLevel, b: DecodeLevel) -> Bool { a.rawValue < b.rawValue }
}

/// Decoded chunks shared by the readers of one run, keyed by the blocks they were decoded
/// from: a chunk that several points share is decoded once, whichever point asks first.
public final class ChunkCache {
    struct Key: Hashable {
        var blocks: [Digest]
        var level: DecodeLevel
        /// Read as a catalog older than format 3 (`CatalogReader.endsAreBounds`): the same
        /// blocks mean other times there.
        var endsAreBounds: Bool
    }
    private var entries: [Key: [DirectoryGroup]] = [:]
    private var order: [Key] = []
    private let limit: Int

    public init(limit: Int = 64) { self.limit = limit }

    static func key(_ c: ChunkRef, _ level: DecodeLevel, _ endsAreBounds: Bool) -> Key {
        Key(blocks: c.parts.prefix(level.rawValue + 1).flatMap { $0.blocks.map(\.hash) }, level: level, endsAreBounds: endsAreBounds)
    }

    func get(_ c: ChunkRef, _ level: DecodeLevel, endsAreBounds: Bool) -> [DirectoryGroup]? {
        for l in [DecodeLevel.full, .content, .names] where l >= level {
            if let hit = entries[ChunkCache.key(c, l, endsAreBounds)] { return hit }
        }
        return nil
    }

    func put(_ c: ChunkRef, _ level: DecodeLevel, endsAreBounds: Bool, _ groups: [DirectoryGroup]) {
        let k = ChunkCache.key(c, level, endsAreBounds)
        if entries.updateValue(groups, forKey: k) == nil { order.append(k) }
        if order.count > limit { entries[order.removeFirst()] = nil }
    }
}

/// Reads one index's catalog through its manifest, loading only the chunks a question needs.
public final class CatalogReader {
    public let manifest: Manifest
    /// Whether the catalog is older than format 3, whose writers stored a file time beyond
    /// 1677..2262 at the nearest end: its ends are read as bounds (`FileTime.Bound`).
    /// A copy keeps its origin's format version, so this holds for copied catalogs too.
    public let endsAreBounds: Bool
    private let load: (Digest) throws -> [UInt8]
    private let cache: ChunkCache

    /// `load` returns a block's verified uncompressed bytes; `cache` may be shared between
    /// readers of the same repository.
    public init(manifest: Manifest, cache: ChunkCache = ChunkCache(limit: 8), load: @escaping (Digest) throws -> [UInt8]) {
        self.manifest = manifest
        endsAreBounds = manifest.formatVersion < 3
        self.cache = cache
        self.load = load
    }

    /// The groups (runs) stored in chunk `i`.
    public func chunk(_ i: Int, level: DecodeLevel = .full) throws -> [DirectoryGroup] {
        let c = manifest.chunks[i]
        if let hit = cache.get(c, level, endsAreBounds: endsAreBounds) { return hit }
        var groups: [DirectoryGroup]
        do {
            groups = try CatalogReader.decode(c, level: level, load: load)
        } catch let d as ChunkCodec.Damaged {
            throw SnapdexError.blockDamaged(hash: (d.block ?? c.parts[0].block.hash).hex, reason: d.reason)
        }
        if endsAreBounds { CatalogReader.readEndsAsBounds(&groups) }
        cache.put(c, level, endsAreBounds: endsAreBounds, groups)
        return groups
    }

    /// Marks the times a catalog older than format 3 stored at an end of 1677..2262 as the
    /// bounds they are (docs/FORMAT.md, "Times").
    static func readEndsAsBounds(_ groups: inout [DirectoryGroup]) {
        for g in groups.indices {
            for i in groups[g].entries.indices {
                let e = groups[g].entries[i]
                let m = e.mtime.inOlderCatalog, c = e.ctime.inOlderCatalog
                if m.bound != .exact { groups[g].entries[i].mtime = m }
                if c.bound != .exact { groups[g].entries[i].ctime = c }
            }
        }
    }

    /// Loads and decodes one chunk's parts, applying patches to their bases.
    static func decode(_ c: ChunkRef, level: DecodeLevel, load: (Digest) throws -> [UInt8]) throws -> [DirectoryGroup] {
        guard c.parts.count == 3 else { throw ChunkCodec.Damaged(reason: "chunk has \(c.parts.count) parts") }
        guard c.parts[0].base == nil || c.parts[0].delta else { throw ChunkCodec.Damaged(reason: "names part cannot be a patch") }
        let names = try part(c.parts[0], entries: c.entries, load: load).whole
        let content = level >= .content ? try part(c.parts[1], entries: c.entries, load: load) : nil
        let state = level >= .full ? try part(c.parts[2], entries: c.entries, load: load) : nil
        let groups = try ChunkCodec.decode(names: names, content: content?.whole, state: state?.whole,
                                           contentPatch: content?.patch, statePatch: state?.patch)
        // Callers index the chunk's entries by the manifest's count (find's content columns):
        // a names block that disagrees with it is damage, found here rather than as a trap.
        let count = groups.reduce(0) { $0 + $1.entries.count }
        guard count == c.entries else { throw ChunkCodec.Damaged(reason: "holds \(count) entries, manifest says \(c.entries)") }
        return groups
    }

    /// One part's bytes: a whole part, or the whole base and the patch of its values that a
    /// reader applies after decoding it (form 1), or the part rebuilt from its base and delta
    /// (form 2), or from its base, level-1 and level-2 deltas (form 3), each rebuilt part
    /// checked against its recorded SHA-256. `intermediate` is given the SHA-256 of a level-2
    /// delta's intermediate part and the way to rebuild and check it: a caller reading many
    /// points whose deltas share a level 1 may keep the part rather than rebuild it each time.
    public static func part(_ p: PartRef, entries: Int, load: (Digest) throws -> [UInt8],
                            intermediate: (Digest, () throws -> [UInt8]) throws -> [UInt8] = { try $1() })
        throws -> (whole: [UInt8], patch: [UInt8]?) {
        guard let base = p.base else { return (try load(p.block.hash), nil) }
        guard p.delta else { return (try load(base.hash), try load(p.block.hash)) }
        var from: [UInt8]
        if let level1 = p.level1 {
            // The level-1 delta holds the entry count of the intermediate part (the chunk of
            // the point that wrote it), which may differ from this chunk's.
            from = try withoutActuallyEscaping(load) { load in
                let rebuildIntermediate = {
                    try rebuild(delta: level1, from: try load(base.hash), base: base, entries: nil, expected: p.intermediate, load: load)
                }
                guard let expected = p.intermediate else { return try rebuildIntermediate() }
                return try intermediate(expected, rebuildIntermediate)
            }
        } else {
            from = try load(base.hash)
        }
        let rebuilt = try rebuild(delta: p.block, from: from, base: p.level1 ?? base, entries: entries, expected: p.whole, load: load)
        // The intermediate part is a part of the same kind (docs/FORMAT.md, "Levels").
        guard p.level1 == nil || from.first == rebuilt.first else {
            throw ChunkCodec.Damaged(reason: "level-1 delta rebuilds a part of another kind", block: p.level1!.hash)
        }
        return (rebuilt, nil)
    }

    /// Applies one delta block to the bytes it builds on (`base` names them in errors), and
    /// checks the result's SHA-256.
    private static func rebuild(delta: BlockRef, from: [UInt8], base: BlockRef, entries: Int?, expected: Digest?,
                                load: (Digest) throws -> [UInt8]) throws -> [UInt8] {
        let rebuilt: [UInt8]
        do {
            rebuilt = try PartDelta.apply(try load(delta.hash), base: from, entries: entries)
        } catch let d as ChunkCodec.Damaged {
            throw ChunkCodec.Damaged(reason: d.reason, block: delta.hash)
        }
        guard let expected, Digest.of(rebuilt) == expected else {
            throw ChunkCodec.Damaged(reason: "delta does not rebuild its part from base \(base.hash.hex.prefix(12))", block: delta.hash)
        }
        return rebuilt
    }

    /// A block's verified uncompressed bytes, read the way this reader reads its chunks (a
    /// block gone because the point was expired meanwhile is reported as such).
    public func block(_ hash: Digest) throws -> [UInt8] { try load(hash) }

    /// The children of directory `dir`, or nil when the catalog holds no entries under it
    /// (an empty directory, or no directory at all: ask `entry(at:)` which).
    public func list(_ dir: [UInt8], level: DecodeLevel = .full) throws -> [FileEntry]? {
        let chunks = manifest.chunks
        guard !chunks.isEmpty else { return nil }
        // The first chunk whose first key is past (dir, ""), then step back one.
        var lo = 0, hi = chunks.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if CatalogOrder.compare(dir: chunks[mid].firstDir, name: chunks[mid].firstName, dir: dir, name: []) <= 0 {
                lo = mid + 1
            } else {
                hi = mid
            }
        }
        var i = max(lo - 1, 0)
        var result: [FileEntry]?
        while i < chunks.count {
            if i > lo - 1, CatalogOrder.compareDirectories(chunks[i].firstDir, dir) != 0 { break }
            for g in try chunk(i, level: level) where g.path == dir {
                result = (result ?? []) + g.entries
            }
            i += 1
        }
        if dir.isEmpty { result?.removeAll { $0.name.isEmpty } }
        return result
    }

    /// The entry at `path` (catalog form; `[]` is the snapshot root), or nil.
    public func entry(at path: [UInt8], level: DecodeLevel = .full) throws -> FileEntry? {
        if path.isEmpty {
            return try rootEntry(level: level)
        }
        let (dir, name) = PathBytes.split(path)
        return try list(dir, level: level)?.first { $0.name == name }
    }

    private func rootEntry(level: DecodeLevel) throws -> FileEntry? {
        guard !manifest.chunks.isEmpty else { return nil }
        // The root group is last and may span several chunks; its first entry (empty name) is
        // the root itself, in the chunk where the group starts: walk back from the last chunk
        // until a chunk that does not start inside the root group.
        var i = manifest.chunks.count - 1
        while i >= 0 {
            for g in try chunk(i, level: level) where g.path.isEmpty {
                if let e = g.entries.first, e.name.isEmpty { return e }
            }
            if !manifest.chunks[i].firstDir.isEmpty { break }
            i -= 1
        }
        return nil
    }

    /// Calls `body` with every complete directory group in catalog order, optionally only
    /// those within the subtree `under`. Returning false stops the walk.
    public func forEachGroup(under root: [UInt8]? = nil, level: DecodeLevel = .full,
                             _ body: (DirectoryGroup) throws -> Bool) throws {
        let chunks = manifest.chunks
        var start = 0
        if let root {
            // First chunk whose first key is within `root` or past it, then step back one.
            var lo = 0, hi = chunks.count
            while lo < hi {
                let mid = (lo + hi) / 2
                let d = chunks[mid].firstDir
                if PathBytes.isWithin(d, root) || CatalogOrder.compareDirectories(d, root) > 0 { hi = mid } else { lo = mid + 1 }
            }
            start = max(lo - 1, 0)
        }
        var held: DirectoryGroup?
        func emit(_ g: DirectoryGroup) throws -> Bool {
            if let root {
                if PathBytes.isWithin(g.path, root) { return try body(g) }
                return CatalogOrder.compareDirectories(g.path, root) < 0  // keep going until past root
            }
            return try body(g)
        }
        for i in start..<chunks.count {
            for g in try chunk(i, level: level) {
                if var h = held, h.path == g.path {
                    h.entries += g.entries
                    held = h
                    continue
                }
                if let h = held, try !emit(h) { return }
                held = g
            }
        }
        if let h = held { _ = try emit(h) }
    }
}

/// Walks a catalog's groups forward in catalog order, for merging it with a walk that
/// produces groups in the same order (hash reuse from the previous index). A chunk that cannot
/// be read (damaged) gives no groups: the walk then hashes its files again rather than fail.
public final class GroupCursor {
    private let reader: CatalogReader
    private var chunkIndex = 0
    private var groups: [DirectoryGroup] = []
    private var position = 0

    public init(reader: CatalogReader) { self.reader = reader }

    /// The children of `dir` in this catalog, skipping every group before it; nil when the
    /// catalog has no group for `dir`. Calls must come in catalog order.
    public func advance(to dir: [UInt8]) -> [FileEntry]? {
        var result: [FileEntry]?
        while true {
            if position >= groups.count {
                guard chunkIndex < reader.manifest.chunks.count else { return result }
                if result == nil, CatalogOrder.compareDirectories(reader.manifest.chunks[chunkIndex].firstDir, dir) < 0,
                   chunkIndex + 1 < reader.manifest.chunks.count,
                   CatalogOrder.compareDirectories(reader.manifest.chunks[chunkIndex + 1].firstDir, dir) < 0 {
                    chunkIndex += 1  // the whole chunk lies before `dir`: skip it without decoding
                    continue
                }
                groups = (try? reader.chunk(chunkIndex)) ?? []
                chunkIndex += 1
                position = 0
                continue
            }
            let c = CatalogOrder.compareDirectories(groups[position].path, dir)
            if c < 0 {
                position += 1
            } else if c == 0 {
                result = (result ?? []) + groups[position].entries
                position += 1
            } else {
                return result
            }
        }
    }
}
