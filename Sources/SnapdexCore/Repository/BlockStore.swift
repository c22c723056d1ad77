#if canImport(Glibc)
import Glibc
#endif

/// The content-addressed block files under `REPO/blocks/XX/HASH`. A block file is a 16-byte
/// header (magic, version, part kind, compression, uncompressed length) and an xz stream.
public final class BlockStore: BlockSink {
    public let directory: String
    public var preset: UInt32 = 1
    /// Blocks the repository already holds (from the database), with their stored sizes.
    var known: [Digest: Int]
    /// Blocks written by this writer, not yet committed to the database.
    public private(set) var written: [Digest] = []
    public private(set) var bytesWritten = 0
    public private(set) var reused = 0
    /// Called before each new block is written (fault injection in tests).
    var beforeWrite: (() throws -> Void)?

    init(directory: String, known: [Digest: Int]) {
        self.directory = directory
        self.known = known
    }

    public func path(of hash: Digest) -> String {
        let hex = hash.hex
        return "\(directory)/\(hex.prefix(2))/\(hex)"
    }

    public func put(_ raw: [UInt8]) throws -> PartRef {
        let hash = Digest.of(raw)
        if let stored = known[hash] {
            reused += 1
            return PartRef(hash: hash, rawSize: raw.count, storedSize: stored)
        }
        try beforeWrite?()
        let compressed = try LZMA.compress(raw, preset: preset)
        var file = ByteWriter(capacity: compressed.count + 16)
        file.raw(FormatConstants.blockMagic)
        file.byte(UInt8(FormatConstants.catalogVersion))
        file.byte(raw.first ?? 0)
        file.byte(FormatConstants.compressionXZ)
        file.byte(0)
        file.uint32LE(UInt32(raw.count))
        file.raw(compressed)
        let final = path(of: hash)
        let dir = String(final.dropLast(65))
        try FileIO.makeDirectory(dir)
        try FileIO.write(final + ".tmp", file.bytes, exclusive: false, durable: false, mode: 0o400)
        if case .failure(let e) = syscall({ rename(final + ".tmp", final) }) {
            FileIO.remove(final + ".tmp")
            throw SnapdexError.io("cannot rename", final, e)
        }
        known[hash] = file.bytes.count
        written.append(hash)
        bytesWritten += file.bytes.count
        return PartRef(hash: hash, rawSize: raw.count, storedSize: file.bytes.count)
    }

    /// Reads a block and returns its uncompressed bytes after checking they hash to its name.
    public func read(_ hash: Digest) throws -> [UInt8] {
        let p = path(of: hash)
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readAll(p)
        } catch SnapdexError.io(_, _, let e) where e == .noEntry {
            throw SnapdexError.blockMissing(hash: hash.hex)
        }
        return try BlockStore.decode(bytes, hash: hash)
    }

    static func decode(_ bytes: [UInt8], hash: Digest) throws -> [UInt8] {
        func damaged(_ why: String) -> SnapdexError { .blockDamaged(hash: hash.hex, reason: why) }
        guard bytes.count >= 16, Array(bytes[0..<8]) == FormatConstants.blockMagic else { throw damaged("bad header") }
        guard UInt16(bytes[8]) <= FormatConstants.catalogMaxReadVersion else {
            throw SnapdexError.catalogNewerFormat(path: hash.hex, found: Int(bytes[8]), supported: Int(FormatConstants.catalogMaxReadVersion))
        }
        guard bytes[10] == FormatConstants.compressionXZ else { throw damaged("unknown compression \(bytes[10])") }
        var r = ByteReader(bytes, offset: 12)
        let size = Int(try! r.uint32LE())
        let raw: [UInt8]
        do {
            raw = try LZMA.decompress(bytes[16...], size: size)
        } catch {
            throw damaged("does not decompress")
        }
        guard Digest.of(raw) == hash else { throw damaged("content does not match its hash") }
        guard raw.first == bytes[9] else { throw damaged("part kind mismatch") }
        return raw
    }

    /// Starts a writer's run: the blocks the database knows, and no counts yet.
    func begin(known: [Digest: Int]) {
        self.known = known
        written.removeAll()
        bytesWritten = 0
        reused = 0
    }

    /// Removes the files of blocks this writer wrote (after a failed run).
    func discardWritten() {
        for h in written { FileIO.remove(path(of: h)) }
        written.removeAll()
    }
}
