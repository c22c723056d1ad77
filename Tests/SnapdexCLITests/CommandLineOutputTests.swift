import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Exit statuses, messages and the output people read (issue 10): each item as a user meets
/// it. In the serialized CLI suite because the commands share Output.current; what depends on
/// TZ or a terminal runs the built binary as a process.
extension CLITests {
    /// A repository with source `home`: two snapshots of a few files, indexed.
    static func twoDays(_ s: Scratch, hash: Bool = false) -> CLI {
        for day in ["2026-11-01", "2026-11-02"] {
            write(s.path + "/snaps/\(day)/alice/Budget.xlsx", "budget \(day)")
            write(s.path + "/snaps/\(day)/alice/notes.txt", "n")
        }
        write(s.path + "/snaps/2026-11-02/alice/new.txt", "new")
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "home", "--snapshots", s.path + "/snaps"]).status == 0)
        #expect(cli.run(["index", "--source", "home"] + (hash ? ["--hash"] : [])).status == 0)
        return cli
    }

    static var binary: String? {
        let b = packageRoot.appendingPathComponent(".build/debug/snapdex").path
        guard FileManager.default.isExecutableFile(atPath: b) else {
            Issue.record("snapdex is not built in .build/debug; run `make test`")
            return nil
        }
        return b
    }

    // MARK: Exit statuses and messages

    @Test func helpOfAnUnknownCommandIsAUsageError() {
        let cli = CLI(repo: "/nonexistent")
        var r = cli.run(["help", "nosuch"])
        #expect(r.status == 2 && r.err.contains("no command named 'nosuch'") && r.err.contains("`snapdex help`"), "\(r.err)")
        r = cli.run(["help", "source", "nosuch"])
        #expect(r.status == 2 && r.err.contains("'nosuch'"), "\(r.err)")
        // The advice works as printed.
        #expect(cli.run(["help"]).status == 0)
        r = cli.run(["help", "source", "add"])
        #expect(r.status == 0 && r.out.contains("USAGE"), "\(r.out)")
    }

    @Test func lsTakesHumanReadableSizesAndKeepsLongHelp() throws {
        let s = Scratch()
        write(s.path + "/snap/big", String(repeating: "x", count: 5000))
        write(s.path + "/snap/small", "abc")
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["index", s.path + "/snap", "--source", "t", "--at", "2026-11-21T03:00:00Z"]).status == 0)
        var r = cli.run("ls t@latest / -lh")
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains(" 4.9K ") && r.out.contains("   3 "), "\(r.out)")
        r = cli.run("ls t@latest / -l --human-readable")
        #expect(r.out.contains(" 4.9K "), "\(r.out)")
        r = cli.run("ls t@latest / -l")
        #expect(r.out.contains(" 5000 "), "\(r.out)")
        r = cli.run("ls --help")
        #expect(r.status == 0 && r.out.contains("--human-readable"), "\(r.out)")
        #expect(Format.shortBytes(1023) == "1023" && Format.shortBytes(1024) == "1.0K" && Format.shortBytes(1025) == "1.1K")
        #expect(Format.shortBytes(10 << 20) == "10M" && Format.shortBytes((1 << 20) - 1) == "1.0M")
    }

    @Test func restoringAPathAbsentFromThePointFailsWithOneLine() throws {
        let s = Scratch()
        let cli = Self.twoDays(s)
        let r = cli.run(["restore", "home@latest", "/alice/nope", "--to", s.path + "/out"])
        #expect(r.status == 1, "\(r.err)")
        #expect(Self.oneLine(r) && r.err.contains("/alice/nope is not in restore point"), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: s.path + "/out/alice"))
    }

    @Test func catOfAFileChangedInPlaceExitsOne() throws {
        let s = Scratch()
        let cli = Self.twoDays(s, hash: true)
        let file = s.path + "/snaps/2026-11-02/alice/notes.txt"
        var st = stat()
        #expect(stat(file, &st) == 0)
        write(file, "m")  // same size
        var times = [st.st_atim, st.st_mtim]
        #expect(utimensat(AT_FDCWD, file, &times, 0) == 0)
        let r = cli.run("cat home@latest /alice/notes.txt")
        #expect(r.status == 1, "\(r.status) \(r.err)")
        #expect(r.err.contains("SHA-256"), "\(r.err)")
    }

    @Test func adviceForAMissingPathIsPlainAndWorks() throws {
        let s = Scratch()
        let cli = Self.twoDays(s)
        var r = cli.run("versions home /alice/nope.txt")
        #expect(r.status == 1)
        #expect(!r.err.contains("any point") && r.err.contains("is in no restore point of home"), "\(r.err)")
        var advice = try #require(Self.advice(r.err, on: cli.repo), "\(r.err)")
        #expect(advice == ["find", "'nope.txt'", "--source", "home"], "\(advice)")
        #expect(cli.run(advice.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "'")) }).status == 0)

        r = cli.run("diff home@2026-11-01 home@latest /alice/gone/x")
        #expect(r.status == 1)
        #expect(!r.err.contains(" or ") && r.err.contains("is in neither restore point"), "\(r.err)")
        advice = try #require(Self.advice(r.err, on: cli.repo), "\(r.err)")
        #expect(advice.first == "ls" && advice.last == "/alice/gone", "\(advice)")
        // /alice/gone is not there either, but its parent is: the advice lists a real folder
        // only when one exists; here the ls fails with the same plain message.
        #expect(cli.run(advice).status == 1)
        r = cli.run("diff home@2026-11-01 home@latest /alice/nope.txt")
        advice = try #require(Self.advice(r.err, on: cli.repo), "\(r.err)")
        #expect(cli.run(advice).status == 0, "\(advice)")
    }

    @Test func aSymlinkInTheSnapshotIsNotAdvisedAway() throws {
        let s = Scratch()
        write(s.path + "/snap/d/f.txt", "f")
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["index", s.path + "/snap", "--source", "t", "--at", "2026-11-21T03:00:00Z"]).status == 0)
        try FileManager.default.moveItem(atPath: s.path + "/snap/d", toPath: s.path + "/snap/e")
        symlink("e", s.path + "/snap/d")
        for extra in [[], ["--overwrite"]] {
            let r = cli.run(["restore", "t@latest", "/d/f.txt", "--to", s.path + "/out"] + extra)
            #expect(r.status != 0)
            #expect(r.err.contains("in the snapshot") && !r.err.contains("--overwrite"), "\(r.err)")
        }
    }

    @Test func negativeNumbersAndBadGlobsAreReadOrRefusedClearly() throws {
        let s = Scratch()
        let cli = Self.twoDays(s)
        var r = cli.run(["find", "*", "--size", "-10"])
        #expect(r.status == 0 && r.out.contains("notes.txt") && !r.out.contains("Budget"), "\(r.err)")
        r = cli.run(["policy", "set", "home", "--keep-days", "-1"])
        #expect(r.status == 2 && !r.err.contains("Missing value") && Self.oneLine(r), "\(r.err)")
        r = cli.run(["sessions", "--last", "-1"])
        #expect(r.status == 2 && !r.err.contains("Missing value") && Self.oneLine(r), "\(r.err)")
        r = cli.run(["find", "[abc"])
        #expect(r.status == 2 && r.err.contains("no closing ']'") && Self.oneLine(r), "\(r.err)")
        #expect(cli.run(["find", "\\[abc"]).status == 0)
        #expect(cli.run(["find", "[]a]*"]).status == 0)
        r = cli.run(["find", "(", "--regex"])
        #expect(r.status == 2 && Self.oneLine(r), "\(r.err)")
    }

    @Test func countsAreWordedInTheSingularForOne() throws {
        let s = Scratch()
        write(s.path + "/snap/d/f", "x")
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        var r = cli.run(["index", s.path + "/snap", "--source", "t", "--at", "2026-11-21T03:00:00Z"])
        #expect(r.out.contains("2 entries (1 file, 1 dir, 0 other)"), "\(r.out)")
        #expect(r.out.contains("0 warnings"), "\(r.out)")
        r = cli.run(["restore", "t@latest", "/d", "--to", s.path + "/out"])
        #expect(r.out.contains("restored 1 file, 1 dir, 0 links"), "\(r.out)")
        r = cli.run(["restore", "t@latest", "/d", "--to", s.path + "/out", "--dry-run"])
        #expect(r.out.contains("(already exists; --skip keeps it)") && !r.out.contains("(exists (--skip))"), "\(r.out)")
    }

    @Test func aTableShowsEveryIdAtOneWidth() throws {
        let s = Scratch()
        for day in 1...6 { write(s.path + "/snaps/2026-11-0\(day)/f", "\(day)") }
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "home", "--snapshots", s.path + "/snaps"]).status == 0)
        #expect(cli.run("index --source home").status == 0)
        #expect(cli.run("policy set home --keep-last 2 --apply-to-existing").status == 0)
        func idColumn(_ out: String, _ column: Int) -> Set<Int> {
            Set(out.split(separator: "\n").dropFirst().map { line in
                line.split(separator: " ", omittingEmptySubsequences: true)[column].count
            })
        }
        // Expired points are gone from the repository once expire ran: still shown as wide.
        var r = cli.run("expire")
        #expect(r.out.contains("expired  "), "\(r.out)")
        #expect(r.status == 0 && idColumn(r.out.split(separator: "\n").dropLast().joined(separator: "\n"), 1).count == 1, "\(r.out)")
        r = cli.run("sessions")
        let widths = Set(r.out.split(separator: "\n").dropFirst().compactMap { line -> Int? in
            let cells = line.split(separator: " ", omittingEmptySubsequences: true)
            return cells.count > 7 && cells[7] != "points" && cells[6].allSatisfy(\.isHexDigit) ? cells[6].count : nil
        })
        #expect(widths.count == 1, "\(r.out)")
    }

    // MARK: Global options

    @Test func globalOptionsMayComeBeforeTheCommand() throws {
        let s = Scratch()
        let repo = s.path + "/repo"
        func run(_ args: [String]) -> (status: Int32, out: String, err: String) {
            let captured = Output(capture: true)
            let saved = Output.current
            Output.current = captured
            defer { Output.current = saved }
            let status = SnapdexCommand.runMain(args)
            captured.flush()
            return (status, captured.capturedText, captured.capturedErrorText)
        }
        var r = run(["-q", "--repo", repo, "init"])
        #expect(r.status == 0 && r.out.isEmpty && r.err.isEmpty, "\(r)")
        write(s.path + "/snap/f", "x")
        r = run(["--repo=\(repo)", "-v", "index", s.path + "/snap", "--source", "t", "--at", "2026-11-21"])
        #expect(r.status == 0 && r.err.contains("indexing"), "\(r)")
        r = run(["--repo", repo, "--utc", "points"])
        #expect(r.status == 0 && r.out.contains("+0000"), "\(r)")
        r = run(["--repo", repo, "-q", "source", "add", "u"])
        #expect(r.status == 0 && r.out.isEmpty, "\(r)")
        r = run(["--repo", repo, "source", "list"])
        #expect(r.out.contains("u"), "\(r)")
        r = run(["--repo", repo, "-v", "ls", "t@latest"])
        #expect(r.status == 0 && r.out.contains("f"), "\(r)")
        r = run(["-vq", "--repo", repo, "points"])
        #expect(r.status == 2 && r.err.contains("contradict"), "\(r)")
        r = run(["--repo", repo, "--utc", "help", "points"])
        #expect(r.status == 0 && r.out.contains("USAGE"), "\(r)")
        r = run(["-v", "--help"])
        #expect(r.status == 0 && r.out.contains("USAGE"), "\(r)")
        // Without a command, one line that says so (and its advice works).
        r = run(["--repo", repo, "nosuch"])
        #expect(r.status == 2 && r.err.contains("no command named 'nosuch'") && Self.oneLine(r), "\(r)")
        r = run(["--utc"])
        #expect(r.status == 2 && r.err.contains("name a command after --utc") && Self.oneLine(r), "\(r)")
        let advice = try #require(Self.advice(r.err))
        #expect(run(advice + ["--repo", repo]).status == 0, "\(advice)")
        r = run(["--repo"])
        #expect(r.status == 2 && r.err.contains("--repo needs a directory"), "\(r)")
    }

    // MARK: Output people read

    @Test func quietIndexInitAndSourceAddPrintNothingButErrors() throws {
        let s = Scratch()
        for day in ["2026-11-01", "2026-11-02"] { write(s.path + "/snaps/\(day)/f", day) }
        let cli = CLI(repo: s.path + "/repo")
        for args in [["init", "-q"], ["source", "add", "home", "--snapshots", s.path + "/snaps", "-q"],
                     ["index", "--source", "home", "-q"], ["index", "--source", "home", "-q"]] {
            let r = cli.run(args)
            #expect(r.status == 0 && r.out.isEmpty && r.err.isEmpty, "\(args): \(r)")
        }
        let r = cli.run(["index", "--source", "nosuch", "-q"])
        #expect(r.status != 0 && r.out.isEmpty && !r.err.isEmpty, "\(r)")
    }

    @Test func aRunOfSeveralPointsPrintsALineEachAndATotal() throws {
        let s = Scratch()
        for day in ["2026-11-01", "2026-11-02", "2026-11-03"] { write(s.path + "/snaps/\(day)/f", day) }
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "home", "--snapshots", s.path + "/snaps"]).status == 0)
        let r = cli.run("index --source home")
        let lines = r.out.split(separator: "\n")
        #expect(r.status == 0 && lines.count == 4, "\(r.out)")
        #expect(lines.prefix(3).allSatisfy { $0.hasPrefix("indexed home@") && $0.contains(": 1 entry, ") }, "\(r.out)")
        #expect(lines.last?.hasPrefix("total: 3 points of home, 3 entries") == true, "\(r.out)")
    }

    @Test func theProgressLineEstimatesFromThePreviousIndex() {
        var p = ProgressLine(point: 2, points: 5, expected: 1000)
        let t = p.text(entries: 250, bytes: 2048, seconds: 1)
        #expect(t == "[2/5]  250 of ~1000 entries (25%)  250/s  2.0 KiB  ETA 0:03", "\(t)")
        p.expected = nil
        #expect(p.text(entries: 250, bytes: 0, seconds: 2) == "[2/5]  250 entries  125/s  0 B  2.0 s")
        p = ProgressLine(expected: 100)
        #expect(p.text(entries: 150, bytes: 0, seconds: 1) == "150 entries  150/s  0 B  1.0 s")
        #expect(ProgressLine.duration(3725) == "1:02:05" && ProgressLine.duration(59.2) == "1:00")
    }

    /// On a terminal (a pty made by script(1)) index draws the progress line on stderr; in a
    /// pipe it does not.
    @Test func progressIsDrawnOnlyOnATerminal() throws {
        guard let binary = Self.binary, FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { return }
        let s = Scratch()
        let repo = s.path + "/repo"
        for d in 0..<200 {
            Tree.make(s.path + "/snap/d\(d)")
            for i in 0..<100 { Tree.touch(s.path + "/snap/d\(d)/f\(i)") }
        }
        #expect(try runTool(binary, ["init", "--repo", repo]).status == 0)
        #expect(try runTool(binary, ["index", s.path + "/snap", "--source", "t", "--at", "2026-11-01", "--repo", repo]).status == 0)
        let piped = try runTool(binary, ["index", s.path + "/snap", "--source", "t", "--at", "2026-11-02", "--repo", repo])
        #expect(piped.status == 0 && !piped.out.contains("/s  ") && !piped.out.contains("\u{1B}[K"), "\(piped.out)")
        let command = "\(binary) index \(s.path)/snap --source t --at 2026-11-03 --repo \(repo)"
        let tty = try runTool("/usr/bin/script", ["-qec", command, "/dev/null"])
        #expect(tty.status == 0 && tty.out.contains("of ~20200 entries") && tty.out.contains("ETA"), "\(tty.out)")
    }

    @Test func findHasAHeaderAlignedColumnsHumanSizesAndIgnoreCase() throws {
        let s = Scratch()
        let cli = Self.twoDays(s)
        var r = cli.run("find budget*")
        #expect(r.status == 0 && r.out.isEmpty, "\(r.out)")
        r = cli.run("find budget* -i")
        let lines = r.out.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(r.out)")
        #expect(lines[0].hasPrefix("ID") && lines[0].contains("SOURCE") && lines[0].contains("SIZE") && lines[0].hasSuffix("PATH"))
        // Every row's path starts in the header's PATH column.
        let column = lines[0].count - 4
        #expect(lines.dropFirst().allSatisfy { String($0.dropFirst(column)) == "/alice/Budget.xlsx" }, "\(r.out)")
        #expect(lines[1].contains("17 B") && lines[1].contains("home"), "\(r.out)")
        r = cli.run(["find", "^/ALICE/b.*x$", "--regex", "--path", "--ignore-case", "--json"])
        #expect(r.out.split(separator: "\n").count == 2 && r.out.contains("\"size\":17"), "\(r.out)")
        r = cli.run("find nothing-matches")
        #expect(r.status == 0 && r.out.isEmpty)
    }

    @Test func sessionsAreOneReadableRowEachAndFilter() throws {
        let s = Scratch()
        let cli = Self.twoDays(s)
        #expect(cli.run(["restore", "home@latest", "/alice/new.txt", "/alice/notes.txt", "--to", s.path + "/out"]).status == 0)
        #expect(cli.run(["restore", "home@latest", "/alice/nope", "--to", s.path + "/out"]).status == 1)
        #expect(cli.run(["source", "add", "web"]).status == 0)
        write(s.path + "/web/x", "x")
        #expect(cli.run(["index", s.path + "/web", "--source", "web", "--at", "2026-11-05"]).status == 0)
        write(s.path + "/snaps/2026-11-02/alice/new.txt", "changed since")
        #expect(cli.run(["restore", "home@latest", "/alice", "--to", s.path + "/out2"]).status == 4)
        #expect(cli.run(["point", "keep", "home@latest", "--until", "never"]).status == 0)
        #expect(cli.run(["policy", "set", "home", "--keep-last", "1"]).status == 0)
        #expect(cli.run(["expire", "--source", "home"]).status == 0)

        var r = cli.run("sessions")
        var lines = r.out.split(separator: "\n").map(String.init)
        #expect(r.status == 0 && lines.first?.hasPrefix("STARTED") == true, "\(r.out)")
        #expect(lines.allSatisfy { $0.count < 160 }, "\(r.out)")
        let restore = try #require(lines.first { $0.contains(" restore ") })
        #expect(restore.contains("to \(s.path)/out") && restore.contains("/alice/new.txt /alice/notes.txt") && restore.contains(" home "), "\(restore)")
        #expect(restore.contains("+0") || restore.contains("-0"), "times show their zone: \(restore)")

        r = cli.run("sessions --kind restore")
        lines = r.out.split(separator: "\n").map(String.init)
        #expect(lines.count == 3 && lines.dropFirst().allSatisfy { $0.contains(" restore ") }, "\(r.out)")
        r = cli.run("sessions --source web")
        lines = r.out.split(separator: "\n").map(String.init)
        #expect(lines.count == 2 && lines[1].contains(" web "), "\(r.out)")
        r = cli.run("sessions --failed")
        lines = r.out.split(separator: "\n").map(String.init)
        #expect(lines.count == 2 && lines[1].contains(" partial ") && lines[1].contains("failed=1"), "\(r.out)")
        r = cli.run("sessions --last 1")
        lines = r.out.split(separator: "\n").map(String.init)
        #expect(lines.count == 2 && lines[1].contains(" expire ") && lines[1].contains(" home "), "\(r.out)")
        r = cli.run("sessions --since 2000-01-01 --kind index")
        #expect(r.out.split(separator: "\n").count == 4, "\(r.out)")
        r = cli.run("sessions --since 2200-01-01")
        #expect(r.status == 0 && r.out == "no sessions match\n", "\(r.out)")
        r = cli.run("sessions --kind nosuch")
        #expect(r.status == 2 && Self.oneLine(r), "\(r.err)")
        r = cli.run("sessions --kind restore --json")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.out.split(separator: "\n")[0].utf8)) as? [String: Any])
        #expect(o["target"] as? String == s.path + "/out" && o["paths"] as? [String] == ["/alice/new.txt", "/alice/notes.txt"])
        #expect(o["source"] as? String == "home")
    }

    @Test func versionsShowADifferenceBelowASecond() throws {
        let s = Scratch()
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        write(s.path + "/snap/f", "a")
        for (i, nanos) in [100, 200].enumerated() {
            var times = [timespec(tv_sec: 1_700_000_000, tv_nsec: nanos), timespec(tv_sec: 1_700_000_000, tv_nsec: nanos)]
            #expect(utimensat(AT_FDCWD, s.path + "/snap/f", &times, 0) == 0)
            #expect(cli.run(["index", s.path + "/snap", "--source", "t", "--at", "2026-11-0\(i + 1)"]).status == 0)
        }
        let r = cli.run("versions t /f")
        let rows = r.out.split(separator: "\n").dropFirst().map(String.init)
        #expect(rows.count == 2, "\(r.out)")
        #expect(rows[0].contains(".000000100 ") && rows[1].contains(".000000200 "), "\(r.out)")
        #expect(!CLITests.versionsDifferBelowASecond(["2026-11-01T00:00:00Z", "2026-11-01T00:00:01Z"]))
    }

    static func versionsDifferBelowASecond(_ times: [String]) -> Bool {
        VersionsCommand.differBelowASecond(times.map { FileTime(try! TimeParser.read($0)) })
    }

    /// One rule: local time with the zone's offset (TZ), or UTC with --utc, in every listing.
    /// A process, because TZ is process-wide.
    @Test func timesShowTheirZoneEverywhereAndUTCOnAsk() throws {
        guard let binary = Self.binary else { return }
        guard FileManager.default.fileExists(atPath: "/usr/share/zoneinfo/Asia/Kolkata") else { return }
        let s = Scratch()
        let repo = s.path + "/repo"
        write(s.path + "/snap/alice/f.txt", "f")
        var mt = [timespec(tv_sec: 1_795_000_000, tv_nsec: 0), timespec(tv_sec: 1_795_000_000, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, s.path + "/snap/alice/f.txt", &mt, 0) == 0)
        let kolkata = ["TZ=Asia/Kolkata", binary]
        func run(_ args: [String]) throws -> String {
            let r = try runTool("/usr/bin/env", kolkata + args + ["--repo", repo])
            #expect(r.status == 0, "\(args): \(r.out)")
            return r.out
        }
        _ = try run(["init"])
        _ = try run(["index", s.path + "/snap", "--source", "home", "--at", "2026-11-21T03:00:00+05:30"])
        let pointTime = "2026-11-21 03:00:00 +0530"
        let mtime = "2026-11-18 16:36:40 +0530"  // 1795000000 in Kolkata
        #expect(try run(["points"]).contains(pointTime))
        let found = try run(["find", "f.txt"])
        #expect(found.contains(pointTime) && found.contains(mtime), "\(found)")
        let info = try run(["info", "home@latest", "/alice/f.txt"])
        #expect(info.contains(mtime.replacingOccurrences(of: ":40 ", with: ":40.000000000 ")) && info.contains(pointTime), "\(info)")
        #expect(try run(["versions", "home", "/alice/f.txt"]).contains(pointTime))
        #expect(try run(["sessions"]).contains("+0530"))
        #expect(try run(["ls", "home@latest", "/alice", "-l"]).contains("2026-11-18 16:36 "))
        let utc = try run(["--utc", "points"])
        #expect(utc.contains("2026-11-20 21:30:00 +0000"), "\(utc)")
        #expect(try run(["find", "f.txt", "--utc"]).contains("2026-11-18 11:06:40 +0000"))
        // index names the point as a reference in the same zone, which reads back.
        let indexed = try run(["index", s.path + "/snap", "--source", "home", "--at", "2026-11-22T03:00:00+05:30"])
        #expect(indexed.hasPrefix("indexed home@2026-11-22T03:00:00+05:30 as "), "\(indexed)")
        #expect(try run(["ls", "home@2026-11-22T03:00:00+05:30", "/alice"]).contains("f.txt"))
        #expect(try run(["--utc", "index", s.path + "/snap", "--source", "home", "--at", "2026-11-23"]).hasPrefix("indexed home@2026-11-22T18:30:00Z as "))
        // JSON keeps RFC 3339 UTC whatever the zone.
        #expect(try run(["points", "--json"]).contains("\"time\":\"2026-11-20T21:30:00Z\""))
        #expect(TimeDisplay.offsetText(19800) == "+0530" && TimeDisplay.offsetText(-28800) == "-0800" && TimeDisplay.offsetText(0) == "+0000")
    }

    // MARK: JSON

    @Test func diffJSONHasFieldsOnlyOnChangedEntries() throws {
        let s = Scratch()
        let cli = Self.twoDays(s)
        let r = cli.run("diff home@2026-11-01 home@latest --json")
        for line in r.out.split(separator: "\n") {
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect((o["fields"] != nil) == (o["change"] as? String == "changed"), "\(line)")
        }
        #expect(r.out.contains("\"change\":\"added\"") && r.out.contains("\"change\":\"changed\""))
    }

    @Test func restoreJSONIsPerEntryAndNeverDroppedByTarToStandardOutput() throws {
        let s = Scratch()
        let cli = Self.twoDays(s)
        var r = cli.run(["restore", "home@latest", "/alice", "--to", s.path + "/out", "--json"])
        let lines = r.out.split(separator: "\n")
        #expect(r.status == 0 && lines.count == 5, "\(r.out)")  // alice, 3 files, summary
        #expect(lines.dropLast().allSatisfy { $0.contains("\"action\":\"create\"") || $0.contains("\"action\":\"merge\"") }, "\(r.out)")
        r = cli.run(["restore", "home@latest", "/alice", "--tar", "-", "--json"])
        #expect(r.status == 2 && r.err.contains("--tar FILE") && r.out.isEmpty && Self.oneLine(r), "\(r.err)")
    }
}

