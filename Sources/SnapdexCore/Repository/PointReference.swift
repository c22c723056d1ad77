import GRDB

extension Repository {
    /// Resolves what users type for a point: an id prefix (`3fa9c1`), `SOURCE@latest`, or
    /// `SOURCE@TIME`, the newest point at or before TIME (a date alone means the end of that day).
    /// Points that share a time are ordered by id (`points(source:)`), so `@latest` is the last of
    /// them, as in `find --latest-only`; `SOURCE@TIME` naming several points is refused, listing them.
    /// An empty TIME or id (a script's unset variable: `forget "s@$DAY"`) names no point and is
    /// refused, never read as `latest`.
    public func resolve(_ reference: String) throws -> PointRecord {
        if let at = reference.firstIndex(of: "@") {
            let source = String(reference[..<at])
            let when = String(reference[reference.index(after: at)...])
            guard !when.isEmpty else { throw SnapdexError.pointReferenceEmpty(reference, source: source) }
            _ = try self.source(named: source)
            let points = try self.points(source: source)
            if when == "latest" {
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
        guard !reference.isEmpty else { throw SnapdexError.pointReferenceEmpty(reference, source: nil) }
        let prefix = reference.lowercased()
        guard prefix.allSatisfy(\.isHexDigit) else { throw SnapdexError.pointUnknown(reference) }
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
        // Even --nearest must not take the point before one that TIME's second rounds to.
        try refuseRounded(reference, resolved: p)
        guard !nearest, let at = reference.firstIndex(of: "@") else { return p }
        let when = String(reference[reference.index(after: at)...])
        if when == "latest" { return p }
        if let t = TimeParser.parse(when), p.time == t.nanoseconds { return p }
        let short = try shortIDs()[p.id] ?? p.id
        throw SnapdexError.pointNotExact(reference, nearest: short, time: p.pointTime.exactRFC3339())
    }

    /// Refuses `SOURCE@TIME` when `resolved` is not exactly at TIME yet points of that source
    /// lie within TIME's second: the time was typed rounded (or copied from an old message that
    /// dropped the fraction), and the point before it, `resolved`, is not the one meant.
    /// Commands that act on a point (`forget`, `point keep`) call this before acting.
    public func refuseRounded(_ reference: String, resolved p: PointRecord) throws {
        guard let at = reference.firstIndex(of: "@"), let t = TimeParser.parse(String(reference[reference.index(after: at)...])),
              p.time != t.nanoseconds else { return }
        let start = t.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !start.overflow else { return }
        let within = try points(source: p.source).filter { $0.time >= start.partialValue && $0.time - start.partialValue < 1_000_000_000 }
        guard !within.isEmpty else { return }
        let short = try shortIDs()
        throw SnapdexError.pointWithinSecond(reference, candidates: within.map {
            "\($0.source)@\(TimeDisplay.reference($0.pointTime)) (\(short[$0.id] ?? $0.id))"
        })
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
