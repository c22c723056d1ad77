import Foundation
import GRDB

/// What `snapdex verify` found.
public struct VerifyReport: Sendable {
    public struct DamagedBlock: Sendable {
        public var hash: String
        public var reason: String
        public var points: [String]
        /// The block file is missing or does not read back as its hash says: writing it again
        /// from a snapshot repairs it. Otherwise its blocks verify but do not decode into a
        /// possible catalog, which no rewrite of the same bytes can fix.
        public var unreadable: Bool
    }
    public var pointsChecked = 0
    public var blocksChecked = 0
    public var damagedBlocks: [DamagedBlock] = []
    public var damagedManifests: [(point: String, reason: String)] = []
    /// Points expired or forgotten while they were being verified: gone, not damaged.
    public var skipped: [String] = []
    /// Why `REPO/journal` cannot be trusted, when it cannot (`SnapdexError.journalDamaged`).
    public var journalDamage: SnapdexError?
    /// Files named like a manifest that are not regular files (`SnapdexError.manifestNotRegular`).
    public var irregularManifests: [SnapdexError] = []
    /// The repository's own files (generation, journal, lock...) that are there but not
    /// regular files (`SnapdexError.notRegularFile`): they stop writers, or the readers of them.
    public var irregularFiles: [SnapdexError] = []
    /// Sources whose source.json is damaged, missing or not a regular file: writers refuse
    /// them, and `verify --repair` writes them anew (`repairSourceConfigs`).
    public var damagedConfigs: [SnapdexError] = []
    /// The repository's config, damaged (`verify` went on past it; `verify --repair` writes it anew).
    public var damagedRepositoryConfig: SnapdexError?
    public var isClean: Bool {
        damagedBlocks.isEmpty && damagedManifests.isEmpty && journalDamage == nil && irregularManifests.isEmpty && irregularFiles.isEmpty
            && damagedConfigs.isEmpty && damagedRepositoryConfig == nil
    }
    /// Filters of `REPO/names-filters` (find's cache) that did not match their names blocks;
    /// the file was removed, and the next `find` builds it again from the blocks.
    public var wrongNamesFilters = 0
}

/// What `snapdex verify --repair` did for one damaged block.
public struct BlockRepair: Sendable {
    public var hash: String
    /// The point whose snapshot gave the block back; nil when none could.
    public var repairedFrom: String?
    /// Why it could not be repaired.
    public var reason: String?
    /// The points that reference the block.
    public var points: [String]
    /// What stood in the block file's place and was not a regular file (a folder, a FIFO, a
    /// symbolic link), and where it went.
    public var cleared: String?
}

/// What `snapdex rescan` rebuilt.
public struct RescanReport: Sendable {
    public var sources = 0
    public var points = 0
    public var blocks = 0
    public var skipped: [String] = []
    /// A journal that cannot be trusted (`SnapdexError.journalDamaged`): the database was
    /// rebuilt all the same, and the journal left for `verify --repair` to drop.
    public var journalDamage: SnapdexError?
    /// Points whose manifest is missing, carried over from the old database (still damage).
    public var missing: [String] = []
}

/// A point the database records whose manifest is missing, with what a new database needs to
/// keep recording it: its row, its source's row and its blocks.
struct MissingPoint {
    var point: PointRecord
    var source: SourceRecord?
    var blocks: [BlockRef]