/// docs/JSON.md is the reference for every --json field: its sections are read here and each
/// command's objects are checked against them, so docs and output cannot disagree.
extension CLITests {
    /// The fields a section of docs/JSON.md documents: `all` (any may appear) and `required`
    /// (table fields not marked "only for" and not `_b64`: each must appear in some object).
    struct DocumentedFields {
        var all: Set<String> = []
        var required: Set<String> = []
    }

    /// Section commands (`ls`, `find`, `source list`, ...) to their documented fields.
    static func jsonDocs() throws -> [String: DocumentedFields] {
        let file = packageRoot.appendingPathComponent("docs/JSON.md")
        let text = try String(contentsOf: file, encoding: .utf8)
        var sections: [String: DocumentedFields] = [:]
        var current: [String] = []
        var fields = DocumentedFields()
        var inCode = false
        func close() { for c in current { sections[c] = fields } }
        func codeNames(_ line: Substring) -> [String] {
            line.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                inCode.toggle()
                continue
            }
            if inCode { continue }
            if line.hasPrefix("## ") {
                close()
                current = codeNames(line).map { $0.replacingOccurrences(of: " --json", with: "") }
                fields = DocumentedFields()
                continue
            }
            if line.hasPrefix("| ") {
                let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
                guard cells.count >= 2, cells[0] != "field" else { continue }
                let optional = cells[1].hasPrefix("only for")
                for name in cells[0].split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                    fields.all.insert(name)
                    if !optional && !name.hasSuffix("_b64") { fields.required.insert(name) }
                }
            } else if !current.isEmpty {
                for name in codeNames(line) where name.allSatisfy({ $0.isLowercase || $0 == "_" }) { fields.all.insert(name) }
            }
        }
        close()
        // find: "an entry object without ctime, nlink, inode and directory totals", plus its table.
        if let entry = sections["ls"], var find = sections["find"] {
            let left = Set(["ctime", "nlink", "inode", "children", "tree_files", "tree_bytes"])
            find.all.formUnion(entry.all.subtracting(left))
            find.required.formUnion(entry.required.subtracting(left))
            sections["find"] = find
        }
        return sections
    }

    @Test func jsonOutputMatchesJSONDocs() throws {
        let docs = try Self.jsonDocs()
        let s = Scratch()
        for day in ["2026-11-01", "2026-11-02"] {
            write(s.path + "/snaps/\(day)/docs/a.txt", "a \(day)")
            write(s.path + "/snaps/\(day)/docs/b.txt", "b")
        }
        symlink("a.txt", s.path + "/snaps/2026-11-02/docs/link")
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "home", "--snapshots", s.path + "/snaps"]).status == 0)
        let commands: [(String, [String])] = [
            ("index", ["index", "--source", "home", "--hash", "--json"]),
            ("points", ["points", "--json"]),
            ("source list", ["source", "list", "--json"]),
            ("ls", ["ls", "home@latest", "/", "-R", "--json"]),
            ("info", ["info", "home@latest", "/docs/a.txt", "--json"]),
            ("find", ["find", "*", "--json"]),
            ("versions", ["versions", "home", "/docs/a.txt", "--json"]),
            ("diff", ["diff", "home@2026-11-01", "home@latest", "--json"]),
            ("restore", ["restore", "home@latest", "/docs", "--to", s.path + "/out", "--json"]),
            ("expire", ["expire", "--dry-run", "--json"]),
            ("copy", ["copy", "--to", s.path + "/offsite", "--json"]),
            ("sessions", ["sessions", "--json"]),
        ]
        for (name, args) in commands {
            let documented = try #require(docs[name], "docs/JSON.md has no section for \(name)")
            let r = cli.run(args)
            #expect(r.status == 0, "\(name): \(r.err)")
            var seen: Set<String> = []
            for line in r.out.split(separator: "\n") {
                let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                seen.formUnion(o.keys)
                // diff's old and new are entries "as in find".
                for k in ["old", "new"] where name == "diff" {
                    if let nested = o[k] as? [String: Any] {
                        let extra = Set(nested.keys).subtracting(docs["find"]?.all ?? [])
                        #expect(extra.isEmpty, "diff.\(k): fields missing from docs/JSON.md: \(extra.sorted())")
                    }
                }
            }
            let undocumented = seen.subtracting(documented.all)
            #expect(undocumented.isEmpty, "\(name) --json prints fields docs/JSON.md does not list: \(undocumented.sorted())")
            let missing = documented.required.subtracting(seen)
            #expect(missing.isEmpty, "docs/JSON.md lists \(name) fields it never printed: \(missing.sorted())")
        }
    }
}
