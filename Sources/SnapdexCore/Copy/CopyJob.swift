import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What `snapdex copy` is asked to do.
public struct CopyOptions: Sendable {
    /// The target: a folder (made a repository when it is not one yet), or a URL whose
    /// store is `targetStore`.
    public var target: String
    /// The target's store when it is a repository on object storage (`s3://BUCKET/PREFIX`);
    /// nil for a folder. A target not yet a repository there is made one.
    public var targetStore: (any ObjectStore)?
    /// Where this host keeps its cache of a target on object storage.
    public var targetCache = StoreCacheOptions()
    /// Only these sources' points (all sources when empty).
    public var sources: [String] = []
    /// These points (instead of every point of the sources that the target lacks).
    public var points: [PointRecord] = []
    public var dryRun = false
    public var wait: Double = 0
    /// Apply the target's retention to the copied sources afterwards.
    public var expire = false
    /// List the target's blocks even when the archive index looks current.
    public var rescan = false
    /// The time the target's retention judges at (`--expire`).
    public var now: Timestamp = .now

    public init(target: String) { self.target = target }
}

/// What a copy did (or, with `dryRun`, would do).
public struct CopyReport: Sendable {
    public var target: String
    public var dryRun: Bool
    /// The target was not a repository and was made one (or would be).
    public var targetCreated = false
    /// Points copied (or to copy), oldest first.
    public var copied: [PointRecord] = []
    /// Asked-for points the target already holds.
    public var present: [PointRecord] = []
    /// Points the target lacks that are older than its newest point of their source (its
    /// retention expired them, or they were never copied): copied only when named.
    public var older: [PointRecord] = []
    public var blocksSent = 0
    public var bytesSent: Int64 = 0
    /// Block references the archive index said the target already holds.
    public var blocksSkipped = 0
    /// Points the target held without all their blocks, whose missing blocks were sent.
    public var completed: [PointRecord] = []
    /// The archive index was rebuilt by listing the target, and why.
    public var rescanned: String?
    public var requests = RequestCounts()
    public var seconds = 0.0
    /// The target's expire run (`--expire`), per source.
    public var expired: [String: ExpireReport] = [:]
    /// Sources whose points were not copied because the source.json they need (this
    /// repository's, for a source new there, or the target's) is damaged: the others were
    /// copied all the same, and these are copied by the next copy once it is repaired.
    public var skippedSources: [(source: String, damage: SnapdexError)] = []
}

extension Repository {
    /// Copies restore points to another repository: for each point, oldest first, the blocks
    /// the target lacks (by the archive index), then its manifest, which publishes it. Holds
    /// this repository's writer lock (so no half-published point is seen, and no block is
    /// expired while it is read) and the target's (so its own readers and writers see a
    /// point whole or not at all, and no gc there removes a block sent for a manifest not yet
    /// published).
    public func copy(_ options: CopyOptions) throws -> CopyReport {
        let started = Timestamp.now
        var report = CopyReport(target: options.target, dryRun: options.dryRun)
        // Checked before the target is made: a mistyped name, or a folder of this repository
        // that a writer refuses (a symbolic link for `archive`), leaves no new repository behind.
        for s in options.sources { _ = try source(named: s) }
        try RepositoryFolder.check(root: root)
        let target = try CopyTarget.about(options.target) { try CopyTarget.open(options) }
        report.targetCreated = target.created
        if let t = target.repository, t.root == root || RepositoryMarks.id(config: t.config) == id {
            throw SnapdexError.invalidArgument("the target \(options.target) is this repository; name another folder or URL with --to")
        }
        if options.dryRun {
            try copyLocked(options, target: target, report: &report)
        } else {
            // On object storage a copy of one source's points locks that source only (index
            // runs of other sources go on); expire, forget and gc wait for it either way.
            let scope = Repository.copyScope(options)
            try withWriterLock(wait: options.wait, scope: scope) {
                // Judged first from the target as it was opened, without its lock: a copy that
                // has nothing to send changes nothing there, so it needs no lock (on object
                // storage its requests are then the open's GET of the config and LIST of
                // catalogs/). A manifest listed there is a point published whole; one removed
                // there since is as if this copy had run just before. Under this repository's
                // lock, so no point half-published here is judged.
                var ahead = report
                try classify(options, target: target, report: &ahead)
                guard !ahead.copied.isEmpty || options.rescan else {
                    report = ahead
                    return
                }
                // Errors of the copy itself pass the target's lock as they are: only the lock's
                // own (a damaged journal there) are the target's.
                struct Passed: Error { var error: any Error }
                do {
                    try target.about {
                        try target.repository!.withWriterLock(wait: options.wait, scope: scope) {
                            do {
                                // Judged again under the lock: the target may have changed meanwhile.
                                try copyLocked(options, target: target, report: &report)
                                if !report.copied.isEmpty { try target.about { try target.refresh() } }
                            } catch {
                                throw Passed(error: error)
                            }
                        }
                    }
                } catch let p as Passed {
                    throw p.error
                }
            }
            if options.expire {
                for s in Set(report.copied.map(\.source) + report.present.map(\.source) + options.sources).sorted() {
                    guard (try? target.repository!.source(named: s)) != nil else { continue }
                    report.expired[s] = try target.about { try target.repository!.expire(source: s, now: options.now, dryRun: false, wait: options.wait) }
                }
            }
        }
        report.requests = target.store.requestCounts()
        report.seconds = Double(Timestamp.now.nanoseconds - started.nanoseconds) / 1e9
        if !options.dryRun {
            logSession(SessionRecord(
                kind: "copy", started: started.rfc3339(), ended: Timestamp.now.rfc3339(), result: "ok",
                counts: ["points_copied": Int64(report.copied.count), "points_present": Int64(report.present.count),
                         "blocks_sent": Int64(report.blocksSent), "bytes_sent": report.bytesSent, "blocks_skipped": Int64(report.blocksSkipped)],
                points: report.copied.map(\.id), warnings: [], message: nil, plan: nil,
                source: options.sources.count == 1 ? options.sources[0] : nil, target: target.store.location))
        }
        return report
    }

