import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Defects a hostile review found in indexing and the session log.
extension CLITests {
    /// Symlinks in a snapshots folder are skipped with a warning, never followed; an empty
    /// snapshot folder is skipped with a warning; every warning printed is counted.
    @Test func symlinksAndEmptyFoldersAreSkippedAndCounted() throws {
        let s = Scratch()
        write(s.path + "/snaps/2026-11-20/f", "a")
        write(s.path + "/snaps/nightly/f", "b")
        setMTime(s.path + "/snaps/nightly", 1_763_000_000)
        Tree.make(s.path + "/snaps/2026-11-22")
        symlink("/etc", s.path + "/snaps/2026-11-21")
        symlink("2026-11-20", s.path + "/snaps/latest")
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "u", "--snapshots", s.path + "/snaps"]).status == 0)
        let r = cli.run("index --source u")
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("\(s.path)/snaps/2026-11-21 is a symlink, not a snapshot: skipped"), "\(r.err)")
        #expect(r.err.contains("\(s.path)/snaps/latest is a symlink"), "\(r.err)")
        #expect(r.err.contains("\(s.path)/snaps/2026-11-22 is empty: skipped"), "\(r.err)")
        let times = pointTimes(cli, source: "u")
        #expect(Set(times.keys) == [s.path + "/snaps/2026-11-20", s.path + "/snaps/nightly"], "\(times)")
        // Two skipped symlinks, one empty folder and one guessed time: 4 warnings printed.
        #expect(r.out.contains("total: 2 points of u"), "\(r.out)")
        #expect(r.out.contains("4 warnings"), "\(r.out)")
        // The advice for the empty folder works as printed.
        let advice = try #require(r.err.split(separator: "`").dropFirst().first.map(String.init))
        #expect(advice == "snapdex --repo \(cli.repo) index \(s.path)/snaps/2026-11-22 --source u --allow-empty")
        let plain = cli.run(Array(advice.split(separator: " ").dropFirst(3).dropLast().map(String.init)))
        #expect(plain.status == 1 && plain.err.contains("is empty, so it is not indexed"), "\(plain.err)")
        let allowed = cli.run(Array(advice.split(separator: " ").dropFirst(3).map(String.init)))
        #expect(allowed.status == 0, "\(allowed.err)")
        #expect(pointTimes(cli, source: "u").count == 3)
    }

    /// A single DIR whose time is guessed: the summary counts that warning.
    @Test func guessedTimeIsCountedForOneDirectory() {
        let s = Scratch()
        write(s.path + "/nightly.0/f", "a")
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        let r = cli.run(["index", s.path + "/nightly.0", "--source", "u"])
        #expect(r.status == 0 && r.err.contains("warning"), "\(r.err)")
        #expect(r.out.contains("1 warning"), "\(r.out)")
    }

    /// `index --source S --json` with nothing to index prints a JSON object, never plain text.
    @Test func indexJSONWithNothingToIndexIsJSON() throws {
        let s = Scratch()
        write(s.path + "/snaps/2026-11-20/f", "a")
        let cli = Self.indexedSource(s, "u", snapshots: s.path + "/snaps")
        let r = cli.run("index --source u --json")
        #expect(r.status == 0, "\(r.err)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any], "\(r.out)")
        #expect(o["indexed"] as? Int == 0)
        #expect(o["source"] as? String == "u")
        #expect((o["message"] as? String)?.hasPrefix("nothing to index") == true)
    }

    /// A torn last line of sessions.jsonl stays one unreadable line: the next record survives.
    @Test func tornSessionLineDoesNotSwallowTheNext() throws {
        let s = Scratch()
        write(s.path + "/snaps/2026-11-20/f", "a")
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "u", "--snapshots", s.path + "/snaps"]).status == 0)
        let fd = open(s.path + "/repo/sessions.jsonl", O_WRONLY | O_APPEND | O_CREAT, 0o600)
        _ = "{\"broken".withCString { Glibc.write(fd, $0, 8) }
        close(fd)
        #expect(cli.run("index --source u").status == 0)
        let log = try Repository.open(at: s.path + "/repo").sessionLog()
        #expect(log.unreadable == 1)
        #expect(log.sessions.contains { $0.kind == "index" }, "\(log.sessions.map(\.kind))")
    }
}

