import Foundation
import Testing
import SnapdexTestSupport
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// What the campaigns share: their mode and seed, a seeded generator, a fixture repository
/// and file helpers.

/// `SNAPDEX_CAMPAIGN=long` runs more cases and trials; `SNAPDEX_CAMPAIGN_SEED=N` replays a run.
struct CampaignMode: CustomStringConvertible {
    let long: Bool
    let seed: UInt64

    static let current: CampaignMode = {
        let env = ProcessInfo.processInfo.environment
        let seed = env["SNAPDEX_CAMPAIGN_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...999_999)
        return CampaignMode(long: env["SNAPDEX_CAMPAIGN"] == "long", seed: seed)
    }()

    /// `count` in the default mode, `longCount` with SNAPDEX_CAMPAIGN=long.
    func pick(_ count: Int, long longCount: Int) -> Int { long ? longCount : count }

    var description: String { "\(long ? "long" : "default") mode, replay with SNAPDEX_CAMPAIGN_SEED=\(seed)\(long ? " SNAPDEX_CAMPAIGN=long" : "")" }
}

/// SplitMix64: small, fast and the same on every machine, so a seed replays a run.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Runs of the real binary (Snapdex, ToolRun) are in SnapdexTestSupport.
extension Snapdex {
    /// A run whose status must be 0.
    @discardableResult
    func ok(_ args: [String], sourceLocation: SourceLocation = #_sourceLocation) -> ToolRun {
        let r = run(args)
        #expect(r.status == 0, "\(r.line): \(r.err)", sourceLocation: sourceLocation)
        return r
    }
}

/// Files in a repository, by kind, and what its manifests reference.
enum RepoFiles {
    static func list(_ dir: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() }

    /// Paths of every block file.
    static func blocks(_ repo: String) -> [String] {
        list(repo + "/blocks").flatMap { sub in list(repo + "/blocks/" + sub).map { repo + "/blocks/" + sub + "/" + $0 } }
    }

    /// Paths of every manifest file.
    static func manifests(_ repo: String) -> [String] {
        list(repo + "/catalogs").flatMap { s in list(repo + "/catalogs/" + s).filter { $0.hasSuffix(".manifest") }.map { repo + "/catalogs/" + s + "/" + $0 } }
    }

    /// Relative paths of every file whose name ends in `.tmp`, anywhere under `dir`.
    static func tmpFiles(_ dir: String) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: dir) else { return [] }
        return e.compactMap { $0 as? String }.filter { $0.hasSuffix(".tmp") }.sorted()
    }

    /// The block file names (hashes) a manifest references, or nil when it does not decode.
    static func references(ofManifest path: String) -> Set<String>? {
        guard let data = FileManager.default.contents(atPath: path),
              let m = try? Manifest.decode(Array(data), path: path) else { return nil }
        var out = Set<String>()
        for chunk in m.chunks { for part in chunk.parts { for b in part.blocks { out.insert(Hex.encode(b.hash.bytes)) } } }
        return out
    }

    /// Relative path (from `repo`) of a manifest or block file.
    static func relative(_ path: String, to repo: String) -> String { String(path.dropFirst(repo.count + 1)) }

    /// Copies a repository (or any folder) exactly, modes included.
    static func copy(_ from: String, _ to: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/cp")
        p.arguments = ["-a", from, to]
        try! p.run()
        p.waitUntilExit()
        precondition(p.terminationStatus == 0, "cp -a \(from) \(to) failed")
    }

    static func read(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    /// Replaces a file's bytes (after making it writable; blocks are 0400).
    static func overwrite(_ path: String, _ data: Data) {
        chmod(path, 0o600)
        unlink(path)
        FileManager.default.createFile(atPath: path, contents: data)
    }

    /// Every regular file under `dir`, relative path to bytes.
    static func tree(_ dir: String) -> [String: Data] {
        var out = [String: Data]()
        guard let e = FileManager.default.enumerator(atPath: dir) else { return out }
        for case let rel as String in e {
            var st = stat()
            if lstat(dir + "/" + rel, &st) == 0, st.st_mode & S_IFMT == S_IFREG { out[rel] = read(dir + "/" + rel) ?? Data() }
        }
        return out
    }
}

/// A repository to attack: source "home" (three snapshots of a 6,000-file tree, so every
/// listing spans several catalog chunks, with odd names) and source "work" (one small snapshot).
/// Read only once built, so parallel workers share it.
final class CampaignFixture: @unchecked Sendable {
    let scratch = Scratch()
    var root: String { scratch.path }
    var snaps: String { root + "/snaps" }
    /// The pristine repository; cases work on copies.
    var base: String { root + "/base" }
    /// Older versions of files that exist once per repository, to swap in.
    var older: String { root + "/older" }
    let days = ["2026-11-01", "2026-11-02", "2026-11-03"]
    /// The manifests of the pristine repository: relative path to the blocks they reference.
    private(set) var references = [String: Set<String>]()
    /// The pristine manifests (relative paths) by source and point time, and their blocks in
    /// the order the manifests reference them: point ids are random and block hashes depend on
    /// file times, so a seed picks the same file in every build of the fixture only from these.
    private(set) var manifestOrder = [String]()
    private(set) var blockOrder = [String]()
    /// A snapshot folder not yet indexed, for `index DIR` runs.
    var freshSnapshot: String { snaps + "/extra/2026-11-04" }

    static let dirs = 60, filesPerDir = 100

