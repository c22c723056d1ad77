import Foundation
import Testing
import SnapdexTestSupport
@testable import SnapdexCLI
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Times outside 1677..2262 and numbers that overflow: typed ones refused with one line and
/// exit 2, file times stored exactly; never wrapped, never a trap. In the serialized CLI suite
/// because the commands share Output.current.
extension CLITests {
    /// Sets a file's atime and mtime with utimensat(2), which takes any 64-bit seconds.
    static func setTimes(_ path: String, seconds: Int64, nanos: Int = 0) {
        var times = [timespec(tv_sec: Int(seconds), tv_nsec: nanos), timespec(tv_sec: Int(seconds), tv_nsec: nanos)]
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

    /// The range a refusal states is the range accepted, to the nanosecond (it said whole
    /// seconds, so 00:12:43.5 was accepted below its stated start).
    @Test func theStatedRangeIsExactlyTheAcceptedRange() throws {
        let s = Scratch()
        let cli = CLI(repo: s.path + "/repo")
        write(s.path + "/snap/x", "x")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["index", s.path + "/snap", "--source", "s", "--at", "2026-01-01"]).status == 0)
        // Point times: 64-bit nanoseconds.
        for inside in ["1677-09-21T00:12:43.145224192Z", "2262-04-11T23:47:16.854775807Z"] {
            let r = cli.run("expire --dry-run --now " + inside)
            #expect(r.status == 0, "\(inside): \(r.err)")
        }
        for outside in ["1677-09-21T00:12:43.145224191Z", "2262-04-11T23:47:16.854775808Z"] {
            let r = cli.run("expire --dry-run --now " + outside)
            #expect(r.status == 2 && r.err.contains("(1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z)") && Self.oneLine(r),
                    "\(outside): \(r.err)")
        }
        // File times (find): 64-bit seconds, and the refusal says so.
        for inside in ["--newer -292277022657-01-27T08:29:52Z", "--older +292277026596-12-04T15:30:07.999999999Z",
                       "--newer 1677-09-21T00:12:43.145224191Z", "--older 2262-04-11T23:47:16.854775808Z"] {
            let r = cli.run("find x " + inside)
            #expect(r.status == 0, "\(inside): \(r.err)")
        }
        for outside in ["--newer -292277022657-01-27T08:29:51Z", "--older +292277026596-12-04T15:30:08Z"] {
            let r = cli.run("find x " + outside)
            #expect(r.status == 2 && r.err.contains("(stat's 64-bit seconds: -292277022657-01-27T08:29:52Z to +292277026596-12-04T15:30:07.999999999Z)")
                    && Self.oneLine(r), "\(outside): \(r.err)")
        }
    }

    @Test func typedTimesAreExactOrRefused() throws {
        let s = Scratch()
        let cli = CLI(repo: s.path + "/repo")
        write(s.path + "/snap/f", "x")
        #expect(cli.run("init").status == 0)

        var r = cli.run(["index", s.path + "/snap", "--source", "s", "--at", "2300-01-01"])
        #expect(r.status == 2 && r.err.contains("1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z") && Self.oneLine(r), "\(r.err)")
        #expect(cli.run("points").out.contains("no restore points"))

        #expect(cli.run(["index", s.path + "/snap", "--source", "s", "--at", "1950-06-01T00:00:00Z"]).status == 0)
        #expect(cli.run("points --json").out.contains("\"time\":\"1950-06-01T00:00:00Z\""))

        r = cli.run("expire --now 9999-12-31")
        #expect(r.status == 2 && r.err.contains("outside the times snapdex can store"), "\(r.err)")
        r = cli.run("ls s@9999-12-31 /")
        #expect(r.status == 2 && r.err.contains("outside the times snapdex can store"), "\(r.err)")

        #expect(cli.run("ls s@0000-01-01 /").err.contains("there is no year 0000"))
        for bad in ["2026-02-30", "2026-13-45", "2026-04-31", "2025-02-29", "2100-02-29",
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

    /// A file time past 2262 (or before 1677, where the file system holds one) is stored
    /// exactly (catalog format 3) and every reader shows and uses it: ls, info, find, diff,
    /// versions, restore and --tar.
    /// Years past localtime_r's reach were shown in UTC while nearer ones were local, and
    /// `ls -l` prints no offset, so 15:30 UTC read as 15:30 in Kolkata.
    @Test(.enabled(if: Snapdex.isBuilt)) func theFarthestFileTimesAreShownInTheLocalZoneToo() throws {
        let s = Scratch()
        let shm = "/dev/shm/snapdex-zone-\(getpid())"
        guard mkdir(shm, 0o700) == 0 else { return }  // no tmpfs to hold such a time
        defer { try? FileManager.default.removeItem(atPath: shm) }
        write(shm + "/snap/far", "f")
        let yearTenBillion: Int64 = 315_569_457_832_780_800  // 10000000000-01-01T00:00:00Z
        var times = [timespec(tv_sec: Int(yearTenBillion), tv_nsec: 0), timespec(tv_sec: Int(yearTenBillion), tv_nsec: 0)]
        var st = stat()
        guard utimensat(AT_FDCWD, shm + "/snap/far", &times, 0) == 0, lstat(shm + "/snap/far", &st) == 0,
              st.st_mtim.tv_sec == Int(yearTenBillion) else { return }
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["index", shm + "/snap", "--source", "s", "--at", "2026-01-01T00:00:00Z"]).status == 0)
        let tool = Snapdex(repo: s.path + "/repo", scratch: s.path)
        let ls = tool.run(["ls", "-l", "s@latest", "/"], environment: ["TZ": "Asia/Kolkata"]).text
        #expect(ls.contains("+10000000000-01-01 05:30 far"), "\(ls)")
        let info = tool.run(["info", "s@latest", "/far"], environment: ["TZ": "Asia/Kolkata"]).text
        #expect(info.contains("Modify: +10000000000-01-01 05:30:00.000000000 +0530"), "\(info)")
    }

    @Test func fileTimesOutsideNanosecondsAreExactInEveryReader() throws {
        let s = Scratch()
        let cli = CLI(repo: s.path + "/repo")
        write(s.path + "/snap/future", "f")
        write(s.path + "/snap/old", "o")
        // Enough ordinary files that the later change of one time is stored as a patch.
        for i in 0..<10 { write(s.path + "/snap/n\(i)", "\(i)") }
        let y2300: Int64 = 10_413_792_000
        Self.setTimes(s.path + "/snap/future", seconds: y2300, nanos: 5)
        Self.setTimes(s.path + "/snap/old", seconds: -618_105_600)  // 1950-06-01
        #expect(cli.run("init").status == 0)
        var r = cli.run(["index", s.path + "/snap", "--source", "s", "--at", "2026-01-01T00:00:00Z"])
        #expect(r.status == 0 && !r.err.contains("future"), "\(r.err)")
        let ls = cli.run("ls s@latest / --json").out
        #expect(ls.contains("\"mtime\":\"2300-01-01T00:00:00.000000005Z\""), "\(ls)")
        #expect(ls.contains("\"mtime\":\"1950-06-01T00:00:00.000000000Z\""), "\(ls)")
        #expect(cli.run("--utc ls -l s@latest /").out.contains("2300-01-01 00:00 future"))
        r = cli.run("--utc info s@latest /future")
        #expect(r.out.contains("Modify: 2300-01-01 00:00:00.000000005 +0000"), "\(r.out)")
        // A file past 2262 is newer than any point time, and find compares it exactly.
        r = cli.run("find * --newer 2262-04-11 --json")
        #expect(r.status == 0 && r.out.contains("/future") && !r.out.contains("/old"), "\(r.out)")
        r = cli.run("find * --older 2262-04-11 --json")
        #expect(r.status == 0 && !r.out.contains("/future") && r.out.contains("/old"), "\(r.out)")

        // One out-of-range time for another is a change, though the nanosecond columns agree.
        Self.setTimes(s.path + "/snap/future", seconds: y2300 + 86_400, nanos: 7)
        #expect(cli.run(["index", s.path + "/snap", "--source", "s", "--at", "2026-01-02T00:00:00Z"]).status == 0)
        r = cli.run("diff s@2026-01-01 s@2026-01-02")
        #expect(r.out.contains("M /future  (mtime)"), "\(r.out)")
        r = cli.run("versions s /future --json")
        #expect(r.out.split(separator: "\n").count == 2 && r.out.contains("2300-01-02T00:00:00.000000007Z"), "\(r.out)")
        r = cli.run("find future --json")
        #expect(r.out.contains("2300-01-01T00:00:00.000000005Z") && r.out.contains("2300-01-02T00:00:00.000000007Z"), "\(r.out)")

        // Restore sets the exact time; a pax archive records it.
        r = cli.run(["restore", "s@2026-01-02", "/future", "--to", s.path + "/back"])
        #expect(r.status == 0, "\(r.err)")
        var st = stat()
        #expect(lstat(s.path + "/back/future", &st) == 0)
        #expect(st.st_mtim.tv_sec == Int(y2300 + 86_400) && st.st_mtim.tv_nsec == 7)
        r = cli.run(["restore", "s@2026-01-02", "/future", "--tar", s.path + "/f.tar"])
        #expect(r.status == 0, "\(r.err)")
        let tar = String(decoding: try Data(contentsOf: URL(fileURLWithPath: s.path + "/f.tar")), as: UTF8.self)
        #expect(tar.contains("mtime=10413878400.000000007"))
        #expect(cli.run("verify").status == 0)

        // Restored onto a file system that cannot hold the time (ext4 keeps 1901..2446), a
        // file gets the nearest time it holds, and restore says so.
        let shm = "/dev/shm/snapdex-far-\(getpid())"
        if mkdir(shm, 0o700) == 0 {
            defer { try? FileManager.default.removeItem(atPath: shm) }
            write(shm + "/far", "x")
            Self.setTimes(shm + "/far", seconds: 100_000_000_000, nanos: 5)  // 5138
            #expect(cli.run(["index", shm, "--source", "shm", "--at", "2026-01-01T00:00:00Z"]).status == 0)
            r = cli.run(["restore", "shm@latest", "/far", "--to", s.path + "/onto"])
            var held = stat()
            #expect(lstat(s.path + "/onto/far", &held) == 0)
            if held.st_mtim.tv_sec != 100_000_000_000 {
                #expect(r.status == 0 && r.err.contains("cannot hold the mtime of 1 restored entry: /far has ")
                    && r.err.contains(", not 5138-11-16T09:46:40.000000005Z; --tar records"), "\(r.err)")
            } else {
                #expect(!r.err.contains("cannot hold"), "\(r.err)")
            }
        }

        // A point time taken from a directory's mtime must fit a point time: it asks for --at.
        write(s.path + "/later/f", "l")
        Self.setTimes(s.path + "/later", seconds: y2300)
        let later = cli.run(["index", s.path + "/later", "--source", "s"])
        #expect(later.status == 2 && Self.oneLine(later) && later.err.contains("2300-01-01T00:00:00Z") && later.err.contains("--at"), "\(later.err)")
    }

    /// A repository written by Snapdex 0.2 (catalog format 2: a content patch, a pre-1970 time
    /// and a file time of 2300 it stored clamped to 2262) reads as it did, and its blocks
    /// re-encode to the same bytes, so ordinary trees share blocks across the format change.
    @Test func aVersionTwoRepositoryReadsAsItDid() throws {
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("SnapdexCoreTests/Golden").path
        let s = Scratch()
        RepoFiles.copy(golden + "/repo-v2", s.path + "/repo")
        let cli = CLI(repo: s.path + "/repo")
        for (point, file) in [("6e502138", "repo-v2-ls-first.jsonl"), ("b7649205", "repo-v2-ls-second.jsonl")] {
            let expected = try String(contentsOfFile: golden + "/" + file, encoding: .utf8)
            let r = cli.run("ls \(point) /d --json")
            #expect(r.status == 0 && r.out == expected, "\(r.out)")
        }
        #expect(cli.run("diff 6e502138 b7649205").out.contains("M /d/f3  (size, mtime)"))
        #expect(cli.run("verify").status == 0)
        let repo = try Repository.open(at: s.path + "/repo")
        var parts = 0
        for point in try repo.points() {
            let manifest = try repo.manifest(of: point)
            #expect(manifest.formatVersion == 2)
            for chunk in manifest.chunks {
                func whole(_ p: PartRef) throws -> [UInt8] { try repo.blocks.read(p.root.hash) }
                func patch(_ p: PartRef) throws -> [UInt8]? { p.base == nil ? nil : try repo.blocks.read(p.block.hash) }
                let names = try whole(chunk.parts[0])
                let groups = try ChunkCodec.decode(names: names, content: whole(chunk.parts[1]), state: whole(chunk.parts[2]),
                                                   contentPatch: patch(chunk.parts[1]), statePatch: patch(chunk.parts[2]))
                let again = ChunkCodec.encode(groups)
                for (i, p) in chunk.parts.enumerated() {
                    #expect(Digest.of(again[i]) == (p.whole ?? p.block.hash), "part \(i) of a chunk of \(point.id)")
                    parts += 1
                }
            }
        }
        #expect(parts == 6)
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
