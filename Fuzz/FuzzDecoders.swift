/// libFuzzer entry point for the catalog decoders: whatever the bytes, a decoder returns or
/// throws, never traps. The first input byte picks the target:
///
/// - even: a manifest body, sealed here with its SHA-256 so the fuzzer explores the fields
///   rather than the checksum;
/// - 1 modulo 4: five length-prefixed strings (names, content, state, content patch, state
///   patch) decoded as a chunk, its content decoded alone, and its names checked as `verify`
///   does; `find`'s in-place readers (`NamesScan`, `contentValues`) must agree with those
///   decoders;
/// - 3 modulo 4: two length-prefixed strings (a delta part, its base) applied, the result
///   decoded as a names part; and the base and the delta's bytes taken as a base and a target
///   for a new delta, which must rebuild that target; then a third (a level-2 delta) applied
///   to the first's result as a level-2 part is, through `CatalogReader.part`, whose answer
///   must agree.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecoders(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    guard let selector = input.first else { return 0 }
    let rest = Array(input.dropFirst())
    if selector % 2 == 0 {
        let sealed = rest + Digest.of(rest).bytes
        if let m = try? Manifest.decode(sealed, path: "fuzz") {
            _ = m.pointTime.rfc3339(fraction: true)
            _ = m.indexedAt.compact()
            _ = m.retainUntil?.rfc3339()
            _ = m.blockHashes.count
            _ = Manifest.decode(m.encode())  // what decodes also encodes and decodes again
        }
    } else if selector % 4 == 3 {
        var r = ByteReader(rest)
        let delta = (try? r.string()) ?? []
        let base = (try? r.string()) ?? []
        let level2 = (try? r.string()) ?? []
        if let rebuilt = try? PartDelta.apply(delta, base: base, entries: nil) {
            _ = try? ChunkCodec.decode(names: rebuilt, content: nil, state: nil)
            let top = try? PartDelta.apply(level2, base: rebuilt, entries: nil)
            if let top { _ = try? ChunkCodec.decode(names: top, content: nil, state: nil) }
            // The reader's level-2 path, over blocks named by their hashes.
            func ref(_ raw: [UInt8]) -> BlockRef { BlockRef(hash: Digest.of(raw), rawSize: raw.count, storedSize: raw.count) }
            var blocks: [Digest: [UInt8]] = [:]
            for b in [base, delta, level2] { blocks[Digest.of(b)] = b }
            let part = PartRef(block: ref(level2), base: ref(base), whole: top.map { Digest.of($0) } ?? Digest.of(base),
                               delta: true, level1: ref(delta), intermediate: Digest.of(rebuilt))
            let entries = (try? ChunkCodec.columns(level2, kind: .delta, expected: nil))?.0 ?? 0
            let read = try? CatalogReader.part(part, entries: entries) { h in
                guard let b = blocks[h] else { throw ChunkCodec.Damaged(reason: "no such block") }
                return b
            }
            if let read, read.whole != top { fatalError("a level-2 part reads other bytes than its deltas rebuild") }
        }
        if let made = PartDelta.make(base: base, target: delta, entries: 7) {
            // A delta the writer makes must rebuild its target: anything else is a bug, so it traps.
            guard (try? PartDelta.apply(made, base: base, entries: 7)) == delta else { fatalError("delta does not rebuild its target") }
        }
    } else {
        var r = ByteReader(rest)
        var parts: [[UInt8]?] = []
        for _ in 0..<5 { parts.append(try? r.string()) }
        let names = parts[0] ?? []
        if let groups = try? ChunkCodec.decode(names: names, content: parts[1], state: parts[2],
                                               contentPatch: parts[1] == nil ? nil : parts[3],
                                               statePatch: parts[2] == nil ? nil : parts[4]) {
            var check = CatalogCheck()
            _ = check.check(groups)
            // What decodes also encodes and decodes to the same entries (exact times included).
            let again = ChunkCodec.encode(groups)
            guard (try? ChunkCodec.decode(names: again[0], content: again[1], state: again[2]))?.map(\.entries) == groups.map(\.entries) else {
                fatalError("a decoded chunk does not encode and decode to itself")
            }
            let count = groups.reduce(0) { $0 + $1.entries.count }
            if let content = parts[1] { _ = try? ChunkCodec.decodeContent(content, patch: parts[3], count: count) }
        }
        agreeOnNames(names)
        if let content = parts[1] {
            let count = Int(selector)
            let full = try? ChunkCodec.decodeContent(content, patch: parts[3], count: count)
            let some = try? ChunkCodec.contentValues(content, patch: parts[3], count: count, at: Array(stride(from: 0, to: count, by: 3)))
            if (full == nil) != (some == nil) { fatalError("contentValues and decodeContent disagree on whether the part is damaged") }
            if let full, let some {
                for (k, i) in stride(from: 0, to: count, by: 3).enumerated()
                where some[k].size != full.sizes[i] || some[k].mtime != full.mtimes[i] || some[k].hash != full.hashes[i] {
                    fatalError("contentValues and decodeContent disagree on entry \(i)")
                }
            }
        }
        if let content = parts[1] { _ = try? ChunkCodec.decodeContent(content, patch: parts[3], count: Int(selector)) }
    }
    return 0
}

/// `NamesScan` accepts exactly the names parts `ChunkCodec.decode` accepts, with the same entries.
func agreeOnNames(_ names: [UInt8]) {
    let groups = try? ChunkCodec.decode(names: names, content: nil, state: nil)
    var scanned: [(dir: [UInt8], entry: FileEntry)]? = []
    do {
        let scan = try NamesScan(names)
        while try scan.next() { scanned?.append((scan.directory, scan.entry)) }
    } catch {
        scanned = nil
    }
    if (groups == nil) != (scanned == nil) { fatalError("NamesScan and decode disagree on whether the part is damaged") }
    guard let groups, let scanned else { return }
    let flat = groups.flatMap { g in g.entries.map { (dir: g.path, entry: $0) } }
    if flat.count != scanned.count || zip(flat, scanned).contains(where: { $0.dir != $1.dir || $0.entry != $1.entry }) {
        fatalError("NamesScan and decode disagree on the entries")
    }
}

extension Manifest {
    /// Decodes what `encode` wrote; a failure here is a round-trip bug, so it traps.
    static func decode(_ bytes: [UInt8]) -> Manifest {
        do { return try Manifest.decode(bytes, path: "round trip") } catch { fatalError("re-encoded manifest does not decode: \(error)") }
    }
}
