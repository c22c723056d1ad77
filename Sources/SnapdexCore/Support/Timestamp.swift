#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A point in time as nanoseconds since the Unix epoch, UTC: the unit of every time Snapdex stores.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    public init(seconds: Int64, nanos: Int64 = 0) { nanoseconds = seconds &* 1_000_000_000 &+ nanos }

    public static var now: Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(seconds: Int64(ts.tv_sec), nanos: Int64(ts.tv_nsec))
    }

    // Floor division by quotient and remainder: no intermediate value can overflow, whatever
    // a manifest or a catalog holds (Int64.min included).
    public var seconds: Int64 {
        let (q, r) = nanoseconds.quotientAndRemainder(dividingBy: 1_000_000_000)
        return r < 0 ? q - 1 : q
    }
    public var subsecondNanos: Int64 {
        let r = nanoseconds % 1_000_000_000
        return r < 0 ? r + 1_000_000_000 : r
    }
    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.nanoseconds < b.nanoseconds }
    public var description: String { rfc3339() }

    /// RFC 3339 in UTC; with `fraction` the nanoseconds are always printed (nine digits).
    public func rfc3339(fraction: Bool = false) -> String {
        var t = time_t(seconds)
        var tm = Glibc.tm()
        gmtime_r(&t, &tm)
        var s = "\(pad(Int(tm.tm_year) + 1900, 4))-\(pad(Int(tm.tm_mon) + 1, 2))-\(pad(Int(tm.tm_mday), 2))"
        s += "T\(pad(Int(tm.tm_hour), 2)):\(pad(Int(tm.tm_min), 2)):\(pad(Int(tm.tm_sec), 2))"
        if fraction { s += "." + pad(Int(subsecondNanos), 9) }
        return s + "Z"
    }

    /// `YYYY-MM-DD HH:MM:SS` in the local time zone, for people.
    public func localDisplay() -> String {
        var t = time_t(seconds)
        var tm = Glibc.tm()
        localtime_r(&t, &tm)
        return "\(pad(Int(tm.tm_year) + 1900, 4))-\(pad(Int(tm.tm_mon) + 1, 2))-\(pad(Int(tm.tm_mday), 2)) "
            + "\(pad(Int(tm.tm_hour), 2)):\(pad(Int(tm.tm_min), 2)):\(pad(Int(tm.tm_sec), 2))"
    }

    /// `YYYYMMDDTHHMMSS` in UTC, for file names.
    public func compact() -> String {
        var t = time_t(seconds)
        var tm = Glibc.tm()
        gmtime_r(&t, &tm)
        return "\(pad(Int(tm.tm_year) + 1900, 4))\(pad(Int(tm.tm_mon) + 1, 2))\(pad(Int(tm.tm_mday), 2))T"
            + "\(pad(Int(tm.tm_hour), 2))\(pad(Int(tm.tm_min), 2))\(pad(Int(tm.tm_sec), 2))"
    }
}

