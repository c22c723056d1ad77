#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A point in time as nanoseconds since the Unix epoch, UTC: the unit of every time Snapdex stores.
///
/// Int64 nanoseconds cover 1677-09-21T00:12:43.145224192Z .. 2262-04-11T23:47:16.854775807Z
/// (catalog format 1 stores exactly this). No conversion into it wraps: times from people are
/// exact or refused (`init?(exactSeconds:nanos:)`), times from the file system are clamped to
/// the nearest end and say so (`clamping(seconds:nanos:)`).
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    public static let min = Timestamp(nanoseconds: .min)
    public static let max = Timestamp(nanoseconds: .max)
    /// The retain-until of a hold that never ends (`point keep --until never`), printed `never`.
    public static let never = Timestamp.max
    public var isNever: Bool { nanoseconds == .max }
    /// The representable range to the nanosecond, for messages: a range in whole seconds
    /// would call the fractions at either end, which are accepted, out of range.
    public static let rangeDescription = "1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z"

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// `seconds` plus `nanos`, saturated to `Timestamp.min`/`.max` instead of wrapping.
    public init(seconds: Int64, nanos: Int64 = 0) { self = Timestamp.clamping(seconds: seconds, nanos: nanos).time }

    /// `seconds` plus `nanos` exactly, or nil when that is outside the representable range.
    public init?(exactSeconds seconds: Int64, nanos: Int64 = 0) {
        // In 128 bits: the earliest second's product alone is below Int64.min.
        guard let ns = Int64(exactly: Int128(seconds) * 1_000_000_000 + Int128(nanos)) else { return nil }
        nanoseconds = ns
    }

    /// The nearest representable time to `seconds` plus `nanos`, and whether it had to move.
    public static func clamping(seconds: Int64, nanos: Int64 = 0) -> (time: Timestamp, clamped: Bool) {
        if let t = Timestamp(exactSeconds: seconds, nanos: nanos) { return (t, false) }
        return (Int128(seconds) * 1_000_000_000 + Int128(nanos) > 0 ? .max : .min, true)
    }

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
        Civil.rfc3339(seconds: seconds) { s in fraction ? s + "." + pad(Int(subsecondNanos), 9) : s }
    }

    /// The nanoseconds after the second as the shortest exact decimal (`.5`, `.25`,
    /// `.000000001`); empty for a whole second.
    public var fractionText: String {
        var n = subsecondNanos
        guard n != 0 else { return "" }
        var digits = 9
        while n % 10 == 0 { n /= 10; digits -= 1 }
        return "." + pad(Int(n), digits)
    }

    /// RFC 3339 in UTC with the fraction whenever it is not 0 (`fractionText`): the form every
    /// point time takes in references and JSON, so that it reads back as the same instant.
    public func exactRFC3339() -> String { Civil.rfc3339(seconds: seconds) { $0 + fractionText } }

    /// `never` for the never-ending hold, else RFC 3339 (exact): how a retain-until is shown.
    public var retainUntilText: String { isNever ? "never" : exactRFC3339() }

    /// How people see this time: `TimeDisplay.text` (local time with its zone offset, or UTC
    /// with `--utc`).
    public func localDisplay() -> String { TimeDisplay.text(self) }

    /// `YYYYMMDDTHHMMSS` in UTC, for file names.
    public func compact() -> String {
        let c = Civil.fields(seconds: seconds)
        return "\(pad(c.year, 4))\(pad(c.month, 2))\(pad(c.day, 2))T\(pad(c.hour, 2))\(pad(c.minute, 2))\(pad(c.second, 2))"
    }
}

