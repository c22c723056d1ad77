import GRDB

extension Repository {
    /// Resolves what users type for a point: an id prefix (`3fa9c1`), `SOURCE@latest`, or
    /// `SOURCE@TIME`, the newest point at or before TIME (a date alone means the end of that day).
    /// Points that share a time are ordered by id (`points(source:)`), so `@latest` is the last of
    /// them, as in `find --latest-only`; `SOURCE@TIME` naming several points is refused, listing them.
    public func resolve(_ reference: String) throws -> PointRecord {
        if let at = reference.firstIndex(of: "@") {
            let source = String(reference[..<at])
            let when = String(reference[reference.index(after: at)...])
            _ = try self.source(named: source)
            let points = try self.points(source: source)
            if when == "latest" || when.isEmpty {
                guard let p = points.last else { throw SnapdexError.pointUnknown(reference) }
                return p
            }
            let t = try TimeParser.read(when, endOfDay: true)
            guard let p = points.last(where: { $0.time <= t.nanoseconds }) else { throw SnapdexError.pointUnknown(reference) }
            let shared = points.filter { $0.time == p.time }
            if shared.count > 1 {
                let short = try shortIDs()
                throw SnapdexError.pointTimeShared(reference, ids: shared.map { short[$0.id] ?? $0.id })
            }
            return p
        }
        let prefix = reference.lowercased()
        guard !prefix.isEmpty, prefix.allSatisfy(\.isHexDigit) else { throw SnapdexError.pointUnknown(reference) }
        let matches = try read { db in
            try PointRecord.filter(sql: "substr(id, 1, ?) = ?", arguments: [prefix.count, prefix]).limit(6).fetchAll(db)
        }
        if matches.count == 1 { return matches[0] }
        if matches.isEmpty { throw SnapdexError.pointUnknown(reference) }
        throw SnapdexError.pointAmbiguous(reference, candidates: matches.map { String($0.id.prefix(prefix.count + 2)) })
    }

    /// Resolves a reference for a command that destroys, where "the newest point at or before"
    /// is too loose: an id prefix and `SOURCE@latest` name a point exactly, and `SOURCE@TIME`
    /// must be a point's time (to the second, or as precisely as typed) unless `nearest`.
    public func resolveExactly(_ reference: String, nearest: Bool) throws -> PointRecord {
        let p: PointRecord
        do {
            p = try resolve(reference)
        } catch SnapdexError.pointUnknown(let r) {
            // A damaged manifest the database could not take in is still a file to remove.
            guard let f = CatalogListing(catalogs: catalogsDirectory).manifests[reference.lowercased()],
                  try point(id: f.id) == nil else { throw SnapdexError.pointUnknown(r) }
            return PointRecord(id: f.id, source: f.source, time: 0, indexedAt: 0, kind: "damaged", snapshot: "", entries: 0,
                               files: 0, directories: 0, bytes: 0, hashed: false, manifestBytes: 0)
        }
        guard !nearest, let at = reference.firstIndex(of: "@") else { return p }
        let when = String(reference[reference.index(after: at)...])
        if when == "latest" || when.isEmpty { return p }
        if let t = TimeParser.parse(when) {
            // Without a fraction typed, any point within that second is the one meant.
            let window: Int64 = when.contains(".") ? 1 : 1_000_000_000
            let (after, overflow) = p.time.subtractingReportingOverflow(t.nanoseconds)
            if !overflow, after >= 0, after < window { return p }
        }
        let short = try shortIDs()[p.id] ?? p.id
        throw SnapdexError.pointNotExact(reference, nearest: short, time: p.pointTime.rfc3339())
    }

    /// The shortest prefix of each id, at least 8 characters, that no other id shares (git-style).
    public func shortIDs() throws -> [String: String] {
        let ids = try read { db in try String.fetchAll(db, sql: "SELECT id FROM point ORDER BY id") }
        var out: [String: String] = [:]
        for (i, id) in ids.enumerated() {
            var n = 8
            for j in [i - 1, i + 1] where j >= 0 && j < ids.count {
                let common = zip(id.utf8, ids[j].utf8).prefix { $0 == $1 }.count  // ids are ASCII hex
                n = max(n, common + 1)
            }
            out[id] = String(id.prefix(n))
        }
        return out
    }
}
