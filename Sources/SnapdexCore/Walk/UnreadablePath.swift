/// A path the walk could not read, so the point is partial there: a directory whose children
/// are missing, an entry that could not be stat'ed (absent from the catalog), a symlink whose
/// target is missing, or a file that `--hash` could not read. Stored in the manifest (tag 15).
public struct UnreadablePath: Equatable, Sendable {
    /// What could not be read. Codes are stored: never reuse one.
    public enum What: UInt8, Sendable {
        /// A directory that could not be opened or listed: its children are not in the point.
        case directory = 0
        /// An entry that could not be stat'ed: it is not in the point at all.
        case entry = 1
        /// A symlink whose target could not be read.
        case linkTarget = 2
        /// A regular file whose content could not be read for its hash.
        case content = 3

        /// The word JSON output uses.
        public var word: String {
            switch self {
            case .directory: return "directory"
            case .entry: return "entry"
            case .linkTarget: return "link_target"
            case .content: return "content"
            }
        }

        /// What the point lacks because of it.
        public var consequence: String {
            switch self {
            case .directory: return "what it held is not in this point"
            case .entry: return "it is not in this point"
            case .linkTarget: return "its link target is not in this point"
            case .content: return "its hash is not in this point"
            }
        }

        /// How a person reads it, after the path.
        public var phrase: String {
            switch self {
            case .directory: return "directory could not be read"
            case .entry: return "could not be read (not in the point)"
            case .linkTarget: return "link target could not be read"
            case .content: return "content could not be read for its hash"
            }
        }
    }

    /// Catalog path: relative to the snapshot root, no leading slash; the root is empty.
    public var path: [UInt8]
    public var what: What
    /// The errno of the failed system call.
    public var errno: Errno

    public init(path: [UInt8], what: What, errno: Errno) {
        self.path = path
        self.what = what
        self.errno = errno
    }

    /// What `ls` and `info` say about it.
    public var note: String {
        String(decoding: PathBytes.display(path), as: UTF8.self) + " could not be read when the point was indexed (\(errno)): \(what.consequence)"
    }

    /// `/path: directory could not be read (Permission denied)`.
    public var description: String {
        String(decoding: PathBytes.display(path), as: UTF8.self) + ": \(what.phrase) (\(errno))"
    }
}

/// The paths a walk could not read: all of them counted, the first `limit` listed, so a
/// tree with millions of unreadable entries keeps a small manifest.
public struct UnreadableList: Equatable, Sendable {
    /// How many paths are listed at most.
    public static let limit = 1000
    /// Every unreadable path, listed or not.
    public var total: UInt64 = 0
    /// The first `limit` of them, in the order the walk met them.
    public var listed: [UnreadablePath] = []

    public init() {}

    public var isEmpty: Bool { total == 0 }

    public mutating func append(_ u: UnreadablePath) {
        total += 1
        if listed.count < Self.limit { listed.append(u) }
    }

    /// The unreadable directory that is `path` or its nearest listed ancestor, if any: what
    /// is at or under it may be missing from the point.
    public func directory(containing path: [UInt8]) -> UnreadablePath? {
        listed.filter { $0.what == .directory && PathBytes.isWithin(path, $0.path) }
            .max { $0.path.count < $1.path.count }
    }

    /// Listed paths directly inside `dir` (entries missing from its listing, or with no target or hash).
    public func children(of dir: [UInt8]) -> [UnreadablePath] {
        listed.filter { !$0.path.isEmpty && PathBytes.split($0.path).dir == dir }
    }
}