func pad(_ v: Int, _ width: Int) -> String {
    let s = String(v)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

/// The proleptic Gregorian calendar in UTC, computed here rather than by timegm/gmtime so that
/// any year (and any stat time, however far out) converts the same way on every libc.
/// Day numbers are days since 1970-01-01 (Howard Hinnant's days_from_civil / civil_from_days).
public enum Civil {
    public static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 1970-01-01 to the date; valid for any year whose day count fits an Int.
    public static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func date(days z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    public static func fields(seconds: Int64) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        var (d, rem) = (Int(seconds) / 86_400, Int(seconds) % 86_400)
        if rem < 0 { (d, rem) = (d - 1, rem + 86_400) }
        let (y, m, dd) = date(days: d)
        return (y, m, dd, rem / 3600, rem / 60 % 60, rem % 60)
    }

    /// A year as RFC 3339 writes it, four digits, for 0000..9999; outside them as ISO 8601's
    /// expanded form: a sign and at least four digits (`+10000`, `-0001`), counting years
    /// astronomically (0000 is 1 BC, -0001 is 2 BC) in the proleptic Gregorian calendar.
    public static func yearText(_ year: Int) -> String {
        if year < 0 { return "-" + pad(-year, 4) }
        return year > 9999 ? "+" + String(year) : pad(year, 4)
    }

    /// `YYYY-MM-DDTHH:MM:SS` plus whatever `suffix` adds, then `Z`; any Int64 seconds (years
    /// beyond 0000..9999 as `yearText` writes them).
    public static func rfc3339(seconds: Int64, suffix: (String) -> String = { $0 }) -> String {
        suffix(dateTimeText(seconds: seconds)) + "Z"
    }

    /// `YYYY-MM-DDTHH:MM:SS`, written as bytes rather than interpolated (`points --json`
    /// writes two per point, 10,000 points).
    static func dateTimeText(seconds: Int64) -> String {
        let c = fields(seconds: seconds)
        var b: [UInt8] = []
        b.reserveCapacity(20)
        func digits(_ v: Int, _ width: Int) {
            var d = 1
            for _ in 1..<width { d *= 10 }
            while d > 0 {
                b.append(UInt8(ascii: "0") + UInt8(v / d % 10))
                d /= 10
            }
        }
        if (0...9999).contains(c.year) { digits(c.year, 4) } else { b.append(contentsOf: yearText(c.year).utf8) }
        b.append(UInt8(ascii: "-"))
        digits(c.month, 2)
        b.append(UInt8(ascii: "-"))
        digits(c.day, 2)
        b.append(UInt8(ascii: "T"))
        digits(c.hour, 2)
        b.append(UInt8(ascii: ":"))
        digits(c.minute, 2)
        b.append(UInt8(ascii: ":"))
        digits(c.second, 2)
        return String(decoding: b, as: UTF8.self)
    }
}

/// Parses the times people type and the times snapshot tools put in directory names.
///
/// A typed time is exactly representable or refused: impossible dates (`2026-02-30`), hours,
/// minutes, seconds and zone offsets are refused rather than normalised, and so is any time
/// outside `Timestamp`'s range. UTC and offset times are computed here (`Civil`); only local
/// times go through `mktime`, for the zone's rules.
public enum TimeParser {
    /// Broken-down fields of a parsed time; `zoneOffset` is nil when the text named no zone.
    struct Fields {
        var year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0
        var nanos: Int64 = 0
        var zoneOffset: Int?
        var hasTime = false
    }

    enum Failure: Error, Equatable {
        case unreadable
        case impossible(String)
        case outOfRange
        /// A local time (no zone) in a year `mktime` cannot take (its year is a C int).
        case needsZone
    }

    /// The refusal of a local time `mktime` cannot convert: the limit it names is the C library's.
    static func needsZone(_ text: String) -> SnapdexError {
        .invalidArgument("'\(text)' is a local time in a year the C library cannot convert (years \(Int(Int32.min) + 1900) to \(Int(Int32.max) + 1900)); give it a zone, such as Z or +01:00")
    }

    static let monthNames = ["January", "February", "March", "April", "May", "June", "July", "August",
                             "September", "October", "November", "December"]

    /// An ISO 8601 time: `2026-11-21`, `2026-11-21T03:00:00Z`, `2026-11-21 03:00`,
    /// `2026-11-21_03-00-00`, `2026-11-21T03:00:00.5+01:00`. No zone means local time.
    /// With `endOfDay`, a date alone means its last nanosecond. Nil for anything `read` refuses.
    public static func parse(_ text: String, endOfDay: Bool = false) -> Timestamp? {
        try? read(text, endOfDay: endOfDay)
    }

    /// As `parse`, but says why a time is refused: `invalidTime`, `impossibleTime` or
    /// `timeOutOfRange` (all usage errors).
    public static func read(_ text: String, endOfDay: Bool = false) throws -> Timestamp {
        switch fields(Array(text.utf8)).flatMap({ timestamp($0, endOfDay: endOfDay) }) {
        case .success(let t): return t
        case .failure(.unreadable): throw SnapdexError.invalidTime(text)
        case .failure(.impossible(let why)): throw SnapdexError.impossibleTime(text, reason: why)
        case .failure(.outOfRange): throw SnapdexError.timeOutOfRange(text, hint: nil)
        case .failure(.needsZone): throw needsZone(text)
        }
    }

    /// The point time a snapshot directory's name encodes, or nil (no time, or an impossible
    /// one). `SnapshotName` knows the shapes and says which failure it was.
    public static func fromSnapshotName(_ name: String) -> Timestamp? {
        SnapshotName.read(name).time
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

    /// Refuses fields that name no instant, rather than letting a calendar function normalise
    /// them. `anyYear`: years are counted astronomically, 0000 and before included (file times).
    static func check(_ f: Fields, anyYear: Bool = false) -> Result<Fields, Failure> {
        guard anyYear || f.year >= 1 else { return .failure(.impossible("there is no year 0000")) }
        guard (1...12).contains(f.month) else { return .failure(.impossible("there is no month \(f.month)")) }
        let last = Civil.daysInMonth(year: f.year, month: f.month)
        guard (1...last).contains(f.day) else {
            return .failure(.impossible("\(monthNames[f.month - 1]) \(Civil.yearText(f.year)) has \(last) days"))
        }
        guard (0...23).contains(f.hour) else { return .failure(.impossible("hours run 00 to 23")) }
        guard (0...59).contains(f.minute) else { return .failure(.impossible("minutes run 00 to 59")) }
        guard (0...59).contains(f.second) else { return .failure(.impossible("seconds run 00 to 59 (leap seconds cannot be stored)")) }
        return .success(f)
    }

    /// The fields of a typed time. `anyYear` (file times) also takes the years `Civil.yearText`
    /// writes outside 0001..9999: `0000`, a sign and four to twelve digits (`+10000`, `-0001`).
    static func fields(_ typed: [UInt8], anyYear: Bool = false) -> Result<Fields, Failure> {
        var f = Fields()
        var u = typed
        var expanded: Int?
        if anyYear, let sign = u.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            // The year is read here; the rest is read as after any four-digit year.
            guard let dash = u.dropFirst().firstIndex(of: UInt8(ascii: "-")), (4...12).contains(dash - 1),
                  let v = number(u, 1, dash - 1) else { return .failure(.unreadable) }
            expanded = sign == UInt8(ascii: "+") ? v : -v
            u = Array("2000".utf8) + u[dash...]
        }
        guard u.count >= 10, let y = number(u, 0, 4), u[4] == UInt8(ascii: "-"), let mo = number(u, 5, 2),
              u[7] == UInt8(ascii: "-"), let d = number(u, 8, 2) else { return .failure(.unreadable) }
        f.year = expanded ?? y; f.month = mo; f.day = d
        func check(_ f: Fields) -> Result<Fields, Failure> { TimeParser.check(f, anyYear: anyYear) }
        var i = 10
        if i == u.count { return check(f) }
        guard [UInt8(ascii: "T"), UInt8(ascii: " "), UInt8(ascii: "_"), UInt8(ascii: "t")].contains(u[i]) else { return .failure(.unreadable) }
        i += 1
        guard let h = number(u, i, 2) else { return .failure(.unreadable) }
        let sep = i + 2 < u.count ? u[i + 2] : 0
        guard sep == UInt8(ascii: ":") || sep == UInt8(ascii: "-"), let mi = number(u, i + 3, 2) else { return .failure(.unreadable) }
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
                    if digits < 9 {
                        nanos = nanos * 10 + Int64(u[i] - 48)
                    } else if u[i] != UInt8(ascii: "0") {
                        return .failure(.impossible("times are stored to the nanosecond (at most nine fractional digits)"))
                    }
                    digits += 1
                    i += 1
                }
                guard digits > 0 else { return .failure(.unreadable) }
                for _ in Swift.min(digits, 9)..<9 { nanos *= 10 }
                f.nanos = nanos
            }
        }
        if i == u.count { return check(f) }
        if u[i] == UInt8(ascii: "Z") || u[i] == UInt8(ascii: "z") {
            f.zoneOffset = 0
            return i + 1 == u.count ? check(f) : .failure(.unreadable)
        }
        if u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") {
            let sign = u[i] == UInt8(ascii: "+") ? 1 : -1
            guard let zh = number(u, i + 1, 2) else { return .failure(.unreadable) }
            var j = i + 3
            if j < u.count, u[j] == UInt8(ascii: ":") { j += 1 }
            let zm = number(u, j, 2) ?? 0
            if number(u, j, 2) != nil { j += 2 }
            guard j == u.count else { return .failure(.unreadable) }
            guard zh <= 14, zm <= 59, zh * 60 + zm <= 14 * 60 else {
                return .failure(.impossible("zone offsets run from -14:00 to +14:00"))
            }
            f.zoneOffset = sign * (zh * 3600 + zm * 60)
            return check(f)
        }
        return .failure(.unreadable)
    }

    /// A file's time as people type it (`find --newer`/`--older`): what `read` takes, over
    /// the whole range a catalog keeps (`FileTime`: stat's 64-bit seconds) rather than
    /// `Timestamp`'s 1677..2262; years outside 0001..9999 as `ls` prints them (`+10000-01-01`,
    /// `0000-01-01`, `-0001-01-01`). `option` names the option for the refusal of a time
    /// beyond that range, which says which range it is.
    public static func readFileTime(_ text: String, option: String) throws -> FileTime {
        switch fields(Array(text.utf8), anyYear: true).flatMap(fileTime) {
        case .success(let t): return t
        case .failure(.unreadable): throw SnapdexError.invalidTime(text)
        case .failure(.impossible(let why)): throw SnapdexError.impossibleTime(text, reason: why)
        case .failure(.outOfRange):
            throw SnapdexError.invalidArgument("\(option) '\(text)' is outside the file times a catalog can hold (stat's 64-bit seconds: \(FileTime.rangeDescription))")
        case .failure(.needsZone): throw needsZone(text)
        }
    }

    /// The file time of checked fields: exact, or `outOfRange` beyond 64-bit seconds.
    static func fileTime(_ f: Fields) -> Result<FileTime, Failure> {
        let secs: Int64
        if let off = f.zoneOffset {
            // Days of years up to twelve digits stay far inside Int64; their seconds may not,
            // even when the time is (the first day's midnight is before Int64.min): in 128 bits.
            let days = Int128(Civil.days(year: f.year, month: f.month, day: f.day))
            guard let total = Int64(exactly: days * 86_400 + Int128(f.hour * 3600 + f.minute * 60 + f.second - off)) else {
                return .failure(.outOfRange)
            }
            secs = total
        } else {
            switch localSeconds(f) {
            case .success(let s): secs = s
            case .failure(let e): return .failure(e)
            }
        }
        guard let t = FileTime(seconds: secs, nanos: f.nanos) else { return .failure(.outOfRange) }
        return .success(t)
    }

    /// Seconds since the epoch of checked fields read as a wall time of the local zone, by
    /// mktime: `needsZone` for a year the C library cannot take, `outOfRange` past time_t,
    /// `impossible` for a wall time the zone skips (mktime moves it instead of refusing it).
    static func localSeconds(_ f: Fields) -> Result<Int64, Failure> {
        guard let year = Int32(exactly: f.year - 1900) else { return .failure(.needsZone) }
        var tm = Glibc.tm()
        tm.tm_year = year
        tm.tm_mon = Int32(f.month - 1)
        tm.tm_mday = Int32(f.day)
        tm.tm_hour = Int32(f.hour)
        tm.tm_min = Int32(f.minute)
        tm.tm_sec = Int32(f.second)
        tm.tm_isdst = -1
        let wanted = (tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)
        errno = 0
        let secs = Int64(mktime(&tm))
        guard (tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec) == wanted else {
            return secs == -1 && errno == EOVERFLOW ? .failure(.outOfRange)
                : .failure(.impossible("the local time zone skips it (a daylight-saving change); name a zone, such as Z or +01:00"))
        }
        return .success(secs)
    }

    /// The instant of checked fields: exact, or `outOfRange`.
    static func timestamp(_ parsed: Fields, endOfDay: Bool) -> Result<Timestamp, Failure> {
        var f = parsed
        if endOfDay && !f.hasTime { (f.hour, f.minute, f.second, f.nanos) = (23, 59, 59, 999_999_999) }
        let secs: Int64
        if let off = f.zoneOffset {
            // Years 1..9999 keep this well inside Int64 seconds; only the nanoseconds can overflow.
            let days = Int64(Civil.days(year: f.year, month: f.month, day: f.day))
            secs = days * 86_400 + Int64(f.hour * 3600 + f.minute * 60 + f.second) - Int64(off)
        } else {
            switch localSeconds(f) {
            case .success(let s): secs = s
            case .failure(let e): return .failure(e)
            }
        }
        guard let t = Timestamp(exactSeconds: secs, nanos: f.nanos) else { return .failure(.outOfRange) }
        return .success(t)
    }
}
