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
    /// One calendar rule: its name, the unit its reason counts, its period and its setting.
    struct CalendarRule: Sendable {
        var name: String
        var unit: String
        var period: @Sendable (Timestamp, CalendarZone) -> String
        var count: @Sendable (RetentionPolicy) -> Int?
    }

    static let calendarRules = [
        CalendarRule(name: "hourly", unit: "hours", period: { Period.hour($0, in: $1) }, count: { $0.hourly }),
        CalendarRule(name: "daily", unit: "days", period: { Period.day($0, in: $1) }, count: { $0.daily }),
        CalendarRule(name: "weekly", unit: "weeks", period: { Period.isoWeek($0, in: $1) }, count: { $0.weekly }),
        CalendarRule(name: "monthly", unit: "months", period: { Period.month($0, in: $1) }, count: { $0.monthly }),
        CalendarRule(name: "yearly", unit: "years", period: { Period.year($0, in: $1) }, count: { $0.yearly }),
    ]

    public static func plan(_ points: [RetentionCandidate], now: Timestamp, localZone: CalendarZone) -> [RetentionDecision] {
        var decisions: [RetentionDecision] = []
        decisions.reserveCapacity(points.count)
        let bySource = Dictionary(grouping: points, by: \.source)
        for source in bySource.keys.sorted() {
            let all = bySource[source]!.sorted { ($0.time, $0.id) > ($1.time, $1.id) }  // newest first
            // Points are found by position, not id: `points` plans 10,000 of them.
            let scheduledPositions = all.indices.filter { !all[$0].manual && all[$0].time <= now }
            let scheduled = scheduledPositions.map { all[$0] }
            var rank = [Int?](repeating: nil, count: all.count)  // among the scheduled, newest 0
            for (r, i) in scheduledPositions.enumerated() { rank[i] = r }
            let newest = all.first { $0.time <= now }
            let newestID = newest?.id ?? all.first?.id
            let oldestID = scheduled.last?.id
            // Period winners per zone and rule, computed for the zones and rules the points name.
            var winners: [String: [PeriodWinners?]] = [:]
            for (i, p) in all.enumerated().reversed() {
                var reasons: [String] = []
                let pol = p.policy
                if p.manual { reasons.append("manual") }
                if p.time > now { reasons.append("newer than now") }
                if let until = p.retainUntil, until.isNever || until > now { reasons.append("retain-until \(until.retainUntilText)") }
                if p.id == newestID { reasons.append("newest") }
                if !p.manual && p.time <= now {
                    if pol.isEmpty { reasons.append("no policy") }
                    if let d = pol.keepDays, let newest, within(days: d, of: newest.time, p.time) {
                        reasons.append("keep-days \(d)")
                    }
                    if let n = pol.keepLast, let r = rank[i], r < n { reasons.append("keep-last \(n)") }
                    let zone = pol.zone ?? localZone
                    for (k, rule) in calendarRules.enumerated() {
                        guard let n = rule.count(pol), n > 0 else { continue }
                        let w: PeriodWinners
                        if let known = winners[zone.name]?[k] {
                            w = known
                        } else {
                            w = periodWinners(scheduled) { rule.period($0, zone) }
                            winners[zone.name, default: Array(repeating: nil, count: calendarRules.count)][k] = w
                        }
                        if let r = rank[i], let mine = w.rank[r], mine.rank < n {
                            reasons.append("\(rule.name) \(mine.period)")
                        } else if p.id == oldestID, w.count < n {
                            reasons.append("\(rule.name) oldest (\(w.count) of \(n) \(rule.unit))")
                        }
                    }
                }
                decisions.append(RetentionDecision(candidate: p, keep: !reasons.isEmpty, reasons: reasons))
            }
        }
        return decisions
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
    /// period, and that period's rank (newest period first) and name; and how many periods
    /// there are.
    struct PeriodWinners {
        var rank: [(rank: Int, period: String)?]
        var count: Int
    }

    static func periodWinners(_ newestFirst: [RetentionCandidate], key: (Timestamp) -> String) -> PeriodWinners {
        var out = PeriodWinners(rank: Array(repeating: nil, count: newestFirst.count), count: 0)
        var seen = Set<String>()
        for (i, p) in newestFirst.enumerated() {
            let k = key(p.time)
            if seen.insert(k).inserted { out.rank[i] = (seen.count - 1, k) }
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
