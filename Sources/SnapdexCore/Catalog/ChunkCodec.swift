/// The three parts of a chunk. The raw value is the first byte of the part's uncompressed
/// bytes and of its block file header: never change them.
///
/// Fields are split by how they change between snapshots, so that what did not change can be
/// shared: names and permissions almost never change; sizes, mtimes and hashes change when a
/// file is written; ctime, inode, link count and directory totals churn in hard-link trees
/// (rsnapshot, `cp -al`) even when nothing was written.
public enum PartKind: UInt8, CaseIterable, Sendable {
    case names = 0
    case content = 1
    case state = 2
    /// A patch of a content or state part: new values for the entries that changed (written
    /// before format 3, still read).
    case patch = 3
    /// Any part as edits of an earlier whole part's bytes (`PartDelta`, format 3).
    case delta = 4
}

/// Encodes a chunk (a run of catalog entries, grouped by directory) into its three parts and
/// back. Each part is a kind byte, an entry count and a sequence of length-prefixed columns.
/// The byte layout is specified in docs/FORMAT.md.
public enum ChunkCodec {
    public struct Damaged: Error, CustomStringConvertible {
        public let reason: String
        /// The block at fault when it is not the chunk's names block (a delta that does not
        /// rebuild its part).
        public var block: Digest?
        public var description: String { reason }
        public init(reason: String, block: Digest? = nil) {
            self.reason = reason
            self.block = block
        }
    }

    // MARK: Encoding

    public static func encode(_ runs: [DirectoryGroup]) -> [[UInt8]] {
        let count = runs.reduce(0) { $0 + $1.entries.count }
        var runCol = ByteWriter(), types = ByteWriter(capacity: count), names = ByteWriter(), modes = ByteWriter()
        var uids = ByteWriter(), gids = ByteWriter(), targets = ByteWriter(), devices = ByteWriter()
        var sizes = ByteWriter(), mtimes = ByteWriter(), hashFlags = ByteWriter(capacity: count), hashes = ByteWriter()
        var inodes = ByteWriter(), nlinks = ByteWriter(), trees = ByteWriter()
        var mtimeExceptions = TimeExceptions.Writer(), ctimeExceptions = TimeExceptions.Writer()

        var prevDir: [UInt8] = []
        var index = 0
        var prevMtime: Int64 = 0
        var prevInode: Int64 = 0
        // Inodes also as two sequences, directories and other entries apart (format 4): a
        // hard-link copy gives every directory a new inode and keeps every file's.
        var splitInodes = ByteWriter()
        var prevDirInode: Int64 = 0, prevOtherInode: Int64 = 0
        for run in runs {
            let shared = commonPrefix(prevDir, run.path)
            runCol.varint(shared)
            runCol.string(run.path[shared...])
            runCol.varint(run.entries.count)
            prevDir = run.path
            var prevName: [UInt8] = []
            for e in run.entries {
                types.byte(e.type.rawValue)
                let s = commonPrefix(prevName, e.name)
                names.varint(s)
                names.string(e.name[s...])
                prevName = e.name
                modes.varint(UInt64(e.permissions))
                uids.varint(UInt64(e.uid))
                gids.varint(UInt64(e.gid))
                if e.type == .symlink { targets.string(e.target) }
                if e.type == .charDevice || e.type == .blockDevice { devices.varint(e.device) }

                sizes.varint(e.size)
                let mtime = e.mtime.storedNanoseconds
                mtimes.zigzag(mtime &- prevMtime)
                prevMtime = mtime
                mtimeExceptions.note(index, e.mtime)
                ctimeExceptions.note(index, e.ctime)
                index += 1
                if let h = e.hash {
                    hashFlags.byte(1)
                    hashes.raw(h.bytes)
                } else {
                    hashFlags.byte(0)
                }

                let ino = Int64(bitPattern: e.inode)
                inodes.zigzag(ino &- prevInode)
                prevInode = ino
                if e.type == .directory {
                    splitInodes.zigzag(ino &- prevDirInode)
                    prevDirInode = ino
                } else {
                    splitInodes.zigzag(ino &- prevOtherInode)
                    prevOtherInode = ino
                }
                nlinks.varint(e.nlink)
                if e.type == .directory {
                    trees.varint(e.children)
                    trees.varint(e.treeFiles)
                    trees.varint(e.treeBytes)
                }
            }
        }
        var ctimes = encodeCtimes(runs)
        // The split is taken when it saves an eighth (so the parts of ordinary trees keep the
        // format 3 layout, which format 3 readers read); its bit rides on the layout byte.
        if splitInodes.bytes.count < inodes.bytes.count - inodes.bytes.count / 8 {
            ctimes.bytes[0] |= StateLayout.splitInodes
            inodes = splitInodes
        }
        // The exceptions column is there only when some time needs it, so that the parts of
        // every ordinary tree are byte for byte what format 2 wrote (and share its blocks).
        return [
            part(.names, count, [runCol, types, names, modes, uids, gids, targets, devices]),
            part(.content, count, [sizes, mtimes, hashFlags, hashes] + mtimeExceptions.column),
            part(.state, count, [ctimes, inodes, nlinks, trees] + ctimeExceptions.column),
        ]
    }

