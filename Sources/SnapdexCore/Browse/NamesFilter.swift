/// What a names block holds, in about two bytes per entry: enough to tell, without reading
/// the block, that a name `find` looks for cannot be in it. Two Bloom filters, both over ASCII
/// lower case: one of each name whole (for a glob that is a plain name), one of every three
/// bytes in a row of each entry's `/DIR/NAME` (for a glob's literal). They answer "maybe" or
/// "no", and a "no" is never wrong for the block they were built from.
///
/// A cache, not part of the repository format: built from a block's verified bytes while
/// `find` scans it, kept in `REPO/names-filters` by block hash (a block's bytes never change
/// under its hash, so a filter never goes stale), and rebuilt whenever that file is missing,
/// damaged or of another version (docs/FORMAT.md, "Names filters").
struct NamesFilter: Equatable {
    /// Bit words; each filter's size in bits is a power of two.
    var names: [UInt64]
    var trigrams: [UInt64]

    func mayHoldName(_ hash: UInt64) -> Bool { NamesFilter.test(names, hash) }

    /// Whether every three bytes in a row of `literal` (ASCII lower case, at least three
    /// bytes) may be in the block.
    func mayHold(literal: [UInt8]) -> Bool {
        guard literal.count >= 3 else { return true }
        for i in 0...(literal.count - 3) where !NamesFilter.test(trigrams, NamesFilter.mix(NamesFilter.trigram(literal[i], literal[i + 1], literal[i + 2]))) {
            return false
        }
        return true
    }

    // MARK: Hashing (changing any of it needs a new `NamesFilterFile.version`)

    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

    @inline(__always) static func trigram(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt64 {
        UInt64(lower(a)) << 16 | UInt64(lower(b)) << 8 | UInt64(lower(c))
    }

    /// The hash of a name, in ASCII lower case (FNV-1a, then mixed).
    static func nameHash<C: Collection>(_ name: C) -> UInt64 where C.Element == UInt8 {
        var h: UInt64 = 0xcbf29ce484222325
        for b in name { h = (h ^ UInt64(lower(b))) &* 0x100000001b3 }
        return mix(h)
    }

    /// splitmix64's finaliser: every input bit reaches both halves, which pick the two bits.
    @inline(__always) static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9e3779b97f4a7c15
        z = (z ^ (z >> 30)) &* 0xbf58476d1ce4e5b9
        z = (z ^ (z >> 27)) &* 0x94d049bb133111eb
        return z ^ (z >> 31)
    }

    @inline(__always) static func test(_ words: [UInt64], _ h: UInt64) -> Bool {
        let mask = UInt64(words.count * 64 - 1)
        let a = h & mask, b = (h >> 32) & mask
        return words[Int(a >> 6)] & (1 << (a & 63)) != 0 && words[Int(b >> 6)] & (1 << (b & 63)) != 0
    }

    @inline(__always) static func set(_ words: inout [UInt64], _ h: UInt64) {
        let mask = UInt64(words.count * 64 - 1)
        let a = h & mask, b = (h >> 32) & mask
        words[Int(a >> 6)] |= 1 << (a & 63)
        words[Int(b >> 6)] |= 1 << (b & 63)
    }

    /// Words for `n` keys: at least 8 bits a key (two probes: about 5% false "maybe"s), a
    /// power of two in all.
    static func words(for n: Int) -> Int {
        var bits = 64
        while bits < n * 8 { bits <<= 1 }
        return bits / 64
    }
}

/// Builds a `NamesFilter` from the entries of one names block as a `NamesScan` steps through
/// them (`add` at each entry, then `finish`).
final class NamesFilterBuilder {
    /// One bit per possible trigram (2^24), to count distinct ones without a set.
    private var seen: [UInt64] = Array(repeating: 0, count: 1 << 18)
    private var distinct: [UInt32] = []
    private var names: [UInt64] = []

    func add(_ scan: NamesScan) {
        let path = scan.displayPath
        if scan.startsRun { addTrigrams(path, from: 0, to: scan.nameStart) }
        addTrigrams(path, from: max(0, scan.nameStart - 2), to: scan.pathEnd)
        if scan.pathEnd > scan.nameStart { names.append(NamesFilter.nameHash(scan.name)) }
    }

    private func addTrigrams(_ p: UnsafeBufferPointer<UInt8>, from: Int, to: Int) {
        guard to - from >= 3 else { return }
        for i in from...(to - 3) {
            let t = NamesFilter.trigram(p[i], p[i + 1], p[i + 2])
            let w = Int(t >> 6), bit: UInt64 = 1 << (t & 63)
            if seen[w] & bit == 0 {
                seen[w] |= bit
                distinct.append(UInt32(t))
            }
        }
    }

    func finish() -> NamesFilter {
        var f = NamesFilter(names: Array(repeating: 0, count: NamesFilter.words(for: names.count)),
                            trigrams: Array(repeating: 0, count: NamesFilter.words(for: distinct.count)))
        for h in names { NamesFilter.set(&f.names, h) }
        for t in distinct {
            NamesFilter.set(&f.trigrams, NamesFilter.mix(UInt64(t)))
            seen[Int(t >> 6)] = 0
        }
        names.removeAll(keepingCapacity: true)
        distinct.removeAll(keepingCapacity: true)
        return f
    }
}

/// What of a query a `NamesFilter` can rule out.
struct NamesFilterProbe {
    /// The hash of the name a glob without wildcards matches.
    var nameHash: UInt64?
    /// A literal every match holds, ASCII lower case, three bytes or more.
    var literal: [UInt8]

    /// Nil when the filters cannot help (a regular expression, a glob without a literal of
    /// three bytes).
    init?(_ query: FindQuery, literal: [UInt8]) {
        guard case .glob(let g, let path) = query.pattern else { return nil }
        let bytes = PathString.bytes(g)
        let plain = !bytes.contains { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "\\") }
        // With -i, a plain name holding i, k or a non-ASCII byte may match names whose ASCII
        // lower case differs (a UTF-8 locale folds U+0130 to i, U+212A to k).
        let foldsSafely = !query.ignoreCase || !bytes.contains { $0 >= 0x80 || NamesFilter.lower($0) == UInt8(ascii: "i") || NamesFilter.lower($0) == UInt8(ascii: "k") }
        nameHash = plain && !path && !bytes.isEmpty && foldsSafely ? NamesFilter.nameHash(bytes) : nil
        self.literal = literal.map(NamesFilter.lower)
        if nameHash == nil && self.literal.count < 3 { return nil }
    }

    func mayMatch(_ f: NamesFilter) -> Bool {
        if let nameHash, !f.mayHoldName(nameHash) { return false }
        return f.mayHold(literal: literal)
    }
}
