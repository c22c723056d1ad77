import Foundation
import GRDB

extension Repository {
    /// `snapdex source add`.
    public func addSource(_ config: SourceConfig, wait: Double = 0) throws {
        try SourceConfig.validate(name: config.name)
        if let s = config.snapshots, !FileIO.isDirectory(s) {
            throw FileIO.exists(s) ? SnapdexError.notADirectory(s) : SnapdexError.snapshotDirectoryMissing(s)
        }
        try withWriterLock(wait: wait, scope: .source(config.name)) {
            // A damaged source.json is not replaced by add: its error names `source set`, which keeps the rest.
            if let damage = sourceConfigProblem(config.name), case .sourceConfigDamaged = damage { throw damage }
            if try FileIO.exists(sourceDirectory(config.name) + "/source.json") || (read { db in try SourceRecord.fetchOne(db, key: config.name) }) != nil {
                throw SnapdexError.sourceExists(config.name)
            }
            var c = config
            c.snapshots = config.snapshots.map(Repository.absolute)
            c.livePath = config.livePath.map(Repository.absolute)
            try saveSource(c)
        }
    }

    /// `snapdex source set`: changes the given properties of a source, keeping the rest. A
    /// damaged or missing source.json is written anew from the properties given, the
    /// defaults and the policy its newest readable point recorded: its points stay.
    public func setSource(_ name: String, snapshots: String?, livePath: String?, timeFrom: TimeSource?,
                          filters: SnapshotFilterChange = SnapshotFilterChange(), wait: Double = 0) throws {
        if let dir = snapshots, !FileIO.isDirectory(dir) {
            throw FileIO.exists(dir) ? SnapdexError.notADirectory(dir) : SnapdexError.snapshotDirectoryMissing(dir)
        }
        if let dir = livePath, !FileIO.isDirectory(dir) {
            throw FileIO.exists(dir) ? SnapdexError.invalidArgument("live path \(dir) is not a directory; name the directory restores go back to") : SnapdexError.livePathNotFound(dir)
        }
        try updateSource(name, wait: wait, rebuildingDamaged: true) { c in
            if let snapshots { c.snapshots = Repository.absolute(snapshots) }
            if let livePath { c.livePath = Repository.absolute(livePath) }
            if let timeFrom { c.timeFrom = timeFrom }
            if filters.clear { (c.include, c.exclude) = ([], []) }
            if let include = filters.include { c.include = include }
            if let exclude = filters.exclude { c.exclude = exclude }
        }
    }

    /// A source's configuration as its source.json holds it; nil when it cannot be read.
    public func sourceConfiguration(_ name: String) -> SourceConfig? {
        try? loadSourceConfig(name)
    }

    /// Updates a source's stored configuration (the caller validates).
    public func updateSource(_ name: String, wait: Double = 0, rebuildingDamaged: Bool = false,
                             _ change: (inout SourceConfig) throws -> Void) throws {
        try withWriterLock(wait: wait, scope: .source(name)) {
            _ = try source(named: name)
            var c: SourceConfig
            if rebuildingDamaged, case .sourceConfigDamaged? = sourceConfigProblem(name) {
                c = rebuiltSourceConfig(name)
            } else {
                c = try loadSourceConfig(name)
            }
            try change(&c)
            try saveSource(c)
        }
    }

    /// A configuration for a source whose source.json is lost: the defaults, the policy its
    /// newest readable point recorded (each manifest keeps its source's policy), and as its
    /// snapshots folder the one folder that holds every point's snapshot, when it exists.
    func rebuiltSourceConfig(_ name: String) -> SourceConfig {
        var c = SourceConfig(name: name)
        let all = (try? points(source: name)) ?? []
        let folders = Set(all.map { ($0.snapshot as NSString).deletingLastPathComponent })
        if folders.count == 1, let folder = folders.first, FileIO.isDirectory(folder) { c.snapshots = folder }
        let newestFirst = all.sorted { ($0.time, $0.id) > ($1.time, $1.id) }
        for p in newestFirst {
            guard let m = try? manifest(of: p) else { continue }
            let text = RetentionPolicy(settings: m.policy.map { ($0.name, $0.value) }, zone: m.calendarZone).text
            c.policy = text.isEmpty ? nil : text
            break
        }
        return c
    }

    /// `snapdex source remove`; with `purge` its indexes go too, unless one is held (`point
    /// keep`) and not `force`.
    public func removeSource(_ name: String, purge: Bool, force: Bool = false, wait: Double = 0) throws -> Int {
        try withWriterLock(wait: wait) {
            _ = try source(named: name)
            let points = try self.points(source: name)
            if !points.isEmpty && !purge { throw SnapdexError.sourceHasIndexes(name, count: points.count) }
            if !force { try refuseHeld(points) }
            try forgetLocked(points)
            try RepositoryFolder.removeFile(sourceDirectory(name) + "/source.json", in: root)
            try write { db in try Catalogue.deleteSource(name, in: db) }
            PathCalls.rmdir(sourceDirectory(name))
            return points.count
        }
    }

    /// Removes indexes in the safe order: manifests (and a sync of their folders), then the
    /// database commit, then blocks no remaining index references. The caller holds the lock.
    @discardableResult
    func forgetLocked(_ points: [PointRecord]) throws -> Int {
        guard !points.isEmpty else { return 0 }
        try refuseIrregularManifests()
        try beginJournal(Journal(removes: points.map { .init(source: $0.source, id: $0.id) }))
        for p in points { try RepositoryFolder.removeFile(manifestPath(source: p.source, id: p.id), in: root) }
        for s in Set(points.map(\.source)) { try FileIO.syncDirectory(sourceDirectory(s)) }
        try crash(at: .afterManifestsRemoved)
        let freed = try write { db in try Catalogue.delete(points: points.map(\.id), in: db) }
        try crash(at: .beforeBlocksDeleted)
        let removed = deleteBlocks(freed)
        endJournal()
        return removed
    }
}

/// What `source set` does to a source's snapshot-name filters: clear them first, then replace
/// the include and exclude globs that are given.
public struct SnapshotFilterChange: Sendable {
    public var clear = false
    public var include: [String]?
    public var exclude: [String]?

    public init(clear: Bool = false, include: [String]? = nil, exclude: [String]? = nil) {
        self.clear = clear
        self.include = include
        self.exclude = exclude
    }
}

/// Places where tests stop a removal as if the process had been killed there.
public enum RemovalCrashPoint: String, Sendable, CaseIterable {
    case afterManifestsRemoved = "after-manifests-removed"
    case beforeBlocksDeleted = "before-blocks-deleted"
    /// After the first manifest of a rewrite (policy --apply-to-existing, keep) is replaced.
    case midRewrite = "mid-rewrite"
}

extension Repository {
    func crash(at point: RemovalCrashPoint) throws {
        if removalCrashPoint == point { throw SimulatedCrash() }
    }
}
