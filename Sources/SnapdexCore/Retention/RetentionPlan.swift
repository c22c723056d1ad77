#if canImport(Glibc)
import Glibc
#endif

/// What retention needs to know of a point: only values stored in its manifest.
public struct RetentionCandidate: Equatable, Sendable {
    public var id: String
    public var source: String
    public var time: Timestamp
    public var manual: Bool
    public var retainUntil: Timestamp?
    /// The policy stored with the point (the source's policy when it was made, or one
    /// applied later with `policy set --apply-to-existing`).
    public var policy: RetentionPolicy

    public init(id: String, source: String, time: Timestamp, manual: Bool = false, retainUntil: Timestamp? = nil,
                policy: RetentionPolicy = RetentionPolicy()) {
        self.id = id
        self.source = source
        self.time = time
        self.manual = manual
        self.retainUntil = retainUntil
        self.policy = policy
    }
}

/// One point's fate and why.
public struct RetentionDecision: Equatable, Sendable {
    public var candidate: RetentionCandidate
    public var keep: Bool
    /// Each reason a kept point is kept (`keep-days 14`, `keep-last 10`,
    /// `hourly 2026-11-21T03:00+00:00`, `daily 2026-11-21`, `weekly 2026-W47`, `monthly 2026-11`,
    /// `yearly 2026`, `yearly oldest (1 of 3 years)`, `retain-until 2030-01-01T00:00:00Z`, `manual`,
    /// `newest`, `no policy`, `newer than now`); empty for an expired point.
    public var reasons: [String]
}

/// Decides which points retention keeps, as a pure function of the points and a time.
///
/// At time NOW a scheduled point is kept when any of these holds, each a named reason: its
/// time is within `keep-days` of the newest point of its source (not of NOW: a source whose
/// indexing stalled keeps its last days of points); it is among the newest `keep-last`
/// scheduled points of its source; it is the newest scheduled point of one of the newest
/// `hourly` hours, `daily` days, `weekly` ISO weeks, `monthly` months or `yearly` years that
/// hold a scheduled point (periods of the calendar in the policy's zone); it is the oldest
/// scheduled point while such a count is not yet filled (so the first point can age into the
/// long periods); its retain-until is after NOW; it is the newest point of its source; its
/// stored policy is empty; its time is after NOW. Manual points are always kept. Each point
/// is judged by the policy stored with it; a policy without a zone (written before Snapdex
/// 0.2) counts periods in `localZone`.
public enum RetentionPlanner {
    /// One calendar rule: its name, the unit its reason counts, its period's name and key, and
    /// its setting. Two times are in one period exactly when their keys are equal, which is
    /// when their period names are: names are made only for the periods a reason cites
    /// (`points` plans 10,000 points, each in five periods).
    struct CalendarRule: Sendable {
        var name: String
        var unit: String
        var period: @Sendable (Timestamp, CalendarZone) -> String
        var key: @Sendable (LocalTime) -> PeriodKey
        var count: @Sendable (RetentionPolicy) -> Int?
    }

    /// A time's calendar fields in a zone, as `CalendarZone.civil` gives them, and its day number.
    struct LocalTime {
        var year: Int, month: Int, hour: Int, offset: Int, days: Int
        init(_ t: Timestamp, in zone: CalendarZone) {
            let c = zone.civil(t)
            (year, month, hour, offset) = (c.year, c.month, c.hour, c.offset)
            days = Civil.days(year: c.year, month: c.month, day: c.day)
        }
    }

    struct PeriodKey: Hashable {
        var a: Int
        var b = 0
    }

