import Foundation
import Testing
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// `find --newer/--older` over every file time a catalog holds: they refused any time after
/// 2262-04-11 or before 1677-09-21 as "outside the times snapdex can store", though catalogs
/// store and show file times there.
@Suite struct FindFileTimeTests {
    let binary = packageRoot.appendingPathComponent(".build/debug/snapdex").path

    func run(_ args: [String]) throws -> (status: Int32, out: String) { try runTool(binary, args) }

    /// The names `find` prints, sorted.
    func names(_ out: String) -> [String] {
        out.split(separator: "\n").dropFirst().compactMap { $0.split(separator: "/").last.map(String.init) }.sorted()
    }

    @Test func findFiltersTakeFileTimesBeyondTheNanosecondRange() throws {
        guard builtSnapdex() != nil else { return }
        let s = Scratch()
        let repo = s.path + "/repo"
        let snap = s.path + "/snaps/2026-11-01"
        // Years an ext4 or tmpfs holds; the file system may clamp some, so the times are read back.
        func day(_ y: Int, _ m: Int = 1, _ d: Int = 1) -> Int { Civil.days(year: y, month: m, day: d) * 86_400 }
        let wanted: [(String, Int)] = [("y1600", day(1600, 6)), ("y2026", day(2026, 6)), ("y2263", day(2263, 6)),
                                       ("y2300", day(2300)), ("y2446", day(2446))]
        var mtimes: [String: Int] = [:]
        for (name, secs) in wanted {
            write(snap + "/" + name, name)
            var times = [timespec(tv_sec: secs, tv_nsec: 0), timespec(tv_sec: secs, tv_nsec: 0)]
            _ = utimensat(AT_FDCWD, snap + "/" + name, &times, 0)
            var st = stat()
            stat(snap + "/" + name, &st)
            mtimes[name] = st.st_mtim.tv_sec
        }
        guard mtimes["y2300"] == day(2300) else { return }  // a file system that cannot hold 2300
        #expect(try run(["init", "--repo", repo]).status == 0)
        #expect(try run(["source", "add", "s", "--snapshots", s.path + "/snaps", "--repo", repo]).status == 0)
        #expect(try run(["index", "--source", "s", "--repo", repo]).status == 0)

        func find(_ filters: [String]) throws -> (status: Int32, names: [String], out: String) {
            let r = try run(["find", "y*", "--utc", "--repo", repo] + filters)
            return (r.status, names(r.out), r.out)
        }
        func expected(_ keep: (Int) -> Bool) -> [String] { mtimes.filter { keep($0.value) }.map(\.key).sorted() }
        var r = try find(["--newer", "2290-01-01T00:00Z"])
        #expect(r.status == 0 && r.names == expected { $0 > day(2290) } && r.names.contains("y2300"), "\(r.out)")
        r = try find(["--older", "2400-01-01T00:00Z", "--newer", "2262-06-01T00:00:00+00:00"])
        #expect(r.status == 0 && r.names == expected { $0 > day(2262, 6) && $0 < day(2400) } && r.names.contains("y2263"), "\(r.out)")
        r = try find(["--older", "1650-01-01T00:00:00Z"])
        #expect(r.status == 0 && r.names == expected { $0 < day(1650) }, "\(r.out)")
        // Years as ls prints them beyond 0001..9999, local or with a zone.
        r = try find(["--older", "+10000-01-01T00:00Z", "--newer", "0000-01-01"])
        #expect(r.status == 0 && r.names == mtimes.keys.sorted(), "\(r.out)")
        r = try find(["--newer", "-0001-12-31T23:59:59.5+01:00"])
        #expect(r.status == 0 && r.names == mtimes.keys.sorted(), "\(r.out)")

        // The only limit is 64-bit seconds, and the refusal says so (exit 2, one line).
        let far = try run(["find", "y*", "--newer", "+999999999999-01-01T00:00Z", "--repo", repo])
        #expect(far.status == 2 && far.out.split(separator: "\n").count == 1, "\(far.out)")
        #expect(far.out.contains("--newer") && far.out.contains("file times a catalog can hold") && far.out.contains("64-bit seconds"), "\(far.out)")
        #expect(!far.out.contains("snapdex can store"), "\(far.out)")
        // A local time beyond the C library's years: that limit is named, not the catalog's.
        let local = try run(["find", "y*", "--newer", "+99999999999-01-01", "--repo", repo])
        #expect(local.status == 2 && local.out.contains("the C library") && local.out.contains("give it a zone"), "\(local.out)")
        #expect(try run(["find", "y*", "--newer", "+99999999999-01-01T00:00Z", "--repo", repo]).status == 0)
        for bad in ["2023-02-29", "+10000-13-01", "+123-01-01", "10000-01-01"] {
            let b = try run(["find", "y*", "--newer", bad, "--repo", repo])
            #expect(b.status == 2 && b.out.split(separator: "\n").count == 1, "\(bad): \(b.out)")
        }
    }

    /// The parser alone: every typed file time reads back as the instant ls prints.
    @Test func typedFileTimesRoundTripThroughTheirPrintedForm() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let secs = Int64.random(in: -9_000_000_000_000_000...9_000_000_000_000_000, using: &rng)
            let t = try #require(FileTime(seconds: secs, nanos: Int64.random(in: 0..<1_000_000_000, using: &rng)))
            let printed = t.rfc3339(fraction: true)
            #expect(try TimeParser.readFileTime(printed, option: "--newer") == t, "\(printed)")
        }
        #expect(try TimeParser.readFileTime(FileTime(seconds: .max, nanos: 999_999_999)!.rfc3339(fraction: true), option: "--older")
                == FileTime(seconds: .max, nanos: 999_999_999)!)
        #expect(try TimeParser.readFileTime(FileTime(seconds: .min, nanos: 0)!.rfc3339(), option: "--older") == FileTime(seconds: .min, nanos: 0)!)
        #expect(throws: SnapdexError.self) { try TimeParser.readFileTime("+292277026597-01-01T00:00:00Z", option: "--newer") }
    }
}
