#if canImport(Glibc)
import Glibc
#endif

/// A file's mtime or ctime exactly as `stat` reports it: any 64-bit count of seconds since
/// 1970-01-01T00:00:00Z (before it too) and the nanoseconds within that second.
///
/// `Timestamp` (64-bit nanoseconds, 1677..2262) is the unit of times people type and of point
/// times; a file system can hold times far outside it (tmpfs: about ±292 billion years,
/// ext4: 1901..2446), and a catalog keeps them exactly (docs/FORMAT.md, "Times").
public struct FileTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Whole seconds since the epoch, rounded down (−0.5 s is −1 plus 500,000,000 ns).
    public private(set) var seconds: Int64
    /// 0 ..< 1,000,000,000.
    public private(set) var nanos: Int32
    /// Whether this is the time itself or only a bound on it: a catalog older than format 3
    /// stored any time beyond 1677..2262 at the nearest end of that range, so there an end
    /// means "this end or beyond it" (docs/FORMAT.md, "Times").
    public private(set) var bound: Bound = .exact

    public enum Bound: Sendable, Hashable {
        case exact, atOrAfter, atOrBefore
    }

    /// `seconds` plus `nanos`, or nil when `nanos` is not within a second: the check a decoder
    /// makes on what a file gives it.
    public init?(seconds: Int64, nanos: Int64) {
        guard (0..<1_000_000_000).contains(nanos) else { return nil }
        self.seconds = seconds
        self.nanos = Int32(nanos)
    }

    /// A time within `Timestamp`'s range, given in nanoseconds (what catalog columns hold).
    public init(nanoseconds: Int64) {
        let t = Timestamp(nanoseconds: nanoseconds)
        seconds = t.seconds
        nanos = Int32(t.subsecondNanos)
    }

    public init(_ t: Timestamp) { self.init(nanoseconds: t.nanoseconds) }

    /// A nanosecond column's value in a catalog older than format 3: an end of the range is
    /// a bound (at or after 2262-04-11T23:47:16.854775807Z, at or before
    /// 1677-09-21T00:12:43.145224192Z), any other value the time itself.
    public init(olderCatalogNanoseconds ns: Int64) {
        self.init(nanoseconds: ns)
        bound = ns == .max ? .atOrAfter : ns == .min ? .atOrBefore : .exact
    }

    private static let latestNanosecond = FileTime(nanoseconds: .max)
    private static let earliestNanosecond = FileTime(nanoseconds: .min)

    /// This time as a catalog older than format 3 means it: an end of the nanosecond range
    /// becomes a bound (`init(olderCatalogNanoseconds:)`).
    public var inOlderCatalog: FileTime {
        var t = self
        if self == FileTime.latestNanosecond { t.bound = .atOrAfter } else if self == FileTime.earliestNanosecond { t.bound = .atOrBefore }
        return t
    }

    /// What `stat` reports. The kernel keeps `tv_nsec` within a second; should anything else
    /// ever arrive, it is carried into the seconds (saturating at the ends), never trapped on.
    public init(_ ts: timespec) {
        let ns = Int64(ts.tv_nsec)
        let (carry, rest) = ns.quotientAndRemainder(dividingBy: 1_000_000_000)
        let fix: Int64 = rest < 0 ? 1 : 0
        let (s, overflow) = Int64(ts.tv_sec).addingReportingOverflow(carry - fix)
        seconds = overflow ? (carry > 0 ? .max : .min) : s
        nanos = Int32(rest + fix * 1_000_000_000)
    }

    /// Every time a catalog can hold, for messages: 64-bit seconds each way, to the nanosecond.
    public static var rangeDescription: String {
        "\(FileTime(seconds: .min, nanos: 0)!.rfc3339()) to \(FileTime(seconds: .max, nanos: 999_999_999)!.rfc3339(fraction: true))"
    }

    /// The time in nanoseconds when `Timestamp` can hold it, else nil.
    public var timestamp: Timestamp? { Timestamp(exactSeconds: seconds, nanos: Int64(nanos)) }

    /// Whether the catalog's 64-bit nanosecond columns hold this time exactly.
    public var fitsNanoseconds: Bool { timestamp != nil }

    /// What the catalog's nanosecond columns hold for this time: the time itself when it fits,
    /// else the nearest end of their range (the exact value is then an exception: FORMAT.md).
    public var storedNanoseconds: Int64 { Timestamp.clamping(seconds: seconds, nanos: Int64(nanos)).time.nanoseconds }

    /// For `utimensat`/`futimens`.
    public var spec: timespec { timespec(tv_sec: Int(seconds), tv_nsec: Int(nanos)) }

    /// Orders by the value alone (a bound by its end), so that `find --newer`/`--older` match
    /// a bound only when every time it stands for matches.
    public static func < (a: FileTime, b: FileTime) -> Bool { (a.seconds, a.nanos) < (b.seconds, b.nanos) }

    /// Whether `actual`, a time `stat` reports, is one this catalog time stands for: itself,
    /// or for a bound any time at or beyond its end (what restore and cat verify).
    public func admits(_ actual: FileTime) -> Bool {
        switch bound {
        case .exact: return (actual.seconds, actual.nanos) == (seconds, nanos)
        case .atOrAfter: return !(actual < self)
        case .atOrBefore: return !(self < actual)
        }
    }

    /// Whether two catalog times may be the same time (what diff and versions compare): equal,
    /// a time within the other's bound, or two bounds at the same end.
    public func mayBeSameTime(as other: FileTime) -> Bool {
        switch (bound, other.bound) {
        case (.exact, .exact): return self == other
        case (.exact, _): return other.admits(self)
        case (_, .exact): return admits(other)
        default: return bound == other.bound
        }
    }

    /// `at or after ` or `at or before ` for a bound, else empty: what people read before the
    /// time itself wherever it is printed for them.
    public var boundPrefix: String {
        switch bound {
        case .exact: ""
        case .atOrAfter: "at or after "
        case .atOrBefore: "at or before "
        }
    }

    /// RFC 3339 in UTC, years beyond 0000..9999 written as `Civil.rfc3339` says; with
    /// `fraction` the nanoseconds are always printed (nine digits).
    public func rfc3339(fraction: Bool = false) -> String {
        Civil.rfc3339(seconds: seconds) { s in fraction ? s + "." + pad(Int(nanos), 9) : s }
    }

    /// With `boundPrefix`: the form for messages.
    public var description: String { boundPrefix + rfc3339(fraction: true) }

    /// The pax `mtime` record's value: a signed decimal with nine fractional digits, exact for
    /// every time (−0.5 s is `-0.500000000`, not −1 plus a positive fraction).
    public var paxDecimal: String {
        if seconds >= 0 { return "\(seconds).\(pad(Int(nanos), 9))" }
        // −(seconds + nanos) in magnitude: the whole part is |seconds| − 1 when nanos > 0.
        let whole = nanos == 0 ? seconds.magnitude : seconds.magnitude - 1
        let fraction = nanos == 0 ? 0 : 1_000_000_000 - Int(nanos)
        return "-\(whole).\(pad(fraction, 9))"
    }
}
