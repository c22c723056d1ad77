/// Everything that can go wrong, each case worded as what happened and what to do about it.
///
/// `exitCode` is the one place that maps failures to exit statuses:
/// 1 failure, 2 usage, 3 damaged data found, 4 partial (some items failed).
public enum SnapdexError: Error, CustomStringConvertible, Equatable {
    case repositoryMissing(path: String)
    case repositoryExists(path: String)
    case repositoryLocked(path: String, pid: Int32?)
    case repositoryNewerFormat(path: String, found: Int, supported: Int)
    case invalidSourceName(String)
    case sourceUnknown(String)
    case sourceExists(String)
    case sourceHasIndexes(String, count: Int)
    case sourceHasNoSnapshotsFolder(String)
    case snapshotDirectoryMissing(String)
    case snapshotGone(point: String, path: String)
    case notADirectory(String)
    case pointUnknown(String)
    case pointAmbiguous(String, candidates: [String])
    case pointExists(source: String, time: String, id: String)
    case pointExpired(String)
    case pathNotFound(point: String, path: String)
    case manifestDamaged(path: String, reason: String)
    case blockDamaged(hash: String, reason: String)
    case blockMissing(hash: String)
    case catalogNewerFormat(path: String, found: Int, supported: Int)
    case diskFull(path: String)
    case io(operation: String, path: String, errno: Errno)
    case invalidTime(String)
    case impossibleTime(String, reason: String)
    /// A typed time outside 1677..2262; `hint` names what to type instead, when there is something.
    case timeOutOfRange(String, hint: String?)
    case invalidArgument(String)
    case database(String)
    case interrupted(String)
    case partial(String)

    public var description: String {
        switch self {
        case .repositoryMissing(let p):
            return "no Snapdex repository at \(p); create one with `snapdex init --repo \(p)` or point --repo / SNAPDEX_REPO at an existing one"
        case .repositoryExists(let p):
            return "a Snapdex repository already exists at \(p); use it, or choose another --repo"
        case .repositoryLocked(let p, let pid):
            let who = pid.map { "process \($0)" } ?? "another process"
            return "repository \(p) is locked by another writer (\(who)); wait for it to finish, or retry with --wait SECONDS"
        case .repositoryNewerFormat(let p, let found, let supported):
            return "repository \(p) has format version \(found) but this snapdex supports up to \(supported); upgrade snapdex"
        case .invalidSourceName(let n):
            return "invalid source name '\(n)': use letters, digits, '.', '_' and '-', not starting with '.' or '-'"
        case .sourceUnknown(let n):
            return "no source named '\(n)'; list sources with `snapdex source list` or add one with `snapdex source add`"
        case .sourceExists(let n):
            return "source '\(n)' already exists; pick another name or remove it first"
        case .sourceHasIndexes(let n, let c):
            return "source '\(n)' still has \(c) index(es); pass --purge to remove them too"
        case .sourceHasNoSnapshotsFolder(let n):
            return "source '\(n)' has no snapshots folder; name a directory (`snapdex index DIR --source \(n)`) or re-add the source with --snapshots"
        case .snapshotDirectoryMissing(let p):
            return "snapshot directory \(p) does not exist; check the path or mount the snapshot"
        case .snapshotGone(let point, let p):
            return "the snapshot directory \(p) of point \(point) is gone; mount or restore the snapshot there, or pick another point (`snapdex points`)"
        case .notADirectory(let p):
            return "\(p) is not a directory; name the snapshot's top directory"
        case .pointUnknown(let r):
            return "no restore point matches '\(r)'; list points with `snapdex points`"
        case .pointAmbiguous(let r, let c):
            return "'\(r)' matches \(c.count) restore points (\(c.prefix(5).joined(separator: ", "))); type more of the id"
        case .pointExists(let s, let t, let id):
            return "source '\(s)' already has index \(id) at \(t); pass --replace to index it again"
        case .pointExpired(let r):
            return "restore point \(r) was expired or forgotten while it was being read; list points with `snapdex points`"
        case .pathNotFound(let point, let path):
            return "\(path) is not in restore point \(point); list it with `snapdex ls \(point)`"
        case .manifestDamaged(let p, let why):
            return "manifest \(p) is damaged (\(why)); run `snapdex verify`, then `snapdex rescan`"
        case .blockDamaged(let h, let why):
            return "catalog block \(h) is damaged (\(why)); run `snapdex verify` to see which points it affects"
        case .blockMissing(let h):
            return "catalog block \(h) is missing; run `snapdex verify` to see which points it affects"
        case .catalogNewerFormat(let p, let found, let supported):
            return "\(p) has catalog format version \(found) but this snapdex reads up to \(supported); upgrade snapdex"
        case .diskFull(let p):
            return "no space left on the device holding \(p); free some space and run the command again (nothing was published)"
        case .io(let op, let p, let e):
            return "\(op) \(p): \(e)"
        case .invalidTime(let t):
            return "cannot read '\(t)' as a time; use ISO 8601 such as 2026-11-21 or 2026-11-21T03:00:00Z"
        case .impossibleTime(let t, let why):
            return "'\(t)' is not a time that exists: \(why)"
        case .timeOutOfRange(let t, let hint):
            return "'\(t)' is outside the times snapdex can store (\(Timestamp.rangeDescription))" + (hint.map { "; \($0)" } ?? "")
        case .invalidArgument(let why):
            return why
        case .database(let why):
            return "database error: \(why); if it persists, delete snapdex.db and run `snapdex rescan`"
        case .interrupted(let why):
            return "interrupted: \(why)"
        case .partial(let why):
            return why
        }
    }

    /// The process exit status for this error.
    public var exitCode: Int32 {
        switch self {
        case .invalidSourceName, .invalidTime, .impossibleTime, .timeOutOfRange, .invalidArgument: return ExitStatus.usage
        case .manifestDamaged, .blockDamaged, .blockMissing: return ExitStatus.damaged
        case .partial: return ExitStatus.partial
        default: return ExitStatus.failure
        }
    }

    static func io(_ operation: String, _ path: String, _ e: Errno) -> SnapdexError {
        e == .noSpace ? .diskFull(path: path) : .io(operation: operation, path: path, errno: e)
    }
}

/// Exit statuses, documented in snapdex(1).
public enum ExitStatus {
    public static let success: Int32 = 0
    public static let failure: Int32 = 1
    public static let usage: Int32 = 2
    public static let damaged: Int32 = 3
    public static let partial: Int32 = 4
}