    /// The first byte of a state part's ctimes column (docs/FORMAT.md, "Part 2: state"): the
    /// ctime predictor in its low two bits, and whether inodes are split by type.
    enum StateLayout {
        static let fromMtime: UInt8 = 0
        static let fromPrevious: UInt8 = 1
        /// Format 4: a table of the chunk's distinct ctimes and an index per entry.
        static let table: UInt8 = 2
        /// Format 4: inodes of directories and of other entries as two delta sequences.
        static let splitInodes: UInt8 = 4
        /// Whether a part with this layout byte needs a format 4 reader.
        static func needsFormat4(_ byte: UInt8) -> Bool { byte > fromPrevious }
    }

    /// ctimes predict best from the entry's own mtime in package-installed trees (ctime −
    /// mtime is the same for a whole package), and from the previous entry's ctime in trees
    /// written in one go (a hard-link copy gives every entry about the same ctime). Where a
    /// chunk's entries share a few ctimes (a hard-link copy made within a few clock ticks, in
    /// another order than the catalog's), a table of those few and an index per entry cost
    /// least, and the indexes repeat from day to day where the ctimes themselves do not. The
    /// column starts with a byte naming the predictor, chosen per chunk: the one whose
    /// residues have the fewest bytes that do not repeat the previous residue.
    static func encodeCtimes(_ runs: [DirectoryGroup]) -> ByteWriter {
        var fromMtime: [Int64] = []
        var fromPrevious: [Int64] = []
        var all: [Int64] = []
        var prev: Int64 = 0
        for run in runs {
            for e in run.entries {
                let ctime = e.ctime.storedNanoseconds
                fromMtime.append(ctime &- e.mtime.storedNanoseconds)
                fromPrevious.append(ctime &- prev)
                all.append(ctime)
                prev = ctime
            }
        }
        func bytes(_ u: UInt64) -> Int { u == 0 ? 1 : (64 - u.leadingZeroBitCount + 6) / 7 }
        func cost(_ v: [Int64]) -> Int {
            var total = 0
            var last: Int64 = .min
            for x in v where x != last {
                total += bytes(UInt64(bitPattern: (x << 1) ^ (x >> 63)))
                last = x
            }
            return total
        }
        let table = Array(Set(all)).sorted()
        var indexOf: [Int64: Int] = [:]
        for (i, t) in table.enumerated() { indexOf[t] = i }
        let indexes = all.map { Int64(indexOf[$0]!) }
        var tableCost = cost(indexes)
        for (i, t) in table.enumerated() { tableCost += i == 0 ? 9 : bytes(UInt64(bitPattern: t &- table[i - 1])) }
        let costs = [cost(fromMtime), cost(fromPrevious), tableCost]
        var w = ByteWriter(capacity: fromMtime.count * 3 + 1)
        if costs[2] < min(costs[0], costs[1]) {
            w.byte(StateLayout.table)
            w.varint(table.count)
            for (i, t) in table.enumerated() {
                if i == 0 { w.zigzag(t) } else { w.varint(UInt64(bitPattern: t &- table[i - 1])) }
            }
            for i in indexes { w.varint(UInt64(i)) }
            return w
        }
        let useMtime = costs[0] <= costs[1]
        w.byte(useMtime ? StateLayout.fromMtime : StateLayout.fromPrevious)
        for x in useMtime ? fromMtime : fromPrevious { w.zigzag(x) }
        return w
    }