    /// The lock a copy takes in both repositories: one source's when every point it may copy
    /// is of one source, else the exclusive one.
    static func copyScope(_ options: CopyOptions) -> LockScope {
        if options.points.isEmpty {
            return options.sources.count == 1 ? .source(options.sources[0]) : .exclusive
        }
        let named = Set(options.points.map(\.source))
        return named.count == 1 ? .source(named.first!) : .exclusive
    }

    /// This repository's id (see RepositoryMarks).
    var id: [UInt8] { RepositoryMarks.id(config: (try? FileIO.readAll(root + "/config")) ?? []) }

    /// The copy itself; the caller holds both writer locks (or, for a dry run, none).
    private func copyLocked(_ options: CopyOptions, target: CopyTarget, report: inout CopyReport) throws {
        let store = target.store
        let exists = target.repository != nil
        try classify(options, target: target, report: &report)
        guard !report.copied.isEmpty || options.rescan else { return }

        // The target's config as this host holds it (on object storage, the open fetched it).
        let targetID = RepositoryMarks.id(config: target.repository?.config ?? [])
        let generation = RepositoryMarks.generation(exists ? try store.get(RepositoryMarks.generationFile) : nil)
        let file = ArchiveIndexFile(repository: root, target: targetID)
        var index = try file.load(target: targetID)
        if target.created {
            index = ArchiveIndex(target: targetID, generation: generation ?? 0, blocks: [])
        } else if options.rescan {
            report.rescanned = "asked for (--rescan)"
        } else if file.wasInterrupted {
            report.rescanned = "the last copy to it was interrupted"
        } else if index == nil {
            report.rescanned = FileIO.exists(file.path) ? "the archive index is damaged" : "no archive index for it yet"
        } else if generation == nil || index!.generation != generation! {
            report.rescanned = "its blocks were deleted since the last copy (generation \(index!.generation) → \(generation.map(String.init) ?? "unreadable"))"
        }
        // The index is what this repository sent, not what the target holds: a target restored
        // from an older backup, or a disk cloned from another target (same id, same
        // generation), lacks blocks it lists. A folder is asked block by block below (a stat
        // each). A target on object storage is listed when the index lists a block of a
        // point to copy that no point the target holds uses: with the generation unchanged
        // nothing was deleted there, so only a point this repository sent and the target
        // lost (a backup, a clone) can have brought it. Reading the manifests of the points
        // there costs no request.
        let manifests = try report.copied.map { try manifest(of: $0) }
        let checksEachBlock = store is FolderObjectStore
        if report.rescanned == nil, !checksEachBlock, let claimed = index?.blocks {
            var unexplained = manifests.reduce(into: Set<Digest>()) { $0.formUnion($1.blockHashes) }.intersection(claimed)
            for p in report.present where !unexplained.isEmpty { unexplained.subtract(try manifest(of: p).blockHashes) }
            if !unexplained.isEmpty {
                report.rescanned = "the archive index lists \(unexplained.count) block(s) of the points to copy that no point there uses (restored from an older backup, or a copy of another target?)"
            }
        }
        if report.rescanned != nil {
            let listed = try store.list(prefix: "blocks/").compactMap { o -> Digest? in
                let name = o.key.split(separator: "/").last.map(String.init) ?? ""
                guard let h = Digest(hex: name), o.key == CopyTarget.blockKey(h) else { return nil }
                return h
            }
            index = ArchiveIndex(target: targetID, generation: generation ?? 0, blocks: Set(listed))
        }
        var known = index!.blocks
        if !options.dryRun {
            try file.save(index!)
            try file.markRunning()
        }

        // The target's source configurations: a copied point's policy is its source's there.
        var targetSources: [String: SourceConfig?] = [:]
        func targetConfig(_ name: String) throws -> SourceConfig? {
            if let c = targetSources[name] { return c }
            let key = "catalogs/\(name)/source.json"
            var config: SourceConfig?
            if exists, let bytes = try target.catalogObject(key) {
                do {
                    config = try SourceConfig.decodeFile(bytes, name: name)
                } catch {
                    throw SnapdexError.storedConfigDamaged(path: store.location + "/" + key, reason: error.reason)
                }
            } else {
                // A new source there: its folders as here (so restore finds moved snapshots),
                // no policy of its own (the copies keep their origin's until one is set). Read
                // in a dry run too, so it names a damaged one as the copy would.
                var c = try loadSourceConfig(name)
                c.policy = nil
                if !options.dryRun { try store.put(key, try c.fileBytes()) }
                config = c
            }
            targetSources[name] = config
            return config
        }

        let sourceID = id
        var pending: [Digest] = []
        var sent = 0
        var there = Set<Digest>()  // blocks this copy sent or saw in the target
        /// Sends the block unless the target holds it: by a stat of it in a folder, by the
        /// index (or listing) on object storage.
        func send(_ ref: BlockRef) throws {
            let h = ref.hash
            let held = try there.contains(h) || known.contains(h) && (!checksEachBlock || target.about({ try store.head(CopyTarget.blockKey(h)) }) != nil)
            if held {
                there.insert(h)
                report.blocksSkipped += 1
                return
            }
            known.insert(h)
            there.insert(h)
            report.blocksSent += 1
            guard !options.dryRun else {
                report.bytesSent += Int64(ref.storedSize)
                return
            }
            let bytes = try verifiedBlockFile(h)
            report.bytesSent += Int64(bytes.count)
            try store.put(CopyTarget.blockKey(h), bytes)
            pending.append(h)
            sent += 1
            // Tests kill a real process here, part way through sending (like StoreMirror).
            if sent == StoreMirror.crashAfterBlocks { _exit(137) }
            if pending.count >= 1024 {
                try file.append(pending)
                pending.removeAll()
            }
        }
        // With the target's blocks listed, points already there that lack some (published
        // by an older copy that trusted a wrong index) get them now.
        if report.rescanned != nil {
            for p in report.present {
                let before = report.blocksSent
                var seen = Set<Digest>()
                for ref in try manifest(of: p).blocks where !known.contains(ref.hash) && seen.insert(ref.hash).inserted { try send(ref) }
                if report.blocksSent > before { report.completed.append(p) }
            }
        }
        // One source's damaged source.json stops that source's points only, before any of
        // their blocks is sent: every other source is copied.
        var copied: [PointRecord] = []
        defer { report.copied = copied }
        for (p, original) in zip(report.copied, manifests) {
            if report.skippedSources.contains(where: { $0.source == p.source }) { continue }
            let config: SourceConfig?
            do {
                config = try targetConfig(p.source)
            } catch let e as SnapdexError where e.exitCode == ExitStatus.damaged {
                report.skippedSources.append((p.source, e))
                continue
            }
            copied.append(p)
            var m = original
            var seen = Set<Digest>()
            for ref in m.blocks where seen.insert(ref.hash).inserted { try send(ref) }
            guard !options.dryRun else { continue }
            // Every block is there (each put is durable): the manifest publishes the point.
            m.originPolicy = m.originPolicy ?? Manifest.OriginPolicy(settings: m.policy, zone: m.calendarZone)
            m.copiedFrom = Manifest.CopyOrigin(repository: sourceID, copiedAt: .now)
            if let text = config?.policy, let policy = try? RetentionPolicy(text: text), !policy.isEmpty {
                m.policy = Manifest.settings(of: policy)
                m.calendarZone = policy.zone?.name
            }
            // The format version stays the origin's: the blocks are its writer's, and a catalog
            // older than format 3 holds times beyond 1677..2262 as bounds (FORMAT.md, "Times").
            try store.put(CopyTarget.manifestKey(p), m.encode())
            try file.append(pending)
            pending.removeAll()
        }
        if !options.dryRun {
            try file.append(pending)
            file.clearRunning()
        }
    }

