import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Times outside 1677..2262 and numbers that overflow: refused with one line and exit 2, or
/// recorded clamped with a warning; never wrapped, never a trap. In the serialized CLI suite
/// because the commands share Output.current.
extension CLITests {
    /// Sets a file's atime and mtime with utimensat(2), which takes any 64-bit seconds.
    static func setTimes(_ path: String, seconds: Int64) {
        var times = [timespec(tv_sec: Int(seconds), tv_nsec: 0), timespec(tv_sec: Int(seconds), tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
    }

    static func oneLine(_ r: (status: Int32, out: String, err: String)) -> Bool {
        r.err.split(separator: "\n").count == 1
    }

    @Test func aHoldPastTheRangeIsRefusedAndNeverHoldsForever() throws {
        let s = Scratch()
        let cli = CLI(repo: s.path + "/repo")
        write(s.path + "/snap/f", "x")
        #expect(cli.run("init").status == 0)
        for day in ["2026-01-01", "2026-01-02", "2026-01-03"] {
            #expect(cli.run(["index", s.path + "/snap", "--source", "s", "--at", day + "T00:00:00Z"]).status == 0)
        }
        #expect(cli.run("policy set s --keep-last 1 --apply-to-existing").status == 0)

        var r = cli.run("point keep s@2026-01-01 --until 9999-12-31")
        #expect(r.status == 2)
        #expect(r.err.contains("outside the times snapdex can store") && r.err.contains("`--until never`"), "\(r.err)")
        #expect(Self.oneLine(r))
        r = cli.run("index \(s.path)/snap --source s --at 2026-01-04T00:00:00Z --keep-until 2300-01-01")
        #expect(r.status == 2 && r.err.contains("`--keep-until never`"), "\(r.err)")

        r = cli.run("point keep s@2026-01-01 --until never")
        #expect(r.status == 0)
        #expect(r.out.contains("kept until never"), "\(r.out)")
        let json = cli.run("points --json").out
        #expect(json.contains("\"retain_until\":\"never\""), "\(json)")
        #expect(cli.run("points").out.contains("retain-until never"))

        // Far in the (representable) future, the hold still holds.
        r = cli.run("expire --now 2262-04-01")
        #expect(r.status == 0)
        let left = cli.run("points --json").out.split(separator: "\n")
        #expect(left.count == 2)
        #expect(left.contains { $0.contains("\"time\":\"2026-01-01T00:00:00Z\"") })
    }

    @Test func typedTimesAreExactOrRefused() throws {
        let s = Scratch()
        let cli = CLI(repo: s.path + "/repo")
        write(s.path + "/snap/f", "x")
        #expect(cli.run("init").status == 0)

        var r = cli.run(["index", s.path + "/snap", "--source", "s", "--at", "2300-01-01"])
        #expect(r.status == 2 && r.err.contains("1677-09-21T00:12:44Z to 2262-04-11T23:47:16Z") && Self.oneLine(r), "\(r.err)")
        #expect(cli.run("points").out.contains("no restore points"))

        #expect(cli.run(["index", s.path + "/snap", "--source", "s", "--at", "1950-06-01T00:00:00Z"]).status == 0)
        #expect(cli.run("points --json").out.contains("\"time\":\"1950-06-01T00:00:00Z\""))

        r = cli.run("expire --now 9999-12-31")
        #expect(r.status == 2 && r.err.contains("outside the times snapdex can store"), "\(r.err)")
        r = cli.run("ls s@9999-12-31 /")
        #expect(r.status == 2 && r.err.contains("outside the times snapdex can store"), "\(r.err)")

        for bad in ["2026-02-30", "2026-13-45", "2026-04-31", "2025-02-29", "2100-02-29", "0000-01-01",
                    "2026-01-01T24:00:00Z", "2026-01-01T23:60:00Z", "2026-01-01T23:59:60Z",
                    "2026-01-01T00:00:00+99:99", "2026-01-01T00:00:00+15:00", "2026-01-01T00:00:00-14:01",
                    "2026-01-01T00:00:00+01:60", "2026-01-01T00:00:00.1234567891Z"] {
            r = cli.run(["find", "f", "--newer", bad])
            #expect(r.status == 2, "\(bad) gave \(r.status)")
            #expect(Self.oneLine(r) && r.err.contains(bad), "\(bad): \(r.err)")
        }
        #expect(cli.run("find f --newer 2024-02-29").status == 0)
        #expect(cli.run("find f --newer 2000-02-29T12:00:00+14:00").status == 0)
        #expect(cli.run("find f --newer 2026-01-01T00:00:00.1234567890Z").status == 0)
    }

    @Test func snapshotFoldersOutsideTheRangeFallBackToTheirMtime() throws {
        let s = Scratch()
        let cli = CLI(repo: s.path + "/repo")
        for name in ["2400-01-01", "2026-02-30"] { write(s.path + "/snaps/\(name)/f", name) }
        Self.setTimes(s.path + "/snaps/2400-01-01", seconds: 1_772_323_200)  // 2026-03-01
        Self.setTimes(s.path + "/snaps/2026-02-30", seconds: 1_772_323_200 + 86_400)
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "s", "--snapshots", s.path + "/snaps"]).status == 0)
        let r = cli.run("index --source s")
        #expect(r.status == 0, "\(r.err)")
        let lines = cli.run("points --json").out.split(separator: "\n")
        #expect(lines.count == 2)
        let json = lines.joined(separator: "\n")
        #expect(json.contains("\"time\":\"2026-03-01T00:00:00Z\"") && json.contains("\"time\":\"2026-03-02T00:00:00Z\""), "\(json)")
    }

    @Test func fileTimesOutsideTheRangeAreClampedWithAWarningAndOldTimesAreExact() throws {
        let s = Scratch()
        let cli = CLI(repo: s.path + "/repo")
        write(s.path + "/snap/future", "f")
        write(s.path + "/snap/old", "o")
        Self.setTimes(s.path + "/snap/future", seconds: 10_413_792_000)  // 2300-01-01
        Self.setTimes(s.path + "/snap/old", seconds: -618_105_600)  // 1950-06-01
        #expect(cli.run("init").status == 0)
        let r = cli.run(["index", s.path + "/snap", "--source", "s", "--at", "2026-01-01T00:00:00Z"])
        #expect(r.status == 0)
        #expect(r.err.contains("/future: mtime 2300-01-01T00:00:00Z is outside"), "\(r.err)")
        #expect(r.err.contains("clamped to 2262-04-11T23:47:16.854775807Z"), "\(r.err)")
        #expect(!r.err.contains("/old:"))
        let ls = cli.run("ls s@latest / --json").out
        #expect(ls.contains("\"mtime\":\"2262-04-11T23:47:16.854775807Z\""), "\(ls)")
        #expect(ls.contains("\"mtime\":\"1950-06-01T00:00:00.000000000Z\""), "\(ls)")

        // A point time taken from a directory's mtime is never clamped: it asks for --at.
        write(s.path + "/later/f", "l")
        Self.setTimes(s.path + "/later", seconds: 10_413_792_000)
        let later = cli.run(["index", s.path + "/later", "--source", "s"])
        #expect(later.status == 2 && Self.oneLine(later) && later.err.contains("2300-01-01T00:00:00Z") && later.err.contains("--at"), "\(later.err)")
    }

    @Test func numbersThatOverflowAreOneLineAndExitTwo() throws {
        let s = Scratch()
        let cli = CLI(repo: s.path + "/repo")
        write(s.path + "/snap/small", "x")
        write(s.path + "/snap/big", String(repeating: "y", count: 20_000))
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["index", s.path + "/snap", "--source", "s", "--at", "2026-01-01T00:00:00Z"]).status == 0)

        for w in ["1e10", "inf", "nan", "-1", "-inf"] {
            let r = cli.run(["gc", "--wait", w])
            #expect(r.status == 2 && Self.oneLine(r) && r.err.contains("--wait takes"), "--wait \(w): \(r.status) \(r.err)")
        }
        #expect(cli.run("gc --wait 0.5").status == 0)

        var r = cli.run("policy set s --keep-days 200000")
        #expect(r.status == 2 && Self.oneLine(r) && r.err.contains("--keep-days takes a number from 0 to 100000"), "\(r.err)")
        r = cli.run("policy set s --keep-days -1")
        #expect(r.status == 2 && Self.oneLine(r) && r.err.contains("--keep-days takes a number from 0 to 100000"), "\(r.err)")
        r = cli.run("policy set s --keep-last 99999999999999999999")
        #expect(r.status == 2 && Self.oneLine(r), "\(r.err)")
        #expect(cli.run("policy set s --keep-days 100000").status == 0)
        #expect(cli.run("points").status == 0)
        #expect(cli.run("expire --dry-run").status == 0)

        r = cli.run("find * --size +20000000T")
        #expect(r.status == 2 && Self.oneLine(r) && r.err.contains("--size takes"), "\(r.err)")
        r = cli.run("find * --size +99999999999999999999")
        #expect(r.status == 2 && Self.oneLine(r), "\(r.err)")
        r = cli.run("find * --size -10k")
        #expect(r.status == 0 && r.out.contains("small") && !r.out.contains("big"), "\(r.out) \(r.err)")
        r = cli.run("find * --size +10k")
        #expect(r.status == 0 && r.out.contains("big") && !r.out.contains("small"), "\(r.out) \(r.err)")
    }
}
