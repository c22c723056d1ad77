import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Sets a folder's mtime (and atime) to `seconds`.
func setMTime(_ path: String, _ seconds: Int) {
    var t = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
    utimensat(AT_FDCWD, path, &t, 0)
}

/// The point times of a source, as `points --json` prints them, by snapshot path.
func pointTimes(_ cli: CLI, source: String) -> [String: String] {
    var times: [String: String] = [:]
    for line in cli.run(["points", "--source", source, "--json"]).out.split(separator: "\n") {
        guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let snapshot = o["snapshot"] as? String, let time = o["time"] as? String else { continue }
        times[snapshot] = time
    }
    return times
}

extension CLITests {
    /// A name without a time: a warning naming the fallback even with -q; --time-from name
    /// refuses it and its advice works as printed; --time-from mtime says nothing.
    @Test func snapshotNamesWithoutATimeWarnOrFail() throws {
        let s = Scratch()
        for n in ["nightly.0", "autosnap_2026-11-21_03:00:01_daily", "2026-13-45"] {
            write(s.path + "/snaps/\(n)/f", n)
            setMTime(s.path + "/snaps/\(n)", 1_763_000_000)
        }
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "tank", "--snapshots", s.path + "/snaps", "--time-from", "name"]).status == 0)
        let strict = cli.run("index --source tank")
        #expect(strict.status == 1, "\(strict.out) \(strict.err)")
        #expect(strict.err.contains("cannot read a point time from the name of snapshot \(s.path)/snaps/2026-13-45"), "\(strict.err)")
        #expect(cli.run("points --json").out.isEmpty, "nothing is published when a name is refused")
        // The advice, run as printed.
        let advice = try #require(strict.err.split(separator: "`").dropFirst().first.map(String.init))
        #expect(advice == "snapdex index --source tank --repo \(s.path)/repo --time-from auto")
        let followed = cli.run(Array(advice.split(separator: " ").dropFirst().map(String.init)) + ["-q"])
        #expect(followed.status == 0, "\(followed.err)")
        // -q hides chatter, not guessed times: both fallbacks are named, with the impossible date's reason.
        #expect(followed.err.contains("snapshot \(s.path)/snaps/nightly.0: its name 'nightly.0' holds no date and time"), "\(followed.err)")
        #expect(followed.err.contains("its point time is the folder's mtime, 2025-11-13T02:13:20Z"), "\(followed.err)")
        #expect(followed.err.contains("the date in its name '2026-13-45' does not exist (there is no month 13)"), "\(followed.err)")
        let times = pointTimes(cli, source: "tank")
        #expect(times[s.path + "/snaps/autosnap_2026-11-21_03:00:01_daily"] == "2026-11-21T03:00:01Z")
        #expect(times[s.path + "/snaps/nightly.0"] == "2025-11-13T02:13:20Z")
        #expect(times.count == 3)

        // --time-from mtime: names are ignored, and no warning.
        write(s.path + "/other/daily.0/f", "x")
        setMTime(s.path + "/other/daily.0", 1_763_100_000)
        let one = cli.run(["index", s.path + "/other/daily.0", "--source", "rs", "--time-from", "mtime"])
        #expect(one.status == 0 && one.err.isEmpty, "\(one.err)")
        // index DIR with --time-from name refuses, and advises that one directory.
        write(s.path + "/other/weekly.0/f", "x")
        let refused = cli.run(["index", s.path + "/other/weekly.0", "--source", "rs", "--time-from", "name"])
        #expect(refused.status == 1 && refused.err.contains("`snapdex index \(s.path)/other/weekly.0 --source rs --repo \(s.path)/repo --time-from auto`"), "\(refused.err)")
        #expect(cli.run(["index", s.path + "/other/weekly.0", "--source", "rs", "--time-from", "auto"]).status == 0)
        #expect(cli.run(["index", "--source", "rs", "--time-from", "sometimes"]).status == 2)
    }

    /// zfs-auto-snapshot keeps frequent, hourly and daily snapshots in one folder: per-source
    /// globs choose which are indexed, source set changes them, source.json keeps them.
    @Test func snapshotNameFiltersChooseWhatIsIndexed() throws {
        let s = Scratch()
        let names = ["zfs-auto-snap_frequent-2026-11-21-0315", "zfs-auto-snap_frequent-2026-11-21-0330",
                     "zfs-auto-snap_hourly-2026-11-21-0317", "zfs-auto-snap_hourly-2026-11-21-0417",
                     "zfs-auto-snap_daily-2026-11-21-0025", "zfs-auto-snap_daily-2026-11-22-0025",
                     "zfs-auto-snap_weekly-2026-11-22-0047"]
        for n in names {
            write(s.path + "/zfs/\(n)/f", n)
            setMTime(s.path + "/zfs/\(n)", 1_763_000_000)
        }
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        let added = cli.run(["source", "add", "tank", "--snapshots", s.path + "/zfs", "--include", "zfs-auto-snap_daily-*",
                             "--include", "zfs-auto-snap_weekly-*"])
        #expect(added.status == 0, "\(added.err)")
        let first = cli.run("index --source tank")
        #expect(first.status == 0, "\(first.err)")
        #expect(Set(pointTimes(cli, source: "tank").values) == ["2026-11-21T00:25:00Z", "2026-11-22T00:25:00Z", "2026-11-22T00:47:00Z"])
        let nothing = cli.run("index --source tank").out
        #expect(nothing.contains("nothing to index: every snapshot of tank that its filters allow has an index (4 left out by --include/--exclude"), "\(nothing)")
        let list = cli.run("source list").out
        #expect(list.contains("--include zfs-auto-snap_daily-* --include zfs-auto-snap_weekly-*"), "\(list)")
        #expect(cli.run("source list --json").out.contains("\"include\":[\"zfs-auto-snap_daily-*\",\"zfs-auto-snap_weekly-*\"]"))

        // Hourly too, but still no frequent ones: includes cleared, one exclude.
        #expect(cli.run(["source", "set", "tank", "--clear-filters", "--exclude", "zfs-auto-snap_frequent-*"]).status == 0)
        let json = try String(contentsOfFile: s.path + "/repo/catalogs/tank/source.json", encoding: .utf8)
        #expect(json.contains("\"exclude\" : [") && !json.contains("include"), "\(json)")
        let second = cli.run("index --source tank")
        #expect(second.out.components(separatedBy: "indexed tank@").count - 1 == 2, "\(second.out)")
        #expect(pointTimes(cli, source: "tank").count == 5)
        #expect(cli.run("index --source tank").out.contains("(2 left out by --include/--exclude"))
        #expect(cli.run(["source", "set", "tank", "--include", ""]).status == 2)
        #expect(cli.run(["source", "set", "tank"]).status == 2)

        // A snapshot left out by the filters still counts as indexed where it has a point: a
        // new daily of the same time as an indexed, now excluded, hourly is indexed too.
        #expect(cli.run(["source", "set", "tank", "--exclude", "zfs-auto-snap_hourly-*"]).status == 0)
        write(s.path + "/zfs/zfs-auto-snap_daily-2026-11-21-0417/f", "late daily")
        setMTime(s.path + "/zfs/zfs-auto-snap_daily-2026-11-21-0417", 1_763_000_000)
        let late = cli.run("index --source tank")
        #expect(late.out.contains("from \(s.path)/zfs/zfs-auto-snap_daily-2026-11-21-0417"), "\(late.out)")
    }

    /// A source pointed one level too high (at .zfs, not .zfs/snapshot), or `index DIR` of the
    /// snapshots folder itself, would make one point of every snapshot: refused, and the advice
    /// run as printed sets things right.
    @Test func aSnapshotsFolderIsNotIndexedAsOneSnapshot() throws {
        let s = Scratch()
        for n in ["autosnap_2026-11-21_00:00:01_daily", "autosnap_2026-11-22_00:00:01_daily"] { write(s.path + "/tank/.zfs/snapshot/\(n)/f", n) }
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "tank", "--snapshots", s.path + "/tank/.zfs"]).status == 0)
        let high = cli.run("index --source tank")
        #expect(high.status == 1, "\(high.out) \(high.err)")
        let advice = try #require(high.err.split(separator: "`").dropFirst().first.map(String.init), "\(high.err)")
        #expect(advice == "snapdex --repo \(cli.repo) source set tank --snapshots \(s.path)/tank/.zfs/snapshot")
        #expect(cli.run(Array(advice.split(separator: " ").dropFirst(3).map(String.init))).status == 0)
        let fixed = cli.run("index --source tank")
        #expect(fixed.status == 0 && fixed.out.components(separatedBy: "indexed tank@").count - 1 == 2, "\(fixed.out) \(fixed.err)")

        let one = cli.run(["index", s.path + "/tank/.zfs/snapshot", "--source", "other"])
        #expect(one.status == 1 && cli.run("points --source other --json").out.isEmpty, "\(one.err)")
        let steps = one.err.split(separator: "`").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        #expect(steps == ["snapdex --repo \(cli.repo) source set other --snapshots \(s.path)/tank/.zfs/snapshot", "snapdex --repo \(cli.repo) index --source other"], "\(one.err)")
        for step in steps { #expect(cli.run(Array(step.split(separator: " ").dropFirst(3).map(String.init))).status == 0) }
        #expect(cli.run("points --source other --json").out.split(separator: "\n").count == 2)
    }

    /// source.json files written before filters and `auto` existed stay readable: their
    /// `"timeFrom": "name"` meant "the name, else the mtime", which is `auto` now.
    @Test func oldSourceFilesStayReadable() throws {
        let s = Scratch()
        write(s.path + "/snaps/daily.0/f", "x")
        setMTime(s.path + "/snaps/daily.0", 1_763_000_000)
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "old", "--snapshots", s.path + "/snaps"]).status == 0)
        let v1 = "{\n  \"livePath\" : null,\n  \"name\" : \"old\",\n  \"snapshots\" : \"\(s.path)/snaps\",\n  \"timeFrom\" : \"name\"\n}\n"
        write(s.path + "/repo/catalogs/old/source.json", v1)
        let r = cli.run("index --source old")
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("its point time is the folder's mtime"), "\(r.err)")
        #expect(try Repository.open(at: s.path + "/repo").sourceConfiguration("old")?.timeFrom == .auto)
    }
}

