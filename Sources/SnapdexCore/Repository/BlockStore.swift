import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The content-addressed block files under `REPO/blocks/XX/HASH`. A block file is a 16-byte
/// header (magic, version, part kind, compression, uncompressed length) and an xz stream.
///
/// New blocks are compressed and written on worker threads while the walk goes on: the
/// walk is system calls on one core, compression is CPU on the other. `put` returns at once;
/// `finishWrites` waits for the workers and gives the stored sizes.
public final class BlockStore: BlockSink, @unchecked Sendable {
    public let directory: String
    public var preset: UInt32 = 1
    /// Blocks the repository already holds (from the database), with their stored sizes;
    /// `pendingSize` for blocks this writer is still compressing.
    var known: [Digest: Int]
    static let pendingSize = -1
    /// Blocks written by this writer, not yet committed to the database.
    public private(set) var written: [Digest] = []
    /// Blocks of `written` that replace a missing or damaged file of a block the database
    /// knows: kept even when the run fails, as they only repair.
    private var rewritten: Set<Digest> = []
    public private(set) var bytesWritten = 0
    public private(set) var reused = 0
    /// Called before each new block is written (fault injection in tests).
    var beforeWrite: (() throws -> Void)?
    /// For a repository on object storage, where this directory is the host's cache: the
    /// block file's bytes from the store when the cache lacks it (nil when the store does too).
    var fetchMissing: (@Sendable (Digest) throws -> [UInt8]?)?
    /// For such a cache: told the size of each block file written into it, once it is in
    /// place, so the cache keeps count of its size.
    var didStore: (@Sendable (Int) -> Void)?

    private var pool: WorkerPool?
    private var workers: WorkerPool {
        if let pool { return pool }
        let p = WorkerPool(threads: max(2, ProcessInfo.processInfo.activeProcessorCount), limit: 2)
        pool = p
        return p
    }
    private let lock = NSLock()
    private var finishedSizes: [Digest: Int] = [:]
    private var workerError: Error?
    // Under `lock`: blocks read back intact in this run; known blocks checked for this
    // point (with their stored sizes); known blocks found damaged and written anew.
    private var verified: Set<Digest> = []
    private var checkedSizes: [Digest: Int] = [:]
    private var rewrittenByWorkers: [Digest] = []

    init(directory: String, known: [Digest: Int]) {
        self.directory = directory
        self.known = known
    }

    deinit { pool?.close() }

    public func path(of hash: Digest) -> String {
        let hex = hash.hex
        return "\(directory)/\(hex.prefix(2))/\(hex)"
    }

    public func contains(_ hash: Digest) -> Bool { known[hash] != nil }

    public func reuse(_ blocks: [BlockRef]) { reused += blocks.count }

    public func holdsIntact(_ hash: Digest) -> Bool {
        if lock.withLock({ verified.contains(hash) }) { return true }
        guard (try? read(hash)) != nil else { return false }
        lock.withLock { _ = verified.insert(hash) }
        return true
    }

    public func put(_ raw: [UInt8], hash: Digest, readByFind: Bool) throws -> BlockRef {
        if let stored = known[hash] {
            reused += 1
            // On object storage a block some manifest references is in the store (gc keeps
            // it): reading it back would cost a GET per reused block, on a cold cache all of them.
            if stored == BlockStore.pendingSize || fetchMissing != nil || lock.withLock({ verified.contains(hash) }) {
                return BlockRef(hash: hash, rawSize: raw.count, storedSize: stored)
            }
            // A block the database knows is reused only once its file reads back intact; a
            // missing or damaged one is written anew from these bytes. The check runs on a
            // worker, beside the walk, like compression.
            if let e = lock.withLock({ workerError }) { throw e }
            known[hash] = BlockStore.pendingSize
            workers.submit { [self] in
                if (try? read(hash)) != nil {
                    lock.withLock {
                        verified.insert(hash)
                        checkedSizes[hash] = stored
                    }
                    return
                }
                do {
                    let size = try write(raw, hash: hash, readByFind: readByFind)
                    lock.withLock {
                        verified.insert(hash)
                        finishedSizes[hash] = size
                        rewrittenByWorkers.append(hash)
                    }
                } catch {
                    lock.withLock { if workerError == nil { workerError = error } }
                }
            }
            return BlockRef(hash: hash, rawSize: raw.count, storedSize: BlockStore.pendingSize)
        }
        try beforeWrite?()
        if let e = lock.withLock({ workerError }) { throw e }
        known[hash] = BlockStore.pendingSize
        written.append(hash)
        workers.submit { [self] in
            do {
                let size = try write(raw, hash: hash, readByFind: readByFind)
                lock.withLock { finishedSizes[hash] = size }
            } catch {
                lock.withLock { if workerError == nil { workerError = error } }
            }
        }
        return BlockRef(hash: hash, rawSize: raw.count, storedSize: BlockStore.pendingSize)
    }

