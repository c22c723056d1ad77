import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#endif

/// A manifest file as found in `catalogs/SOURCE/`, named by a valid source and point id.
struct ManifestFile: Equatable {
    var source: String
    var id: String
    /// inode, size and mtime: a file renamed over, rewritten or copied in differs.
    var stamp: String

    /// A regular file's inode, size and mtime, or nil when there is none.
    static func stamp(of path: String) -> String? {
        var st = stat()
        guard PathCalls.lstat(path, &st) == 0 else { return nil }
        return stamp(st)
    }

    /// What a file that is not a regular one is, for a message.
    static func kind(_ st: stat) -> String {
        switch st.st_mode & S_IFMT {
        case S_IFLNK: return "a symbolic link"
        case S_IFDIR: return "a folder"
        case S_IFIFO: return "a FIFO"
        case S_IFSOCK: return "a socket"
        case S_IFCHR, S_IFBLK: return "a device"
        default: return "not a regular file"
        }
    }

    static func stamp(_ st: stat) -> String? {
        guard (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return "\(st.st_ino):\(st.st_size):\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
    }

    /// The bytes of `stamp(st)`, appended without making a string.
    static func appendStamp(_ st: stat, to out: inout [UInt8]) {
        DecimalText.append(st.st_ino, to: &out)
        out.append(UInt8(ascii: ":"))
        DecimalText.append(st.st_size, to: &out)
        out.append(UInt8(ascii: ":"))
        DecimalText.append(st.st_mtim.tv_sec, to: &out)
        out.append(UInt8(ascii: "."))
        DecimalText.append(st.st_mtim.tv_nsec, to: &out)
    }
}

/// What the catalogs folder holds: the truth the database mirrors.
struct CatalogListing {
    var sources: [String] = []
    var manifests: [String: ManifestFile] = [:]
    /// Files named like a manifest that are not regular files (a symbolic link, FIFO, folder):
    /// not points, but their blocks are unknown, so they stop every deletion of blocks.
    var irregular: [(path: String, kind: String)] = []

    init(catalogs: String) {
        CatalogListing.visit(catalogs: catalogs, source: { sources.append($0) }) { source, file, st in
            let id = String(decoding: file.prefix(32), as: UTF8.self)
            guard let stamp = ManifestFile.stamp(st) else {
                irregular.append((catalogs + "/" + source + "/" + id + ".manifest", ManifestFile.kind(st)))
                return
            }
            manifests[id] = ManifestFile(source: source, id: id, stamp: stamp)
        }
    }

    /// Lists source folders and calls `manifest` with each manifest's source, file name and
    /// lstat. Names that are not a valid source name or point id are left alone: nothing read
    /// from the repository is used as a path unchecked. Every command runs this (10,000
    /// manifests at scale), so names stay bytes until they pass and each file is stat'ed
    /// relative to its folder.
    static func visit(catalogs: String, source: (String) -> Void, manifest: (String, [UInt8], stat) -> Void) {
        let suffix = Array(".manifest".utf8)
        for name in FileIO.names(in: catalogs) {
            let dir = catalogs + "/" + name
            guard (try? SourceConfig.validate(name: name)) != nil, FileIO.isDirectory(dir) else { continue }
            source(name)
            guard case .success(let fd) = FS.openDirectory(path: dir) else { continue }
            defer { close(fd) }
            guard case .success(let files) = FS.listNames(in: fd) else { continue }
            for file in files where file.count == 32 + suffix.count && file.suffix(suffix.count).elementsEqual(suffix)
                && file.prefix(32).allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) {
                guard case .success(let st) = FS.lstat(file, in: fd) else { continue }
                manifest(name, file, st)
            }
        }
    }
}

/// The manifests on disk or the point rows of the database, summed up so that the two can be
/// compared without building a string or a dictionary entry per point (`points` at 10,000
/// points): how many there are, and the sum of a 64-bit hash of each one's source, id and
/// stamp. Equal fingerprints mean the same set of (source, id, stamp) on both sides; any
/// manifest added, removed, renamed over or rewritten changes the files' one.
struct CatalogFingerprint: Equatable {
    var count = 0
    var sum: UInt64 = 0
    var sources: [String] = []

    /// The manifests in `catalogs`, as `CatalogListing` lists them.
    init(catalogs: String) {
        var stamp: [UInt8] = []
        stamp.reserveCapacity(64)
        CatalogListing.visit(catalogs: catalogs, source: { sources.append($0) }) { source, file, st in
            stamp.removeAll(keepingCapacity: true)
            // A file that is not a regular one has no stamp a database row could hold, so the
            // fingerprints differ and the full listing reports it (CatalogListing.irregular).
            if (st.st_mode & S_IFMT) == S_IFREG { ManifestFile.appendStamp(st, to: &stamp) } else { stamp.append(contentsOf: Array("irregular".utf8)) }
            var name = source
            name.withUTF8 { s in file.withUnsafeBytes { f in stamp.withUnsafeBytes { add(UnsafeRawBufferPointer(s), UnsafeRawBufferPointer(rebasing: f.prefix(32)), $0) } } }
        }
        sources.sort()
    }

