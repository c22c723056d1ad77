#if canImport(Glibc)
import Glibc
#endif

/// The point time that a snapshot tool wrote into a snapshot's folder name.
///
/// Tools write times in a handful of shapes; the first shape found in the name decides
/// (scanning left to right), so a prefix (`autosnap_`, `zfs-auto-snap_daily-`, `home.`,
/// `daily.`) and any text after the time (`_daily`, `--1y`, `_1`) are allowed:
///
/// | shape | tools | zone |
/// |---|---|---|
/// | `@GMT-2026.11.21-03.00.00` | Samba / Windows previous versions | UTC |
/// | `GMT+01-2026.11.21-03.00.00` | Synology `#snapshot` | the offset named |
/// | `GMT+01_2026-11-21_0300` | QNAP `@Recently-Snapshot` | the offset named |
/// | `autosnap_2026-11-21_03:00:01_daily` | sanoid | UTC (its packaged service and cron line set TZ=UTC) |
/// | `2026-11-21_03:00:01`, `2026-11-21-030000`, `2026-11-21_0010`, `2026-11-21_03-00-01` | pyznap, znapzend, NetApp, Timeshift, ISO 8601 | local, or a `Z`/`+01:00` given |
/// | `2026-11-21:03:00:01-GMT+01:00` | syncoid | the offset named, else local |
/// | `zfs-auto-snap…-2026-11-21-0300` | zfs-auto-snapshot | UTC (it runs `date --utc`) |
/// | `20261121_030001_000` | zrepl | UTC |
/// | `20261121T0300`, `20261121T030001+0100`, `20261122` | btrbk, LVM scripts | local, or the offset given |
///
/// A shape whose fields name no instant (`2026-13-45`) is `impossible`, never a normalised time.
public enum SnapshotName {
    public enum Reading: Equatable, Sendable {
        /// The name holds this time.
        case time(Timestamp)
        /// The name holds no time in any known shape.
        case none
        /// The name holds a date in a known shape that does not exist; says why.
        case impossible(String)

        public var time: Timestamp? {
            if case .time(let t) = self { return t }
            return nil
        }
    }

    /// Reads the point time in a snapshot folder name.
    public static func read(_ name: String) -> Reading {
        let u = Array(name.utf8)
        if let r = gmtShapes(u) { return r }
        var i = 0
        while i < u.count {
            // A date starts at a run of digits, never in the middle of one.
            if isDigit(u[i]), i == 0 || !isDigit(u[i - 1]) {
                if let r = extended(u, i, utc: writtenInUTC(u)) ?? compact(u, i) { return r }
            }
            i += 1
        }
        return .none
    }

    // MARK: Shapes

    /// `@GMT-Y.M.D-h.m.s` (Samba, UTC), `GMT+HH-Y.M.D-h.m.s` (Synology), `GMT+HH_Y-M-D_hhmm` (QNAP).
    private static func gmtShapes(_ u: [UInt8]) -> Reading? {
        var g = 0
        while g + 3 <= u.count {
            defer { g += 1 }
            guard u[g] == c("G"), u[g + 1] == c("M"), u[g + 2] == c("T") else { continue }
            // Samba: GMT- and the date right away, in UTC.
            if at(u, g + 3, "-"), let r = gmtDate(u, g + 4, offset: 0) { return r }
            // Synology and QNAP: GMT+01, GMT-05 or GMT+0530, a separator, then the date.
            var i = g + 3
            guard i < u.count, u[i] == c("+") || u[i] == c("-"), let zh = number(u, i + 1, 2) else { continue }
            let sign = u[i] == c("+") ? 1 : -1
            var zm = 0
            i += 3
            if let m = number(u, i, 2) { zm = m; i += 2 }
            guard i < u.count, u[i] == c("-") || u[i] == c("_"), gmtDate(u, i + 1, offset: 0) != nil else { continue }
            guard zh <= 14, zm <= 59 else { return .impossible("zone offsets run from -14:00 to +14:00") }
            return gmtDate(u, i + 1, offset: sign * (zh * 3600 + zm * 60))
        }
        return nil
    }