    init() {
        makeTrees()
        let s = Snapdex(repo: base, scratch: root)
        s.ok(["init"])
        s.ok(["source", "add", "home", "--snapshots", snaps + "/home"])
        s.ok(["source", "add", "work", "--snapshots", snaps + "/work"])
        s.ok(["policy", "set", "home", "--keep-last", "2"])
        s.ok(["index", snaps + "/home/" + days[0], "--source", "home", "--hash"])
        try! FileManager.default.createDirectory(atPath: older, withIntermediateDirectories: true)
        for f in ["snapdex.db", "config", "sessions.jsonl", "lock"] { if let d = RepoFiles.read(base + "/" + f) { FileManager.default.createFile(atPath: older + "/" + f, contents: d) } }
        FileManager.default.createFile(atPath: older + "/source.json", contents: RepoFiles.read(base + "/catalogs/work/source.json"))
        s.ok(["index", "--source", "home", "--hash"])
        s.ok(["index", "--source", "work", "--hash"])
        s.ok(["sessions"])
        for m in RepoFiles.manifests(base) { references[RepoFiles.relative(m, to: base)] = RepoFiles.references(ofManifest: m)! }
        let decoded = RepoFiles.manifests(base).map { ($0, try! Manifest.decode(Array(RepoFiles.read($0)!), path: $0)) }
            .sorted { ($0.1.source, $0.1.pointTime.nanoseconds) < ($1.1.source, $1.1.pointTime.nanoseconds) }
        manifestOrder = decoded.map { RepoFiles.relative($0.0, to: base) }
        var seen = Set<String>()
        for (_, m) in decoded {
            for b in m.blocks.map({ Hex.encode($0.hash.bytes) }) where seen.insert(b).inserted { blockOrder.append("blocks/\(b.prefix(2))/\(b)") }
        }
        // A journal as a killed writer leaves it, and an older one to swap in.
        let home = manifestOrder.filter { $0.hasPrefix("catalogs/home/") }.map { String(($0 as NSString).lastPathComponent.dropLast(".manifest".count)) }
        try! Data(Journal(adds: [.init(source: "home", id: home[0])]).encode()).write(to: URL(fileURLWithPath: older + "/journal"))
        try! Data(Journal(adds: [.init(source: "home", id: home.last!)], removes: [.init(source: "work", id: "0123456789abcdef0123456789abcdef")]).encode())
            .write(to: URL(fileURLWithPath: base + "/journal.at-rest"))
    }

    /// `repo`'s files among `order` (paths relative to a repository), in that order.
    func present(_ order: [String], in repo: String) -> [String] {
        order.map { repo + "/" + $0 }.filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// Blocks that must still exist in `repo`: those referenced by every manifest file now in
    /// it (by its pristine contents when it was there at the start, else by what it holds).
    func protectedBlocks(_ repo: String) -> Set<String> {
        var out = Set<String>()
        for m in RepoFiles.manifests(repo) {
            if let r = references[RepoFiles.relative(m, to: repo)] { out.formUnion(r) } else if let r = RepoFiles.references(ofManifest: m) { out.formUnion(r) }
        }
        return out
    }

    private func makeTrees() {
        let day0 = snaps + "/home/" + days[0]
        for d in 0..<Self.dirs {
            let dir = day0 + String(format: "/d%02d", d)
            try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for f in 0..<Self.filesPerDir {
                FileManager.default.createFile(atPath: dir + String(format: "/f%03d", f), contents: Data("d\(d) f\(f) \(String(repeating: "x", count: f))\n".utf8))
            }
        }
        Tree.writeRaw(dir: day0 + "/d00", name: Array("new\nline".utf8), "newline")
        Tree.writeRaw(dir: day0 + "/d00", name: [0x6c, 0x61, 0x74, 0xe9], "latin-1")
        for (i, day) in days.enumerated().dropFirst() {
            let dir = snaps + "/home/" + day
            RepoFiles.run("/bin/cp", ["-al", snaps + "/home/" + days[i - 1], dir])
            for d in stride(from: i, to: Self.dirs, by: 7) {  // a changed file in some folders, a new one in others
                let f = dir + String(format: "/d%02d/f000", d)
                unlink(f)
                FileManager.default.createFile(atPath: f, contents: Data("changed on \(day)\n".utf8))
                FileManager.default.createFile(atPath: dir + String(format: "/d%02d/new-%@", d, day), contents: Data("new\n".utf8))
            }
        }
        for f in 0..<20 { write(snaps + "/work/2026-11-02/w\(f)", "work \(f)") }
        try! FileManager.default.createDirectory(atPath: snaps + "/extra", withIntermediateDirectories: true)
        RepoFiles.run("/bin/cp", ["-al", snaps + "/home/" + days[2], freshSnapshot])
        write(freshSnapshot + "/d01/extra", "extra")
    }
}

extension RepoFiles {
    static func run(_ tool: String, _ args: [String]) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        try! p.run()
        p.waitUntilExit()
        precondition(p.terminationStatus == 0, "\(tool) \(args) failed")
    }
}

extension Tree {
    /// Writes a file whose name is raw bytes into `dir`.
    static func writeRaw(dir: String, name: [UInt8], _ text: String) {
        let path = Array(dir.utf8) + [UInt8(ascii: "/")] + name + [0]
        let fd = path.withUnsafeBufferPointer { b in b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) } }
        precondition(fd >= 0)
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        close(fd)
    }
}

/// Backquoted `snapdex ...` commands in an error, runnable as printed (no placeholder words).
func adviceCommands(in text: String) -> [[String]] {
    var out = [[String]]()
    let parts = text.split(separator: "`", omittingEmptySubsequences: false)
    for (i, part) in parts.enumerated() where i % 2 == 1 && part.hasPrefix("snapdex ") {
        let words = part.split(separator: " ").dropFirst().map(String.init)
        if words.contains(where: { $0.count > 1 && $0 == $0.uppercased() && $0.allSatisfy(\.isLetter) }) || words.contains("--help") { continue }
        out.append(words)
    }
    return out
}
