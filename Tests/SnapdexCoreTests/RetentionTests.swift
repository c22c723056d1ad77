import Foundation
import Testing
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Golden scenarios in the style of restic's policy tests: each renders a plan as text and
/// compares it with a file under Golden/. Run with SNAPDEX_UPDATE_GOLDEN=1 to rewrite the
/// files, then review the diff by eye.
@Suite(.serialized) struct RetentionTests {
    init() {
        setenv("TZ", "UTC", 1)
        tzset()
    }

    static func day(_ text: String) -> Timestamp { TimeParser.parse(text)! }

    /// A year of daily points at 03:00 UTC, from 2025-12-01 to 2026-11-30, plus manual ones
    /// and one on legal hold.
    static func year(policy: RetentionPolicy) -> [RetentionCandidate] {
        var points: [RetentionCandidate] = []
        let start = day("2025-12-01T03:00:00Z")
        for i in 0..<365 {
            let t = Timestamp(nanoseconds: start.nanoseconds + Int64(i) * 86_400_000_000_000)
            points.append(RetentionCandidate(id: String(format: "s%03d", i), source: "home", time: t, policy: policy))
        }
        points.append(RetentionCandidate(id: "m001", source: "home", time: day("2026-02-14T12:00:00Z"), manual: true, policy: policy))
        points.append(RetentionCandidate(id: "m002", source: "home", time: day("2026-07-01T09:30:00Z"), manual: true, policy: policy))
        points[40].retainUntil = day("2030-01-01T00:00:00Z")
        points[41].retainUntil = day("2026-01-01T00:00:00Z")  // a hold that has passed
        return points
    }

    static func render(_ decisions: [RetentionDecision]) -> String {
        decisions.map { d in
            let c = d.candidate
            return "\(c.time.rfc3339()) \(c.id) \(c.manual ? "manual" : "scheduled") \(d.keep ? "keep" : "expire")"
                + (d.reasons.isEmpty ? "" : " " + d.reasons.joined(separator: ", "))
        }.joined(separator: "\n") + "\n"
    }

    static func check(_ name: String, _ text: String) throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
        let file = dir.appendingPathComponent(name + ".txt")
        if ProcessInfo.processInfo.environment["SNAPDEX_UPDATE_GOLDEN"] == "1" {
            try text.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        #expect(text == expected, "plan differs from Golden/\(name).txt; rerun with SNAPDEX_UPDATE_GOLDEN=1 and review the diff")
    }

    static let scenarios: [(String, RetentionPolicy, String)] = [
        ("gfs", RetentionPolicy(keepDays: 14, weekly: 8, monthly: 12, yearly: 3), "2026-12-01T00:00:00Z"),
        ("keep-last", RetentionPolicy(keepLast: 10), "2026-12-01T00:00:00Z"),
        ("keep-days", RetentionPolicy(keepDays: 30), "2026-12-01T00:00:00Z"),
        ("weekly-monthly", RetentionPolicy(weekly: 4, monthly: 6), "2026-12-01T00:00:00Z"),
        ("gfs-future-now", RetentionPolicy(keepDays: 14, weekly: 8, monthly: 12, yearly: 3), "2027-06-01T00:00:00Z"),
        ("gfs-past-now", RetentionPolicy(keepDays: 14, weekly: 4), "2026-06-15T00:00:00Z"),
        ("no-policy", RetentionPolicy(), "2026-12-01T00:00:00Z"),
    ]

    @Test(arguments: scenarios.map(\.0))
    func goldenScenario(name: String) throws {
        let (_, policy, now) = Self.scenarios.first { $0.0 == name }!
        let plan = RetentionPlanner.plan(Self.year(policy: policy), now: Self.day(now), localZone: .utc)
        try Self.check(name, Self.render(plan))
    }

    @Test func isoWeeksFollowTheStandard() {
        #expect(Period.isoWeek(Self.day("2026-01-01T12:00:00Z"), in: .utc) == "2026-W01")  // a Thursday
        #expect(Period.isoWeek(Self.day("2027-01-01T12:00:00Z"), in: .utc) == "2026-W53")  // a Friday
        #expect(Period.isoWeek(Self.day("2024-12-30T12:00:00Z"), in: .utc) == "2025-W01")  // a Monday
        #expect(Period.isoWeek(Self.day("2026-11-22T12:00:00Z"), in: .utc) == "2026-W47")  // a Sunday
        #expect(Period.month(Self.day("2026-11-22T12:00:00Z"), in: .utc) == "2026-11")
    }