    static let calendarRules = [
        // The hour's name holds the offset: the hour a daylight-saving change repeats is two.
        CalendarRule(name: "hourly", unit: "hours", period: { Period.hour($0, in: $1) }, key: { PeriodKey(a: $0.days * 24 + $0.hour, b: $0.offset) },
                     count: { $0.hourly }),
        CalendarRule(name: "daily", unit: "days", period: { Period.day($0, in: $1) }, key: { PeriodKey(a: $0.days) }, count: { $0.daily }),
        // An ISO week is named by the year and number of its Thursday, which its day number names.
        CalendarRule(name: "weekly", unit: "weeks", period: { Period.isoWeek($0, in: $1) },
                     key: { PeriodKey(a: $0.days - ((($0.days + 3) % 7 + 7) % 7) + 3) }, count: { $0.weekly }),
        CalendarRule(name: "monthly", unit: "months", period: { Period.month($0, in: $1) }, key: { PeriodKey(a: $0.year * 12 + $0.month) },
                     count: { $0.monthly }),
        CalendarRule(name: "yearly", unit: "years", period: { Period.year($0, in: $1) }, key: { PeriodKey(a: $0.year) }, count: { $0.yearly }),
    ]

    public static func plan(_ points: [RetentionCandidate], now: Timestamp, localZone: CalendarZone) -> [RetentionDecision] {
        var decisions: [RetentionDecision] = []
        decisions.reserveCapacity(points.count)
        decide(points, now: now, localZone: localZone) { i, reasons in
            decisions.append(RetentionDecision(candidate: points[i], keep: !reasons.isEmpty, reasons: reasons))
        }
        return decisions
    }

    /// `plan`'s reasons by position: element i holds why `points[i]` is kept, empty when it
    /// is not (for a caller that lists the points in its own order: `points`).
    public static func reasons(_ points: [RetentionCandidate], now: Timestamp, localZone: CalendarZone) -> [[String]] {
        var out = [[String]](repeating: [], count: points.count)
        decide(points, now: now, localZone: localZone) { i, reasons in out[i] = reasons }
        return out
    }

    /// Calls `decided` with each point's position and reasons, source by source (in name
    /// order), oldest point first.
    private static func decide(_ points: [RetentionCandidate], now: Timestamp, localZone: CalendarZone, _ decided: (Int, [String]) -> Void) {
        // Points are handled by position, not copied or found by id: `points` plans 10,000.
        var bySource: [String: [Int]] = [:]
        for i in points.indices { bySource[points[i].source, default: []].append(i) }
        var rank = [Int?](repeating: nil, count: points.count)  // among its source's scheduled, newest 0
        for source in bySource.keys.sorted() {
            let all = bySource[source]!.sorted { a, b in  // newest first
                let (ta, tb) = (points[a].time, points[b].time)
                return ta != tb ? ta > tb : points[a].id > points[b].id
            }
            let scheduled = all.filter { !points[$0].manual && points[$0].time <= now }
            for (r, i) in scheduled.enumerated() { rank[i] = r }
            let newest = all.first { points[$0].time <= now } ?? all.first
            let newestTime = all.first { points[$0].time <= now }.map { points[$0].time }
            let oldest = scheduled.last
            // Period winners per zone and rule, computed for the zones and rules the points name.
            var winners: [String: [PeriodWinners?]] = [:]
            var local: [String: [LocalTime]] = [:]
            let rules = calendarRules
            for i in all.reversed() {
                // Fields are read in place: a copy of each candidate (`points` plans 10,000)
                // would retain and release every string it holds.
                let manual = points[i].manual, time = points[i].time
                var reasons: [String] = []
                if manual { reasons.append("manual") }
                if time > now { reasons.append("newer than now") }
                if let until = points[i].retainUntil, until.isNever || until > now { reasons.append("retain-until \(until.retainUntilText)") }
                if i == newest { reasons.append("newest") }
                if !manual && time <= now {
                    if points[i].policy.isEmpty { reasons.append("no policy") }
                    if let d = points[i].policy.keepDays, let newestTime, within(days: d, of: newestTime, time) {
                        reasons.append("keep-days \(d)")
                    }
                    if let n = points[i].policy.keepLast, let r = rank[i], r < n { reasons.append("keep-last \(n)") }
                    let zone = points[i].policy.zone ?? localZone
                    var zoneWinners = winners[zone.name] ?? Array(repeating: nil, count: rules.count)
                    var found = false
                    for k in rules.indices {
                        guard let n = rules[k].count(points[i].policy), n > 0 else { continue }
                        let w: PeriodWinners
                        if let known = zoneWinners[k] {
                            w = known
                        } else {
                            if local[zone.name] == nil { local[zone.name] = scheduled.map { LocalTime(points[$0].time, in: zone) } }
                            w = periodWinners(local[zone.name]!, key: rules[k].key)
                            zoneWinners[k] = w
                            found = true
                        }
                        if let r = rank[i], let mine = w.rank[r], mine < n {
                            reasons.append("\(rules[k].name) \(rules[k].period(time, zone))")
                        } else if i == oldest, w.count < n {
                            reasons.append("\(rules[k].name) oldest (\(w.count) of \(n) \(rules[k].unit))")
                        }
                    }
                    if found { winners[zone.name] = zoneWinners }
                }
                decided(i, reasons)
            }
        }
    }

