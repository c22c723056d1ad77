import Foundation
import Testing
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// keep-days counted from the newest point, hourly and daily, the oldest point kept while a
/// count is unfilled, and calendar periods in the zone stored with the policy (issue 9, item 8).
/// Pure planner tests over random point sets, plus the stored zone end to end.
@Suite struct RetentionRulesTests {
    static let hour: Int64 = 3_600_000_000_000
    static let day: Int64 = 24 * hour

    static func at(_ text: String) -> Timestamp { TimeParser.parse(text)! }

    static func kept(_ plan: [RetentionDecision]) -> Set<String> { Set(plan.filter(\.keep).map(\.candidate.id)) }

    /// Random scheduled points of one source over about `spanDays` days.
    static func randomPoints(_ rng: inout SplitMix, count: Int, spanDays: Int64, policy: RetentionPolicy) -> [RetentionCandidate] {
        (0..<count).map { i in
            let t = Timestamp(seconds: 1_780_000_000 + Int64(rng.next() % UInt64(spanDays * 86_400)))
            return RetentionCandidate(id: "p\(i)", source: "s", time: t, manual: rng.next() % 12 == 0, policy: policy)
        }
    }

    @Test func keepDaysCountsBackFromTheNewestPointSoAStalledSourceKeepsItsDays() {
        var rng = SplitMix(seed: 9)
        for _ in 0..<100 {
            let days = Int(rng.next() % 20) + 1
            let points = Self.randomPoints(&rng, count: Int(rng.next() % 80) + 1, spanDays: 60, policy: RetentionPolicy(keepDays: days))
            let newest = points.map(\.time).max()!
            let fresh = RetentionPlanner.plan(points, now: newest, localZone: .utc)
            // Indexing stopped a year ago: the plan is the same as on the day it stopped.
            let stalled = RetentionPlanner.plan(points, now: Timestamp(nanoseconds: newest.nanoseconds + 365 * Self.day), localZone: .utc)
            #expect(Self.kept(fresh) == Self.kept(stalled))
            for d in stalled where !d.candidate.manual {
                let within = newest.nanoseconds - d.candidate.time.nanoseconds < Int64(days) * Self.day
                #expect(d.reasons.contains("keep-days \(days)") == within, "\(d.candidate.time) vs newest \(newest)")
            }
        }
    }

    /// The newest scheduled point of each of the newest N periods, by an oracle that counts
    /// periods as whole multiples of the period length from the zone's fixed offset.
    static func oracle(_ points: [RetentionCandidate], now: Timestamp, n: Int, length: Int64, offset: Int64) -> Set<String> {
        let scheduled = points.filter { !$0.manual && $0.time <= now }
        var newestOf: [Int64: RetentionCandidate] = [:]
        for p in scheduled {
            let k = (p.time.nanoseconds + offset * 1_000_000_000).quotientAndRemainder(dividingBy: length)
            let key = k.remainder < 0 ? k.quotient - 1 : k.quotient
            if let cur = newestOf[key], (cur.time, cur.id) > (p.time, p.id) { continue }
            newestOf[key] = p
        }
        return Set(newestOf.keys.sorted(by: >).prefix(n).map { newestOf[$0]!.id })
    }

    @Test func hourlyAndDailyKeepTheNewestPointOfEachOfTheNewestPeriods() throws {
        var rng = SplitMix(seed: 2027)
        let zones = [("+00:00", Int64(0)), ("+05:30", Int64(19_800)), ("-09:45", Int64(-35_100))]
        for round in 0..<150 {
            let (zoneName, offset) = zones[round % zones.count]
            let hourly = Int(rng.next() % 30) + 1, daily = Int(rng.next() % 10) + 1
            let policy = RetentionPolicy(hourly: hourly, daily: daily, zone: try CalendarZone(zoneName))
            let points = Self.randomPoints(&rng, count: Int(rng.next() % 150) + 1, spanDays: 8, policy: policy)
            let now = Timestamp(seconds: 1_780_000_000 + Int64(rng.next() % (9 * 86_400)))
            let plan = RetentionPlanner.plan(points, now: now, localZone: .utc)
            let byHour = Set(plan.filter { $0.reasons.contains { $0.hasPrefix("hourly 2") } }.map(\.candidate.id))
            let byDay = Set(plan.filter { $0.reasons.contains { $0.hasPrefix("daily 2") } }.map(\.candidate.id))
            #expect(byHour == Self.oracle(points, now: now, n: hourly, length: Self.hour, offset: offset))
            #expect(byDay == Self.oracle(points, now: now, n: daily, length: Self.day, offset: offset))
            #expect(plan.allSatisfy { $0.keep == !$0.reasons.isEmpty })
            // Idempotent: planning again over the survivors keeps them all.
            let survivors = plan.filter(\.keep).map(\.candidate)
            #expect(RetentionPlanner.plan(survivors, now: now, localZone: .utc).allSatisfy { $0.keep })
        }
    }

