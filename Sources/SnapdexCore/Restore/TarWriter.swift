#if canImport(Glibc)
import Glibc
#endif

/// The archive itself cannot be written (full disk, closed pipe): the whole restore stops,
/// since every later entry would land in a broken stream.
struct ArchiveWriteFailure: Error {
    let errno: Errno
}

/// Writes a POSIX pax archive (ustar headers, with pax extended headers for long names,
/// nanosecond mtimes and large numbers) to a file descriptor. Only keywords GNU tar and bsdtar
/// both know are written (no `hdrcharset`: a name's bytes go in the ustar fields as they are,
/// and only a name too long for them goes in a `path` record). Files with holes are GNU sparse
/// 1.0 entries, which both tools extract with the holes in place.
final class TarWriter {
    private let fd: Int32
    private(set) var bytesWritten = 0

    init(fd: Int32) { self.fd = fd }

    typealias Segment = SparseFile.Segment

    struct Header {
        var path: [UInt8]
        var type: UInt8  // '0' file, '1' hard link, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo
        var mode: UInt32
        var uid: UInt32
        var gid: UInt32
        var size: UInt64
        var mtime: FileTime
        var link: [UInt8] = []
        var device: UInt64 = 0
        /// The data runs of a sparse file (`size` is its full size); nil for a plain entry.
        /// Only for a UTF-8 path (see `canBeSparse`).
        var sparse: [Segment]? = nil
    }

    /// Whether a file at `path` can be a sparse entry: its real name is a pax record, which
    /// bsdtar refuses when it is not UTF-8, so such a file is archived whole.
    static func canBeSparse(path: [UInt8]) -> Bool { String(validating: path, as: UTF8.self) != nil }

    /// The GNU sparse 1.0 map that precedes a sparse entry's data: the number of runs, then
    /// each run's offset and length, as decimal lines, padded to a 512-byte block.
    static func sparseMap(_ segments: [Segment]) -> [UInt8] {
        var text = "\(segments.count)\n"
        for s in segments { text += "\(s.offset)\n\(s.length)\n" }
        var bytes = Array(text.utf8)
        if bytes.count % 512 != 0 { bytes += [UInt8](repeating: 0, count: 512 - bytes.count % 512) }
        return bytes
    }

    func write(_ h: Header) throws {
        var records: [UInt8] = []
        func record(_ key: String, _ value: [UInt8]) {
            let body = Array(" \(key)=".utf8) + value + [10]
            var n = body.count + 1
            while String(n).count + body.count != n { n = String(n).count + body.count }
            records += Array(String(n).utf8) + body
        }
        var name = h.path
        var storedSize = h.size
        if let segments = h.sparse {
            // GNU tar's layout: the ustar name is DIR/GNUSparseFile.0/NAME, the real name and
            // size are pax records, and the stored data is the map followed by the runs.
            let trimmed = h.path.last == PathBytes.slash ? Array(h.path.dropLast()) : h.path
            let slash = trimmed.lastIndex(of: PathBytes.slash)
            let dir = slash.map { Array(trimmed[...$0]) } ?? []
            let base = slash.map { Array(trimmed[($0 + 1)...]) } ?? trimmed
            name = dir + Array("GNUSparseFile.0/".utf8) + base
            storedSize = UInt64(Self.sparseMap(segments).count) + segments.reduce(0) { $0 + $1.length }
            record("GNU.sparse.major", Array("1".utf8))
            record("GNU.sparse.minor", Array("0".utf8))
            record("GNU.sparse.name", h.path)
            record("GNU.sparse.realsize", Array("\(h.size)".utf8))
        }
        // A long name goes in a pax record, which readers take as UTF-8; a long name that is
        // not UTF-8 goes in a GNU long-name entry instead, which both tools take as bytes.
        let utf8Name = String(validating: name, as: UTF8.self) != nil
        let utf8Link = String(validating: h.link, as: UTF8.self) != nil
        if name.count > 100 && utf8Name { record("path", name) }
        if h.link.count > 100 && utf8Link { record("linkpath", h.link) }
        record("mtime", Array(h.mtime.paxDecimal.utf8))
        let headerTime = min(max(h.mtime.seconds, 0), 0o77777777777)  // ustar's field; pax has the exact time
        if storedSize > 0o77777777777 { record("size", Array("\(storedSize)".utf8)) }
        if h.uid > 0o7777777 { record("uid", Array("\(h.uid)".utf8)) }
        if h.gid > 0o7777777 { record("gid", Array("\(h.gid)".utf8)) }
        if h.link.count > 100 && !utf8Link { try gnuLongName(h.link, type: UInt8(ascii: "K")) }
        if name.count > 100 && !utf8Name { try gnuLongName(name, type: UInt8(ascii: "L")) }
        if !records.isEmpty {
            try emit(block(name: Array("PaxHeaders/entry".utf8), type: UInt8(ascii: "x"), mode: 0o644, uid: 0, gid: 0,
                           size: UInt64(records.count), mtime: headerTime, link: [], device: 0))
            try emit(records)
            try padTo512(records.count)
        }
        try emit(block(name: Array(name.prefix(100)), type: h.type, mode: h.mode, uid: min(h.uid, 0o7777777),
                       gid: min(h.gid, 0o7777777), size: min(storedSize, 0o77777777777), mtime: headerTime,
                       link: Array(h.link.prefix(100)), device: h.device))
        if let segments = h.sparse { try emit(Self.sparseMap(segments)) }
    }