    /// `Y.M.D-h.m.s` or `Y-M-D_hhmm` at `d`, in the zone `offset` seconds east of UTC.
    private static func gmtDate(_ u: [UInt8], _ d: Int, offset: Int) -> Reading? {
        if let y = number(u, d, 4), at(u, d + 4, "."), let mo = number(u, d + 5, 2), at(u, d + 7, "."),
           let da = number(u, d + 8, 2), at(u, d + 10, "-"), let h = number(u, d + 11, 2), at(u, d + 13, "."),
           let mi = number(u, d + 14, 2), at(u, d + 16, "."), let s = number(u, d + 17, 2), !isDigit(at: u, d + 19) {
            return make(y, mo, da, h, mi, s, zone: offset)
        }
        if let y = number(u, d, 4), at(u, d + 4, "-"), let mo = number(u, d + 5, 2), at(u, d + 7, "-"),
           let da = number(u, d + 8, 2), at(u, d + 10, "_"), let hm = number(u, d + 11, 4), !isDigit(at: u, d + 15) {
            return make(y, mo, da, hm / 100, hm % 100, 0, zone: offset)
        }
        return nil
    }

    /// `YYYY-MM-DD` (or `YYYY.MM.DD`), then optionally a time (`hh:mm[:ss]`, `hh-mm[-ss]`, `hh.mm[.ss]`, `hhmm[ss]`
    /// after `T`, `_`, `-`, `:`, `.` or a space), a fraction and a zone.
    private static func extended(_ u: [UInt8], _ i: Int, utc: Bool) -> Reading? {
        // The date's separator: '-' (ISO 8601), or '.' as some scripts write it.
        guard let y = number(u, i, 4), at(u, i + 4, "-") || at(u, i + 4, "."), let mo = number(u, i + 5, 2),
              at(u, i + 7, u[i + 4]), let da = number(u, i + 8, 2), !isDigit(at: u, i + 10) else { return nil }
        var f = TimeParser.Fields(year: y, month: mo, day: da)
        var j = i + 10
        var timeSeparator: UInt8 = 0
        if j < u.count, [c("T"), c("t"), c("_"), c("-"), c(":"), c("."), c(" ")].contains(u[j]), let h = number(u, j + 1, 2) {
            let k = j + 3
            if k < u.count, [c(":"), c("-"), c(".")].contains(u[k]), let mi = number(u, k + 1, 2), !isDigit(at: u, k + 3) {
                // hh:mm[:ss], with one separator throughout.
                timeSeparator = u[k]
                (f.hour, f.minute, f.hasTime) = (h, mi, true)
                j = k + 3
                if at(u, j, timeSeparator), let s = number(u, j + 1, 2), !isDigit(at: u, j + 3) {
                    f.second = s
                    j += 3
                }
            } else if let hm = number(u, j + 1, 4) {
                // hhmm or hhmmss.
                if let s = number(u, j + 5, 2), !isDigit(at: u, j + 7) {
                    (f.hour, f.minute, f.second, f.hasTime) = (hm / 100, hm % 100, s, true)
                    j += 7
                } else if !isDigit(at: u, j + 5) {
                    (f.hour, f.minute, f.hasTime) = (hm / 100, hm % 100, true)
                    j += 5
                }
            }
            if f.hasTime, j < u.count, u[j] == c(".") || u[j] == c(","), isDigit(at: u, j + 1), timeSeparator != c(".") {
                var k = j + 1
                var nanos: Int64 = 0
                var digits = 0
                while k < u.count, isDigit(u[k]) {
                    if digits < 9 { nanos = nanos * 10 + Int64(u[k] - 48) }
                    digits += 1
                    k += 1
                }
                for _ in min(digits, 9)..<9 { nanos *= 10 }
                f.nanos = nanos
                j = k
            }
        }
        if f.hasTime {
            if utc { f.zoneOffset = 0 }
            if let (off, _) = zone(u, j, dashAllowed: timeSeparator == c(":") || timeSeparator == 0) { f.zoneOffset = off }
        }
        return finish(f)
    }

    /// `YYYYMMDD`, then optionally `T`/`_`/`-` and `hhmm[ss]`, zrepl's `_mmm` milliseconds, and a
    /// zone; or `YYYYMMDDhhmm[ss]` run together. Only years 1900-2999, so that other numbers
    /// in names are not read as dates.
    private static func compact(_ u: [UInt8], _ i: Int) -> Reading? {
        var run = 0
        while isDigit(at: u, i + run) { run += 1 }
        guard [8, 12, 14].contains(run), let y = number(u, i, 4), (1900...2999).contains(y),
              let mo = number(u, i + 4, 2), let da = number(u, i + 6, 2) else { return nil }
        var f = TimeParser.Fields(year: y, month: mo, day: da)
        var j = i + 8
        if run > 8 {
            (f.hour, f.minute, f.hasTime) = (number(u, j, 2)!, number(u, j + 2, 2)!, true)
            if run == 14 { f.second = number(u, j + 4, 2)! }
            j = i + run
        } else if j < u.count, [c("T"), c("t"), c("_"), c("-")].contains(u[j]), let hm = number(u, j + 1, 4) {
            if let s = number(u, j + 5, 2), !isDigit(at: u, j + 7) {
                (f.hour, f.minute, f.second, f.hasTime) = (hm / 100, hm % 100, s, true)
                j += 7
                // zrepl: 20261121_030001_000, always UTC.
                if u[i + 8] == c("_"), at(u, j, "_"), let ms = number(u, j + 1, 3), !isDigit(at: u, j + 4) {
                    f.nanos = Int64(ms) * 1_000_000
                    f.zoneOffset = 0
                    j += 4
                }
            } else if !isDigit(at: u, j + 5) {
                (f.hour, f.minute, f.hasTime) = (hm / 100, hm % 100, true)
                j += 5
            }
        }
        if f.hasTime, f.zoneOffset == nil, let (off, _) = zone(u, j, dashAllowed: true) { f.zoneOffset = off }
        return finish(f)
    }