    /// Whether a state part's bytes need a format 4 reader (a ctime table or split inodes).
    public static func stateNeedsFormat4(_ raw: [UInt8]) -> Bool {
        guard let (_, cols) = try? columns(raw, kind: .state, expected: nil), var c = cols.first, let b = try? c.byte() else { return false }
        return StateLayout.needsFormat4(b)
    }

    private static func part(_ kind: PartKind, _ count: Int, _ columns: [ByteWriter]) -> [UInt8] {
        var w = ByteWriter(capacity: columns.reduce(16) { $0 + $1.bytes.count + 5 })
        w.byte(kind.rawValue)
        w.varint(count)
        w.varint(columns.count)
        for c in columns { w.string(c.bytes) }
        return w.bytes
    }

    @inline(__always)
    static func commonPrefix(_ a: [UInt8], _ b: [UInt8]) -> Int {
        let n = min(a.count, b.count)
        var i = 0
        while i < n && a[i] == b[i] { i += 1 }
        return i
    }

    // MARK: Decoding

    /// Splits a part into its columns after checking its kind and entry count.
    static func columns(_ raw: [UInt8], kind: PartKind, expected count: Int?) throws -> (count: Int, columns: [ByteReader]) {
        var r = ByteReader(raw)
        do {
            guard try r.byte() == kind.rawValue else { throw Damaged(reason: "part is not a \(kind) part") }
            let n = try r.count()
            if let c = count, c != n { throw Damaged(reason: "part holds \(n) entries, expected \(c)") }
            let k = try r.count(limit: 64)
            var cols: [ByteReader] = []
            for _ in 0..<k {
                let len = try r.count(limit: r.remaining)
                cols.append(ByteReader(raw, offset: r.offset, end: r.offset + len))
                _ = try r.raw(len)
            }
            return (n, cols)
        } catch is ByteReader.Truncated {
            throw Damaged(reason: "truncated \(kind) part")
        }
    }

    /// Decodes a chunk. Without `content` sizes, mtimes and hashes stay zero; without `state`,
    /// ctime, inode, link count and directory totals do. A patch applies to the part before it.
    public static func decode(names: [UInt8], content: [UInt8]?, state: [UInt8]?,
                              contentPatch: [UInt8]? = nil, statePatch: [UInt8]? = nil) throws -> [DirectoryGroup] {
        do {
            return try decodeThrowingTruncated(names: names, content: content, state: state,
                                               contentPatch: contentPatch, statePatch: statePatch)
        } catch is ByteReader.Truncated {
            throw Damaged(reason: "truncated column")
        }
    }

