/// What to do when the restore target already has something at a path.
public enum ConflictPolicy: String, Sendable, CaseIterable {
    case skip
    case overwrite
    case ifNewer = "if-newer"
    case keepBoth = "keep-both"
}

/// What is at a destination path now.
public struct ExistingEntry: Equatable, Sendable {
    public var type: EntryType
    public var mtime: FileTime
    public init(type: EntryType, mtime: FileTime) {
        self.type = type
        self.mtime = mtime
    }
}

/// What the restore does with one entry, and why.
public enum RestoreAction: Equatable, Sendable {
    /// Nothing is there: write it.
    case create
    /// A directory is there and a directory is restored: restore into it.
    case merge
    case skip(String)
    case replace(String)
    /// Write it beside the existing one under this name.
    case keepBoth(name: [UInt8])
    /// It cannot be restored there: the entry fails, in a dry run too.
    case refuse(String)

    public var word: String {
        switch self {
        case .create: "create"
        case .merge: "merge"
        case .skip: "skip"
        case .replace: "replace"
        case .keepBoth: "keep-both"
        case .refuse: "fail"
        }
    }
}

/// Decides conflicts as a pure function of the catalog entry, what is at the destination,
/// the policy and the time of the restore (for `--keep-both` names).
public enum RestorePlanner {
    public static func decide(_ entry: FileEntry, existing: ExistingEntry?, policy: ConflictPolicy, now: Timestamp) -> RestoreAction {
        guard let existing else { return .create }
        if entry.type == .directory && existing.type == .directory { return .merge }
        switch policy {
        case .skip:
            return .skip("already exists; --skip keeps it")
        case .overwrite:
            if existing.type == .directory {
                return .refuse("a directory is in the way; a directory is never replaced by a \(entry.type.word)")
            }
            return .replace("already exists; --overwrite replaces it")
        case .ifNewer:
            if existing.type == .directory { return .skip("a directory is in the way") }
            return entry.mtime > existing.mtime ? .replace("the snapshot's copy is newer") : .skip("the existing copy is as new or newer")
        case .keepBoth:
            return .keepBoth(name: entry.name + Array(".restored-\(now.compact())".utf8))
        }
    }

    /// The first of `name`, `name-2`, `name-3`... that is not `taken`: two `--keep-both`
    /// restores within one second get two names.
    public static func unusedName(_ name: [UInt8], taken: ([UInt8]) -> Bool) -> [UInt8] {
        var candidate = name
        var n = 1
        while taken(candidate) {
            n += 1
            candidate = name + Array("-\(n)".utf8)
        }
        return candidate
    }

    /// A name from a catalog is safe to create in a directory: not empty, no `/`, not `.` or `..`.
    public static func isSafeName(_ name: [UInt8]) -> Bool {
        !name.isEmpty && !name.contains(PathBytes.slash) && name != [46] && name != [46, 46] && !name.contains(0)
    }

    /// Every component of a catalog path is a safe name.
    public static func isSafePath(_ path: [UInt8]) -> Bool {
        path.isEmpty || path.split(separator: PathBytes.slash, omittingEmptySubsequences: false).allSatisfy { isSafeName(Array($0)) }
    }
}