    /// Waits for every block being written; returns the stored size of each, or throws the
    /// first write error.
    public func finishWrites() throws -> [Digest: Int] {
        pool?.waitIdle()
        return try lock.withLock {
            if let e = workerError { throw e }
            // Known blocks written anew count as written, not reused.
            written += rewrittenByWorkers
            reused -= rewrittenByWorkers.count
            rewritten.formUnion(rewrittenByWorkers)
            rewrittenByWorkers.removeAll()
            let sizes = finishedSizes.merging(checkedSizes) { a, _ in a }
            for (h, size) in sizes { known[h] = size }
            bytesWritten = finishedSizes.values.reduce(0, +)
            return sizes
        }
    }

    /// The bytes of the block file for a part (`raw`, uncompressed): the header and the xz
    /// stream, compressed as the writer chooses (`readByFind`: a content delta, see
    /// `BlockSink.put`). A repair writes the same bytes as the index that first wrote it.
    func fileBytes(_ raw: [UInt8], readByFind: Bool) throws -> [UInt8] {
        // Columns of nearly random values (sizes, nanosecond mtimes) are stored without
        // compression: LZMA would spend most of its time on them for a few percent.
        var compressed = try LZMA.compress(raw, preset: preset, storing: IncompressibleColumns.ranges(in: raw))
        if readByFind, IncompressibleColumns.storesWhole(raw, compressedSize: compressed.count) { compressed = try LZMA.store(raw) }
        var file = ByteWriter(capacity: compressed.count + 16)
        file.raw(FormatConstants.blockMagic)
        file.byte(FormatConstants.blockVersion)
        file.byte(raw.first ?? 0)
        file.byte(FormatConstants.compressionXZ)
        file.byte(0)
        file.uint32LE(UInt32(raw.count))
        file.raw(compressed)
        return file.bytes
    }

    /// Compresses and writes one block file; returns its size. Whatever stands in its way
    /// and is not a regular file is moved aside or replaced (`clearWay`), never followed.
    private func write(_ raw: [UInt8], hash: Digest, readByFind: Bool = false) throws -> Int {
        let bytes = try fileBytes(raw, readByFind: readByFind)
        let final = path(of: hash)
        let dir = String(final.dropLast(65))
        try FileIO.makeDirectory(dir)
        let tmp = final + ".tmp"
        do {
            try FileIO.write(tmp, bytes, exclusive: false, durable: false, mode: 0o400)
        } catch let e as SnapdexError where e.isNotRegularFile {
            // A folder, FIFO or link named like the temporary: moved aside, then written.
            _ = try clearWay(tmp, of: hash)
            try FileIO.write(tmp, bytes, exclusive: false, durable: false, mode: 0o400)
        }
        var renamed = syscall({ PathCalls.rename(tmp, final) })
        if case .failure(let e) = renamed, e == .isDirectory || e == .notEmpty || e == .exists {
            // A folder where the block file belongs, which rename(2) cannot replace.
            _ = try clearWay(final, of: hash)
            renamed = syscall({ PathCalls.rename(tmp, final) })
        }
        if case .failure(let e) = renamed {
            FileIO.remove(tmp)
            throw SnapdexError.io("cannot rename", final, e)
        }
        didStore?(bytes.count)
        return bytes.count
    }

