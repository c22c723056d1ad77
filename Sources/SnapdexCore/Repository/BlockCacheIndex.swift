import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The bytes of block files a host's cache of a repository on object storage holds, in
/// `CACHE/block-cache`, so that keeping to `--cache-size` costs one small read, not a listing
/// of every cached block (a cache of many blocks made every open slow).
///
/// One line: `snapdex-block-cache 1 BYTES CHECK`, where CHECK is the first 16 hex digits of
/// the SHA-256 of the text before it. Each block file is added once it is in place, under an
/// exclusive flock of the file; a trim lists the cache and writes the true figure under the same
/// lock, so a block cached during a trim is in its listing or added after it. Blocks removed
/// by the repository's own writers (expire, gc) leave the total too high until the next trim;
/// a process killed between placing a block and adding it leaves it one block low. A file
/// that is missing or whose CHECK does not match is damage: the total is counted again by
/// listing the cache, never read from it.
struct BlockCacheIndex {
    let path: String

    static let magic = "snapdex-block-cache 1"

    static func encode(_ total: Int64) -> [UInt8] {
        let text = "\(magic) \(total)"
        return Array("\(text) \(Digest.of(Array(text.utf8)).hex.prefix(16))\n".utf8)
    }

    /// The total the bytes record; nil when they are not exactly one intact line.
    static func decode(_ bytes: [UInt8]) -> Int64? {
        guard bytes.last == 10 else { return nil }
        let words = String(decoding: bytes.dropLast(), as: UTF8.self).split(separator: " ", omittingEmptySubsequences: false)
        guard words.count == 4, let total = Int64(words[2]), total >= 0, encode(total) == bytes else { return nil }
        return total
    }

    /// The recorded total; nil when the file is missing or damaged.
    func read() -> Int64? {
        guard let fd = try? FileIO.openRegular(path, O_RDONLY) else { return nil }
        defer { close(fd) }
        _ = syscall { flock(fd, LOCK_SH) }
        return BlockCacheIndex.decode(Self.contents(fd))
    }

    /// Replaces the total with `body(recorded)` while no other process reads or changes it
    /// (`recorded` is nil when the file is missing or damaged); returns the new total. When
    /// the file cannot be written, the new total is returned all the same and the next reader
    /// finds the old or no file: too high or counted again, never trusted too low.
    @discardableResult
    func update(_ body: (Int64?) -> Int64) -> Int64 {
        guard let fd = try? FileIO.openRegular(path, O_RDWR | O_CREAT) else { return body(nil) }
        defer { close(fd) }
        FileIO.adopt(fd)
        _ = syscall { flock(fd, LOCK_EX) }
        let total = body(BlockCacheIndex.decode(Self.contents(fd)))
        let line = BlockCacheIndex.encode(total)
        // Written in place (a rename would escape the lock); a torn line fails its CHECK.
        let written = line.withUnsafeBytes { b in syscall { pwrite(fd, b.baseAddress, b.count, 0) } }
        if case .success(let n) = written, n == line.count { _ = ftruncate(fd, off_t(line.count)) }
        return total
    }

    /// At most a few hundred bytes: anything longer is damage anyway.
    private static func contents(_ fd: Int32) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { b in syscall { pread(fd, b.baseAddress, b.count, 0) } }
        guard case .success(let count) = n else { return [] }
        return Array(buffer[0..<count])
    }
}
