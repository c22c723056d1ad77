import Foundation
import GRDB
import Testing
@testable import SnapdexCore

/// `points` reads its rows, sizes, id width and retention reasons in one pass
/// (`Repository.pointListing`), built for 10,000 points: it must say exactly what the separate
/// functions other commands use say.
struct PointListingTests {
    /// The listing as it was put together before, from `points`, `catalogSizes`, `shortIDs`
    /// and `retentionPlan` matched by id.
    static func expected(_ repo: Repository, source: String?, now: Timestamp) throws -> (rows: [String], width: Int) {
        let points = try repo.points(source: source)
        let sizes = try repo.catalogSizes()
        let short = try repo.shortIDs()
        let plan = Dictionary(uniqueKeysWithValues: repo.retentionPlan(of: points, now: now).map { ($0.candidate.id, $0.reasons) })
        let rows = points.map { p in
            let (own, shared) = sizes[p.id] ?? (0, 0)
            return "\(p.id) \(p.source) \(p.time) \(own) \(shared) \(plan[p.id] ?? ["?"]) \(p.snapshotExists)"
        }
        return (rows, points.map { short[$0.id]?.count ?? 8 }.max() ?? 8)
    }

    static func actual(_ repo: Repository, source: String?, now: Timestamp) throws -> (rows: [String], width: Int) {
        let listing = try repo.pointListing(source: source, now: now)
        let rows = listing.rows.map { r in
            "\(r.point.id) \(r.point.source) \(r.point.time) \(r.ownBytes) \(r.sharedBytes) \(r.retention) \(r.snapshotExists)"
        }
        return (rows, listing.idWidth)
    }

    @Test func listingSaysWhatPointsSizesIdsAndRetentionSay() throws {
        let tmp = TempDir()
        let repo = try tmp.makeRepository()
        for day in 1...6 {
            for i in 0..<120 { Tree.write(tmp.sub("snaps/2026-11-0\(day)/d\(i / 40)/f\(i)"), i % 30 == day ? "day \(day) \(i)" : "file \(i)") }
        }
        try repo.addSource(SourceConfig(name: "home", snapshots: tmp.sub("snaps")))
        try repo.addSource(SourceConfig(name: "attic"))
        let indexer = Indexer(repository: repo)
        indexer.chunking = ChunkingParameters(minEntries: 16, maxEntries: 64, mask: 0xf)
        #expect(try indexer.run(IndexOptions(source: "home")).count == 6)
        _ = try repo.setPolicy(source: "home", policy: RetentionPolicy(text: "keep-last=2 daily=3 zone=Europe/Berlin"), applyToExisting: true)
        Tree.write(tmp.sub("attic/f"), "attic")
        var manual = IndexOptions(source: "attic", directory: tmp.sub("attic"))
        manual.manual = true
        manual.at = Timestamp(nanoseconds: 1_790_000_000_500_000_000)
        _ = try indexer.run(manual)
        var held = IndexOptions(source: "attic", directory: tmp.sub("attic"))
        held.at = Timestamp(nanoseconds: 1_790_000_100_000_000_000)
        held.keepUntil = .never
        _ = try indexer.run(held)
        try FileManager.default.removeItem(atPath: tmp.sub("snaps/2026-11-02"))  // a snapshot gone

        let now = Timestamp(nanoseconds: 1_800_000_000_000_000_000)
        for source in [nil, "home", "attic", "nosuch"] {
            let want = try Self.expected(repo, source: source, now: now)
            let got = try Self.actual(repo, source: source, now: now)
            #expect(got.rows == want.rows, "source \(source ?? "all")")
            #expect(got.width == want.width, "source \(source ?? "all")")
        }
        #expect(try repo.pointListing(now: now).rows.count == 8)
        #expect(try repo.pointListing(now: now).rows.contains { !$0.snapshotExists })
    }

    /// Ids that share their first 14 characters need 15 to tell apart, and the whole column is
    /// cut to that width in every listing that holds one of them.
    @Test func idWidthIsTheLongestUniquePrefixOfTheListedIds() throws {
        let tmp = TempDir()
        let repo = try tmp.makeRepository()
        Tree.write(tmp.sub("snap/f"), "x")
        try repo.addSource(SourceConfig(name: "home"))
        try repo.addSource(SourceConfig(name: "work"))
        let indexer = Indexer(repository: repo)
        for source in ["home", "work"] {
            var options = IndexOptions(source: source, directory: tmp.sub("snap"))
            options.at = Timestamp(nanoseconds: 1_700_000_000_000_000_000)
            _ = try indexer.run(options)
        }
        let now = Timestamp(nanoseconds: 1_800_000_000_000_000_000)
        #expect(try repo.pointListing(now: now).idWidth == 8)
        // Rows written straight into the database (the listing reads only it): ids alike in
        // 10 characters, in 8, and in 14 (of two sources).
        let template = try #require(try repo.points(source: "home").first)
        try repo.write { db in
            for (id, source) in [("0123456789a" + String(repeating: "0", count: 21), "home"),
                                 ("0123456789b" + String(repeating: "0", count: 21), "home"),
                                 ("01234567ff" + String(repeating: "0", count: 22), "work"),
                                 // The earlier of a pair in id order needs as many as the later.
                                 ("fedcba9876543210" + String(repeating: "0", count: 16), "work"),
                                 ("fedcba98765432ff" + String(repeating: "0", count: 16), "home")] {
                var p = template
                p.id = id
                p.source = source
                try p.insert(db, cached: false)
            }
        }
        for source in [nil, "home", "work"] {
            let want = try Self.expected(repo, source: source, now: now)
            let got = try Self.actual(repo, source: source, now: now)
            #expect(got.rows == want.rows, "source \(source ?? "all")")
            #expect(got.width == want.width, "source \(source ?? "all")")
        }
        #expect(try repo.pointListing(now: now).idWidth == 15)
        #expect(try repo.pointListing(source: "home", now: now).idWidth == 15)
        #expect(try repo.pointListing(source: "work", now: now).idWidth == 15)
    }

