import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What `find` looks for.
public struct FindQuery {
    public enum Pattern {
        /// fnmatch(3) glob on the name, or with `path` on the whole path from the root.
        case glob(String, path: Bool)
        case regex(Regex<AnyRegexOutput>, path: Bool)
    }
    public var pattern: Pattern
    public var type: EntryType?
    /// Size strictly above / below (find's `-size +N` / `-size -N`).
    public var larger: UInt64?
    public var smaller: UInt64?
    /// Modified strictly after / before (find's `-newermt`), over every time a catalog holds.
    public var newer: FileTime?
    public var older: FileTime?
    /// Globs match letters of either case (fnmatch's FNM_CASEFOLD; a regex is built with
    /// `ignoresCase` by `regex(_:path:ignoreCase:)`).
    public var ignoreCase = false
    /// glibc's FNM_CASEFOLD (1 << 4), which Swift does not import: it needs _GNU_SOURCE.
    static let caseFold: Int32 = 1 << 4

    public init(pattern: Pattern, ignoreCase: Bool = false) {
        self.pattern = pattern
        self.ignoreCase = ignoreCase
    }

    public static func regex(_ text: String, path: Bool, ignoreCase: Bool = false) throws -> Pattern {
        do {
            // Names may hold newlines; `.` matches one as it does in POSIX regcomp (without
            // REG_NEWLINE), so a catch-all expression leaves no name out.
            let r = try Regex(text).dotMatchesNewlines()
            return .regex(ignoreCase ? r.ignoresCase() : r, path: path)
        } catch {
            throw SnapdexError.invalidArgument("cannot read the regular expression '\(text)': \(error)")
        }
    }

    /// A glob, checked first: fnmatch takes an unclosed `[` literally, so `find '[abc'` would
    /// quietly match nothing; refused instead, saying how to match a `[` itself.
    public static func glob(_ text: String, path: Bool) throws -> Pattern {
        let b = Array(text.utf8)
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "\\") {
                i += 2
                continue
            }
            if b[i] == UInt8(ascii: "[") {
                // A set: an optional ! or ^, then a ] that is the first member, then up to the ].
                var j = i + 1
                if j < b.count && (b[j] == UInt8(ascii: "!") || b[j] == UInt8(ascii: "^")) { j += 1 }
                if j < b.count && b[j] == UInt8(ascii: "]") { j += 1 }
                while j < b.count && b[j] != UInt8(ascii: "]") { j += 1 }
                guard j < b.count else {
                    throw SnapdexError.invalidArgument("the glob '\(text)' has a '[' with no closing ']'; to match a '[' itself write '\\['")
                }
                i = j + 1
                continue
            }
            i += 1
        }
        return .glob(text, path: path)
    }

    public func matches(dir: [UInt8], _ e: FileEntry) -> Bool { matchesName(dir: dir, e) && matchesContent(e) }

    /// The tests that need the size and mtime (the content part).
    func matchesContent(_ e: FileEntry) -> Bool {
        if let larger, e.size <= larger { return false }
        if let smaller, e.size >= smaller { return false }
        // A bound an older catalog kept (FORMAT.md, "Times") matches only when every time it
        // stands for does: one open towards the limit never does.
        if let newer, e.mtime <= newer || e.mtime.bound == .atOrBefore { return false }
        if let older, e.mtime >= older || e.mtime.bound == .atOrAfter { return false }
        return true
    }

    /// The tests the names part alone answers: pattern and type.
    func matchesName(dir: [UInt8], _ e: FileEntry) -> Bool {
        if e.name.isEmpty { return false }
        if let type, e.type != type { return false }
        switch pattern {
        case .glob(let g, let path):
            // Patterns are bytes too: a typed non-UTF-8 byte (`caf\351`) reaches here as its
            // escape scalar, and matches the byte itself, never its UTF-8 spelling.
            let subject = path ? PathBytes.display(PathBytes.join(dir, e.name)) : e.name
            return FS.withCName(PathString.bytes(g)) { pattern in
                FS.withCName(subject) { fnmatch(pattern, $0, ignoreCase ? FindQuery.caseFold : 0) == 0 }
            }
        case .regex(let r, let path):
            // The subject is decoded as arguments are (non-UTF-8 bytes as escape scalars), so a
            // regex typed with such a byte matches it.
            let subject = path ? PathBytes.display(PathBytes.join(dir, e.name)) : e.name
            return PathString.string(subject).contains(r)
        }
    }
}

