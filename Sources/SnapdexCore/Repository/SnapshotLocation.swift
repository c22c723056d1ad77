/// A point whose snapshot folder a rotation renamed, and where an index run found it.
public struct Relocation: Sendable {
    public var id: String
    public var source: String
    public var time: Timestamp
    public var from: String
    public var to: String
}

/// The folders a point's snapshot may have moved to: the snapshots of its source's snapshots
/// folder and of the folder its recorded path is in (rotations rename within one folder).
struct SnapshotFolders {
    private(set) var paths: [String] = []
    private var identities: [String: SnapshotIdentity] = [:]

    /// The folders `roots`, each with its identity as it is now.
    init(roots: [String]) {
        for path in roots where !identities.keys.contains(path) {
            paths.append(path)
            if case .success(let id) = SnapshotIdentity.of(directory: path) { identities[path] = id }
        }
        paths.sort()
    }

    /// The folder's identity as read when listed (or now, for one not listed).
    func identity(of path: String) -> SnapshotIdentity? {
        if let id = identities[path] { return id }
        return try? SnapshotIdentity.of(directory: path).get()
    }

    /// Where `recorded` (identity of a point indexed from `path`) is now: `path` itself when it
    /// still holds it, else the one other folder with its device, inode and fingerprint.
    func holder(of recorded: SnapshotIdentity, recordedAt path: String) -> String? {
        if let here = identity(of: path), recorded.isHeld(by: here, atRecordedPath: true) { return path }
        return paths.first { $0 != path && identities[$0].map { recorded.isHeld(by: $0, atRecordedPath: false) } == true }
    }

    static func parent(of path: String) -> String {
        guard let i = path.lastIndex(of: "/") else { return "." }
        return i == path.startIndex ? "/" : String(path[..<i])
    }
}

extension Repository {
    /// The folder that now holds a point's snapshot: the one it was indexed from while that
    /// still has its identity, else the folder a rotation moved it to. Never another
    /// snapshot: when no folder has its identity, the point's files cannot be read.
    public func snapshotFolder(of point: PointRecord) throws -> String {
        let short = String(point.id.prefix(12))
        guard let recorded = try manifest(of: point).identity else {
            // Indexed before identities were recorded: its folder is trusted by its path.
            guard FileIO.isDirectory(point.snapshot) else { throw SnapdexError.snapshotGone(point: short, path: point.snapshot) }
            return point.snapshot
        }
        var parents = [SnapshotFolders.parent(of: point.snapshot)]
        if let folder = try? source(named: point.source).snapshots { parents.append(folder) }
        let folders = SnapshotFolders(roots: Set(parents).flatMap { SnapshotLayout.snapshots(in: $0).map(\.root) })
        if let found = folders.holder(of: recorded, recordedAt: point.snapshot) { return found }
        guard FileIO.isDirectory(point.snapshot) else { throw SnapdexError.snapshotGone(point: short, path: point.snapshot) }
        throw SnapdexError.snapshotReplaced(point: short, path: point.snapshot)
    }

    /// Records, durably, that a point's snapshot is now at `path`: the manifest is rewritten
    /// under the journal (`rewrite SOURCE ID` + `snapshot HEX`), then its database row.
    /// The caller holds the lock.
    func relocate(_ point: PointRecord, to path: String) throws {
        try rewriteManifests([point], .snapshotPath(path))
    }
}
