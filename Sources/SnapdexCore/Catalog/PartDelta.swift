/// A part stored as edits of an earlier whole part of the same kind (its base): runs of bytes
/// copied from the base and runs of new bytes in between. Layout in docs/FORMAT.md, "Part 4:
/// delta".
///
/// It works on a part's uncompressed bytes, not on its entries: columns are delta- and
/// front-coded, so an entry added, removed or rewritten changes only a few bytes in each
/// column, and everything around them is a copy. The same code so serves names, content and
/// state parts, and a reader checks the rebuilt part against the SHA-256 the manifest records
/// for it before decoding anything.
public enum PartDelta {
    /// The shortest run worth a copy: its instruction costs about four bytes.
    static let minimumMatch = 8
    /// A delta is written only while it is at most this fraction of its part's bytes; past
    /// that the part is stored whole and becomes the base of the next points' deltas.
    static let limitDivisor = 4
    /// The same for a state part: a half. In a hard-link tree every ctime changes every day,
    /// so a state delta is mostly new ctimes whatever its base, and what it copies (the
    /// inodes of unchanged files, link counts, directory totals) a whole part would send
    /// again. On churn-bench's 30-point scattered chain (50,000 entries) state parts cost,
    /// per point, 12.9% of the first point with a quarter and 10.2% with a half; re-encoding
    /// the chain's parts gave 12.6% for two fifths and 13.1% for three quarters (a delta
    /// that is rebased less often carries more of the past every day).
    static let stateLimitDivisor = 2
    /// No part is larger (a block above it is damage, as in the block store).
    static let maxPartSize = 256 << 20
    /// Where a copy is looked for before the hash table: the base offset that continues the
    /// previous copy, then offsets up to 16 bytes either side of it. An entry added or removed
    /// shifts the rest of each column by a few bytes, and in a column of repeated values
    /// (types, modes, owners) the table's first occurrence of a string is almost never the
    /// place: jumping there made the instructions of day-to-day names deltas 2.4 times as
    /// long on churn-bench's scattered chain, and its names deltas 15% larger.
    static let nearby: [Int] = [0] + (1...16).flatMap { [$0, -$0] }

    /// The most bytes of instructions and literals a delta of `target` may hold: a quarter of
    /// it (a half for a state part).
    public static func limit(for target: [UInt8]) -> Int {
        target.count / (target.first == PartKind.state.rawValue ? stateLimitDivisor : limitDivisor)
    }

    /// The delta part (kind 4) that turns `base` into `target`, or nil when its instructions
    /// and literals would pass `limit` (by default `limit(for: target)`). `entries` is the
    /// chunk's entry count, written in its header.
    public static func make(base: [UInt8], target: [UInt8], entries: Int, limit: Int? = nil) -> [UInt8]? {
        let limit = limit ?? self.limit(for: target)
        var ops = ByteWriter(), literals = ByteWriter()
        let n = target.count
        let m = base.count
        let k = minimumMatch
        let table = BaseIndex(base, width: k)
        var i = 0                // next target byte not yet emitted or matched
        var pending = 0          // start of the literal run not yet emitted
        var expected = 0         // base offset just after the last copy
        func emit(literalEnd: Int, copyStart: Int, copyLength: Int) {
            ops.varint(literalEnd - pending)
            literals.raw(target[pending..<literalEnd])
            ops.varint(copyLength)
            if copyLength > 0 {
                ops.zigzag(Int64(copyStart - expected))
                expected = copyStart + copyLength
            }
        }
        while i + k <= n {
            // The same place in the base first (a value replaced by one as long), then near it
            // (entries added or removed), then anywhere.
            var start = -1
            let aligned = expected + (i - pending)
            for d in nearby {
                let at = aligned + d
                if at >= 0, at + k <= m, equal(base, at, target, i, k) {
                    start = at
                    break
                }
            }
            if start < 0, let c = table.lookup(target, i), equal(base, c, target, i, k) {
                start = c
            }
            guard start >= 0 else {
                i += 1
                continue
            }
            var from = i, at = start
            while from > pending, at > 0, base[at - 1] == target[from - 1] {
                from -= 1
                at -= 1
            }
            var end = i + k, baseEnd = start + k
            while end < n, baseEnd < m, base[baseEnd] == target[end] {
                end += 1
                baseEnd += 1
            }
            emit(literalEnd: from, copyStart: at, copyLength: end - from)
            i = end
            pending = end
            if ops.bytes.count + literals.bytes.count > limit { return nil }
        }
        if pending < n { emit(literalEnd: n, copyStart: 0, copyLength: 0) }
        guard ops.bytes.count + literals.bytes.count <= limit else { return nil }
        var w = ByteWriter(capacity: ops.bytes.count + literals.bytes.count + 16)
        w.byte(PartKind.delta.rawValue)
        w.varint(entries)
        w.varint(2)
        w.string(ops.bytes)
        w.string(literals.bytes)
        return w.bytes
    }

