import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// What the damage-matrix and kill-loop campaigns found (Campaigns.swift), each pinned by a
/// focused test: damage is exit 3 with a one-line message, and the advice in it works.
extension CLITests {
    @Test func aDatabaseCorruptInsideIsExitThreeAndTheAdvisedRescanRepairsIt() throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = s.path + "/repo", db = repo + "/snapdex.db"
        let points = cli.run("points --json").out
        #expect(cli.run("rescan").status == 0)  // one file, no WAL to mask the damage
        let intact = try Data(contentsOf: URL(fileURLWithPath: db))
        #expect(intact.count % 4096 == 0 && intact.count > 3 * 4096)
        // Zeros over one page at a time: SQLite opens the file, then finds a table malformed
        // while a query reads it. Whatever page, the answer is right (0) or damage (3).
        var damaged = 0
        for page in 1..<(intact.count / 4096) {
            var bytes = intact
            bytes.replaceSubrange(page * 4096..<(page + 1) * 4096, with: [UInt8](repeating: 0, count: 4096))
            try bytes.write(to: URL(fileURLWithPath: db))
            for command in ["points --json", "ls home@latest /"] {
                let r = cli.run(command)
                #expect(r.status == 0 || r.status == 3, "page \(page), \(command): \(r.err)")
                if r.status == 0 && command == "points --json" { #expect(r.out == points, "page \(page)") }
                if r.status == 3 {
                    damaged += 1
                    #expect(r.err.split(separator: "\n").count == 1 && r.err.contains("is damaged") && r.err.contains("`snapdex --repo \(cli.repo) rescan`"), "\(r.err)")
                }
            }
            #expect(cli.run("rescan").status == 0)
            #expect(cli.run("points --json").out == points)
        }
        #expect(damaged > 0)
        #expect(cli.run("verify").status == 0)
    }

