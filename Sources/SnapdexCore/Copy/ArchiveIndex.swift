import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What a source repository knows about the blocks a copy target holds:
/// `REPO/archive/TARGET-ID`, the set of block hashes known to be in the target, and the
/// target's generation when that set was last listed. A copy decides what to send from it
/// without asking the target block by block.
///
///     offset size
///     0      8    magic "SNAPDEXA"
///     8      2    u16le version (1)
///     10     16   the target repository's id
///     26     8    u64le the target's generation the set is valid for
///     34     …    batches: varint count (1 or more), count × 32-byte SHA-256 block names,
///                 then the 32-byte SHA-256 of the batch's preceding bytes
///
/// A copy appends a batch after the blocks it names are durably in the target. A file that
/// does not read back exactly (a torn batch, a flipped bit, another target's id) is not
/// trusted: the copy lists the target and writes the file anew.
struct ArchiveIndex {
    static let magic = Array("SNAPDEXA".utf8)
    static let version: UInt16 = 1
    static let headerSize = 34

    var target: [UInt8]
    var generation: UInt64
    var blocks: Set<Digest>

    /// Reads an archive index; nil when it is missing or anything in it is wrong.
    static func decode(_ bytes: [UInt8], target: [UInt8]) -> ArchiveIndex? {
        guard bytes.count >= headerSize, Array(bytes[0..<8]) == magic,
              UInt16(bytes[8]) | UInt16(bytes[9]) << 8 == version, Array(bytes[10..<26]) == target else { return nil }
        var generation: UInt64 = 0
        for i in 0..<8 { generation |= UInt64(bytes[26 + i]) << (8 * UInt64(i)) }
        var blocks = Set<Digest>()
        var r = ByteReader(bytes, offset: headerSize, end: bytes.count)
        do {
            while !r.isAtEnd {
                let start = r.offset
                let n = try r.count(limit: r.remaining / Digest.byteCount)
                guard n > 0 else { return nil }
                var batch: [Digest] = []
                for _ in 0..<n { batch.append(Digest(trusted: Array(try r.raw(Digest.byteCount)))) }
                let sum = Array(try r.raw(Digest.byteCount))
                guard Digest.of(bytes[start..<(r.offset - Digest.byteCount)]).bytes == sum else { return nil }
                blocks.formUnion(batch)
            }
        } catch {
            return nil
        }
        return ArchiveIndex(target: target, generation: generation, blocks: blocks)
    }

    func header() -> [UInt8] {
        var w = ByteWriter()
        w.raw(ArchiveIndex.magic)
        w.uint16LE(ArchiveIndex.version)
        w.raw(target)
        for i in 0..<8 { w.byte(UInt8(truncatingIfNeeded: generation >> (8 * UInt64(i)))) }
        return w.bytes
    }

    static func batch(_ hashes: [Digest]) -> [UInt8] {
        var w = ByteWriter()
        w.varint(hashes.count)
        for h in hashes { w.raw(h.bytes) }
        w.raw(Digest.of(w.bytes).bytes)
        return w.bytes
    }

    /// The whole file: the header, then the hashes in batches of at most 4096.
    func encode() -> [UInt8] {
        var out = header()
        let sorted = blocks.sorted()
        var i = 0
        while i < sorted.count {
            out += ArchiveIndex.batch(Array(sorted[i..<min(i + 4096, sorted.count)]))
            i += 4096
        }
        return out
    }
}

/// The archive index file of one target, and the marker that a copy to it is running (a
/// copy killed after sending blocks it had not yet recorded leaves the marker; the next copy
/// then lists the target rather than send those blocks again).
struct ArchiveIndexFile {
    let root: String
    let path: String
    var running: String { path + ".running" }

    init(repository root: String, target: [UInt8]) {
        self.root = root
        path = root + "/archive/" + Hex.encode(target)
    }

    /// Refuses an `archive` that is a symbolic link (or file): its files would be written
    /// and replaced wherever it leads (see RepositoryFolder).
    private func checkFolder() throws {
        if let fd = try RepositoryFolder.open("archive", in: root) { close(fd) }
    }

    func load(target: [UInt8]) throws -> ArchiveIndex? {
        guard let bytes = try FileIO.readIfReadable(path) else { return nil }
        return ArchiveIndex.decode(bytes, target: target)
    }

    func save(_ index: ArchiveIndex) throws {
        try checkFolder()
        try FileIO.makeDirectory(String(path.dropLast(33)))
        try FileIO.writeAtomically(path, index.encode(), durable: true)
    }

    /// Appends one batch; the file is not synced (a kill does not lose it, and what a crash
    /// of the machine loses is only sent again).
    func append(_ hashes: [Digest]) throws {
        guard !hashes.isEmpty else { return }
        try checkFolder()
        let fd = try FileIO.openRegular(path, O_WRONLY | O_APPEND)
        defer { close(fd) }
        try FileIO.writeAll(fd, ArchiveIndex.batch(hashes), path)
    }

    func markRunning() throws {
        try checkFolder()
        try FileIO.makeDirectory(String(path.dropLast(33)))
        try FileIO.write(running, [], exclusive: false, durable: false)
    }
    var wasInterrupted: Bool { FileIO.exists(running) }
    func clearRunning() { try? RepositoryFolder.removeFile(running, in: root) }
}
