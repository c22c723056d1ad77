import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Review 10: symbolic links where the repository has folders, a killed init, a damaged
/// journal beside a damaged database, and a damaged source.json: none may delete anything
/// outside the repository, and each piece of advice, followed as printed, leads to a
/// repository that works.
extension CLITests {
    /// Every file in `folder`, with its contents.
    static func contents(_ folder: String) -> [String: Data] {
        var out: [String: Data] = [:]
        for n in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            out[n] = FileManager.default.contents(atPath: folder + "/" + n)
        }
        return out
    }

    /// A folder of someone's files that look like a repository's: block names, their .tmp
    /// twins, drafts, a manifest name.
    static func decoyFolder(_ path: String) {
        let hex = String(repeating: "0", count: 62)
        for name in ["aa" + hex, "aa" + hex + ".tmp", "notes.tmp", "report.txt", "0123456789abcdef0123456789abcdef.manifest.tmp"] {
            write(path + "/" + name, "mine")
        }
    }

    @Test(arguments: ["blocks/XX", "catalogs/evil", "archive"])
    func noWriterFollowsASymbolicLinkOutOfTheRepository(folder named: String) throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = s.path + "/repo"
        // A block folder name no block of this repository has.
        let hex = "0123456789abcdef".map(String.init)
        let free = hex.flatMap { a in hex.map { a + $0 } }.first { !FileManager.default.fileExists(atPath: repo + "/blocks/" + $0) }!
        let folder = named == "blocks/XX" ? "blocks/" + free : named
        let outside = s.path + "/outside"
        Self.decoyFolder(outside)
        let before = Self.contents(outside)
        let blocks = Self.blockFiles(repo)
        #expect(symlink(outside, repo + "/" + folder) == 0)

        for command in ["gc", "expire", "index --source home", "verify", "rescan", "copy --to \(s.path)/target"] {
            let r = cli.run(command)
            // (A reader's note may come first: a linked source folder has no source.json.)
            let last = r.err.split(separator: "\n").last.map(String.init) ?? ""
            #expect(r.status == 3 && last.hasPrefix("snapdex: \(repo)/\(folder) is a symbolic link, not a real folder"),
                    "\(command): \(r.status) \(r.err)")
            #expect(Self.contents(outside) == before, "\(command)")
        }
        #expect(Self.blockFiles(repo).subtracting(Self.contents(outside).keys) == blocks)

        // The advice, as printed: moved out of the repository, the link is harmless.
        #expect(rename(repo + "/" + folder, s.path + "/moved") == 0)
        #expect(cli.run("gc").status == 0)
        #expect(cli.run("verify").status == 0)
        #expect(cli.run("copy --to \(s.path)/target").status == 0)
        #expect(Self.contents(outside) == before)
    }

    /// A source folder moved elsewhere and linked back: `source remove --purge` and gc would
    /// delete through the link; they refuse, and putting the folder back is the fix.
    @Test func aSymbolicallyLinkedSourceFolderIsNeverDeletedThrough() throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = s.path + "/repo"
        #expect(rename(repo + "/catalogs/home", s.path + "/home") == 0)
        write(s.path + "/home/draft.tmp", "mine")
        #expect(symlink(s.path + "/home", repo + "/catalogs/home") == 0)
        let before = Self.contents(s.path + "/home")
        for command in ["source remove home --purge", "gc", "forget home@latest", "policy set home --keep-last 1 --apply-to-existing"] {
            let r = cli.run(command)
            #expect(r.status == 3 && r.err.contains("catalogs/home is a symbolic link, not a real folder"), "\(command): \(r.err)")
            #expect(Self.contents(s.path + "/home") == before, "\(command)")
        }
        // The advice, as printed: a real folder holding the files the link led to.
        #expect(unlink(repo + "/catalogs/home") == 0 && rename(s.path + "/home", repo + "/catalogs/home") == 0)
        #expect(cli.run("gc").status == 0)
        #expect(cli.run("verify").status == 0)
        #expect(cli.run("points").out.split(separator: "\n").count == 4)
    }

    /// What init leaves when it is killed at each moment before its config is in place:
    /// init (and copy) finish it, and every other command advises init.
    @Test func aKilledInitLeavesAFolderThatInitAndCopyFinish() throws {
        let steps = ["folder", "catalogs", "blocks", "snapdex.db", "torn snapdex.db", "lock", "config.tmp"]
        for (i, step) in steps.enumerated() {
            let s = Scratch()
            let root = s.path + "/r"
            mkdir(root, 0o700)
            for made in steps[...i] {
                switch made {
                case "catalogs", "blocks": mkdir(root + "/" + made, 0o700)
                case "snapdex.db": _ = try Schema.open(path: root + "/snapdex.db")
                case "torn snapdex.db": write(root + "/snapdex.db-journal", "torn")
                case "lock": write(root + "/lock", "")
                case "config.tmp": write(root + "/config.tmp", "{\"form")
                default: break
                }
            }
            let cli = CLI(repo: root)
            write(s.path + "/snaps/2026-11-01/f", "data")
            // Every other command: no repository yet, and its advice works as printed.
            let points = cli.run("points")
            #expect(points.status == 1 && points.err.contains("`snapdex init --repo \(root)`"), "\(step): \(points.err)")
            let advice = try #require(Self.advice(points.err))
            let initialise = cli.run(advice)
            #expect(initialise.status == 0, "\(step): \(initialise.err)")
            #expect(cli.run(["source", "add", "s", "--snapshots", s.path + "/snaps"]).status == 0, "\(step)")
            #expect(cli.run("index --source s").status == 0, "\(step)")
            #expect(cli.run("verify").status == 0, "\(step)")

            // A copy to a folder a killed copy (or init) left is finished the same way.
            let target = s.path + "/t"
            mkdir(target, 0o700)
            for made in steps[...i] where made == "catalogs" || made == "blocks" { mkdir(target + "/" + made, 0o700) }
            if i >= 3 { _ = try Schema.open(path: target + "/snapdex.db") }
            let copy = cli.run(["copy", "--to", target])
            #expect(copy.status == 0, "\(step): \(copy.err)")
            #expect(CLI(repo: target).run("verify").status == 0, "\(step)")
        }
    }

    /// A folder that held a repository's catalogs is not mistaken for a killed init.
    @Test func aRepositoryWithoutConfigIsStillDamageNotAFreshStart() throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = s.path + "/repo"
        #expect(unlink(repo + "/config") == 0)
        let r = cli.run("init")
        #expect(r.status == 1 && r.err.contains("not empty"), "\(r.err)")
        #expect(cli.run("points").status == 3)
        #expect(FileManager.default.fileExists(atPath: repo + "/catalogs/home/source.json"))

        // Nor is a folder of someone's files that share a name with init's.
        let other = s.path + "/other"
        write(other + "/lock", "mine")
        let taken = CLI(repo: other).run("init")
        #expect(taken.status == 1 && taken.err.contains("not empty"), "\(taken.err)")
        #expect(FileManager.default.contents(atPath: other + "/lock") == Data("mine".utf8))
    }

    /// A damaged journal and a damaged database at once: each advised command used to advise
    /// the other; followed as printed, the advice now ends in a working repository.
    @Test func aDamagedJournalAndDatabaseAdviceLeadsToAWorkingRepository() throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = s.path + "/repo"
        let points = try Repository.open(at: repo).points().map(\.id).sorted()
        write(repo + "/journal", "junk\n")
        for suffix in ["-wal", "-shm"] { unlink(repo + "/snapdex.db" + suffix) }
        write(repo + "/snapdex.db", "junk")
        var command = ["verify", "--repair"]
        var followed: [String] = []
        for _ in 0..<4 {
            let r = cli.run(command)
            followed.append(command.joined(separator: " ") + " → \(r.status)")
            if r.status == 0 { break }
            #expect(r.status == 3, "\(followed): \(r.err)")
            command = try #require(Self.advice(r.err.split(separator: "\n").last.map(String.init) ?? "", on: cli.repo), "\(followed): \(r.err)")
        }
        #expect(followed.count <= 3 && followed.last?.hasSuffix("→ 0") == true, "\(followed)")
        #expect(!FileManager.default.fileExists(atPath: repo + "/journal"))
        #expect(try Repository.open(at: repo).points().map(\.id).sorted() == points)
        #expect(cli.run("verify").status == 0 && cli.run("gc").status == 0)
    }

    /// A damaged (or missing) source.json: its message names `verify --repair`, which run as
    /// printed writes it anew from the points and keeps every point, the policy and the
    /// snapshots folder; `source set` refuses a missing one (exit 3).
    @Test(arguments: ["cut short", "missing"])
    func aDamagedSourceConfigurationIsRewrittenByVerifyRepair(damage: String) throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = s.path + "/repo"
        let json = repo + "/catalogs/home/source.json"
        let points = cli.run("points --json").out
        if damage == "missing" { unlink(json) } else { write(json, "{\"name\":") }

        let list = cli.run("source list")
        #expect(list.status == 3)
        let add = cli.run(["source", "add", "home", "--snapshots", s.path + "/snaps"])
        #expect(add.status == 3 && add.err.contains("`snapdex --repo \(cli.repo) verify --repair`"), "\(add.err)")
        let advice = try #require(Self.advice(list.err, on: cli.repo), "\(list.err)")
        #expect(advice == ["verify", "--repair"])
        let repaired = cli.run(advice)
        #expect(repaired.status == 0, "\(repaired.err)")
        #expect(cli.run("source list --json").out.contains("/snaps\""))
        if damage == "missing" {
            unlink(json)
            // source set refuses it rather than hide the damage (REV12-2); the repair is the way.
            #expect(cli.run(["source", "set", "home", "--snapshots", s.path + "/snaps"]).status == 3)
            #expect(cli.run(advice).status == 0)
        }

        #expect(cli.run("source list").status == 0)
        #expect(cli.run("policy show home").out.contains("keep-last=5"))
        #expect(cli.run("points --json").out == points)
        #expect(cli.run("index --source home").status == 0)
        #expect(cli.run("verify").status == 0)
    }
}