    /// A zone right after a time: `Z`, `+01:00`, `+0100`, `-05:00` (when `dashAllowed`), or
    /// syncoid's `-GMT+01:00`. Followed by the end of the name or a non-digit.
    private static func zone(_ u: [UInt8], _ j: Int, dashAllowed: Bool) -> (Int, Int)? {
        guard j < u.count else { return nil }
        if u[j] == c("Z") || u[j] == c("z"), !isLetterOrDigit(at: u, j + 1) { return (0, j + 1) }
        var k = j
        if u[k] == c("-"), k + 4 <= u.count, u[k + 1] == c("G"), u[k + 2] == c("M"), u[k + 3] == c("T") { k += 4 }
        guard k < u.count, u[k] == c("+") || (u[k] == c("-") && (dashAllowed || k != j)) else { return nil }
        let sign = u[k] == c("+") ? 1 : -1
        guard let zh = number(u, k + 1, 2) else { return nil }
        var e = k + 3
        if at(u, e, ":") { e += 1 }
        guard let zm = number(u, e, 2), !isDigit(at: u, e + 2), zh <= 14, zm <= 59 else { return nil }
        return (sign * (zh * 3600 + zm * 60), e + 2)
    }

    /// zfs-auto-snapshot names its snapshots `PREFIX_LABEL-DATE` with `date --utc`; sanoid's
    /// `autosnap_DATE_TYPE` names are in the time zone sanoid runs in, which its packaged
    /// systemd unit and documented cron line set to UTC.
    private static func writtenInUTC(_ u: [UInt8]) -> Bool {
        contains(u, "zfs-auto-snap") || contains(u, "autosnap_")
    }

    private static func contains(_ u: [UInt8], _ text: String) -> Bool {
        let p = Array(text.utf8)
        guard u.count >= p.count else { return false }
        return (0...(u.count - p.count)).contains { u[$0..<$0 + p.count].elementsEqual(p) }
    }

    // MARK: Helpers

    private static func make(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int, _ s: Int, zone: Int) -> Reading {
        finish(TimeParser.Fields(year: y, month: mo, day: d, hour: h, minute: mi, second: s, zoneOffset: zone, hasTime: true))
    }

    private static func finish(_ f: TimeParser.Fields) -> Reading {
        switch TimeParser.check(f).flatMap({ TimeParser.timestamp($0, endOfDay: false) }) {
        case .success(let t): return .time(t)
        case .failure(.impossible(let why)): return .impossible(why)
        case .failure(.outOfRange): return .impossible("it is outside the times snapdex can store (\(Timestamp.rangeDescription))")
        case .failure(.unreadable), .failure(.needsZone): return .none
        }
    }

    private static func c(_ s: Unicode.Scalar) -> UInt8 { UInt8(ascii: s) }
    private static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
    private static func isDigit(at u: [UInt8], _ i: Int) -> Bool { i < u.count && isDigit(u[i]) }
    private static func isLetterOrDigit(at u: [UInt8], _ i: Int) -> Bool {
        i < u.count && (isDigit(u[i]) || (u[i] | 0x20) >= c("a") && (u[i] | 0x20) <= c("z"))
    }
    private static func at(_ u: [UInt8], _ i: Int, _ s: Unicode.Scalar) -> Bool { i < u.count && u[i] == c(s) }
    private static func at(_ u: [UInt8], _ i: Int, _ b: UInt8) -> Bool { i < u.count && u[i] == b }
    private static func number(_ u: [UInt8], _ i: Int, _ len: Int) -> Int? { TimeParser.number(u, i, len) }
}