extension CLITests {
    /// Two points at one instant (sanoid's daily and hourly): SOURCE@TIME naming both is refused
    /// listing each id, each id works as printed, and @latest agrees with find --latest-only.
    @Test func aTimeSharedByTwoPointsIsRefused() throws {
        let s = Scratch()
        write(s.path + "/snaps/autosnap_2026-11-21_03:00:01_daily/f", "daily")
        write(s.path + "/snaps/autosnap_2026-11-21_03:00:01_hourly/f", "hourly")
        let cli = Self.indexedSource(s, "u", snapshots: s.path + "/snaps")
        for command in [["ls", "u@2026-11-21T03:00:01Z", "/"], ["forget", "u@2026-11-21T03:00:01Z"]] {
            let r = cli.run(command)
            #expect(r.status == 2, "\(command) \(r.out) \(r.err)")
            #expect(r.err.contains("names 2 restore points with the same time"), "\(r.err)")
        }
        #expect(pointTimes(cli, source: "u").count == 2, "nothing was forgotten")
        let refused = cli.run(["forget", "u@2026-11-21T03:00:01Z"]).err
        let ids = try #require(refused.split(separator: "(").dropFirst().first?.split(separator: ")").first)
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(ids.count == 2, "\(refused)")
        // @latest and find --latest-only pick the same one of the two.
        let latest = cli.run("cat u@latest /f").out
        let found = cli.run("find f --latest-only --json").out
        #expect(["daily", "hourly"].contains(latest), "\(latest)")
        #expect(found.contains("\"size\":\(latest.utf8.count),"), "\(found) \(latest)")
        // Each id listed works as printed.
        #expect(cli.run(["forget", ids[0]]).status == 0)
        #expect(cli.run(["ls", "u@2026-11-21T03:00:01Z", "/"]).status == 0)
    }

    /// A held point is not forgotten or purged: refused naming the hold, the release works as
    /// printed, and --force removes it anyway.
    @Test func heldPointsAreNotForgotten() throws {
        let s = Scratch()
        write(s.path + "/snaps/2026-11-20/f", "a")
        write(s.path + "/snaps/2026-11-21/f", "b")
        let cli = Self.indexedSource(s, "u", snapshots: s.path + "/snaps")
        #expect(cli.run("point keep u@2026-11-20 --until never").status == 0)
        #expect(cli.run("point keep u@2026-11-21 --until 2200-01-01").status == 0)
        let forget = cli.run("forget u@2026-11-20T00:00:00Z")
        #expect(forget.status == 1, "\(forget.out) \(forget.err)")
        #expect(forget.err.contains("is held (kept until never)"), "\(forget.err)")
        let purge = cli.run("source remove u --purge")
        #expect(purge.status == 1 && purge.err.contains("2 points"), "\(purge.err)")
        #expect(pointTimes(cli, source: "u").count == 2)
        let advice = try #require(forget.err.split(separator: "`").dropFirst().first.map(String.init))
        #expect(advice.hasPrefix("snapdex --repo \(cli.repo) point keep ") && advice.hasSuffix(" --release"), "\(advice)")
        #expect(cli.run(Array(advice.split(separator: " ").dropFirst(3).map(String.init))).status == 0)
        #expect(cli.run("forget u@2026-11-20T00:00:00Z").status == 0)
        #expect(cli.run("source remove u --purge").status == 1, "the other point is still held")
        #expect(cli.run("source remove u --purge --force").status == 0)
        #expect(pointTimes(cli, source: "u").isEmpty)
    }
}