    /// The points of the database at `path` whose manifest is not in `listing` and which no
    /// journal names (a writer's removal); none when that database cannot be read (a damaged
    /// or missing one, or one of an older schema).
    /// `onlyMarked`: only those already judged missing (`PointRecord.missingStamp`), for a
    /// cache of object storage, whose other rows may be points another host removed.
    static func read(database path: String, listing: CatalogListing, journal: String, onlyMarked: Bool = false) -> [MissingPoint] {
        guard FileIO.exists(path) else { return [] }
        let named = Set((try? FileIO.readAll(journal)).map { Journal.decode($0).points.map(\.id) } ?? [])
        var config = Configuration()
        config.readonly = true
        guard let queue = try? DatabaseQueue(path: path, configuration: config) else { return [] }
        return (try? queue.read { db -> [MissingPoint] in
            var out: [MissingPoint] = []
            for p in try PointRecord.fetchAll(db) where listing.manifests[p.id] == nil && !named.contains(p.id) && (!onlyMarked || p.manifestIsMissing) {
                guard let blob = try Data.fetchOne(db, sql: "SELECT blocks FROM pointBlocks WHERE point = ?", arguments: [p.id]),
                      let numbers = BlockNumbers.decode([UInt8](blob)) else { continue }
                var blocks: [BlockRef] = []
                for n in numbers {
                    guard let r = try Row.fetchOne(db, sql: "SELECT hash, rawSize, storedSize FROM block WHERE n = ?", arguments: [n]),
                          let hash: Data = r.checked(at: 0), let digest = Digest(bytes: [UInt8](hash)),
                          let raw: Int = r.checked(at: 1), let stored: Int = r.checked(at: 2) else { continue }
                    blocks.append(BlockRef(hash: digest, rawSize: raw, storedSize: stored))
                }
                var point = p
                point.stamp = PointRecord.missingStamp
                out.append(MissingPoint(point: point, source: try SourceRecord.fetchOne(db, key: p.source), blocks: blocks))
            }
            return out
        }) ?? []
    }
}

extension Repository {
    /// Records points whose manifest is missing in this (new) database, as the old one did.
    func carryOver(_ missing: [MissingPoint]) throws {
        guard !missing.isEmpty else { return }
        try write { db in
            let update = CatalogueUpdate(db)
            for m in missing where try PointRecord.fetchOne(db, key: m.point.id) == nil {
                if try SourceRecord.fetchOne(db, key: m.point.source) == nil {
                    try (m.source ?? SourceConfig(name: m.point.source).record).insert(db)
                }
                try update.add(m.point, blocks: m.blocks)
            }
            try update.finish()
        }
    }
}

extension Repository {
    /// Re-reads, re-hashes and decodes every block of the given points (all when empty),
    /// naming each damaged block and every point it affects. A point expired or forgotten
    /// meanwhile is skipped (`skipped`), not reported as damage.
    public func verify(points selected: [PointRecord] = []) throws -> VerifyReport {
        try RepositoryFolder.check(root: root)
        var (report, manifests, users) = try verifyManifests(selected)
        try verifyBlocks(&report, manifests, users)
        // A writer's journal is renamed into place whole, so a damaged one is never a race.
        if let bytes = try? FileIO.readAll(journalPath), let damage = Journal.decode(bytes).damage {
            report.journalDamage = .journalDamaged(path: journalPath, reason: damage)
        }
        for name in Repository.singleFiles {
            do { try FileIO.requireRegularOrAbsent(root + "/" + name) } catch let e as SnapdexError { report.irregularFiles.append(e) }
        }
        report.irregularManifests = CatalogListing(catalogs: catalogsDirectory).irregular.map { .manifestNotRegular(path: $0.path, kind: $0.kind) }
        report.damagedConfigs = damagedSourceConfigs()
        report.wrongNamesFilters = dropWrongNamesFilters(manifests.map(\.1))
        return report
    }

    /// Checks find's names-filter cache against the names parts of `manifests`, and removes
    /// it when any filter is wrong; returns how many were.
    private func dropWrongNamesFilters(_ manifests: [Manifest]) -> Int {
        let path = NamesFilterFile.path(in: root)
        guard mirror == nil, FileIO.exists(path) else { return 0 }
        var names: [Digest: (part: PartRef, entries: Int)] = [:]
        for m in manifests {
            for c in m.chunks { names[c.parts[0].whole ?? c.parts[0].block.hash] = (c.parts[0], c.entries) }
        }
        let wrong = NamesFilterFile.wrongFilters(at: path) { block in
            guard let n = names[block] else { return nil }
            return try? CatalogReader.part(n.part, entries: n.entries) { try blocks.read($0) }.whole
        }
        if wrong > 0 { FileIO.remove(path) }
        return wrong
    }

