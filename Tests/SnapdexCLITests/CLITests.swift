import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Runs command lines in-process with captured output. Output.current is process-wide, so
/// every test that uses it lives in this one serialized suite.
struct CLI {
    let repo: String

    func run(_ args: [String]) -> (status: Int32, out: String, err: String) {
        let captured = Output(capture: true)
        let saved = Output.current
        Output.current = captured
        defer { Output.current = saved }
        let status = SnapdexCommand.runMain(args + (args.first == "help" ? [] : ["--repo", repo]))
        captured.flush()
        return (status, captured.capturedText, captured.capturedErrorText)
    }

    func run(_ line: String) -> (status: Int32, out: String, err: String) { run(line.split(separator: " ").map(String.init)) }
}

final class Scratch {
    let path: String
    init() {
        var template = Array((NSTemporaryDirectory() + "/snapdex-cli-XXXXXX").utf8CString)
        path = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }!)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

func write(_ path: String, _ text: String) {
    try! FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try! Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

@Suite(.serialized) struct CLITests {
    @Test func lsJSONRoundTripsOddNamesExactly() throws {
        let s = Scratch()
        let snap = s.path + "/snap"
        write(snap + "/plain.txt", "p")
        let odd: [[UInt8]] = [Array("new\nline".utf8), [0x63, 0x61, 0x66, 0xe9], Array("-dash".utf8), Array("sp ace".utf8), Array("quote\"s\\".utf8)]
        for name in odd {
            let fd = (snap + "/").withCString { _ in open(snap, O_RDONLY | O_DIRECTORY) }
            let f = (name + [0]).map { CChar(bitPattern: $0) }.withUnsafeBufferPointer { openat(fd, $0.baseAddress!, O_WRONLY | O_CREAT, 0o600) }
            close(f)
            close(fd)
        }
        symlink(String(decoding: [0x74, 0xff], as: UTF8.self), snap + "/badlink")
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["index", snap, "--source", "t", "--at", "2026-11-21T03:00:00Z"]).status == 0)
        let r = cli.run("ls t@latest / --json")
        #expect(r.status == 0)
        var paths: [[UInt8]] = []
        for line in r.out.split(separator: "\n") {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            if let b64 = o["path_b64"] as? String {
                paths.append(Array(Data(base64Encoded: b64)!))
            } else {
                paths.append(Array((o["path"] as! String).utf8))
            }
            #expect(o["mtime"] as? String != nil)
            #expect((o["mode"] as? String)?.count == 4)
        }
        let expected = ([Array("plain.txt".utf8), Array("badlink".utf8)] + odd).map { [UInt8(ascii: "/")] + $0 }
        #expect(Set(paths) == Set(expected))
        // Human output quotes odd names like GNU ls.
        let human = cli.run("ls t@latest /").out
        #expect(human.contains("'new'$'\\n''line'"))
        #expect(human.contains("'caf'$'\\351'"))
        #expect(human.contains("'sp ace'"))
    }

    @Test func badInputGetsOneLineAndTheDocumentedStatus() throws {
        let s = Scratch()
        let cli = CLI(repo: s.path + "/repo")
        var r = cli.run("points")
        #expect(r.status == 1)
        #expect(r.err.hasPrefix("snapdex: no Snapdex repository at"))
        #expect(r.err.split(separator: "\n").count == 1)

        #expect(cli.run("init").status == 0)
        r = cli.run("init")
        #expect(r.status == 1 && r.err.contains("already exists"))

        r = cli.run(["index", s.path + "/nope", "--source", "x"])
        #expect(r.status == 1 && r.err.contains("does not exist") && r.err.split(separator: "\n").count == 1)

        write(s.path + "/file", "f")
        r = cli.run(["index", s.path + "/file", "--source", "x"])
        #expect(r.status == 1 && r.err.contains("is not a directory"))

        r = cli.run("index --source nosuch")
        #expect(r.status == 1 && r.err.contains("no source named 'nosuch'"))

        r = cli.run("source add bad/name --snapshots /tmp")
        #expect(r.status == 2 && r.err.contains("invalid source name"))

        r = cli.run("ls nosuch@latest /")
        #expect(r.status == 1 && r.err.contains("no source named"))

        r = cli.run("ls deadbeef /")
        #expect(r.status == 1 && r.err.contains("no restore point matches 'deadbeef'"))

        r = cli.run("ls x@yesterday /")
        #expect(r.status == 2 && r.err.contains("cannot read 'yesterday' as a time"))

        r = cli.run("index --source")
        #expect(r.status == 2 && r.err.split(separator: "\n").count == 1)

        // Ambiguous prefixes list candidates.
        write(s.path + "/snap/a", "a")
        for t in 0..<40 { _ = cli.run(["index", s.path + "/snap", "--source", "x", "--at", "2026-01-01T00:00:\(String(format: "%02d", t))Z"]) }
        let ids = try Repository.open(at: s.path + "/repo").points().map(\.id)
        let prefix = Dictionary(grouping: ids, by: { $0.prefix(1) }).first { $0.value.count > 1 }!.key
        r = cli.run(["ls", String(prefix), "/"])
        #expect(r.status == 1 && r.err.contains("matches") && r.err.contains("type more of the id"))

        r = cli.run("ls x@latest /no/such/path")
        #expect(r.status == 1 && r.err.contains("/no/such/path is not in restore point"))
    }

    @Test func verifyExitsThreeOnDamageAndRescanRestoresPoints() throws {
        let s = Scratch()
        let cli = CLI(repo: s.path + "/repo")
        for d in 1...2 { write(s.path + "/snaps/2026-11-0\(d)/f", "day \(d)") }
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "home", "--snapshots", s.path + "/snaps"]).status == 0)
        let indexed = cli.run("index --source home --json")
        #expect(indexed.status == 0)
        #expect(indexed.out.split(separator: "\n").count == 2)
        let pointsBefore = cli.run("points --json").out
        #expect(pointsBefore.contains("\"kind\":\"scheduled\"") && pointsBefore.contains("\"snapshot_exists\":true"))
        #expect(cli.run("verify").status == 0)

        try FileManager.default.removeItem(atPath: s.path + "/repo/snapdex.db")
        #expect(cli.run("rescan").status == 0)
        #expect(cli.run("points --json").out == pointsBefore)

        // Damage a manifest: verify says which point and exits 3.
        let repo = try Repository.open(at: s.path + "/repo")
        let p = try repo.points()[0]
        let mpath = s.path + "/repo/catalogs/home/\(p.id).manifest"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: mpath))
        bytes[30] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: mpath))
        let r = cli.run("verify")
        #expect(r.status == 3)
        #expect(r.out.contains("damaged manifest of point \(p.id.prefix(12))"))
        let ls = cli.run(["ls", p.id, "/"])
        #expect(ls.status == 3 && ls.err.contains("is damaged"))
    }

    @Test func aSecondWriterGetsAClearMessage() throws {
        let s = Scratch()
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        let repo = try Repository.open(at: s.path + "/repo")
        try repo.withWriterLock {
            let r = cli.run("source add x --snapshots /tmp --wait 0.1")
            #expect(r.status == 1)
            #expect(r.err.contains("locked by another writer (process \(getpid()))"))
        }
        #expect(cli.run("source add x --snapshots /tmp").status == 0)
        let list = cli.run("source list").out
        #expect(list.contains("x") && list.contains("/tmp"))
        #expect(cli.run(["index", "/tmp/../" + s.path, "--source", "x", "--exclude", "repo"]).status == 0)
        var r = cli.run("source remove x")
        #expect(r.status == 1 && r.err.contains("--purge"))
        r = cli.run("source remove x --purge")
        #expect(r.status == 0)
        #expect(cli.run("points").out.contains("no restore points"))
        let blocks = try FileManager.default.subpathsOfDirectory(atPath: s.path + "/repo/blocks").filter { $0.count > 3 }
        #expect(blocks.isEmpty)
    }

    /// A new repository at `s/repo` with source `name` over the folder `snapshots` (more
    /// `source add` options in `options`), indexed once (with the options `index`): the setup
    /// most tests start from.
    static func indexedSource(_ s: Scratch, _ name: String, snapshots: String, _ options: [String] = [], index: [String] = []) -> CLI {
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", name, "--snapshots", snapshots] + options).status == 0)
        #expect(cli.run(["index", "--source", name] + index).status == 0)
        return cli
    }

    /// Flips one byte of a block file.
    static func flip(_ path: String, at offset: (Int) -> Int) throws {
        chmod(path, 0o600)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[offset(bytes.count)] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))
    }

    /// The command between backticks in an error line, without the leading `snapdex`.
    static func advice(_ err: String) -> [String]? {
        let parts = err.split(separator: "`", omittingEmptySubsequences: false)
        guard parts.count >= 3 else { return nil }
        let words = parts[1].split(separator: " ").map(String.init)
        return words.first == "snapdex" ? Array(words.dropFirst()) : nil
    }

    /// The advice of a command run with `--repo repo`, which must name that repository
    /// (`snapdex --repo REPO ...`: run as printed from any folder, it acts there), without
    /// that `--repo REPO` (the CLI harness gives it to every run); nil when it does not.
    static func advice(_ err: String, on repo: String) -> [String]? {
        guard let words = advice(err), words.starts(with: ["--repo", repo]) else { return nil }
        return Array(words.dropFirst(2))
    }

    @Test func verifyAdviceRepairsADamagedBlockOrNamesThePointsToForget() throws {
        let s = Scratch()
        let cli = CLI(repo: s.path + "/repo")
        for d in 1...2 { for f in 0..<20 { write(s.path + "/snaps/2026-11-0\(d)/f\(f)", "day \(d) file \(f)") } }
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "home", "--snapshots", s.path + "/snaps"]).status == 0)
        #expect(cli.run("index --source home").status == 0)
        let repo = try Repository.open(at: s.path + "/repo")
        let newest = try repo.resolve("home@latest")
        let block = repo.blocks.path(of: try repo.manifest(of: newest).chunks[0].parts[1].block.hash)  // its own content

        // A flipped version byte is damage (3) with one line, like any other flipped byte.
        try Self.flip(block) { _ in 8 }
        var r = cli.run(["ls", newest.id, "/"])
        #expect(r.status == 3 && r.err.contains("is damaged") && r.err.split(separator: "\n").count == 1, "\(r.err)")
        try Self.flip(block) { _ in 8 }

        try Self.flip(block) { $0 - 5 }
        r = cli.run("verify")
        #expect(r.status == 3)
        let repair = try #require(Self.advice(r.err, on: cli.repo), "\(r.err)")
        #expect(repair == ["verify", "--repair"])
        r = cli.run(repair)
        #expect(r.status == 0, "\(r.out) \(r.err)")
        #expect(r.out.contains("repaired block") && r.out.contains("from point \(newest.id.prefix(12))"))
        #expect(cli.run("verify").status == 0)

        // With the snapshot gone, the advice names the points to forget; following it leaves
        // a repository that verifies.
        try FileManager.default.removeItem(atPath: newest.snapshot)
        try Self.flip(block) { $0 - 5 }
        r = cli.run("verify --repair")
        #expect(r.status == 3)
        #expect(r.out.contains("could not repair block"))
        let line = try #require(r.out.split(separator: "\n").first { $0.contains("`snapdex --repo \(cli.repo) forget") }, "\(r.out)")
        let forget = try #require(Self.advice(String(line), on: cli.repo))
        #expect(forget == ["forget", String(newest.id.prefix(12))])
        #expect(cli.run(forget).status == 0)
        #expect(cli.run("verify").status == 0)
        #expect(cli.run("points").out.contains("2026-11-01"))
    }

    @Test func sessionsSaysHowManyLinesCouldNotBeRead() throws {
        let s = Scratch()
        let cli = CLI(repo: s.path + "/repo")
        write(s.path + "/snap/f", "f")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["index", s.path + "/snap", "--source", "x"]).status == 0)
        let log = FileHandle(forWritingAtPath: s.path + "/repo/sessions.jsonl")!
        log.seekToEndOfFile()
        log.write(Data("{\"kind\": \"index\", \"started\n not json\n".utf8))
        log.closeFile()
        // Damage is exit 3, also in the session log; the lines that read are still listed.
        let r = cli.run("sessions")
        #expect(r.status == 3)
        #expect(r.out.contains("index"))
        #expect(r.err.contains("2 line(s)") && r.err.split(separator: "\n").count == 1, "\(r.err)")
        // A log whose every line is damaged is not "no sessions".
        write(s.path + "/repo/sessions.jsonl", "{\"kind\n")
        let all = cli.run("sessions")
        #expect(all.status == 3 && all.out.isEmpty && all.err.contains("1 line(s)"), "\(all.status) \(all.out) \(all.err)")
    }

    @Test func versionNamesTheFormats() {
        let r = CLI(repo: "/nonexistent").run(["--version"])
        #expect(r.status == 0)
        #expect(r.out.contains("catalog format"))
    }
}
