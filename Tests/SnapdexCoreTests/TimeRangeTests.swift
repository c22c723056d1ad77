import Foundation
import Testing
@testable import SnapdexCore

/// A small seeded generator (SplitMix64) so that a failing case reproduces.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// Times are exact within Int64 nanoseconds and never wrap outside it.
@Suite struct TimeRangeTests {
    /// An independent reckoning of days since 1970-01-01: whole years from 0001-01-01, then months.
    static func referenceDays(_ y: Int, _ m: Int, _ d: Int) -> Int {
        let p = y - 1
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let before = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334][m - 1] + (leap && m > 2 ? 1 : 0)
        return 365 * p + p / 4 - p / 100 + p / 400 + before + d - 1 - 719_162
    }

    static func referenceMonthLength(_ y: Int, _ m: Int) -> Int {
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
    }

    static func p(_ v: Int, _ w: Int) -> String { String(repeating: "0", count: max(0, w - String(v).count)) + String(v) }

    @Test func edgesNeitherWrapNorTrap() {
        #expect(Timestamp.min.seconds == -9_223_372_037 && Timestamp.min.subsecondNanos == 145_224_192)
        #expect(Timestamp.max.seconds == 9_223_372_036 && Timestamp.max.subsecondNanos == 854_775_807)
        #expect(Timestamp(nanoseconds: -1).seconds == -1 && Timestamp(nanoseconds: -1).subsecondNanos == 999_999_999)
        #expect(Timestamp.min.rfc3339(fraction: true) == "1677-09-21T00:12:43.145224192Z")
        #expect(Timestamp.max.rfc3339(fraction: true) == "2262-04-11T23:47:16.854775807Z")
        #expect(Timestamp(exactSeconds: 9_223_372_037) == nil)
        #expect(Timestamp(exactSeconds: 9_223_372_036, nanos: 854_775_807) == .max)
        #expect(Timestamp(exactSeconds: 9_223_372_036, nanos: 854_775_808) == nil)
        #expect(Timestamp(seconds: 10_413_792_000) == .max)  // 2300: saturates, was 1715
        #expect(Timestamp(seconds: -10_413_792_000) == .min)
        #expect(Timestamp.clamping(seconds: Int64.max, nanos: 999_999_999) == (.max, true))
        #expect(Timestamp.clamping(seconds: Int64.min, nanos: 0) == (.min, true))
        #expect(Timestamp.clamping(seconds: -9_223_372_037, nanos: 145_224_191) == (.min, true))
        #expect(Timestamp.never.retainUntilText == "never")
        #expect(Civil.rfc3339(seconds: Int64.max).hasSuffix("Z"))
        #expect(Civil.rfc3339(seconds: Int64.min).hasPrefix("-"))
        #expect(Civil.rfc3339(seconds: -10_003_478_400) == "1653-01-01T00:00:00Z")
    }

    @Test func impossibleOrOutOfRangeSnapshotNamesGiveNoTime() {
        #expect(TimeParser.fromSnapshotName("2400-01-01") == nil)  // was 1815
        #expect(TimeParser.fromSnapshotName("daily-1600-06-01") == nil)
        #expect(TimeParser.fromSnapshotName("2026-02-30") == nil)
        #expect(TimeParser.fromSnapshotName("zfs-auto-snap_daily-2026-11-21-2460") == nil)
        #expect(TimeParser.fromSnapshotName("zfs-auto-snap_daily-2026-11-21-0975") == nil)
        #expect(TimeParser.fromSnapshotName("@GMT-2026.02.29-03.00.00") == nil)
        #expect(TimeParser.fromSnapshotName("@GMT-2400.01.01-03.00.00") == nil)
        #expect(TimeParser.fromSnapshotName("@GMT-2028.02.29-03.00.00") == Timestamp(seconds: Int64(Self.referenceDays(2028, 2, 29)) * 86_400 + 10_800))
    }

    @Test func typedTimesParseExactlyOrAreRefused() {
        var rng = SeededRandom(seed: 0x5eed_0001)
        var parsed = 0, refused = 0
        for _ in 0..<4000 {
            let y = Int.random(in: 0...9999, using: &rng)
            let mo = Int.random(in: 0...13, using: &rng), d = Int.random(in: 0...32, using: &rng)
            let h = Int.random(in: 0...25, using: &rng), mi = Int.random(in: 0...61, using: &rng)
            let s = Int.random(in: 0...61, using: &rng)
            let digits = Int.random(in: 0...10, using: &rng)
            var fraction = "", nanos: Int64 = 0
            if digits > 0 {
                fraction = "." + (0..<digits).map { _ in String(Int.random(in: 0...9, using: &rng)) }.joined()
                let nine = String((fraction.dropFirst() + String(repeating: "0", count: 9)).prefix(9))
                nanos = Int64(nine)!
            }
            var zone = "Z", offset = 0, zoneValid = true
            if Bool.random(using: &rng) {
                let zh = Int.random(in: 0...16, using: &rng), zm = Int.random(in: 0...61, using: &rng)
                let sign = Bool.random(using: &rng) ? 1 : -1
                zone = (sign > 0 ? "+" : "-") + Self.p(zh, 2) + ":" + Self.p(zm, 2)
                offset = sign * (zh * 3600 + zm * 60)
                zoneValid = zm <= 59 && zh * 60 + zm <= 14 * 60
            }
            let text = "\(Self.p(y, 4))-\(Self.p(mo, 2))-\(Self.p(d, 2))T\(Self.p(h, 2)):\(Self.p(mi, 2)):\(Self.p(s, 2))\(fraction)\(zone)"
            let extraDigitsZero = digits <= 9 || fraction.suffix(digits - 9).allSatisfy { $0 == "0" }
            let fieldsValid = y >= 1 && (1...12).contains(mo) && d >= 1 && h <= 23 && mi <= 59 && s <= 59 && zoneValid && extraDigitsZero
                && d <= ((1...12).contains(mo) ? Self.referenceMonthLength(max(y, 1), mo) : 0)
            var expected: Timestamp?
            if fieldsValid {
                let secs = Int128(Self.referenceDays(y, mo, d)) * 86_400 + Int128(h * 3600 + mi * 60 + s) - Int128(offset)
                let ns = secs * 1_000_000_000 + Int128(nanos)
                if ns >= Int128(Int64.min) && ns <= Int128(Int64.max) { expected = Timestamp(nanoseconds: Int64(ns)) }
            }
            let got = TimeParser.parse(text)
            #expect(got == expected, "\(text)")
            // What is accepted is also written back exactly: RFC 3339 with nanoseconds parses
            // to the same instant.
            if let got { #expect(TimeParser.parse(got.rfc3339(fraction: true)) == got, "\(text) -> \(got.rfc3339(fraction: true))") }
            if got == nil {
                refused += 1
                #expect(throws: SnapdexError.self) { _ = try TimeParser.read(text) }
            } else { parsed += 1 }
        }
        #expect(parsed > 100 && refused > 100)
    }

    @Test func representableYearsNearTheEndsAreExact() {
        #expect(TimeParser.parse("2262-04-11T23:47:16.854775807Z") == .max)
        #expect(TimeParser.parse("2262-04-11T23:47:16.854775808Z") == nil)
        #expect(TimeParser.parse("1677-09-21T00:12:43.145224192Z") == .min)
        #expect(TimeParser.parse("1677-09-21T00:12:43.145224191Z") == nil)
        #expect(TimeParser.parse("1970-01-01T00:00:00Z") == Timestamp(nanoseconds: 0))
        #expect(TimeParser.parse("1969-12-31T23:59:59.999999999Z") == Timestamp(nanoseconds: -1))
        #expect(throws: SnapdexError.timeOutOfRange("9999-12-31", hint: nil)) { _ = try TimeParser.read("9999-12-31", endOfDay: true) }
        #expect(throws: SnapdexError.self) { _ = try TimeParser.read("2026-02-30") }
    }

    @Test func fileTimesRoundTripThroughTheCatalogOrAreClamped() throws {
        var rng = SeededRandom(seed: 0x5eed_0002)
        var entries: [FileEntry] = []
        var clampedCount = 0
        for i in 0..<3000 {
            // Half across the representable range, half across stat's whole 64-bit range.
            let secs: Int64 = i % 2 == 0 ? Int64.random(in: -9_223_372_037...9_223_372_036, using: &rng)
                : Int64.random(in: Int64.min...Int64.max, using: &rng) >> Int64.random(in: 0...40, using: &rng)
            let nanos = Int64.random(in: 0..<1_000_000_000, using: &rng)
            let (t, clamped) = FileTime.stored(seconds: secs, nanos: nanos)
            let exact = Int128(secs) * 1_000_000_000 + Int128(nanos)
            if exact >= Int128(Int64.min) && exact <= Int128(Int64.max) {
                #expect(!clamped && t.nanoseconds == Int64(exact), "\(secs).\(nanos)")
            } else {
                clampedCount += 1
                #expect(clamped && t == (exact > 0 ? Timestamp.max : Timestamp.min), "\(secs).\(nanos)")
            }
            let (c, _) = FileTime.stored(seconds: Int64.random(in: Int64.min...Int64.max, using: &rng) >> 20, nanos: nanos)
            entries.append(FileEntry(name: Array("f\(i)".utf8), type: .file, size: UInt64(i), mtime: t.nanoseconds, ctime: c.nanoseconds,
                                     inode: UInt64(i), nlink: 1))
        }
        #expect(clampedCount > 100)
        entries.append(FileEntry(name: Array("g-max".utf8), type: .file, mtime: .max, ctime: .min))
        entries.append(FileEntry(name: Array("g-min".utf8), type: .file, mtime: .min, ctime: .max))
        entries.sort { $0.name.lexicographicallyPrecedes($1.name) }
        let groups = [DirectoryGroup(path: Array("d".utf8), entries: entries)]
        let parts = ChunkCodec.encode(groups)
        let back = try ChunkCodec.decode(names: parts[0], content: parts[1], state: parts[2])
        #expect(back.map(\.entries) == groups.map(\.entries))

        // Every storable instant, formatted, parses back to itself.
        for _ in 0..<3000 {
            let time = Timestamp(nanoseconds: Int64.random(in: Int64.min...Int64.max, using: &rng))
            #expect(TimeParser.parse(time.rfc3339(fraction: true)) == time, "\(time.rfc3339(fraction: true))")
        }
        for _ in 0..<500 {
            let time = Timestamp(nanoseconds: Int64.random(in: Int64.min...Int64.max, using: &rng))
            var m = Manifest(id: Array(repeating: 1, count: 16), source: "s", pointTime: time, indexedAt: time, kind: .scheduled, snapshotPath: "/s")
            m.retainUntil = Bool.random(using: &rng) ? .never : time
            #expect(try Manifest.decode(m.encode(), path: "m") == m)
        }
    }

    @Test func retentionSaturatesOnHugeStoredSettings() {
        let now = Timestamp(seconds: 1_800_000_000)
        let days = [200_000, -5, 1, 200_000, Int.max]
        var points: [RetentionCandidate] = []
        for i in 0..<5 {
            let time = Timestamp(nanoseconds: i == 0 ? Int64.min : Int64(i) * 1_000_000_000_000_000)
            let policy = RetentionPolicy(keepDays: days[i], keepLast: Int.max, hourly: Int.max, daily: Int.max, weekly: Int.max,
                                         zone: i % 2 == 0 ? CalendarZone.utc : CalendarZone(stored: "America/St_Johns"))
            points.append(RetentionCandidate(id: "p\(i)", source: "s", time: time, policy: policy))
        }
        let plan = RetentionPlanner.plan(points, now: now, localZone: .utc)
        #expect(plan.count == 5)
        #expect(plan.allSatisfy { (d: RetentionDecision) in d.keep })
        let held = RetentionCandidate(id: "h", source: "t", time: Timestamp(seconds: 1), retainUntil: .never, policy: RetentionPolicy(keepLast: 0))
        let newer = RetentionCandidate(id: "n", source: "t", time: Timestamp(seconds: 2), policy: RetentionPolicy(keepLast: 0))
        let d = RetentionPlanner.plan([held, newer], now: .max, localZone: .utc)
        #expect(d.first { $0.candidate.id == "h" }?.reasons.contains("retain-until never") == true)
        #expect(throws: SnapdexError.self) { try RetentionPolicy(keepDays: 200_000).validate() }
        #expect(throws: SnapdexError.self) { try RetentionPolicy(keepLast: -1).validate() }
    }
}

extension TimeRangeTests {
    /// Archive times at and around the ends of the range: exact signed pax decimals, no trap.
    @Test func paxTimesAreSignedDecimalsAcrossTheRange() throws {
        let path = NSTemporaryDirectory() + "/snapdex-pax-\(getpid()).tar"
        defer { unlink(path) }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        #expect(fd >= 0)
        let tar = TarWriter(fd: fd)
        for (i, t) in [Int64.min, -500_000_000, -1_000_000_000, 1_500_000_000, Int64.max].enumerated() {
            try tar.write(TarWriter.Header(path: Array("f\(i)".utf8), type: UInt8(ascii: "0"), mode: 0o644, uid: 0, gid: 0, size: 0, mtime: t))
        }
        close(fd)
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
        for want in ["mtime=-9223372036.854775808", "mtime=-0.500000000", "mtime=-1.000000000", "mtime=1.500000000",
                     "mtime=9223372036.854775807"] {
            #expect(text.contains(want), "\(want)")
        }
    }
}