    /// The first half of `verify`: reads every manifest, and notes which points reference
    /// each block (across every point, for the report).
    func verifyManifests(_ selected: [PointRecord]) throws -> (VerifyReport, [(PointRecord, Manifest)], [Digest: [String]]) {
        var report = VerifyReport()
        let all = try points()
        let points = selected.isEmpty ? all : selected
        var manifests: [(PointRecord, Manifest)] = []
        for p in points {
            do {
                manifests.append((p, try manifest(of: p)))
            } catch SnapdexError.pointExpired(let id) {
                report.skipped.append(id)
            } catch let e as SnapdexError where e.isPermissionDenied {
                throw e
            } catch let e as SnapdexError {
                report.damagedManifests.append((p.id, "\(e)"))
            }
        }
        report.pointsChecked = points.count - report.skipped.count
        if selected.isEmpty {
            // Manifests the database could not take in (damaged ones): the files are the truth.
            let known = Set(all.map(\.id))
            for f in CatalogListing(catalogs: catalogsDirectory).manifests.values.sorted(by: { $0.id < $1.id }) where !known.contains(f.id) {
                let path = manifestPath(source: f.source, id: f.id)
                let reason: String
                do {
                    let m = try Manifest.decode(try readRepositoryFile(path), path: path)
                    // Published after the database was read (an index running meanwhile): a
                    // point that is not damaged, verified by the next run.
                    if m.idHex == f.id && m.source == f.source { continue }
                    reason = "\(path) holds point \(m.idHex.prefix(12)) of source '\(m.source)'"
                } catch let e as SnapdexError where e.isPermissionDenied {
                    throw e
                } catch {
                    if !FileIO.exists(path) { continue }  // expired or forgotten meanwhile
                    reason = "\(error)"
                }
                report.damagedManifests.append((f.id, reason))
                report.pointsChecked += 1
            }
        }
        // Which points reference each block: for the report, across every point.
        var users: [Digest: [String]] = [:]
        for (p, m) in manifests { for h in m.blockHashes { users[h, default: []].append(p.id) } }
        if !selected.isEmpty {
            for p in all where !points.contains(where: { $0.id == p.id }) {
                if let m = try? manifest(of: p) { for h in m.blockHashes where users[h] != nil { users[h]!.append(p.id) } }
            }
        }
        return (report, manifests, users)
    }

    /// What is wrong with a block, for verify's line that names it and the points it affects
    /// (a reader's message would tell the user to run verify).
    static func blockProblem(_ error: Error) -> String {
        switch error {
        case SnapdexError.blockMissing: return "missing"
        case SnapdexError.blockDamaged(_, let why): return "damaged (\(why))"
        default: return "\(error)"
        }
    }