    /// The point rows of `db` (their source, id and stamp) and its sources.
    init(_ db: GRDB.Database) throws {
        let statement = try db.makeStatement(sql: "SELECT source, id, stamp FROM point")
        let rows = try Row.fetchCursor(statement)
        let c = SQLiteColumns(statement)
        while try rows.next() != nil {
            // A NULL or a number where text belongs (a damaged database) hashes as nothing:
            // the fingerprints differ and the full comparison reports the damage.
            add(c.textOrBlob(0), c.textOrBlob(1), c.textOrBlob(2))
        }
        sources = try String.fetchAll(db, sql: "SELECT name FROM source ORDER BY name")
    }

    private mutating func add(_ source: UnsafeRawBufferPointer, _ id: UnsafeRawBufferPointer, _ stamp: UnsafeRawBufferPointer) {
        // FNV-1a over the three fields, each ended by a 0 (none holds one), then a finalizer
        // (splitmix64's) so that the sum mixes well.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func eat(_ bytes: UnsafeRawBufferPointer) {
            for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            h = (h ^ 0) &* 0x100_0000_01b3
        }
        eat(source)
        eat(id)
        eat(stamp)
        h = (h ^ (h >> 30)) &* 0xbf58_476d_1ce4_e5b9
        h = (h ^ (h >> 27)) &* 0x94d0_49bb_1331_11eb
        h ^= h >> 31
        count += 1
        sum &+= h
    }
}

extension Repository {
    /// Refuses while a file named like a manifest is not a regular file (see
    /// `CatalogListing.irregular`): a writer that removes points must not go on.
    func refuseIrregularManifests() throws {
        if let odd = CatalogListing(catalogs: catalogsDirectory).irregular.first {
            throw SnapdexError.manifestNotRegular(path: odd.path, kind: odd.kind)
        }
    }
}

/// Point ids as they appear in file names and journals: 32 lowercase hex digits.
enum PointID {
    static func isValid(_ s: String) -> Bool {
        s.utf8.count == 32 && s.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}

/// What a reconcile changed, for a note to people.
public struct ReconcileReport: Sendable, Equatable {
    public var added = 0
    public var updated = 0
    public var removed = 0
    public var sourcesChanged = 0
    /// Manifests on disk that could not be read (damaged): not in the database.
    public var unreadable: [String] = []
    /// Why each of `unreadable` could not be read, as a message, by path.
    public var damage: [String: String] = [:]
    /// Manifests on disk the current user may not read: not damaged, and a row the database
    /// has for them stays.
    public var forbidden: [String] = []
    public var changed: Bool { added + updated + removed + sourcesChanged > 0 }
}

extension Repository {
    /// Brings the database in step with the catalog files: a manifest the database does not
    /// know (or knows under another file identity) is read in, a row whose manifest is gone is
    /// dropped, and sources are read from their source.json. Cheap when nothing changed: one
    /// listing and one query. The comparison is redone inside the write transaction, so a
    /// writer's own commit (which is idempotent) cannot interleave with it.
    @discardableResult
    func reconcile() throws -> ReconcileReport {
        if try !needsReconcile() { return ReconcileReport() }
        do {
            return try database.write { db in try self.applyListing(CatalogListing(catalogs: self.catalogsDirectory), db) }
        } catch let e as DatabaseError where [.SQLITE_READONLY, .SQLITE_FULL, .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_PERM].contains(e.resultCode) {
            // A read-only or full repository: answer from a database in memory instead.
            database = try Schema.inMemory()
            let report = try database.write { db in try self.applyListing(CatalogListing(catalogs: self.catalogsDirectory), db) }
            notes.append("the database \(databasePath) cannot be updated (\(e.message ?? "\(e.resultCode)")); answering from the catalog files")
            return report
        } catch let e as DatabaseError {
            throw databaseError(e)
        }
    }

    private func sourceRecordFromFile(_ name: String) -> (SourceRecord, damaged: Bool) {
        if let c = try? loadSourceConfig(name), c.name == name { return (c.record, false) }
        return (SourceConfig(name: name).record, true)
    }

    /// A point row's identity columns (selected as id, source, stamp). A damaged database can hold NULLs or other types here,
    /// which GRDB's plain subscripts would trap on: that is damage (exit 3), never a trap.
    private func pointRow(_ r: Row) throws -> (id: String, source: String, stamp: String) {
        guard let id: String = r.checked(at: 0), let source: String = r.checked(at: 1), let stamp: String = r.checked(at: 2)
        else { throw SnapdexError.databaseDamaged(path: databasePath, reason: "a point row holds a value of the wrong type") }
        return (id, source, stamp)
    }

