import Foundation
import GRDB

/// What `snapdex verify` found.
public struct VerifyReport: Sendable {
    public struct DamagedBlock: Sendable {
        public var hash: String
        public var reason: String
        public var points: [String]
    }
    public var pointsChecked = 0
    public var blocksChecked = 0
    public var damagedBlocks: [DamagedBlock] = []
    public var damagedManifests: [(point: String, reason: String)] = []
    public var isClean: Bool { damagedBlocks.isEmpty && damagedManifests.isEmpty }
}

/// What `snapdex rescan` rebuilt.
public struct RescanReport: Sendable {
    public var sources = 0
    public var points = 0
    public var blocks = 0
    public var skipped: [String] = []
}

extension Repository {
    /// Re-reads, re-hashes and decodes every block of the given points (all when empty),
    /// naming each damaged block and every point it affects.
    public func verify(points selected: [PointRecord] = []) throws -> VerifyReport {
        var report = VerifyReport()
        let all = try points()
        let points = selected.isEmpty ? all : selected
        var manifests: [(PointRecord, Manifest)] = []
        for p in points {
            do {
                manifests.append((p, try manifest(of: p)))
            } catch let e as SnapdexError {
                report.damagedManifests.append((p.id, "\(e)"))
            }
        }
        report.pointsChecked = points.count
        if selected.isEmpty {
            // Manifests the database could not take in (damaged ones): the files are the truth.
            let known = Set(all.map(\.id))
            for f in CatalogListing(catalogs: catalogsDirectory).manifests.values.sorted(by: { $0.id < $1.id }) where !known.contains(f.id) {
                let path = manifestPath(source: f.source, id: f.id)
                let reason: String
                do {
                    let m = try Manifest.decode(try FileIO.readAll(path), path: path)
                    reason = "\(path) holds point \(m.idHex.prefix(12)) of source '\(m.source)'"
                } catch {
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
        // Each block is read and hashed once; each chunk is then decoded from its blocks.
        var checked: [Digest: String?] = [:]
        for (_, m) in manifests {
            for c in m.chunks {
                var raws: [Digest: [UInt8]] = [:]
                var whole = true
                for b in c.parts.flatMap(\.blocks) {
                    if let prior = checked[b.hash], prior != nil {
                        whole = false
                        continue
                    }
                    do {
                        raws[b.hash] = try blocks.read(b.hash)
                        checked[b.hash] = .some(nil)
                    } catch {
                        checked[b.hash] = .some("\(error)")
                        whole = false
                    }
                }
                guard whole else { continue }
                do {
                    let groups = try CatalogReader.decode(c, level: .full) { h in raws[h] ?? [] }
                    let count = groups.reduce(0) { $0 + $1.entries.count }
                    if count != c.entries { checked[c.parts[0].block.hash] = .some("holds \(count) entries, manifest says \(c.entries)") }
                } catch {
                    checked[c.parts[0].block.hash] = .some("does not decode: \(error)")
                }
            }
        }
        report.blocksChecked = checked.count
        for (h, reason) in checked.sorted(by: { $0.key < $1.key }) {
            if let reason {
                report.damagedBlocks.append(.init(hash: h.hex, reason: reason, points: (users[h] ?? []).sorted()))
            }
        }
        return report
    }

    /// `rebuildDatabase` for an open repository, which then uses the new database.
    public func rescan(wait: Double = 0) throws -> RescanReport {
        let report = try Repository.rebuildDatabase(at: root, wait: wait)
        database = try Schema.open(path: databasePath)
        return report
    }

    /// Replaces the database with one rebuilt from the source files and manifests alone. It
    /// works on a database that is damaged or missing, since it never opens the old one.
    public static func rebuildDatabase(at path: String, wait: Double = 0) throws -> RescanReport {
        let root = try checkedRoot(path)
        let lock = try WriterLock(path: root + "/lock", wait: wait)
        defer { lock.release() }
        for suffix in ["", "-wal", "-shm"] { FileIO.remove(root + "/snapdex.db" + suffix) }
        let repo = try Repository(root: root, announce: false)
        try repo.recover()
        var report = RescanReport()
        let listing = CatalogListing(catalogs: repo.catalogsDirectory)
        report.sources = listing.sources.count
        report.points = try repo.read { db in try PointRecord.fetchCount(db) }
        report.blocks = try repo.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM block") ?? 0 }
        report.skipped = listing.manifests.values.compactMap { f in
            let path = repo.manifestPath(source: f.source, id: f.id)
            do {
                let m = try Manifest.decode(try FileIO.readAll(path), path: path)
                return m.idHex == f.id && m.source == f.source ? nil : "\(path): holds point \(m.idHex.prefix(12)) of source '\(m.source)'"
            } catch {
                return "\(error)"
            }
        }.sorted()
        for name in listing.sources where FileIO.exists(repo.sourceDirectory(name) + "/source.json") {
            if let e = Result(catching: { try repo.loadSourceConfig(name) }).failureValue { report.skipped.append("\(e)") }
        }
        return report
    }
}

extension Result {
    var failureValue: Failure? { if case .failure(let e) = self { return e } else { return nil } }
}