    /// The second half of `verify`: reads, hashes and decodes the blocks of `manifests`.
    func verifyBlocks(_ report: inout VerifyReport, _ manifests: [(PointRecord, Manifest)], _ users: [Digest: [String]]) throws {
        // Each block is read and hashed once; each chunk is then decoded from its blocks.
        var checked: [Digest: String?] = [:]
        var unreadable: Set<Digest> = []
        points: for (p, m) in manifests {
            var names = CatalogCheck()
            for c in m.chunks {
                var raws: [Digest: [UInt8]] = [:]
                var whole = true
                var fresh = false
                for b in c.parts.flatMap(\.blocks) {
                    if let prior = checked[b.hash] {
                        // Read before: damaged, or intact and read again below only when this
                        // chunk is decoded (a base shared by many chunks' deltas).
                        if prior != nil { whole = false }
                        continue
                    }
                    fresh = true
                    do {
                        raws[b.hash] = try blocks.read(b.hash)
                        checked[b.hash] = .some(nil)
                    } catch {
                        if case SnapdexError.blockMissing = error, try point(id: p.id) == nil {
                            // Expired or forgotten since its manifest was read: its blocks may go.
                            report.skipped.append(p.id)
                            report.pointsChecked -= 1
                            continue points
                        }
                        checked[b.hash] = .some(Self.blockProblem(error))
                        unreadable.insert(b.hash)
                        whole = false
                    }
                }
                guard whole, fresh else {
                    names.reset()
                    continue
                }
                do {
                    let groups = try CatalogReader.decode(c, level: .full) { h in try raws[h] ?? blocks.read(h) }
                    if let problem = names.check(groups) {
                        checked[c.parts[0].block.hash] = .some(problem)
                        names.reset()
                    }
                } catch SnapdexError.blockMissing {
                    names.reset()  // a block read intact earlier in this run, gone with its point since
                } catch let d as ChunkCodec.Damaged {
                    checked[d.block ?? c.parts[0].block.hash] = .some("does not decode: \(d)")
                    names.reset()
                } catch {
                    checked[c.parts[0].block.hash] = .some("does not decode: \(error)")
                    names.reset()
                }
            }
        }
        let gone = Set(report.skipped)
        report.blocksChecked = checked.count
        for (h, reason) in checked.sorted(by: { $0.key < $1.key }) {
            if let reason {
                report.damagedBlocks.append(.init(hash: h.hex, reason: reason, points: (users[h] ?? []).filter { !gone.contains($0) }.sorted(),
                                                  unreadable: unreadable.contains(h)))
            }
        }
    }