/// One entry `find` found, in one point.
public struct FindHit {
    public var point: PointRecord
    public var path: [UInt8]
    public var entry: FileEntry
}

extension Repository {
    /// Searches the given points and calls `body` for each hit. Names are matched once per
    /// names block, however many points share it, by scanning the block in place; a block
    /// whose names filter (a cache in `REPO/names-filters`, built on the first scan) says it
    /// cannot hold a match is not read at all. For the chunks holding a name that matched,
    /// only the content values of those entries are read (base blocks, which points share,
    /// are kept decompressed in a small cache). Memory stays flat in the number of points.
    ///
    /// A point expired or forgotten while it is searched is skipped, not reported as damage:
    /// returns the ids of those points (their hits found before it went may have been given;
    /// when the helper thread had read all its blocks before, all its hits are given).
    /// `helper` is for tests: by default a helper thread works ahead on two cores.
    @discardableResult
    public func find(_ query: FindQuery, in points: [PointRecord], helper: Bool? = nil, _ body: (FindHit) throws -> Void) throws -> [String] {
        let search = try Search(query, filterFile: NamesFilterFile.path(in: root), helper: helper)
        var skipped: [String] = []
        defer { search.saveFilters { [blocks] in FileIO.exists(blocks.path(of: $0)) } }
        for point in points {
            do {
                try search.run(in: point, reader: try reader(for: point, cache: ChunkCache(limit: 1)), body)
            } catch SnapdexError.pointExpired(let id) {
                skipped.append(id)
            }
        }
        return skipped
    }
}

/// One `find` over any number of points: what it learnt of each names block (its hits, or
/// that it holds none) and the content bases it keeps, so that points sharing blocks cost
/// only their own.
///
/// A helper thread works on the chunks of a point ahead of the thread that gives the hits
/// (in catalog order, as one thread would): on two cores a broad glob takes about half the
/// time. What the two share (names hits, filters, kept values and blocks) is behind `lock`;
/// each has its own filter builder. A regular expression is matched on one thread only.
final class Search {
    typealias NameHit = (flat: Int, dir: [UInt8], entry: FileEntry)
    let query: FindQuery
    private let matcher: NameMatcher
    private let probe: NamesFilterProbe?
    private let lock = NSLock()
    private var nameHits: [Digest: (count: Int, hits: [NameHit])] = [:]
    /// Whole content blocks are what points share (patches are each point's own): the values
    /// of the matched entries in each are kept, so a point sharing it reads only its patch.
    private struct BaseKey: Hashable {
        var content: Digest
        var names: Digest
        var entries: Int
    }
    private var baseValues: [BaseKey: ChunkCodec.ContentValues] = [:]
    private let bases: BlockMemo
    /// For each base, the part a level-1 delta over it rebuilds that `bases` keeps.
    private var levelOnes: [Digest: Digest] = [:]
    static let levelOnesLimit = 100_000
    private let filterFile: String
    private var filters: [Digest: NamesFilter]
    private var filtersAdded = false
    /// The names parts this search met: their filters are kept when the file is written
    /// (one rebuilt from a delta has no block file of its own to vouch for it).
    private var seen: Set<Digest> = []
    /// One filter builder for the thread that gives hits, one for the helper (each made when
    /// first needed: most searches find every filter built).
    private var builders: [NamesFilterBuilder?] = [nil, nil]
    private let helper: WorkerPool?
    /// How many chunks the helper may work ahead: their hits wait in memory.
    static let lookahead = 8