    @Test func aMissingConfigIsDamageNotAMissingRepository() throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        unlink(s.path + "/repo/config")
        let r = cli.run("points")
        #expect(r.status == 3)
        #expect(r.err.split(separator: "\n").count == 1 && r.err.contains("config is damaged (missing)") && !r.err.contains("snapdex init"), "\(r.err)")
        // A folder that never was a repository (here, of snapshots) is still not one, not damage.
        let none = CLI(repo: s.path + "/snaps").run("points")
        #expect(none.status == 1 && none.err.contains("not a Snapdex repository"), "\(none.err)")
    }

    @Test func aDamagedOrMissingSourceJSONIsExitThreeWhereItsSettingsAreShown() throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = s.path + "/repo"
        write(s.path + "/other/2026-11-05/g", "g")
        #expect(cli.run(["source", "add", "other", "--snapshots", s.path + "/other"]).status == 0)
        #expect(cli.run("policy show home").out.contains("keep-last=5"))

        for damage in ["bytes", "missing"] {
            let json = repo + "/catalogs/home/source.json"
            let saved = try Data(contentsOf: URL(fileURLWithPath: json))
            if damage == "missing" { unlink(json) } else { write(json, "{\"name\": \"home\", \"snapsh") }
            // Saying "no policy (keep everything)" would be wrong: the policy is unknown.
            let show = cli.run("policy show home")
            #expect(show.status == 3 && show.out.isEmpty && show.err.contains("source.json is damaged"), "\(damage): \(show.out) \(show.err)")
            let list = cli.run("source list")
            #expect(list.status == 3 && list.out.contains("other") && !list.out.contains("home"), "\(damage): \(list.out) \(list.err)")
            let index = cli.run("index --source home")
            #expect(index.status == 3 && index.err.contains("source.json is damaged"), "\(damage): \(index.err)")
            #expect(cli.run("policy show other").status == 0)
            try saved.write(to: URL(fileURLWithPath: json))
        }
        #expect(cli.run("source list").status == 0)
    }

    @Test func theNextWriterRemovesAJournalAndCatalogTemporariesAKilledWriterLeft() throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = s.path + "/repo"
        // As a writer killed while writing its journal, or a source.json, leaves them.
        write(repo + "/journal.tmp", "rewrite home 0123456789abcdef0123456789abcdef\n")
        write(repo + "/catalogs/home/source.json.tmp", "{")
        #expect(cli.run("gc").status == 0)
        #expect(!FileManager.default.fileExists(atPath: repo + "/journal.tmp"))
        #expect(!FileManager.default.fileExists(atPath: repo + "/catalogs/home/source.json.tmp"))
        #expect(cli.run("verify").status == 0)
    }

    @Test func expireDryRunExitsThreeWhereTheRunWould() throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = s.path + "/repo"
        let points = try Repository.open(at: repo).points().sorted { $0.time < $1.time }
        let oldest = repo + "/catalogs/home/" + points[0].id + ".manifest", newest = String(points.last!.id.prefix(8))
        var bytes = try Data(contentsOf: URL(fileURLWithPath: oldest))
        bytes[bytes.count / 2] ^= 0x10
        chmod(oldest, 0o600)
        try bytes.write(to: URL(fileURLWithPath: oldest))
        let dry = cli.run("expire --dry-run")
        #expect(dry.status == 3 && dry.err.contains("cannot be read"), "\(dry.err)")
        let before = RepoFiles.manifests(repo)
        #expect(cli.run("expire").status == 3)
        #expect(RepoFiles.manifests(repo) == before)
        // forget frees no block while a manifest cannot be read, and says so by its count;
        // its dry run and run agree (0).
        #expect(cli.run("forget \(newest) --dry-run").status == 0)
        #expect(cli.run("forget \(newest)").status == 0)
        #expect(FileManager.default.fileExists(atPath: oldest))
    }

    /// The damage matrix's intermittent case 8 (issue 8): zeros in a manifest that retention
    /// dooms. The database still had that point's row (a damaged manifest keeps the row it had),
    /// so `expire` removed the manifest on the database's word, found every remaining manifest
    /// readable and exited 0, where its dry run exited 3. It depended on which manifest the
    /// campaign's seed picked among randomly named ones, not on the seed alone. Damage that
    /// leaves the file's identity (inode, size, mtime) as it was, as bit rot does, is not even
    /// noticed by reconcile: only reading every manifest tells.
    @Test(arguments: ["rewritten", "rotted in place"])
    func expireRemovesNothingWhenTheManifestItWouldExpireIsDamaged(how: String) throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = s.path + "/repo"
        #expect(cli.run("policy set home --keep-last 2 --apply-to-existing").status == 0)
        let oldest = try Repository.open(at: repo).points().min { $0.time < $1.time }!
        let path = repo + "/catalogs/home/" + oldest.id + ".manifest"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        for i in bytes.count / 3..<bytes.count / 2 { bytes[i] = 0 }
        chmod(path, 0o600)
        if how == "rewritten" {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        } else {
            var st = stat()
            #expect(lstat(path, &st) == 0)
            let fd = open(path, O_WRONLY)
            #expect(fd >= 0 && pwrite(fd, bytes, bytes.count, 0) == bytes.count)
            var times = [st.st_atim, st.st_mtim]
            #expect(futimens(fd, &times) == 0)
            close(fd)
        }
        let dry = cli.run("expire --dry-run")
        #expect(dry.status == 3 && dry.err.contains("cannot be read"), "\(dry.err)")
        let before = RepoFiles.manifests(repo)
        let blocks = Self.blockFiles(repo)
        let run = cli.run("expire")
        #expect(run.status == 3 && run.err.contains("cannot be read") && run.err.contains("`snapdex --repo \(cli.repo) verify`"), "\(run.status) \(run.err)")
        #expect(run.err.split(separator: "\n").count <= 2, "\(run.err)")
        #expect(RepoFiles.manifests(repo) == before)
        #expect(Self.blockFiles(repo) == blocks)
        // The advice names the damaged point.
        let verify = cli.run("verify")
        #expect(verify.status == 3 && verify.out.contains(String(oldest.id.prefix(8))) || verify.err.contains(String(oldest.id.prefix(8))), "\(verify.out) \(verify.err)")
    }

    /// Found by the race campaign: verify read the database, an index published a point, and
    /// verify then found a manifest the database did not know and called it damaged.
    @Test func verifyDoesNotCallAPointPublishedWhileItRunsDamaged() throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = try Repository.open(at: s.path + "/repo")
        // A point published by another writer after this reader read the database: its
        // manifest comes from a second repository of the same source.
        let other = CLI(repo: s.path + "/other")
        #expect(other.run("init").status == 0)
        #expect(other.run(["index", s.path + "/snaps/2026-11-01", "--source", "home", "--at", "2026-12-01T00:00:00Z"]).status == 0)
        let published = RepoFiles.manifests(s.path + "/other")[0]
        try FileManager.default.copyItem(atPath: published, toPath: s.path + "/repo/catalogs/home/" + (published as NSString).lastPathComponent)
        let report = try repo.verify()
        #expect(report.damagedManifests.isEmpty, "\(report.damagedManifests)")
        _ = cli
    }
}

import GRDB

extension CLITests {
    /// Zeros written into snapdex.db can leave a row whose columns hold NULL or values of another type,
    /// which GRDB's plain subscripts trap on (exit 132, found by the damage matrix, case 14 of
    /// seed 577399). It is damage: exit 3, and the advised rescan repairs it.
    @Test func aDatabaseRowWithNullsOrNumbersIsDamageNotATrap() throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let db = s.path + "/repo/snapdex.db"
        let points = cli.run("points --json").out
        for damage in ["UPDATE point SET stamp = x'ff'", "UPDATE point SET source = x'ff'", "UPDATE block SET storedSize = 'x'"] {
            #expect(cli.run("rescan").status == 0)
            var unchecked = Configuration()
            unchecked.foreignKeysEnabled = false  // damage does not respect constraints either
            let q = try DatabaseQueue(path: db, configuration: unchecked)
            try q.write { try $0.execute(sql: damage) }
            try q.close()
            for command in ["points --json", "points", "ls home@latest /", "find 'b*'"] {
                let r = cli.run(command)
                #expect(r.status == 0 || r.status == 3, "\(damage), \(command): \(r.status) \(r.err)")
                if r.status == 3 { #expect(r.err.contains("`snapdex --repo \(cli.repo) rescan`"), "\(r.err)") }
            }
            #expect(cli.run("rescan").status == 0)
            #expect(cli.run("points --json").out == points)
        }
    }
}
