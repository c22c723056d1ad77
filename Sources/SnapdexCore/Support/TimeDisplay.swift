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
    public static func text(_ t: Timestamp, fraction: Bool = false) -> String {
        let f = fields(t)
        var s = "\(f.date) \(pad(f.hour, 2)):\(pad(f.minute, 2)):\(pad(f.second, 2))"
        if fraction { s += "." + pad(Int(t.subsecondNanos), 9) }
        return s + " " + offsetText(f.offset)
    }

    /// `YYYY-MM-DD HH:MM`, the short form of `ls -l` (whose columns have no room for a zone),
    /// in the same zone as `text`.
    public static func minutes(_ t: Timestamp) -> String {
        let f = fields(t)
        return "\(f.date) \(pad(f.hour, 2)):\(pad(f.minute, 2))"
    }

    /// The time in a point reference people can copy (`home@2026-11-21T03:00:00+05:30`):
    /// RFC 3339 in the same zone as `text`, `Z` with `--utc`; `SOURCE@TIME` reads it back.
    public static func reference(_ t: Timestamp) -> String {
        let f = fields(t)
        guard f.offset != 0 else { return t.rfc3339() }
        let zone = offsetText(f.offset)
        return "\(f.date)T\(pad(f.hour, 2)):\(pad(f.minute, 2)):\(pad(f.second, 2))\(zone.prefix(3)):\(zone.suffix(2))"
    }

    /// A hold's end for people: `never`, or `text`.
    public static func retainUntil(_ t: Timestamp) -> String { t.isNever ? "never" : text(t) }

    /// The zone offset used for `t`, in seconds east of UTC (0 with `--utc`).
    public static func offsetSeconds(_ t: Timestamp) -> Int { fields(t).offset }

    /// `+0530`, `-0800`, `+0000`.
    public static func offsetText(_ seconds: Int) -> String {
        let m = abs(seconds) / 60
        return (seconds < 0 ? "-" : "+") + pad(m / 60, 2) + pad(m % 60, 2)
    }

    private static func fields(_ t: Timestamp) -> (date: String, hour: Int, minute: Int, second: Int, offset: Int) {
        var offset = 0
        if !utc {
            var tt = time_t(t.seconds)
            var tm = tm()
            if localtime_r(&tt, &tm) != nil { offset = Int(tm.tm_gmtoff) }
        }
        // The calendar itself is Civil's, so that every year converts the same way.
        let c = Civil.fields(seconds: t.seconds &+ Int64(offset))
        let year = c.year < 0 ? "-" + pad(-c.year, 4) : pad(c.year, 4)
        return ("\(year)-\(pad(c.month, 2))-\(pad(c.day, 2))", c.hour, c.minute, c.second, offset)
    }
}