    @Test func theOldestPointIsKeptWhileACalendarCountIsUnfilled() {
        var rng = SplitMix(seed: 77)
        for _ in 0..<150 {
            let policy = RetentionPolicy(hourly: rng.maybe(48), daily: rng.maybe(30), weekly: rng.maybe(10),
                                         monthly: rng.maybe(14), yearly: rng.maybe(4), zone: .utc)
            let points = Self.randomPoints(&rng, count: Int(rng.next() % 60) + 1, spanDays: 200, policy: policy)
            let now = Timestamp(seconds: 1_780_000_000 + 210 * 86_400)
            let plan = RetentionPlanner.plan(points, now: now, localZone: .utc)
            let scheduled = points.filter { !$0.manual }.sorted { ($0.time, $0.id) < ($1.time, $1.id) }
            guard let oldest = scheduled.first else { continue }
            let rules: [(String, Int?, (Timestamp) -> String)] = [
                ("hourly", policy.hourly, { Period.hour($0, in: .utc) }), ("daily", policy.daily, { Period.day($0, in: .utc) }),
                ("weekly", policy.weekly, { Period.isoWeek($0, in: .utc) }), ("monthly", policy.monthly, { Period.month($0, in: .utc) }),
                ("yearly", policy.yearly, { Period.year($0, in: .utc) }),
            ]
            for (name, n, period) in rules {
                let periods = Set(scheduled.map { period($0.time) }).count
                let unfilled = (n ?? 0) > periods
                let oldestReasons = plan.first { $0.candidate.id == oldest.id }!.reasons
                // Kept as the oldest, unless it already is the newest point of its own period.
                let ownPeriodWinner = scheduled.last { period($0.time) == period(oldest.time) }!.id == oldest.id
                #expect(oldestReasons.contains("\(name) oldest (\(periods) of \(n ?? 0) \(name == "daily" ? "days" : String(name.dropLast(2)) + "s"))")
                        == (unfilled && !ownPeriodWinner), "\(name) \(String(describing: n)) \(periods): \(oldestReasons)")
                #expect(plan.filter { $0.candidate.id != oldest.id }.allSatisfy { !$0.reasons.contains { $0.hasPrefix("\(name) oldest") } })
                if unfilled { #expect(oldestReasons.isEmpty == false) }
            }
        }
    }

    /// Daily points, expired every day under a GFS policy: the first point ages into the
    /// yearly slot instead of expiring in its first week.
    @Test func theFirstPointAgesIntoTheLongSlots() {
        let policy = RetentionPolicy(daily: 7, weekly: 4, monthly: 12, yearly: 3, zone: .utc)
        var kept: [RetentionCandidate] = []
        let start = Self.at("2026-01-05T03:00:00Z")
        for d in 0..<420 {
            let t = Timestamp(nanoseconds: start.nanoseconds + Int64(d) * Self.day)
            kept.append(RetentionCandidate(id: String(format: "d%03d", d), source: "s", time: t, policy: policy))
            kept = RetentionPlanner.plan(kept, now: t, localZone: .utc).filter(\.keep).map(\.candidate)
        }
        let ids = Set(kept.map(\.id))
        #expect(ids.contains("d000"))
        let plan = RetentionPlanner.plan(kept, now: kept.map(\.time).max()!, localZone: .utc)
        #expect(plan.first { $0.candidate.id == "d000" }?.reasons == ["yearly oldest (2 of 3 years)"])
        // 7 daily + the newest of the 4 newest weeks and 12 newest months, overlapping, + the first.
        #expect(kept.count < 7 + 4 + 12 + 2 + 1)
    }