extension CLITests {
    /// A partial point is indexed again by `index --source S --replace`, as the man page
    /// advises, by a user who can read what it lacks; the point keeps its time and is whole.
    @Test func replaceIndexesPartialPointsAgain() throws {
        let s = Scratch()
        chmod(s.path, 0o755)
        let repo = s.path + "/repo"
        write(s.path + "/snaps/2026-11-21/ok/a", "a")
        write(s.path + "/snaps/2026-11-21/secret/b", "b")
        chmod(s.path + "/snaps/2026-11-21/secret", 0)
        defer { chmod(s.path + "/snaps/2026-11-21/secret", 0o755) }
        guard try Self.initUnprivileged(repo) else { return }
        #expect(try Self.runUnprivileged(["source", "add", "u", "--snapshots", s.path + "/snaps", "--repo", repo])?.status == 0)
        let partial = try #require(try Self.runUnprivileged(["index", "--source", "u", "--repo", repo]))
        #expect(partial.status == ExitStatus.partial, "\(partial.out)")
        if getuid() != 0 { chmod(s.path + "/snaps/2026-11-21/secret", 0o755) }
        let cli = CLI(repo: repo)
        // The advice of `index --help`, run as printed.
        let again = cli.run("index --source u --replace")
        #expect(again.status == 0, "\(again.out) \(again.err)")
        #expect(again.out.contains("indexed u@") && again.out.contains("replaced index"), "\(again.out)")
        let json = cli.run("points --source u --json").out.split(separator: "\n")
        #expect(json.count == 1 && json[0].contains("\"status\":\"ok\""), "\(json)")
        #expect(cli.run("index --source u --replace").out.contains("nothing to index"), "a whole point is not indexed again")
    }
}

extension CLITests {
    /// Root writing into a repository another user owns gives new files that owner; a manifest
    /// the user still cannot read (written 0600 by root before) is a permission error (exit 1,
    /// one line), never damage nor `forget` advice, and rescan refuses rather than drop it.
    @Test func unreadableManifestsArePermissionErrorsNotDamage() throws {
        guard getuid() == 0 else { return }  // only root can write as another user
        let s = Scratch()
        chmod(s.path, 0o755)
        let repo = s.path + "/repo"
        write(s.path + "/snaps/2026-11-21/a", "a")
        guard try Self.initUnprivileged(repo) else { return }
        #expect(try Self.runUnprivileged(["source", "add", "u", "--snapshots", s.path + "/snaps", "--repo", repo])?.status == 0)
        #expect(try Self.runUnprivileged(["index", "--source", "u", "--repo", repo])?.status == 0)
        let cli = CLI(repo: repo)
        let replaced = cli.run(["index", s.path + "/snaps/2026-11-21", "--source", "u", "--replace"])
        #expect(replaced.status == 0, "\(replaced.err)")
        // Everything root made belongs to the repository's owner.
        let all = FileManager.default.enumerator(atPath: repo)!.allObjects as! [String]
        for name in all {
            var st = stat()
            lstat(repo + "/" + name, &st)
            #expect(st.st_uid == Self.nobody, "\(name) is owned by \(st.st_uid)")
        }
        #expect(try Self.runUnprivileged(["verify", "--repo", repo])?.status == 0)

        // A manifest root wrote 0600 for itself (as older versions did).
        let manifest = try #require(all.first { $0.hasSuffix(".manifest") })
        chown(repo + "/" + manifest, 0, 0)
        chmod(repo + "/" + manifest, 0o600)
        for args in [["ls", "u@latest", "/"], ["verify"], ["rescan"]] {
            let r = try #require(try Self.runUnprivileged(args + ["--repo", repo]))
            #expect(r.status == ExitStatus.failure, "\(args): \(r.out)")
            #expect(r.out.contains("cannot read \(repo)/\(manifest): permission denied; run snapdex as the user that owns \(repo)"), "\(args): \(r.out)")
            #expect(!r.out.contains("damage") && !r.out.contains("forget"), "\(args): \(r.out)")
        }
        let points = try #require(try Self.runUnprivileged(["points", "--json", "--repo", repo]))
        #expect(points.out.contains("\"source\":\"u\""), "the point is still there: \(points.out)")
        #expect(cli.run("points --json").out.contains("\"source\":\"u\""))
    }

