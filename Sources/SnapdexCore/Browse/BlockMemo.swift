import Foundation

/// Whole blocks that the deltas and patches of several points are built on, kept decompressed
/// for one search: a chain of daily points bases every day's content part of a chunk on the
/// same whole block, so it is read, decompressed and verified once rather than once a point.
/// Bounded in bytes (least recently used out first), so memory stays flat in the number of
/// points. Two threads may share one: a block is loaded outside the lock (both may load it).
final class BlockMemo: @unchecked Sendable {
    private let lock = NSLock()
    private var blocks: [Digest: (bytes: [UInt8], used: Int)] = [:]
    private var bytes = 0
    private var clock = 0
    let limit: Int

    /// A chunk's content part is some 10 to 60 KB: this keeps every base of a chain of a
    /// few million entries.
    static let defaultLimit = 64 << 20

    init(limit: Int) { self.limit = limit }

    /// Drops a block that will not be asked for again.
    func remove(_ hash: Digest) {
        lock.withLock {
            if let old = blocks.removeValue(forKey: hash) { bytes -= old.bytes.count }
        }
    }

    /// The block's bytes, loaded by `load` (which verifies them) when not kept.
    func get(_ hash: Digest, _ load: (Digest) throws -> [UInt8]) throws -> [UInt8] {
        let kept: [UInt8]? = lock.withLock {
            clock += 1
            guard let hit = blocks[hash] else { return nil }
            blocks[hash] = (hit.bytes, clock)
            return hit.bytes
        }
        if let kept { return kept }
        let loaded = try load(hash)
        guard loaded.count <= limit / 4 else { return loaded }
        lock.withLock {
            if let old = blocks[hash] { bytes -= old.bytes.count }
            while bytes + loaded.count > limit, let oldest = blocks.min(by: { $0.value.used < $1.value.used }) {
                bytes -= oldest.value.bytes.count
                blocks[oldest.key] = nil
            }
            blocks[hash] = (loaded, clock)
            bytes += loaded.count
        }
        return loaded
    }
}