    private static func decodeThrowingTruncated(names raw0: [UInt8], content raw1: [UInt8]?, state raw2: [UInt8]?,
                                                contentPatch: [UInt8]?, statePatch: [UInt8]?) throws -> [DirectoryGroup] {
        let (count, c0) = try columns(raw0, kind: .names, expected: nil)
        guard c0.count >= 8 else { throw Damaged(reason: "names part has \(c0.count) columns, expected 8") }
        var runCol = c0[0], types = c0[1], names = c0[2], modes = c0[3], uids = c0[4], gids = c0[5], targets = c0[6], devices = c0[7]
        var groups: [DirectoryGroup] = []
        var prevDir: [UInt8] = []
        var total = 0
        while !runCol.isAtEnd {
            let shared = try runCol.count(limit: prevDir.count)
            let suffix = try runCol.string()
            let dir = Array(prevDir[0..<shared]) + suffix
            let n = try runCol.count(limit: count - total)
            // Every entry has a type byte: a count beyond them is damage, not an allocation.
            guard n <= types.remaining else { throw Damaged(reason: "a run lists \(n) entries, the names part holds fewer") }
            total += n
            prevDir = dir
            var entries: [FileEntry] = []
            entries.reserveCapacity(n)
            var prevName: [UInt8] = []
            for _ in 0..<n {
                guard let type = EntryType(rawValue: try types.byte()) else { throw Damaged(reason: "unknown entry type byte") }
                let s = try names.count(limit: prevName.count)
                let name = Array(prevName[0..<s]) + (try names.string())
                prevName = name
                var e = FileEntry(name: name, type: type)
                e.permissions = UInt32(truncatingIfNeeded: try modes.varint())
                e.uid = UInt32(truncatingIfNeeded: try uids.varint())
                e.gid = UInt32(truncatingIfNeeded: try gids.varint())
                if type == .symlink { e.target = try targets.string() }
                if type == .charDevice || type == .blockDevice { e.device = try devices.varint() }
                entries.append(e)
            }
            groups.append(DirectoryGroup(path: dir, entries: entries))
        }
        guard total == count else { throw Damaged(reason: "names part lists \(total) entries, header says \(count)") }

        if let raw1 {
            let (_, c1) = try columns(raw1, kind: .content, expected: count)
            guard c1.count >= 4 else { throw Damaged(reason: "content part has too few columns") }
            var sizes = c1[0], mtimes = c1[1], flags = c1[2], hashes = c1[3]
            var exact = try TimeExceptions(c1.count > 4 ? c1[4] : nil, limit: count)
            var prevMtime: Int64 = 0
            var flat = 0
            for g in groups.indices {
                for i in groups[g].entries.indices {
                    groups[g].entries[i].size = try sizes.varint()
                    prevMtime = prevMtime &+ (try mtimes.zigzag())
                    groups[g].entries[i].mtime = try exact.time(at: flat, stored: prevMtime)
                    groups[g].entries[i].hash = try readHash(&flags, &hashes)
                    flat += 1
                }
            }
            if let contentPatch { try apply(contentPatch, kind: .content, to: &groups, count: count) }
        }
        if let raw2 {
            let (_, c2) = try columns(raw2, kind: .state, expected: count)
            guard c2.count >= 4 else { throw Damaged(reason: "state part has too few columns") }
            var ctimes = c2[0], inodes = c2[1], nlinks = c2[2], trees = c2[3]
            var exact = try TimeExceptions(c2.count > 4 ? c2[4] : nil, limit: count)
            var flat = 0
            var prevInode: Int64 = 0
            var prevDirInode: Int64 = 0, prevOtherInode: Int64 = 0
            var prevCtime: Int64 = 0
            let layout = try ctimes.byte()
            let predictor = layout & 3, split = layout & StateLayout.splitInodes != 0
            guard layout & ~(3 | StateLayout.splitInodes) == 0, predictor <= StateLayout.table else {
                throw Damaged(reason: "unknown ctime predictor \(layout)")
            }
            var table: [Int64] = []
            if predictor == StateLayout.table {
                let n = try ctimes.count(limit: count)
                table.reserveCapacity(n)
                for k in 0..<n {
                    if k == 0 {
                        table.append(try ctimes.zigzag())
                    } else {
                        let step = try ctimes.varint()
                        // Ascending and distinct, and within the signed 64-bit range.
                        guard step > 0, UInt64(bitPattern: Int64.max &- table[k - 1]) >= step else {
                            throw Damaged(reason: "ctime table is not ascending")
                        }
                        table.append(table[k - 1] &+ Int64(bitPattern: step))
                    }
                }
                guard !table.isEmpty || count == 0 else { throw Damaged(reason: "ctime table is empty") }
            }
            for g in groups.indices {
                for i in groups[g].entries.indices {
                    if predictor == StateLayout.table {
                        prevCtime = table[try ctimes.count(limit: table.count - 1)]
                    } else {
                        // The mtime as its column holds it: the nearest end for an excepted one.
                        let base = predictor == StateLayout.fromMtime ? groups[g].entries[i].mtime.storedNanoseconds : prevCtime
                        prevCtime = base &+ (try ctimes.zigzag())
                    }
                    groups[g].entries[i].ctime = try exact.time(at: flat, stored: prevCtime)
                    flat += 1
                    if !split {
                        prevInode = prevInode &+ (try inodes.zigzag())
                    } else if groups[g].entries[i].type == .directory {
                        prevDirInode = prevDirInode &+ (try inodes.zigzag())
                        prevInode = prevDirInode
                    } else {
                        prevOtherInode = prevOtherInode &+ (try inodes.zigzag())
                        prevInode = prevOtherInode
                    }
                    groups[g].entries[i].inode = UInt64(bitPattern: prevInode)
                    groups[g].entries[i].nlink = try nlinks.varint()
                    try readTree(&trees, into: &groups[g].entries[i])
                }
            }
            if let statePatch { try apply(statePatch, kind: .state, to: &groups, count: count) }
        }
        return groups
    }

