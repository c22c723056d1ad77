/// Magic numbers and version numbers of the on-disk formats, defined in one place.
///
/// Never change these: every catalog ever written depends on them. A new format gets a new
/// version number, and readers keep reading the old ones (docs/FORMAT.md, "Version rules").
public enum FormatConstants {
    /// First 8 bytes of every manifest file.
    public static let manifestMagic: [UInt8] = Array("SNAPDEXM".utf8)
    /// First 8 bytes of every block file.
    public static let blockMagic: [UInt8] = Array("SNAPDEXB".utf8)
    /// The catalog format version this build writes in manifests. Version 2 adds optional
    /// manifest tags (13-15) that version-1 readers skip, so the oldest-reader field stays 1.
    /// Version 3 adds delta parts (kind 4, chunk table form 2): a manifest that uses one says
    /// 3 as its oldest reader, one that does not still says 1. Version 3 also adds trailing
    /// time exception columns, which older readers skip (showing the nearest time they hold),
    /// and optional tags 18-19 (copied points), which older readers skip. Version 4 adds
    /// level-2 deltas (chunk table form 3): a manifest that uses one says 4 as its oldest
    /// reader; one that does not says what version 3 would.
    public static let catalogVersion: UInt16 = 4
    /// The newest catalog format version this build reads.
    public static let catalogMaxReadVersion: UInt16 = 4
    /// The version byte of block files: their layout is unchanged since catalog format 1, and
    /// a version-1 reader counts any other byte as damage, so it stays 1.
    public static let blockVersion: UInt8 = 1
    /// The repository layout version (in `REPO/config`).
    public static let repositoryVersion = 1
    /// Block compression: LZMA2 in an xz stream with no integrity check (the block's name is
    /// the SHA-256 of its uncompressed bytes, which is checked instead).
    public static let compressionXZ: UInt8 = 1
}

/// How a catalog is cut into chunks. Changing these changes where chunks are cut, and so
/// how much a new index shares with old ones, but never what any catalog means.
public struct ChunkingParameters: Sendable {
    public var minEntries: Int
    public var maxEntries: Int
    /// A cut is made after an entry whose key hash has these low bits all zero.
    public var mask: UInt64
    public static let standard = ChunkingParameters(minEntries: 2048, maxEntries: 16384, mask: 0x7ff)
    public init(minEntries: Int, maxEntries: Int, mask: UInt64) {
        self.minEntries = minEntries
        self.maxEntries = maxEntries
        self.mask = mask
    }
}