    /// Another user's repository was "no repository ... `snapdex init`" (which then failed) or
    /// "config is damaged (missing)" with exit 3 from every command, verify included.
    @Test func anotherUsersRepositoryIsPermissionDeniedNotMissingOrDamaged() throws {
        guard getuid() == 0 else { return }  // only root can make a repository nobody cannot read
        let s = Scratch()
        chmod(s.path, 0o755)
        let repo = s.path + "/repo"
        write(s.path + "/snaps/2026-11-21/a", "a")
        let cli = CLI(repo: repo)
        #expect(cli.run("init").status == 0)
        chmod(repo, 0o700)
        for args in [["points"], ["verify"]] {
            let r = try #require(try Self.runUnprivileged(args + ["--repo", repo]), "snapdex is not built in .build/debug")
            #expect(r.status == ExitStatus.failure, "\(args): \(r.out)")
            #expect(r.out.contains("cannot read \(repo): permission denied; run snapdex as the user that owns \(repo)"), "\(args): \(r.out)")
        }
        let again = try #require(try Self.runUnprivileged(["init", "--repo", repo]))
        #expect(again.status == ExitStatus.failure && again.out.contains("ermission denied"), "\(again.out)")
        chmod(repo, 0o755)
        chmod(repo + "/config", 0o600)
        for args in [["points"], ["verify"]] {
            let r = try #require(try Self.runUnprivileged(args + ["--repo", repo]))
            #expect(r.status == ExitStatus.failure, "\(args): \(r.out)")
            #expect(r.out.contains("cannot read \(repo)/config: permission denied") && !r.out.contains("damaged"), "\(args): \(r.out)")
        }
    }
}

extension CLITests {
    /// Root writing into another user's repository followed `REPO/lock` and
    /// `REPO/sessions.jsonl` when that user made them symlinks: it truncated or appended to
    /// the file they named and gave it to the user (any root file, /etc/shadow too).
    @Test func rootNeverFollowsOrChownsWhatAnotherUsersRepositoryPointsAt() throws {
        guard getuid() == 0 else { return }  // only root can write as another user
        let s = Scratch()
        chmod(s.path, 0o755)
        let repo = s.path + "/repo"
        write(s.path + "/snaps/2026-11-21/a", "a")
        write(s.path + "/snaps/2026-11-22/a", "b")
        guard try Self.initUnprivileged(repo) else { return }
        #expect(try Self.runUnprivileged(["source", "add", "u", "--snapshots", s.path + "/snaps", "--repo", repo])?.status == 0)
        #expect(try Self.runUnprivileged(["index", "--source", "u", "--repo", repo])?.status == 0)
        let cli = CLI(repo: repo)
        func rootFile(_ name: String) -> String {
            let path = s.path + "/" + name
            write(path, "precious")
            chmod(path, 0o600)
            return path
        }
        func untouched(_ path: String, _ what: String) {
            var st = stat()
            lstat(path, &st)
            #expect(st.st_uid == 0, "\(what): the file it named now belongs to \(st.st_uid)")
            #expect((try? String(contentsOfFile: path, encoding: .utf8)) == "precious", "\(what): the file it named was written")
        }
        let victim = rootFile("victim-lock")
        unlink(repo + "/lock")
        symlink(victim, repo + "/lock")
        let gc = cli.run("gc")
        #expect(gc.status != 0, "a symlinked lock is not used: \(gc.out)")
        untouched(victim, "gc with REPO/lock a symlink")
        unlink(repo + "/lock")

        let log = rootFile("victim-sessions")
        unlink(repo + "/sessions.jsonl")
        symlink(log, repo + "/sessions.jsonl")
        _ = cli.run("forget u@2026-11-21")
        untouched(log, "forget with REPO/sessions.jsonl a symlink")

        // A hard link to a root file keeps its owner too (where the kernel lets one be made).
        unlink(repo + "/sessions.jsonl")
        let linked = rootFile("victim-hardlink")
        if link(linked, repo + "/sessions.jsonl") == 0 {
            _ = cli.run("forget u@2026-11-22")
            var st = stat()
            lstat(linked, &st)
            #expect(st.st_uid == 0, "a hard-linked session log was given to \(st.st_uid)")
        }
    }
}