    /// A chunk's content part as columns: what `find` needs for the entries whose names
    /// matched, without decoding names or building entries.
    public struct ContentColumns {
        public var sizes: [UInt64]
        public var mtimes: [FileTime]
        public var hashes: [Digest?]
    }

    /// Decodes only the content part of a chunk of `count` entries, with its patch applied.
    public static func decodeContent(_ raw: [UInt8], patch: [UInt8]?, count: Int) throws -> ContentColumns {
        do {
            let (_, c1) = try columns(raw, kind: .content, expected: count)
            guard c1.count >= 4 else { throw Damaged(reason: "content part has too few columns") }
            var sizes = c1[0], mtimes = c1[1], flags = c1[2], hashes = c1[3]
            // Every entry has a hash kind byte: a count beyond them is damage, not an allocation.
            guard count <= flags.remaining else { throw Damaged(reason: "content part holds fewer than \(count) entries") }
            var exact = try TimeExceptions(c1.count > 4 ? c1[4] : nil, limit: count)
            var out = ContentColumns(sizes: [], mtimes: [], hashes: [])
            out.sizes.reserveCapacity(count)
            out.mtimes.reserveCapacity(count)
            out.hashes.reserveCapacity(count)
            var prevMtime: Int64 = 0
            for flat in 0..<count {
                out.sizes.append(try sizes.varint())
                prevMtime = prevMtime &+ (try mtimes.zigzag())
                out.mtimes.append(try exact.time(at: flat, stored: prevMtime))
                out.hashes.append(try readHash(&flags, &hashes))
            }
            guard let patch else { return out }
            var changes = try ContentPatch(patch, count: count)
            while let c = try changes.next() {
                out.sizes[c.index] = c.size
                out.mtimes[c.index] = c.mtime
                out.hashes[c.index] = c.hash
            }
            return out
        } catch is ByteReader.Truncated {
            throw Damaged(reason: "truncated content column")
        }
    }

    /// Content values of some entries of a chunk: size, mtime and hash.
    public typealias ContentValues = [(size: UInt64, mtime: FileTime, hash: Digest?)]

    /// The size, mtime and hash of the entries at `wanted` (flat indices, ascending) of a
    /// chunk's content part with its patch applied, as `decodeContent` would give them, without
    /// building the columns of the other entries. Checks what `decodeContent` checks.
    public static func contentValues(_ raw: [UInt8], patch: [UInt8]?, count: Int, at wanted: [Int]) throws -> ContentValues {
        var out = try contentValues(raw, count: count, at: wanted)
        if let patch { try applyContent(patch, count: count, at: wanted, to: &out) }
        return out
    }

