#if canImport(Glibc)
import Glibc
#endif

/// Where a file's data is, so an archive can leave its holes out.
public enum SparseFile {
    /// Linux's values (`<unistd.h>` declares them only under _GNU_SOURCE, which Glibc's
    /// Swift module does not set).
    static let seekData: Int32 = 3
    static let seekHole: Int32 = 4

    public struct Segment: Equatable, Sendable {
        public var offset: UInt64
        public var length: UInt64
    }

    /// The data runs of the open file `fd` of `size` bytes, found with `lseek(2)`
    /// `SEEK_DATA`/`SEEK_HOLE`; nil when the file has no hole (or the file system cannot say),
    /// so the caller copies it whole. A file that ends in a hole gets a last, empty run at its
    /// size, as GNU tar writes it, so the map alone says how long the file is. Leaves the
    /// file offset at 0.
    public static func dataSegments(fd: Int32, size: UInt64) -> [Segment]? {
        guard size > 0 else { return nil }
        defer { lseek(fd, 0, SEEK_SET) }
        var runs: [Segment] = []
        var at: off_t = 0
        while UInt64(at) < size {
            let data = lseek(fd, at, seekData)
            if data < 0 {
                if errno == ENXIO { break }  // only a hole is left
                return nil
            }
            guard UInt64(data) < size else { break }
            let hole = lseek(fd, data, seekHole)
            guard hole > data else { return nil }
            let end = min(UInt64(hole), size)
            runs.append(Segment(offset: UInt64(data), length: end - UInt64(data)))
            at = off_t(end)
        }
        let stored = runs.reduce(0) { $0 + $1.length }
        guard stored < size else { return nil }
        if runs.last.map({ $0.offset + $0.length }) != size { runs.append(Segment(offset: size, length: 0)) }
        return runs
    }
}