func pad(_ v: Int, _ width: Int) -> String {
    let s = String(v)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

/// Parses the times people type and the times snapshot tools put in directory names.
public enum TimeParser {
    /// Broken-down fields of a parsed time; `zoneOffset` is nil when the text named no zone.
    struct Fields {
        var year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0
        var nanos: Int64 = 0
        var zoneOffset: Int?
        var hasTime = false
    }

    /// An ISO 8601 time: `2026-11-21`, `2026-11-21T03:00:00Z`, `2026-11-21 03:00`,
    /// `2026-11-21_03-00-00`, `2026-11-21T03:00:00.5+01:00`. No zone means local time.
    /// With `endOfDay`, a date alone means its last nanosecond.
    public static func parse(_ text: String, endOfDay: Bool = false) -> Timestamp? {
        guard let f = fields(Array(text.utf8)) else { return nil }
        return timestamp(f, endOfDay: endOfDay)
    }

    /// The point time a snapshot directory's name encodes, or nil (use the directory's mtime).
    /// Knows ISO 8601 names, zfs-auto-snapshot (`zfs-auto-snap_daily-2026-11-21-0300`) and
    /// Samba previous versions (`@GMT-2026.11.21-03.00.00`, always UTC).
    public static func fromSnapshotName(_ name: String) -> Timestamp? {
        let u = Array(name.utf8)
        if name.hasPrefix("@GMT-"), u.count == 24 {
            let d = Array(u[5...])
            guard let y = number(d, 0, 4), let mo = number(d, 5, 2), let da = number(d, 8, 2),
                  let h = number(d, 11, 2), let mi = number(d, 14, 2), let s = number(d, 17, 2)
            else { return nil }
            return timestamp(Fields(year: y, month: mo, day: da, hour: h, minute: mi, second: s,
                                    zoneOffset: 0, hasTime: true), endOfDay: false)
        }
        // Find the first "YYYY-MM-DD" in the name and parse from there.
        var i = 0
        while i + 10 <= u.count {
            if number(u, i, 4) != nil, u[i + 4] == UInt8(ascii: "-"), number(u, i + 5, 2) != nil,
               u[i + 7] == UInt8(ascii: "-"), number(u, i + 8, 2) != nil {
                let rest = Array(u[i...])
                if let f = fields(rest) { return timestamp(f, endOfDay: false) }
                // zfs-auto-snapshot: DATE-HHMM
                if rest.count == 15, rest[10] == UInt8(ascii: "-"), let hm = number(rest, 11, 4),
                   var f = fields(Array(rest[0..<10])) {
                    f.hour = hm / 100
                    f.minute = hm % 100
                    f.hasTime = true
                    return timestamp(f, endOfDay: false)
                }
                return nil
            }
            i += 1
        }
        return nil
    }

    static func number(_ u: [UInt8], _ at: Int, _ len: Int) -> Int? {
        guard at >= 0, at + len <= u.count else { return nil }
        var v = 0
        for c in u[at..<at + len] {
            guard c >= 48, c <= 57 else { return nil }
            v = v * 10 + Int(c - 48)
        }
        return v
    }

    static func fields(_ u: [UInt8]) -> Fields? {
        var f = Fields()
        guard u.count >= 10, let y = number(u, 0, 4), u[4] == UInt8(ascii: "-"), let mo = number(u, 5, 2),
              u[7] == UInt8(ascii: "-"), let d = number(u, 8, 2) else { return nil }
        f.year = y; f.month = mo; f.day = d
        guard (1...12).contains(mo), (1...31).contains(d) else { return nil }
        var i = 10
        if i == u.count { return f }
        guard [UInt8(ascii: "T"), UInt8(ascii: " "), UInt8(ascii: "_"), UInt8(ascii: "t")].contains(u[i]) else { return nil }
        i += 1
        guard let h = number(u, i, 2) else { return nil }
        let sep = i + 2 < u.count ? u[i + 2] : 0
        guard sep == UInt8(ascii: ":") || sep == UInt8(ascii: "-"), let mi = number(u, i + 3, 2) else { return nil }
        f.hour = h; f.minute = mi; f.hasTime = true
        i += 5
        if i < u.count, u[i] == sep, let s = number(u, i + 1, 2) {
            f.second = s
            i += 3
            if i < u.count, u[i] == UInt8(ascii: ".") || u[i] == UInt8(ascii: ",") {
                i += 1
                var digits = 0
                var nanos: Int64 = 0
                while i < u.count, u[i] >= 48, u[i] <= 57 {
                    if digits < 9 { nanos = nanos * 10 + Int64(u[i] - 48); digits += 1 }
                    i += 1
                }
                guard digits > 0 else { return nil }
                for _ in digits..<9 { nanos *= 10 }
                f.nanos = nanos
            }
        }
        guard (0...23).contains(f.hour), (0...59).contains(f.minute), (0...60).contains(f.second) else { return nil }
        if i == u.count { return f }
        if u[i] == UInt8(ascii: "Z") || u[i] == UInt8(ascii: "z") {
            f.zoneOffset = 0
            return i + 1 == u.count ? f : nil
        }
        if u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") {
            let sign = u[i] == UInt8(ascii: "+") ? 1 : -1
            guard let zh = number(u, i + 1, 2) else { return nil }
            var j = i + 3
            if j < u.count, u[j] == UInt8(ascii: ":") { j += 1 }
            let zm = number(u, j, 2) ?? 0
            if number(u, j, 2) != nil { j += 2 }
            guard j == u.count else { return nil }
            f.zoneOffset = sign * (zh * 3600 + zm * 60)
            return f
        }
        return nil
    }

    static func timestamp(_ parsed: Fields, endOfDay: Bool) -> Timestamp? {
        var f = parsed
        if endOfDay && !f.hasTime { (f.hour, f.minute, f.second, f.nanos) = (23, 59, 59, 999_999_999) }
        var tm = Glibc.tm()
        tm.tm_year = Int32(f.year - 1900)
        tm.tm_mon = Int32(f.month - 1)
        tm.tm_mday = Int32(f.day)
        tm.tm_hour = Int32(f.hour)
        tm.tm_min = Int32(f.minute)
        tm.tm_sec = Int32(f.second)
        tm.tm_isdst = -1
        let secs: Int64
        if let off = f.zoneOffset {
            secs = Int64(timegm(&tm)) - Int64(off)
        } else {
            secs = Int64(mktime(&tm))
        }
        return Timestamp(seconds: secs, nanos: f.nanos)
    }
}
