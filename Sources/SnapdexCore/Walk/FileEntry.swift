/// The kind of a catalog entry. The raw values are the one-byte type codes stored in catalogs:
/// never change them.
public enum EntryType: UInt8, Sendable, CaseIterable {
    case file = 1
    case directory = 2
    case symlink = 3
    case fifo = 4
    case socket = 5
    case charDevice = 6
    case blockDevice = 7

    /// The word used in JSON output and `--type` filters.
    public var word: String {
        switch self {
        case .file: "file"
        case .directory: "dir"
        case .symlink: "symlink"
        case .fifo: "fifo"
        case .socket: "socket"
        case .charDevice: "chardev"
        case .blockDevice: "blockdev"
        }
    }

    /// The letter `ls -l` and `find -type` use.
    public var letter: Character {
        switch self {
        case .file: "-"
        case .directory: "d"
        case .symlink: "l"
        case .fifo: "p"
        case .socket: "s"
        case .charDevice: "c"
        case .blockDevice: "b"
        }
    }

    init?(mode: UInt32) {
        switch mode & 0o170000 {
        case 0o100000: self = .file
        case 0o040000: self = .directory
        case 0o120000: self = .symlink
        case 0o010000: self = .fifo
        case 0o140000: self = .socket
        case 0o020000: self = .charDevice
        case 0o060000: self = .blockDevice
        default: return nil
        }
    }

    /// The `S_IFMT` bits for this type.
    public var formatBits: UInt32 {
        switch self {
        case .file: 0o100000
        case .directory: 0o040000
        case .symlink: 0o120000
        case .fifo: 0o010000
        case .socket: 0o140000
        case .charDevice: 0o020000
        case .blockDevice: 0o060000
        }
    }
}

/// One file-system entry as recorded in a catalog: everything `lstat` says that matters for
/// finding and restoring it, plus what the indexer derives (hash, directory totals).
public struct FileEntry: Equatable, Sendable {
    /// The entry's name within its directory, as raw bytes. The snapshot root's own entry has an empty name.
    public var name: [UInt8]
    public var type: EntryType
    /// Permission bits including setuid, setgid and sticky (`mode & 0o7777`).
    public var permissions: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var size: UInt64
    /// Modification and status-change times, exactly as `stat` gave them.
    public var mtime: FileTime
    public var ctime: FileTime
    public var inode: UInt64
    public var nlink: UInt64
    /// Device number of a character or block device node.
    public var device: UInt64
    /// Symlink target bytes (empty for other types).
    public var target: [UInt8]
    /// SHA-256 of a regular file's content, when it was hashed.
    public var hash: Digest?
    /// For directories: number of direct children, and regular files and their bytes in the whole subtree.
    public var children: UInt64
    public var treeFiles: UInt64
    public var treeBytes: UInt64

    public init(name: [UInt8], type: EntryType, permissions: UInt32 = 0o644, uid: UInt32 = 0, gid: UInt32 = 0,
                size: UInt64 = 0, mtime: FileTime = FileTime(nanoseconds: 0), ctime: FileTime = FileTime(nanoseconds: 0), inode: UInt64 = 0, nlink: UInt64 = 1,
                device: UInt64 = 0, target: [UInt8] = [], hash: Digest? = nil,
                children: UInt64 = 0, treeFiles: UInt64 = 0, treeBytes: UInt64 = 0) {
        self.name = name
        self.type = type
        self.permissions = permissions
        self.uid = uid
        self.gid = gid
        self.size = size
        self.mtime = mtime
        self.ctime = ctime
        self.inode = inode
        self.nlink = nlink
        self.device = device
        self.target = target
        self.hash = hash
        self.children = children
        self.treeFiles = treeFiles
        self.treeBytes = treeBytes
    }

    /// `st_mode` as `lstat` would report it.
    public var mode: UInt32 { type.formatBits | permissions }
}

/// A directory's children, sorted bytewise by name, under the directory's path relative to the
/// snapshot root (`[]` for the root, `alice/docs` below it). The root's group starts with the
/// root's own entry, whose name is empty.
public struct DirectoryGroup: Sendable {
    public var path: [UInt8]
    public var entries: [FileEntry]
    public init(path: [UInt8], entries: [FileEntry]) {
        self.path = path
        self.entries = entries
    }
}
