import Foundation

/// The zone whose calendar a retention policy counts its hours, days, weeks, months and
/// years in. It is stored with the policy (manifest tag 14) so that every machine judges a
/// point the same way, whatever its own `TZ`.
///
/// Written as an IANA zone name (`Europe/Berlin`, `UTC`) or a fixed offset from UTC
/// (`+01:00`, `-05:30`); `Z` is `+00:00`.
public struct CalendarZone: Equatable, Sendable, CustomStringConvertible {
    /// The name as stored: an IANA name, or a fixed offset in `±HH:MM` form.
    public let name: String
    /// Seconds east of UTC for a fixed offset; nil for a named zone.
    let fixedOffset: Int?
    /// The zone database's rules for a named zone.
    let rules: TimeZone?

    public static func == (a: CalendarZone, b: CalendarZone) -> Bool { a.name == b.name }

    public var description: String { name }

    /// Reads a zone a person typed; refuses a name this machine's zone database does not know
    /// and an offset beyond ±14:00 (`SnapdexError.invalidArgument`, exit 2).
    public init(_ text: String) throws {
        if let zone = CalendarZone(offset: text) {
            self = zone
            return
        }
        if text.hasPrefix("+") || text.hasPrefix("-") {
            throw SnapdexError.invalidArgument("zone offset '\(text)' does not exist: offsets run from -14:00 to +14:00, written ±HH:MM (such as +01:00)")
        }
        // Only names of the zone database: TimeZone also reads forms such as `UTC+1`, whose
        // sign POSIX TZ reads the other way round.
        guard CalendarZone.inDatabase(text), let tz = TimeZone(identifier: text) else {
            throw SnapdexError.invalidArgument("unknown time zone '\(text)'; name one from /usr/share/zoneinfo (such as Europe/Berlin or UTC) or an offset such as +01:00")
        }
        name = text
        fixedOffset = nil
        rules = tz
    }

    /// Whether `name` is a zone of the IANA database: Foundation's list, or a file under
    /// /usr/share/zoneinfo (the list leaves out some, such as `Etc/GMT+5`).
    static func inDatabase(_ name: String) -> Bool {
        if name == "UTC" || TimeZone.knownTimeZoneIdentifiers.contains(name) { return true }
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard !name.hasPrefix("/"), parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else { return false }
        var st = stat()
        return stat("/usr/share/zoneinfo/" + name, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    /// A zone read back from a manifest or a source's settings: never refused. A name this
    /// machine does not know is kept as written and counted as UTC (`isKnown` is false).
    public init(stored text: String) {
        if let zone = try? CalendarZone(text) {
            self = zone
        } else {
            name = text
            fixedOffset = 0
            rules = nil
        }
    }

    /// `±HH:MM` or `±HH` with the offset at most 14 hours, or `Z`; nil for anything else.
    init?(offset text: String) {
        if text == "Z" || text == "z" {
            (name, fixedOffset, rules) = ("+00:00", 0, nil)
            return
        }
        let u = Array(text.utf8)
        guard u.count == 3 || u.count == 6, u[0] == UInt8(ascii: "+") || u[0] == UInt8(ascii: "-"),
              let h = TimeParser.number(u, 1, 2) else { return nil }
        var m = 0
        if u.count == 6 {
            guard u[3] == UInt8(ascii: ":"), let mm = TimeParser.number(u, 4, 2) else { return nil }
            m = mm
        }
        guard m <= 59, h * 60 + m <= 14 * 60 else { return nil }
        let sign = u[0] == UInt8(ascii: "+") ? 1 : -1
        fixedOffset = sign * (h * 3600 + m * 60)
        rules = nil
        name = "\(sign > 0 ? "+" : "-")\(pad(h, 2)):\(pad(m, 2))"
    }

    /// The local zone of this machine (`TZ`, else /etc/localtime), as `policy set` stores it
    /// when no `--zone` is given. A local zone without an IANA name is stored as its current offset.
    public static var local: CalendarZone {
        // The name the user set, as written (Foundation reports TZ=UTC as GMT).
        if let env = getenv("TZ").map({ String(cString: $0) }) {
            let name = env.hasPrefix(":") ? String(env.dropFirst()) : env
            if !name.hasPrefix("/"), let zone = try? CalendarZone(name), zone.fixedOffset == nil { return zone }
        }
        let tz = TimeZone.current
        if let zone = try? CalendarZone(tz.identifier), zone.fixedOffset == nil { return zone }
        return CalendarZone(fixedSeconds: tz.secondsFromGMT())
    }

    public static let utc = CalendarZone(fixedSeconds: 0)

    init(fixedSeconds s: Int) {
        let a = abs(s)
        fixedOffset = s
        rules = nil
        name = "\(s < 0 ? "-" : "+")\(pad(a / 3600, 2)):\(pad(a / 60 % 60, 2))"
    }

    /// Whether this machine knows the zone (stored names it does not know count as UTC).
    public var isKnown: Bool { rules != nil || CalendarZone(offset: name) != nil }

    /// Seconds east of UTC at `t`, daylight saving included.
    public func offset(at t: Timestamp) -> Int {
        guard let rules else { return fixedOffset ?? 0 }
        return rules.secondsFromGMT(for: Date(timeIntervalSince1970: Double(t.seconds)))
    }

    /// The wall-clock fields of `t` in this zone.
    public func civil(_ t: Timestamp) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, offset: Int) {
        let off = offset(at: t)
        let (s, overflow) = t.seconds.addingReportingOverflow(Int64(off))
        let c = Civil.fields(seconds: overflow ? t.seconds : s)
        return (c.year, c.month, c.day, c.hour, c.minute, off)
    }
}