    /// Golden plans: points every 20 minutes across Berlin's spring daylight-saving change
    /// under hourly/daily/weekly in Europe/Berlin; and a young source whose GFS counts are unfilled.
    @Test func goldenHourlyDailyAndAYoungSource() throws {
        let berlin = RetentionPolicy(hourly: 6, daily: 3, weekly: 2, zone: try CalendarZone("Europe/Berlin"))
        let start = Self.at("2026-03-27T20:00:00Z")
        let frequent = (0..<(3 * 72)).map { i in
            RetentionCandidate(id: String(format: "f%03d", i), source: "home",
                               time: Timestamp(nanoseconds: start.nanoseconds + Int64(i) * Self.hour / 3), policy: berlin)
        }
        let last = frequent.last!.time
        try RetentionTests.check("hourly-daily-berlin", RetentionTests.render(
            RetentionPlanner.plan(frequent, now: Timestamp(nanoseconds: last.nanoseconds + Self.hour), localZone: .utc)))
        let gfs = RetentionPolicy(keepLast: 2, daily: 7, weekly: 4, monthly: 12, yearly: 3, zone: .utc)
        let young = (0..<10).map { d in
            RetentionCandidate(id: String(format: "y%03d", d), source: "home",
                               time: Timestamp(nanoseconds: Self.at("2026-11-21T03:00:00Z").nanoseconds + Int64(d) * Self.day), policy: gfs)
        }
        try RetentionTests.check("young-gfs", RetentionTests.render(
            RetentionPlanner.plan(young, now: Self.at("2026-12-01T00:00:00Z"), localZone: .utc)))
    }

    @Test func periodsAreThoseOfTheStoredZoneWhateverTheMachinesZone() throws {
        func points(zone: CalendarZone?) -> [RetentionCandidate] {
            let policy = RetentionPolicy(daily: 2, zone: zone)
            return [("t1", "2026-11-21T22:00:00Z"), ("t2", "2026-11-21T23:30:00Z"), ("t3", "2026-11-22T12:00:00Z")].map {
                RetentionCandidate(id: $0.0, source: "s", time: Self.at($0.1), policy: policy)
            }
        }
        let now = Self.at("2026-11-23T00:00:00Z")
        let tokyo = try CalendarZone("Asia/Tokyo"), honolulu = try CalendarZone("Pacific/Honolulu")
        // 23:30Z is the 22nd at +01:00 and the 21st in UTC.
        let plus1 = try points(zone: CalendarZone("+01:00"))
        #expect(Self.kept(RetentionPlanner.plan(plus1, now: now, localZone: tokyo)) == ["t1", "t3"])
        #expect(Self.kept(RetentionPlanner.plan(plus1, now: now, localZone: honolulu)) == ["t1", "t3"])
        let utc = points(zone: .utc)
        #expect(Self.kept(RetentionPlanner.plan(utc, now: now, localZone: tokyo)) == ["t2", "t3"])
        #expect(Self.kept(RetentionPlanner.plan(utc, now: now, localZone: honolulu)) == ["t2", "t3"])
        // A policy stored without a zone (Snapdex 0.1) counts in the machine's zone.
        #expect(Self.kept(RetentionPlanner.plan(points(zone: nil), now: now, localZone: try CalendarZone("+01:00"))) == ["t1", "t3"])
        // Each point by its own stored zone: a zone this machine does not know counts as UTC.
        let unknown = points(zone: CalendarZone(stored: "Mars/Olympus_Mons"))
        #expect(!CalendarZone(stored: "Mars/Olympus_Mons").isKnown)
        #expect(Self.kept(RetentionPlanner.plan(unknown, now: now, localZone: tokyo)) == ["t2", "t3"])
    }

    @Test func periodNamesFollowTheZonesCalendar() throws {
        let berlin = try CalendarZone("Europe/Berlin")
        // 2026-10-25: 02:00-03:00 happens twice in Berlin; each is its own hour.
        #expect(Period.hour(Self.at("2026-10-25T00:30:00Z"), in: berlin) == "2026-10-25T02:00+02:00")
        #expect(Period.hour(Self.at("2026-10-25T01:30:00Z"), in: berlin) == "2026-10-25T02:00+01:00")
        #expect(Period.day(Self.at("2026-11-21T23:30:00Z"), in: berlin) == "2026-11-22")
        // Sunday night in UTC is Monday of the next ISO week at +01:00.
        #expect(Period.isoWeek(Self.at("2026-01-04T23:30:00Z"), in: .utc) == "2026-W01")
        #expect(Period.isoWeek(Self.at("2026-01-04T23:30:00Z"), in: try CalendarZone("+01:00")) == "2026-W02")
        #expect(Period.month(Self.at("2026-11-30T23:30:00Z"), in: try CalendarZone("+01:00")) == "2026-12")
        #expect(Period.year(Self.at("2026-12-31T20:00:00Z"), in: try CalendarZone("Pacific/Kiritimati")) == "2027")
        #expect(Period.hour(Self.at("2026-11-21T03:10:00Z"), in: try CalendarZone("-09:30")) == "2026-11-20T17:00-09:30")
        // ISO weeks agree with the calendar over four centuries of Thursdays.
        for days in stride(from: -200_000, to: 200_000, by: 997) {
            let t = Timestamp(seconds: Int64(days) * 86_400 + 43_200)
            let week = Period.isoWeek(t, in: .utc)
            var tm = Glibc.tm()
            var secs = time_t(t.seconds)
            gmtime_r(&secs, &tm)
            var buf = [CChar](repeating: 0, count: 16)
            strftime(&buf, 16, "%G-W%V", &tm)
            #expect(week == String(cString: buf))
        }
    }

