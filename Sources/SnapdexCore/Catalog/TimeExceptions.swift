/// The exact times of the entries whose mtime or ctime 64-bit nanoseconds cannot hold
/// (before 1677-09-21 or after 2262-04-11), carried in a trailing column of a content, state
/// or patch part since catalog format 3 (docs/FORMAT.md, "Times").
///
/// The nanosecond column itself holds the nearest end of its range for such an entry, which
/// is what an older reader shows; a part with no such entry has no exceptions column at all,
/// so that ordinary trees are stored byte for byte as format 2 stored them.
struct TimeExceptions {
    /// Collects exceptions while a column is written, in increasing index order.
    struct Writer {
        private var bytes = ByteWriter()
        private var last = -1
        private var count = 0

        /// Records `time` for the entry at `index` when the nanosecond column cannot hold it.
        mutating func note(_ index: Int, _ time: FileTime) {
            guard !time.fitsNanoseconds else { return }
            bytes.varint(index - last - 1)
            last = index
            bytes.zigzag(time.seconds)
            bytes.varint(UInt64(time.nanos))
            count += 1
        }

        /// The columns to append to the part: none when every time fitted.
        var column: [ByteWriter] { count == 0 ? [] : [bytes] }
    }

    private var pending: [(index: Int, time: FileTime)] = []
    private var next = 0

    /// Reads an exceptions column (nil: the part has none) for a column of `limit` values.
    init(_ column: ByteReader?, limit: Int) throws {
        guard var r = column else { return }
        var index = -1
        while !r.isAtEnd {
            let gap = try r.count(limit: limit)
            index += gap + 1
            guard index < limit else { throw ChunkCodec.Damaged(reason: "a time exception names entry \(index) of \(limit)") }
            let seconds = try r.zigzag()
            guard let time = FileTime(seconds: seconds, nanos: Int64(clamping: try r.varint())) else {
                throw ChunkCodec.Damaged(reason: "a time exception has nanoseconds beyond a second")
            }
            guard !time.fitsNanoseconds else {
                throw ChunkCodec.Damaged(reason: "a time exception holds a time its nanosecond column can hold")
            }
            pending.append((index, time))
        }
    }

    /// No value of the column has an exception (the column's values are its times).
    var isEmpty: Bool { pending.isEmpty }

    /// The time of the value at `index` (asked in increasing order) whose nanosecond column
    /// holds `stored`: the exception's exact time when there is one.
    mutating func time(at index: Int, stored: Int64) throws -> FileTime {
        guard next < pending.count, pending[next].index == index else { return FileTime(nanoseconds: stored) }
        let time = pending[next].time
        next += 1
        // The column must hold the nearest end, as older readers will show it.
        guard time.storedNanoseconds == stored else {
            throw ChunkCodec.Damaged(reason: "a time column disagrees with its exception for entry \(index)")
        }
        return time
    }

    /// After the last value: an exception for a value that was never read is damage.
    func checkAllUsed(listed: Int) throws {
        guard next == pending.count else {
            throw ChunkCodec.Damaged(reason: "a time exception names entry \(pending[next].index) of the \(listed) a patch lists")
        }
    }
}