    /// `baseBytes` bounds the whole blocks kept for the deltas and patches of later points;
    /// `helper` says whether a second thread works ahead (by default when there are two
    /// cores and the pattern is a glob).
    init(_ query: FindQuery, filterFile: String, baseBytes: Int = BlockMemo.defaultLimit, helper: Bool? = nil) throws {
        self.query = query
        bases = BlockMemo(limit: baseBytes)
        matcher = NameMatcher(query)
        probe = NamesFilterProbe(query, literal: matcher.literal)
        self.filterFile = filterFile
        filters = try NamesFilterFile.load(filterFile)
        var glob = false
        if case .glob = query.pattern { glob = true }
        self.helper = glob && (helper ?? (ProcessInfo.processInfo.activeProcessorCount > 1)) ? WorkerPool(threads: 1, limit: 1) : nil
    }

    deinit { helper?.close() }

    /// Writes the filters built in this search with those already kept (best effort: a cache).
    func saveFilters(keep: (Digest) -> Bool) {
        if filtersAdded { NamesFilterFile.save(filters, to: filterFile) { seen.contains($0) || keep($0) } }
    }

    /// The entries of a names block whose names match, found by scanning it in place (and
    /// building its filter on the way when it has none).
    private func scan(_ part: PartRef, as block: Digest, entries: Int, _ reader: CatalogReader,
                      thread: Int) throws -> (count: Int, hits: [NameHit]) {
        var hits: [NameHit] = []
        let builder: NamesFilterBuilder? = lock.withLock {
            guard filters[block] == nil else { return nil }
            if builders[thread] == nil { builders[thread] = NamesFilterBuilder() }
            return builders[thread]
        }
        do {
            let scan = try NamesScan(try self.part(part, entries: entries, reader))
            while try scan.next() {
                if let builder { builder.add(scan) }
                if matcher.matches(scan) { hits.append((scan.flat, scan.directory, scan.entry)) }
            }
            if let builder {
                let filter = builder.finish()
                lock.withLock {
                    filters[block] = filter
                    filtersAdded = true
                }
            }
            return (scan.count, hits)
        } catch let d as ChunkCodec.Damaged {
            _ = builder?.finish()
            throw SnapdexError.blockDamaged(hash: (d.block ?? part.block.hash).hex, reason: d.reason)
        } catch {
            _ = builder?.finish()
            throw error
        }
    }

    /// A part's whole bytes (rebuilt from its delta and checked, for a delta), its base read,
    /// and the intermediate part of a level-2 delta rebuilt, once per search however many
    /// points' deltas build on them. The memo is keyed by SHA-256, and what it keeps was
    /// checked against it, so a part kept for one point is the same bytes for the next.
    ///
    /// A part a level-1 delta rebuilds in a format 4 catalog is kept too: the writer bases the
    /// level-2 deltas of the next points on it, as their intermediate part. Only the newest
    /// such part over each base is kept (older ones are a past the next points do not build
    /// on), so these take about as much room as the bases.
    private func part(_ p: PartRef, entries: Int, _ reader: CatalogReader) throws -> [UInt8] {
        let rebuild = {
            try CatalogReader.part(p, entries: entries, load: { h in
                try h == p.base?.hash ? self.bases.get(h, reader.block) : reader.block(h)
            }, intermediate: { hash, rebuild in
                try self.levelOne(hash, over: p.base!.hash, rebuild)
            }).whole
        }
        guard p.delta, p.level1 == nil, let base = p.base, let whole = p.whole, reader.manifest.formatVersion >= 4 else {
            return try rebuild()
        }
        return try levelOne(whole, over: base.hash, rebuild)
    }

    /// The part `hash` that a level-1 delta over `base` rebuilds, kept in place of the one
    /// kept before over the same base.
    private func levelOne(_ hash: Digest, over base: Digest, _ rebuild: () throws -> [UInt8]) throws -> [UInt8] {
        try bases.get(hash) { _ in
            let bytes = try rebuild()
            let replaced: Digest? = lock.withLock {
                // A bound on the names of parts kept (the memo bounds their bytes).
                if levelOnes.count >= Search.levelOnesLimit { levelOnes.removeAll() }
                return levelOnes.updateValue(hash, forKey: base)
            }
            if let replaced, replaced != hash { bases.remove(replaced) }
            return bytes
        }
    }

