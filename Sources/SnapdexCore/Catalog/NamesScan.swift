/// Reads a names part (docs/FORMAT.md, "Part 0: names") in place, one entry at a time, for
/// `find`: no struct or array is built for an entry unless the caller asks for it.
///
/// The entry's path lives in one reused buffer laid out as `/DIR/NAME\0` (`/NAME\0` in the
/// root), so the name alone, the whole path as `find --path` matches it, and a C string for
/// fnmatch(3) are all views of the same bytes. The part is checked as `ChunkCodec.decode`
/// checks it: whatever that rejects, the scan rejects with `ChunkCodec.Damaged`.
public final class NamesScan {
    /// The current entry; valid until the next call to `next()`.
    public private(set) var flat = -1
    public private(set) var type = EntryType.file
    public private(set) var permissions: UInt32 = 0
    public private(set) var uid: UInt32 = 0
    public private(set) var gid: UInt32 = 0
    public private(set) var device: UInt64 = 0
    /// Whether the current entry is the first of its run (its directory just changed).
    public private(set) var startsRun = false
    private var target: Range<Int> = 0..<0
    /// `buffer[0..<pathEnd]` is `/DIR/NAME`, `buffer[nameStart..<pathEnd]` the name.
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    public private(set) var nameStart = 1
    public private(set) var pathEnd = 1
    /// Bytes of the directory: `buffer[1..<1 + dirLength]`.
    private var dirLength = 0

    private let raw: [UInt8]
    public let count: Int
    private var runs: Cursor, types: Cursor, names: Cursor, modes: Cursor, uids: Cursor, gids: Cursor, targets: Cursor, devices: Cursor
    private var leftInRun = 0
    private var total = 0

    /// A cursor over one column of `raw`; reads fail with `ByteReader.Truncated`.
    struct Cursor {
        var offset: Int
        let end: Int
        var isAtEnd: Bool { offset >= end }
        var remaining: Int { end - offset }
    }

    public init(_ raw: [UInt8]) throws {
        let (count, columns) = try ChunkCodec.columns(raw, kind: .names, expected: nil)
        guard columns.count >= 8 else { throw ChunkCodec.Damaged(reason: "names part has \(columns.count) columns, expected 8") }
        func cursor(_ r: ByteReader) -> Cursor { Cursor(offset: r.offset, end: r.end) }
        self.raw = raw
        self.count = count
        runs = cursor(columns[0])
        types = cursor(columns[1])
        names = cursor(columns[2])
        modes = cursor(columns[3])
        uids = cursor(columns[4])
        gids = cursor(columns[5])
        targets = cursor(columns[6])
        devices = cursor(columns[7])
        capacity = 512
        buffer = .allocate(capacity: capacity)
        buffer[0] = UInt8(ascii: "/")
        buffer[1] = 0
    }

    deinit { buffer.deallocate() }

    /// Steps to the next entry; false after the last one (when the part's totals have been
    /// checked).
    public func next() throws -> Bool {
        do {
            let bytes = raw
            return try bytes.withUnsafeBufferPointer { try step($0) }
        } catch is ByteReader.Truncated {
            throw ChunkCodec.Damaged(reason: "truncated column")
        }
    }