    /// Sorts the points the copy considers into those the target holds, those older than
    /// its newest point of their source, and those to copy.
    private func classify(_ options: CopyOptions, target: CopyTarget, report: inout CopyReport) throws {
        let selected = try selection(options)
        let published = Set(try target.catalogKeys().filter { $0.hasSuffix(".manifest") })
        // Without named points the chain grows forward: what the target's own retention
        // removed is not sent again.
        var newest: [String: (Int64, String)] = [:]
        if options.points.isEmpty, let there = target.repository {
            for p in try there.points() where newest[p.source].map({ $0 < (p.time, p.id) }) ?? true { newest[p.source] = (p.time, p.id) }
        }
        report.present = []
        report.older = []
        report.copied = []
        for p in selected {
            if published.contains(CopyTarget.manifestKey(p)) {
                report.present.append(p)
            } else if let n = newest[p.source], (p.time, p.id) < n {
                report.older.append(p)
            } else {
                report.copied.append(p)
            }
        }
    }

    /// The points a copy considers: those named, else every point of the chosen sources,
    /// oldest first (so a copy chain grows forward).
    private func selection(_ options: CopyOptions) throws -> [PointRecord] {
        if !options.points.isEmpty {
            // Read again under the lock: a point forgotten meanwhile is not copied.
            return try options.points.map { p in
                guard let now = try point(id: p.id) else { throw SnapdexError.pointExpired(p.id) }
                return now
            }.sorted { ($0.time, $0.id) < ($1.time, $1.id) }
        }
        let all = try points()
        let chosen = options.sources.isEmpty ? all : all.filter { options.sources.contains($0.source) }
        return chosen.sorted { ($0.time, $0.id) < ($1.time, $1.id) }
    }