    /// The values at `wanted` of a whole content part (no patch applied).
    public static func contentValues(_ raw: [UInt8], count: Int, at wanted: [Int]) throws -> ContentValues {
        do {
            let (_, c1) = try columns(raw, kind: .content, expected: count)
            guard c1.count >= 4 else { throw Damaged(reason: "content part has too few columns") }
            guard count <= c1[2].remaining else { throw Damaged(reason: "content part holds fewer than \(count) entries") }
            var exact = try TimeExceptions(c1.count > 4 ? c1[4] : nil, limit: count)
            var out: ContentValues = []
            out.reserveCapacity(wanted.count)
            var next = 0
            var prevMtime: Int64 = 0
            // `find` asks for a few entries of each chunk in every point: entries past the
            // last one asked for are not decoded, and only those asked for become values (the
            // part's bytes were checked against its hash before this). The columns are read
            // straight from the part's buffer: this loop steps over thousands of entries a chunk.
            let through = min(count, (wanted.last ?? -1) + 1)
            try raw.withUnsafeBufferPointer { buffer in
                var sizes = ColumnCursor(buffer, c1[0]), mtimes = ColumnCursor(buffer, c1[1])
                var flags = ColumnCursor(buffer, c1[2]), hashes = ColumnCursor(buffer, c1[3])
                for i in 0..<through {
                    let size = try sizes.varint()
                    prevMtime = prevMtime &+ (try mtimes.zigzag())
                    let take = next < wanted.count && wanted[next] == i
                    guard take else {
                        // An exception is still checked against its column, and consumed in order.
                        if !exact.isEmpty { _ = try exact.time(at: i, stored: prevMtime) }
                        switch try flags.byte() {
                        case 0: break
                        case 1: try hashes.skip(Digest.byteCount)
                        default: throw Damaged(reason: "unknown hash kind")
                        }
                        continue
                    }
                    let mtime = try exact.time(at: i, stored: prevMtime)
                    switch try flags.byte() {
                    case 0:
                        out.append((size, mtime, nil))
                    case 1:
                        out.append((size, mtime, Digest(trusted: try hashes.bytes(Digest.byteCount))))
                    default:
                        throw Damaged(reason: "unknown hash kind")
                    }
                    next += 1
                }
            }
            guard next == wanted.count else { throw Damaged(reason: "holds fewer entries than its names block") }
            return out
        } catch is ByteReader.Truncated {
            throw Damaged(reason: "truncated content column")
        }
    }

    /// A column read in place from its part's buffer (the bounds of a `ByteReader` that
    /// `columns` made, so within the buffer); every read past its end is `ByteReader.Truncated`.
    private struct ColumnCursor {
        let buffer: UnsafeBufferPointer<UInt8>
        var offset: Int
        let end: Int

        init(_ buffer: UnsafeBufferPointer<UInt8>, _ column: ByteReader) {
            self.buffer = buffer
            offset = column.offset
            end = min(column.end, buffer.count)
        }

        @inline(__always) mutating func byte() throws -> UInt8 {
            guard offset < end else { throw ByteReader.Truncated() }
            defer { offset += 1 }
            return buffer[offset]
        }

        @inline(__always) mutating func varint() throws -> UInt64 {
            // Eight bytes at once when they hold the varint's last byte (all but values of 56
            // bits or more): nanosecond mtime deltas take five to eight bytes, and a loop
            // branching on each was most of `find`'s time in this function.
            if end - offset >= 8 {
                let word = UInt64(littleEndian: UnsafeRawPointer(buffer.baseAddress! + offset).loadUnaligned(as: UInt64.self))
                let stops = ~word & 0x8080_8080_8080_8080
                if stops != 0 {
                    let length = (stops.trailingZeroBitCount >> 3) + 1
                    let x = length == 8 ? word : word & ((1 << UInt64(length * 8)) - 1)
                    offset += length
                    var v = x & 0x7f
                    v |= (x >> 1) & (0x7f << 7)
                    v |= (x >> 2) & (0x7f << 14)
                    v |= (x >> 3) & (0x7f << 21)
                    v |= (x >> 4) & (0x7f << 28)
                    v |= (x >> 5) & (0x7f << 35)
                    v |= (x >> 6) & (0x7f << 42)
                    v |= (x >> 7) & (0x7f << 49)
                    return v
                }
            }
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard offset < end, shift < 64 else { throw ByteReader.Truncated() }
                let b = buffer[offset]
                offset += 1
                result |= UInt64(b & 0x7f) << shift
                if b < 0x80 { return result }
                shift += 7
            }
        }

