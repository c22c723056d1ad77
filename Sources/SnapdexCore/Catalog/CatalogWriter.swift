/// Where a catalog writer puts its parts. The repository's block store is the real one.
public protocol BlockSink: AnyObject {
    /// Stores one part's uncompressed bytes under their SHA-256 (`hash`), compressing and
    /// writing them only when the store does not hold that block yet. `readByFind`: a content
    /// delta, which `find` reads in every point for every chunk holding a hit
    /// (`IncompressibleColumns.storesWhole`).
    func put(_ raw: [UInt8], hash: Digest, readByFind: Bool) throws -> BlockRef

    /// Whether the store holds (or is writing) the block with this hash.
    func contains(_ hash: Digest) -> Bool

    /// Notes that blocks already in the store are used again without being put.
    func reuse(_ blocks: [BlockRef])

    /// Whether the store holds this block and it reads back intact: a block is only reused
    /// without being put when it does, so damage is never carried into a new index.
    func holdsIntact(_ hash: Digest) -> Bool

    /// A stored block's uncompressed bytes (a patch's base).
    func read(_ hash: Digest) throws -> [UInt8]

    /// Waits until every part given to `put` is stored; returns the stored sizes of parts
    /// whose `put` answered before their size was known.
    func finishWrites() throws -> [Digest: Int]
}

extension BlockSink {
    func put(_ raw: [UInt8], hash: Digest) throws -> BlockRef { try put(raw, hash: hash, readByFind: false) }
}

/// Takes directory groups in catalog order and cuts them into chunks at boundaries chosen
/// from the entries' keys (content-defined), so that an unchanged stretch of the tree yields
/// the same chunks, and so the same blocks, in the next index.
public final class CatalogWriter {
    private let sink: BlockSink
    private let parameters: ChunkingParameters
    private var pending: [DirectoryGroup] = []
    private var pendingCount = 0
    /// The previous index's chunks, in catalog order: a chunk's delta base is the whole block
    /// behind the same part of the one whose key range holds its first key.
    private let previousChunks: [ChunkRef]
    /// The previous index's patched parts, by the hash of the whole part they stand for.
    private let patched: [Digest: PartRef]
    public private(set) var chunks: [ChunkRef] = []
    public private(set) var counts = CatalogCounts()
    public private(set) var patchedParts = 0

    public init(sink: BlockSink, parameters: ChunkingParameters = .standard, previous: Manifest? = nil) {
        self.sink = sink
        self.parameters = parameters
        var patched: [Digest: PartRef] = [:]
        for c in previous?.chunks ?? [] {
            for p in c.parts { if let w = p.whole { patched[w] = p } }
        }
        self.previousChunks = (previous?.chunks ?? []).filter { $0.parts.count == 3 }
        self.patched = patched
    }

    /// Adds one directory's children; groups must come in catalog order.
    public func add(_ group: DirectoryGroup) throws {
        guard !group.entries.isEmpty else { return }
        var dirHash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in group.path { dirHash = (dirHash ^ UInt64(b)) &* 0x100_0000_01b3 }
        dirHash = (dirHash ^ 0x2f) &* 0x100_0000_01b3
        // The entries go into `pending` as whole runs of the group (a group with no cut in it,
        // the common case, shares its array): copying them one by one retained their arrays.
        var runStart = 0
        for i in group.entries.indices {
            tally(group.entries[i])
            pendingCount += 1
            var h = dirHash
            for b in group.entries[i].name { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            h ^= h >> 29
            h = h &* 0xbf58_476d_1ce4_e5b9
            h ^= h >> 32
            if pendingCount >= parameters.maxEntries || (pendingCount >= parameters.minEntries && h & parameters.mask == 0) {
                pending.append(DirectoryGroup(path: group.path, entries: Array(group.entries[runStart...i])))
                runStart = i + 1
                try flush()
            }
        }
        if runStart == 0 {
            pending.append(group)
        } else if runStart < group.entries.count {
            pending.append(DirectoryGroup(path: group.path, entries: Array(group.entries[runStart...])))
        }
    }

    /// Writes the last chunk, waits for the sink, and returns the chunk table.
    public func finish() throws -> [ChunkRef] {
        try flush()
        let sizes = try sink.finishWrites()
        for c in chunks.indices {
            for p in chunks[c].parts.indices where chunks[c].parts[p].block.storedSize < 0 {
                chunks[c].parts[p].block.storedSize = sizes[chunks[c].parts[p].block.hash] ?? 0
            }
        }
        return chunks
    }

    private func flush() throws {
        pending.removeAll { $0.entries.isEmpty }
        guard let first = pending.first else { return }
        let raws = ChunkCodec.encode(pending)
        let base = baseChunk(dir: first.path, name: first.entries[0].name)
        var parts: [PartRef] = []
        for kind in [PartKind.names, .content, .state] {
            parts.append(try store(raws[Int(kind.rawValue)], previous: base?.parts[Int(kind.rawValue)]))
        }
        chunks.append(ChunkRef(firstDir: first.path, firstName: first.entries[0].name, entries: pendingCount, parts: parts))
        pending.removeAll(keepingCapacity: true)
        pendingCount = 0
    }

    /// The previous index's chunk whose key range holds (dir, name): the last whose first key
    /// is not after it (or the first chunk). Chunk boundaries depend only on keys, so it
    /// holds about the same entries even when entries were added or removed.
    private func baseChunk(dir: [UInt8], name: [UInt8]) -> ChunkRef? {
        guard !previousChunks.isEmpty else { return nil }
        var lo = 0, hi = previousChunks.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let c = previousChunks[mid]
            if CatalogOrder.compare(dir: c.firstDir, name: c.firstName, dir: dir, name: name) <= 0 { lo = mid + 1 } else { hi = mid }
        }
        return previousChunks[max(lo - 1, 0)]
    }