    /// A block file's bytes as stored, after checking they decode to their hash: damage here
    /// is not spread to the target.
    private func verifiedBlockFile(_ h: Digest) throws -> [UInt8] {
        let bytes: [UInt8]
        do {
            bytes = try readRepositoryFile(blocks.path(of: h))
        } catch SnapdexError.io(_, _, let e) where e == .noEntry {
            // On object storage a block not in this host's cache is read from the store,
            // and not kept in the cache: the copy reads it once.
            guard let mirror, let fetched = try mirror.fetchBlock(h) else { throw SnapdexError.blockMissing(hash: h.hex) }
            bytes = fetched
        }
        _ = try BlockStore.decode(bytes, hash: h)
        return bytes
    }
}

/// Where a copy lands: an ObjectStore holding a repository's layout and, for a folder, the
/// local repository there (whose writer lock and recovery a copy uses).
final class CopyTarget {
    let store: any ObjectStore
    let repository: Repository?
    let created: Bool

    init(store: any ObjectStore, repository: Repository?, created: Bool) {
        self.store = store
        self.repository = repository
        self.created = created
    }

    static func blockKey(_ h: Digest) -> String {
        let hex = h.hex
        return "blocks/\(hex.prefix(2))/\(hex)"
    }

    static func manifestKey(_ p: PointRecord) -> String { "catalogs/\(p.source)/\(p.id).manifest" }

    /// Runs `body`, an operation on the target, so that its errors' advice names the target
    /// (`snapdex --repo TARGET verify`): as printed, it would check the copy's source.
    func about<T>(_ body: () throws -> T) throws -> T { try CopyTarget.about(store.location, body) }

