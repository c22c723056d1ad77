/// `REPO/names-filters`: the `NamesFilter` of each names block `find` has scanned, by block
/// hash (docs/FORMAT.md, "Names filters"). A cache: whatever does not read back exactly (no
/// file, another version, a checksum that does not match) counts as no filters, and the next
/// `find` that scans blocks writes the file anew (temp file and rename; a run that cannot
/// write, on read-only media, just keeps its filters in memory).
enum NamesFilterFile {
    static let magic = Array("SDXNAMEF".utf8)
    /// Raised whenever what a filter holds or how it hashes changes.
    static let version: UInt8 = 1

    static func path(in root: String) -> String { root + "/names-filters" }

    static func load(_ path: String) throws -> [Digest: NamesFilter] {
        guard let bytes = try FileIO.readIfReadable(path) else { return [:] }
        return (try? decode(bytes)) ?? [:]
    }

    /// Writes `filters`, leaving out those of blocks `keep` says are gone.
    static func save(_ filters: [Digest: NamesFilter], to path: String, keep: (Digest) -> Bool) {
        let kept = filters.filter { keep($0.key) }
        try? FileIO.writeAtomically(path, encode(kept), durable: false)
    }

    static func encode(_ filters: [Digest: NamesFilter]) -> [UInt8] {
        var w = ByteWriter()
        w.raw(magic)
        w.byte(version)
        w.varint(filters.count)
        for (hash, f) in filters.sorted(by: { $0.key < $1.key }) {
            w.raw(hash.bytes)
            for words in [f.names, f.trigrams] {
                w.varint(words.count)
                for x in words { w.int64LE(Int64(bitPattern: x)) }
            }
        }
        w.raw(Digest.of(w.bytes).bytes)
        return w.bytes
    }

    struct Unreadable: Error {}

    static func decode(_ bytes: [UInt8]) throws -> [Digest: NamesFilter] {
        guard bytes.count >= magic.count + 1 + Digest.byteCount,
              Array(bytes[0..<magic.count]) == magic, bytes[magic.count] == version,
              Digest.of(bytes[..<(bytes.count - Digest.byteCount)]).bytes == Array(bytes[(bytes.count - Digest.byteCount)...])
        else { throw Unreadable() }
        var r = ByteReader(bytes, offset: magic.count + 1, end: bytes.count - Digest.byteCount)
        var out: [Digest: NamesFilter] = [:]
        let n = try r.count(limit: r.remaining)
        for _ in 0..<n {
            guard let hash = Digest(bytes: Array(try r.raw(Digest.byteCount))) else { throw Unreadable() }
            var parts: [[UInt64]] = []
            for _ in 0..<2 {
                let count = try r.count(limit: r.remaining / 8)
                // Sizes are powers of two: the probes mask with them.
                guard count > 0, count & (count - 1) == 0 else { throw Unreadable() }
                var words: [UInt64] = []
                words.reserveCapacity(count)
                for _ in 0..<count { words.append(UInt64(bitPattern: try r.int64LE())) }
                parts.append(words)
            }
            out[hash] = NamesFilter(names: parts[0], trigrams: parts[1])
        }
        guard r.isAtEnd else { throw Unreadable() }
        return out
    }
}

extension NamesFilterFile {
    /// The filters of `path` that do not match the names part they are kept for, rebuilt
    /// from the blocks (`part` gives a names block's whole bytes, nil when it cannot be read:
    /// that is verify's to report). A file any writer of the repository could forge, so
    /// verify checks it rather than trusting its checksum: a wrong filter hides hits.
    static func wrongFilters(at path: String, part: (Digest) -> [UInt8]?) -> Int {
        let builder = NamesFilterBuilder()
        var wrong = 0
        // One that is not a regular file is reported by verify as such (irregularFiles).
        for (block, kept) in (try? load(path)) ?? [:] {
            guard let bytes = part(block), let scan = try? NamesScan(bytes) else { continue }
            do {
                while try scan.next() { builder.add(scan) }
            } catch {
                _ = builder.finish()
                continue
            }
            if builder.finish() != kept { wrong += 1 }
        }
        return wrong
    }
}
