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

    /// Rebuilds the database from the source files and manifests alone.
    public func rescan(wait: Double = 0) throws -> RescanReport {
        try withWriterLock(wait: wait) {
            var report = RescanReport()
            var configs: [SourceConfig] = []
            var manifests: [(Manifest, Int)] = []
            for name in FileIO.names(in: catalogsDirectory) {
                let dir = sourceDirectory(name)
                guard FileIO.isDirectory(dir) else { continue }
                if FileIO.exists(dir + "/source.json") {
                    configs.append(try loadSourceConfig(name))
                } else {
                    configs.append(SourceConfig(name: name))
                }
                for file in FileIO.names(in: dir) where file.hasSuffix(".manifest") {
                    let path = dir + "/" + file
                    do {
                        let bytes = try FileIO.readAll(path)
                        let m = try Manifest.decode(bytes, path: path)
                        guard m.source == name, m.idHex + ".manifest" == file else {
                            report.skipped.append("\(path): names source \(m.source) and id \(m.idHex)")
                            continue
                        }
                        manifests.append((m, bytes.count))
                    } catch {
                        report.skipped.append("\(error)")
                    }
                }
            }
            try write { db in
                try db.execute(sql: "DELETE FROM pointBlock; DELETE FROM point; DELETE FROM block; DELETE FROM source")
                for c in configs { try c.record.insert(db) }
                for (m, size) in manifests {
                    try Catalogue.insert(m, manifestBytes: size, in: db)
                }
                report.blocks = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM block") ?? 0
            }
            report.sources = configs.count
            report.points = manifests.count
            return report
        }
    }
}