    @Test func propertiesHoldOverRandomPointSets() {
        var rng = SplitMix(seed: 2026)
        for round in 0..<200 {
            var points: [RetentionCandidate] = []
            let sources = ["a", "b", "c"].prefix(Int(rng.next() % 3) + 1)
            let zones: [CalendarZone?] = [nil, .utc, CalendarZone(stored: "+05:30"), CalendarZone(stored: "America/New_York")]
            let policy = RetentionPolicy(keepDays: rng.maybe(30), keepLast: rng.maybe(10), hourly: rng.maybe(30), daily: rng.maybe(20),
                                         weekly: rng.maybe(8), monthly: rng.maybe(12), yearly: rng.maybe(3),
                                         zone: zones[Int(rng.next() % 4)])
            for i in 0..<Int(rng.next() % 120) {
                let t = Timestamp(seconds: 1_700_000_000 + Int64(rng.next() % 40_000_000))
                points.append(RetentionCandidate(id: "p\(round)-\(i)", source: String(sources.randomElement(using: &rng)!), time: t,
                                                 manual: rng.next() % 10 == 0, policy: policy))
            }
            let now = Timestamp(seconds: 1_700_000_000 + Int64(rng.next() % 45_000_000))
            let plan = RetentionPlanner.plan(points, now: now, localZone: .utc)
            #expect(plan.count == points.count)
            let manualKept = plan.filter { $0.candidate.manual }.allSatisfy { $0.keep }
            #expect(manualKept)
            for s in sources {
                let mine = points.filter { $0.source == s }
                guard let newest = mine.filter({ $0.time <= now }).max(by: { ($0.time, $0.id) < ($1.time, $1.id) }) ?? mine.first else { continue }
                #expect(plan.first { $0.candidate.id == newest.id }?.keep == true)
            }
            let reasoned = plan.allSatisfy { $0.keep == !$0.reasons.isEmpty }
            #expect(reasoned)
            // Idempotent: planning again over the survivors keeps them all.
            let survivors = plan.filter(\.keep).map(\.candidate)
            let replanned = RetentionPlanner.plan(survivors, now: now, localZone: .utc).allSatisfy { $0.keep }
            #expect(replanned)
        }
    }
}

struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
    mutating func maybe(_ max: UInt64) -> Int? { next() % 2 == 0 ? nil : Int(next() % max) }
}

/// Expire end to end, on a real repository.
@Suite struct ExpireTests {
    /// A repository with `days` daily points of a small tree that changes a little each day.
    static func repository(days: Int, in tmp: TempDir) throws -> Repository {
        let repo = try tmp.makeRepository()
        let snap = tmp.sub("snap")
        for f in 0..<300 { Tree.write(snap + "/d\(f % 10)/f\(f)", "v0 \(f)") }
        for d in 0..<days {
            Tree.write(snap + "/d\(d % 10)/f\(d)", "v\(d + 1)")
            Tree.write(snap + "/new/day\(d)", "\(d)")
            var o = IndexOptions(source: "home", directory: snap)
            o.at = Timestamp(seconds: 1_767_236_400 + Int64(d) * 86_400)  // 2026-01-01T03:00Z + d days
            o.manual = d == 3
            _ = try Indexer(repository: repo).run(o)
        }
        return repo
    }

    static func blockFiles(_ repo: Repository) throws -> Set<String> {
        var out = Set<String>()
        for sub in try FileManager.default.contentsOfDirectory(atPath: repo.root + "/blocks") {
            for f in try FileManager.default.contentsOfDirectory(atPath: repo.root + "/blocks/" + sub) { out.insert(f) }
        }
        return out
    }

    static func referenced(_ repo: Repository) throws -> Set<String> {
        Set(try repo.points().flatMap { try repo.manifest(of: $0).blockHashes.map(\.hex) })
    }