    /// Whether the database differs from the catalog files. Their fingerprints are compared
    /// first; when they differ, the files are listed again and compared row by row, which also
    /// tells a database that is merely damaged or holds manifests twice from one that is behind.
    private func needsReconcile() throws -> Bool {
        let files = CatalogFingerprint(catalogs: catalogsDirectory)
        if try read({ db in try CatalogFingerprint(db) }) == files {
            for s in try sources() where sourceRecordFromFile(s.name).0 != s { return true }
            return false
        }
        let listing = CatalogListing(catalogs: catalogsDirectory)
        return try read { db in
            guard try PointRecord.fetchCount(db) == listing.manifests.count else { return true }
            let rows = try Row.fetchCursor(db, sql: "SELECT id, source, stamp FROM point")
            while let r = try rows.next() {
                let row = try pointRow(r)
                guard let f = listing.manifests[row.id], f.source == row.source, f.stamp == row.stamp else { return true }
            }
            let sources = try SourceRecord.fetchAll(db)
            guard sources.map(\.name).sorted() == listing.sources else { return true }
            for s in sources where sourceRecordFromFile(s.name).0 != s { return true }
            return false
        }
    }

    private func applyListing(_ listing: CatalogListing, _ db: GRDB.Database) throws -> ReconcileReport {
        var report = ReconcileReport()
        let known = Dictionary(try SourceRecord.fetchAll(db).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for name in listing.sources {
            let (record, damaged) = sourceRecordFromFile(name)
            if damaged { notes.append("\(sourceDirectory(name))/source.json is damaged or missing; source '\(name)' is shown with default settings until `snapdex verify --repair` writes it anew") }
            if known[name] != record {
                try record.save(db)
                report.sourcesChanged += 1
            }
        }
        var rows: [String: (source: String, stamp: String)] = [:]
        let cursor = try Row.fetchCursor(db, sql: "SELECT id, source, stamp FROM point")
        while let r = try cursor.next() {
            let row = try pointRow(r)
            rows[row.id] = (row.source, row.stamp)
        }
        let update = CatalogueUpdate(db)
        for (id, row) in rows {
            if let f = listing.manifests[id], f.source == row.source { continue }
            try update.remove(point: id)
            report.removed += 1
        }
        try update.finish()
        for name in known.keys where !listing.sources.contains(name) {
            try Catalogue.deleteSource(name, in: db)
            report.sourcesChanged += 1
        }
        for f in listing.manifests.values.sorted(by: { $0.id < $1.id }) {
            let row = rows[f.id]
            if let row, row.source == f.source, row.stamp == f.stamp { continue }
            let path = manifestPath(source: f.source, id: f.id)
            let bytes: [UInt8], m: Manifest
            do {
                bytes = try readRepositoryFile(path)
                m = try Manifest.decode(bytes, path: path)
            } catch SnapdexError.permissionDenied {
                report.forbidden.append(path)
                continue
            } catch {
                // Damaged: a row the database already had stays, so verify names the point.
                report.unreadable.append(path)
                report.damage[path] = "\(error)"
                continue
            }
            guard m.idHex == f.id, m.source == f.source else {
                report.unreadable.append(path)
                report.damage[path] = "\(path): holds point \(m.idHex.prefix(12)) of source '\(m.source)'"
                continue
            }
            try update.add(m, manifestBytes: bytes.count, stamp: f.stamp, isNew: row == nil)
            if row == nil || row?.source != f.source { report.added += 1 } else { report.updated += 1 }
        }
        try update.finish()
        if report.removed > 0 || report.updated > 0 { _ = try Catalogue.deleteUnreferencedBlocks(in: db) }
        return report
    }

    /// The blocks some manifest on disk references: what may never be deleted. Throws,
    /// deleting nothing, when any manifest cannot be read, since its blocks are unknown.
    func liveBlocks() throws -> Set<Digest> {
        var live = Set<Digest>()
        var unreadable: [String] = []
        let listing = CatalogListing(catalogs: catalogsDirectory)
        if let odd = listing.irregular.first { throw SnapdexError.manifestNotRegular(path: odd.path, kind: odd.kind) }
        for f in listing.manifests.values {
            let path = manifestPath(source: f.source, id: f.id)
            guard let bytes = try? FileIO.readAll(path), let m = try? Manifest.decode(bytes, path: path),
                  m.idHex == f.id, m.source == f.source else {
                unreadable.append(path)
                continue
            }
            live.formUnion(m.blockHashes)
        }
        if !unreadable.isEmpty { throw SnapdexError.catalogsUnreadable(paths: unreadable.sorted()) }
        return live
    }
}