/// The acceptance test: one `index --source` over a folder holding snapshots made the way each
/// tool makes them, every folder with the same mtime, gives every snapshot its own point at the
/// time its tool meant. Run as a real process in a zone an hour east of UTC (Europe/Berlin in
/// November), so that local-time names and UTC names really differ.
@Test func snapshotToolsLayoutsGiveTheRightTimes() throws {
    guard let binary = builtSnapdex() else { return }
    let s = Scratch()
    let snaps = s.path + "/snaps"
    // snapshot folder (as under the snapshots folder) -> the instant it stands for.
    let expected: [(String, String)] = [
        ("autosnap_2026-11-21_03:00:01_daily", "2026-11-21T03:00:01Z"),     // sanoid: UTC, as its service runs
        ("autosnap_2026-11-21_03:00:01_hourly", "2026-11-21T03:00:01Z"),    // same time, another snapshot
        ("2026-11-21_03:00:01_daily", "2026-11-21T02:00:01Z"),              // the same shape without sanoid's prefix: local
        ("pyznap_2026-11-21_04:00:00_daily", "2026-11-21T03:00:00Z"),       // pyznap: local
        ("syncoid_host_2026-11-21:05:00:00-GMT+01:00", "2026-11-21T04:00:00Z"),
        ("zfs-auto-snap_daily-2026-11-21-0300", "2026-11-21T03:00:00Z"),    // zfs-auto-snapshot: UTC
        ("zrepl_20261121_030001_000", "2026-11-21T03:00:01Z"),              // zrepl: UTC
        ("2026-11-21-060000", "2026-11-21T05:00:00Z"),                      // znapzend: local
        ("home.20261121T0700", "2026-11-21T06:00:00Z"),                     // btrbk short: local
        ("home.20261121T070001+0100", "2026-11-21T06:00:01Z"),              // btrbk long-iso
        ("daily.2026-11-21_0010", "2026-11-20T23:10:00Z"),                  // NetApp: local
        ("@GMT-2026.11.21-03.00.00", "2026-11-21T03:00:00Z"),               // Samba: UTC
        ("GMT+08-2026.11.21-10.00.00", "2026-11-21T02:00:00Z"),             // Synology: zone named
        ("GMT-05_2026-11-21_0300", "2026-11-21T08:00:00Z"),                 // QNAP: zone named
        ("home-snap-20261122", "2026-11-21T23:00:00Z"),                     // LVM script: local midnight
        ("2026-11-20_0300", "2026-11-20T02:00:00Z"),
        ("2026-11-21T09:00:00Z", "2026-11-21T09:00:00Z"),
    ]
    for (n, _) in expected { write(snaps + "/\(n)/file", n) }
    // snapper: 42/snapshot with info.xml (UTC); Timeshift: NAME/localhost with info.json (local).
    write(snaps + "/42/snapshot/file", "snapper")
    write(snaps + "/42/info.xml", "<?xml version=\"1.0\"?>\n<snapshot>\n  <type>single</type>\n  <num>42</num>\n  <date>2026-11-21 11:00:00</date>\n  <description>timeline</description>\n  <cleanup>timeline</cleanup>\n</snapshot>\n")
    write(snaps + "/2026-11-21_13-00-01/localhost/file", "timeshift")
    write(snaps + "/2026-11-21_13-00-01/info.json", "{\n  \"name\" : \"2026-11-21_13-00-01\",\n  \"tags\" : \"D\"\n}\n")
    let all = expected.map { (snaps + "/" + $0.0, $0.1) } + [
        (snaps + "/42/snapshot", "2026-11-21T11:00:00Z"),
        (snaps + "/2026-11-21_13-00-01/localhost", "2026-11-21T12:00:01Z"),
    ]
    for path in (expected.map(\.0) + ["42", "42/snapshot", "2026-11-21_13-00-01", "2026-11-21_13-00-01/localhost"]) {
        setMTime(snaps + "/" + path, 1_763_000_000)
    }

    func snapdex(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args + ["--repo", s.path + "/repo"]
        var env = ProcessInfo.processInfo.environment
        env["TZ"] = "Europe/Berlin"
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
    #expect(try snapdex(["init"]).status == 0)
    #expect(try snapdex(["source", "add", "all", "--snapshots", snaps, "--time-from", "name"]).status == 0)
    let r = try snapdex(["index", "--source", "all"])
    #expect(r.status == 0 && r.err.isEmpty, "\(r.out) \(r.err)")
    #expect(r.out.components(separatedBy: "indexed all@").count - 1 == all.count, "\(r.out)")

    var times: [String: String] = [:]
    for line in try snapdex(["points", "--json"]).out.split(separator: "\n") {
        let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        times[try #require(o["snapshot"] as? String)] = o["time"] as? String
    }
    for (path, time) in all { #expect(times[path] == time, "\(path)") }
    #expect(times.count == all.count)
    // Neither info.xml nor info.json is part of a point.
    let snapper = try snapdex(["ls", "-R", "all@2026-11-21T11:00:00Z"])
    #expect(snapper.status == 0 && snapper.out.contains("file") && !snapper.out.contains("info.xml") && !snapper.out.contains("snapshot"),
            "\(snapper.out) \(snapper.err)")
    #expect(try snapdex(["index", "--source", "all"]).out.contains("nothing to index"))
}
