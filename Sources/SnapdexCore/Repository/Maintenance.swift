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
    public var isClean: Bool { damagedBlocks.isEmpty && damagedManifests.isEmpty }
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
    /// naming each damaged block and every point it affects. A point expired or forgotten
    /// meanwhile is skipped (`skipped`), not reported as damage.
    public func verify(points selected: [PointRecord] = []) throws -> VerifyReport {
        var (report, manifests, users) = try verifyManifests(selected)
        try verifyBlocks(&report, manifests, users)
        return report
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
            } catch let e as SnapdexError {
                report.damagedManifests.append((p.id, "\(e)"))
            }
        }
        report.pointsChecked = points.count - report.skipped.count
        var users: [Digest: [String]] = [:]
        for (p, m) in manifests { for h in m.blockHashes { users[h, default: []].append(p.id) } }
        if !selected.isEmpty {
            for p in all where !points.contains(where: { $0.id == p.id }) {
                if let m = try? manifest(of: p) { for h in m.blockHashes where users[h] != nil { users[h]!.append(p.id) } }
            }
        }
        return (report, manifests, users)
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
                for b in c.parts.flatMap(\.blocks) {
                    if let prior = checked[b.hash], prior != nil {
                        whole = false
                        continue
                    }
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
                        checked[b.hash] = .some("\(error)")
                        unreadable.insert(b.hash)
                        whole = false
                    }
                }
                guard whole else {
                    names.reset()
                    continue
                }
                do {
                    let groups = try CatalogReader.decode(c, level: .full) { h in raws[h] ?? [] }
                    if let problem = names.check(groups) {
                        checked[c.parts[0].block.hash] = .some(problem)
                        names.reset()
                    }
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
        try withWriterLock(wait: wait) {
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
            for p in candidates.sorted(by: { $0.time > $1.time }) where !pending.isEmpty {
                guard FileIO.isDirectory(p.snapshot), let m = try? manifest(of: p) else { continue }
                let wanted = Set(pending.keys).intersection(m.blockHashes)
                guard !wanted.isEmpty, let parts = try? reproduce(m, point: p, wanted: wanted, chunking: chunking) else { continue }
                for (h, raw) in parts {
                    guard let b = pending[h] else { continue }
                    _ = try blocks.rewrite(raw, hash: h)
                    results.append(BlockRepair(hash: b.hash, repairedFrom: p.id, points: b.points))
                    pending[h] = nil
                }
            }
            for b in pending.values {
                results.append(BlockRepair(hash: b.hash, reason: "no snapshot holds it", points: b.points))
            }
            return results.sorted { $0.hash < $1.hash }
        }
    }

    /// Indexes a point's snapshot again without publishing anything, and returns the parts
    /// among `wanted` that it reproduces: whole parts as they are encoded, patches made again
    /// against their (intact) base.
    func reproduce(_ m: Manifest, point: PointRecord, wanted: Set<Digest>, chunking: ChunkingParameters) throws -> [Digest: [UInt8]] {
        // Patches need the chunk's three whole parts; whole parts are captured by their hash.
        var capture = wanted
        for c in m.chunks where c.parts.contains(where: { $0.base != nil && wanted.contains($0.block.hash) }) {
            for part in c.parts { capture.insert(part.whole ?? part.block.hash) }
        }
        let sink = CaptureSink(wanted: capture)
        let indexer = Indexer(repository: self)
        indexer.chunking = chunking
        var options = IndexOptions(source: m.source, directory: m.snapshotPath)
        options.hash = m.hashed
        // The point's own readable chunks give the hashes of files that did not change.
        _ = try indexer.walk(directory: m.snapshotPath, options: options, base: nil, hashesFrom: m.hashed ? point : nil, store: sink)
        var out: [Digest: [UInt8]] = [:]
        for h in wanted { if let raw = sink.captured[h] { out[h] = raw } }
        for c in m.chunks {
            let wholes = c.parts.map { sink.captured[$0.whole ?? $0.block.hash] }
            for (i, part) in c.parts.enumerated() where part.base != nil && wanted.contains(part.block.hash) {
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

/// A block sink that stores nothing: it keeps the bytes of the parts whose hash is wanted.
final class CaptureSink: BlockSink {
    let wanted: Set<Digest>
    private(set) var captured: [Digest: [UInt8]] = [:]
    init(wanted: Set<Digest>) { self.wanted = wanted }
    func put(_ raw: [UInt8], hash: Digest) throws -> BlockRef {
        if wanted.contains(hash) { captured[hash] = raw }
        return BlockRef(hash: hash, rawSize: raw.count, storedSize: 0)
    }
    func contains(_ hash: Digest) -> Bool { false }
    func reuse(_ blocks: [BlockRef]) {}
    func holdsIntact(_ hash: Digest) -> Bool { false }
    func read(_ hash: Digest) throws -> [UInt8] { throw SnapdexError.blockMissing(hash: hash.hex) }
    func finishWrites() throws -> [Digest: Int] { [:] }
}