    /// Writes damaged or missing blocks again: for each, the newest point that references it
    /// and whose snapshot directory still exists is indexed again in memory (nothing is
    /// published), and when that reproduces a part with the block's exact hash, the block file
    /// is written from it. Blocks that verify but do not decode cannot be repaired this way.
    public func repair(_ report: VerifyReport, chunking: ChunkingParameters = .standard, wait: Double = 0) throws -> [BlockRepair] {
        if let mirror { throw SnapdexError.notOnObjectStorage(what: "`snapdex verify --repair`", location: mirror.store.location) }
        return try withWriterLock(wait: wait, dropDamagedJournal: report.journalDamage != nil) {
            var pending: [Digest: VerifyReport.DamagedBlock] = [:]
            var results: [BlockRepair] = []
            for b in report.damagedBlocks {
                guard b.unreadable, let h = Digest(hex: b.hash) else {
                    results.append(BlockRepair(hash: b.hash, reason: "its bytes verify but do not make a possible catalog", points: b.points))
                    continue
                }
                pending[h] = b
            }
            let candidates = try points().filter { p in pending.values.contains { $0.points.contains(p.id) } }
                .sorted { $0.time > $1.time }
            // A patch or delta is made again against its base (and a level-2 delta against its
            // level-1 delta), which may be among the damaged blocks too and be repaired only
            // from an older point: so points are indexed again, newest first, until a pass
            // repairs nothing. After the first pass, a point is indexed again only when a
            // block one of its patches is made against was just repaired.
            var patchBases: [Digest: [Digest]] = [:]  // pending patch or delta -> what it is made against
            // Why a block was not given back by a snapshot that still exists: the point indexed
            // again, and for a state part whether the chunk's names and contents came back the
            // same (then only the files' state changed since: ctimes, link counts, inodes).
            var missedBy: [Digest: (point: String, sameFiles: Bool)] = [:]
            var repairedLastPass: Set<Digest>? = nil
            while !pending.isEmpty, repairedLastPass?.isEmpty != true {
                var repaired: Set<Digest> = []
                for p in candidates where !pending.isEmpty {
                    // Only the folder that holds this point's snapshot (a rotation may have moved it).
                    guard let m = try? manifest(of: p) else { continue }
                    let wanted = Set(pending.keys).intersection(m.blockHashes)
                    for c in m.chunks { for part in c.parts where wanted.contains(part.block.hash) { if part.base != nil { patchBases[part.block.hash] = part.blocks.dropLast().map(\.hash) } } }
                    if let last = repairedLastPass, !wanted.contains(where: { (patchBases[$0] ?? []).contains(where: last.contains) }) { continue }
                    // The whole names and content parts of each chunk whose state part is wanted:
                    // reproduced too, they tell a snapshot whose files are the same.
                    var sameFilesProbe: [Digest: [Digest]] = [:]
                    for c in m.chunks where c.parts.count == 3 && wanted.contains(c.parts[2].block.hash) {
                        sameFilesProbe[c.parts[2].block.hash] = c.parts[0..<2].map { $0.whole ?? $0.block.hash }
                    }
                    let probe = Set(sameFilesProbe.values.joined())
                    guard !wanted.isEmpty, let folder = try? snapshotFolder(of: p),
                          let parts = try? reproduce(m, point: p, from: folder, wanted: wanted.union(probe), chunking: chunking) else { continue }
                    // Only a point's own parts say something of its snapshot (a base or level-1
                    // delta it shares was made from another point's).
                    let own = Set(m.chunks.flatMap { $0.parts.map(\.block.hash) })
                    for h in wanted.intersection(own) where parts[h] == nil && missedBy[h] == nil {
                        missedBy[h] = (p.id, sameFilesProbe[h].map { $0.allSatisfy { parts[$0] != nil } } ?? false)
                    }
                    // Content deltas are the parts the writer may store uncompressed
                    // (`BlockSink.put`): written again as it chose, byte for byte.
                    let contentDeltas = Set(m.chunks.compactMap { c in c.parts.count > 1 && c.parts[1].delta ? c.parts[1].block.hash : nil })
                    for (h, raw) in parts {
                        guard let b = pending[h] else { continue }
                        _ = try blocks.rewrite(raw, hash: h, readByFind: contentDeltas.contains(h))
                        results.append(BlockRepair(hash: b.hash, repairedFrom: p.id, points: b.points, cleared: blocks.clearedWay(of: h)))
                        pending[h] = nil
                        repaired.insert(h)
                    }
                }
                repairedLastPass = repaired
            }
            for (h, b) in pending {
                // A patch whose base is lost too cannot be made again, whatever the snapshots hold.
                let reason = patchBases[h]?.first { pending[$0] != nil }.map { "it is stored as a change to block \($0.hex), which could not be repaired either" }
                results.append(BlockRepair(hash: b.hash, reason: reason ?? Self.notGivenBack(missedBy[h]), points: b.points))
            }
            return results.sorted { $0.hash < $1.hash }
        }
    }

    /// The sources whose `snapdex index --source` would index these points' snapshots again
    /// once the points are forgotten: each snapshot folder is still there, in its source's
    /// snapshots folder. Nil when one is not (gone, moved, or indexed from a folder of its own).
    public func sourcesIndexingAgain(points ids: [String]) -> [String]? {
        var sources: Set<String> = []
        for id in ids {
            guard let p = try? point(id: id), let folder = try? source(named: p.source).snapshots,
                  FileIO.isDirectory(p.snapshot), p.snapshot.hasPrefix(folder + "/"),
                  !p.snapshot.dropFirst(folder.count + 1).contains("/") else { return nil }
            sources.insert(p.source)
        }
        return sources.sorted()
    }

    /// Why no snapshot gave a block back, when none did: no snapshot of the points that use
    /// it is left, or the one indexed again (`missed`) has changed since it was indexed. A
    /// state part records each file's ctime, link count and inode, which a hard-link copy of
    /// the snapshot (`cp -al`, rsnapshot's rotation) changes without touching names or
    /// contents: those cannot be had again from the snapshot, so it is said as such.
    static func notGivenBack(_ missed: (point: String, sameFiles: Bool)?) -> String {
        guard let missed else { return "no snapshot holds it" }
        let point = missed.point.prefix(12)
        if missed.sameFiles {
            return "no snapshot holds it: the snapshot of point \(point) still has the same names and contents, but its files' change times, link counts or inode numbers changed since it was indexed (a hard-link copy such as `cp -al` or an rsnapshot rotation changes them), and this block records those"
        }
        return "no snapshot holds it: the snapshot of point \(point) changed since it was indexed"
    }