    /// Under `lock`: what was found in the way of each block file written and what became of it.
    private var cleared: [Digest: String] = [:]

    /// What stood where the file of block `hash` was written and was not a regular file
    /// (a folder, a FIFO, a symbolic link), and where it went; nil when nothing did.
    func clearedWay(of hash: Digest) -> String? { lock.withLock { cleared[hash] } }

    /// Makes way at `path` (a block file or its temporary) for a regular file: a folder is
    /// renamed to `path.damaged` (`.damaged.2`... when taken), in the same folder of the
    /// repository, with whatever it holds; anything else that is not a regular file (a
    /// symbolic link, a FIFO, a device) is left for rename(2) to replace: the link itself
    /// goes, never what it points to. Says what it did, and notes it for `clearedWay(of:)`.
    @discardableResult
    private func clearWay(_ path: String, of hash: Digest) throws -> String? {
        var st = stat()
        guard PathCalls.lstat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG else { return nil }
        let kind = ManifestFile.kind(st)
        let place = path.hasSuffix(".tmp") ? "named like its temporary file" : "in its place"
        let note: String
        if (st.st_mode & S_IFMT) == S_IFDIR {
            var aside = path + ".damaged"
            var n = 1
            while FileIO.exists(aside) {
                n += 1
                aside = path + ".damaged.\(n)"
            }
            if case .failure(let e) = syscall({ PathCalls.rename(path, aside) }) { throw SnapdexError.io("cannot move aside", path, e) }
            note = "\(kind) \(place) was moved to \(aside)"
        } else if path.hasSuffix(".tmp") {
            // Only a name snapdex uses for its own temporaries: removed (a link goes, not its target).
            if case .failure(let e) = syscall({ PathCalls.unlink(path) }) { throw SnapdexError.io("cannot remove", path, e) }
            note = "\(kind) named like its temporary file was removed"
        } else {
            note = "\(kind) in its place was replaced" + ((st.st_mode & S_IFMT) == S_IFLNK ? ", the link alone: what it points to was not touched" : "")
        }
        lock.withLock { cleared[hash] = [cleared[hash], note].compactMap { $0 }.joined(separator: "; ") }
        return note
    }

    /// Writes a block file again from its uncompressed bytes (repair), compressed as the
    /// index that wrote it chose (`readByFind`: a content delta); returns its size.
    func rewrite(_ raw: [UInt8], hash: Digest, readByFind: Bool) throws -> Int {
        guard Digest.of(raw) == hash else { throw SnapdexError.blockDamaged(hash: hash.hex, reason: "the bytes to write do not match its hash") }
        // A link or FIFO in its place is replaced by rename(2) without a word: said here.
        try clearWay(path(of: hash), of: hash)
        let size = try write(raw, hash: hash, readByFind: readByFind)
        lock.withLock { _ = verified.insert(hash) }
        return size
    }