    /// `appendExactText` writes `exactText`'s bytes for any time, with its cache of the day
    /// and offset carried from time to time as `points` does.
    @Test func exactTextBytesEqualExactText() {
        var times: [Int64] = [0, 1, -1, 999_999_999, 1_000_000_000, -1_000_000_000, 500_000_000, 250_000_000, 100, 120_000_000,
                              1_790_000_000_500_000_000, 1_790_000_000_000_000_001, .max, .min, .max - 1, .min + 1]
        var t: Int64 = 1_700_000_000_000_000_000
        for _ in 0..<500 {
            t += 3_599_999_999_937  // an hour less 63 ns: every hour and many fractions
            times.append(t)
        }
        for _ in 0..<200 {
            t -= 86_400_000_000_000 * 3 + 7
            times.append(t)
        }
        var cache = TimeDisplay.TextCache()
        for ns in times {
            var out: [UInt8] = Array("x".utf8)
            TimeDisplay.appendExactText(Timestamp(nanoseconds: ns), to: &out, cache: &cache)
            #expect(String(decoding: out, as: UTF8.self) == "x" + TimeDisplay.exactText(Timestamp(nanoseconds: ns)), "\(ns)")
        }
    }

    /// `Civil.rfc3339` writes what it wrote by interpolation, for any second.
    @Test func rfc3339BytesEqualTheInterpolatedText() {
        func interpolated(_ seconds: Int64) -> String {
            let c = Civil.fields(seconds: seconds)
            return "\(Civil.yearText(c.year))-\(pad(c.month, 2))-\(pad(c.day, 2))T\(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2))Z"
        }
        var rng = SystemRandomNumberGenerator()
        var seconds: [Int64] = [0, -1, 1, 86_399, 86_400, -62_167_219_200, -62_167_219_201, 253_402_300_799, 253_402_300_800,
                                Timestamp.min.seconds, Timestamp.max.seconds, .max / 86_400 * 86_400, -(.max / 86_400) * 86_400]
        for _ in 0..<2000 { seconds.append(Int64.random(in: -400_000_000_000...400_000_000_000, using: &rng)) }
        for s in seconds { #expect(Civil.rfc3339(seconds: s) == interpolated(s), "\(s)") }
        let t = Timestamp(nanoseconds: 1_790_000_000_250_000_000)
        #expect(t.exactRFC3339() == "2026-09-21T14:13:20.25Z")
        #expect(t.rfc3339() == "2026-09-21T14:13:20Z")
    }

    /// `RetentionPlanner.reasons` gives `plan`'s reasons, by the position of each point.
    @Test func reasonsByPositionArePlansReasons() throws {
        let policy = try RetentionPolicy(text: "keep-last=3 hourly=2 daily=2 weekly=1 monthly=1 yearly=1 zone=UTC")
        var points: [RetentionCandidate] = []
        for i in 0..<60 {
            points.append(RetentionCandidate(id: String(format: "%032x", (i * 7919) % 1000), source: i % 3 == 0 ? "b" : "a",
                                             time: Timestamp(nanoseconds: Int64(1_700_000_000 + i * 5_000) * 1_000_000_000),
                                             manual: i % 11 == 0, retainUntil: i == 5 ? .never : nil, policy: i % 7 == 0 ? RetentionPolicy() : policy))
        }
        points.shuffle()
        let now = Timestamp(nanoseconds: 1_800_000_000_000_000_000)
        let plan = RetentionPlanner.plan(points, now: now, localZone: .utc)
        let reasons = RetentionPlanner.reasons(points, now: now, localZone: .utc)
        let byID = Dictionary(uniqueKeysWithValues: plan.map { ($0.candidate.id, $0.reasons) })
        #expect(plan.count == points.count)
        for (i, p) in points.enumerated() { #expect(reasons[i] == byID[p.id], "\(p.id)") }
    }
}