    /// Rebuilds the part a delta stands for (of `entries` entries, when given). Anything out of
    /// range is damage, never a trap; the caller checks the result against the part's
    /// recorded SHA-256.
    public static func apply(_ delta: [UInt8], base: [UInt8], entries: Int?) throws -> [UInt8] {
        let (_, cols) = try ChunkCodec.columns(delta, kind: .delta, expected: entries)
        guard cols.count >= 2 else { throw ChunkCodec.Damaged(reason: "delta has \(cols.count) columns, expected 2") }
        var ops = cols[0], literals = cols[1]
        var out: [UInt8] = []
        // A delta rebuilds about its base's size (every point's `find` rebuilds one per chunk
        // with a hit): one allocation, and copies straight from the base's buffer.
        out.reserveCapacity(min(base.count + literals.remaining, maxPartSize))
        var expected = 0
        do {
            try base.withUnsafeBufferPointer { from in
                while !ops.isAtEnd {
                    let l = try ops.count(limit: literals.remaining)
                    out.append(contentsOf: try literals.raw(l))
                    let c = try ops.count(limit: from.count)
                    guard c > 0 else { continue }
                    let offset = try ops.zigzag()
                    // Offsets beyond any part's size are damage; checked before adding.
                    guard offset > -Int64(Int32.max), offset < Int64(Int32.max) else { throw ChunkCodec.Damaged(reason: "delta copies from outside its base") }
                    let start = expected + Int(offset)
                    guard start >= 0, start <= from.count - c else { throw ChunkCodec.Damaged(reason: "delta copies from outside its base") }
                    guard out.count <= maxPartSize - c else { throw ChunkCodec.Damaged(reason: "delta rebuilds a part too large") }
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: from[start..<(start + c)]))
                    expected = start + c
                }
            }
        } catch is ByteReader.Truncated {
            throw ChunkCodec.Damaged(reason: "truncated delta")
        }
        guard literals.isAtEnd else { throw ChunkCodec.Damaged(reason: "delta has unused bytes") }
        return out
    }

    @inline(__always)
    private static func equal(_ a: [UInt8], _ i: Int, _ b: [UInt8], _ j: Int, _ k: Int) -> Bool {
        for d in 0..<k where a[i + d] != b[j + d] { return false }
        return true
    }
}

/// Where each `width`-byte string of a base first occurs, by a hash of its bytes: an
/// open-addressed table of offsets (later duplicates are dropped; a miss costs only a literal).
struct BaseIndex {
    private var slots: [Int32]
    private let shift: UInt64
    private let width: Int
    private let base: [UInt8]

    init(_ base: [UInt8], width: Int) {
        self.base = base
        self.width = width
        var bits = 10
        while (1 << bits) < base.count * 2 { bits += 1 }
        shift = UInt64(64 - bits)
        slots = [Int32](repeating: -1, count: 1 << bits)
        guard base.count >= width else { return }
        for p in 0...(base.count - width) {
            let h = Int(BaseIndex.hash(base, p, width) >> shift)
            if slots[h] < 0 { slots[h] = Int32(p) }
        }
    }

    func lookup(_ bytes: [UInt8], _ p: Int) -> Int? {
        let s = slots[Int(BaseIndex.hash(bytes, p, width) >> shift)]
        return s < 0 ? nil : Int(s)
    }

    @inline(__always)
    static func hash(_ bytes: [UInt8], _ p: Int, _ width: Int) -> UInt64 {
        var v: UInt64 = 0
        for d in 0..<width { v = (v << 8) | UInt64(bytes[p + d]) }
        return v &* 0x9E37_79B9_7F4A_7C15
    }
}
