#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one rule for printing a time to people (points, find, sessions, info, versions, ls,
/// expire, forget): `2026-11-21 03:00:00 +0530`, the local time of `TZ` with its offset shown,
/// so that a time read off one machine means the same on another. With the global `--utc`
/// every such time is printed in UTC (`+0000`). JSON output keeps RFC 3339 UTC
/// (`Timestamp.rfc3339`); this is only for text read by people.
public enum TimeDisplay {
    /// Set once by the command line's `--utc` before a command runs.
    public nonisolated(unsafe) static var utc = false

    /// `YYYY-MM-DD HH:MM:SS +HHMM`; with `fraction`, the nanoseconds after the seconds
    /// (`03:00:00.000000001`), for times that differ only below a second.
    public static func text(_ t: Timestamp, fraction: Bool = false) -> String { text(FileTime(t), fraction: fraction) }

    /// A file's time, any year `stat` can report (years beyond 0000..9999 as
    /// `Civil.yearText` writes them); a bound an older catalog kept says so (`at or after ...`).
    public static func text(_ t: FileTime, fraction: Bool = false) -> String {
        let f = fields(seconds: t.seconds)
        var s = t.boundPrefix + "\(f.date) \(pad(f.hour, 2)):\(pad(f.minute, 2)):\(pad(f.second, 2))"
        if fraction { s += "." + pad(Int(t.nanos), 9) }
        return s + " " + offsetText(f.offset)
    }

    /// `text` with the fraction whenever it is not 0 (`Timestamp.fractionText`), for point
    /// times in messages, where two points within one second must not look alike.
    public static func exactText(_ t: Timestamp) -> String {
        let s = text(t)
        guard let space = s.lastIndex(of: " ") else { return s }
        return s[..<space] + t.fractionText + s[space...]
    }

    /// The date text of the day the last time written fell on, and the last offset's text:
    /// times listed in order mostly share them (`points` writes 10,000).
    public struct TextCache {
        var day = Int64.min
        var date: [UInt8] = []
        var offset = Int.min
        var offsetText: [UInt8] = []
        public init() {}
    }

    /// The bytes of `exactText(t)`, appended to `out`, with integer arithmetic instead of
    /// strings.
    public static func appendExactText(_ t: Timestamp, to out: inout [UInt8], cache: inout TextCache) {
        let seconds = t.seconds
        var offset = utc ? 0 : localOffset(seconds: seconds)
        let (local, overflow) = seconds.addingReportingOverflow(Int64(offset))
        if overflow { offset = 0 }
        var (day, rem) = (overflow ? seconds : local).quotientAndRemainder(dividingBy: 86_400)
        if rem < 0 { (day, rem) = (day - 1, rem + 86_400) }
        if day != cache.day {
            let c = Civil.date(days: Int(day))
            cache.date = Array("\(Civil.yearText(c.year))-\(pad(c.month, 2))-\(pad(c.day, 2))".utf8)
            cache.day = day
        }
        if offset != cache.offset {
            cache.offsetText = Array(offsetText(offset).utf8)
            cache.offset = offset
        }
        func two(_ v: Int64) {
            out.append(UInt8(ascii: "0") + UInt8(v / 10))
            out.append(UInt8(ascii: "0") + UInt8(v % 10))
        }
        out.append(contentsOf: cache.date)
        out.append(UInt8(ascii: " "))
        two(rem / 3600)
        out.append(UInt8(ascii: ":"))
        two(rem / 60 % 60)
        out.append(UInt8(ascii: ":"))
        two(rem % 60)
        // Timestamp.fractionText: the shortest exact decimal, nothing for a whole second.
        var n = t.subsecondNanos
        if n != 0 {
            var digits = 9
            while n % 10 == 0 { n /= 10; digits -= 1 }
            out.append(UInt8(ascii: "."))
            let start = out.count
            for _ in 0..<digits {
                out.append(UInt8(ascii: "0") + UInt8(n % 10))
                n /= 10
            }
            out[start...].reverse()
        }
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: cache.offsetText)
    }

    /// `YYYY-MM-DD HH:MM`, the short form of `ls -l` (whose columns have no room for a zone),
    /// in the same zone as `text`, with the same words for a bound.
    public static func minutes(_ t: FileTime) -> String {
        let f = fields(seconds: t.seconds)
        return t.boundPrefix + "\(f.date) \(pad(f.hour, 2)):\(pad(f.minute, 2))"
    }

    /// The time in a point reference people can copy (`home@2026-11-21T03:00:00+05:30`):
    /// RFC 3339 in the same zone as `text`, `Z` with `--utc`, with the fraction whenever it is
    /// not 0; `SOURCE@TIME` reads it back as exactly this instant.
    public static func reference(_ t: Timestamp) -> String {
        let f = fields(seconds: t.seconds)
        guard f.offset != 0 else { return t.exactRFC3339() }
        let zone = offsetText(f.offset)
        return "\(f.date)T\(pad(f.hour, 2)):\(pad(f.minute, 2)):\(pad(f.second, 2))\(t.fractionText)\(zone.prefix(3)):\(zone.suffix(2))"
    }

    /// A hold's end for people: `never`, or `exactText`.
    public static func retainUntil(_ t: Timestamp) -> String { t.isNever ? "never" : exactText(t) }

    /// The zone offset used for `t`, in seconds east of UTC (0 with `--utc`).
    public static func offsetSeconds(_ t: Timestamp) -> Int { fields(seconds: t.seconds).offset }

    /// `+0530`, `-0800`, `+0000`.
    public static func offsetText(_ seconds: Int) -> String {
        let m = abs(seconds) / 60
        return (seconds < 0 ? "-" : "+") + pad(m / 60, 2) + pad(m % 60, 2)
    }

    /// The zone's offset at `seconds`. Where localtime_r gives up (years past its int), the
    /// same instant of the Gregorian 400-year cycle near the range it handles stands in: the
    /// calendar, so weekdays and a zone's rules, repeat every 400 years, and the far future
    /// follows the zone's last rule either way.
    private static func localOffset(seconds: Int64) -> Int {
        var tt = time_t(seconds)
        var tm = tm()
        if localtime_r(&tt, &tm) != nil { return Int(tm.tm_gmtoff) }
        let cycle: Int64 = 12_622_780_800  // 146,097 days
        let base: Int64 = seconds > 0 ? 13_000_000_000 : -13_000_000_000  // years 2381 and 1558
        // Same signs, so the difference cannot overflow.
        var r = (seconds - base) % cycle
        if r < 0 { r += cycle }
        tt = time_t(base + r)
        return localtime_r(&tt, &tm) != nil ? Int(tm.tm_gmtoff) : 0
    }

    private static func fields(seconds: Int64) -> (date: String, hour: Int, minute: Int, second: Int, offset: Int) {
        var offset = utc ? 0 : localOffset(seconds: seconds)
        // A file time at the very ends of 64-bit seconds has no local time: it stays in UTC.
        let (local, overflow) = seconds.addingReportingOverflow(Int64(offset))
        if overflow { offset = 0 }
        // The calendar itself is Civil's, so that every year converts the same way.
        let c = Civil.fields(seconds: overflow ? seconds : local)
        let year = Civil.yearText(c.year)
        return ("\(year)-\(pad(c.month, 2))-\(pad(c.day, 2))", c.hour, c.minute, c.second, offset)
    }
}