    /// Reads a block and returns its uncompressed bytes after checking they hash to its name.
    public func read(_ hash: Digest) throws -> [UInt8] {
        let p = path(of: hash)
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readAll(p)
        } catch SnapdexError.notRegularFile(_, let kind) {
            throw SnapdexError.blockDamaged(hash: hash.hex, reason: "its file is \(kind), not a regular file")
        } catch SnapdexError.io(_, _, let e) where e == .notDirectory {
            // Its folder blocks/XX is not a folder: damage that verify --repair moves aside.
            let folder = String(p.dropLast(65))
            var st = stat()
            guard PathCalls.lstat(folder, &st) == 0 else { throw SnapdexError.io("cannot open", p, e) }
            throw SnapdexError.blockFolderNotReal(path: folder, kind: RepositoryFolder.kind(st))
        } catch SnapdexError.io(_, _, let e) where e == .noEntry {
            guard let fetchMissing, let fetched = try fetchMissing(hash) else { throw SnapdexError.blockMissing(hash: hash.hex) }
            // Checked before it is cached: a damaged object never becomes a trusted cache file.
            let raw = try BlockStore.decode(fetched, hash: hash)
            try FileIO.makeDirectory(String(p.dropLast(65)))
            // Worker threads may fetch the same block at once: each writes its own temporary.
            let tmp = p + "." + String(UInt64.random(in: 0...UInt64.max), radix: 16) + ".tmp"
            try FileIO.write(tmp, fetched, exclusive: false, durable: false, mode: 0o400)
            if case .failure(let e) = syscall({ PathCalls.rename(tmp, p) }) {
                FileIO.remove(tmp)
                throw SnapdexError.io("cannot rename", tmp, e)
            }
            didStore?(fetched.count)
            return raw
        }
        // The cache evicts the least recently used blocks: a hit counts as a use.
        if fetchMissing != nil { _ = utimensat(AT_FDCWD, p, nil, 0) }
        return try BlockStore.decode(bytes, hash: hash)
    }

    /// The largest uncompressed part a block may claim: a chunk holds at most 16384 entries of
    /// at most a 4 KiB symlink target and a 255-byte name each (about 72 MiB). A flipped bit in
    /// the length is damage, not a reason to allocate gigabytes.
    static let maxRawSize = 256 << 20

    /// Checks a block file and returns its uncompressed bytes. The hash is checked before any
    /// header byte is believed: a block is only ever reached through a manifest this build
    /// reads, which never names a block format it cannot read, so whatever does not verify,
    /// version byte included, is damage (exit 3), never "upgrade snapdex".
    static func decode(_ bytes: [UInt8], hash: Digest) throws -> [UInt8] {
        func damaged(_ why: String) -> SnapdexError { .blockDamaged(hash: hash.hex, reason: why) }
        guard bytes.count >= 16, Array(bytes[0..<8]) == FormatConstants.blockMagic else { throw damaged("bad header") }
        guard bytes[10] == FormatConstants.compressionXZ else { throw damaged("unknown compression \(bytes[10])") }
        let size = Int(UInt32(bytes[12]) | UInt32(bytes[13]) << 8 | UInt32(bytes[14]) << 16 | UInt32(bytes[15]) << 24)
        guard size <= maxRawSize else { throw damaged("claims \(size) uncompressed bytes") }
        let raw: [UInt8]
        do {
            raw = try LZMA.decompress(bytes[16...], size: size)
        } catch {
            throw damaged("does not decompress")
        }
        guard Digest.of(raw) == hash else { throw damaged("content does not match its hash") }
        guard bytes[8] >= 1, bytes[8] <= FormatConstants.blockVersion else {
            throw damaged("header names format version \(bytes[8]) but the content verifies: the header is damaged")
        }
        guard raw.first == bytes[9] else { throw damaged("part kind mismatch") }
        return raw
    }

    /// Starts a writer's run: the blocks the database knows, and no counts yet.
    func begin(known: [Digest: Int]) {
        beginPoint()
        self.known = known
        lock.withLock { verified.removeAll() }
    }

    /// Starts one index of a run: counts from zero, the known blocks kept.
    func beginPoint() {
        pool?.waitIdle()
        written.removeAll()
        rewritten.removeAll()
        bytesWritten = 0
        reused = 0
        lock.withLock {
            finishedSizes.removeAll()
            checkedSizes.removeAll()
            rewrittenByWorkers.removeAll()
            workerError = nil
        }
    }

    /// Removes the files of blocks this writer wrote (after a failed run).
    func discardWritten() {
        pool?.waitIdle()
        let doomed = written.filter { !rewritten.contains($0) }
        // A copy job may have sent one of these blocks before: its archive index must not
        // trust the file this removes. When the generation cannot be raised, gc removes them.
        let root = String(directory.dropLast("/blocks".count))
        let raised = doomed.isEmpty || (try? Repository.bumpGeneration(root: root)) != nil
        for h in doomed {
            if raised { try? RepositoryFolder.removeFile(path(of: h), in: root) }
            known[h] = nil
        }
        written.removeAll()
        rewritten.removeAll()
    }
}
