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
    /// Each reason a kept point is kept (`keep-days`, `keep-last`, `weekly 2026-W47`,
    /// `monthly 2026-11`, `yearly 2026`, `retain-until 2030-01-01T00:00:00Z`, `manual`,
    /// `newest`, `no policy`, `newer than now`); empty for an expired point.
    public var reasons: [String]
}

/// Decides which points retention keeps, as a pure function of the points and a time.
///
/// At time NOW a scheduled point is kept when any of these holds, each a named reason: its
/// time is within `keep-days` of NOW; it is among the newest `keep-last` scheduled points of
/// its source; it is the newest scheduled point of one of the newest `weekly` ISO weeks,
/// `monthly` calendar months or `yearly` calendar years that hold a scheduled point (periods
/// in the local time zone); its retain-until is after NOW; it is the newest point of its
/// source; its stored policy is empty; its time is after NOW. Manual points are always kept.
/// Each point is judged by the policy stored with it.
public enum RetentionPlanner {
    public static func plan(_ points: [RetentionCandidate], now: Timestamp) -> [RetentionDecision] {
        var decisions: [RetentionDecision] = []
        let bySource = Dictionary(grouping: points, by: \.source)
        for source in bySource.keys.sorted() {
            let all = bySource[source]!.sorted { ($0.time, $0.id) > ($1.time, $1.id) }  // newest first
            let scheduled = all.filter { !$0.manual && $0.time <= now }
            let newestID = all.first { $0.time <= now }?.id ?? all.first?.id
            let rank = Dictionary(uniqueKeysWithValues: scheduled.enumerated().map { ($1.id, $0) })
            let weeks = periodWinners(scheduled, key: Period.isoWeek)
            let months = periodWinners(scheduled, key: Period.month)
            let years = periodWinners(scheduled, key: Period.year)
            for p in all.reversed() {
                var reasons: [String] = []
                let pol = p.policy
                if p.manual { reasons.append("manual") }
                if p.time > now { reasons.append("newer than now") }
                if let until = p.retainUntil, until.isNever || until > now { reasons.append("retain-until \(until.retainUntilText)") }
                if p.id == newestID { reasons.append("newest") }
                if !p.manual && p.time <= now {
                    if pol.isEmpty { reasons.append("no policy") }
                    if let d = pol.keepDays, within(days: d, of: now, p.time) {
                        reasons.append("keep-days \(d)")
                    }
                    if let n = pol.keepLast, let r = rank[p.id], r < n { reasons.append("keep-last \(n)") }
                    if let n = pol.weekly, let w = weeks.rank[p.id], w.rank < n { reasons.append("weekly \(w.period)") }
                    if let n = pol.monthly, let m = months.rank[p.id], m.rank < n { reasons.append("monthly \(m.period)") }
                    if let n = pol.yearly, let y = years.rank[p.id], y.rank < n { reasons.append("yearly \(y.period)") }
                }
                decisions.append(RetentionDecision(candidate: p, keep: !reasons.isEmpty, reasons: reasons))
            }
        }
        return decisions
    }

    /// Whether `time` (not after `now`) is less than `days` days before it. Saturating: a policy
    /// or time read from a manifest can be anything, and a span too long to count is "within".
    static func within(days: Int, of now: Timestamp, _ time: Timestamp) -> Bool {
        let (age, ageOverflow) = now.nanoseconds.subtractingReportingOverflow(time.nanoseconds)
        let (span, spanOverflow) = Int64(clamping: days).multipliedReportingOverflow(by: 86_400 * 1_000_000_000)
        if spanOverflow { return days > 0 }
        if ageOverflow { return false }
        return age < span
    }

    /// For points sorted newest first: the newest point of each period, ranked newest period first.
    static func periodWinners(_ newestFirst: [RetentionCandidate], key: (Timestamp) -> String)
        -> (rank: [String: (rank: Int, period: String)], count: Int)
    {
        var out: [String: (Int, String)] = [:]
        var seen = Set<String>()
        for p in newestFirst {
            let k = key(p.time)
            if seen.insert(k).inserted { out[p.id] = (seen.count - 1, k) }
        }
        return (out, seen.count)
    }
}

/// Calendar periods in the local time zone (`TZ` honoured).
public enum Period {
    static func local(_ t: Timestamp) -> tm {
        var secs = time_t(t.seconds)
        var out = tm()
        localtime_r(&secs, &out)
        return out
    }

    /// ISO 8601 week, e.g. `2026-W47` (weeks start on Monday; week 1 holds the year's first Thursday).
    public static func isoWeek(_ t: Timestamp) -> String {
        let d = local(t)
        let weekday = (Int(d.tm_wday) + 6) % 7  // Monday = 0
        let yday = Int(d.tm_yday)
        // The Thursday of this week decides the ISO year.
        var year = Int(d.tm_year) + 1900
        let thursdayYday = yday - weekday + 3
        let daysInYear = { (y: Int) in (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 366 : 365 }
        var ty = thursdayYday
        if ty < 0 {
            year -= 1
            ty += daysInYear(year)
        } else if ty >= daysInYear(year) {
            ty -= daysInYear(year)
            year += 1
        }
        let week = ty / 7 + 1
        return "\(year)-W\(pad(week, 2))"
    }

    public static func month(_ t: Timestamp) -> String {
        let d = local(t)
        return "\(Int(d.tm_year) + 1900)-\(pad(Int(d.tm_mon) + 1, 2))"
    }

    public static func year(_ t: Timestamp) -> String { "\(Int(local(t).tm_year) + 1900)" }
}
