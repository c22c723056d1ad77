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
    public var newer: Timestamp?
    public var older: Timestamp?
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
            let r = try Regex(text)
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
        if let newer, e.mtime <= FileTime(newer) { return false }
        if let older, e.mtime >= FileTime(older) { return false }
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
    /// names block, however many points share it; for the chunks holding a name that matched,
    /// only the content part is read (its base blocks, which points share, are kept decompressed
    /// in a small cache). Memory stays flat in the number of points.
    ///
    /// A point expired or forgotten while it is searched is skipped, not reported as damage:
    /// returns the ids of those points (their hits found before it went may have been given).
    @discardableResult
    public func find(_ query: FindQuery, in points: [PointRecord], _ body: (FindHit) throws -> Void) throws -> [String] {
        var nameHits: [Digest: (count: Int, hits: [(flat: Int, dir: [UInt8], entry: FileEntry)])] = [:]
        // Whole content blocks are what points share (patches are each point's own); enough
        // of them are kept to cover a large catalog's chunks from one point to the next.
        var baseCache: [Digest: [UInt8]] = [:]
        var baseOrder: [Digest] = []
        func base(_ h: Digest, _ reader: CatalogReader) throws -> [UInt8] {
            if let r = baseCache[h] { return r }
            let r = try reader.block(h)
            baseCache[h] = r
            baseOrder.append(h)
            if baseOrder.count > 1024 { baseCache[baseOrder.removeFirst()] = nil }
            return r
        }
        var skipped: [String] = []
        for point in points {
            do {
                try find(query, in: point, nameHits: &nameHits, base: base, body)
            } catch SnapdexError.pointExpired(let id) {
                skipped.append(id)
            }
        }
        return skipped
    }

    private func find(_ query: FindQuery, in point: PointRecord,
                      nameHits: inout [Digest: (count: Int, hits: [(flat: Int, dir: [UInt8], entry: FileEntry)])],
                      base: (Digest, CatalogReader) throws -> [UInt8], _ body: (FindHit) throws -> Void) throws {
        let reader = try self.reader(for: point, cache: ChunkCache(limit: 1))
        for (i, chunk) in reader.manifest.chunks.enumerated() {
            // A names delta is known by the part it rebuilds: the same delta over another
            // base would be other names.
            let namesBlock = chunk.parts[0].whole ?? chunk.parts[0].block.hash
            if nameHits[namesBlock] == nil {
                var flat = 0
                var hits: [(flat: Int, dir: [UInt8], entry: FileEntry)] = []
                for g in try reader.chunk(i, level: .names) {
                    for e in g.entries {
                        if query.matchesName(dir: g.path, e) { hits.append((flat, g.path, e)) }
                        flat += 1
                    }
                }
                nameHits[namesBlock] = (flat, hits)
            }
            guard let names = nameHits[namesBlock], !names.hits.isEmpty else { continue }
            // The names were matched for another point's chunk: this manifest must agree on
            // how many entries the block holds, or its content columns do not line up.
            guard names.count == chunk.entries else {
                throw SnapdexError.blockDamaged(hash: chunk.parts[0].block.hash.hex, reason: "holds \(names.count) entries, manifest says \(chunk.entries)")
            }
            let content = chunk.parts[1]
            let values: ChunkCodec.ContentColumns
            do {
                let part = try CatalogReader.part(content, entries: chunk.entries) { h in
                    h == content.root.hash ? try base(h, reader) : try reader.block(h)
                }
                values = try ChunkCodec.decodeContent(part.whole, patch: part.patch, count: chunk.entries)
            } catch let d as ChunkCodec.Damaged {
                throw SnapdexError.blockDamaged(hash: (d.block ?? content.block.hash).hex, reason: d.reason)
            }
            for h in names.hits {
                guard h.flat < values.sizes.count, h.flat < values.mtimes.count, h.flat < values.hashes.count else {
                    throw SnapdexError.blockDamaged(hash: content.block.hash.hex, reason: "holds fewer entries than its names block")
                }
                var e = h.entry
                e.size = values.sizes[h.flat]
                e.mtime = reader.endsAreBounds ? values.mtimes[h.flat].inOlderCatalog : values.mtimes[h.flat]
                e.hash = values.hashes[h.flat]
                if query.matchesContent(e) { try body(FindHit(point: point, path: PathBytes.join(h.dir, e.name), entry: e)) }
            }
        }
    }
}