    private func step(_ p: UnsafeBufferPointer<UInt8>) throws -> Bool {
        startsRun = leftInRun == 0
        while leftInRun == 0 {
            if runs.isAtEnd {
                guard total == count else { throw ChunkCodec.Damaged(reason: "names part lists \(total) entries, header says \(count)") }
                return false
            }
            let shared = try readCount(p, &runs, limit: dirLength)
            let suffix = try readLength(p, &runs)
            let dirEnd = shared + suffix
            reserve(dirEnd + 3)
            copy(p, from: runs.offset, length: suffix, to: 1 + shared)
            runs.offset += suffix
            let n = try readCount(p, &runs, limit: count - total)
            // Every entry has a type byte: a count beyond them is damage, not an allocation.
            guard n <= types.remaining else { throw ChunkCodec.Damaged(reason: "a run lists \(n) entries, the names part holds fewer") }
            total += n
            dirLength = dirEnd
            nameStart = dirEnd == 0 ? 1 : dirEnd + 2
            if dirEnd > 0 { buffer[dirEnd + 1] = UInt8(ascii: "/") }
            pathEnd = nameStart
            buffer[pathEnd] = 0
            leftInRun = n
        }
        leftInRun -= 1
        flat += 1
        guard let t = EntryType(rawValue: try byte(p, &types)) else { throw ChunkCodec.Damaged(reason: "unknown entry type byte") }
        type = t
        // The shared prefix is with the previous name of the same run (none at a run's start).
        let shared = try readCount(p, &names, limit: pathEnd - nameStart)
        let suffix = try readLength(p, &names)
        reserve(nameStart + shared + suffix + 1)
        copy(p, from: names.offset, length: suffix, to: nameStart + shared)
        names.offset += suffix
        pathEnd = nameStart + shared + suffix
        buffer[pathEnd] = 0
        permissions = UInt32(truncatingIfNeeded: try varint(p, &modes))
        uid = UInt32(truncatingIfNeeded: try varint(p, &uids))
        gid = UInt32(truncatingIfNeeded: try varint(p, &gids))
        target = 0..<0
        if t == .symlink {
            let n = try readLength(p, &targets)
            target = targets.offset..<targets.offset + n
            targets.offset += n
        }
        device = 0
        if t == .charDevice || t == .blockDevice { device = try varint(p, &devices) }
        return true
    }

    /// The current entry's name: `buffer[nameStart..<pathEnd]`, followed by a NUL.
    public var name: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: buffer + nameStart, count: pathEnd - nameStart) }
    /// The current entry's path as `find --path` matches it (`/DIR/NAME`), followed by a NUL.
    public var displayPath: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: buffer, count: pathEnd) }
    /// The current entry's directory, in catalog form.
    public var directory: [UInt8] { Array(UnsafeBufferPointer(start: buffer + 1, count: dirLength)) }

    /// The current entry as `ChunkCodec.decode` gives it (names-part fields only).
    public var entry: FileEntry {
        var e = FileEntry(name: Array(name), type: type)
        e.permissions = permissions
        e.uid = uid
        e.gid = gid
        if type == .symlink { e.target = Array(raw[target]) }
        if type == .charDevice || type == .blockDevice { e.device = device }
        return e
    }

    // MARK: Reading

    private func reserve(_ n: Int) {
        guard n > capacity else { return }
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: max(n, capacity * 2))
        bigger.update(from: buffer, count: capacity)
        buffer.deallocate()
        buffer = bigger
        capacity = max(n, capacity * 2)
    }

    private func copy(_ p: UnsafeBufferPointer<UInt8>, from: Int, length: Int, to: Int) {
        guard length > 0 else { return }
        (buffer + to).update(from: p.baseAddress! + from, count: length)
    }

    @inline(__always)
    private func byte(_ p: UnsafeBufferPointer<UInt8>, _ c: inout Cursor) throws -> UInt8 {
        guard c.offset < c.end else { throw ByteReader.Truncated() }
        defer { c.offset += 1 }
        return p[c.offset]
    }

    @inline(__always)
    private func varint(_ p: UnsafeBufferPointer<UInt8>, _ c: inout Cursor) throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard c.offset < c.end, shift < 64 else { throw ByteReader.Truncated() }
            let b = p[c.offset]
            c.offset += 1
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    /// The length of a string that follows in the column: it must fit in what is left of it.
    @inline(__always)
    private func readLength(_ p: UnsafeBufferPointer<UInt8>, _ c: inout Cursor) throws -> Int {
        let v = try varint(p, &c)
        guard v <= UInt64(c.remaining) else { throw ByteReader.Truncated() }
        return Int(v)
    }

    @inline(__always)
    private func readCount(_ p: UnsafeBufferPointer<UInt8>, _ c: inout Cursor, limit: Int) throws -> Int {
        let v = try varint(p, &c)
        guard v <= UInt64(limit) else { throw ByteReader.Truncated() }
        return Int(v)
    }
}