extension CLITests {
    /// `find --regex`: `.` did not match a newline, so a catch-all expression silently left out
    /// names holding one (which the glob `*` matches).
    @Test func aRegexDotMatchesANewlineInANameAsAGlobDoes() throws {
        let s = Scratch()
        write(s.path + "/snaps/2026-11-01/plain", "a")
        write(s.path + "/snaps/2026-11-01/odd\nname", "b")
        let cli = Self.indexedSource(s, "s", snapshots: s.path + "/snaps")
        let lines = { (args: [String]) in cli.run(args).out.split(separator: "\n").count }
        #expect(lines(["find", "*", "--json"]) == 2)
        #expect(lines(["find", "^/.*$", "--regex", "--path", "--json"]) == 2)
        #expect(lines(["find", "odd.name", "--regex", "--json"]) == 1)
    }
}

extension CLITests {
    /// verify's own line for a lost block said "...is missing; run `snapdex verify` to see
    /// which points it affects; affects points: ..." (a reader's advice pasted into verify).
    @Test func verifyNamesAProblemBlockWithoutAdvisingVerify() throws {
        let s = Scratch()
        write(s.path + "/snaps/2026-11-01/f", "data")
        let cli = Self.indexedSource(s, "s", snapshots: s.path + "/snaps")
        let blocks = FileManager.default.enumerator(atPath: s.path + "/repo/blocks")!.allObjects as! [String]
        let file = try #require(blocks.first { $0.count > 3 })
        unlink(s.path + "/repo/blocks/" + file)
        let r = cli.run("verify")
        #expect(r.status == ExitStatus.damaged)
        let hash = String(file.split(separator: "/").last!)
        #expect(r.out.contains("damaged block \(hash): missing; affects points: "), "\(r.out)")
        #expect(!r.out.contains("run `snapdex verify`"), "\(r.out)")
    }
}

extension CLITests {
    /// A browse script that met a damaged block exited 1, as for a mistyped command; damage is
    /// exit 3 in browse as in every other command.
    @Test func aBrowseScriptThatMeetsDamageExitsThree() throws {
        let s = Scratch()
        for i in 1...50 { write(s.path + "/snaps/2026-11-01/f\(i)", "\(i)") }
        let repo = s.path + "/repo"
        _ = Self.indexedSource(s, "s", snapshots: s.path + "/snaps")
        let binary = packageRoot.appendingPathComponent(".build/debug/snapdex").path
        let browse = { (script: String) in try runTool(binary, ["browse", "s@latest", "--repo", repo], stdin: script) }
        #expect(try browse("nosuchcmd\n").status == ExitStatus.failure)
        for file in FileManager.default.enumerator(atPath: repo + "/blocks")!.allObjects as! [String] where file.count > 3 {
            try Self.flip(repo + "/blocks/" + file) { $0 / 2 }
        }
        let damaged = try browse("ls\nnosuchcmd\n")
        #expect(damaged.status == ExitStatus.damaged, "\(damaged.out)")
    }
}

extension CLITests {
    /// A names-filters file with a valid checksum but wrong filters hid every hit from find,
    /// and verify said "no damage found" and left it: verify checks each filter now.
    @Test func verifyRemovesNamesFiltersThatHideHits() throws {
        let s = Scratch()
        for i in 1...20 { write(s.path + "/snaps/2026-11-01/budget\(i).xlsx", "\(i)") }
        let cli = Self.indexedSource(s, "s", snapshots: s.path + "/snaps")
        #expect(cli.run("find budget7.xlsx --json").out.split(separator: "\n").count == 1)
        let path = s.path + "/repo/names-filters"
        var filters = try NamesFilterFile.load(path)
        #expect(filters.count == 1)
        for (k, f) in filters { filters[k] = NamesFilter(names: f.names.map { _ in 0 }, trigrams: f.trigrams.map { _ in 0 }) }
        try FileIO.writeAtomically(path, NamesFilterFile.encode(filters), durable: false)
        #expect(cli.run("find budget7.xlsx --json").out.isEmpty, "the forged filters hide the hit")
        let v = cli.run("verify")
        #expect(v.status == 0 && v.err.contains("1 filter(s) in find's cache names-filters did not match"), "\(v.err)")
        #expect(!FileIO.exists(path))
        #expect(cli.run("find budget7.xlsx --json").out.split(separator: "\n").count == 1)
        #expect(cli.run("verify").err.isEmpty, "the rebuilt filters are right")
    }
}