    static func about<T>(_ target: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as SnapdexError {
            switch e {
            // Their advice is about the copy command itself (or already names the target).
            case .invalidArgument, .storeSendFailed, .inCopyTarget, .repositoryBusy: throw e
            default: throw SnapdexError.inCopyTarget(e, target: target)
            }
        }
    }

    /// The target named by `--to`: a folder, or the repository in `options.targetStore`,
    /// made a repository as `init` would when it is none yet (unless this is a dry run: it
    /// then sees an empty target).
    static func open(_ options: CopyOptions) throws -> CopyTarget {
        let location = options.target
        let create = !options.dryRun
        guard !location.isEmpty else { throw SnapdexError.invalidArgument("--to is an empty path; name the target folder or s3://BUCKET/PREFIX") }
        if let store = options.targetStore { return try open(store: store, cache: options.targetCache, create: create) }
        if location.contains("://") {
            throw SnapdexError.invalidArgument("cannot copy to \(location) without its store; name a folder, or s3://BUCKET/PREFIX with --to")
        }
        let root = Repository.absolute(location)
        do {
            let repo = try Repository.open(at: root)
            return CopyTarget(store: FolderObjectStore(root: repo.root), repository: repo, created: false)
        } catch SnapdexError.notARepository(_, let what) {
            throw SnapdexError.invalidArgument("cannot copy to \(root): it is \(what), not a Snapdex repository; name a repository, or a new or empty folder, with --to")
        } catch SnapdexError.repositoryMissing {
            // A dry run reads the folder that is not there: no objects.
            guard create else { return CopyTarget(store: FolderObjectStore(root: root), repository: nil, created: true) }
            let repo = try Repository.create(at: root)
            return CopyTarget(store: FolderObjectStore(root: repo.root), repository: repo, created: true)
        }
    }

    /// A target on object storage: the repository in `store`, seen through this host's cache
    /// of it (its lock objects, its database for `--expire`).
    static func open(store: any ObjectStore, cache: StoreCacheOptions, create: Bool) throws -> CopyTarget {
        do {
            return CopyTarget(store: store, repository: try Repository.open(store: store, cache: cache), created: false)
        } catch SnapdexError.repositoryMissing {
            // No repository there yet: made below.
        } catch SnapdexError.objectStorage(.noSuchBucket) {
            // Not even its bucket: both made below.
        }
        guard create else { return CopyTarget(store: store, repository: nil, created: true) }
        // Made here, after the sources were checked: a mistyped name leaves no bucket behind.
        if let s3 = store as? S3ObjectStore { try s3.createBucketIfMissing() }
        do {
            return CopyTarget(store: store, repository: try Repository.create(store: store, cache: cache), created: true)
        } catch SnapdexError.repositoryExists {
            // Another copy made it meanwhile.
            return CopyTarget(store: store, repository: try Repository.open(store: store, cache: cache), created: false)
        }
    }

    /// The target's keys under `catalogs/`. On object storage, those this host's cache
    /// listed at its last pull in this process (the open's, or the writer lock's): no request.
    func catalogKeys() throws -> [String] {
        guard let repository else { return [] }
        if let mirror = repository.mirror, mirror.pulled { return mirror.catalogKeys }
        return try store.list(prefix: "catalogs/").map(\.key)
    }

    /// An object of the target's `catalogs/` (nil: none). On object storage, read from this
    /// host's cache, which the writer lock's pull made equal to the store for the locked
    /// sources: no request.
    func catalogObject(_ key: String) throws -> [UInt8]? {
        if let repository, let mirror = repository.mirror, mirror.pulled, StoreMirror.isCatalogKey(key) {
            let path = repository.root + "/" + key
            return FileIO.exists(path) ? try FileIO.readAll(path) : nil
        }
        return try store.get(key)
    }

    /// Brings the target's own database up to date with what the copy wrote (on object
    /// storage, its cache first: a LIST and a GET of each new manifest, which the next copy's
    /// open would otherwise make).
    func refresh() throws {
        guard let repository else { return }
        if let mirror = repository.mirror { try mirror.pull() }
        try repository.reconcile()
    }
}

extension Repository {
    /// The config file's bytes (the repository id is derived from them when it has none).
    var config: [UInt8] { (try? FileIO.readAll(root + "/config")) ?? [] }
}