    /// Stores a part whole or, when it is new, as a delta of the same part of the previous
    /// index (`previous`), like dump levels (docs/FORMAT.md, "Levels"): a level-1 delta of
    /// the whole block `previous` is or is based on, or, when `previous` is a delta itself, a
    /// level-2 delta of the part its level-1 delta rebuilds (keeping that level-1 delta).
    /// Level 2 is taken while it is at most half of level 1: a level-2 delta carries the days
    /// since the last level 1, a level-1 delta the days since the whole base, so a new level 1
    /// is made once the first weigh as much as half the second. Each is written only while it
    /// is at most a quarter of the part (a half for state); past that the part is stored whole
    /// and becomes the base of the next points' deltas. Reading a part so never needs more
    /// than three blocks.
    private func store(_ raw: [UInt8], previous: PartRef?) throws -> PartRef {
        let hash = Digest.of(raw)
        if sink.contains(hash) { return PartRef(block: try sink.put(raw, hash: hash)) }
        if let same = patched[hash], same.blocks.allSatisfy({ sink.holdsIntact($0.hash) }) {
            sink.reuse(same.blocks)
            return same
        }
        guard let base = previous?.root, base.hash != hash,
              let baseRaw = try? sink.read(base.hash), baseRaw.first == raw.first
        else { return PartRef(block: try sink.put(raw, hash: hash)) }
        let limit = PartDelta.limit(for: raw)
        var level2: (delta: [UInt8], level1: BlockRef, intermediate: Digest)?
        if let previous, let kept = level1Delta(of: previous), case let (level1, intermediate) = kept,
           let delta1 = try? sink.read(level1.hash),
           let rebuilt = try? PartDelta.apply(delta1, base: baseRaw, entries: nil),
           rebuilt.first == raw.first, Digest.of(rebuilt) == intermediate,
           let delta = PartDelta.make(base: rebuilt, target: raw, entries: pendingCount, limit: limit) {
            level2 = (delta, level1, intermediate)
        }
        // A level-1 delta is worth it only while level 2 is more than half of it.
        let limit1 = level2.map { min(limit, 2 * $0.delta.count) } ?? limit
        let delta1 = PartDelta.make(base: baseRaw, target: raw, entries: pendingCount, limit: limit1)
        if let level2, delta1 == nil || 2 * level2.delta.count <= delta1!.count {
            patchedParts += 1
            sink.reuse([base, level2.level1])  // counted as reused: the new point needs them as much as the delta
            return PartRef(block: try put(delta: level2.delta, of: raw), base: base, whole: hash, delta: true,
                           level1: level2.level1, intermediate: level2.intermediate)
        }
        if let delta1 {
            patchedParts += 1
            sink.reuse([base])
            return PartRef(block: try put(delta: delta1, of: raw), base: base, whole: hash, delta: true)
        }
        return PartRef(block: try sink.put(raw, hash: hash))
    }

    /// The level-1 delta a level-2 delta based on `part` would keep, and the SHA-256 of the
    /// part it rebuilds: `part` itself when it is a level-1 delta, its level 1 when it is a
    /// level-2 delta; nil for a whole or patched part.
    private func level1Delta(of part: PartRef) -> (BlockRef, Digest)? {
        guard part.delta, part.base != nil else { return nil }
        if let level1 = part.level1, let intermediate = part.intermediate { return (level1, intermediate) }
        guard let whole = part.whole else { return nil }
        return (part.block, whole)
    }

    /// A delta's block. A content part's delta is read by `find` in every point for every
    /// chunk holding a hit, so the store may keep it uncompressed (`BlockSink.put`).
    private func put(delta: [UInt8], of raw: [UInt8]) throws -> BlockRef {
        try sink.put(delta, hash: Digest.of(delta), readByFind: raw.first == PartKind.content.rawValue)
    }

    @inline(__always)
    private func tally(_ e: borrowing FileEntry) {
        if e.name.isEmpty { return }  // the root's own entry is not counted
        counts.entries += 1
        switch e.type {
        case .file:
            counts.files += 1
            counts.bytes += e.size
            if e.hash != nil { counts.hashedFiles += 1 }
        case .directory: counts.directories += 1
        case .symlink: counts.symlinks += 1
        default: counts.others += 1
        }
    }
}
