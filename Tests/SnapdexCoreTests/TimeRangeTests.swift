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

    /// A random file time across stat's whole range: half within 64-bit nanoseconds, half
    /// anywhere in 64-bit seconds (shifted so that every magnitude comes up).
    static func randomFileTime(_ i: Int, _ rng: inout SeededRandom) -> FileTime {
        let secs: Int64 = i % 2 == 0 ? Int64.random(in: -9_223_372_037...9_223_372_036, using: &rng)
            : Int64.random(in: Int64.min...Int64.max, using: &rng) >> Int64.random(in: 0...40, using: &rng)
        let nanos = Int64.random(in: 0..<1_000_000_000, using: &rng)
        return FileTime(seconds: secs, nanos: i % 7 == 0 ? 0 : nanos)!
    }

    @Test func fileTimesRoundTripExactlyThroughTheCatalog() throws {
        var rng = SeededRandom(seed: 0x5eed_0002)
        var entries: [FileEntry] = []
        var outside = 0
        for i in 0..<3000 {
            let t = Self.randomFileTime(i, &rng), c = Self.randomFileTime(i / 2, &rng)
            let exact = Int128(t.seconds) * 1_000_000_000 + Int128(t.nanos)
            #expect(t.fitsNanoseconds == (exact >= Int128(Int64.min) && exact <= Int128(Int64.max)), "\(t)")
            if !t.fitsNanoseconds {
                outside += 1
                #expect(t.storedNanoseconds == (exact > 0 ? Int64.max : Int64.min), "\(t)")
            }
            entries.append(FileEntry(name: Array("f\(i)".utf8), type: i % 9 == 0 ? .directory : .file, size: UInt64(i), mtime: t, ctime: c,
                                     inode: UInt64(i), nlink: 1))
        }
        #expect(outside > 100)
        let ends = [FileTime(seconds: .max, nanos: 999_999_999)!, FileTime(seconds: .min, nanos: 0)!,
                    FileTime(nanoseconds: .max), FileTime(nanoseconds: .min), FileTime(seconds: -9_223_372_037, nanos: 145_224_191)!]
        for (i, t) in ends.enumerated() {
            entries.append(FileEntry(name: Array("g\(i)".utf8), type: .file, mtime: t, ctime: ends[(i + 1) % ends.count]))
        }
        entries.sort { $0.name.lexicographicallyPrecedes($1.name) }
        let groups = [DirectoryGroup(path: Array("d".utf8), entries: entries)]
        let parts = ChunkCodec.encode(groups)
        let back = try ChunkCodec.decode(names: parts[0], content: parts[1], state: parts[2])
        #expect(back.map(\.entries) == groups.map(\.entries))
        let content = try ChunkCodec.decodeContent(parts[1], patch: nil, count: entries.count)
        #expect(content.mtimes == entries.map(\.mtime))
        // `find` decodes only the entries it asks for, up to the last of them.
        for wanted in [[], [0], [entries.count - 1], Array(stride(from: 3, to: entries.count, by: 97)), Array(0..<entries.count)] {
            let values = try ChunkCodec.contentValues(parts[1], count: entries.count, at: wanted)
            #expect(values.map(\.mtime) == wanted.map { entries[$0].mtime })
            #expect(values.map(\.size) == wanted.map { entries[$0].size })
        }
        #expect(throws: ChunkCodec.Damaged.self) { _ = try ChunkCodec.contentValues(parts[1], count: entries.count, at: [entries.count]) }

        // Patches carry exact times too: move some times out of range, some back in, some
        // from one out-of-range time to another (a change, though the columns agree).
        var changed = entries
        for i in stride(from: 0, to: changed.count, by: 40) {
            changed[i].mtime = Self.randomFileTime(i + 1, &rng)
            changed[i + 1].ctime = Self.randomFileTime(i + 1, &rng)
        }
        changed[5].mtime = FileTime(seconds: changed[5].mtime.fitsNanoseconds ? 20_000_000_000 : changed[5].mtime.seconds &+ 1, nanos: 0)!
        let newParts = ChunkCodec.encode([DirectoryGroup(path: Array("d".utf8), entries: changed)])
        let contentPatch = try #require(try ChunkCodec.patch(kind: .content, names: parts[0], content: newParts[1], base: parts[1],
                                                             current: [DirectoryGroup(path: Array("d".utf8), entries: changed)]))
        let statePatch = try #require(try ChunkCodec.patch(kind: .state, names: parts[0], content: newParts[1], base: parts[2],
                                                           current: [DirectoryGroup(path: Array("d".utf8), entries: changed)]))
        let patched = try ChunkCodec.decode(names: parts[0], content: parts[1], state: parts[2], contentPatch: contentPatch, statePatch: statePatch)
        #expect(patched.flatMap(\.entries) == changed)
        #expect(try ChunkCodec.decodeContent(parts[1], patch: contentPatch, count: changed.count).mtimes == changed.map(\.mtime))

        // What an older reader sees: the first columns of each part are exactly those of the
        // same entries with their times at the nearest end; the exceptions column follows.
        func clampedTime(_ t: FileTime) -> FileTime { FileTime(nanoseconds: t.storedNanoseconds) }
        let clamped = entries.map { e in
            var c = e
            c.mtime = clampedTime(e.mtime)
            c.ctime = clampedTime(e.ctime)
            return c
        }
        let clampedParts = ChunkCodec.encode([DirectoryGroup(path: Array("d".utf8), entries: clamped)])
        for k in [1, 2] {
            let (_, cols) = try ChunkCodec.columns(parts[k], kind: k == 1 ? .content : .state, expected: nil)
            let (_, old) = try ChunkCodec.columns(clampedParts[k], kind: k == 1 ? .content : .state, expected: nil)
            #expect(cols.count == 5 && old.count == 4)
            #expect(zip(cols.prefix(4), old).allSatisfy { Array($0.bytes[$0.offset..<$0.end]) == Array($1.bytes[$1.offset..<$1.end]) })
        }
        #expect(try ChunkCodec.decode(names: parts[0], content: clampedParts[1], state: clampedParts[2]).flatMap(\.entries) == clamped)

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

    /// An exceptions column must name an entry of the chunk, hold a time its nanosecond column
    /// cannot, a nanosecond count below a second, and agree with that column; else damage.
    @Test func damagedTimeExceptionsAreDamage() throws {
        let far = FileTime(seconds: 20_000_000_000, nanos: 1)!
        let entries = (0..<3).map { FileEntry(name: Array("f\($0)".utf8), type: .file, mtime: $0 == 1 ? far : FileTime(nanoseconds: 5)) }
        let parts = ChunkCodec.encode([DirectoryGroup(path: [], entries: entries)])
        #expect(try ChunkCodec.decode(names: parts[0], content: parts[1], state: nil).flatMap(\.entries).map(\.mtime) == entries.map(\.mtime))
        func content(mtimes: [Int64], exceptions: [UInt8]) -> [UInt8] {
            var sizes = ByteWriter(), times = ByteWriter(), flags = ByteWriter()
            var prev: Int64 = 0
            for t in mtimes {
                sizes.varint(0)
                times.zigzag(t &- prev)
                prev = t
                flags.byte(0)
            }
            var w = ByteWriter()
            w.byte(PartKind.content.rawValue)
            w.varint(3)
            w.varint(5)
            for c in [sizes.bytes, times.bytes, flags.bytes, [], exceptions] { w.string(c) }
            return w.bytes
        }
        func exception(_ gap: UInt64, _ seconds: Int64, _ nanos: UInt64) -> [UInt8] {
            var w = ByteWriter()
            w.varint(gap)
            w.zigzag(seconds)
            w.varint(nanos)
            return w.bytes
        }
        let good = content(mtimes: [5, .max, 5], exceptions: exception(1, 20_000_000_000, 1))
        #expect(try ChunkCodec.decode(names: parts[0], content: good, state: nil).flatMap(\.entries).map(\.mtime) == entries.map(\.mtime))
        for bad in [content(mtimes: [5, .max, 5], exceptions: exception(3, 20_000_000_000, 1)),  // no entry 3
                    content(mtimes: [5, .max, 5], exceptions: exception(1, 20_000_000_000, 1_000_000_000)),
                    content(mtimes: [5, 5, 5], exceptions: exception(1, 20_000_000_000, 1)),  // column disagrees
                    content(mtimes: [5, .max, 5], exceptions: exception(1, 5, 0)),  // fits the column
                    content(mtimes: [5, .max, 5], exceptions: exception(1, 20_000_000_000, 1) + [0])] {
            #expect(throws: ChunkCodec.Damaged.self) { _ = try ChunkCodec.decode(names: parts[0], content: bad, state: nil) }
            #expect(throws: ChunkCodec.Damaged.self) { _ = try ChunkCodec.decodeContent(bad, patch: nil, count: 3) }
            // An entry that is not asked for still has its exception checked.
            #expect(throws: ChunkCodec.Damaged.self) { _ = try ChunkCodec.contentValues(bad, count: 3, at: [2]) }
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
        let times = [Int64.min, -500_000_000, -1_000_000_000, 1_500_000_000, Int64.max].map { FileTime(nanoseconds: $0) }
            + [FileTime(seconds: .min, nanos: 1)!, FileTime(seconds: .max, nanos: 999_999_999)!, FileTime(seconds: -20_000_000_000, nanos: 0)!]
        for (i, t) in times.enumerated() {
            try tar.write(TarWriter.Header(path: Array("f\(i)".utf8), type: UInt8(ascii: "0"), mode: 0o644, uid: 0, gid: 0, size: 0, mtime: t))
        }
        close(fd)
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
        for want in ["mtime=-9223372036.854775808", "mtime=-0.500000000", "mtime=-1.000000000", "mtime=1.500000000",
                     "mtime=9223372036.854775807", "mtime=-9223372036854775807.999999999", "mtime=9223372036854775807.999999999",
                     "mtime=-20000000000.000000000"] {
            #expect(text.contains(want), "\(want)")
        }
    }
}