    /// GNU tar's long name ('L') or long link target ('K') entry: the bytes, NUL-terminated,
    /// as the data of a `././@LongLink` entry, applying to the next header.
    private func gnuLongName(_ bytes: [UInt8], type: UInt8) throws {
        try emit(block(name: Array("././@LongLink".utf8), type: type, mode: 0, uid: 0, gid: 0, size: UInt64(bytes.count + 1),
                       mtime: 0, link: [], device: 0))
        try emit(bytes + [0])
        try padTo512(bytes.count + 1)
    }

    func writeData(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            switch syscall({ Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done) }) {
            case .failure(let e): throw ArchiveWriteFailure(errno: e)
            case .success(let n): done += n
            }
        }
        bytesWritten += bytes.count
    }

    func padTo512(_ size: Int) throws {
        let rest = size % 512
        if rest != 0 { try emit([UInt8](repeating: 0, count: 512 - rest)) }
    }

    func finish() throws { try emit([UInt8](repeating: 0, count: 1024)) }

    private func emit(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try writeData($0) } }

    private func block(name: [UInt8], type: UInt8, mode: UInt32, uid: UInt32, gid: UInt32, size: UInt64, mtime: Int64,
                       link: [UInt8], device: UInt64) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 512)
        func put(_ at: Int, _ bytes: [UInt8]) { for (i, c) in bytes.enumerated() { b[at + i] = c } }
        func octal(_ at: Int, _ width: Int, _ v: UInt64) {
            let s = String(v, radix: 8)
            put(at, Array((String(repeating: "0", count: max(0, width - 1 - s.count)) + s).utf8))
        }
        put(0, name)
        octal(100, 8, UInt64(mode & 0o7777))
        octal(108, 8, UInt64(uid))
        octal(116, 8, UInt64(gid))
        octal(124, 12, size)
        octal(136, 12, UInt64(mtime))
        put(148, Array("        ".utf8))
        b[156] = type
        put(157, link)
        put(257, Array("ustar".utf8) + [0])
        put(263, Array("00".utf8))
        if type == UInt8(ascii: "3") || type == UInt8(ascii: "4") {
            octal(329, 8, (device >> 8) & 0xfff)
            octal(337, 8, (device & 0xff) | ((device >> 12) & 0xfff00))
        }
        let sum = b.reduce(0) { $0 + UInt64($1) }
        let s = String(sum, radix: 8)
        put(148, Array((String(repeating: "0", count: max(0, 6 - s.count)) + s).utf8) + [0, 32])
        return b
    }
}