        @inline(__always) mutating func zigzag() throws -> Int64 {
            let u = try varint()
            return Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1)
        }

        @inline(__always) mutating func skip(_ n: Int) throws {
            guard n <= end - offset else { throw ByteReader.Truncated() }
            offset += n
        }

        mutating func bytes(_ n: Int) throws -> [UInt8] {
            guard n <= end - offset else { throw ByteReader.Truncated() }
            defer { offset += n }
            return Array(UnsafeBufferPointer(rebasing: buffer[offset..<(offset + n)]))
        }
    }

    /// Applies a content patch to `values`, the values at `wanted` of its base.
    public static func applyContent(_ patch: [UInt8], count: Int, at wanted: [Int], to values: inout ContentValues) throws {
        do {
            var changes = try ContentPatch(patch, count: count)
            var at = 0
            while let c = try changes.next() {
                // Patch indices ascend (each is a gap from the previous one), as `wanted` does.
                while at < wanted.count && wanted[at] < c.index { at += 1 }
                if at < wanted.count && wanted[at] == c.index { values[at] = (c.size, c.mtime, c.hash) }
            }
        } catch is ByteReader.Truncated {
            throw Damaged(reason: "truncated content column")
        }
    }

    /// The entries a content part's patch replaces, read in order: each one's flat index and
    /// its new size, mtime and hash. `decodeContent` and `applyContent` both read patches
    /// through it, so they check the same things. A truncated column throws
    /// `ByteReader.Truncated`, which its callers report as damage.
    struct ContentPatch {
        private let count: Int
        private var indices: ByteReader, sizes: ByteReader, mtimes: ByteReader, flags: ByteReader, hashes: ByteReader
        private var exact: TimeExceptions
        private var index = -1
        private var listed = 0
        private var previousTime: Int64 = 0

        /// The patch `bytes` of a content part of `count` entries.
        init(_ bytes: [UInt8], count: Int) throws {
            let (_, p) = try ChunkCodec.columns(bytes, kind: .patch, expected: count)
            guard p.count >= 6 else { throw Damaged(reason: "patch has too few columns") }
            var target = p[0]
            guard try target.byte() == PartKind.content.rawValue else { throw Damaged(reason: "patch is not for a content part") }
            self.count = count
            (indices, sizes, mtimes, flags, hashes) = (p[1], p[2], p[3], p[4], p[5])
            exact = try TimeExceptions(p.count > 6 ? p[6] : nil, limit: count)
        }

        /// The next replaced entry; nil after the last one, once every time exception was used.
        mutating func next() throws -> (index: Int, size: UInt64, mtime: FileTime, hash: Digest?)? {
            guard !indices.isAtEnd else {
                try exact.checkAllUsed(listed: listed)
                return nil
            }
            index += try indices.count(limit: count) + 1
            guard index < count else { throw Damaged(reason: "patch index out of range") }
            let size = try sizes.varint()
            previousTime = previousTime &+ (try mtimes.zigzag())
            let mtime = try exact.time(at: listed, stored: previousTime)
            let hash = try ChunkCodec.readHash(&flags, &hashes)
            listed += 1
            return (index, size, mtime, hash)
        }
    }

    /// One entry's hash: a kind byte from `flags` (0 none, 1 SHA-256), its bytes from `hashes`.
    @inline(__always)
    static func readHash(_ flags: inout ByteReader, _ hashes: inout ByteReader) throws -> Digest? {
        switch try flags.byte() {
        case 0: return nil
        case 1: return Digest(trusted: Array(try hashes.raw(Digest.byteCount)))
        default: throw Damaged(reason: "unknown hash kind")
        }
    }

    /// A directory's children, files and bytes in its subtree; nothing for other types.
    @inline(__always)
    static func readTree(_ trees: inout ByteReader, into e: inout FileEntry) throws {
        guard e.type == .directory else { return }
        e.children = try trees.varint()
        e.treeFiles = try trees.varint()
        e.treeBytes = try trees.varint()
    }

    // MARK: Patches

    /// A patch turning the `base` part (of the same entries, as `names` lists them) into the
    /// part for `current`, or nil when more than an eighth of the entries changed (the whole
    /// part is then cheaper). A state base is decoded against the current `content`, as a
    /// reader will decode it.
    static func patch(kind: PartKind, names: [UInt8], content: [UInt8], base: [UInt8], current runs: [DirectoryGroup]) throws -> [UInt8]? {
        let baseGroups = kind == .content
            ? try decode(names: names, content: base, state: nil)
            : try decode(names: names, content: content, state: base)
        let old = baseGroups.flatMap(\.entries)
        let new = runs.flatMap(\.entries)
        guard old.count == new.count else { return nil }
        var changed: [Int] = []
        for i in new.indices {
            let a = old[i], b = new[i]
            let differs = kind == .content
                ? a.size != b.size || a.mtime != b.mtime || a.hash != b.hash
                : a.ctime != b.ctime || a.inode != b.inode || a.nlink != b.nlink || a.children != b.children
                    || a.treeFiles != b.treeFiles || a.treeBytes != b.treeBytes
            if differs { changed.append(i) }
        }
        // Patches grow with every day since their base; past an eighth of the entries a new
        // whole part costs less over a month of daily churn (measured: 30 days at 1% a day of
        // a 200k-entry tree took 14.2 MB with an eighth, 16.2 MB with a quarter or a sixteenth).
        guard changed.count * 8 <= new.count else { return nil }
        var target = ByteWriter(), indices = ByteWriter(), c0 = ByteWriter(), c1 = ByteWriter(), c2 = ByteWriter(), c3 = ByteWriter()
        var exceptions = TimeExceptions.Writer()
        target.byte(kind.rawValue)
        var prevIndex = -1
        var prevTime: Int64 = 0
        var prevInode: Int64 = 0
        for (listed, i) in changed.enumerated() {
            let e = new[i]
            indices.varint(i - prevIndex - 1)
            prevIndex = i
            exceptions.note(listed, kind == .content ? e.mtime : e.ctime)
            if kind == .content {
                c0.varint(e.size)
                c1.zigzag(e.mtime.storedNanoseconds &- prevTime)
                prevTime = e.mtime.storedNanoseconds
                if let h = e.hash {
                    c2.byte(1)
                    c3.raw(h.bytes)
                } else {
                    c2.byte(0)
                }
            } else {
                c0.zigzag(e.ctime.storedNanoseconds &- prevTime)
                prevTime = e.ctime.storedNanoseconds
                let ino = Int64(bitPattern: e.inode)
                c1.zigzag(ino &- prevInode)
                prevInode = ino
                c2.varint(e.nlink)
                if e.type == .directory {
                    c3.varint(e.children)
                    c3.varint(e.treeFiles)
                    c3.varint(e.treeBytes)
                }
            }
        }
        return part(.patch, new.count, [target, indices, c0, c1, c2, c3] + exceptions.column)
    }

    /// Replaces the fields of `kind` of the entries a patch lists.
    static func apply(_ raw: [UInt8], kind: PartKind, to groups: inout [DirectoryGroup], count: Int) throws {
        let (_, cols) = try columns(raw, kind: .patch, expected: count)
        guard cols.count >= 6 else { throw Damaged(reason: "patch has too few columns") }
        var target = cols[0], indices = cols[1], c0 = cols[2], c1 = cols[3], c2 = cols[4], c3 = cols[5]
        guard try target.byte() == kind.rawValue else { throw Damaged(reason: "patch is not for a \(kind) part") }
        var exact = try TimeExceptions(cols.count > 6 ? cols[6] : nil, limit: count)
        var listed = 0
        var g = 0, i = 0, flat = 0
        var index = -1
        var prevTime: Int64 = 0
        var prevInode: Int64 = 0
        while !indices.isAtEnd {
            index += try indices.count(limit: count) + 1
            guard index < count else { throw Damaged(reason: "patch index out of range") }
            while flat < index {  // step to entry `index`
                flat += 1
                i += 1
                while g < groups.count && i >= groups[g].entries.count {
                    g += 1
                    i = 0
                }
            }
            while g < groups.count && i >= groups[g].entries.count {
                g += 1
                i = 0
            }
            guard g < groups.count else { throw Damaged(reason: "patch index out of range") }
            if kind == .content {
                groups[g].entries[i].size = try c0.varint()
                prevTime = prevTime &+ (try c1.zigzag())
                groups[g].entries[i].mtime = try exact.time(at: listed, stored: prevTime)
                groups[g].entries[i].hash = try readHash(&c2, &c3)
            } else {
                prevTime = prevTime &+ (try c0.zigzag())
                groups[g].entries[i].ctime = try exact.time(at: listed, stored: prevTime)
                prevInode = prevInode &+ (try c1.zigzag())
                groups[g].entries[i].inode = UInt64(bitPattern: prevInode)
                groups[g].entries[i].nlink = try c2.varint()
                try readTree(&c3, into: &groups[g].entries[i])
            }
            listed += 1
        }
        try exact.checkAllUsed(listed: listed)
    }
}