    @Test func expireKeepsWhatThePolicySaysAndFreesExactlyTheUnreferencedBlocks() throws {
        setenv("TZ", "UTC", 1)
        tzset()
        let tmp = TempDir()
        let repo = try Self.repository(days: 40, in: tmp)
        _ = try repo.setPolicy(source: "home", policy: RetentionPolicy(keepDays: 7, weekly: 2), applyToExisting: true)
        let now = Timestamp(seconds: 1_767_236_400 + 40 * 86_400)
        let dry = try repo.expire(now: now, dryRun: true)
        #expect(try repo.points().count == 40)  // a dry run changes nothing
        let report = try repo.expire(now: now, dryRun: false)
        #expect(report.decisions.map(\.keep) == dry.decisions.map(\.keep))
        let left = try repo.points()
        // Seven points lie within 7 days of the newest point (2026-02-09T03:00Z), not of now;
        // the newest points of the two newest weeks (Mon 02-09, Sun 02-08) are among them; and
        // the manual point.
        #expect(left.count == report.kept)
        #expect(left.contains { $0.pointKind == .manual })
        #expect(report.kept == 8)
        #expect(try repo.verify().isClean)
        #expect(try Self.blockFiles(repo) == Self.referenced(repo))
        // Twice in a row changes nothing the second time.
        let again = try repo.expire(now: now, dryRun: false)
        #expect(again.expired.isEmpty)
        #expect(try repo.points() == left)
        let sessions = try repo.sessions().filter { $0.kind == "expire" }
        #expect(sessions.count == 2)
        #expect(sessions[0].plan?.count == 40)
    }

    @Test func aHoldAndANewPolicyWithoutApplyToExisting() throws {
        let tmp = TempDir()
        let repo = try Self.repository(days: 6, in: tmp)
        let first = try repo.points()[0]
        try repo.keep(first, until: Timestamp(seconds: 4_000_000_000))
        #expect(try repo.manifest(of: first).retainUntil == Timestamp(seconds: 4_000_000_000))
        // Points made before the policy keep "no policy" unless it is applied to them.
        _ = try repo.setPolicy(source: "home", policy: RetentionPolicy(keepLast: 1), applyToExisting: false)
        let now = Timestamp(seconds: 1_767_236_400 + 100 * 86_400)
        #expect(try repo.expire(now: now, dryRun: true).expired.isEmpty)
        _ = try repo.setPolicy(source: "home", policy: RetentionPolicy(keepLast: 1), applyToExisting: true)
        let plan = try repo.expire(now: now, dryRun: true)
        #expect(plan.decisions.first { $0.candidate.id == first.id }?.reasons.first?.hasPrefix("retain-until") == true)
        #expect(Set(plan.decisions.filter(\.keep).map(\.candidate.id)).count == 3)  // hold, manual, newest
        // The stored values survive a rescan: they live in the manifests.
        _ = try repo.rescan()
        #expect(try repo.expire(now: now, dryRun: true).decisions.map(\.keep) == plan.decisions.map(\.keep))
    }

    @Test(arguments: [RemovalCrashPoint.afterManifestsRemoved, .beforeBlocksDeleted])
    func aKilledExpireLeavesEveryRemainingIndexReadable(crash: RemovalCrashPoint) throws {
        let tmp = TempDir()
        let repo = try Self.repository(days: 12, in: tmp)
        _ = try repo.setPolicy(source: "home", policy: RetentionPolicy(keepLast: 3), applyToExisting: true)
        let now = Timestamp(seconds: 1_767_236_400 + 12 * 86_400)
        repo.removalCrashPoint = crash
        #expect(throws: SimulatedCrash.self) { try repo.expire(now: now, dryRun: false) }
        let reopened = try Repository.open(at: repo.root)
        // Before any writer runs: whatever is listed is readable or reported as expired.
        for p in try reopened.points() {
            do {
                var n = 0
                try reopened.list(point: p, path: [], recursive: true) { n += $0.entries.count }
                #expect(n > 0)
            } catch SnapdexError.pointExpired {
            }
        }
        // The reader's view is the files': no point whose manifest is gone is listed.
        #expect(try reopened.verify().isClean)
        let report = try reopened.expire(now: now, dryRun: false)
        #expect(report.kept == 4)  // 3 newest + the manual point
        #expect(try reopened.points().count == 4)
        #expect(try reopened.verify().isClean)
        #expect(try Self.blockFiles(reopened) == Self.referenced(reopened))
    }
}