    /// Indexes a point's snapshot again without publishing anything, and returns the parts
    /// among `wanted` that it reproduces: whole parts as they are encoded, patches made again
    /// against their (intact) base.
    func reproduce(_ m: Manifest, point: PointRecord, from folder: String, wanted: Set<Digest>, chunking: ChunkingParameters) throws -> [Digest: [UInt8]] {
        // Patches need the chunk's three whole parts; whole parts are captured by their hash.
        var capture = wanted
        for c in m.chunks where c.parts.contains(where: { $0.base != nil && wanted.contains($0.block.hash) }) {
            for part in c.parts { capture.insert(part.whole ?? part.block.hash) }
        }
        let sink = CaptureSink(wanted: capture)
        let indexer = Indexer(repository: self)
        indexer.chunking = chunking
        var options = IndexOptions(source: m.source, directory: folder)
        options.hash = m.hashed
        options.clampsTimes = m.formatVersion < 3
        // The point's own readable chunks give the hashes of files that did not change.
        _ = try indexer.walk(directory: folder, options: options, base: nil, hashesFrom: m.hashed ? point : nil, store: sink)
        var out: [Digest: [UInt8]] = [:]
        for h in wanted { if let raw = sink.captured[h] { out[h] = raw } }
        for c in m.chunks {
            let wholes = c.parts.map { sink.captured[$0.whole ?? $0.block.hash] }
            for (i, part) in c.parts.enumerated() where part.delta && wanted.contains(part.block.hash) {
                // A delta is made again from its (intact) base and the part it rebuilds; a level-2
                // delta from the part its (intact) level-1 delta rebuilds.
                guard let base = part.base, let target = wholes[i], var baseRaw = try? blocks.read(base.hash) else { continue }
                if let level1 = part.level1 {
                    guard let delta1 = try? blocks.read(level1.hash),
                          let rebuilt = try? PartDelta.apply(delta1, base: baseRaw, entries: nil),
                          Digest.of(rebuilt) == part.intermediate
                    else { continue }
                    baseRaw = rebuilt
                }
                guard let delta = PartDelta.make(base: baseRaw, target: target, entries: c.entries, limit: Int.max),
                      Digest.of(delta) == part.block.hash
                else { continue }
                out[part.block.hash] = delta
            }
            for (i, part) in c.parts.enumerated() where part.base != nil && !part.delta && wanted.contains(part.block.hash) {
                guard let base = part.base, let kind = PartKind(rawValue: UInt8(i)),
                      let names = wholes[0], let content = wholes[1], let state = wholes[2],
                      let baseRaw = try? blocks.read(base.hash),
                      let groups = try? ChunkCodec.decode(names: names, content: content, state: state),
                      let patch = try? ChunkCodec.patch(kind: kind, names: names, content: content, base: baseRaw, current: groups),
                      Digest.of(patch) == part.block.hash
                else { continue }
                out[part.block.hash] = patch
            }
        }
        return out
    }

    /// `rebuildDatabase` for an open repository, which then uses the new database.
    public func rescan(wait: Double = 0) throws -> RescanReport {
        let report = try Repository.rebuildDatabase(at: root, wait: wait)
        database = try Schema.open(path: databasePath)
        return report
    }

