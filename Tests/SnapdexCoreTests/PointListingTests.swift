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

    /// Ids that share their first 10 characters need 11 to tell apart, and the whole column is
    /// cut to that width, but only in listings that hold one of them.
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
        // Rows written straight into the database (the listing reads only it): two "home" ids
        // alike in 10 characters, one "work" id alike with neither beyond 8.
        let template = try #require(try repo.points(source: "home").first)
        try repo.write { db in
            for (id, source) in [("0123456789a" + String(repeating: "0", count: 21), "home"),
                                 ("0123456789b" + String(repeating: "0", count: 21), "home"),
                                 ("01234567ff" + String(repeating: "0", count: 22), "work")] {
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
        #expect(try repo.pointListing(now: now).idWidth == 11)
        #expect(try repo.pointListing(source: "home", now: now).idWidth == 11)
        #expect(try repo.pointListing(source: "work", now: now).idWidth == 9)
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
