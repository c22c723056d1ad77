import Foundation
import Testing
@testable import SnapdexCore
@testable import SnapdexCLI

#if canImport(Glibc)
import Glibc
#endif

/// Issue 8: `config` and `source.json` are checked, not believed. Damage to either is exit 3
/// from verify and from every writer, and the advice printed (`verify --repair`), run as
/// printed, writes the file anew keeping every point. (In CLITests: the commands run in this
/// process, whose output capture is one for all.)
extension CLITests {
    /// Three points of `home` under keep-last 3 (and a second source, `work`).
    static func trustRepository(_ s: Scratch) -> CLI {
        for d in 1...3 { write(s.path + "/snaps/2026-11-0\(d)/f", "day \(d)") }
        write(s.path + "/work/2026-11-01/g", "work")
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "home", "--snapshots", s.path + "/snaps"]).status == 0)
        #expect(cli.run(["source", "add", "work", "--snapshots", s.path + "/work"]).status == 0)
        #expect(cli.run("policy set home --keep-last 3").status == 0)
        #expect(cli.run("index --source home").status == 0)
        #expect(cli.run("index --source work").status == 0)
        return cli
    }

    static func fileBytes(_ path: String) -> [UInt8] { (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))) ?? [] }

    static func putBytes(_ path: String, _ bytes: [UInt8]) { try? Data(bytes).write(to: URL(fileURLWithPath: path)) }

    /// Damages the file at `path` as `damage` says.
    static func damageFile(_ path: String, _ damage: String, flipAfter marker: String = "keep-last=") {
        var b = fileBytes(path)
        switch damage {
        case "zero": for i in 20..<min(b.count, 60) { b[i] = 0 }
        case "cut short": b = Array(b.prefix(b.count / 2))
        case "bit flip":
            let m = Array(marker.utf8)
            let at = (0...(b.count - m.count)).first { b[$0..<($0 + m.count)].elementsEqual(m) }
            #expect(at != nil, "\(marker) is not in \(path)")
            b[(at ?? 0) + m.count] ^= 1
        case "missing": unlink(path); return
        case "folder": unlink(path); mkdir(path, 0o700); return
        case "symlink": unlink(path); symlink("/etc/hostname", path); return
        default: Issue.record("unknown damage \(damage)")
        }
        putBytes(path, b)
    }

    @Test(arguments: ["zero", "cut short", "missing", "folder", "symlink", "bit flip"])
    func verifyReportsADamagedSourceConfigurationAndItsAdviceRestoresIt(damage: String) throws {
        let s = Scratch()
        let cli = Self.trustRepository(s)
        let json = s.path + "/repo/catalogs/home/source.json"
        let intact = Self.fileBytes(json)
        let points = try Repository.open(at: s.path + "/repo").points(source: "home").map(\.id)
        // Home's line, its folder as the points name it (without the scratch path's "//").
        func home() -> String? { cli.run("source list --json").out.split(separator: "\n").first { $0.contains("\"name\":\"home\"") }?.replacingOccurrences(of: "//", with: "/") }
        let sources = home()
        Self.damageFile(json, damage)

        let verify = cli.run("verify")
        #expect(verify.status == 3, "\(damage): \(verify.out) \(verify.err)")
        let named = verify.out.split(separator: "\n").filter { $0.contains(json) }
        #expect(named.count == 1, "\(damage): out \(verify.out) err \(verify.err)")
        let advice = try #require(Self.advice(verify.err, on: cli.repo), "\(verify.err)")
        #expect(advice == ["verify", "--repair"])
        // The other source is not blocked by this one's damage.
        #expect(cli.run("policy show work").status == 0)
        write(s.path + "/work/2026-11-02/g", "work 2")
        #expect(cli.run("index --source work").status == 0)
        #expect(cli.run("index --source home").status == 3)

        let repaired = cli.run(advice)
        #expect(repaired.status == 0, "\(repaired.out) \(repaired.err)")
        #expect(repaired.out.contains(json))
        if damage == "bit flip" { #expect(Self.fileBytes(json) == intact) }
        #expect(cli.run("verify").status == 0)
        #expect(try Repository.open(at: s.path + "/repo").points(source: "home").map(\.id) == points)
        #expect(cli.run("policy show home").out.contains("keep-last=3"))
        #expect(sources != nil && home() == sources)
        write(s.path + "/snaps/2026-11-04/f", "day 4")
        #expect(cli.run("index --source home").status == 0)
        // What stood there is kept aside, never overwritten (a hand edit can be read back).
        if damage != "bit flip" && damage != "missing" { #expect(FileManager.default.fileExists(atPath: json + ".damaged")) }
    }

    /// A source folder with neither source.json nor points (a killed `source add`): verify
    /// names it, and the repair removes the folder rather than make a source of it; `source
    /// set` refuses a lost source.json, and the repair restores the snapshots folder from the
    /// points.
    @Test func anEmptySourceFolderIsRemovedAndALostSourceConfigIsRebuiltFromThePoints() throws {
        let s = Scratch()
        let cli = Self.trustRepository(s)
        let repo = s.path + "/repo"
        mkdir(repo + "/catalogs/ghost", 0o700)
        let verify = cli.run("verify")
        #expect(verify.status == 3 && verify.out.contains("catalogs/ghost/source.json"), "\(verify.out)")
        let repaired = cli.run("verify --repair")
        #expect(repaired.status == 0 && repaired.out.contains("removed the empty folder"), "\(repaired.out) \(repaired.err)")
        #expect(!FileManager.default.fileExists(atPath: repo + "/catalogs/ghost"))
        #expect(cli.run("source list").status == 0)

        unlink(repo + "/catalogs/home/source.json")
        #expect(cli.run("source set home --time-from mtime").status == 3)
        #expect(cli.run("verify --repair").status == 0)
        #expect(cli.run("source set home --time-from mtime").status == 0)
        let home = cli.run("source list --json").out
        #expect(home.contains("/snaps\"") && home.contains("keep-last=3") && home.contains("\"time_from\":\"mtime\""), "\(home)")
        #expect(cli.run("verify").status == 0)
    }

    /// One flipped bit turned keep-last 3 into 2: no writer uses it (index refuses, expire goes
    /// by the policy each point was indexed under), readers say it is damaged, and the
    /// repair puts the exact file back.
    @Test func aFlippedPolicyIsNeverUsed() throws {
        let s = Scratch()
        let cli = Self.trustRepository(s)
        let json = s.path + "/repo/catalogs/home/source.json"
        let intact = Self.fileBytes(json)
        Self.damageFile(json, "bit flip")
        #expect(String(decoding: Self.fileBytes(json), as: UTF8.self).contains("keep-last=2"))
        write(s.path + "/snaps/2026-11-04/f", "day 4")
        let index = cli.run("index --source home")
        #expect(index.status == 3 && index.err.contains("`snapdex --repo \(cli.repo) verify --repair`"), "\(index.err)")
        #expect(try Repository.open(at: s.path + "/repo").points(source: "home").count == 3)
        #expect(cli.run("policy show home").status == 3)
        #expect(cli.run("source list").status == 3)
        let expire = cli.run("expire")
        #expect(expire.status == 0 && expire.out.contains("0 expired"), "\(expire.out)")
        #expect(cli.run("verify").status == 3)
        #expect(cli.run("verify --repair").status == 0)
        #expect(Self.fileBytes(json) == intact)
        #expect(cli.run("index --source home").status == 0)
        #expect(cli.run("policy show home").out.contains("4 index(es) store: keep-last=3"))
    }

    /// A damaged config stops every command with exit 3 and names `verify --repair`, which
    /// puts one flipped bit back, or writes the file anew keeping the id it still holds.
    @Test(arguments: ["bit flip", "created changed", "zero", "missing", "folder", "symlink"])
    func aDamagedConfigIsReportedAndItsAdviceRestoresIt(damage: String) throws {
        let s = Scratch()
        let cli = Self.trustRepository(s)
        let config = s.path + "/repo/config"
        let intact = Self.fileBytes(config)
        let id = try #require(String(decoding: intact, as: UTF8.self).split(separator: "\"").first { $0.count == 32 }.map(String.init))
        let points = cli.run("points --json").out
        if damage == "created changed" {
            Self.putBytes(config, Array(String(decoding: intact, as: UTF8.self).replacingOccurrences(of: "\"created\": \"20", with: "\"created\": \"19").utf8))
        } else {
            Self.damageFile(config, damage, flipAfter: "\"created\": \"20")
        }

        for command in ["points", "verify", "index --source home", "expire"] {
            let r = cli.run(command)
            #expect(r.status == 3, "\(damage): \(command): \(r.err)")
            #expect(Self.advice(r.err, on: cli.repo) == ["verify", "--repair"], "\(damage): \(command): \(r.err)")
        }
        let repaired = cli.run("verify --repair")
        #expect(repaired.status == 0, "\(damage): \(repaired.out) \(repaired.err)")
        if damage == "bit flip" { #expect(Self.fileBytes(config) == intact) }
        if damage == "created changed" { #expect(String(decoding: Self.fileBytes(config), as: UTF8.self).contains(id)) }
        #expect(cli.run("points --json").out == points)
        #expect(cli.run("verify").status == 0)
    }

    /// Files written before checksums read as they are; a writer adds the checksum when it
    /// rewrites one. A file without one that holds a member older writers never wrote (a
    /// checksum whose name was damaged), or says version 3, is damaged.
    @Test func olderFilesWithoutAChecksumStayReadable() throws {
        let s = Scratch()
        let cli = Self.trustRepository(s)
        let repo = s.path + "/repo"
        let json = repo + "/catalogs/home/source.json"
        let older = "{\n  \"name\" : \"home\",\n  \"policy\" : \"keep-last=3 zone=Etc\\/UTC\",\n  \"snapshots\" : \"\(s.path)\\/snaps\",\n  \"timeFrom\" : \"auto\",\n  \"version\" : 2\n}\n"
        write(json, older)
        write(repo + "/config", "{\"format\": 1, \"created\": \"2026-12-07T13:44:49Z\"}\n")
        #expect(cli.run("verify").status == 0)
        #expect(cli.run("policy show home").out.contains("keep-last=3"))
        #expect(cli.run("policy set home --keep-last 4").status == 0)
        #expect(String(decoding: Self.fileBytes(json), as: UTF8.self).contains("\"checksum\" : \""))
        #expect(cli.run("verify").status == 0)
        #expect(String(decoding: Self.fileBytes(repo + "/config"), as: UTF8.self) == "{\"format\": 1, \"created\": \"2026-12-07T13:44:49Z\"}\n")

        write(json, older.replacingOccurrences(of: "\"version\" : 2", with: "\"version\" : 2,\n  \"chexksum\" : \"00\""))
        #expect(cli.run("verify").status == 3)
        write(json, older.replacingOccurrences(of: "\"version\" : 2", with: "\"version\" : 3"))
        #expect(cli.run("verify").status == 3)
        write(repo + "/config", "{\"format\": 1, \"created\": \"2026-12-07T13:44:49Z\", \"chucksum\": \"00\"}\n")
        #expect(cli.run("points").status == 3)
    }
}

extension CLITests {
    /// REV12-3: `index DIR --source home` with home's source.json gone is not a new source:
    /// it refuses (exit 3) and changes nothing; the advice run as printed writes it anew,
    /// after which the same index works.
    @Test func indexOfADirectoryRefusesASourceWhoseConfigurationIsMissing() throws {
        let s = Scratch()
        let cli = Self.trustRepository(s)
        let json = s.path + "/repo/catalogs/home/source.json"
        unlink(json)
        let dir = s.path + "/elsewhere/2026-11-04"
        write(dir + "/f", "day 4")
        let points = cli.run("points --json").out
        let index = cli.run(["index", dir, "--source", "home"])
        #expect(index.status == 3 && index.err.contains("source.json"), "\(index.out) \(index.err)")
        #expect(!FileManager.default.fileExists(atPath: json))
        #expect(cli.run("points --json").out == points)
        let advice = try #require(Self.advice(index.err), "\(index.err)")
        #expect(cli.run(advice).status == 0)
        #expect(cli.run("policy show home").out.contains("keep-last=3"))
        #expect(cli.run(["index", dir, "--source", "home"]).status == 0)
        #expect(cli.run("verify").status == 0)
    }

    /// REV12-2: `source set` on a damaged or missing source.json refuses (exit 3) and
    /// changes nothing, so the damage stays visible and its filters are not dropped; the
    /// advice run as printed repairs it, after which `source set` works.
    @Test(arguments: ["bit flip", "missing", "cut short"])
    func sourceSetRefusesADamagedSourceConfiguration(damage: String) throws {
        let s = Scratch()
        let cli = Self.trustRepository(s)
        let json = s.path + "/repo/catalogs/home/source.json"
        Self.damageFile(json, damage)
        let before = Self.fileBytes(json)
        let set = cli.run(["source", "set", "home", "--live-path", s.path + "/snaps"])
        #expect(set.status == 3, "\(damage): \(set.out) \(set.err)")
        #expect(Self.fileBytes(json) == before)
        #expect(FileManager.default.fileExists(atPath: json) == (damage != "missing"))
        #expect(cli.run("verify").status == 3)
        let advice = try #require(Self.advice(set.err, on: cli.repo), "\(set.err)")
        #expect(advice == ["verify", "--repair"])
        #expect(cli.run(advice).status == 0)
        #expect(cli.run(["source", "set", "home", "--live-path", s.path + "/snaps"]).status == 0)
        #expect(cli.run("verify").status == 0)
    }
}

extension CLITests {
    /// REV12-7: one source's damaged source.json does not stop `copy --to` for the others:
    /// the healthy source is copied, the damaged one named, exit 3; once repaired as its
    /// advice says, the next copy sends it.
    @Test func aDamagedSourceConfigurationStopsTheCopyOfThatSourceOnly() throws {
        let s = Scratch()
        let cli = Self.trustRepository(s)
        let json = s.path + "/repo/catalogs/home/source.json"
        let target = s.path + "/target"
        Self.damageFile(json, "cut short")
        let dry = cli.run(["copy", "--to", target, "--dry-run"])
        #expect(dry.status == 3 && dry.out.contains("would copy 1 point(s)"), "\(dry.out) \(dry.err)")
        let copy = cli.run(["copy", "--to", target, "--json"])
        #expect(copy.status == 3, "\(copy.out) \(copy.err)")
        #expect(copy.out.contains("\"points_copied\":1") && copy.out.contains("\"sources_not_copied\":[\"home\"]"), "\(copy.out)")
        #expect(copy.err.contains("'home' were not copied") && copy.err.contains(json), "\(copy.err)")
        let there = CLI(repo: target)
        #expect(there.run("points --source work").out.contains("work"))
        #expect(!FileManager.default.fileExists(atPath: target + "/catalogs/home"))
        let advice = try #require(Self.advice(copy.err), "\(copy.err)")
        #expect(cli.run(advice).status == 0)
        let again = cli.run(["copy", "--to", target])
        #expect(again.status == 0 && again.out.contains("copied 3 point(s)"), "\(again.out) \(again.err)")
        #expect(there.run("verify").status == 0)
    }
}

extension CLITests {
    /// REV12-10: a source.json (here a version 2 one, without a checksum) whose policy does
    /// not read is damage: verify names it (exit 3), index refuses it with exit 3 (not a
    /// usage error), and the advice run as printed writes it anew from the points.
    @Test func aSourceConfigurationWhosePolicyDoesNotReadIsDamage() throws {
        let s = Scratch()
        let cli = Self.trustRepository(s)
        let json = s.path + "/repo/catalogs/home/source.json"
        let snaps = (s.path + "/snaps").replacingOccurrences(of: "/", with: "\\/")
        write(json, "{\n  \"name\" : \"home\",\n  \"policy\" : \"keep-daily=-5\",\n  \"snapshots\" : \"\(snaps)\",\n  \"timeFrom\" : \"auto\",\n  \"version\" : 2\n}\n")
        let verify = cli.run("verify")
        #expect(verify.status == 3 && verify.out.contains(json), "\(verify.out) \(verify.err)")
        write(s.path + "/snaps/2026-11-04/f", "day 4")
        let index = cli.run("index --source home")
        #expect(index.status == 3 && index.err.contains("is damaged") && index.err.contains(json), "\(index.err)")
        let advice = try #require(Self.advice(index.err), "\(index.err)")
        #expect(cli.run(advice).status == 0)
        #expect(cli.run("policy show home").out.contains("keep-last=3"))
        #expect(cli.run("index --source home").status == 0)
        #expect(cli.run("verify").status == 0)
    }
}

extension CLITests {
    /// REV12-1: a source.json whose checksum fails but whose JSON still reads: the repair
    /// carries over the live path and filters it holds (saying so), so the next index still
    /// skips what the filter excluded; the message points at the file kept aside.
    @Test func theRepairCarriesOverWhatTheDamagedSourceConfigurationStillSays() throws {
        let s = Scratch()
        for d in 1...2 { write(s.path + "/snaps/2026-11-0\(d)/f", "day \(d)") }
        Tree.make(s.path + "/live")
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "home", "--snapshots", s.path + "/snaps", "--live-path", s.path + "/live", "--exclude", "*.tmp", "--time-from", "mtime"]).status == 0)
        #expect(cli.run("index --source home").status == 0)
        let json = s.path + "/repo/catalogs/home/source.json"
        // Two hex digits of the checksum changed: no one bit explains it, the JSON still reads.
        var b = Self.fileBytes(json)
        let end = try #require(b.lastIndex(of: UInt8(ascii: "\"")))
        b[end - 1] = b[end - 1] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        b[end - 2] = b[end - 2] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        Self.putBytes(json, b)
        #expect(cli.run("verify").status == 3)
        let repaired = cli.run("verify --repair")
        #expect(repaired.status == 0, "\(repaired.out) \(repaired.err)")
        #expect(repaired.out.contains("read from the damaged file"), "\(repaired.out)")
        let list = cli.run("source list --json").out
        #expect(list.contains("/live") && list.contains("*.tmp") && list.contains("\"time_from\":\"mtime\""), "\(list)")
        write(s.path + "/snaps/2026-11-03.tmp/f", "half written")
        let index = cli.run("index --source home")
        #expect(index.status == 0 && !index.out.contains(".tmp"), "\(index.out)")
        #expect(cli.run("verify").status == 0)

        // A damaged file that no longer reads: what is unknown is named, with where the
        // damaged file is kept.
        Self.damageFile(json, "cut short")
        let rebuilt = cli.run("verify --repair")
        #expect(rebuilt.status == 0 && rebuilt.out.contains("not known: live path") && rebuilt.out.contains("kept as \(json).damaged-2"), "\(rebuilt.out)")
    }
}

extension CLITests {
    /// REV12-9: a damaged config does not stop verify: the damaged source.json beside it is
    /// named in the same run (exit 3), and the advice run as printed repairs both.
    @Test func verifyGoesOnPastADamagedConfig() throws {
        let s = Scratch()
        let cli = Self.trustRepository(s)
        let repo = s.path + "/repo"
        Self.damageFile(repo + "/config", "bit flip", flipAfter: "\"format\"")
        Self.damageFile(repo + "/catalogs/home/source.json", "cut short")
        let verify = cli.run("verify")
        #expect(verify.status == 3, "\(verify.out) \(verify.err)")
        #expect(verify.out.contains("damaged repository configuration: \(repo)/config"), "\(verify.out)")
        #expect(verify.out.contains("damaged source configuration: \(repo)/catalogs/home/source.json"), "\(verify.out)")
        let advice = try #require(Self.advice(verify.err, on: cli.repo), "\(verify.err)")
        #expect(advice == ["verify", "--repair"])
        let repaired = cli.run(advice)
        #expect(repaired.status == 0, "\(repaired.out) \(repaired.err)")
        #expect(cli.run("verify").status == 0)
    }
}