    /// Replaces the database with one rebuilt from the source files and manifests alone. It
    /// works on a database that is damaged or missing, since it never reads the old one: the
    /// new one is built beside it (`snapdex.db.rescan`), then replaces it whole, so readers
    /// running meanwhile see the old database or the new one, never a half-built one. When
    /// the new one cannot be written (a full disk), the old one is left as it was.
    public static func rebuildDatabase(at path: String, wait: Double = 0) throws -> RescanReport {
        let root = try checkedRoot(path)
        let lock = try WriterLock(path: root + "/lock", wait: wait)
        defer { lock.release() }
        try RepositoryFolder.check(root: root)
        // A manifest this user may not read would be left out of the new database, dropping a
        // healthy point: refused before anything is removed (opening each is enough to know).
        let before = CatalogListing(catalogs: root + "/catalogs")
        for f in before.manifests.values.sorted(by: { $0.id < $1.id }) {
            let path = root + "/catalogs/" + f.source + "/" + f.id + ".manifest"
            let fd = PathCalls.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
            if fd >= 0 { close(fd) } else if errno == EACCES || errno == EPERM { throw SnapdexError.permissionDenied(path: path, repository: root) }
        }
        let live = root + "/snapdex.db", fresh = root + "/snapdex.db.rescan"
        func removeFresh() { for suffix in ["", "-wal", "-shm"] { FileIO.remove(fresh + suffix) } }
        removeFresh()
        defer { removeFresh() }
        do {
            var report = RescanReport()
            // Points the old database records whose manifest is missing (damage): a rebuild
            // from the files alone would drop them and let their blocks go.
            let missing = MissingPoint.read(database: live, listing: before, journal: root + "/journal")
            do {
                // Opening fills the new database from the files, reading each manifest once.
                let repo = try Repository(root: root, announce: false, databaseFile: fresh)
                try repo.carryOver(missing)
                report.missing = missing.map(\.point.id)
                do {
                    try repo.recover()
                } catch let e as SnapdexError {
                    // Opening built the new database from the files alone; what the killed
                    // writer meant is unknown, so nothing is rolled forward or removed, and
                    // verify --repair (which needs a working database) drops the journal.
                    guard case .journalDamaged = e else { throw e }
                    report.journalDamage = e
                }
                let listing = CatalogListing(catalogs: repo.catalogsDirectory)
                report.sources = listing.sources.count
                report.points = try repo.read { db in try PointRecord.fetchCount(db) }
                report.blocks = try repo.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM block") ?? 0 }
                // The damaged manifests the rebuild met, less any the recovery removed.
                let damage = repo.reconciledAtOpen.damage
                report.skipped = listing.manifests.values.compactMap { damage[repo.manifestPath(source: $0.source, id: $0.id)] }.sorted()
                for name in listing.sources where FileIO.exists(repo.sourceDirectory(name) + "/source.json") {
                    if let e = Result(catching: { try repo.loadSourceConfig(name) }).failureValue { report.skipped.append("\(e)") }
                }
                try Schema.replace(live, with: repo.database)
            }
            try FileIO.syncDirectory(root)
            return report
        } catch let e as DatabaseError where e.resultCode == .SQLITE_FULL {
            throw SnapdexError.diskFull(path: live)
        } catch SnapdexError.databaseUnwritable(_, let why) where why.contains("full") {
            throw SnapdexError.diskFull(path: live)
        }
    }
}

extension Result {
    var failureValue: Failure? { if case .failure(let e) = self { return e } else { return nil } }
}

/// A block sink that stores nothing: it keeps the bytes of the parts whose hash is wanted.
final class CaptureSink: BlockSink {
    let wanted: Set<Digest>
    private(set) var captured: [Digest: [UInt8]] = [:]
    init(wanted: Set<Digest>) { self.wanted = wanted }
    func put(_ raw: [UInt8], hash: Digest, readByFind: Bool) throws -> BlockRef {
        if wanted.contains(hash) { captured[hash] = raw }
        return BlockRef(hash: hash, rawSize: raw.count, storedSize: 0)
    }
    func contains(_ hash: Digest) -> Bool { false }
    func reuse(_ blocks: [BlockRef]) {}
    func holdsIntact(_ hash: Digest) -> Bool { false }
    func read(_ hash: Digest) throws -> [UInt8] { throw SnapdexError.blockMissing(hash: hash.hex) }
    func finishWrites() throws -> [Digest: Int] { [:] }
}