    /// Whether `time` (not after `end`) is less than `days` days before it. Saturating: a policy
    /// or time read from a manifest can be anything, and a span too long to count is "within".
    static func within(days: Int, of end: Timestamp, _ time: Timestamp) -> Bool {
        let (age, ageOverflow) = end.nanoseconds.subtractingReportingOverflow(time.nanoseconds)
        let (span, spanOverflow) = Int64(clamping: days).multipliedReportingOverflow(by: 86_400 * 1_000_000_000)
        if spanOverflow { return days > 0 }
        if ageOverflow { return false }
        return age < span
    }

    /// For points sorted newest first, by position: whether each is the newest point of its
    /// period, and that period's rank (newest period first); and how many periods there are.
    struct PeriodWinners {
        var rank: [Int?]
        var count: Int
    }

    static func periodWinners(_ newestFirst: [LocalTime], key: (LocalTime) -> PeriodKey) -> PeriodWinners {
        var out = PeriodWinners(rank: Array(repeating: nil, count: newestFirst.count), count: 0)
        var seen = Set<PeriodKey>()
        for (i, t) in newestFirst.enumerated() where seen.insert(key(t)).inserted {
            out.rank[i] = seen.count - 1
        }
        out.count = seen.count
        return out
    }
}

/// Calendar periods of a time in a zone, each named as reasons print it.
public enum Period {
    /// The hour, with the zone's offset so that the hour a daylight-saving change repeats
    /// is two periods: `2026-11-21T03:00+01:00`.
    public static func hour(_ t: Timestamp, in zone: CalendarZone) -> String {
        let c = zone.civil(t)
        let a = abs(c.offset)
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))T\(pad(c.hour, 2)):00"
            + "\(c.offset < 0 ? "-" : "+")\(pad(a / 3600, 2)):\(pad(a / 60 % 60, 2))"
    }

    public static func day(_ t: Timestamp, in zone: CalendarZone) -> String {
        let c = zone.civil(t)
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))"
    }

    /// ISO 8601 week, e.g. `2026-W47` (weeks start on Monday; week 1 holds the year's first Thursday).
    public static func isoWeek(_ t: Timestamp, in zone: CalendarZone) -> String {
        let c = zone.civil(t)
        let days = Civil.days(year: c.year, month: c.month, day: c.day)
        let weekday = ((days + 3) % 7 + 7) % 7  // Monday = 0; 1970-01-01 was a Thursday
        // The Thursday of this week decides the ISO year.
        let thursday = Civil.date(days: days - weekday + 3)
        let week = (days - weekday + 3 - Civil.days(year: thursday.year, month: 1, day: 1)) / 7 + 1
        return "\(pad(thursday.year, 4))-W\(pad(week, 2))"
    }

    public static func month(_ t: Timestamp, in zone: CalendarZone) -> String {
        let c = zone.civil(t)
        return "\(pad(c.year, 4))-\(pad(c.month, 2))"
    }

    public static func year(_ t: Timestamp, in zone: CalendarZone) -> String { pad(zone.civil(t).year, 4) }
}