    @Test func zonesAreReadExactlyOrRefused() throws {
        #expect(try CalendarZone("+01:00").name == "+01:00")
        #expect(try CalendarZone("-05").name == "-05:00")
        #expect(try CalendarZone("Z").name == "+00:00")
        #expect(try CalendarZone("Europe/Berlin").name == "Europe/Berlin")
        #expect(try CalendarZone("UTC").name == "UTC")
        #expect(try CalendarZone("Etc/GMT+5").offset(at: Timestamp(seconds: 0)) == -5 * 3600)  // the zone database's sign
        for bad in ["+99:99", "+15:00", "-14:01", "+01:60", "+1", "Mars/Olympus_Mons", "", "+01:00:00", "UTC+1", "GMT-5", "europe/berlin"] {
            #expect(throws: SnapdexError.self, "\(bad)") { try CalendarZone(bad) }
        }
        #expect(CalendarZone.local.isKnown)
    }

    @Test func theZoneIsStoredInTheManifestTheJournalAndThePolicyText() throws {
        let policy = RetentionPolicy(keepDays: 3, hourly: 24, daily: 7, zone: try CalendarZone("America/New_York"))
        #expect(policy.text == "keep-days=3 hourly=24 daily=7 zone=America/New_York")
        #expect(try RetentionPolicy(text: policy.text) == policy)
        #expect(RetentionPolicy(zone: .utc).text == "")  // a zone alone is no policy
        var m = Manifest(id: Array(repeating: 3, count: 16), source: "s", pointTime: Timestamp(seconds: 5),
                         indexedAt: Timestamp(seconds: 6), kind: .scheduled, snapshotPath: "/x")
        m.policy = Manifest.settings(of: policy)
        m.calendarZone = "America/New_York"
        let bytes = m.encode()
        // Oldest reader 1 (no delta parts): a Snapdex 0.1 reader skips tag 14.
        #expect(Array(bytes[8..<12]) == [UInt8(FormatConstants.catalogVersion), 0, 1, 0])
        let back = try Manifest.decode(bytes, path: "x")
        #expect(back.calendarZone == "America/New_York")
        #expect(back == m)
        #expect(PointRecord(manifest: back, manifestBytes: bytes.count).policy == policy.text)
        let j = Journal(rewrites: [.init(source: "s", id: String(repeating: "ab", count: 16))],
                        change: .policy(m.policy, zone: "America/New_York"), policySource: "s")
        #expect(Journal.decode(j.encode()) == j)
    }

    @Test func policySetStoresTheZoneInNewAndExistingIndexes() throws {
        let tmp = TempDir()
        let repo = try tmp.makeRepository()
        let snap = tmp.sub("snap")
        Tree.write(snap + "/f", "x")
        // Waits: a process another test spawns can hold an inherited lock descriptor until it execs.
        var o = IndexOptions(source: "home", directory: snap)
        o.wait = 30
        o.at = Self.at("2026-11-21T23:30:00Z")
        _ = try Indexer(repository: repo).run(o)
        let zone = try CalendarZone("+01:00")
        _ = try repo.setPolicy(source: "home", policy: RetentionPolicy(daily: 2, zone: zone), applyToExisting: true, wait: 30)
        o.at = Self.at("2026-11-21T22:00:00Z")
        _ = try Indexer(repository: repo).run(o)
        for p in try repo.points() {
            #expect(try repo.manifest(of: p).calendarZone == "+01:00")
            #expect(p.policy == "daily=2 zone=+01:00")
        }
        // Block files keep version 1, which every reader reads.
        let blocks = try FileManager.default.subpathsOfDirectory(atPath: repo.root + "/blocks").filter { $0.count > 3 }
        #expect(!blocks.isEmpty)
        for b in blocks { #expect(try Array(Data(contentsOf: URL(fileURLWithPath: repo.root + "/blocks/" + b)))[8] == 1) }
        _ = try repo.rescan(wait: 30)
        let plan = try repo.retentionPlan(now: Self.at("2026-11-23T00:00:00Z"))
        #expect(plan.map(\.reasons) == [["daily 2026-11-21"], ["newest", "daily 2026-11-22"]])
    }
}
