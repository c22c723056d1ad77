import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// The time property test of issue 8: random file times across stat's whole range, set on
/// real files of the file systems the tests run on, indexed, then read back through
/// `ls --json`, restore and `restore --tar` and compared exactly; and random typed times
/// across years 0001-9999 given to every time option (`--at`, `--until`, `--now`, `find
/// --newer/--older`, `SOURCE@TIME`), each stored exactly or refused with exit 2. Seeded:
/// `SNAPDEX_TIME_SEED=N` replays a run, and every failure names its seed.
extension CLITests {
    static var timeSeed: UInt64 {
        if let s = ProcessInfo.processInfo.environment["SNAPDEX_TIME_SEED"], let n = UInt64(s) { return n }
        return UInt64.random(in: 0...UInt64(UInt32.max))
    }

    /// An independent calendar (no Civil, no TimeParser): days from 1970-01-01 by counting
    /// whole years from 0001-01-01 with floor division, so negative years count right too.
    enum ReferenceCalendar {
        static func floorDiv(_ a: Int128, _ b: Int128) -> Int128 { a >= 0 ? a / b : -((-a + b - 1) / b) }
        static func isLeap(_ y: Int128) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }
        static func monthLength(_ y: Int128, _ m: Int) -> Int { [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] }
        static func days(_ y: Int128, _ m: Int, _ d: Int) -> Int128 {
            let p = y - 1
            let before = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334][m - 1] + (isLeap(y) && m > 2 ? 1 : 0)
            return 365 * p + floorDiv(p, 4) - floorDiv(p, 100) + floorDiv(p, 400) + Int128(before + d - 1) - 719_162
        }

        /// Nanoseconds since the epoch of `[+-]YYYY…-MM-DDTHH:MM:SS[.fffffffff]Z`, or nil.
        static func nanoseconds(_ text: String) -> Int128? {
            var s = Substring(text)
            guard s.hasSuffix("Z") else { return nil }
            s = s.dropLast()
            var sign: Int128 = 1
            if s.first == "-" || s.first == "+" {
                sign = s.first == "-" ? -1 : 1
                s = s.dropFirst()
            }
            let parts = s.split(separator: "T")
            guard parts.count == 2 else { return nil }
            let date = parts[0].split(separator: "-"), clock = parts[1].split(separator: ":")
            guard date.count == 3, clock.count == 3, let y = Int128(date[0]), let mo = Int(date[1]), let d = Int(date[2]),
                  let h = Int128(clock[0]), let mi = Int128(clock[1]) else { return nil }
            let secText = clock[2].split(separator: ".", omittingEmptySubsequences: false)
            guard let sec = Int128(secText[0]) else { return nil }
            var nanos: Int128 = 0
            if secText.count == 2 {
                guard secText[1].count == 9, let n = Int128(secText[1]) else { return nil }
                nanos = n
            }
            guard (1...12).contains(mo), (1...monthLength(sign * y, mo)).contains(d) else { return nil }
            return (days(sign * y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec) * 1_000_000_000 + nanos
        }

        /// A pax `mtime` value: a signed decimal of seconds with nine fractional digits.
        static func pax(_ ns: Int128) -> String {
            let m = ns.magnitude
            let fraction = String(m % 1_000_000_000)
            return (ns < 0 ? "-" : "") + "\(m / 1_000_000_000)." + String(repeating: "0", count: 9 - fraction.count) + fraction
        }
    }

    /// A file time: within 64-bit nanoseconds, within ext4's 1901..2446, anywhere in 64-bit
    /// seconds (at every magnitude), or at one of the edges.
    static func randomStatTime(_ rng: inout SeededRandom) -> (seconds: Int64, nanos: Int) {
        let edges: [Int64] = [.min, .min + 1, .max, .max - 1, -9_223_372_037, -9_223_372_036, 9_223_372_036, 9_223_372_037,
                              0, -1, -2_147_483_648, 17_179_869_183 + 2_147_483_648, -62_135_596_800, 253_402_300_799]
        let seconds: Int64
        switch Int.random(in: 0..<5, using: &rng) {
        case 0: seconds = Int64.random(in: -9_223_372_037...9_223_372_036, using: &rng)
        case 1: seconds = Int64.random(in: -2_147_483_648...19_327_352_831, using: &rng)
        case 2: seconds = Int64.random(in: .min ... .max, using: &rng)
        case 3: seconds = Int64.random(in: .min ... .max, using: &rng) >> Int64.random(in: 0...62, using: &rng)
        default: seconds = edges[Int.random(in: 0..<edges.count, using: &rng)]
        }
        let nanos = [0, 999_999_999, Int.random(in: 0..<1_000_000_000, using: &rng)][Int.random(in: 0..<3, using: &rng)]
        return (seconds, nanos)
    }

    /// Reads a pax archive's entries: name and the `mtime` record of the pax header before it.
    static func paxMtimes(_ data: [UInt8]) -> [String: String] {
        var out: [String: String] = [:]
        var i = 0
        var pending: String?
        func octal(_ s: ArraySlice<UInt8>) -> Int { Int(String(decoding: s.prefix { $0 != 0 && $0 != 32 }, as: UTF8.self), radix: 8) ?? 0 }
        while i + 512 <= data.count, data[i] != 0 {
            let name = String(decoding: data[i..<i + 100].prefix { $0 != 0 }, as: UTF8.self)
            let size = octal(data[i + 124..<i + 136])
            let type = data[i + 156]
            let body = i + 512
            if type == UInt8(ascii: "x") {
                let text = String(decoding: data[body..<body + size], as: UTF8.self)
                for record in text.split(separator: "\n") {
                    if let r = record.split(separator: " ", maxSplits: 1).last, r.hasPrefix("mtime=") { pending = String(r.dropFirst(6)) }
                }
            } else {
                if let pending { out[name] = pending }
                pending = nil
            }
            i = body + (size + 511) / 512 * 512
        }
        return out
    }

    @Test func fileTimesAcrossStatsWholeRangeRoundTrip() throws {
        let seed = Self.timeSeed
        var rng = SeededRandom(seed: seed)
        print("time property test (file times): seed \(seed); SNAPDEX_TIME_SEED=\(seed) replays it")
        let s = Scratch()
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        // The scratch folder's file system, and tmpfs when there is one to write in.
        var places = [s.path + "/fs"]
        let shm = "/dev/shm/snapdex-times-\(getpid())"
        if mkdir(shm, 0o700) == 0 { places.append(shm) }
        defer { try? FileManager.default.removeItem(atPath: shm) }
        var kept = 0
        for (n, place) in places.enumerated() {
            let snap = place + "/snap"
            try FileManager.default.createDirectory(atPath: snap, withIntermediateDirectories: true)
            var expected: [String: Int128] = [:]
            var refused: [String] = []
            for i in 0..<40 {
                let (seconds, nanos) = Self.randomStatTime(&rng)
                let name = "t\(i)"
                write(snap + "/" + name, name)
                var times = [timespec(tv_sec: Int(seconds), tv_nsec: nanos), timespec(tv_sec: Int(seconds), tv_nsec: nanos)]
                var st = stat()
                if utimensat(AT_FDCWD, snap + "/" + name, &times, 0) != 0 || lstat(snap + "/" + name, &st) != 0
                    || st.st_mtim.tv_sec != Int(seconds) || st.st_mtim.tv_nsec != nanos {
                    // The file system refused or moved it: not a time it can hold.
                    refused.append("\(seconds).\(nanos)")
                    unlink(snap + "/" + name)
                    continue
                }
                expected["/" + name] = Int128(seconds) * 1_000_000_000 + Int128(nanos)
            }
            print("time property test: \(place) held \(expected.count) of 40 times"
                + (refused.isEmpty ? "" : "; the others it refused or moved are skipped, not faked: \(refused.prefix(4).joined(separator: ", "))"))
            kept += expected.count
            let source = "fs\(n)"
            let r = cli.run(["index", snap, "--source", source, "--at", "2026-01-0\(n + 1)T00:00:00Z"])
            #expect(r.status == 0 && !r.err.contains("warning"), "seed \(seed): \(r.err)")

            // ls --json, through the independent calendar.
            var seen = 0
            for line in cli.run("ls \(source)@latest / --json").out.split(separator: "\n") {
                let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                guard let path = o["path"] as? String, let want = expected[path] else { continue }
                seen += 1
                let text = o["mtime"] as? String ?? ""
                #expect(ReferenceCalendar.nanoseconds(text) == want, "seed \(seed): \(path) set to \(ReferenceCalendar.pax(want)) s, ls --json says \(text)")
            }
            #expect(seen == expected.count, "seed \(seed)")

            // restore onto the same file system, and a pax archive.
            let target = place + "/back"
            let restored = cli.run(["restore", "\(source)@latest", "/", "--to", target])
            #expect(restored.status == 0, "seed \(seed): \(restored.err)")
            for (path, want) in expected {
                var st = stat()
                #expect(lstat(target + path, &st) == 0, "seed \(seed): \(path)")
                let got = Int128(st.st_mtim.tv_sec) * 1_000_000_000 + Int128(st.st_mtim.tv_nsec)
                #expect(got == want, "seed \(seed): \(path) restored with \(ReferenceCalendar.pax(got)) s, not \(ReferenceCalendar.pax(want))")
            }
            let archive = s.path + "/\(source).tar"
            #expect(cli.run(["restore", "\(source)@latest", "/", "--tar", archive]).status == 0, "seed \(seed)")
            let pax = Self.paxMtimes(Array(try Data(contentsOf: URL(fileURLWithPath: archive))))
            for (path, want) in expected {
                #expect(pax[String(path.dropFirst())] == ReferenceCalendar.pax(want), "seed \(seed): \(path) archived as \(pax[String(path.dropFirst())] ?? "nothing")")
            }
        }
        #expect(kept >= 20, "seed \(seed): the file systems held only \(kept) of \(40 * places.count) times")
        #expect(cli.run("verify").status == 0, "seed \(seed)")
    }

    /// A random typed time across years 0001-9999 (biased toward the representable years and
    /// their ends), in one of the forms people type, with its instant from the independent
    /// calendar; a date alone is midnight, or its last nanosecond with `endOfDay`. Local
    /// forms only when the local zone is UTC (the suite runs with TZ=UTC).
    static func randomTypedTime(_ rng: inout SeededRandom, localIsUTC: Bool) -> (text: String, midnight: Int128, endOfDay: Int128) {
        func p(_ v: Int, _ w: Int) -> String { String(repeating: "0", count: max(0, w - String(v).count)) + String(v) }
        if Int.random(in: 0..<10, using: &rng) == 0 {
            let edges: [(String, Int128)] = [("2262-04-11T23:47:16.854775807Z", Int128(Int64.max)), ("2262-04-11T23:47:16.854775808Z", Int128(Int64.max) + 1),
                                             ("1677-09-21T00:12:43.145224192Z", Int128(Int64.min)), ("1677-09-21T00:12:43.145224191Z", Int128(Int64.min) - 1)]
            let e = edges[Int.random(in: 0..<edges.count, using: &rng)]
            return (e.0, e.1, e.1)
        }
        let year: Int
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: year = Int.random(in: 1...9999, using: &rng)
        case 1: year = Int.random(in: 1677...2262, using: &rng)
        case 2: year = [1677, 2262][Int.random(in: 0...1, using: &rng)]
        default: year = [1, 9999, 1676, 2263, 1970, 1969][Int.random(in: 0..<6, using: &rng)]
        }
        let month = Int.random(in: 1...12, using: &rng)
        let day = Int.random(in: 1...ReferenceCalendar.monthLength(Int128(year), month), using: &rng)
        let date = "\(p(year, 4))-\(p(month, 2))-\(p(day, 2))"
        let midnight = ReferenceCalendar.days(Int128(year), month, day) * 86_400 * 1_000_000_000
        let form = Int.random(in: localIsUTC ? 0..<4 : 1..<4, using: &rng)
        if form == 0 { return (date, midnight, midnight + 86_400 * 1_000_000_000 - 1) }
        let h = Int.random(in: 0...23, using: &rng), mi = Int.random(in: 0...59, using: &rng), sec = Int.random(in: 0...59, using: &rng)
        var text = "\(date)T\(p(h, 2)):\(p(mi, 2)):\(p(sec, 2))"
        var ns = midnight + Int128(h * 3600 + mi * 60 + sec) * 1_000_000_000
        if form >= 2 {
            let n = Int.random(in: 0..<1_000_000_000, using: &rng)
            text += "." + p(n, 9)
            ns += Int128(n)
        }
        if form == 3 {
            let offset = Int.random(in: -14 * 4...14 * 4, using: &rng) * 15 * 60
            text += (offset < 0 ? "-" : "+") + p(abs(offset) / 3600, 2) + ":" + p(abs(offset) / 60 % 60, 2)
            ns -= Int128(offset) * 1_000_000_000
        } else {
            text += "Z"
        }
        return (text, ns, ns)
    }

    @Test func typedTimesAcrossYearsOneToNineThousandRoundTripOrAreRefused() throws {
        let seed = Self.timeSeed
        var rng = SeededRandom(seed: seed)
        print("time property test (typed times): seed \(seed); SNAPDEX_TIME_SEED=\(seed) replays it")
        var tm = Glibc.tm()
        var probe = time_t(1_783_000_000)
        let localIsUTC = localtime_r(&probe, &tm) != nil && tm.tm_gmtoff == 0 && ProcessInfo.processInfo.environment["TZ"] == "UTC"
        if !localIsUTC { print("time property test: TZ is not UTC, so times without a zone are left out") }
        let representable = Int128(Int64.min)...Int128(Int64.max)
        let s = Scratch()
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        write(s.path + "/a/old", "a")
        write(s.path + "/b/new", "b")
        let fileTime: Int64 = 1_783_000_000  // 2026-07-02: the mtime find compares against
        Self.setTimes(s.path + "/a/old", seconds: fileTime)
        // Two points of source s at P1 < P2, for SOURCE@TIME.
        let p1: Int128 = 1_000_000_000 * 1_000_000_000, p2: Int128 = 2_000_000_000 * 1_000_000_000
        #expect(cli.run(["index", s.path + "/a", "--source", "s", "--at", "2001-09-09T01:46:40Z"]).status == 0)
        #expect(cli.run(["index", s.path + "/b", "--source", "s", "--at", "2033-05-18T03:33:20Z"]).status == 0)
        let repo = try Repository.open(at: s.path + "/repo")
        let held = try #require(try repo.points(source: "s").first)
        // find's --newer and --older compare file times, which a catalog holds over 64-bit
        // seconds: every typed year 0001..9999 is one.
        let fileTimes = Int128(Int64.min) * 1_000_000_000...Int128(Int64.max) * 1_000_000_000 + 999_999_999
        func check(_ option: String, _ r: (status: Int32, out: String, err: String), _ text: String, _ instant: Int128) -> Bool {
            // A hold's last storable nanosecond is the sentinel of "never": typed, it is refused.
            let range = option == "--newer" || option == "--older" ? fileTimes : representable
            let fits = range.contains(instant) && !(option == "--until" && instant == Int128(Int64.max))
            let ok = fits ? r.status != 2 : r.status == 2 && r.err.split(separator: "\n").count == 1
            #expect(ok, "seed \(seed): \(option) \(text) (\(fits ? "representable" : "outside the range")) gave \(r.status): \(r.err)")
            return fits && ok
        }
        var counts = (accepted: 0, refused: 0)
        for _ in 0..<20 {
            // --at (a date alone: midnight): the point's stored time is the instant typed.
            var t = Self.randomTypedTime(&rng, localIsUTC: localIsUTC)
            var r = cli.run(["index", s.path + "/a", "--source", "at", "--at", t.text, "--replace", "--json"])
            if check("--at", r, t.text, t.midnight) {
                #expect(r.status == 0, "seed \(seed): --at \(t.text): \(r.err)")
                let times = try repo.points(source: "at").map { Int128($0.time) }
                #expect(times.contains(t.midnight), "seed \(seed): --at \(t.text) stored none of \(times)")
                counts.accepted += 1
            } else { counts.refused += 1 }

            // --until (a date alone: its end): the hold stored is the instant typed.
            t = Self.randomTypedTime(&rng, localIsUTC: localIsUTC)
            r = cli.run(["point", "keep", held.id, "--until", t.text])
            if check("--until", r, t.text, t.endOfDay) {
                #expect(r.status == 0, "seed \(seed): --until \(t.text): \(r.err)")
                let m = try repo.manifest(of: try #require(try repo.point(id: held.id)))
                #expect(m.retainUntil.map { Int128($0.nanoseconds) } == t.endOfDay, "seed \(seed): --until \(t.text) stored \(String(describing: m.retainUntil))")
            }

            // --now (a date alone: its end): taken or refused.
            t = Self.randomTypedTime(&rng, localIsUTC: localIsUTC)
            _ = check("--now", cli.run(["expire", "--now", t.text, "--dry-run"]), t.text, t.endOfDay)

            // find --newer and --older (a date alone: midnight) compare exactly.
            t = Self.randomTypedTime(&rng, localIsUTC: localIsUTC)
            let mtime = Int128(fileTime) * 1_000_000_000
            for (option, wanted) in [("--newer", mtime > t.midnight), ("--older", mtime < t.midnight)] {
                r = cli.run(["find", "old", "--source", "s", option, t.text])
                if check(option, r, t.text, t.midnight) {
                    #expect(r.out.contains("/old") == wanted, "seed \(seed): find \(option) \(t.text) on a 2026-07-02 file: \(r.out)")
                }
            }

            // SOURCE@TIME (a date alone: its end): the newest point at or before it.
            t = Self.randomTypedTime(&rng, localIsUTC: localIsUTC)
            r = cli.run(["ls", "s@" + t.text, "/"])
            if check("SOURCE@TIME", r, t.text, t.endOfDay) {
                let want = t.endOfDay >= p2 ? "new" : t.endOfDay >= p1 ? "old" : nil
                if let want {
                    #expect(r.status == 0 && r.out.contains(want), "seed \(seed): s@\(t.text) should be the point holding \(want): \(r.out) \(r.err)")
                } else {
                    #expect(r.status == 1 && r.err.contains("s@" + t.text), "seed \(seed): s@\(t.text) is before every point: \(r.status) \(r.err)")
                }
            }
        }
        print("time property test: --at took \(counts.accepted) typed times, refused \(counts.refused)")
    }
}