    func run(in point: PointRecord, reader: CatalogReader, _ body: (FindHit) throws -> Void) throws {
        let chunks = reader.manifest.chunks
        guard let helper, chunks.count > 1 else {
            for chunk in chunks { for hit in try hits(in: chunk, of: point, reader, thread: 0) { try body(hit) } }
            return
        }
        let ahead = ChunkLookahead<Result<[FindHit], Error>>(count: chunks.count, limit: Search.lookahead)
        helper.submit { [self] in
            while let i = ahead.claim() {
                ahead.finish(i, Result { try hits(in: chunks[i], of: point, reader, thread: 1) })
            }
        }
        defer {
            ahead.stop()
            helper.waitIdle()
        }
        for i in chunks.indices {
            let found = try ahead.take(i)?.get() ?? hits(in: chunks[i], of: point, reader, thread: 0)
            for hit in found { try body(hit) }
        }
    }

    /// The hits of one chunk of a point.
    private func hits(in chunk: ChunkRef, of point: PointRecord, _ reader: CatalogReader, thread: Int) throws -> [FindHit] {
        // The manifest reader lets only chunks of three parts through. A names delta is
        // known by the part it rebuilds: the same delta over another base is other names.
        let namesPart = chunk.parts[0]
        let namesBlock = namesPart.whole ?? namesPart.block.hash
        guard namesPart.base == nil || namesPart.delta else {
            throw SnapdexError.blockDamaged(hash: namesPart.block.hash.hex, reason: "names part cannot be a patch")
        }
        let (known, filter) = lock.withLock {
            seen.insert(namesBlock)
            return (nameHits[namesBlock], filters[namesBlock])
        }
        var names: (count: Int, hits: [NameHit])
        if let known {
            names = known
        } else {
            if let probe, let filter, !probe.mayMatch(filter) {
                names = (chunk.entries, [])
            } else {
                names = try scan(namesPart, as: namesBlock, entries: chunk.entries, reader, thread: thread)
            }
            lock.withLock { nameHits[namesBlock] = names }
        }
        guard !names.hits.isEmpty else { return [] }
        // The names were matched for another point's chunk: this manifest must agree on
        // how many entries the block holds, or its content columns do not line up.
        guard names.count == chunk.entries else {
            throw SnapdexError.blockDamaged(hash: namesPart.block.hash.hex, reason: "holds \(names.count) entries, manifest says \(chunk.entries)")
        }
        let content = chunk.parts[1]
        let wanted = names.hits.map(\.flat)
        // A delta rebuilds a whole part (known by its hash); a patch applies to the values of
        // its base's.
        let key = BaseKey(content: content.delta ? (content.whole ?? content.block.hash) : content.root.hash,
                          names: namesBlock, entries: chunk.entries)
        var values: ChunkCodec.ContentValues
        do {
            if let known = lock.withLock({ baseValues[key] }) {
                values = known
            } else {
                let whole = content.delta
                    ? try part(content, entries: chunk.entries, reader)
                    : try bases.get(content.root.hash, reader.block)
                values = try ChunkCodec.contentValues(whole, count: chunk.entries, at: wanted)
                lock.withLock { baseValues[key] = values }
            }
            if content.base != nil && !content.delta {
                try ChunkCodec.applyContent(try reader.block(content.block.hash), count: chunk.entries, at: wanted, to: &values)
            }
        } catch let d as ChunkCodec.Damaged {
            throw SnapdexError.blockDamaged(hash: (d.block ?? content.block.hash).hex, reason: d.reason)
        }
        var found: [FindHit] = []
        for (h, v) in zip(names.hits, values) {
            var e = h.entry
            e.size = v.size
            // A catalog older than format 3 holds a far time as a bound (FORMAT.md, "Times").
            e.mtime = reader.endsAreBounds ? v.mtime.inOlderCatalog : v.mtime
            e.hash = v.hash
            if query.matchesContent(e) { found.append(FindHit(point: point, path: PathBytes.join(h.dir, e.name), entry: e)) }
        }
        return found
    }
}
