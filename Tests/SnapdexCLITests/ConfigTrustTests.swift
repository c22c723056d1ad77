import Foundation
import Testing
@testable import SnapdexCore
@testable import SnapdexCLI

#if canImport(Glibc)
import Glibc
#endif

/// Issue 8: `config` and `source.json` are checked, not believed. Damage to either is exit 3
/// from verify and from every writer, and the advice printed (`verify --repair`), run as
/// printed, writes the file anew keeping every point.
@Suite(.serialized) struct ConfigTrustTests {
    /// Three points of `home` under keep-last 3 (and a second source, `work`).
    static func repository(_ s: Scratch) -> CLI {
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

    static func bytes(_ path: String) -> [UInt8] { (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))) ?? [] }

    static func put(_ path: String, _ bytes: [UInt8]) { try? Data(bytes).write(to: URL(fileURLWithPath: path)) }

    /// Damages the file at `path` as `damage` says.
    static func damage(_ path: String, _ damage: String, flipAfter marker: String = "keep-last=") {
        var b = bytes(path)
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
        put(path, b)
    }

    @Test(arguments: ["zero", "cut short", "missing", "folder", "symlink", "bit flip"])
    func verifyReportsADamagedSourceConfigurationAndItsAdviceRestoresIt(damage: String) throws {
        let s = Scratch()
        let cli = Self.repository(s)
        let json = s.path + "/repo/catalogs/home/source.json"
        let intact = Self.bytes(json)
        let points = try Repository.open(at: s.path + "/repo").points(source: "home").map(\.id)
        // Home's line, its folder as the points name it (without the scratch path's "//").
        func home() -> String? { cli.run("source list --json").out.split(separator: "\n").first { $0.contains("\"name\":\"home\"") }?.replacingOccurrences(of: "//", with: "/") }
        let sources = home()
        Self.damage(json, damage)

        let verify = cli.run("verify")
        #expect(verify.status == 3, "\(damage): \(verify.out) \(verify.err)")
        let named = verify.out.split(separator: "\n").filter { $0.contains(json) }
        #expect(named.count == 1, "\(damage): out \(verify.out) err \(verify.err)")
        let advice = try #require(CLITests.advice(verify.err, on: cli.repo), "\(verify.err)")
        #expect(advice == ["verify", "--repair"])
        // The other source is not blocked by this one's damage.
        #expect(cli.run("policy show work").status == 0)
        write(s.path + "/work/2026-11-02/g", "work 2")
        #expect(cli.run("index --source work").status == 0)
        #expect(cli.run("index --source home").status == 3)

        let repaired = cli.run(advice)
        #expect(repaired.status == 0, "\(repaired.out) \(repaired.err)")
        #expect(repaired.out.contains(json))
        if damage == "bit flip" { #expect(Self.bytes(json) == intact) }
        #expect(cli.run("verify").status == 0)
        #expect(try Repository.open(at: s.path + "/repo").points(source: "home").map(\.id) == points)
        #expect(cli.run("policy show home").out.contains("keep-last=3"))
        #expect(sources != nil && home() == sources)
        write(s.path + "/snaps/2026-11-04/f", "day 4")
        #expect(cli.run("index --source home").status == 0)
        if damage == "folder" || damage == "symlink" { #expect(FileManager.default.fileExists(atPath: json + ".damaged")) }
    }

    /// One flipped bit turned keep-last 3 into 2: no writer uses it (index refuses, expire goes
    /// by the policy each point was indexed under), readers say it is damaged, and the
    /// repair puts the exact file back.
    @Test func aFlippedPolicyIsNeverUsed() throws {
        let s = Scratch()
        let cli = Self.repository(s)
        let json = s.path + "/repo/catalogs/home/source.json"
        let intact = Self.bytes(json)
        Self.damage(json, "bit flip")
        #expect(String(decoding: Self.bytes(json), as: UTF8.self).contains("keep-last=2"))
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
        #expect(Self.bytes(json) == intact)
        #expect(cli.run("index --source home").status == 0)
        #expect(cli.run("policy show home").out.contains("4 index(es) store: keep-last=3"))
    }

    /// A damaged config stops every command with exit 3 and names `verify --repair`, which
    /// puts one flipped bit back, or writes the file anew keeping the id it still holds.
    @Test(arguments: ["bit flip", "created changed", "zero", "missing", "folder", "symlink"])
    func aDamagedConfigIsReportedAndItsAdviceRestoresIt(damage: String) throws {
        let s = Scratch()
        let cli = Self.repository(s)
        let config = s.path + "/repo/config"
        let intact = Self.bytes(config)
        let id = try #require(String(decoding: intact, as: UTF8.self).split(separator: "\"").first { $0.count == 32 }.map(String.init))
        let points = cli.run("points --json").out
        if damage == "created changed" {
            Self.put(config, Array(String(decoding: intact, as: UTF8.self).replacingOccurrences(of: "\"created\": \"20", with: "\"created\": \"19").utf8))
        } else {
            Self.damage(config, damage, flipAfter: "\"created\": \"20")
        }

        for command in ["points", "verify", "index --source home", "expire"] {
            let r = cli.run(command)
            #expect(r.status == 3, "\(damage): \(command): \(r.err)")
            #expect(CLITests.advice(r.err, on: cli.repo) == ["verify", "--repair"], "\(damage): \(command): \(r.err)")
        }
        let repaired = cli.run("verify --repair")
        #expect(repaired.status == 0, "\(damage): \(repaired.out) \(repaired.err)")
        if damage == "bit flip" { #expect(Self.bytes(config) == intact) }
        if damage == "created changed" { #expect(String(decoding: Self.bytes(config), as: UTF8.self).contains(id)) }
        #expect(cli.run("points --json").out == points)
        #expect(cli.run("verify").status == 0)
    }

    /// Files written before checksums read as they are; a writer adds the checksum when it
    /// rewrites one. A file without one that holds a member older writers never wrote (a
    /// checksum whose name was damaged), or says version 3, is damaged.
    @Test func olderFilesWithoutAChecksumStayReadable() throws {
        let s = Scratch()
        let cli = Self.repository(s)
        let repo = s.path + "/repo"
        let json = repo + "/catalogs/home/source.json"
        let older = "{\n  \"name\" : \"home\",\n  \"policy\" : \"keep-last=3 zone=Etc\\/UTC\",\n  \"snapshots\" : \"\(s.path)\\/snaps\",\n  \"timeFrom\" : \"auto\",\n  \"version\" : 2\n}\n"
        write(json, older)
        write(repo + "/config", "{\"format\": 1, \"created\": \"2026-12-07T13:44:49Z\"}\n")
        #expect(cli.run("verify").status == 0)
        #expect(cli.run("policy show home").out.contains("keep-last=3"))
        #expect(cli.run("policy set home --keep-last 4").status == 0)
        #expect(String(decoding: Self.bytes(json), as: UTF8.self).contains("\"checksum\" : \""))
        #expect(cli.run("verify").status == 0)
        #expect(String(decoding: Self.bytes(repo + "/config"), as: UTF8.self) == "{\"format\": 1, \"created\": \"2026-12-07T13:44:49Z\"}\n")

        write(json, older.replacingOccurrences(of: "\"version\" : 2", with: "\"version\" : 2,\n  \"chexksum\" : \"00\""))
        #expect(cli.run("verify").status == 3)
        write(json, older.replacingOccurrences(of: "\"version\" : 2", with: "\"version\" : 3"))
        #expect(cli.run("verify").status == 3)
        write(repo + "/config", "{\"format\": 1, \"created\": \"2026-12-07T13:44:49Z\", \"chucksum\": \"00\"}\n")
        #expect(cli.run("points").status == 3)
    }
}
